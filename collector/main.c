/* main.c: aimeter-collector command line. */
#include <stdio.h>
#include <string.h>

#include "am_config.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: aimeter-collector [options]\n"
		   "\n"
		   "Receives usage batches from agents over HTTPS and writes them to PostgreSQL.\n"
		   "\n"
		   "options:\n"
		   "  -h, --help     show this help\n"
		   "  -V, --version  show the version\n");
}

int
main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("aimeter-collector %s\n", AM_VERSION);
			return 0;
		}
		fprintf(stderr, "aimeter-collector: unknown option \"%s\"; see --help\n", argv[i]);
		return 2;
	}
	usage(stderr);
	return 2;
}
