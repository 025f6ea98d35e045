/*
 * backoff.h: how long to wait before the next retry.
 *
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential
 * Backoff And Jitter", 2015): the ceiling doubles with each failed attempt
 * from base_ms up to cap_ms, and each wait is drawn uniformly from
 * [min_ms, ceiling], so many clients that failed together spread out instead
 * of retrying in step. min_ms keeps a retry from spinning; when it exceeds
 * the ceiling, the wait is min_ms.
 *
 * The random source is injected, so tests see fixed sequences; NULL uses
 * getrandom(2). Pure arithmetic, no clock and no timer: the caller starts
 * its own timer (uv_timer_start) with the value backoff_next returns.
 */
#ifndef AM_COMMON_BACKOFF_H
#define AM_COMMON_BACKOFF_H

#include <stdint.h>

struct backoff_policy {
	uint64_t base_ms; /* ceiling of the first wait */
	uint64_t cap_ms;  /* largest ceiling */
	uint64_t min_ms;  /* shortest wait */
};

/* A source of uniformly random 64-bit values. */
typedef uint64_t (*backoff_random_fn)(void *arg);

struct backoff {
	struct backoff_policy policy;
	unsigned attempt; /* waits handed out since the last reset */
	backoff_random_fn random;
	void *random_arg;
};

/*
 * backoff_init(b, policy, random, arg): attempt 0; policy is copied. random
 * (called with arg) may be NULL for backoff_random.
 */
void backoff_init(struct backoff *b, const struct backoff_policy *policy, backoff_random_fn random,
		  void *arg);

/*
 * backoff_ceiling(policy, attempt): min(cap_ms, base_ms * 2^attempt),
 * saturating instead of overflowing for any attempt.
 */
uint64_t backoff_ceiling(const struct backoff_policy *policy, unsigned attempt);

/* backoff_next(b): the next wait in ms, in [min_ms, max(min_ms, ceiling)]; counts an attempt. */
uint64_t backoff_next(struct backoff *b);

/* backoff_reset(b): after a success, the next wait starts from base_ms again. */
void backoff_reset(struct backoff *b);

/* backoff_attempts(b): waits handed out since init or the last reset. */
unsigned backoff_attempts(const struct backoff *b);

/* backoff_random(arg): getrandom(2), or a clock-seeded mix when it fails; arg is unused. */
uint64_t backoff_random(void *arg);

#endif
