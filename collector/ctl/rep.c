/* rep.c: period arguments and identity hashes of the report commands; see rep.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "identity.h"
#include "rep.h"

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

void
rep_hmac_hex(const uint8_t mac[AM_IDENTITY_HMAC_LEN], char ret_hex[67])
{
	ret_hex[0] = '\\';
	ret_hex[1] = 'x';
	hex_encode(mac, AM_IDENTITY_HMAC_LEN, ret_hex + 2);
}

int
rep_identity_hex(const struct ctl_opts *opts, const char *identity, char ret_hex[67])
{
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
	rep_hmac_hex(mac, ret_hex);
	return 0;
}
