/*
 * fuzz-source-amp.c: untrusted Amp thread documents through the document
 * parser (jsmn, json_next over arrays, ledger and message events) and
 * through the whole source (scan_read's whole-file path, the ledger).
 */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz-source.h"
#include "json.h"
#include "source-amp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
drop(void *ctx, const struct amp_obs *o)
{
	(void)ctx;
	(void)o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc;

	json_doc_init(&doc);
	(void)amp_doc_parse(&doc, (const char *)data, size, drop, NULL);
	json_doc_finish(&doc);
	fuzz_read_as(EVENT_TOOL_AMP, "threads/T-x.json", data, size);
	return 0;
}
