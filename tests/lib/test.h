/*
 * test.h: typed assertions that print both operands (libuv task.h in small).
 * Each test program is its own process; a failed assertion aborts it.
 */
#ifndef AM_TEST_H
#define AM_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEST_FAIL_(...)                                                                           \
	do {                                                                                      \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                   \
		fprintf(stderr, __VA_ARGS__);                                                     \
		fprintf(stderr, "\n");                                                            \
		abort();                                                                          \
	} while (0)

#define ASSERT(expr)                                                                              \
	do {                                                                                      \
		if (!(expr)) {                                                                    \
			TEST_FAIL_("assertion failed: %s", #expr);                                \
		}                                                                                 \
	} while (0)

#define ASSERT_INT_(a, op, b)                                                                     \
	do {                                                                                      \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);                                     \
		if (!(a_ op b_)) {                                                                \
			TEST_FAIL_("%s %s %s: %" PRId64 " vs %" PRId64, #a, #op, #b, a_, b_);     \
		}                                                                                 \
	} while (0)

#define ASSERT_EQ(a, b) ASSERT_INT_(a, ==, b)
#define ASSERT_NE(a, b) ASSERT_INT_(a, !=, b)
#define ASSERT_LT(a, b) ASSERT_INT_(a, <, b)
#define ASSERT_LE(a, b) ASSERT_INT_(a, <=, b)
#define ASSERT_GT(a, b) ASSERT_INT_(a, >, b)
#define ASSERT_GE(a, b) ASSERT_INT_(a, >=, b)

#define ASSERT_UINT_EQ(a, b)                                                                      \
	do {                                                                                      \
		uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                  \
		if (a_ != b_) {                                                                   \
			TEST_FAIL_("%s == %s: %" PRIu64 " vs %" PRIu64, #a, #b, a_, b_);          \
		}                                                                                 \
	} while (0)

#define ASSERT_STR_EQ(a, b)                                                                       \
	do {                                                                                      \
		const char *a_ = (a), *b_ = (b);                                                  \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                            \
			TEST_FAIL_("%s == %s: \"%s\" vs \"%s\"", #a, #b, a_ ? a_ : "(null)",      \
				   b_ ? b_ : "(null)");                                           \
		}                                                                                 \
	} while (0)

#define ASSERT_NOT_NULL(p) ASSERT((p) != NULL)
#define ASSERT_NULL(p) ASSERT((p) == NULL)

/* A tiny runner: TEST(name) defines a case; RUN(name) runs and reports it. */
#define TEST(name) static void test_##name(void)
#define RUN(name)                                                                                 \
	do {                                                                                      \
		test_##name();                                                                    \
		printf("ok - %s\n", #name);                                                       \
	} while (0)

#endif
