/*
 * fuzz-source-copilot.c: untrusted Copilot CLI events.jsonl bytes through
 * the record parser (jsmn, validation, counters, keys) and through the
 * whole source (scan_read: session state, origins, the ledger).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "project.h"
#include "scan.h"
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

/* The bytes as one events.jsonl read by the source, through a pipe. */
static void
source(const uint8_t *data, size_t size)
{
	struct project proj;
	struct scan s;
	struct scan_cursor *cur = malloc(sizeof(*cur));
	int fds[2];

	if (cur == NULL || size >= 60000 || pipe(fds) != 0) {
		free(cur);
		return;
	}
	if (write(fds[1], data, size) != (ssize_t)size) {
		close(fds[0]);
		close(fds[1]);
		free(cur);
		return;
	}
	close(fds[1]);
	project_init(&proj, PROJECT_NONE, NULL, 0);
	if (scan_init(&s, &proj) == 0 && scan_add_origin(&s, "u", EVENT_BILLING_SUBSCRIPTION) == 0) {
		scan_cursor_reset(cur);
		(void)scan_read(&s, EVENT_TOOL_COPILOT, "x", "session-state/s/events.jsonl", 0, fds[0],
				false, cur);
	}
	scan_finish(&s);
	project_finish(&proj);
	close(fds[0]);
	free(cur);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	lines((const char *)data, size);
	source(data, size);
	return 0;
}
