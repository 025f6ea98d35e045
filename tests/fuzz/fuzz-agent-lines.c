/*
 * fuzz-agent-lines.c: untrusted log bytes through the line reader, the
 * prefilter's search (against memmem) and both tools' line parsers (the
 * one-pass JSON parser, field extraction, Codex state).
 */
#define _GNU_SOURCE /* memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "lines.h"
#include "source-claude.h"
#include "source-codex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc doc;
	struct codex_file cf;
	struct codex_obs co;
	struct claude_obs *obs = malloc(sizeof(*obs));
	const char *p = (const char *)data;
	size_t start = 0;

	if (obs == NULL) {
		return 0;
	}
	json_doc_init(&doc);
	memset(&cf, 0, sizeof(cf));
	for (size_t i = 0; i <= size; i++) {
		if (i == size || p[i] == '\n') {
			static const char *const needles[] = {"\"usage\"", "\"token_count\"", "ab", "usage"};
			char key[512];
			for (size_t k = 0; k < sizeof(needles) / sizeof(needles[0]); k++) {
				size_t n = strlen(needles[k]);
				if (lines_has(p + start, i - start, needles[k], n) !=
				    (memmem(p + start, i - start, needles[k], n) != NULL)) {
					abort();
				}
			}
			if (claude_line_parse(&doc, p + start, i - start, obs) == CLAUDE_LINE_USAGE) {
				(void)claude_dedup_key(obs, "projects/x/s.jsonl", start, key, sizeof(key));
			}
			(void)codex_line_wanted(p + start, i - start);
			(void)codex_line_parse(&doc, p + start, i - start, &cf, &co);
			start = i + 1;
		}
	}
	/* and the zstd line reader over the same bytes */
	int fds[2];
	if (size < 60000 && pipe(fds) == 0) {
		struct lines lr;
		const char *line;
		size_t len;
		uint64_t off;
		if (write(fds[1], data, size) == (ssize_t)size) {
			close(fds[1]);
			if (lines_init(&lr, fds[0], size > 4 && data[0] == 0x28, 0, 4096) == 0) {
				while (lines_next(&lr, &line, &len, &off) > 0) {
				}
				lines_finish(&lr);
			}
		} else {
			close(fds[1]);
		}
		close(fds[0]);
	}
	json_doc_finish(&doc);
	free(obs);
	return 0;
}
