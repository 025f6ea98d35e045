/*
 * test-common-backoff.c: waits stay within [min, ceiling], the ceiling
 * doubles up to the cap, reset starts over, and huge attempt counts neither
 * overflow nor loop for long. A scripted random source makes it exact.
 */
#include <limits.h>
#include <stdint.h>

#include "backoff.h"
#include "test.h"

/* Hands out the values of a script in turn, then repeats the last. */
struct script {
	const uint64_t *v;
	size_t n, i;
};

static uint64_t
script_next(void *arg)
{
	struct script *s = arg;
	uint64_t v = s->v[s->i < s->n ? s->i : s->n - 1];

	s->i++;
	return v;
}

/* xorshift64: a repeatable stand-in for getrandom */
static uint64_t
xorshift(void *arg)
{
	uint64_t *x = arg;

	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

TEST(ceiling_doubles_to_the_cap)
{
	struct backoff_policy p = { .base_ms = 1000, .cap_ms = 300000, .min_ms = 100 };
	static const uint64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 64000, 128000,
					 256000, 300000, 300000 };

	for (unsigned a = 0; a < sizeof(want) / sizeof(want[0]); a++) {
		ASSERT_UINT_EQ(backoff_ceiling(&p, a), want[a]);
	}
}

TEST(extremes_of_the_random_source)
{
	static const uint64_t v[] = { 0, UINT64_MAX, 900, 901 };
	struct script s = { v, 4, 0 };
	struct backoff_policy p = { .base_ms = 1000, .cap_ms = 300000, .min_ms = 100 };
	struct backoff b;

	backoff_init(&b, &p, script_next, &s);
	/* 0 gives the floor; the span is [100, 1000], 901 values */
	ASSERT_UINT_EQ(backoff_next(&b), 100);
	/* UINT64_MAX % 1901 (span [100, 2000]) */
	ASSERT_UINT_EQ(backoff_next(&b), 100 + UINT64_MAX % 1901);
	ASSERT_UINT_EQ(backoff_next(&b), 100 + 900); /* [100, 4000] */
	ASSERT_UINT_EQ(backoff_next(&b), 100 + 901);
	ASSERT_EQ(backoff_attempts(&b), 4);
}

TEST(bounds_and_growth_over_many_draws)
{
	struct backoff_policy p = { .base_ms = 50, .cap_ms = 10000, .min_ms = 10 };
	uint64_t seed = 88172645463325252ull;
	struct backoff b;

	for (unsigned round = 0; round < 200; round++) {
		backoff_init(&b, &p, xorshift, &seed);
		for (unsigned a = 0; a < 20; a++) {
			uint64_t ceiling = backoff_ceiling(&p, a), w = backoff_next(&b);
			ASSERT_GE(w, 10);
			ASSERT_LE(w, ceiling);
			ASSERT_LE(w, 10000);
		}
	}
	/* the largest of many draws nears each ceiling: the range really grows */
	for (unsigned a = 0; a < 10; a++) {
		uint64_t most = 0;
		for (int i = 0; i < 500; i++) {
			backoff_init(&b, &p, xorshift, &seed);
			b.attempt = a;
			uint64_t w = backoff_next(&b);
			most = w > most ? w : most;
		}
		ASSERT_GE(most * 10, backoff_ceiling(&p, a) * 9);
	}
}

TEST(min_above_the_ceiling)
{
	/* the agent's tests shorten waits to a 10 ms base: the floor wins */
	static const uint64_t v[] = { 12345 };
	struct script s = { v, 1, 0 };
	struct backoff_policy p = { .base_ms = 10, .cap_ms = 40, .min_ms = 100 };
	struct backoff b;

	backoff_init(&b, &p, script_next, &s);
	for (int i = 0; i < 5; i++) {
		ASSERT_UINT_EQ(backoff_next(&b), 100);
	}
}

TEST(reset_starts_over)
{
	static const uint64_t v[] = { UINT64_MAX - 1 };
	struct script s = { v, 1, 0 };
	struct backoff_policy p = { .base_ms = 1024, .cap_ms = 1u << 20, .min_ms = 0 };
	struct backoff b;
	uint64_t first;

	backoff_init(&b, &p, script_next, &s);
	first = backoff_next(&b);
	for (int i = 0; i < 30; i++) {
		(void)backoff_next(&b);
	}
	ASSERT_EQ(backoff_attempts(&b), 31);
	backoff_reset(&b);
	ASSERT_EQ(backoff_attempts(&b), 0);
	ASSERT_UINT_EQ(backoff_next(&b), first);
	ASSERT_LE(first, 1024);
}

TEST(no_overflow_at_large_attempts)
{
	struct backoff_policy huge = { .base_ms = UINT64_MAX / 3, .cap_ms = UINT64_MAX, .min_ms = 0 };
	struct backoff_policy p = { .base_ms = 1000, .cap_ms = 300000, .min_ms = 100 };
	struct backoff_policy zero = { .base_ms = 0, .cap_ms = 300000, .min_ms = 5 };
	static const uint64_t v[] = { UINT64_MAX };
	struct script s = { v, 1, 0 };
	struct backoff b;

	/* doubling saturates instead of wrapping to a small ceiling */
	ASSERT_UINT_EQ(backoff_ceiling(&huge, 1), (UINT64_MAX / 3) * 2);
	ASSERT_UINT_EQ(backoff_ceiling(&huge, 2), UINT64_MAX);
	ASSERT_UINT_EQ(backoff_ceiling(&huge, UINT_MAX), UINT64_MAX);
	ASSERT_UINT_EQ(backoff_ceiling(&p, 64), 300000);
	ASSERT_UINT_EQ(backoff_ceiling(&p, UINT_MAX), 300000);
	/* a base of 0 must not loop UINT_MAX times */
	ASSERT_UINT_EQ(backoff_ceiling(&zero, UINT_MAX), 0);
	backoff_init(&b, &zero, script_next, &s);
	ASSERT_UINT_EQ(backoff_next(&b), 5);
	/* the whole uint64 range as the span */
	backoff_init(&b, &huge, script_next, &s);
	b.attempt = UINT_MAX;
	ASSERT_UINT_EQ(backoff_next(&b), UINT64_MAX);
	ASSERT_EQ(backoff_attempts(&b), UINT_MAX); /* the count stops, it does not wrap */
}

TEST(default_source)
{
	struct backoff_policy p = { .base_ms = 1000, .cap_ms = 2000, .min_ms = 100 };
	struct backoff b;

	backoff_init(&b, &p, NULL, NULL);
	for (int i = 0; i < 100; i++) {
		uint64_t w = backoff_next(&b);
		ASSERT_GE(w, 100);
		ASSERT_LE(w, 2000);
	}
}

int
main(void)
{
	RUN(ceiling_doubles_to_the_cap);
	RUN(extremes_of_the_random_source);
	RUN(bounds_and_growth_over_many_draws);
	RUN(min_above_the_ceiling);
	RUN(reset_starts_over);
	RUN(no_overflow_at_large_attempts);
	RUN(default_source);
	return 0;
}
