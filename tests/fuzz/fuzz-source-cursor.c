/*
 * fuzz-source-cursor.c: untrusted cursorDiskKV rows through the row parser
 * (bubbles, conversations): the input's first line is the key, the rest
 * its value. The database file itself is SQLite's to parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "source-cursor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc;
	struct cursor_obs o;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t key_len = nl != NULL ? (size_t)(nl - data) : size;
	size_t off = nl != NULL ? key_len + 1 : size;

	json_doc_init(&doc);
	(void)cursor_row_parse(&doc, (const char *)data, key_len, (const char *)data + off,
			       size - off, &o);
	json_doc_finish(&doc);
	return 0;
}
