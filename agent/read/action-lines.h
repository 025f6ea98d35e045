/*
 * action-lines.h: counting the lines an edit adds and removes, and the
 * extension of the file it targets (docs/actions.md, "Counting lines").
 *
 * Pure functions over borrowed text: no allocation except trim's line
 * tables, nothing kept. Every count is of lines split at LF, a final LF
 * ending the last line rather than starting a new one; CR is text.
 */
#ifndef AM_AGENT_ACTION_LINES_H
#define AM_AGENT_ACTION_LINES_H

#include <stddef.h>
#include <stdint.h>

/* action_lines(s, n): lines of s[0..n): "" 0, "a" 1, "a\n" 1, "a\n\n" 2. */
uint32_t action_lines(const char *s, size_t n);

/*
 * action_trim(old, old_n, new, new_n, ret_added, ret_removed): drop the
 * longest run of equal leading lines, then of equal trailing lines among
 * the rest; what remains of new is added, of old removed. 0 or -ENOMEM.
 */
int action_trim(const char *old, size_t old_n, const char *new_, size_t new_n,
		uint32_t *ret_added, uint32_t *ret_removed);

/*
 * action_patch_lines(p, n, ret_added, ret_removed, ret_first, ret_first_n):
 * count a Codex "*** Begin Patch" text: '+' lines of Add sections, '+' and
 * '-' lines of Update sections. *ret_first (may be NULL) borrows the path of
 * the first file section, for its extension (NULL when there is none).
 */
void action_patch_lines(const char *p, size_t n, uint32_t *ret_added, uint32_t *ret_removed,
			const char **ret_first, size_t *ret_first_n);

/*
 * action_file_ext(path, n, ret_ext): the lower-cased extension of path's
 * last component, 1 to 10 characters of [A-Za-z0-9_+-], else "".
 */
void action_file_ext(const char *path, size_t n, char ret_ext[12]);

#endif
