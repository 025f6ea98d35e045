/*
 * options.h: the command line parser of the aimeterctl commands. Each
 * command describes its own options in a table; the parser adds --db,
 * --person-key-file, --help and, if asked, --format, so every command
 * accepts and reports them the same way.
 */
#ifndef AM_CTL_OPTIONS_H
#define AM_CTL_OPTIONS_H

#include <stdbool.h>

#include "ctl.h"
#include "print.h"

/* Returned by options_parse when the command should go on. */
#define OPTIONS_CONTINUE (-1)

/* One option of a command: ret_arg for an option with an argument, else ret_flag. */
struct options_entry {
	const char *name;     /* long name, without the dashes */
	char short_name;      /* one-letter alias, or 0 */
	const char **ret_arg; /* gets the argument (borrowed from argv) */
	bool *ret_flag;       /* set to true when the option is given */
};

struct options_spec {
	const char *help;		     /* the --help text, printed on stdout */
	const struct options_entry *entries; /* ends with a NULL name; NULL for none */
	enum print_format *ret_format;	     /* non-NULL: accept --format into it */
	int first;			     /* argv index of the first option: 1, or 2 after a subcommand */
	bool help_on_error;		     /* a bad option prints the help on stderr too */
};

/*
 * options_parse(spec, argc, argv, ret_opts): parse argv from spec->first in
 * order, the common options into ret_opts. Operands are left from optind
 * on. Returns OPTIONS_CONTINUE, CTL_OK after printing the help, or
 * CTL_USAGE for a bad option (getopt or the parser has said why).
 */
int options_parse(const struct options_spec *spec, int argc, char **argv,
		  struct ctl_opts *ret_opts);

#endif
