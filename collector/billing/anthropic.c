/*
 * anthropic.c: the Anthropic Admin API pages (specs/enterprise.md 4.1):
 * cost report (amount: decimal string in cents), usage report (tokens per
 * bucket) and the Claude Code analytics (one record per actor and day,
 * estimated_cost in cents). A workspace is the account; a missing
 * workspace_id is the default workspace (""). User actors' e-mail
 * addresses are never kept: only an API actor's key name is an account.
 */
#include "billing-json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int
cost_result(const json_t *res, const char *day, struct billing_lines *l, char *err,
	    size_t err_len)
{
	struct billing_line *b;
	char cost_type[64], token_type[64];
	const json_t *amount = json_object_get(res, "amount");
	int r = bj_add(l, BILLING_KIND_COST, day, &b, err, err_len);

	if (r < 0) {
		return r;
	}
	b->amount_scale = 2; /* the cost report's amount is in cents */
	if ((r = bj_amount(amount, "amount", b->amount, err, err_len)) < 0 ||
	    (r = bj_currency(res, "currency", b->currency, err, err_len)) < 0 ||
	    (r = bj_text(res, "workspace_id", b->account, sizeof(b->account), err, err_len)) < 0 ||
	    (r = bj_text(res, "model", b->model, sizeof(b->model), err, err_len)) < 0 ||
	    (r = bj_text(res, "description", b->line_item, sizeof(b->line_item), err, err_len)) <
		    0 ||
	    (r = bj_text(res, "cost_type", cost_type, sizeof(cost_type), err, err_len)) < 0 ||
	    (r = bj_text(res, "token_type", token_type, sizeof(token_type), err, err_len)) < 0) {
		return r;
	}
	/* Without group_by description the line is named by its cost and token type. */
	if (b->line_item[0] == '\0') {
		snprintf(b->line_item, sizeof(b->line_item), "%s%s%s", cost_type,
			 token_type[0] != '\0' ? "/" : "", token_type);
	}
	return 0;
}

int
anthropic_cost_parse(const json_t *root, struct billing_lines *l, char *err, size_t err_len)
{
	return bj_each_result(root, "starting_at", cost_result, l, err, err_len);
}

static int
usage_result(const json_t *res, const char *day, struct billing_lines *l, char *err,
	     size_t err_len)
{
	const json_t *cc = json_object_get(res, "cache_creation");
	struct billing_line *b;
	int64_t w5 = 0, w1h = 0;
	int r = bj_add(l, BILLING_KIND_USAGE, day, &b, err, err_len);

	if (r < 0) {
		return r;
	}
	if (cc != NULL && !json_is_null(cc) && !json_is_object(cc)) {
		snprintf(err, err_len, "\"cache_creation\" is not an object");
		return -EBADMSG;
	}
	if ((r = bj_count(res, "uncached_input_tokens", &b->input_tokens, err, err_len)) < 0 ||
	    (r = bj_count(res, "output_tokens", &b->output_tokens, err, err_len)) < 0 ||
	    (r = bj_count(res, "cache_read_input_tokens", &b->cache_read_tokens, err, err_len)) <
		    0 ||
	    (r = bj_count(cc, "ephemeral_5m_input_tokens", &w5, err, err_len)) < 0 ||
	    (r = bj_count(cc, "ephemeral_1h_input_tokens", &w1h, err, err_len)) < 0 ||
	    (r = bj_text(res, "workspace_id", b->account, sizeof(b->account), err, err_len)) < 0 ||
	    (r = bj_text(res, "model", b->model, sizeof(b->model), err, err_len)) < 0) {
		return r;
	}
	if (w5 > INT64_MAX - w1h) {
		snprintf(err, err_len, "\"cache_creation\" overflows");
		return -EBADMSG;
	}
	b->cache_write_tokens = w5 + w1h;
	return 0;
}

int
anthropic_usage_parse(const json_t *root, struct billing_lines *l, char *err, size_t err_len)
{
	return bj_each_result(root, "starting_at", usage_result, l, err, err_len);
}

/* One model_breakdown entry of a Claude Code record. */
static int
claude_code_model(const json_t *m, const char *day, const char *account, const char *customer,
		  struct billing_lines *l, char *err, size_t err_len)
{
	const json_t *tokens = json_object_get(m, "tokens"), *cost = json_object_get(m, "estimated_cost");
	struct billing_line *b;
	int r;

	if (!json_is_object(m) || !json_is_object(tokens)) {
		snprintf(err, err_len, "a \"model_breakdown\" entry or its \"tokens\" is not an object");
		return -EBADMSG;
	}
	if ((r = bj_add(l, BILLING_KIND_ESTIMATE, day, &b, err, err_len)) < 0) {
		return r;
	}
	b->amount_scale = 2; /* estimated_cost.amount is in cents */
	snprintf(b->account, sizeof(b->account), "%s", account);
	snprintf(b->line_item, sizeof(b->line_item), "claude_code/%s", customer);
	if (json_is_object(cost)) {
		if ((r = bj_amount(json_object_get(cost, "amount"), "estimated_cost.amount", b->amount,
				   err, err_len)) < 0 ||
		    (r = bj_currency(cost, "currency", b->currency, err, err_len)) < 0) {
			return r;
		}
	} else if (cost != NULL && !json_is_null(cost)) {
		snprintf(err, err_len, "\"estimated_cost\" is not an object");
		return -EBADMSG;
	}
	if ((r = bj_text(m, "model", b->model, sizeof(b->model), err, err_len)) < 0 ||
	    (r = bj_count(tokens, "input", &b->input_tokens, err, err_len)) < 0 ||
	    (r = bj_count(tokens, "output", &b->output_tokens, err, err_len)) < 0 ||
	    (r = bj_count(tokens, "cache_read", &b->cache_read_tokens, err, err_len)) < 0 ||
	    (r = bj_count(tokens, "cache_creation", &b->cache_write_tokens, err, err_len)) < 0) {
		return r;
	}
	return 0;
}

int
anthropic_claude_code_parse(const json_t *root, struct billing_lines *l, char *err,
			    size_t err_len)
{
	json_t *data = NULL, *rec, *models = NULL, *m;
	size_t i, j;
	int r = bj_array(root, "data", &data, err, err_len);

	json_array_foreach(data, i, rec)
	{
		const json_t *actor;
		char day[11], account[BILLING_TEXT_MAX], type[32], customer[32];

		if (r < 0) {
			break;
		}
		if (!json_is_object(rec)) {
			snprintf(err, err_len, "a record of \"data\" is not an object");
			return -EBADMSG;
		}
		actor = json_object_get(rec, "actor");
		if (!json_is_object(actor)) {
			snprintf(err, err_len, "\"actor\" is missing or not an object");
			return -EBADMSG;
		}
		if ((r = bj_day_of_text(rec, "date", day, err, err_len)) < 0 ||
		    (r = bj_text(actor, "type", type, sizeof(type), err, err_len)) < 0 ||
		    (r = bj_text(rec, "customer_type", customer, sizeof(customer), err, err_len)) < 0 ||
		    (r = bj_array(rec, "model_breakdown", &models, err, err_len)) < 0) {
			break;
		}
		/* An API actor's key name is an account; a user's e-mail is not kept. */
		account[0] = '\0';
		if (strcmp(type, "api_actor") == 0 &&
		    (r = bj_text(actor, "api_key_name", account, sizeof(account), err, err_len)) < 0) {
			break;
		}
		json_array_foreach(models, j, m)
		{
			if (r < 0) {
				break;
			}
			r = claude_code_model(m, day, account, customer, l, err, err_len);
		}
	}
	return r;
}
