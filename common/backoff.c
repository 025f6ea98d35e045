/* backoff.c: exponential backoff with full jitter; see backoff.h. */
#include "backoff.h"

#include <limits.h>
#include <stddef.h>
#include <sys/random.h>
#include <sys/types.h>
#include <unistd.h>

#include "clock.h"

void
backoff_init(struct backoff *b, const struct backoff_policy *policy, backoff_random_fn random,
	     void *arg)
{
	b->policy = *policy;
	b->attempt = 0;
	b->random = random != NULL ? random : backoff_random;
	b->random_arg = arg;
}

uint64_t
backoff_ceiling(const struct backoff_policy *policy, unsigned attempt)
{
	uint64_t c = policy->base_ms;

	/* doubling stops at the cap, so a long outage costs no more than 64 steps */
	for (unsigned i = 0; i < attempt && c > 0 && c < policy->cap_ms; i++) {
		c = c > UINT64_MAX / 2 ? UINT64_MAX : c * 2;
	}
	return c < policy->cap_ms ? c : policy->cap_ms;
}

uint64_t
backoff_next(struct backoff *b)
{
	uint64_t lo = b->policy.min_ms, hi = backoff_ceiling(&b->policy, b->attempt);
	uint64_t span, v;

	if (b->attempt < UINT_MAX) {
		b->attempt++; /* past that, the ceiling has long been the cap */
	}
	if (hi <= lo) {
		return lo;
	}
	span = hi - lo;
	v = b->random(b->random_arg);
	/* the modulo's bias is below span / 2^64: nothing for waits in ms */
	return lo + (span == UINT64_MAX ? v : v % (span + 1));
}

void
backoff_reset(struct backoff *b)
{
	b->attempt = 0;
}

unsigned
backoff_attempts(const struct backoff *b)
{
	return b->attempt;
}

uint64_t
backoff_random(void *arg)
{
	uint64_t v = 0;

	(void)arg;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) != (ssize_t)sizeof(v)) {
		/* no entropy yet (early boot): jitter only needs to differ between processes */
		v = (uint64_t)clock_mono_ns() * 6364136223846793005ull + (uint64_t)getpid();
	}
	return v;
}
