/* main.c: aimeter-agent command line. */
#include <stdio.h>
#include <string.h>

#include "am_config.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: aimeter-agent <command> [options]\n"
		   "\n"
		   "Reads the usage records AI coding tools write locally and turns them into\n"
		   "usage events (counts only, never text).\n"
		   "\n"
		   "commands:\n"
		   "  scan      one-shot full scan, print events\n"
		   "  report    local daily, monthly or session report with estimated cost\n"
		   "\n"
		   "options:\n"
		   "  -h, --help     show this help\n"
		   "  -V, --version  show the version\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("aimeter-agent %s\n", AM_VERSION);
		return 0;
	}
	fprintf(stderr, "aimeter-agent: unknown command \"%s\"; see --help\n", argv[1]);
	return 2;
}
