/* options.c: the table-driven command line parser; see options.h. */
#include <assert.h>
#include <getopt.h>
#include <stdio.h>

#include "options.h"

#define OPTIONS_MAX 16

/* getopt_long values: above the common options' (ctl.h), below nothing else. */
enum { OPT_FORMAT = 1100, OPT_ENTRY = 1200 };

static const struct options_entry *
find_entry(const struct options_spec *spec, int c)
{
	for (int i = 0; spec->entries != NULL && spec->entries[i].name != NULL; i++) {
		if (c == OPT_ENTRY + i ||
		    (spec->entries[i].short_name != 0 && c == spec->entries[i].short_name)) {
			return &spec->entries[i];
		}
	}
	return NULL;
}

int
options_parse(const struct options_spec *spec, int argc, char **argv, struct ctl_opts *ret_opts)
{
	/* Common options first and --format last, as each command listed them. */
	struct option longopts[OPTIONS_MAX + 5] = { CTL_COMMON_LONGOPTS };
	char shortopts[OPTIONS_MAX + 2] = "h";
	size_t n = 3, n_short = 1;
	int c;

	for (int i = 0; spec->entries != NULL && spec->entries[i].name != NULL; i++) {
		const struct options_entry *e = &spec->entries[i];

		assert(i < OPTIONS_MAX);
		longopts[n++] = (struct option){ e->name,
						 e->ret_arg != NULL ? required_argument : no_argument,
						 NULL, OPT_ENTRY + i };
		if (e->short_name != 0) {
			assert(e->ret_arg == NULL); /* no "x:" short options yet */
			shortopts[n_short++] = e->short_name;
		}
	}
	if (spec->ret_format != NULL) {
		longopts[n++] = (struct option){ "format", required_argument, NULL, OPT_FORMAT };
	}
	optind = spec->first;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct options_entry *e = find_entry(spec, c);

		if (ctl_common_option(ret_opts, c, optarg)) {
			continue;
		}
		if (e != NULL && e->ret_arg != NULL) {
			*e->ret_arg = optarg;
		} else if (e != NULL) {
			*e->ret_flag = true;
		} else if (c == OPT_FORMAT) {
			if (print_parse_format(optarg, spec->ret_format) < 0) {
				return CTL_USAGE;
			}
		} else if (c == 'h') {
			fputs(spec->help, stdout);
			return CTL_OK;
		} else {
			if (spec->help_on_error) {
				fputs(spec->help, stderr);
			}
			return CTL_USAGE;
		}
	}
	return OPTIONS_CONTINUE;
}
