/*
 * cmd-billing-pull.c: `aimeterctl billing pull --vendor anthropic|openai`:
 * every page of the vendor's admin APIs for a period (docs/reconciliation.md),
 * then, only if all of it arrived and parsed, one transaction that replaces
 * the period's billed lines of each source. A failure stores nothing.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "billing.h"
#include "fetch.h"
#include "options.h"
#include "secret-file.h"

#define KEY_MAX 512
#define PAGES_MAX 10000		   /* per source and call: a server that never ends */
#define LINES_MAX 2000000	   /* per source */
#define BODY_MAX (32u << 20)	   /* per page */
#define PERIOD_DAYS_MAX 366
#define RETRIES_MAX 3		   /* 429s waited out per page */

struct vendor {
	const char *name;
	const char *base_url;
	const char *key_file;
	const char *key_prefix;
	enum billing_source sources[3];
	size_t n_sources;
};

static const struct vendor vendors[] = {
	{ "anthropic", "https://api.anthropic.com", "/etc/aimeter/anthropic-admin-key", "sk-ant-admin",
	  { BILLING_ANTHROPIC_COST, BILLING_ANTHROPIC_USAGE, BILLING_ANTHROPIC_CLAUDE_CODE }, 3 },
	{ "openai", "https://api.openai.com", "/etc/aimeter/openai-admin-key", "sk-admin-",
	  { BILLING_OPENAI_COSTS, BILLING_OPENAI_USAGE }, 2 },
};

struct pull {
	const struct vendor *v;
	const char *base_url, *ca_file;
	char key[KEY_MAX + 1];
	char from[11], to_excl[11]; /* [from, to_excl) */
	time_t from_t, to_t;
	long max_wait;
	struct billing_lines lines[3];
};

/* day_parse(s, ret): a YYYY-MM-DD as Unix seconds at 00:00 UTC; -1 if not a date. */
static int
day_parse(const char *s, time_t *ret)
{
	struct tm tm = { 0 };

	/* billing_day_ok checked every digit: read them as they stand. */
	if (!billing_day_ok(s)) {
		return -1;
	}
	tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
	tm.tm_mon = (s[5] - '0') * 10 + (s[6] - '0') - 1;
	tm.tm_mday = (s[8] - '0') * 10 + (s[9] - '0');
	*ret = timegm(&tm);
	return 0;
}

static void
day_format(time_t t, char ret[11])
{
	struct tm tm;
	char buf[32];

	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	memcpy(ret, buf, 11);
	ret[10] = '\0';
}

/* The admin key: one line of printable ASCII, the vendor's admin prefix. */
static int
key_load(struct pull *p, const char *path)
{
	char err[512];
	size_t n = 0;
	int r = secret_file_read(path, "admin key file", p->key, KEY_MAX, &n, err, sizeof(err));

	if (r < 0) {
		fprintf(stderr, "aimeterctl: %s\n", err);
		return -1;
	}
	while (n > 0 && isspace((unsigned char)p->key[n - 1])) {
		n--;
	}
	p->key[n] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (p->key[i] <= ' ' || p->key[i] > '~') {
			fprintf(stderr,
				"aimeterctl: admin key file \"%s\" holds more than one line or a "
				"character no key has\n",
				path);
			return -1;
		}
	}
	if (n == 0) {
		fprintf(stderr, "aimeterctl: admin key file \"%s\" is empty\n", path);
		return -1;
	}
	if (strncmp(p->key, p->v->key_prefix, strlen(p->v->key_prefix)) != 0) {
		fprintf(stderr,
			"aimeterctl: admin key file \"%s\" does not hold a %s admin key (they start "
			"with \"%s\"; other keys cannot read usage and cost)\n",
			path, p->v->name, p->v->key_prefix);
		return -1;
	}
	return 0;
}

/* Where each source is and how its period is asked for (specs/enterprise.md 4). */
enum period_style { PERIOD_RFC3339, PERIOD_DAY, PERIOD_UNIX };
static const struct {
	const char *path, *query;
	enum period_style period;
} endpoints[BILLING_SOURCE_MAX] = {
	[BILLING_ANTHROPIC_COST] = { "/v1/organizations/cost_report",
				     "group_by%5B%5D=workspace_id&group_by%5B%5D=description&limit=31",
				     PERIOD_RFC3339 },
	[BILLING_ANTHROPIC_USAGE] = { "/v1/organizations/usage_report/messages",
				      "bucket_width=1d&group_by%5B%5D=workspace_id"
				      "&group_by%5B%5D=model&limit=31",
				      PERIOD_RFC3339 },
	[BILLING_ANTHROPIC_CLAUDE_CODE] = { "/v1/organizations/usage_report/claude_code",
					    "limit=1000", PERIOD_DAY },
	[BILLING_OPENAI_COSTS] = { "/v1/organization/costs",
				   "bucket_width=1d&group_by=project_id&group_by=line_item&limit=31",
				   PERIOD_UNIX },
	[BILLING_OPENAI_USAGE] = { "/v1/organization/usage/completions",
				   "bucket_width=1d&group_by=project_id&group_by=model&limit=31",
				   PERIOD_UNIX },
};

/* The URL of one page of src; day is the day of a per-day source. */
static int
page_url(const struct pull *p, enum billing_source src, const char *day, const char *page,
	 char *ret, size_t size)
{
	char period[96], esc[3 * 1024 + 1] = "";
	int n;

	if (fetch_escape(page, esc, sizeof(esc)) < 0) {
		return -1;
	}
	switch (endpoints[src].period) {
	case PERIOD_RFC3339:
		snprintf(period, sizeof(period), "starting_at=%sT00:00:00Z&ending_at=%sT00:00:00Z",
			 p->from, p->to_excl);
		break;
	case PERIOD_DAY:
		snprintf(period, sizeof(period), "starting_at=%s", day);
		break;
	case PERIOD_UNIX:
		snprintf(period, sizeof(period), "start_time=%lld&end_time=%lld",
			 (long long)p->from_t, (long long)p->to_t);
		break;
	}
	n = snprintf(ret, size, "%s%s?%s&%s%s%s", p->base_url, endpoints[src].path, period,
		     endpoints[src].query, esc[0] != '\0' ? "&page=" : "", esc);
	return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The vendor's own error text ({"error":{"message":...}}), printable and short. */
static void
vendor_message(const char *body, char *ret, size_t size)
{
	const char *m = strstr(body, "\"message\"");
	size_t n = 0;

	ret[0] = '\0';
	if (m == NULL || (m = strchr(m + 9, '"')) == NULL) {
		return;
	}
	for (m++; *m != '\0' && *m != '"' && n + 1 < size && n < 200; m++) {
		ret[n++] = (*m >= ' ' && *m <= '~') ? *m : '?';
	}
	ret[n] = '\0';
}

/* One page, 429s waited out while the server asks for at most max_wait seconds. */
static int
page_get(const struct pull *p, const char *what, const char *url, struct fetch_response *resp)
{
	char auth[KEY_MAX + 64], err[FETCH_ERR_MAX], msg[256];
	const char *headers[2];
	struct fetch_request req = { url, headers, 0, p->ca_file, BODY_MAX };
	int r = 0;

	if (strcmp(p->v->name, "anthropic") == 0) {
		snprintf(auth, sizeof(auth), "x-api-key: %s", p->key);
		headers[0] = auth;
		headers[1] = "anthropic-version: 2023-06-01";
		req.n_headers = 2;
	} else {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", p->key);
		headers[0] = auth;
		req.n_headers = 1;
	}
	for (int attempt = 0;; attempt++) {
		fetch_response_finish(resp);
		r = fetch_get(&req, resp, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "aimeterctl: %s %s: could not fetch: %s\n", p->v->name, what,
				err);
			break;
		}
		if (resp->status == 429 && resp->retry_after >= 0 &&
		    resp->retry_after <= p->max_wait && attempt < RETRIES_MAX) {
			fprintf(stderr, "aimeterctl: %s %s: rate limited (HTTP 429), retrying in %ld s\n",
				p->v->name, what, resp->retry_after);
			sleep((unsigned)resp->retry_after);
			continue;
		}
		vendor_message(resp->body, msg, sizeof(msg));
		if (resp->status == 200) {
			break;
		}
		r = -EIO;
		if (resp->status == 401 || resp->status == 403) {
			fprintf(stderr,
				"aimeterctl: %s %s: the admin key was refused (HTTP %ld%s%s); check "
				"the key file\n",
				p->v->name, what, resp->status, msg[0] ? ": " : "", msg);
		} else if (resp->status == 429) {
			fprintf(stderr,
				"aimeterctl: %s %s: rate limited (HTTP 429); the server asks to retry "
				"after %s%ld s (waiting at most %ld s, see --max-wait)\n",
				p->v->name, what, resp->retry_after < 0 ? "an unknown " : "",
				resp->retry_after < 0 ? 0 : resp->retry_after, p->max_wait);
		} else {
			fprintf(stderr, "aimeterctl: %s %s: HTTP %ld%s%s\n", p->v->name, what,
				resp->status, msg[0] ? ": " : "", msg);
		}
		break;
	}
	explicit_bzero(auth, sizeof(auth));
	return r;
}

/* Every page of src (for one day of a per-day source) into lines. */
static int
pull_pages(const struct pull *p, enum billing_source src, const char *day,
	   struct billing_lines *lines)
{
	char url[4096], page[1024] = "", next[1024], err[256];
	struct fetch_response resp = { 0 };
	const char *what = billing_source_name(src);
	int r = 0, n;

	for (n = 0; n < PAGES_MAX; n++) {
		if (page_url(p, src, day, page, url, sizeof(url)) < 0) {
			fprintf(stderr, "aimeterctl: %s %s: the page URL is too long\n", p->v->name,
				what);
			r = -1;
			break;
		}
		if (page_get(p, what, url, &resp) < 0) {
			r = -1;
			break;
		}
		if (billing_page_parse(src, resp.body, resp.len, lines, next, sizeof(next), err,
				       sizeof(err)) < 0) {
			fprintf(stderr, "aimeterctl: %s %s: page %d is not what the API documents: %s\n",
				p->v->name, what, n + 1, err);
			r = -1;
			break;
		}
		if (next[0] == '\0') {
			break;
		}
		memcpy(page, next, sizeof(page));
	}
	if (n == PAGES_MAX) {
		fprintf(stderr, "aimeterctl: %s %s: more than %d pages\n", p->v->name, what,
			PAGES_MAX);
		r = -1;
	}
	fetch_response_finish(&resp);
	return r;
}

/* Lines outside the period would survive the next re-pull: refuse them; only USD is reconciled. */
static int
lines_check(const struct pull *p, enum billing_source src, const struct billing_lines *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct billing_line *b = &l->v[i];
		if (strcmp(b->day, p->from) < 0 || strcmp(b->day, p->to_excl) >= 0) {
			fprintf(stderr,
				"aimeterctl: %s %s: a line for %s is outside the period asked for "
				"(%s to before %s)\n",
				p->v->name, billing_source_name(src), b->day, p->from, p->to_excl);
			return -1;
		}
		if (b->kind == BILLING_KIND_COST && strcmp(b->currency, "USD") != 0) {
			fprintf(stderr,
				"aimeterctl: %s %s: a line for %s is billed in %s; only USD bills "
				"are reconciled\n",
				p->v->name, billing_source_name(src), b->day, b->currency);
			return -1;
		}
	}
	return 0;
}

static const char insert_pull[] =
	"INSERT INTO aimeter.billing_pulls (vendor, source, period_start, period_end, lines)"
	" VALUES ($1, $2, $3, $4, $5) RETURNING pull_id";
static const char delete_period[] =
	"DELETE FROM aimeter.billed_lines WHERE vendor = $1 AND source = $2"
	" AND day >= $3 AND day < $4";
static const char insert_line[] =
	"INSERT INTO aimeter.billed_lines (pull_id, vendor, source, kind, account, model, day,"
	" line_item, amount, currency, input_tokens, output_tokens, cache_read_tokens,"
	" cache_write_tokens, requests)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::numeric / CASE $10 WHEN '2' THEN 100 ELSE 1"
	" END, $11, $12, $13, $14, $15, $16)";

/* One source's lines, replacing the period's (inside the caller's transaction). */
static int
store_source(PGconn *conn, const struct pull *p, enum billing_source src,
	     const struct billing_lines *l, long *ret_replaced)
{
	char n_s[24], pull_id[24], scale[4], tok[5][24];
	const char *src_name = billing_source_name(src);
	const char *pp[5] = { p->v->name, src_name, p->from, p->to_excl, n_s };
	PGresult *r;

	snprintf(n_s, sizeof(n_s), "%zu", l->n);
	r = ctl_query(conn, insert_pull, 5, pp);
	if (r == NULL) {
		return -1;
	}
	snprintf(pull_id, sizeof(pull_id), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	r = ctl_query(conn, delete_period, 4, pp);
	if (r == NULL) {
		return -1;
	}
	*ret_replaced += strtol(PQcmdTuples(r), NULL, 10); /* libpq's own digits */
	PQclear(r);
	for (size_t i = 0; i < l->n; i++) {
		const struct billing_line *b = &l->v[i];
		const char *lp[16] = { pull_id,	      p->v->name, src_name, billing_kind_name(b->kind),
				       b->account,    b->model,	  b->day,   b->line_item,
				       b->amount,     scale,	  b->currency, tok[0],
				       tok[1],	      tok[2],	  tok[3],   tok[4] };
		snprintf(scale, sizeof(scale), "%d", b->amount_scale);
		snprintf(tok[0], sizeof(tok[0]), "%lld", (long long)b->input_tokens);
		snprintf(tok[1], sizeof(tok[1]), "%lld", (long long)b->output_tokens);
		snprintf(tok[2], sizeof(tok[2]), "%lld", (long long)b->cache_read_tokens);
		snprintf(tok[3], sizeof(tok[3]), "%lld", (long long)b->cache_write_tokens);
		snprintf(tok[4], sizeof(tok[4]), "%lld", (long long)b->requests);
		r = ctl_query(conn, insert_line, 16, lp);
		if (r == NULL) {
			return -1;
		}
		PQclear(r);
	}
	return 0;
}

static int
store(const struct ctl_opts *opts, struct pull *p)
{
	long replaced = 0;
	int rc = CTL_FAIL;
	PGconn *conn = ctl_connect(opts);

	if (conn == NULL) {
		return CTL_FAIL;
	}
	/* One pull at a time, so two overlapping re-pulls cannot both insert. */
	if (ctl_exec(conn, "BEGIN") < 0 ||
	    ctl_exec(conn, "SELECT pg_advisory_xact_lock(hashtext('aimeter.billing_pull'))") < 0) {
		goto out;
	}
	for (size_t i = 0; i < p->v->n_sources; i++) {
		if (store_source(conn, p, p->v->sources[i], &p->lines[i], &replaced) < 0) {
			goto out;
		}
	}
	if (ctl_exec(conn, "COMMIT") < 0) {
		goto out;
	}
	for (size_t i = 0; i < p->v->n_sources; i++) {
		printf("%s %s: %zu lines for %s to %s\n", p->v->name,
		       billing_source_name(p->v->sources[i]), p->lines[i].n, p->from, p->to_excl);
	}
	printf("%s: %ld earlier lines of the period replaced\n", p->v->name, replaced);
	rc = CTL_OK;
out:
	if (rc != CTL_OK) {
		fprintf(stderr, "aimeterctl: %s: nothing stored\n", p->v->name);
	}
	PQfinish(conn);
	return rc;
}

static const char help[] =
	"usage: aimeterctl billing pull --vendor anthropic|openai [--from DAY --to DAY | --days N]\n"
	"                               [--key-file FILE] [--base-url URL] [--ca-file FILE]\n"
	"                               [--max-wait SECONDS] [options]\n\n"
	"Pulls what the vendor billed for the UTC days DAY..DAY (both included;\n"
	"default: the 7 days before today) and replaces those days' billed lines:\n"
	"anthropic: the Admin API's cost report, usage report and Claude Code\n"
	"analytics; openai: the organization costs and completions usage. Every\n"
	"page is fetched and checked before anything is stored; any error and\n"
	"nothing is. See docs/reconciliation.md.\n\n"
	"options:\n"
	"  --vendor NAME           anthropic or openai\n"
	"  --from DAY, --to DAY    the period, YYYY-MM-DD, at most 366 days\n"
	"  --days N                the N days before today instead (vendors revise\n"
	"                          costs for up to 30 days: the timer pulls 35)\n"
	"  --key-file FILE         the admin key, alone in a file of mode 0600\n"
	"                          (default /etc/aimeter/VENDOR-admin-key)\n"
	"  --base-url URL          the API (default https://api.anthropic.com,\n"
	"                          https://api.openai.com); https only\n"
	"  --ca-file FILE          CA certificates to verify it with (default: the system's)\n"
	"  --max-wait SECONDS      wait out a 429 whose Retry-After is at most this\n"
	"                          (default 60; 0: never wait)\n" CTL_COMMON_HELP;

/* Fills p's period from --from/--to or --days; -1 after printing why. */
static int
period_set(struct pull *p, const char *from, const char *to, const char *days)
{
	time_t today = time(NULL) / 86400 * 86400, t_from, t_to;
	long n = 7;
	char *end = NULL;

	if ((from == NULL) != (to == NULL) || (days != NULL && from != NULL)) {
		fprintf(stderr, "aimeterctl: give both --from and --to, or --days\n");
		return -1;
	}
	if (days != NULL) {
		n = strtol(days, &end, 10);
		if (end == days || *end != '\0' || n < 1 || n > PERIOD_DAYS_MAX) {
			fprintf(stderr, "aimeterctl: --days takes 1 to %d\n", PERIOD_DAYS_MAX);
			return -1;
		}
	}
	if (from == NULL) {
		t_from = today - n * 86400;
		t_to = today - 86400;
	} else if (day_parse(from, &t_from) < 0 || day_parse(to, &t_to) < 0) {
		fprintf(stderr, "aimeterctl: --from and --to take a date, YYYY-MM-DD\n");
		return -1;
	}
	if (t_to < t_from || (t_to - t_from) / 86400 + 1 > PERIOD_DAYS_MAX) {
		fprintf(stderr, "aimeterctl: --to must be on or after --from, at most %d days\n",
			PERIOD_DAYS_MAX);
		return -1;
	}
	p->from_t = t_from;
	p->to_t = t_to + 86400;
	day_format(p->from_t, p->from);
	day_format(p->to_t, p->to_excl);
	return 0;
}

int
billing_pull(int argc, char **argv)
{
	const char *vendor = NULL, *from = NULL, *to = NULL, *key_file = NULL, *base_url = NULL,
		   *ca_file = NULL, *max_wait = NULL, *days = NULL;
	const struct options_entry entries[] = {
		{ "vendor", 0, &vendor, NULL },	    { "from", 0, &from, NULL },
		{ "to", 0, &to, NULL },		    { "key-file", 0, &key_file, NULL },
		{ "base-url", 0, &base_url, NULL }, { "ca-file", 0, &ca_file, NULL },
		{ "max-wait", 0, &max_wait, NULL }, { "days", 0, &days, NULL },
		{ NULL, 0, NULL, NULL },
	};
	const struct options_spec spec = { help, entries, NULL, 2, false };
	struct ctl_opts opts = { 0 };
	struct pull *p;
	char *end = NULL;
	int rc = options_parse(&spec, argc, argv, &opts);

	if (rc != OPTIONS_CONTINUE) {
		return rc;
	}
	if (optind != argc || vendor == NULL) {
		fprintf(stderr, "aimeterctl: usage: aimeterctl billing pull --vendor anthropic|openai"
				" [--from DAY --to DAY]; see --help\n");
		return CTL_USAGE;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		fprintf(stderr, "aimeterctl: out of memory\n");
		return CTL_FAIL;
	}
	rc = CTL_USAGE;
	for (size_t i = 0; i < sizeof(vendors) / sizeof(vendors[0]); i++) {
		if (strcmp(vendor, vendors[i].name) == 0) {
			p->v = &vendors[i];
		}
	}
	if (p->v == NULL) {
		fprintf(stderr, "aimeterctl: --vendor is anthropic or openai (other vendors: "
				"billing import-invoice)\n");
		goto out;
	}
	p->base_url = base_url != NULL ? base_url : p->v->base_url;
	p->ca_file = ca_file;
	p->max_wait = 60;
	if (max_wait != NULL) {
		p->max_wait = strtol(max_wait, &end, 10);
		if (end == max_wait || *end != '\0' || p->max_wait < 0 || p->max_wait > 3600) {
			fprintf(stderr, "aimeterctl: --max-wait takes seconds, 0 to 3600\n");
			goto out;
		}
	}
	if (strncmp(p->base_url, "https://", 8) != 0 || strlen(p->base_url) > 512) {
		fprintf(stderr, "aimeterctl: --base-url must be an https:// URL\n");
		goto out;
	}
	if (period_set(p, from, to, days) < 0) {
		goto out;
	}
	rc = CTL_FAIL;
	if (key_load(p, key_file != NULL ? key_file : p->v->key_file) < 0) {
		goto out;
	}
	for (size_t i = 0; i < p->v->n_sources; i++) {
		enum billing_source src = p->v->sources[i];
		int r = 0;

		billing_lines_init(&p->lines[i], LINES_MAX);
		if (src == BILLING_ANTHROPIC_CLAUDE_CODE) {
			/* One UTC day per call. */
			for (time_t t = p->from_t; t < p->to_t && r == 0; t += 86400) {
				char day[11];
				day_format(t, day);
				r = pull_pages(p, src, day, &p->lines[i]);
			}
		} else {
			r = pull_pages(p, src, "", &p->lines[i]);
		}
		if (r < 0 || lines_check(p, src, &p->lines[i]) < 0) {
			fprintf(stderr, "aimeterctl: %s: nothing stored\n", p->v->name);
			goto out;
		}
	}
	rc = store(&opts, p);
out:
	for (size_t i = 0; i < 3; i++) {
		billing_lines_finish(&p->lines[i]);
	}
	explicit_bzero(p->key, sizeof(p->key));
	free(p);
	return rc;
}
