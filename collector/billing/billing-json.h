/*
 * billing-json.h: the field readers the vendor parsers share (inside
 * collector/billing only). Each returns 0, or -EBADMSG after writing to err
 * which field was wrong; an absent or null field reads as "" or 0.
 */
#ifndef AM_BILLING_JSON_H
#define AM_BILLING_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "billing.h"

/* bj_text(obj, key, dst, size, err, err_len): a string field (or absent/null: ""). */
int bj_text(const json_t *obj, const char *key, char *dst, size_t size, char *err, size_t err_len);

/* bj_count(obj, key, ret, err, err_len): a non-negative integer field (absent/null: 0). */
int bj_count(const json_t *obj, const char *key, int64_t *ret, char *err, size_t err_len);

/* bj_array(obj, key, ret, err, err_len): a required array field. */
int bj_array(const json_t *obj, const char *key, json_t **ret, char *err, size_t err_len);

/*
 * bj_amount(v, what, dst, err, err_len): a money amount given as a decimal
 * string or a JSON number, as decimal text in dst (BILLING_AMOUNT_MAX).
 */
int bj_amount(const json_t *v, const char *what, char dst[BILLING_AMOUNT_MAX], char *err,
	      size_t err_len);

/* bj_currency(obj, key, dst, err, err_len): a 3-letter code, upper-cased; absent: "USD". */
int bj_currency(const json_t *obj, const char *key, char dst[4], char *err, size_t err_len);

/* bj_day_of_text(obj, key, dst, err, err_len): the YYYY-MM-DD that starts an RFC 3339 field. */
int bj_day_of_text(const json_t *obj, const char *key, char dst[11], char *err, size_t err_len);

/* bj_day_of_unix(obj, key, dst, err, err_len): the UTC day of a Unix-seconds field. */
int bj_day_of_unix(const json_t *obj, const char *key, char dst[11], char *err, size_t err_len);

/*
 * bj_add(l, kind, day, ret, err, err_len): a new line of kind for day in
 * *ret (amount "0" USD, no tokens); -E2BIG when l is full, -ENOMEM.
 */
int bj_add(struct billing_lines *l, enum billing_kind kind, const char *day,
	   struct billing_line **ret, char *err, size_t err_len);

/* What bj_each_result calls for one result, with the day its bucket starts. */
typedef int (*bj_result_fn)(const json_t *res, const char *day, struct billing_lines *l, char *err,
			    size_t err_len);

/*
 * bj_each_result(root, start_key, fn, l, err, err_len): fn for every result
 * of every bucket of data[]; a bucket starts at start_key (RFC 3339 text or
 * Unix seconds). Stops at the first error.
 */
int bj_each_result(const json_t *root, const char *start_key, bj_result_fn fn,
		   struct billing_lines *l, char *err, size_t err_len);

/* The per-vendor page readers: append root's lines (see billing_page_parse). */
int anthropic_cost_parse(const json_t *root, struct billing_lines *l, char *err, size_t err_len);
int anthropic_usage_parse(const json_t *root, struct billing_lines *l, char *err, size_t err_len);
int anthropic_claude_code_parse(const json_t *root, struct billing_lines *l, char *err,
				size_t err_len);
int openai_costs_parse(const json_t *root, struct billing_lines *l, char *err, size_t err_len);
int openai_usage_parse(const json_t *root, struct billing_lines *l, char *err, size_t err_len);

#endif
