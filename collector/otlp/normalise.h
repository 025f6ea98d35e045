/*
 * normalise.h: inside otlp/: what normalise.c (the dispatcher) shares with
 * the per-tool normalisers normalise-<tool>.c. Each of those reads only the
 * allow-listed fields of decode.h's struct otlp_fields, never a body.
 */
#ifndef AM_COLLECTOR_OTLP_NORMALISE_H
#define AM_COLLECTOR_OTLP_NORMALISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* ActionKind and ActionDecision of proto/aimeter/v1/telemetry.proto. */
enum { NK_EDIT = 1, NK_WRITE, NK_SHELL, NK_COMMIT, NK_PULL_REQUEST, NK_SUBAGENT, NK_SKILL,
       NK_MCP, NK_WEB, NK_OTHER };
enum { ND_UNKNOWN, ND_ACCEPTED, ND_REJECTED, ND_ERROR };

/* A tool's built-in tool name and its action kind. */
struct normalise_kind {
	const char *name;
	int kind;
};

/*
 * normalise_kind_lookup(table, n, name, ret_builtin): name's kind in table,
 * *ret_builtin true; else NK_OTHER, *ret_builtin false.
 */
int normalise_kind_lookup(const struct normalise_kind *table, size_t n, const char *name,
			  bool *ret_builtin);

/* The per-tool normalisers: 0, or -ENOMEM. */
int normalise_claude_log(const struct otlp_fields *f, struct otlp_result *res);
int normalise_codex_log(const struct otlp_fields *f, struct otlp_result *res);
int normalise_gemini_log(const struct otlp_fields *f, struct otlp_result *res);
int normalise_genai_span(const struct otlp_fields *f, const char *tool, struct otlp_result *res);

/* normalise_is(f, k, s): the field k was sent and equals s. */
bool normalise_is(const struct otlp_fields *f, enum otlp_key k, const char *s);

/*
 * normalise_event_is(f, service_prefix, long_name): the record's event name
 * is long_name ("claude_code.api_request"), or its part after the first dot
 * while service.name starts with service_prefix.
 */
bool normalise_event_is(const struct otlp_fields *f, const char *service_prefix,
			const char *long_name);

/* normalise_count(f, k, ret): a token count sent as an int, a double or a string; -EINVAL. */
int normalise_count(const struct otlp_fields *f, enum otlp_key k, uint64_t *ret);

/* normalise_time_ms(f, ret): event.timestamp, else the record's time; -EINVAL for none. */
int normalise_time_ms(const struct otlp_fields *f, int64_t *ret);

/* normalise_user(f): user.email, else user.account_uuid, else user.account_id, else "". */
const char *normalise_user(const struct otlp_fields *f);

/*
 * normalise_record_id(f, tool, ret_id): the id of a record whose sender gives
 * it none: from all its attributes and its time, so a retried export gives
 * the same id (docs/otlp.md).
 */
void normalise_record_id(const struct otlp_fields *f, const char *tool, uint8_t ret_id[16]);

/*
 * normalise_call(f, tool, id, model, input, output, cache_read, cache_creation, res):
 * one model call into res->calls (a reject when the record has no time).
 */
int normalise_call(const struct otlp_fields *f, const char *tool, const uint8_t id[16],
		   const char *model, uint64_t input, uint64_t output, uint64_t cache_read,
		   uint64_t cache_creation, struct otlp_result *res);

/*
 * normalise_action(f, tool, call_id, name, kind, decision, res): one tool call
 * into res->actions, its id the agent's ("action:<call_id>"), or from the
 * record (normalise_record_id) when call_id is "". name is kept only when it
 * is a plain identifier (a built-in tool); anything else becomes the kind's
 * word, so no MCP server, skill or path name is ever stored.
 */
int normalise_action(const struct otlp_fields *f, const char *tool, const char *call_id,
		     const char *name, int kind, int decision, struct otlp_result *res);

#endif
