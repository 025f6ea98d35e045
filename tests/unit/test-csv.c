/* test-csv.c: the RFC 4180 reader, including the errors callers report by line. */
#include "csv.h"
#include "test.h"

static int
next(struct csv_reader *r, char *err)
{
	return csv_next(r, err, 128);
}

TEST(quoted_fields_and_lines)
{
	static const char in[] = "identity,team\r\n\"a@x.com\",\"Team, \"\"A\"\"\"\n\n"
				 "\"multi\nline\",z\nlast,row";
	struct csv_reader r;
	char err[128];

	csv_init(&r, in, sizeof(in) - 1);
	ASSERT_EQ(next(&r, err), 1);
	ASSERT_EQ(r.line, 1);
	ASSERT_EQ(csv_column(&r, "team"), 1);
	ASSERT_EQ(next(&r, err), 1);
	ASSERT_EQ(r.line, 2);
	ASSERT_STR_EQ(r.fields[1], "Team, \"A\"");
	ASSERT_EQ(next(&r, err), 1);
	ASSERT_EQ(r.line, 4);
	ASSERT_STR_EQ(r.fields[0], "multi\nline");
	ASSERT_EQ(next(&r, err), 1);
	ASSERT_EQ(r.line, 6);
	ASSERT_EQ(r.n_fields, 2);
	ASSERT_STR_EQ(r.fields[1], "row");
	ASSERT_EQ(next(&r, err), 0);
	csv_finish(&r);
}

TEST(empty_fields)
{
	static const char in[] = "a,,\n";
	struct csv_reader r;
	char err[128];

	csv_init(&r, in, sizeof(in) - 1);
	ASSERT_EQ(next(&r, err), 1);
	ASSERT_EQ(r.n_fields, 3);
	ASSERT_STR_EQ(r.fields[1], "");
	ASSERT_STR_EQ(r.fields[2], "");
	csv_finish(&r);
}

TEST(errors)
{
	struct csv_reader r;
	char err[128];

	csv_init(&r, "ok\na,\"open", 10);
	ASSERT_EQ(next(&r, err), 1);
	ASSERT_EQ(next(&r, err), -1);
	ASSERT_EQ(r.line, 2);
	ASSERT_STR_EQ(err, "unterminated quoted field");
	csv_finish(&r);

	csv_init(&r, "a,b\"c\n", 6);
	ASSERT_EQ(next(&r, err), -1);
	csv_finish(&r);

	csv_init(&r, "\"a\"b\n", 5);
	ASSERT_EQ(next(&r, err), -1);
	csv_finish(&r);
}

TEST(bom_is_skipped)
{
	struct csv_reader r;
	char err[128];

	csv_init(&r, "\xef\xbb\xbfidentity\n", 13);
	ASSERT_EQ(next(&r, err), 1);
	ASSERT_STR_EQ(r.fields[0], "identity");
	csv_finish(&r);
}

int
main(void)
{
	RUN(quoted_fields_and_lines);
	RUN(empty_fields);
	RUN(errors);
	RUN(bom_is_skipped);
	return 0;
}
