/* price.c: the price book and event costs; see price.h. */
#include "price.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "log.h"

extern const char price_book_csv[];
extern const size_t price_book_csv_len;

void
price_book_finish(struct price_book *b)
{
	if (b == NULL) {
		return;
	}
	free(b->rows);
	b->rows = NULL;
	b->n = 0;
}

int
price_parse_decimal(const char *s, int scale_digits, int64_t *ret)
{
	int64_t v = 0;
	int frac = -1;

	if (*s == '\0') {
		return -EINVAL;
	}
	for (; *s != '\0'; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9') {
			return -EINVAL;
		}
		if (frac >= 0 && ++frac > scale_digits) {
			if (*s != '0') {
				return -EINVAL; /* more precision than we keep exactly */
			}
			continue;
		}
		if (v > (INT64_MAX - 9) / 10) {
			return -EINVAL;
		}
		v = v * 10 + (*s - '0');
	}
	if (frac == 0) {
		return -EINVAL; /* "3." */
	}
	for (int i = frac < 0 ? 0 : frac; i < scale_digits; i++) {
		if (v > INT64_MAX / 10) {
			return -EINVAL;
		}
		v *= 10;
	}
	*ret = v;
	return 0;
}

static const char *const rate_cols[PRICE_RATE_MAX] = {
	"input_per_mtok",      "output_per_mtok",           "cache_write_5m_per_mtok",
	"cache_write_1h_per_mtok", "cache_read_per_mtok",   "long_context_input_per_mtok",
	"long_context_output_per_mtok", "web_search_per_1k",
};

int
price_book_parse(const char *buf, size_t len, const char *name, struct price_book *ret_book)
{
	struct csv_reader r;
	char err[256];
	int col[PRICE_RATE_MAX], c_pat, c_thr, c_from, c_fast, rc, errors = 0;
	size_t cap = 0;

	memset(ret_book, 0, sizeof(*ret_book));
	csv_init(&r, buf, len);
	rc = csv_next(&r, err, sizeof(err));
	if (rc <= 0) {
		log_warnx("%s:1: %s", name, rc < 0 ? err : "empty price book");
		csv_finish(&r);
		return 1;
	}
	c_pat = csv_column(&r, "model_pattern");
	c_thr = csv_column(&r, "long_context_threshold_tokens");
	c_from = csv_column(&r, "effective_from");
	c_fast = csv_column(&r, "fast_multiplier");
	for (int i = 0; i < PRICE_RATE_MAX; i++) {
		col[i] = csv_column(&r, rate_cols[i]);
	}
	if (c_pat < 0 || col[PRICE_INPUT] < 0 || col[PRICE_OUTPUT] < 0) {
		log_warnx("%s:1: header lacks model_pattern, input_per_mtok or output_per_mtok", name);
		csv_finish(&r);
		return 1;
	}
	while ((rc = csv_next(&r, err, sizeof(err))) != 0) {
		struct price_row row;
		const char *bad = NULL;

		if (rc < 0) {
			log_warnx("%s:%u: %s", name, r.line, err);
			errors++;
			break; /* the reader cannot resynchronise */
		}
#define FIELD(c) ((c) >= 0 && (size_t)(c) < r.n_fields ? r.fields[c] : "")
		memset(&row, 0, sizeof(row));
		if (strlen(FIELD(c_pat)) == 0 || strlen(FIELD(c_pat)) >= sizeof(row.pattern)) {
			bad = "model_pattern is empty or too long";
		} else {
			snprintf(row.pattern, sizeof(row.pattern), "%s", FIELD(c_pat));
		}
		for (int i = 0; i < PRICE_RATE_MAX && bad == NULL; i++) {
			const char *v = FIELD(col[i]);
			row.rate[i] = -1;
			if (v[0] != '\0' && price_parse_decimal(v, 6, &row.rate[i]) < 0) {
				bad = rate_cols[i];
			}
		}
		if (bad == NULL && (row.rate[PRICE_INPUT] < 0 || row.rate[PRICE_OUTPUT] < 0)) {
			bad = "input and output rates are required";
		}
		row.effective_from_ms = INT64_MIN;
		if (bad == NULL && FIELD(c_from)[0] != '\0') {
			char ts[64];
			snprintf(ts, sizeof(ts), "%sT00:00:00Z", FIELD(c_from));
			if (strlen(FIELD(c_from)) != 10 || event_ts_parse(ts, &row.effective_from_ms) < 0) {
				bad = "effective_from is not YYYY-MM-DD";
			}
		}
		if (bad == NULL && FIELD(c_thr)[0] != '\0') {
			int64_t t;
			if (price_parse_decimal(FIELD(c_thr), 0, &t) < 0 || t <= 0) {
				bad = "long_context_threshold_tokens";
			} else {
				row.lc_threshold = (uint64_t)t;
			}
		}
		row.fast_micro = 1000000;
		if (bad == NULL && FIELD(c_fast)[0] != '\0') {
			int64_t f;
			if (price_parse_decimal(FIELD(c_fast), 6, &f) < 0) {
				bad = "fast_multiplier";
			} else {
				row.fast_micro = (uint64_t)f;
			}
		}
#undef FIELD
		if (bad != NULL) {
			log_warnx("%s:%u: bad price row: %s", name, r.line, bad);
			errors++;
			continue;
		}
		if (ret_book->n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct price_row *rows = realloc(ret_book->rows, ncap * sizeof(*rows));
			if (rows == NULL) {
				errors++;
				break;
			}
			ret_book->rows = rows;
			cap = ncap;
		}
		ret_book->rows[ret_book->n++] = row;
	}
	csv_finish(&r);
	return errors;
}

int
price_book_builtin(struct price_book *ret_book)
{
	return price_book_parse(price_book_csv, price_book_csv_len, "built-in price book", ret_book);
}

static const struct price_row *
lookup(const struct price_book *b, const char *model, int64_t ts_ms)
{
	const struct price_row *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < b->n; i++) {
		const struct price_row *r = &b->rows[i];
		size_t n = strlen(r->pattern);
		if (r->effective_from_ms > ts_ms || n < best_len ||
		    fnmatch(r->pattern, model, 0) != 0) {
			continue;
		}
		/* Longest pattern wins; among a pattern's rows, the latest in effect. */
		if (best == NULL || n > best_len ||
		    (strcmp(r->pattern, best->pattern) == 0 &&
		     r->effective_from_ms > best->effective_from_ms)) {
			best = r;
			best_len = n;
		}
	}
	return best;
}

const struct price_row *
price_lookup(const struct price_book *b, const char *model, int64_t ts_ms)
{
	if (model == NULL || model[0] == '\0') {
		return NULL;
	}
	return lookup(b, model, ts_ms);
}

/* tokens x rate, scaled by num/den, rounded half up. */
static price_pico
bucket(uint64_t tokens, int64_t rate, int64_t num, int64_t den)
{
	price_pico v = (price_pico)tokens * (price_pico)(uint64_t)rate * (price_pico)(uint64_t)num;

	return (v + (price_pico)(uint64_t)den / 2) / (price_pico)(uint64_t)den;
}

void
price_cost(const struct price_row *row, const uint64_t tok[EVENT_BUCKET_MAX], const char *speed,
	   price_pico *ret_pico)
{
	int64_t in = row->rate[PRICE_INPUT], num = 1, den = 1;
	int64_t out = row->rate[PRICE_OUTPUT];
	uint64_t prompt = tok[EVENT_INPUT] + tok[EVENT_CACHE_WRITE_5M] + tok[EVENT_CACHE_WRITE_1H] +
			  tok[EVENT_CACHE_READ];
	int64_t cw5 = row->rate[PRICE_CACHE_WRITE_5M] >= 0 ? row->rate[PRICE_CACHE_WRITE_5M] : in;
	int64_t cw1 = row->rate[PRICE_CACHE_WRITE_1H] >= 0 ? row->rate[PRICE_CACHE_WRITE_1H] : in;
	int64_t cr = row->rate[PRICE_CACHE_READ] >= 0 ? row->rate[PRICE_CACHE_READ] : in;
	price_pico p = 0;

	if (row->lc_threshold > 0 && prompt > row->lc_threshold && row->rate[PRICE_LC_INPUT] >= 0 &&
	    in > 0) {
		/* the whole request at long-context rates; cache rates by the input factor */
		num = row->rate[PRICE_LC_INPUT];
		den = in;
		if (row->rate[PRICE_LC_OUTPUT] >= 0) {
			p += bucket(tok[EVENT_OUTPUT], row->rate[PRICE_LC_OUTPUT], 1, 1);
		} else {
			p += bucket(tok[EVENT_OUTPUT], out, num, den);
		}
	} else {
		p += bucket(tok[EVENT_OUTPUT], out, 1, 1);
	}
	p += bucket(tok[EVENT_INPUT], in, num, den);
	p += bucket(tok[EVENT_CACHE_WRITE_5M], cw5, num, den);
	p += bucket(tok[EVENT_CACHE_WRITE_1H], cw1, num, den);
	p += bucket(tok[EVENT_CACHE_READ], cr, num, den);
	if (speed != NULL && strcmp(speed, "fast") == 0) {
		p = (p * row->fast_micro + 500000) / 1000000;
	}
	if (row->rate[PRICE_WEB_SEARCH_1K] > 0) {
		/* $ per 1,000 requests -> picodollars per request: micro x 1e3 */
		p += (price_pico)tok[EVENT_WEB_SEARCH] * (price_pico)(uint64_t)row->rate[PRICE_WEB_SEARCH_1K] *
		     1000u;
	}
	*ret_pico = p;
}

void
price_format(price_pico pico, char *ret_buf, size_t size, int decimals)
{
	price_pico unit = 1;
	char digits[64];
	int n = 0;

	for (int i = decimals; i < 12; i++) {
		unit *= 10;
	}
	pico = (pico + unit / 2) / unit; /* now in 10^-decimals dollars */
	do {
		digits[n++] = (char)('0' + (int)(pico % 10));
		pico /= 10;
	} while (pico > 0 || n <= decimals);
	size_t o = 0;
	for (int i = n - 1; i >= 0 && o + 2 < size; i--) {
		ret_buf[o++] = digits[i];
		if (i == decimals && decimals > 0) {
			ret_buf[o++] = '.';
		}
	}
	ret_buf[o] = '\0';
}
