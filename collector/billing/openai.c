/*
 * openai.c: the OpenAI organization Costs and Usage (completions) pages
 * (specs/enterprise.md 4.2). Buckets start at start_time (Unix seconds);
 * a project is the account. Costs name the model only inside line_item
 * ("gpt-4o-2024-08-06, input"): the text before ", " is the model.
 */
#include "billing-json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int
costs_result(const json_t *res, const char *day, struct billing_lines *l, char *err,
	     size_t err_len)
{
	const json_t *amount = json_object_get(res, "amount");
	struct billing_line *b;
	const char *comma;
	int r;

	if (!json_is_object(amount)) {
		snprintf(err, err_len, "\"amount\" is missing or not an object");
		return -EBADMSG;
	}
	if ((r = bj_add(l, BILLING_KIND_COST, day, &b, err, err_len)) < 0) {
		return r;
	}
	if ((r = bj_amount(json_object_get(amount, "value"), "amount.value", b->amount, err,
			   err_len)) < 0 ||
	    (r = bj_currency(amount, "currency", b->currency, err, err_len)) < 0 ||
	    (r = bj_text(res, "project_id", b->account, sizeof(b->account), err, err_len)) < 0 ||
	    (r = bj_text(res, "line_item", b->line_item, sizeof(b->line_item), err, err_len)) < 0) {
		return r;
	}
	comma = strstr(b->line_item, ", ");
	snprintf(b->model, sizeof(b->model), "%.*s",
		 comma != NULL ? (int)(comma - b->line_item) : 0, b->line_item);
	return 0;
}

int
openai_costs_parse(const json_t *root, struct billing_lines *l, char *err, size_t err_len)
{
	return bj_each_result(root, "start_time", costs_result, l, err, err_len);
}

static int
usage_result(const json_t *res, const char *day, struct billing_lines *l, char *err,
	     size_t err_len)
{
	struct billing_line *b;
	int64_t input, cached;
	int r = bj_add(l, BILLING_KIND_USAGE, day, &b, err, err_len);

	if (r < 0) {
		return r;
	}
	if ((r = bj_count(res, "input_tokens", &input, err, err_len)) < 0 ||
	    (r = bj_count(res, "input_cached_tokens", &cached, err, err_len)) < 0 ||
	    (r = bj_count(res, "output_tokens", &b->output_tokens, err, err_len)) < 0 ||
	    (r = bj_count(res, "num_model_requests", &b->requests, err, err_len)) < 0 ||
	    (r = bj_text(res, "project_id", b->account, sizeof(b->account), err, err_len)) < 0 ||
	    (r = bj_text(res, "model", b->model, sizeof(b->model), err, err_len)) < 0) {
		return r;
	}
	/* input_tokens includes the cached ones; keep them apart as aimeter does. */
	if (cached > input) {
		snprintf(err, err_len, "\"input_cached_tokens\" exceeds \"input_tokens\"");
		return -EBADMSG;
	}
	b->input_tokens = input - cached;
	b->cache_read_tokens = cached;
	return 0;
}

int
openai_usage_parse(const json_t *root, struct billing_lines *l, char *err, size_t err_len)
{
	return bj_each_result(root, "start_time", usage_result, l, err, err_len);
}
