/* rep.c: shared helpers of the issue-7 report commands; see rep.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"
#include "rep.h"

int
rep_parse_format(const char *s, enum rep_format *ret)
{
	static const char *const names[REP_FORMAT_MAX] = { "table", "csv", "json" };

	for (int i = 0; i < REP_FORMAT_MAX; i++) {
		if (strcmp(s, names[i]) == 0) {
			*ret = (enum rep_format)i;
			return 0;
		}
	}
	fprintf(stderr, "aimeterctl: --format is table, csv or json\n");
	return -1;
}

static bool
digits(const char *s, int n)
{
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			return false;
		}
	}
	return true;
}

int
rep_parse_month(const char *s, char ret_first[11])
{
	int m;

	if (s == NULL || strlen(s) != 7 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2)) {
		return -1;
	}
	m = (s[5] - '0') * 10 + (s[6] - '0');
	if (m < 1 || m > 12) {
		return -1;
	}
	snprintf(ret_first, 11, "%.7s-01", s);
	return 0;
}

bool
rep_is_date(const char *s)
{
	return s != NULL && strlen(s) == 10 && digits(s, 4) && s[4] == '-' && digits(s + 5, 2) &&
	       s[7] == '-' && digits(s + 8, 2);
}

int
rep_parse_week(const char *s, char ret_monday[11])
{
	struct tm tm = { 0 }, out;
	int year, week, wday;
	time_t jan4, monday, thursday;

	if (s == NULL || strlen(s) != 8 || !digits(s, 4) || s[4] != '-' ||
	    (s[5] != 'W' && s[5] != 'w') || !digits(s + 6, 2)) {
		return -1;
	}
	year = atoi(s);		  /* four digits, checked above */
	week = atoi(s + 6);
	if (year < 1970 || week < 1 || week > 53) {
		return -1;
	}
	/* Week 1 is the week with January 4th in it; weeks start on Monday. */
	tm.tm_year = year - 1900;
	tm.tm_mon = 0;
	tm.tm_mday = 4;
	jan4 = timegm(&tm);
	gmtime_r(&jan4, &out);
	wday = out.tm_wday == 0 ? 7 : out.tm_wday;
	monday = jan4 - (time_t)(wday - 1) * 86400 + (time_t)(week - 1) * 7 * 86400;
	/* Week 53 exists only when its Thursday is still in the same ISO year. */
	thursday = monday + 3 * 86400;
	gmtime_r(&thursday, &out);
	if (out.tm_year + 1900 != year) {
		return -1;
	}
	gmtime_r(&monday, &out);
	strftime(ret_monday, 11, "%Y-%m-%d", &out);
	return 0;
}

static bool
is_number_type(Oid t)
{
	/* int2, int4, int8, numeric, float4, float8 */
	return t == 21 || t == 23 || t == 20 || t == 1700 || t == 700 || t == 701;
}

static bool
is_json_type(Oid t)
{
	return t == 114 || t == 3802; /* json, jsonb */
}

static void
csv_field(const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++) {
		if (*s == '"') {
			putchar('"');
		}
		putchar(*s);
	}
	putchar('"');
}

static void
json_string(const char *s)
{
	putchar('"');
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			printf("\\%c", c);
		} else if (c < 0x20) {
			printf("\\u%04x", c);
		} else {
			putchar(c);
		}
	}
	putchar('"');
}

void
rep_print(PGresult *r, enum rep_format f)
{
	int rows = PQntuples(r), cols = PQnfields(r);

	if (f == REP_JSON) {
		printf("[");
		for (int i = 0; i < rows; i++) {
			printf("%s\n  {", i > 0 ? "," : "");
			for (int j = 0; j < cols; j++) {
				printf("%s", j > 0 ? ", " : "");
				json_string(PQfname(r, j));
				printf(": ");
				if (PQgetisnull(r, i, j)) {
					printf("null");
				} else if (is_number_type(PQftype(r, j)) ||
					   is_json_type(PQftype(r, j))) {
					fputs(PQgetvalue(r, i, j), stdout);
				} else if (PQftype(r, j) == 16) { /* bool */
					fputs(PQgetvalue(r, i, j)[0] == 't' ? "true" : "false",
					      stdout);
				} else {
					json_string(PQgetvalue(r, i, j));
				}
			}
			printf("}");
		}
		printf("%s]\n", rows > 0 ? "\n" : "");
		return;
	}
	if (f == REP_CSV) {
		for (int j = 0; j < cols; j++) {
			printf("%s", j > 0 ? "," : "");
			csv_field(PQfname(r, j));
		}
		putchar('\n');
		for (int i = 0; i < rows; i++) {
			for (int j = 0; j < cols; j++) {
				printf("%s", j > 0 ? "," : "");
				csv_field(PQgetvalue(r, i, j));
			}
			putchar('\n');
		}
		return;
	}
	{
		int *width = calloc((size_t)(cols > 0 ? cols : 1), sizeof(int));

		if (width == NULL) {
			fprintf(stderr, "aimeterctl: out of memory\n");
			return;
		}
		for (int j = 0; j < cols; j++) {
			width[j] = (int)strlen(PQfname(r, j));
			for (int i = 0; i < rows; i++) {
				int w = PQgetlength(r, i, j);
				width[j] = w > width[j] ? w : width[j];
			}
		}
		for (int j = 0; j < cols; j++) {
			printf(is_number_type(PQftype(r, j)) ? "%s%*s" : "%s%-*s", j > 0 ? "  " : "",
			       width[j], PQfname(r, j));
		}
		putchar('\n');
		for (int i = 0; i < rows; i++) {
			for (int j = 0; j < cols; j++) {
				printf(is_number_type(PQftype(r, j)) ? "%s%*s" : "%s%-*s",
				       j > 0 ? "  " : "", width[j], PQgetvalue(r, i, j));
			}
			putchar('\n');
		}
		free(width);
	}
}

int
rep_run(const struct ctl_opts *opts, const char *sql, int nparams, const char *const *params,
	enum rep_format f)
{
	PGconn *conn = ctl_connect(opts);
	PGresult *r;

	if (conn == NULL) {
		return CTL_FAIL;
	}
	r = ctl_query(conn, sql, nparams, params);
	if (r == NULL) {
		PQfinish(conn);
		return CTL_FAIL;
	}
	rep_print(r, f);
	PQclear(r);
	PQfinish(conn);
	return CTL_OK;
}

int
rep_identity_hex(const struct ctl_opts *opts, const char *identity, char ret_hex[67])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t key[256], mac[AM_IDENTITY_HMAC_LEN];
	char norm[1024];
	size_t key_len = 0;

	if (identity_normalize(identity, norm, sizeof(norm)) <= 0) {
		fprintf(stderr, "aimeterctl: the identity is empty or too long\n");
		return -1;
	}
	if (ctl_person_key(opts, key, &key_len) < 0) {
		return -1;
	}
	if (identity_hmac(key, key_len, norm, mac) < 0) {
		fprintf(stderr, "aimeterctl: could not hash the identity\n");
		return -1;
	}
	ret_hex[0] = '\\';
	ret_hex[1] = 'x';
	for (int i = 0; i < AM_IDENTITY_HMAC_LEN; i++) {
		ret_hex[2 + 2 * i] = hex[mac[i] >> 4];
		ret_hex[3 + 2 * i] = hex[mac[i] & 15];
	}
	ret_hex[66] = '\0';
	return 0;
}
