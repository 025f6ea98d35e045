/* report.c: daily, monthly and session reports with estimated cost; see report.h. */
#include "report.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "json-writer.h"

/* Most bytes of JSON one row of a report may take (a row is under 4 KiB). */
#define REPORT_JSON_ROW_MAX (1u << 20)

struct row {
	char key[128];
	uint64_t events, unpriced;
	uint64_t tok[EVENT_BUCKET_MAX];
	price_pico cost, subscription;
	int64_t first_ms, last_ms;
	uint32_t models[16]; /* interned model names, first 16 */
	size_t n_models;
	uint32_t unpriced_models[8];
	size_t n_unpriced_models;
	/* Cursor's local counts: not billing-exact, kept beside the priced sums (docs/tool-formats.md) */
	uint64_t approx_events, approx_in, approx_out;
};

int
report_kind_parse(const char *s, enum report_kind *ret)
{
	if (strcmp(s, "daily") == 0) {
		*ret = REPORT_DAILY;
	} else if (strcmp(s, "monthly") == 0) {
		*ret = REPORT_MONTHLY;
	} else if (strcmp(s, "session") == 0) {
		*ret = REPORT_SESSION;
	} else {
		return -EINVAL;
	}
	return 0;
}

static bool
zone_known(const char *tz)
{
	char path[512];
	struct stat st;

	if (strcmp(tz, "UTC") == 0 || strcmp(tz, "Z") == 0) {
		return true;
	}
	if (tz[0] == '\0' || strstr(tz, "..") != NULL || tz[0] == '/') {
		return false;
	}
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static void
add_model(uint32_t *list, size_t *n, size_t cap, uint32_t m)
{
	for (size_t i = 0; i < *n; i++) {
		if (list[i] == m) {
			return;
		}
	}
	if (*n < cap) {
		list[(*n)++] = m;
	}
}

/* Row lookup by key: open addressing over row numbers + 1. */
struct row_index {
	size_t *slots;
	size_t n_slots;
};

static uint64_t
key_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s != '\0'; s++) {
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	}
	return h;
}

static struct row *
find_row(const struct row_index *ix, struct row *rows, const char *key)
{
	if (ix->n_slots == 0) {
		return NULL;
	}
	for (size_t j = key_hash(key) & (ix->n_slots - 1); ix->slots[j] != 0;
	     j = (j + 1) & (ix->n_slots - 1)) {
		if (strcmp(rows[ix->slots[j] - 1].key, key) == 0) {
			return &rows[ix->slots[j] - 1];
		}
	}
	return NULL;
}

/* Index rows[n - 1] (and rebuild when the table is half full). */
static int
index_add(struct row_index *ix, const struct row *rows, size_t n)
{
	if (n * 2 > ix->n_slots) {
		size_t ns = ix->n_slots ? ix->n_slots * 2 : 256;
		size_t *slots = calloc(ns, sizeof(*slots));
		if (slots == NULL) {
			return -ENOMEM;
		}
		free(ix->slots);
		ix->slots = slots;
		ix->n_slots = ns;
		for (size_t i = 0; i + 1 < n; i++) {
			size_t j = key_hash(rows[i].key) & (ns - 1);
			while (slots[j] != 0) {
				j = (j + 1) & (ns - 1);
			}
			slots[j] = i + 1;
		}
	}
	size_t j = key_hash(rows[n - 1].key) & (ix->n_slots - 1);
	while (ix->slots[j] != 0) {
		j = (j + 1) & (ix->n_slots - 1);
	}
	ix->slots[j] = n;
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->first_ms != y->first_ms) {
		return x->first_ms < y->first_ms ? -1 : 1;
	}
	return strcmp(x->key, y->key);
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->key, ((const struct row *)b)->key);
}

static void
print_cost(FILE *out, const struct row *r)
{
	char c[64], sub[64];

	price_format(r->cost, c, sizeof(c), 6);
	price_format(r->subscription, sub, sizeof(sub), 6);
	if (r->unpriced == r->events && r->events > 0) {
		fprintf(out, " %14s %16s", "unpriced", "unpriced");
	} else {
		fprintf(out, " %14s %16s", c, sub);
	}
	if (r->unpriced > 0) {
		fprintf(out, "  +%llu unpriced", (unsigned long long)r->unpriced);
	}
}

/* r as one object of the JSON report's "rows", or its "totals". */
static void
row_json(struct jw *w, const struct scan *s, const struct row *r)
{
	char c[64], sub[64];

	price_format(r->cost, c, sizeof(c), 6);
	price_format(r->subscription, sub, sizeof(sub), 6);
	jw_object_begin(w);
	jw_key(w, "period");
	jw_string(w, r->key);
	jw_key(w, "events");
	jw_uint(w, r->events);
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		jw_key(w, event_bucket_field((enum event_bucket)b));
		jw_uint(w, r->tok[b]);
	}
	jw_key(w, "cost_usd");
	jw_number_text(w, c);
	jw_key(w, "subscription_usd");
	jw_number_text(w, sub);
	jw_key(w, "unpriced_events");
	jw_uint(w, r->unpriced);
	jw_key(w, "models");
	jw_array_begin(w);
	for (size_t i = 0; i < r->n_models; i++) {
		jw_string(w, ledger_str(&s->ledger, r->models[i]));
	}
	jw_end(w);
	jw_key(w, "unpriced_models");
	jw_array_begin(w);
	for (size_t i = 0; i < r->n_unpriced_models; i++) {
		jw_string(w, ledger_str(&s->ledger, r->unpriced_models[i]));
	}
	jw_end(w);
	jw_key(w, "approximate");
	jw_object_begin(w);
	jw_key(w, "tools");
	jw_array_begin(w);
	jw_string(w, "cursor");
	jw_end(w);
	jw_key(w, "events");
	jw_uint(w, r->approx_events);
	jw_key(w, "input_tokens");
	jw_uint(w, r->approx_in);
	jw_key(w, "output_tokens");
	jw_uint(w, r->approx_out);
	jw_end(w);
	jw_end(w);
}

/* Write out and drop the text so far: memory stays one row. 0 or the writer's error. */
static int
json_flush(struct jw *w, FILE *out)
{
	int r = jw_error(w);

	/* the structure is fixed and price_format prints plain decimals */
	assert(r != -EINVAL);
	if (r == 0) {
		(void)fwrite(jw_data(w), 1, jw_len(w), out); /* errors stay on out for the caller */
		jw_drain(w);
	}
	return r;
}

/* The JSON report, one row a line; 0 or the writer's error. */
static int
report_json(const struct scan *s, const char *kind, const char *tz, const struct row *rows,
	    size_t n, const struct row *total, FILE *out)
{
	struct jw w;
	int r = 0;

	jw_init(&w, NULL, 0, REPORT_JSON_ROW_MAX);
	jw_set_lines(&w, 2);
	jw_object_begin(&w);
	jw_key(&w, "report");
	jw_string(&w, kind);
	jw_key(&w, "tz");
	jw_string(&w, tz != NULL ? tz : "local");
	jw_key(&w, "note");
	jw_string(&w, "cost_usd: list-price estimate of all priced usage; subscription_usd: the "
		      "API-equivalent value of subscription usage within it, not spend; unpriced "
		      "events add nothing; approximate: Cursor turns with token counts from its "
		      "local database, not billing data, not priced and not in the other sums");
	jw_key(&w, "rows");
	jw_array_begin(&w);
	for (size_t i = 0; i < n && r == 0; i++) {
		row_json(&w, s, &rows[i]);
		r = json_flush(&w, out);
	}
	jw_end(&w);
	jw_key(&w, "totals");
	row_json(&w, s, total);
	jw_end(&w);
	if (r == 0 && (r = json_flush(&w, out)) == 0) {
		(void)fputc('\n', out);
	}
	jw_finish(&w);
	return r;
}

static void
print_row(FILE *out, const struct row *r)
{
	char key[sizeof(r->key)];

	fprintf(out, "%-36.36s %7llu %12llu %10llu %12llu %12llu %13llu %6llu",
		event_printable(r->key, key, sizeof(key)),
		(unsigned long long)r->events, (unsigned long long)r->tok[EVENT_INPUT],
		(unsigned long long)r->tok[EVENT_OUTPUT],
		(unsigned long long)r->tok[EVENT_CACHE_WRITE_5M],
		(unsigned long long)r->tok[EVENT_CACHE_WRITE_1H],
		(unsigned long long)r->tok[EVENT_CACHE_READ],
		(unsigned long long)r->tok[EVENT_WEB_SEARCH]);
	print_cost(out, r);
	fputc('\n', out);
}

int
report_print(const struct scan *s, const struct price_book *book, enum report_kind kind,
	     const char *tz, bool json, FILE *out)
{
	static const char *const kinds[] = {"daily", "monthly", "session"};
	struct row *rows = NULL, total;
	size_t n = 0, cap = 0;
	struct row_index ix = {NULL, 0};

	if (tz != NULL) {
		if (!zone_known(tz)) {
			return -EINVAL;
		}
		setenv("TZ", strcmp(tz, "Z") == 0 ? "UTC" : tz, 1);
	}
	tzset();
	memset(&total, 0, sizeof(total));
	snprintf(total.key, sizeof(total.key), "total");
	for (size_t i = 0; i < s->ledger.n; i++) {
		const struct ledger_rec *rec = ledger_at(&s->ledger, i);
		char key[128];
		struct row *r = NULL;
		time_t t = (time_t)(rec->ts_ms >= 0 ? rec->ts_ms / 1000 : (rec->ts_ms - 999) / 1000);
		struct tm tm;

		if (!(rec->flags & LEDGER_SETTLED) || rec->ts_ms < s->since_ms) {
			continue;
		}
		if (kind == REPORT_SESSION) {
			snprintf(key, sizeof(key), "%s", ledger_str(&s->ledger, rec->session));
		} else {
			localtime_r(&t, &tm);
			if (kind == REPORT_DAILY) {
				strftime(key, sizeof(key), "%Y-%m-%d", &tm);
			} else {
				strftime(key, sizeof(key), "%Y-%m", &tm);
			}
		}
		r = find_row(&ix, rows, key);
		if (r == NULL) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct row *g = realloc(rows, nc * sizeof(*g));
				if (g == NULL) {
					free(rows);
					free(ix.slots);
					return -ENOMEM;
				}
				rows = g;
				cap = nc;
			}
			r = &rows[n++];
			memset(r, 0, sizeof(*r));
			snprintf(r->key, sizeof(r->key), "%s", key);
			r->first_ms = rec->ts_ms;
			r->last_ms = rec->ts_ms;
			if (index_add(&ix, rows, n) < 0) {
				free(rows);
				free(ix.slots);
				return -ENOMEM;
			}
		}
		if (rec->tool == EVENT_TOOL_CURSOR) {
			/* no billing-exact usage exists locally: counted apart, never priced */
			struct row *approx[2] = {r, &total};
			for (int k = 0; k < 2; k++) {
				approx[k]->approx_events++;
				approx[k]->approx_in += rec->tok[EVENT_INPUT];
				approx[k]->approx_out += rec->tok[EVENT_OUTPUT];
			}
			continue;
		}
		const struct price_row *pr =
			price_lookup(book, ledger_str(&s->ledger, rec->model), rec->ts_ms);
		const char *billing = event_billing_name(s->origins[rec->origin].billing);
		struct row *targets[2] = {r, &total};
		for (int k = 0; k < 2; k++) {
			struct row *x = targets[k];
			x->events++;
			for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
				x->tok[b] += rec->tok[b];
			}
			if (rec->ts_ms < x->first_ms || x->events == 1) {
				x->first_ms = rec->ts_ms;
			}
			if (rec->ts_ms > x->last_ms) {
				x->last_ms = rec->ts_ms;
			}
			add_model(x->models, &x->n_models, 16, rec->model);
			if (pr == NULL) {
				x->unpriced++;
				add_model(x->unpriced_models, &x->n_unpriced_models, 8, rec->model);
			} else {
				price_pico c;
				uint64_t tok[EVENT_BUCKET_MAX];
				for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
					tok[b] = rec->tok[b];
				}
				price_cost(pr, tok, ledger_str(&s->ledger, rec->speed), &c);
				x->cost += c;
				if (strcmp(billing, "subscription") == 0) {
					x->subscription += c;
				}
			}
		}
	}
	qsort(rows, n, sizeof(*rows), kind == REPORT_SESSION ? row_cmp : key_cmp);
	if (json) {
		int r = report_json(s, kinds[kind], tz, rows, n, &total, out);
		if (r < 0) {
			free(rows);
			free(ix.slots);
			return r;
		}
	} else {
		fprintf(out, "Estimated cost at API list prices. subscription_usd is the API-equivalent\n"
			     "value of usage under a subscription: not spend. Unpriced models add nothing.\n\n");
		fprintf(out, "%-36s %7s %12s %10s %12s %12s %13s %6s %14s %16s\n",
			kind == REPORT_SESSION ? "session" : kind == REPORT_DAILY ? "date" : "month",
			"events", "input", "output", "cache_w_5m", "cache_w_1h", "cache_read", "web",
			"cost_usd", "subscription_usd");
		for (size_t i = 0; i < n; i++) {
			print_row(out, &rows[i]);
		}
		print_row(out, &total);
		if (total.n_unpriced_models > 0) {
			fprintf(out, "\nunpriced models:");
			for (size_t i = 0; i < total.n_unpriced_models; i++) {
				char m[256];
				fprintf(out, " %s",
					event_printable(ledger_str(&s->ledger, total.unpriced_models[i]),
							m, sizeof(m)));
			}
			fputc('\n', out);
		}
		if (total.approx_events > 0) {
			fprintf(out, "\ncursor, approximate (its local token counts, not billing data; not "
				     "in the rows above): %llu turns with counts, %llu input and %llu output "
				     "tokens\n",
				(unsigned long long)total.approx_events,
				(unsigned long long)total.approx_in, (unsigned long long)total.approx_out);
		}
	}
	free(rows);
	free(ix.slots);
	return 0;
}
