/* main.c: aimeterctl command line. */
#include <stdio.h>
#include <string.h>

#include "am_config.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: aimeterctl <command> [options]\n"
		   "\n"
		   "Administers the aimeter database: schema, directory, price book, reports.\n"
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
		printf("aimeterctl %s\n", AM_VERSION);
		return 0;
	}
	fprintf(stderr, "aimeterctl: unknown command \"%s\"; see --help\n", argv[1]);
	return 2;
}
