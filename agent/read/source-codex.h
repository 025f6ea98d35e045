/*
 * source-codex.h: Codex CLI rollouts (spec section 3).
 *
 * Roots: $CODEX_HOME, else ~/.codex; below a root, sessions/ and
 * archived_sessions/, rollout-*.jsonl and rollout-*.jsonl.zst. Billing
 * from auth.json.
 *
 * Per file, a running state: the model of the latest turn_context, the
 * previous total_token_usage, the thread id and where the project label
 * comes from. A token_count whose totals advanced yields one observation
 * whose buckets are the delta; one whose totals did not advance (a re-emit)
 * or whose info is null yields nothing. Totals that go backwards are a
 * reset: last_token_usage is the delta then. In a thread_spawn sub-agent
 * file, token_counts older than the file's session_meta are the parent's
 * replayed history: they set the baseline and are not counted.
 *
 * Cache writes (cache_write_input_tokens, Codex 0.16x) are a part of
 * input_tokens, as cached_input_tokens is: uncached input is input minus
 * both. The service tier is the thread's configured one, from the latest
 * event_msg thread_settings_applied (thread_settings.service_tier; written
 * at each start and resume; absent is standard); "fast" is priority.
 */
#ifndef AM_AGENT_SOURCE_CODEX_H
#define AM_AGENT_SOURCE_CODEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"
#include "project.h"
#include "source.h"

extern const struct source_ops source_codex;

enum codex_total { CODEX_IN, CODEX_CACHED, CODEX_OUT, CODEX_REASONING, CODEX_TOTAL, CODEX_TOTAL_MAX };

/* The service tiers priced apart (any other name is the standard rate). */
enum codex_tier { CODEX_TIER_STANDARD, CODEX_TIER_PRIORITY, CODEX_TIER_FLEX, CODEX_TIER_MAX };

/*
 * Per-file running state (the cursor state of the source); zero it for a
 * file read from its start. cwd and remote stay in memory: saved state
 * holds the project label they produce instead.
 */
struct codex_file {
	char model[128];
	char session[80];
	char cwd[1024];
	char remote[1024];
	char label[PROJECT_LABEL_MAX];
	int64_t start_ms; /* session_meta timestamp, 0 if none */
	bool thread_spawn;
	bool subagent; /* session_meta.source is an object with a subagent key */
	char ws_ts[40]; /* web_search_call items: the last timestamp and how many had it */
	uint32_t ws_n;
	bool has_prev;
	uint8_t tier;	 /* enum codex_tier in force */
	bool cw_unknown; /* state saved before prev_cache_write was kept */
	uint64_t prev[CODEX_TOTAL_MAX];
	uint64_t prev_cache_write; /* total_token_usage.cache_write_input_tokens */
};

enum codex_line {
	CODEX_LINE_OTHER,     /* ignored */
	CODEX_LINE_META,      /* session_meta or turn_context: state updated */
	CODEX_LINE_EVENT,     /* an observation */
	CODEX_LINE_UNCHANGED, /* token_count whose totals did not advance */
	CODEX_LINE_INFO_NULL, /* token_count with info null */
	CODEX_LINE_REPLAY,    /* parent history in a sub-agent file: baseline only */
	CODEX_LINE_INVALID,   /* not JSON */
	CODEX_LINE_BAD,       /* token_count with bad fields */
	CODEX_LINE_MAX
};

struct codex_obs {
	char key[192]; /* dedup key: "<ts>|<in>|<cached>|<out>|<reasoning>|<total>" */
	int64_t ts_ms;
	uint64_t tok[EVENT_BUCKET_MAX];
	const char *tier; /* the service tier: "", "priority" or "flex" (static) */
};

/* codex_line_wanted(line, len): the byte prefilter (token_count, turn_context, session_meta,
 * thread_settings_applied). */
bool codex_line_wanted(const char *line, size_t len);

/* codex_line_parse(doc, line, len, file, ret_obs): one complete line. */
enum codex_line codex_line_parse(struct json_doc *doc, const char *line, size_t len,
				 struct codex_file *file, struct codex_obs *ret_obs);

#endif
