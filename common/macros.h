/* macros.h: tiny macros every module needs, defined once.
 *
 * Error convention for everything in common/ (and the code that calls it):
 * functions return 0 (or a count) on success and -errno on failure; where a
 * caller prints a reason, the function also takes `char *err, size_t err_len`
 * and writes one line of text there (never NULL-terminated garbage).
 */
#ifndef AM_COMMON_MACROS_H
#define AM_COMMON_MACROS_H

#include <stddef.h>

/* container_of(ptr, type, member): the struct that embeds *ptr (libuv style). */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
