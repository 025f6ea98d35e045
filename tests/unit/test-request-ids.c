/*
 * test-request-ids.c: the agent's map from event id to the API's request id
 * (agent/read/request-ids.h): put, get, delete, growth past tombstones, ids
 * that are not tokens refused; and the Claude reader fills it from a
 * transcript's "requestId" when the scan keeps them.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "agent-fixture.h"
#include "request-ids.h"

static void
id_of(unsigned n, uint8_t id[16])
{
	char key[32];

	snprintf(key, sizeof(key), "msg_%u", n);
	am_event_id("claude-code", key, strlen(key), id);
}

TEST(put_get_del)
{
	struct request_ids m;
	uint8_t a[16], b[16];
	char want[32];

	request_ids_init(&m);
	id_of(1, a);
	id_of(2, b);
	ASSERT_NULL(request_ids_get(&m, a));
	ASSERT_EQ(request_ids_put(&m, a, "req_011CUJ6wXyZ"), 0);
	ASSERT_EQ(request_ids_put(&m, a, "req_other"), 0); /* the first id stays */
	ASSERT_STR_EQ(request_ids_get(&m, a), "req_011CUJ6wXyZ");
	ASSERT_NULL(request_ids_get(&m, b));
	/* not tokens: text, a path, a space, too long, empty */
	ASSERT_EQ(request_ids_put(&m, b, "req 1"), -EINVAL);
	ASSERT_EQ(request_ids_put(&m, b, "/home/dana/x"), -EINVAL);
	ASSERT_EQ(request_ids_put(&m, b, ""), -EINVAL);
	char big[200];
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ASSERT_EQ(request_ids_put(&m, b, big), -EINVAL);
	request_ids_del(&m, a);
	ASSERT_NULL(request_ids_get(&m, a));
	request_ids_del(&m, a); /* absent: fine */
	/* many puts and deletes: growth and tombstones keep every live id findable */
	for (unsigned i = 0; i < 5000; i++) {
		uint8_t id[16];
		id_of(100 + i, id);
		snprintf(want, sizeof(want), "req_%u", i);
		ASSERT_EQ(request_ids_put(&m, id, want), 0);
		if (i % 3 == 0) {
			request_ids_del(&m, id);
		}
	}
	for (unsigned i = 0; i < 5000; i++) {
		uint8_t id[16];
		id_of(100 + i, id);
		snprintf(want, sizeof(want), "req_%u", i);
		if (i % 3 == 0) {
			ASSERT_NULL(request_ids_get(&m, id));
		} else {
			ASSERT_STR_EQ(request_ids_get(&m, id), want);
		}
	}
	ASSERT_EQ(m.live, 5000 - 1667);
	request_ids_finish(&m);
	request_ids_finish(&m); /* twice: a zeroed map */
}

/* Streaming snapshots of one response: one event, its requestId kept once. */
TEST(reader_keeps_request_id)
{
	struct scan s;
	struct request_ids m;
	uint8_t id[16];

	request_ids_init(&m);
	project_init(&fx_project, PROJECT_KEYED_HASH, (const uint8_t *)"test-key", 8);
	ASSERT_EQ(scan_init(&s, &fx_project), 0);
	ASSERT_EQ(scan_add_origin(&s, "dana", EVENT_BILLING_SUBSCRIPTION), 0);
	s.settle_all = true;
	s.request_ids = &m;
	char root[4096];
	snprintf(root, sizeof(root), "%s/claude/streaming", AM_FIXTURES);
	scan_walk_one(&s, EVENT_TOOL_CLAUDE, root, 0, scan_read_all_cb, NULL);
	ASSERT_EQ(s.ledger.n, 1);
	am_event_id("claude-code", "msg_A", 5, id);
	ASSERT_STR_EQ(request_ids_get(&m, id), "req_1");
	ASSERT_EQ(m.live, 1);
	fx_done(&s);
	request_ids_finish(&m);
}

int
main(void)
{
	RUN(put_get_del);
	RUN(reader_keeps_request_id);
	return 0;
}
