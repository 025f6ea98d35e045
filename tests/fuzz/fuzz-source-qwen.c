/*
 * fuzz-source-qwen.c: untrusted Qwen Code chat lines through the line
 * parser (api_response telemetry) and through the whole source
 * (scan_read, project labels from cwd, the ledger).
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz-source.h"
#include "json.h"
#include "source-qwen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc;
	struct qwen_obs o;

	json_doc_init(&doc);
	(void)qwen_line_parse(&doc, (const char *)data, size, &o);
	json_doc_finish(&doc);
	fuzz_read_as(EVENT_TOOL_QWEN, "projects/p/chats/s.jsonl", data, size);
	return 0;
}
