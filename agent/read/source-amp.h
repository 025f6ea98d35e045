/*
 * source-amp.h: Amp threads (specs/more-tools.md, Amp; every point there is
 * unconfirmed: Amp cannot run against a loopback server, docs/tool-formats.md).
 *
 * Roots: $AMP_DATA_DIR, else ~/.local/share/amp; below
 * a root, threads/ recursively, every .json: one JSON document per thread,
 * rewritten whole as the thread grows (source_ops.whole_file).
 *
 * A thread with a usageLedger.events array: one event per ledger event, key
 * "<thread id>/ledger/<event id>", its time and model; input and output
 * from its tokens, cache writes and reads from the usage of the assistant
 * message whose messageId is its toMessageId. Messages add no events then.
 * A thread without a ledger: one event per assistant message with a usage
 * object, key "<thread id>/message/<messageId>", time usage.timestamp else
 * the message's; a usage with only totalTokens counts it as output. An
 * assistant message whose state.type is not "complete" may still change:
 * its event waits for the settle time. Amp bills in its own credits: "api".
 * Only ids, models, times and counters are copied out of a thread.
 */
#ifndef AM_AGENT_SOURCE_AMP_H
#define AM_AGENT_SOURCE_AMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "json.h"
#include "source.h"

extern const struct source_ops source_amp;

enum amp_doc {
	AMP_DOC_THREAD,  /* a thread: its events were handed out */
	AMP_DOC_OTHER,   /* valid JSON, not a thread */
	AMP_DOC_INVALID, /* not JSON (or caught half written) */
	AMP_DOC_MAX
};

struct amp_obs {
	char key[256];
	char model[128];
	char thread[128];
	int64_t ts_ms;
	bool final;
	uint64_t tok[EVENT_BUCKET_MAX];
};

/* amp_emit(ctx, obs): one event of a thread; bad: a usage with a bad time or counter (obs NULL). */
typedef void amp_emit(void *ctx, const struct amp_obs *obs);

/* amp_doc_parse(doc, buf, len, emit, ctx): a thread document; emit for each of its events. */
enum amp_doc amp_doc_parse(struct json_doc *doc, const char *buf, size_t len, amp_emit *emit,
			   void *ctx);

#endif
