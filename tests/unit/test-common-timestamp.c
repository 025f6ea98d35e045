/* test-common-timestamp.c: RFC 3339 parsing, fractions and offsets. */
#include <errno.h>

#include "test.h"
#include "timestamp.h"

TEST(parses_utc_and_offsets)
{
	int64_t ms;

	ASSERT_EQ(ts_parse_ms("1970-01-01T00:00:00Z", &ms), 0);
	ASSERT_EQ(ms, 0);
	ASSERT_EQ(ts_parse_ms("2026-09-14T16:02:11.204Z", &ms), 0);
	ASSERT_EQ(ms, 1789401731204LL);
	ASSERT_EQ(ts_parse_ms("2026-09-14T18:02:11.2+02:00", &ms), 0);
	ASSERT_EQ(ms, 1789401731200LL);
	ASSERT_EQ(ts_parse_ms("2026-09-14 16:02:11.204999z", &ms), 0);
	ASSERT_EQ(ms, 1789401731204LL);
	ASSERT_EQ(ts_parse_ms("1969-12-31T23:59:59Z", &ms), 0);
	ASSERT_EQ(ms, -1000);
}

TEST(refuses_bad_text)
{
	int64_t ms;

	ASSERT_EQ(ts_parse_ms("", &ms), -EINVAL);
	ASSERT_EQ(ts_parse_ms("2026-09-14T16:02:11", &ms), -EINVAL);      /* no zone */
	ASSERT_EQ(ts_parse_ms("2026-13-14T16:02:11Z", &ms), -EINVAL);     /* month */
	ASSERT_EQ(ts_parse_ms("2026-09-14T24:02:11Z", &ms), -EINVAL);     /* hour */
	ASSERT_EQ(ts_parse_ms("2026-09-14T16:02:11.Z", &ms), -EINVAL);    /* empty fraction */
	ASSERT_EQ(ts_parse_ms("2026-09-14T16:02:11Zjunk", &ms), -EINVAL); /* trailing */
	ASSERT_EQ(ts_parse_ms("2026-09-14T16:02:11+0200", &ms), -EINVAL); /* offset form */
}

TEST(days_from_civil)
{
	ASSERT_EQ(ts_days_from_civil(1970, 1, 1), 0);
	ASSERT_EQ(ts_days_from_civil(2000, 3, 1), 11017);
	ASSERT_EQ(ts_days_from_civil(1969, 12, 31), -1);
}

int
main(void)
{
	RUN(parses_utc_and_offsets);
	RUN(refuses_bad_text);
	RUN(days_from_civil);
	return 0;
}
