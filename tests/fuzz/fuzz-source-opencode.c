/*
 * fuzz-source-opencode.c: untrusted OpenCode message JSON through the
 * message parser (a legacy file, a 1.x message row, a 2.x session_message
 * row), through the whole source (scan_read's legacy-file path, the
 * ledger), and the same bytes as a saved cursor (the watermarks).
 */
#include <stdint.h>
#include <stdlib.h>

#include "blob.h"
#include "fuzz-source.h"
#include "json.h"
#include "source-opencode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct opencode_row rows[2] = {{"msg_1", "ses_1", NULL, 1},
					     {"msg_2", "ses_2", "assistant", 2}};
	struct opencode_obs *o = malloc(sizeof(*o));
	struct scan_cursor *cur = malloc(sizeof(*cur));
	struct json_doc doc;

	if (o != NULL && cur != NULL) {
		json_doc_init(&doc);
		(void)opencode_msg_parse(&doc, (const char *)data, size, NULL, o);
		for (int i = 0; i < 2; i++) {
			(void)opencode_msg_parse(&doc, (const char *)data, size, &rows[i], o);
		}
		json_doc_finish(&doc);
		struct blob_r r = {data, size, 0, false};
		scan_cursor_reset(cur);
		source_opencode.cursor_decode(cur, &r);
	}
	free(o);
	free(cur);
	fuzz_read_as(EVENT_TOOL_OPENCODE, "storage/message/ses_1/msg_1.json", data, size);
	return 0;
}
