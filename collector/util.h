/* util.h: small helpers shared by the collector's modules. */
#ifndef AM_COLLECTOR_UTIL_H
#define AM_COLLECTOR_UTIL_H

#include <stddef.h>

/* container_of(ptr, type, member): the struct that embeds *ptr (libuv style). */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

#endif
