/* test-writepath.c: am_stage COPY rows, with and without the caller's reject_reason. */
#include <errno.h>
#include <string.h>

#include "test.h"
#include "writepath.h"

/* The fields of the last row in b, split at tabs (b is modified). */
static int
fields(struct writepath_buf *b, char **ret, int max)
{
	int n = 0;
	char *p = b->data, *nl = strchr(p, '\n');

	ASSERT_NOT_NULL(nl);
	*nl = '\0';
	while (n < max) {
		ret[n++] = p;
		p = strchr(p, '\t');
		if (p == NULL) {
			break;
		}
		*p++ = '\0';
	}
	return n;
}

static void
event(am_usage_event *ev, uint8_t id[16])
{
	aimeter__v1__usage_event__init(ev);
	memset(id, 0xab, 16);
	ev->event_id.data = id;
	ev->event_id.len = 16;
	ev->ts_ms = 1791000000000;
	ev->tool = "claude-code";
	ev->model = "m";
	ev->input_tokens = 5;
}

TEST(no_reason_is_null)
{
	struct writepath_buf b;
	am_usage_event ev;
	uint8_t id[16];
	char *f[32];

	event(&ev, id);
	writepath_buf_init(&b, 1 << 16);
	ASSERT_EQ(writepath_format_event(&b, 0, 3, &ev, NULL, NULL, NULL), 0);
	/* 21 columns, as WRITEPATH_SQL_COPY_EVENTS lists them; reject_reason last. */
	ASSERT_EQ(fields(&b, f, 32), 21);
	ASSERT_STR_EQ(f[1], "3");
	ASSERT_STR_EQ(f[4], "claude-code");
	ASSERT_STR_EQ(f[20], "\\N");
	writepath_buf_reset(&b);
	ASSERT_EQ(writepath_format_event(&b, 0, 3, &ev, NULL, NULL, ""), 0);
	ASSERT_EQ(fields(&b, f, 32), 21);
	ASSERT_STR_EQ(f[20], "\\N");
	writepath_buf_finish(&b);
}

TEST(reason_is_last_and_escaped)
{
	struct writepath_buf b;
	am_usage_event ev;
	uint8_t id[16];
	char *f[32];

	event(&ev, id);
	writepath_buf_init(&b, 1 << 16);
	ASSERT_EQ(writepath_format_event(&b, 1, 0, &ev, NULL, NULL, "bad_timestamp"), 0);
	ASSERT_EQ(fields(&b, f, 32), 21);
	ASSERT_STR_EQ(f[0], "1");
	ASSERT_STR_EQ(f[20], "bad_timestamp");
	writepath_buf_reset(&b);
	/* Whatever the caller passes stays one field. */
	ASSERT_EQ(writepath_format_event(&b, 1, 0, &ev, NULL, NULL, "a\tb\nc"), 0);
	ASSERT_EQ(fields(&b, f, 32), 21);
	ASSERT_STR_EQ(f[20], "a\\tb\\nc");
	writepath_buf_finish(&b);
}

TEST(copy_lists_the_column)
{
	ASSERT(strstr(WRITEPATH_SQL_COPY_EVENTS, "service_tier, reject_reason) FROM STDIN") != NULL);
	ASSERT(strstr(WRITEPATH_SQL_INGEST, "rejections, new_identities") != NULL);
}

TEST(bounded)
{
	struct writepath_buf b;
	am_usage_event ev;
	uint8_t id[16];

	event(&ev, id);
	writepath_buf_init(&b, 200);
	ASSERT_EQ(writepath_format_event(&b, 0, 0, &ev, NULL, NULL, "x"), -ENOBUFS);
	ASSERT_EQ(b.len, 0);
	writepath_buf_finish(&b);
}

int
main(void)
{
	RUN(no_reason_is_null);
	RUN(reason_is_last_and_escaped);
	RUN(copy_lists_the_column);
	RUN(bounded);
	return 0;
}
