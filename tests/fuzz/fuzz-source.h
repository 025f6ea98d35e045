/*
 * fuzz-source.h: untrusted bytes as one file of a source, read by the
 * engine's scan_read (the source's read_line, its state, origins, the
 * ledger); shared by the sources' fuzz targets.
 */
#ifndef AM_FUZZ_SOURCE_H
#define AM_FUZZ_SOURCE_H

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "project.h"
#include "scan.h"

/*
 * fuzz_read_with(tool, rel, data, size, actions): data as the file rel of
 * tool, through a pipe; tool calls go to actions (NULL: not read).
 */
static inline void
fuzz_read_with(enum event_tool tool, const char *rel, const uint8_t *data, size_t size,
	       struct action_table *actions)
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
		s.actions = actions;
		scan_cursor_reset(cur);
		(void)scan_read(&s, tool, "x", rel, 0, fds[0], false, cur);
	}
	scan_finish(&s);
	project_finish(&proj);
	close(fds[0]);
	free(cur);
}

/* fuzz_read_as(tool, rel, data, size): fuzz_read_with, usage only. */
static inline void
fuzz_read_as(enum event_tool tool, const char *rel, const uint8_t *data, size_t size)
{
	fuzz_read_with(tool, rel, data, size, NULL);
}

#endif
