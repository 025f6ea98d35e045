/* test-common-clock.c: the clocks agree with the system's, and container_of. */
#include <time.h>

#include "clock.h"
#include "macros.h"
#include "test.h"

static int64_t
realtime_ms(void)
{
	struct timespec ts;

	timespec_get(&ts, TIME_UTC);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST(wall_ms_is_the_epoch_clock)
{
	/* Not time(): glibc reads it from the coarse clock, which can lag
	 * CLOCK_REALTIME by a tick and made this test fail now and then. */
	int64_t before = realtime_ms(), ms = clock_wall_ms();
	int64_t after = realtime_ms();

	ASSERT_GE(ms, before);
	ASSERT_LE(ms, after);
}

TEST(monotonic_never_goes_back)
{
	uint64_t a = clock_mono_ns(), b = clock_mono_ns();
	uint64_t ms = clock_mono_ms(), ns = clock_mono_ns();

	ASSERT(b >= a);
	ASSERT(ns / 1000000u >= ms);
}

struct outer {
	int a;
	double b;
	char c;
};

TEST(container_of_finds_the_outer_struct)
{
	struct outer o;

	ASSERT(container_of(&o.c, struct outer, c) == &o);
	ASSERT(container_of(&o.b, struct outer, b) == &o);
	ASSERT(container_of(&o.a, struct outer, a) == &o);
}

int
main(void)
{
	RUN(wall_ms_is_the_epoch_clock);
	RUN(monotonic_never_goes_back);
	RUN(container_of_finds_the_outer_struct);
	return 0;
}
