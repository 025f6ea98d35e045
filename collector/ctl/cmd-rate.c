/*
 * cmd-rate.c: `aimeterctl rate add|list`: negotiated rates (a discount, or
 * contracted prices per token class) for a vendor, a model or a tool, from
 * a date. Append-only like the price book: a change is a new row with a
 * later --from. They give the FOCUS export's ContractedCost and
 * EffectiveCost; ListCost stays the price book's (docs/pricing.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "options.h"
#include "print.h"
#include "rep.h"

static const char help[] =
	"usage: aimeterctl rate add --from YYYY-MM-DD [--vendor V] [--model GLOB] [--tool T]\n"
	"                           [--discount PCT] [--input X] [--output X]\n"
	"                           [--cache-write X] [--cache-read X] [--contract REF]\n"
	"       aimeterctl rate list [--format FMT]\n\n"
	"add: a negotiated rate from a day on, for a vendor (anthropic, openai,\n"
	"google, ...), a model glob and/or a tool (at least one). --discount is a\n"
	"percentage off list; --input, --output, --cache-write and --cache-read\n"
	"are contracted USD per million tokens of that class (the discount, else\n"
	"list, for the others). The most specific rate in force wins: a model\n"
	"rate over a tool rate over a vendor rate, then the latest --from. Rows\n"
	"are never changed; an identical row adds nothing.\n\n"
	"options:\n"
	"  --from YYYY-MM-DD       first day the rate applies (UTC)\n"
	"  --vendor V              the model vendor\n"
	"  --model GLOB            models (a glob, as in the price book)\n"
	"  --tool T                tool (claude-code, codex, ...)\n"
	"  --discount PCT          percent off list, 0-100\n"
	"  --input X, --output X, --cache-write X, --cache-read X\n"
	"                          contracted USD per million tokens\n"
	"  --contract REF          the contract it comes from\n"
	"  --format FMT            table (default), csv or json (list)\n" CTL_COMMON_HELP;

enum { R_FROM, R_VENDOR, R_MODEL, R_TOOL, R_DISCOUNT, R_INPUT, R_OUTPUT, R_CW, R_CR, R_REF, R_MAX };

static int
rate_add(const struct ctl_opts *opts, const char *v[R_MAX])
{
	if (v[R_FROM] == NULL || !rep_is_date(v[R_FROM]) ||
	    (v[R_VENDOR] == NULL && v[R_MODEL] == NULL && v[R_TOOL] == NULL) ||
	    (v[R_DISCOUNT] == NULL && v[R_INPUT] == NULL && v[R_OUTPUT] == NULL &&
	     v[R_CW] == NULL && v[R_CR] == NULL)) {
		fprintf(stderr, "aimeterctl: rate add needs --from YYYY-MM-DD, one of --vendor, "
				"--model, --tool, and a --discount or a contracted price; see --help\n");
		return CTL_USAGE;
	}
	return print_value(opts,
			   "WITH ins AS (INSERT INTO aimeter.negotiated_rates (effective_from, vendor,"
			   " model_pattern, tool, discount_pct, input_per_mtok, output_per_mtok,"
			   " cache_write_per_mtok, cache_read_per_mtok, contract_ref)"
			   " VALUES ($1::date, CASE WHEN $2::text IS NOT NULL"
			   " THEN aimeter.vendor_name($2::text, '', '') END, $3, $4, $5::numeric,"
			   " $6::numeric, $7::numeric, $8::numeric, $9::numeric, coalesce($10::text, ''))"
			   " ON CONFLICT DO NOTHING RETURNING rate_id),"
			   " au AS (SELECT aimeter.audit('rate_add', coalesce($3::text, $4::text, $2::text),"
			   " jsonb_build_object('from', $1::date, 'discount_pct', $5::numeric,"
			   " 'contract', $10::text)) FROM ins)"
			   " SELECT CASE WHEN (SELECT count(*) FROM au) > 0 THEN 'added'"
			   " ELSE 'already present' END",
			   R_MAX, v, "negotiated rate:");
}

int
cmd_rate(int argc, char **argv)
{
	struct ctl_opts opts = { 0 };
	const char *v[R_MAX] = { NULL };
	enum print_format f = PRINT_TABLE;
	const struct options_entry entries[] = {
		{ "from", 0, &v[R_FROM], NULL },
		{ "vendor", 0, &v[R_VENDOR], NULL },
		{ "model", 0, &v[R_MODEL], NULL },
		{ "tool", 0, &v[R_TOOL], NULL },
		{ "discount", 0, &v[R_DISCOUNT], NULL },
		{ "input", 0, &v[R_INPUT], NULL },
		{ "output", 0, &v[R_OUTPUT], NULL },
		{ "cache-write", 0, &v[R_CW], NULL },
		{ "cache-read", 0, &v[R_CR], NULL },
		{ "contract", 0, &v[R_REF], NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, &f, 2, false };
	int rc;

	if (argc < 2) {
		fprintf(stderr, "aimeterctl: rate needs add or list; see --help\n");
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(help, stdout);
		return CTL_OK;
	}
	rc = options_parse(&spec, argc, argv, &opts);
	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind != argc) {
		fprintf(stderr, "aimeterctl: unexpected argument \"%s\"; see --help\n", argv[optind]);
		return CTL_USAGE;
	}
	if (strcmp(argv[1], "add") == 0) {
		return rate_add(&opts, v);
	}
	if (strcmp(argv[1], "list") == 0) {
		return print_query(&opts,
				   "SELECT rate_id, to_char(effective_from, 'YYYY-MM-DD') AS effective_from,"
				   " vendor, model_pattern, tool, discount_pct, input_per_mtok,"
				   " output_per_mtok, cache_write_per_mtok, cache_read_per_mtok,"
				   " contract_ref FROM aimeter.negotiated_rates ORDER BY rate_id",
				   0, NULL, f);
	}
	fprintf(stderr, "aimeterctl: unknown rate command \"%s\"; see --help\n", argv[1]);
	return CTL_USAGE;
}
