/*
 * cmd-person.c: GDPR requests for one person, by any of their identities.
 *   person export IDENTITY   everything stored about them, as JSON (Art. 15)
 *   person forget IDENTITY   erasure (Art. 17): identities removed, person key
 *                            replaced by a random one, team totals unchanged;
 *                            their events dated before now are refused from
 *                            then on, so a re-scan of old logs cannot bring
 *                            them back
 * Both need the person-key file (to hash the identity) and are audited.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static const char help[] =
	"usage: aimeterctl person export IDENTITY [options]\n"
	"       aimeterctl person forget IDENTITY --yes [options]\n\n"
	"export: prints everything stored about the person with this\n"
	"identity (email or login) as JSON: identities, memberships, seat\n"
	"assignments, events, rollups, activity.\n"
	"forget: erases the person: identities removed, their person key\n"
	"replaced by a random one in events and rollups (team totals do not\n"
	"change), and events of their identities dated before now refused\n"
	"from then on. Cannot be undone; needs --yes.\n"
	"Both are written to the audit log.\n\n"
	"options:\n"
	"  -y, --yes               confirm an erasure\n" CTL_COMMON_HELP;

int
cmd_person(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	bool yes = false, forget;
	const struct options_entry entries[] = {
		{ "yes", 'y', NULL, &yes },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, NULL, 1, false };
	char hex[67];
	const char *params[1] = { hex };
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind + 2 != argc ||
	    (strcmp(argv[optind], "export") != 0 && strcmp(argv[optind], "forget") != 0)) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl person export|forget IDENTITY\n");
		return CTL_USAGE;
	}
	forget = strcmp(argv[optind], "forget") == 0;
	if (forget && !yes) {
		fprintf(stderr, "aimeterctl: person forget cannot be undone: add --yes\n");
		return CTL_USAGE;
	}
	if (rep_identity_hex(&opts, argv[optind + 1], hex) < 0) {
		return CTL_FAIL;
	}
	return print_value(&opts,
			   forget ? "SELECT jsonb_pretty(aimeter.person_forget($1::bytea))" :
				    "SELECT jsonb_pretty(aimeter.person_export($1::bytea))",
			   1, params, "");
}
