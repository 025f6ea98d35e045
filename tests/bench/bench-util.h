/*
 * bench-util.h: what every bench needs, whatever it measures: a monotonic
 * clock and a small, fast, deterministic random number generator, so runs
 * can be compared with each other.
 */
#ifndef AM_BENCH_UTIL_H
#define AM_BENCH_UTIL_H

#include <stdint.h>

/* bench_now(): seconds on the monotonic clock. */
double bench_now(void);

/* bench_rnd(s): the next value of the xorshift64 sequence in *s (never 0). */
uint64_t bench_rnd(uint64_t *s);

#endif
