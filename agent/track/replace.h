/* replace.h: replace a small state file atomically (write, fsync, rename, fsync the directory). */
#ifndef AM_AGENT_REPLACE_H
#define AM_AGENT_REPLACE_H

#include <stddef.h>

/*
 * replace_file(dir, name, head, head_len, body, body_len): dir/name holds
 * head then body, or (on failure) what it held before; mode 0600. Returns
 * 0 or a negative errno.
 */
int replace_file(const char *dir, const char *name, const void *head, size_t head_len,
		 const void *body, size_t body_len);

#endif
