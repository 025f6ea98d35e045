/* json.c: field readers shared by the vendor parsers (billing-json.h). */
#include "billing-json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool
billing_decimal_ok(const char *s)
{
	size_t digits = 0;

	if (*s == '-') {
		s++;
	}
	for (; isdigit((unsigned char)*s); s++) {
		digits++;
	}
	if (digits == 0) {
		return false;
	}
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s)) {
			return false;
		}
		while (isdigit((unsigned char)*s)) {
			s++;
		}
	}
	return *s == '\0';
}

bool
billing_day_ok(const char *s)
{
	for (int i = 0; i < 10; i++) {
		bool dash = i == 4 || i == 7;
		if (dash ? s[i] != '-' : !isdigit((unsigned char)s[i])) {
			return false;
		}
	}
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int month = (s[5] - '0') * 10 + (s[6] - '0'), day = (s[8] - '0') * 10 + (s[9] - '0');
	bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (s[10] != '\0' || month < 1 || month > 12 || day < 1 || day > mdays[month - 1]) {
		return false;
	}
	return year >= 1 && (month != 2 || day <= 28 || leap);
}

int
bj_text(const json_t *obj, const char *key, char *dst, size_t size, char *err, size_t err_len)
{
	const json_t *v = json_object_get(obj, key);
	size_t n;

	dst[0] = '\0';
	if (v == NULL || json_is_null(v)) {
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(err, err_len, "\"%s\" is not a string", key);
		return -EBADMSG;
	}
	n = json_string_length(v);
	if (n >= size || strlen(json_string_value(v)) != n) {
		snprintf(err, err_len, "\"%s\" is longer than %zu bytes or holds a NUL", key,
			 size - 1);
		return -EBADMSG;
	}
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

int
bj_count(const json_t *obj, const char *key, int64_t *ret, char *err, size_t err_len)
{
	const json_t *v = json_object_get(obj, key);

	*ret = 0;
	if (v == NULL || json_is_null(v)) {
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(err, err_len, "\"%s\" is not a non-negative integer", key);
		return -EBADMSG;
	}
	*ret = (int64_t)json_integer_value(v);
	return 0;
}

int
bj_array(const json_t *obj, const char *key, json_t **ret, char *err, size_t err_len)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_array(v)) {
		snprintf(err, err_len, "\"%s\" is missing or not an array", key);
		return -EBADMSG;
	}
	*ret = v;
	return 0;
}

/* A double as plain decimal text (no exponent), trailing zeros dropped. */
static int
format_real(double d, char dst[BILLING_AMOUNT_MAX])
{
	char *end;

	/* Beyond a quadrillion is no bill; it also keeps %f short. */
	if (!isfinite(d) || fabs(d) >= 1e15) {
		return -ERANGE;
	}
	snprintf(dst, BILLING_AMOUNT_MAX, "%.10f", d);
	end = dst + strlen(dst);
	while (end[-1] == '0') {
		*--end = '\0';
	}
	if (end[-1] == '.') {
		*--end = '\0';
	}
	if (strcmp(dst, "-0") == 0) {
		strcpy(dst, "0");
	}
	return 0;
}

int
bj_amount(const json_t *v, const char *what, char dst[BILLING_AMOUNT_MAX], char *err,
	  size_t err_len)
{
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		if (json_string_length(v) < BILLING_AMOUNT_MAX && strlen(s) == json_string_length(v) &&
		    billing_decimal_ok(s)) {
			strcpy(dst, s);
			return 0;
		}
	} else if (json_is_integer(v)) {
		snprintf(dst, BILLING_AMOUNT_MAX, "%lld", (long long)json_integer_value(v));
		return 0;
	} else if (json_is_real(v) && format_real(json_real_value(v), dst) == 0) {
		return 0;
	}
	snprintf(err, err_len, "\"%s\" is not a decimal amount", what);
	return -EBADMSG;
}

int
bj_currency(const json_t *obj, const char *key, char dst[4], char *err, size_t err_len)
{
	char s[8];
	int r = bj_text(obj, key, s, sizeof(s), err, err_len);

	if (r < 0) {
		return r;
	}
	if (s[0] == '\0') {
		strcpy(dst, "USD");
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		if (!isalpha((unsigned char)s[i])) {
			break;
		}
		dst[i] = (char)toupper((unsigned char)s[i]);
		if (i == 2 && s[3] == '\0') {
			dst[3] = '\0';
			return 0;
		}
	}
	snprintf(err, err_len, "\"%s\" is not a three-letter currency code", key);
	return -EBADMSG;
}

int
bj_day_of_text(const json_t *obj, const char *key, char dst[11], char *err, size_t err_len)
{
	char s[64];
	int r = bj_text(obj, key, s, sizeof(s), err, err_len);

	if (r < 0) {
		return r;
	}
	memcpy(dst, s, 10);
	dst[10] = '\0';
	if (strlen(s) < 10 || (s[10] != '\0' && s[10] != 'T') || !billing_day_ok(dst)) {
		snprintf(err, err_len, "\"%s\" is not a date (YYYY-MM-DD...)", key);
		return -EBADMSG;
	}
	return 0;
}

int
bj_day_of_unix(const json_t *obj, const char *key, char dst[11], char *err, size_t err_len)
{
	const json_t *v = json_object_get(obj, key);
	struct tm tm;
	time_t t;

	/* 0 to 9999-12-31: a four-digit year. */
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > 253402300799LL) {
		snprintf(err, err_len, "\"%s\" is not Unix seconds", key);
		return -EBADMSG;
	}
	t = (time_t)json_integer_value(v);
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(err, err_len, "\"%s\" is out of range", key);
		return -EBADMSG;
	}
	/* Unix seconds 0 to 9999-12-31: years 1970-9999, four digits, so this fits. */
	if (strftime(dst, 11, "%Y-%m-%d", &tm) != 10) {
		snprintf(err, err_len, "\"%s\" is out of range", key);
		return -EBADMSG;
	}
	return 0;
}

int
bj_add(struct billing_lines *l, enum billing_kind kind, const char *day,
       struct billing_line **ret, char *err, size_t err_len)
{
	*ret = billing_lines_add(l);
	if (*ret != NULL) {
		(*ret)->kind = kind;
		memcpy((*ret)->day, day, 11);
		strcpy((*ret)->amount, "0");
		strcpy((*ret)->currency, "USD");
		return 0;
	}
	if (l->n >= l->max) {
		snprintf(err, err_len, "more than %zu lines", l->max);
		return -E2BIG;
	}
	snprintf(err, err_len, "out of memory");
	return -ENOMEM;
}

int
bj_each_result(const json_t *root, const char *start_key, bj_result_fn fn,
	       struct billing_lines *l, char *err, size_t err_len)
{
	json_t *data = NULL, *results, *bucket, *res;
	size_t i, j;
	char day[11];
	int r = bj_array(root, "data", &data, err, err_len);

	json_array_foreach(data, i, bucket)
	{
		results = NULL;
		if (r < 0) {
			break;
		}
		if (!json_is_object(bucket)) {
			snprintf(err, err_len, "a bucket of \"data\" is not an object");
			return -EBADMSG;
		}
		/* Anthropic starts a bucket with RFC 3339 text, OpenAI with Unix seconds. */
		r = json_is_string(json_object_get(bucket, start_key)) ?
			    bj_day_of_text(bucket, start_key, day, err, err_len) :
			    bj_day_of_unix(bucket, start_key, day, err, err_len);
		if (r == 0) {
			r = bj_array(bucket, "results", &results, err, err_len);
		}
		json_array_foreach(results, j, res)
		{
			if (r < 0) {
				break;
			}
			if (!json_is_object(res)) {
				snprintf(err, err_len, "a result is not an object");
				return -EBADMSG;
			}
			r = fn(res, day, l, err, err_len);
		}
	}
	return r;
}
