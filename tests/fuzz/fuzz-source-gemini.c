/*
 * fuzz-source-gemini.c: untrusted Gemini CLI chat lines through the line
 * parser (headers, messages, $set checkpoints), as a legacy whole document
 * through the document parser, and through the whole source as both kinds
 * of file (scan_read, its cursor state, the ledger).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz-source.h"
#include "json.h"
#include "source-gemini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
drop(void *ctx, const struct gemini_obs *o)
{
	(void)ctx;
	(void)o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc;
	struct gemini_file f;

	memset(&f, 0, sizeof(f));
	json_doc_init(&doc);
	(void)gemini_line_parse(&doc, (const char *)data, size, &f, drop, NULL);
	(void)gemini_doc_parse(&doc, (const char *)data, size, &f, drop, NULL);
	json_doc_finish(&doc);
	fuzz_read_as(EVENT_TOOL_GEMINI, "tmp/p/chats/session-x.jsonl", data, size);
	fuzz_read_as(EVENT_TOOL_GEMINI, "tmp/p/chats/session-x.json", data, size);
	return 0;
}
