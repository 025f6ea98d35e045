/* source.c: the table of sources; see source.h. */
#include "source.h"

#include <stdio.h>
#include <string.h>

#include "source-amp.h"
#include "source-claude.h"
#include "source-codex.h"
#include "source-copilot.h"
#include "source-cursor.h"
#include "source-gemini.h"
#include "source-opencode.h"
#include "source-qwen.h"

const struct source_ops *const source_table[EVENT_TOOL_MAX] = {
	[EVENT_TOOL_CLAUDE] = &source_claude,
	[EVENT_TOOL_CODEX] = &source_codex,
	[EVENT_TOOL_COPILOT] = &source_copilot,
	[EVENT_TOOL_AMP] = &source_amp,
	[EVENT_TOOL_GEMINI] = &source_gemini,
	[EVENT_TOOL_QWEN] = &source_qwen,
	[EVENT_TOOL_OPENCODE] = &source_opencode,
	[EVENT_TOOL_CURSOR] = &source_cursor,
};

const struct source_ops *
source_get(enum event_tool tool)
{
	return (unsigned)tool < EVENT_TOOL_MAX ? source_table[tool] : NULL;
}

int
source_string_key(const void *key_src, const struct source_file *file, uint64_t off, char *ret,
		  size_t size)
{
	int n = snprintf(ret, size, "%s", (const char *)key_src);

	(void)file;
	(void)off;
	return n < 0 || (size_t)n >= size ? -1 : n;
}

bool
source_whole_file(const struct source_ops *src, const char *path)
{
	size_t n = strlen(path), k = src->whole_suffix != NULL ? strlen(src->whole_suffix) : 0;

	return src->whole_file ||
	       (k > 0 && n >= k && memcmp(path + n - k, src->whole_suffix, k) == 0);
}
