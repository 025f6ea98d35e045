/*
 * fuzz-source-copilot.c: untrusted Copilot CLI events.jsonl bytes through
 * the record parser (jsmn, validation, counters, keys) and through the
 * whole source (scan_read: session state, origins, the ledger).
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz-source.h"
#include "json.h"
#include "source-copilot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every line through copilot_line_parse, as the prefilter would pass it or not. */
static void
lines(const char *p, size_t size)
{
	struct json_doc doc;
	struct copilot_obs *o = malloc(sizeof(*o));
	size_t start = 0;

	if (o == NULL) {
		return;
	}
	json_doc_init(&doc);
	for (size_t i = 0; i <= size; i++) {
		if (i == size || p[i] == '\n') {
			(void)copilot_line_wanted(p + start, i - start);
			(void)copilot_line_parse(&doc, p + start, i - start, "s", o);
			start = i + 1;
		}
	}
	json_doc_finish(&doc);
	free(o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lines((const char *)data, size);
	fuzz_read_as(EVENT_TOOL_COPILOT, "session-state/s/events.jsonl", data, size);
	return 0;
}
