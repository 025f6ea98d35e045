/*
 * test-batch-actions.c: the decoder on schema-2 batches (docs/actions.md,
 * "The collector"): actions round-trip, each bad action gets its own fault
 * after the events' ones, actions need schema 2 and count against max_events.
 */
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "test.h"

#define N 8

struct fixture {
	am_batch b;
	am_usage_event ev;
	am_usage_event *evp[1];
	am_action_record ac[N];
	am_action_record *acp[N];
	uint8_t ids[N + 1][16];
};

static void
fixture_init(struct fixture *f, uint32_t version, size_t n_actions)
{
	memset(f, 0, sizeof(*f));
	aimeter__v1__batch__init(&f->b);
	f->b.schema_version = version;
	aimeter__v1__usage_event__init(&f->ev);
	f->ids[N][0] = 0xee;
	f->ev.event_id.data = f->ids[N];
	f->ev.event_id.len = 16;
	f->ev.ts_ms = 1764000000000;
	f->ev.tool = "claude-code";
	f->evp[0] = &f->ev;
	f->b.events = f->evp;
	f->b.n_events = 1;
	for (size_t i = 0; i < n_actions; i++) {
		am_action_record *a = &f->ac[i];
		aimeter__v1__action_record__init(a);
		f->ids[i][0] = (uint8_t)(i + 1);
		a->action_id.data = f->ids[i];
		a->action_id.len = 16;
		a->ts_ms = 1764000000000 + (int64_t)i;
		a->tool = "claude-code";
		a->kind = AIMETER__V1__ACTION_KIND__ACTION_KIND_EDIT;
		a->decision = AIMETER__V1__ACTION_DECISION__ACTION_DECISION_ACCEPTED;
		a->tool_name = "Edit";
		a->file_ext = "c";
		a->lines_added = 3;
		f->acp[i] = a;
	}
	f->b.actions = f->acp;
	f->b.n_actions = n_actions;
}

static int
decode(struct fixture *f, const struct am_batch_limits *lim, am_batch **ret, uint8_t **faults,
       struct am_batch_status *st)
{
	uint8_t *buf;
	size_t len;
	int r;

	ASSERT_EQ(am_batch_encode(&f->b, &buf, &len), 0);
	r = am_batch_decode_events(buf, len, lim, ret, faults, st);
	free(buf);
	return r;
}

TEST(round_trip)
{
	struct fixture f;
	am_batch *b;
	uint8_t *faults;
	struct am_batch_status st;

	fixture_init(&f, AM_SCHEMA_VERSION_ACTIONS, 3);
	f.ac[1].kind = AIMETER__V1__ACTION_KIND__ACTION_KIND_MCP;
	f.ac[1].tool_name = "h:0123456789abcdef";
	f.ac[1].target = "h:fedcba9876543210";
	f.ac[2].kind = AIMETER__V1__ACTION_KIND__ACTION_KIND_COMMIT;
	f.ac[2].tool_name = "Bash";
	f.ac[2].commits = 1;
	f.ac[2].file_ext = "";
	ASSERT_EQ(decode(&f, NULL, &b, &faults, &st), 0);
	ASSERT_NULL(faults);
	ASSERT_UINT_EQ(b->n_events, 1);
	ASSERT_UINT_EQ(b->n_actions, 3);
	ASSERT_STR_EQ(b->actions[1]->target, "h:fedcba9876543210");
	ASSERT_UINT_EQ(b->actions[2]->commits, 1);
	ASSERT_UINT_EQ(b->actions[0]->lines_added, 3);
	am_batch_free(b);
}

TEST(per_action_faults)
{
	static const enum am_event_fault want[N] = {
		AM_EVENT_BAD_KIND,  AM_EVENT_BAD_DECISION,	 AM_EVENT_BAD_COUNT,
		AM_EVENT_BAD_NAME,  AM_EVENT_BAD_ID,		 AM_EVENT_BAD_NAME,
		AM_EVENT_MISSING_TIMESTAMP, AM_EVENT_OK,
	};
	struct fixture f;
	am_batch *b;
	uint8_t *faults;
	struct am_batch_status st;

	fixture_init(&f, AM_SCHEMA_VERSION_ACTIONS, N);
	f.ac[0].kind = 0;
	f.ac[1].decision = 7;
	f.ac[2].pull_requests = 2;
	f.ac[3].tool_name = "git commit -m secret";
	f.ac[4].action_id.len = 15;
	f.ac[5].file_ext = "c/../../etc";
	f.ac[6].ts_ms = 253402300800000LL;
	ASSERT_EQ(decode(&f, NULL, &b, &faults, &st), 0);
	ASSERT_NOT_NULL(faults);
	ASSERT_EQ(faults[0], AM_EVENT_OK); /* the event comes first */
	for (size_t i = 0; i < N; i++) {
		ASSERT_EQ(faults[1 + i], want[i]);
	}
	ASSERT_STR_EQ(am_event_fault_name(AM_EVENT_BAD_NAME), "bad_action_name");
	free(faults);
	am_batch_free(b);
}

TEST(actions_need_schema_2)
{
	struct fixture f;
	am_batch *b;
	uint8_t *faults;
	struct am_batch_status st;

	fixture_init(&f, AM_SCHEMA_VERSION, 2);
	ASSERT_EQ(decode(&f, NULL, &b, &faults, &st), -1);
	ASSERT_EQ(st.code, AM_BATCH_UNKNOWN_FIELD);
	fixture_init(&f, AM_SCHEMA_VERSION_ACTIONS, 0); /* schema 2 without actions: fine */
	ASSERT_EQ(decode(&f, NULL, &b, &faults, &st), 0);
	am_batch_free(b);
	fixture_init(&f, AM_SCHEMA_VERSION_MAX + 1, 1);
	ASSERT_EQ(decode(&f, NULL, &b, &faults, &st), -1);
	ASSERT_EQ(st.code, AM_BATCH_SCHEMA_VERSION);
}

TEST(actions_count_against_max_events)
{
	struct fixture f;
	am_batch *b;
	uint8_t *faults;
	struct am_batch_status st;
	struct am_batch_limits lim = am_batch_default_limits;

	lim.max_events = 4;
	fixture_init(&f, AM_SCHEMA_VERSION_ACTIONS, 3);
	ASSERT_EQ(decode(&f, &lim, &b, &faults, &st), 0);
	am_batch_free(b);
	fixture_init(&f, AM_SCHEMA_VERSION_ACTIONS, 4);
	ASSERT_EQ(decode(&f, &lim, &b, &faults, &st), -1);
	ASSERT_EQ(st.code, AM_BATCH_TOO_MANY_EVENTS);
}

TEST(long_action_string)
{
	struct fixture f;
	am_batch *b;
	uint8_t *faults;
	struct am_batch_status st;
	char big[300];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fixture_init(&f, AM_SCHEMA_VERSION_ACTIONS, 2);
	f.ac[1].session = big;
	ASSERT_EQ(decode(&f, NULL, &b, &faults, &st), 0);
	ASSERT_NOT_NULL(faults);
	ASSERT_EQ(faults[1], AM_EVENT_OK);
	ASSERT_EQ(faults[2], AM_EVENT_STRING_TOO_LONG);
	free(faults);
	am_batch_free(b);
}

int
main(void)
{
	RUN(round_trip);
	RUN(per_action_faults);
	RUN(actions_need_schema_2);
	RUN(actions_count_against_max_events);
	RUN(long_action_string);
	return 0;
}
