/*
 * price.h: the price book and the cost of one event, with the rules of the
 * database's price book (docs/pricing.md in the collector's words):
 *
 * - rows are effective-dated per model pattern; patterns are case-sensitive
 *   globs and the longest matching pattern wins; a row without
 *   effective_from applies from the beginning of time;
 * - an empty cache rate means the input rate;
 * - long context: when input + cache writes + cache reads of one request
 *   exceed the row's threshold, every bucket of that request is priced at
 *   the long-context rates, cache rates scaled by the same factor as input;
 * - 1-hour cache writes have their own rate; web search is priced per 1,000
 *   requests; the fast multiplier applies to token cost when speed is "fast";
 * - Codex input is already uncached; cached input is priced at the
 *   cache-read rate;
 * - a model without a row is unpriced, never $0.
 *
 * Money is an integer number of picodollars (1e-12 USD); rates are stored
 * in micro-dollars per million tokens, which is picodollars per token, so
 * ordinary rates are exact.
 */
#ifndef AM_AGENT_PRICE_H
#define AM_AGENT_PRICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"

__extension__ typedef unsigned __int128 price_pico;

enum price_rate {
	PRICE_INPUT,
	PRICE_OUTPUT,
	PRICE_CACHE_WRITE_5M,
	PRICE_CACHE_WRITE_1H,
	PRICE_CACHE_READ,
	PRICE_LC_INPUT,
	PRICE_LC_OUTPUT,
	PRICE_WEB_SEARCH_1K, /* micro-dollars per 1,000 requests */
	PRICE_RATE_MAX
};

struct price_row {
	char pattern[128];
	int64_t effective_from_ms; /* INT64_MIN when empty */
	int64_t rate[PRICE_RATE_MAX]; /* micro-dollars per million; -1 when empty */
	uint64_t lc_threshold;        /* 0: no long-context tier */
	uint64_t fast_micro;          /* fast multiplier x 1e6; 1e6 when empty */
};

struct price_book {
	struct price_row *rows;
	size_t n;
};

/*
 * price_book_parse(buf, len, name, ret_book): read the CSV price book
 * (columns of common/prices.csv). Every bad row is logged as
 * "name:line: message"; returns the number of errors (rows kept: the good ones).
 */
int price_book_parse(const char *buf, size_t len, const char *name, struct price_book *ret_book);

/* price_book_finish(b): free; accepts a zeroed book. */
void price_book_finish(struct price_book *b);

/* price_book_builtin(ret_book): the price book compiled into the agent. */
int price_book_builtin(struct price_book *ret_book);

/*
 * price_lookup(b, model, ts_ms): the row for the raw model name at time
 * ts_ms, or NULL (unpriced). Exactly the database's rule (case-sensitive
 * glob, longest pattern wins, latest effective row): the local report must
 * show what finance will see, so a name the book does not match, such as a
 * Bedrock "us.anthropic.claude-..." id, is unpriced here too until the
 * book has a pattern for it.
 */
const struct price_row *price_lookup(const struct price_book *b, const char *model, int64_t ts_ms);


/*
 * price_cost(row, tok, speed, ret_pico): the cost of one event under row.
 * tok holds the event's buckets (enum event_bucket).
 */
void price_cost(const struct price_row *row, const uint64_t tok[EVENT_BUCKET_MAX],
		const char *speed, price_pico *ret_pico);

/* price_format(pico, ret_buf, size, decimals): "12.345678" (rounded half up). */
void price_format(price_pico pico, char *ret_buf, size_t size, int decimals);

/* price_parse_decimal(s, scale_digits, ret): "18.75" x 10^scale_digits, exact. 0 or -EINVAL. */
int price_parse_decimal(const char *s, int scale_digits, int64_t *ret);

#endif
