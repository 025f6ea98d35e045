/*
 * billing.h: what the vendors billed, parsed from one page of their admin
 * APIs (docs/reconciliation.md; shapes from specs/enterprise.md section 4)
 * into plain lines the caller stores. Pure: no I/O, no logging, fuzzed
 * (tests/fuzz/fuzz-billing-json.c).
 *
 * Amounts stay decimal text (never a double) so the database adds them
 * exactly; amount_scale says the unit: 0 dollars, 2 cents.
 */
#ifndef AM_BILLING_H
#define AM_BILLING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The endpoints read; BILLING_SOURCE_MAX ends the list. */
enum billing_source {
	BILLING_ANTHROPIC_COST,	       /* GET /v1/organizations/cost_report */
	BILLING_ANTHROPIC_USAGE,       /* GET /v1/organizations/usage_report/messages */
	BILLING_ANTHROPIC_CLAUDE_CODE, /* GET /v1/organizations/usage_report/claude_code */
	BILLING_OPENAI_COSTS,	       /* GET /v1/organization/costs */
	BILLING_OPENAI_USAGE,	       /* GET /v1/organization/usage/completions */
	BILLING_SOURCE_MAX
};

/* What a line carries: a billed amount, tokens, or the vendor's own estimate. */
enum billing_kind { BILLING_KIND_COST, BILLING_KIND_USAGE, BILLING_KIND_ESTIMATE, BILLING_KIND_MAX };

#define BILLING_TEXT_MAX 256  /* longest account, model or line item kept */
#define BILLING_AMOUNT_MAX 48 /* longest decimal amount accepted */

struct billing_line {
	enum billing_kind kind;
	char day[11];			  /* YYYY-MM-DD, UTC */
	char account[BILLING_TEXT_MAX];	  /* workspace, project or API key name; "" for none */
	char model[BILLING_TEXT_MAX];	  /* "" when the line is not per model */
	char line_item[BILLING_TEXT_MAX]; /* cost_type/token_type, line_item, description */
	char amount[BILLING_AMOUNT_MAX];  /* decimal text, "0" for usage lines */
	int amount_scale;		  /* 0: dollars, 2: cents */
	char currency[4];		  /* ISO 4217, upper case */
	int64_t input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, requests;
};

/* A growable list of lines with a fixed maximum (set at init). */
struct billing_lines {
	struct billing_line *v;
	size_t n, cap, max;
};

/* billing_lines_init(l, max): an empty list that refuses more than max lines. */
void billing_lines_init(struct billing_lines *l, size_t max);

/* billing_lines_add(l): a zeroed new line at the end, or NULL (full or no memory). */
struct billing_line *billing_lines_add(struct billing_lines *l);

/* billing_lines_finish(l): free the lines; accepts a zeroed list. */
void billing_lines_finish(struct billing_lines *l);

/* billing_source_name(src): "anthropic_cost_report", ...; what the database stores. */
const char *billing_source_name(enum billing_source src);

/* billing_kind_name(kind): "cost", "usage" or "estimate". */
const char *billing_kind_name(enum billing_kind kind);

/*
 * billing_page_parse(src, body, len, lines, ret_next, next_size, err, err_len):
 * append the lines of one response page of src to lines. ret_next gets the
 * cursor of the next page ("" after the last page, when has_more is false).
 * Returns 0; -EBADMSG for a body that is not the documented shape, -E2BIG
 * when lines is full, -ENOMEM; on error err says why (one line, no payload
 * beyond a field name) and lines is left as it was before the call.
 */
int billing_page_parse(enum billing_source src, const char *body, size_t len,
		       struct billing_lines *lines, char *ret_next, size_t next_size, char *err,
		       size_t err_len);

/* billing_decimal_ok(s): true for -?digits[.digits], as PostgreSQL numeric reads it. */
bool billing_decimal_ok(const char *s);

/* billing_day_ok(s): true for a YYYY-MM-DD that is a day of the Gregorian calendar. */
bool billing_day_ok(const char *s);

#endif
