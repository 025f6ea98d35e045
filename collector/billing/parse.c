/* parse.c: one page of a vendor admin API: the body, the lines, the cursor. */
#include "billing-json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Vendor pages are small (31 daily buckets, 1,000 records); cap the nesting too. */
#define PAGE_MAX_BYTES (64u << 20)

/* has_more and next_page, as both vendors document them. */
static int
page_cursor(const json_t *root, char *ret_next, size_t next_size, char *err, size_t err_len)
{
	const json_t *more = json_object_get(root, "has_more");
	int r;

	ret_next[0] = '\0';
	if (!json_is_boolean(more)) {
		snprintf(err, err_len, "\"has_more\" is missing or not a boolean");
		return -EBADMSG;
	}
	if (!json_is_true(more)) {
		return 0;
	}
	r = bj_text(root, "next_page", ret_next, next_size, err, err_len);
	if (r == 0 && ret_next[0] == '\0') {
		snprintf(err, err_len, "\"has_more\" is true but \"next_page\" is empty");
		r = -EBADMSG;
	}
	return r;
}

int
billing_page_parse(enum billing_source src, const char *body, size_t len,
		   struct billing_lines *lines, char *ret_next, size_t next_size, char *err,
		   size_t err_len)
{
	static int (*const parsers[BILLING_SOURCE_MAX])(const json_t *, struct billing_lines *,
							 char *, size_t) = {
		[BILLING_ANTHROPIC_COST] = anthropic_cost_parse,
		[BILLING_ANTHROPIC_USAGE] = anthropic_usage_parse,
		[BILLING_ANTHROPIC_CLAUDE_CODE] = anthropic_claude_code_parse,
		[BILLING_OPENAI_COSTS] = openai_costs_parse,
		[BILLING_OPENAI_USAGE] = openai_usage_parse,
	};
	size_t before = lines->n;
	json_error_t jerr;
	json_t *root;
	int r;

	ret_next[0] = '\0';
	if ((unsigned)src >= BILLING_SOURCE_MAX) {
		snprintf(err, err_len, "unknown billing source");
		return -EINVAL;
	}
	if (len > PAGE_MAX_BYTES) {
		snprintf(err, err_len, "page is larger than %u bytes", PAGE_MAX_BYTES);
		return -EBADMSG;
	}
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, err_len, "not JSON (line %d, column %d: %s)", jerr.line, jerr.column,
			 jerr.text);
		return -EBADMSG;
	}
	if (!json_is_object(root)) {
		snprintf(err, err_len, "the body is not a JSON object");
		r = -EBADMSG;
	} else {
		r = parsers[src](root, lines, err, err_len);
		if (r == 0) {
			r = page_cursor(root, ret_next, next_size, err, err_len);
		}
	}
	json_decref(root);
	if (r < 0) {
		lines->n = before;
		ret_next[0] = '\0';
	}
	return r;
}
