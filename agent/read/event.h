/*
 * event.h: one usage event (one billed model call) as the agent holds it,
 * and its text forms. Strings are interned in the ledger (see ledger.h).
 */
#ifndef AM_AGENT_EVENT_H
#define AM_AGENT_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum event_tool {
	EVENT_TOOL_CLAUDE,
	EVENT_TOOL_CODEX,
	EVENT_TOOL_COPILOT,
	EVENT_TOOL_AMP,
	EVENT_TOOL_GEMINI,
	EVENT_TOOL_QWEN,
	EVENT_TOOL_OPENCODE,
	EVENT_TOOL_CURSOR,
	EVENT_TOOL_MAX
};

/* How the calls of a root are paid for (the wire's BillingMode, by name in JSONL). */
enum event_billing {
	EVENT_BILLING_UNKNOWN,
	EVENT_BILLING_SUBSCRIPTION,
	EVENT_BILLING_API,
	EVENT_BILLING_CLOUD,
	EVENT_BILLING_MAX
};

/* Token buckets, in the order of the JSONL fields. */
enum event_bucket {
	EVENT_INPUT,          /* uncached input */
	EVENT_OUTPUT,         /* includes reasoning */
	EVENT_CACHE_WRITE_5M,
	EVENT_CACHE_WRITE_1H,
	EVENT_CACHE_READ,
	EVENT_REASONING,      /* informational subset of output */
	EVENT_WEB_SEARCH,     /* requests, not tokens */
	EVENT_BUCKET_MAX
};

/*
 * Bounds no real call crosses; a usage line outside them is dropped (and
 * counted) by the agent, so that one user's corrupt or hostile line never
 * travels in a batch with other users' events. The time must be after the
 * epoch (the wire wants ts_ms > 0) and before 2100: a fixed bound, so a
 * scan's output does not depend on the clock. 10^9 tokens in one bucket of
 * one call is 500 times the largest context window sold today (2M), yet a
 * day of such calls still sums far inside 64 bits.
 */
#define EVENT_TS_MIN_MS 1LL
#define EVENT_TS_MAX_MS 4102444800000LL /* 2100-01-01T00:00:00Z */
#define EVENT_TOKENS_MAX 1000000000ull

/* event_plausible(ts_ms, tok): whether a call at ts_ms with counts tok is within the bounds. */
bool event_plausible(int64_t ts_ms, const uint64_t tok[EVENT_BUCKET_MAX]);

/* event_tool_name(tool): its source's name ("claude-code", "codex"), or "unknown". */
const char *event_tool_name(enum event_tool tool);

/* event_billing_name(b): "unknown", "subscription", "api" or "cloud". */
const char *event_billing_name(enum event_billing b);

/* event_bucket_field(b): the JSONL field name of bucket b. */
const char *event_bucket_field(enum event_bucket b);

/*
 * event_ts_parse(s, ret_ms): an RFC 3339 time ("2026-09-14T16:02:11.204Z",
 * fraction and offset optional) to milliseconds since the epoch (UTC).
 * Returns 0 or -EINVAL.
 */
int event_ts_parse(const char *s, int64_t *ret_ms);

/* event_ts_format(ms, ret_buf): "YYYY-MM-DDTHH:MM:SS.mmmZ" (25 bytes with NUL). */
void event_ts_format(int64_t ms, char ret_buf[32]);

/* event_days_from_civil(y, m, d): days since 1970-01-01 (proleptic Gregorian). */
int64_t event_days_from_civil(int64_t y, unsigned m, unsigned d);

/*
 * event_printable(s, ret_buf, size): s for a terminal or a log, with C0
 * and C1 control characters and DEL replaced by '?': model names, sessions
 * and paths come from users' files, and in all-users mode one user must not
 * drive the administrator's terminal. Returns ret_buf.
 */
const char *event_printable(const char *s, char *ret_buf, size_t size);


#endif
