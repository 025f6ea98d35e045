/*
 * test-spool.c: the spool on real files: round trips, restarts, partial
 * acks, torn writes, corrupt records, the size cap and the lock.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spool.h"
#include "test.h"

static char dir[256];

/* --- a fake reader state: a list of "key=value" deltas ---------------------- */

struct fake_state {
	char text[8192];
	int snapshots, deltas;
};

static int
fake_snapshot(void *opaque, uint8_t **ret_blob, size_t *ret_len)
{
	struct fake_state *st = opaque;
	size_t n = strlen(st->text);
	*ret_blob = malloc(n + 1);
	if (*ret_blob == NULL) {
		return -ENOMEM;
	}
	memcpy(*ret_blob, st->text, n);
	*ret_len = n;
	return 0;
}

static int
fake_restore(void *opaque, const uint8_t *blob, size_t len, bool is_snapshot)
{
	struct fake_state *st = opaque;
	if (is_snapshot) {
		st->text[0] = '\0';
		st->snapshots++;
	} else {
		st->deltas++;
	}
	strncat(st->text, (const char *)blob, len < 1000 ? len : 1000);
	return 0;
}

/* --- helpers ------------------------------------------------------------------ */

static void
make_dir(void)
{
	strcpy(dir, "/tmp/test-spool.XXXXXX");
	ASSERT_NOT_NULL(mkdtemp(dir));
}

static void
remove_dir(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ASSERT_EQ(system(cmd), 0);
}

/* Append a record of n events numbered from first, with a state delta. */
static void
append_events(struct spool *s, uint32_t first, uint32_t n, const char *delta)
{
	am_usage_event *ev = calloc(n, sizeof(*ev));
	am_usage_event **pv = calloc(n, sizeof(*pv));
	uint8_t (*ids)[16] = calloc(n, 16);
	uint8_t *buf = NULL;
	size_t len = 0;

	ASSERT(ev != NULL && pv != NULL && ids != NULL);
	for (uint32_t i = 0; i < n; i++) {
		aimeter__v1__usage_event__init(&ev[i]);
		memset(ids[i], 0, 16);
		memcpy(ids[i], &(uint32_t){first + i}, 4);
		ev[i].event_id.data = ids[i];
		ev[i].event_id.len = 16;
		ev[i].ts_ms = 1700000000000 + first + i;
		ev[i].tool = "claude-code";
		ev[i].model = "claude-sonnet-4-5";
		ev[i].input_tokens = first + i;
		pv[i] = &ev[i];
	}
	if (n > 0) {
		ASSERT_EQ(spool_events_pack(pv, n, &buf, &len), 0);
	}
	ASSERT_EQ(spool_append(s, buf, len, n, (const uint8_t *)delta, delta ? strlen(delta) : 0), 0);
	free(buf);
	free(ids);
	free(pv);
	free(ev);
}

/* Ship everything pending in batches of max; returns the sum of input_tokens. */
static uint64_t
drain(struct spool *s, size_t max, uint64_t *ret_events)
{
	uint64_t sum = 0, n = 0;
	for (;;) {
		struct spool_peek pk;
		ASSERT_EQ(spool_peek(s, max, &pk), 0);
		if (pk.n == 0) {
			spool_peek_free(&pk);
			break;
		}
		for (size_t i = 0; i < pk.n; i++) {
			sum += pk.events[i]->input_tokens;
		}
		n += pk.n;
		ASSERT_EQ(spool_ack(s, pk.end, 0, pk.n, false), 0);
		spool_peek_free(&pk);
	}
	if (ret_events != NULL) {
		*ret_events = n;
	}
	return sum;
}

static size_t
count_segments(void)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "ls '%s' | grep -c '\\.seg$'", dir);
	FILE *p = popen(cmd, "r");
	int n = 0;
	ASSERT_NOT_NULL(p);
	ASSERT_EQ(fscanf(p, "%d", &n), 1);
	pclose(p);
	return (size_t)n;
}

static void
last_segment(char *path, size_t size)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "ls '%s'/*.seg | sort | tail -n 1", dir);
	FILE *p = popen(cmd, "r");
	ASSERT_NOT_NULL(p);
	ASSERT_NOT_NULL(fgets(path, (int)size, p));
	path[strcspn(path, "\n")] = '\0';
	pclose(p);
}

static off_t
file_size(const char *path)
{
	struct stat st;
	ASSERT_EQ(stat(path, &st), 0);
	return st.st_size;
}

/* --- tests ----------------------------------------------------------------------- */

TEST(round_trip_and_restart)
{
	struct fake_state st = {0};
	struct spool_state_ops ops = {fake_snapshot, fake_restore, &st};
	struct spool *s;
	struct spool_stats stats;
	uint64_t n;

	make_dir();
	ASSERT_EQ(spool_open(dir, NULL, &ops, &s), 0);
	append_events(s, 1, 10, "a=10;");
	append_events(s, 11, 5, "b=5;");
	append_events(s, 0, 0, "c=1;"); /* positions only */
	spool_get_stats(s, &stats);
	ASSERT_UINT_EQ(stats.pending_events, 15);
	ASSERT(stats.oldest_pending_ms > 0);
	spool_close(s);

	/* Restart: the snapshot (empty) then every delta in order. */
	memset(&st, 0, sizeof(st));
	ASSERT_EQ(spool_open(dir, NULL, &ops, &s), 0);
	ASSERT_STR_EQ(st.text, "a=10;b=5;c=1;");
	ASSERT_EQ(st.snapshots, 1);
	ASSERT_EQ(st.deltas, 3);
	/* 1..15 */
	ASSERT_UINT_EQ(drain(s, 4, &n), 120);
	ASSERT_UINT_EQ(n, 15);
	spool_get_stats(s, &stats);
	ASSERT_UINT_EQ(stats.pending_events, 0);
	ASSERT_UINT_EQ(stats.shipped_events, 15);
	spool_close(s);

	/* Nothing comes back after a restart once acknowledged. */
	ASSERT_EQ(spool_open(dir, NULL, &ops, &s), 0);
	ASSERT(!spool_pending(s));
	spool_get_stats(s, &stats);
	ASSERT_UINT_EQ(stats.shipped_events, 15);
	spool_close(s);
	remove_dir();
}

TEST(partial_ack_survives_restart)
{
	struct spool *s;
	struct spool_peek pk;
	uint64_t n;

	make_dir();
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	append_events(s, 1, 10, NULL);
	ASSERT_EQ(spool_peek(s, 3, &pk), 0);
	ASSERT_EQ(pk.n, 3);
	ASSERT_UINT_EQ(pk.events[2]->input_tokens, 3);
	ASSERT_EQ(spool_ack(s, pk.end, 0, pk.n, false), 0);
	spool_peek_free(&pk);
	/* Peeked but never acknowledged: comes back after the restart. */
	ASSERT_EQ(spool_peek(s, 2, &pk), 0);
	ASSERT_UINT_EQ(pk.events[0]->input_tokens, 4);
	spool_peek_free(&pk);
	spool_close(s);

	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	ASSERT_UINT_EQ(drain(s, 100, &n), 4 + 5 + 6 + 7 + 8 + 9 + 10);
	ASSERT_UINT_EQ(n, 7);
	spool_close(s);
	remove_dir();
}

TEST(torn_tail_is_cut_not_counted)
{
	struct spool *s;
	struct spool_stats stats;
	char path[512];
	uint64_t n;

	make_dir();
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	append_events(s, 1, 3, "x");
	append_events(s, 4, 3, "y");
	spool_close(s);

	/* Cut the last record in half, as a crash before fdatasync can. */
	last_segment(path, sizeof(path));
	off_t size = file_size(path);
	ASSERT_EQ(truncate(path, size - 20), 0);
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	spool_get_stats(s, &stats);
	ASSERT_UINT_EQ(stats.corrupt_total, 0);
	ASSERT_UINT_EQ(stats.pending_events, 3);
	/* Appends continue cleanly after the cut. */
	append_events(s, 100, 1, NULL);
	spool_close(s);

	/* A torn tail whose length survived but whose bytes are zeros. */
	last_segment(path, sizeof(path));
	size = file_size(path);
	int fd = open(path, O_WRONLY);
	ASSERT(fd >= 0);
	uint8_t zeros[16] = {0};
	ASSERT_EQ(pwrite(fd, zeros, sizeof(zeros), size - 16), 16);
	close(fd);
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	spool_get_stats(s, &stats);
	ASSERT_UINT_EQ(stats.corrupt_total, 0);
	ASSERT_UINT_EQ(drain(s, 100, &n), 1 + 2 + 3);
	ASSERT_UINT_EQ(n, 3);
	spool_close(s);
	remove_dir();
}

TEST(corrupt_record_skipped_and_counted_once)
{
	struct spool *s;
	struct spool_stats stats;
	char path[512];
	uint64_t n;

	make_dir();
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	append_events(s, 1, 2, NULL);
	off_t before = file_size((last_segment(path, sizeof(path)), path));
	append_events(s, 3, 2, NULL); /* this one gets a flipped byte */
	append_events(s, 5, 2, NULL);
	spool_close(s);

	int fd = open(path, O_RDWR);
	uint8_t b;
	ASSERT(fd >= 0);
	ASSERT_EQ(pread(fd, &b, 1, before + 40), 1);
	b ^= 0x55;
	ASSERT_EQ(pwrite(fd, &b, 1, before + 40), 1);
	close(fd);

	for (int round = 0; round < 2; round++) {
		ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
		spool_get_stats(s, &stats);
		ASSERT_UINT_EQ(stats.corrupt_total, 1);
		ASSERT_UINT_EQ(stats.pending_events, 4);
		spool_close(s);
	}
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	ASSERT_UINT_EQ(drain(s, 100, &n), 1 + 2 + 5 + 6);
	ASSERT_UINT_EQ(n, 4);
	spool_close(s);
	remove_dir();
}

TEST(corrupt_at_peek_time_is_skipped)
{
	struct spool *s;
	struct spool_stats stats;
	char path[512];
	uint64_t n;

	make_dir();
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	off_t before = file_size((last_segment(path, sizeof(path)), path));
	append_events(s, 1, 2, NULL);
	append_events(s, 3, 2, NULL);
	/* Rot the first record while the spool is open. */
	int fd = open(path, O_RDWR);
	uint8_t b;
	ASSERT(fd >= 0);
	ASSERT_EQ(pread(fd, &b, 1, before + 30), 1);
	b ^= 0xff;
	ASSERT_EQ(pwrite(fd, &b, 1, before + 30), 1);
	close(fd);
	ASSERT_UINT_EQ(drain(s, 100, &n), 3 + 4);
	ASSERT_UINT_EQ(n, 2);
	spool_get_stats(s, &stats);
	ASSERT_UINT_EQ(stats.corrupt_total, 1);
	spool_close(s);
	remove_dir();
}

TEST(cap_drops_oldest_and_counts)
{
	struct spool_options opts = {.max_bytes = 64 << 10, .segment_bytes = 16 << 10};
	struct fake_state st = {0};
	struct spool_state_ops ops = {fake_snapshot, fake_restore, &st};
	struct spool *s;
	struct spool_stats stats;
	struct spool_peek pk;
	uint64_t n, appended = 0;

	make_dir();
	strcpy(st.text, "base;");
	ASSERT_EQ(spool_open(dir, &opts, &ops, &s), 0);
	for (uint32_t i = 0; i < 200; i++) {
		append_events(s, 1 + i * 20, 20, "d;");
		appended += 20;
	}
	spool_get_stats(s, &stats);
	ASSERT_LE(stats.total_bytes, opts.max_bytes + 8192);
	ASSERT_GT(stats.dropped_total, 0);
	ASSERT_UINT_EQ(stats.dropped_total, stats.dropped_pending);
	ASSERT_UINT_EQ(stats.dropped_total + stats.pending_events, appended);
	/* Whole records are dropped, never half of one. */
	ASSERT_EQ(stats.dropped_total % 20, 0);
	uint64_t dropped = stats.dropped_total;
	spool_close(s);

	/* The counters survive a restart, and so does a snapshot of the state. */
	memset(&st, 0, sizeof(st));
	ASSERT_EQ(spool_open(dir, &opts, &ops, &s), 0);
	ASSERT_GT(st.snapshots, 0);
	ASSERT_EQ(strncmp(st.text, "base;", 5), 0);
	spool_get_stats(s, &stats);
	ASSERT_UINT_EQ(stats.dropped_pending, dropped);
	/* The first delivered batch reports the drops; its ack clears them. */
	ASSERT_EQ(spool_peek(s, 50, &pk), 0);
	ASSERT_UINT_EQ(pk.events[0]->input_tokens, dropped + 1);
	ASSERT_EQ(spool_ack(s, pk.end, dropped, pk.n, false), 0);
	n = pk.n;
	spool_peek_free(&pk);
	uint64_t rest;
	drain(s, 1000, &rest);
	spool_get_stats(s, &stats);
	ASSERT_UINT_EQ(stats.dropped_pending, 0);
	ASSERT_UINT_EQ(stats.dropped_total, dropped);
	ASSERT_UINT_EQ(n + rest + dropped, appended);
	ASSERT_EQ(count_segments(), 1);
	spool_close(s);
	remove_dir();
}

TEST(acked_segments_are_removed)
{
	struct spool_options opts = {.max_bytes = 1 << 20, .segment_bytes = 4096};
	struct spool *s;
	uint64_t n;

	make_dir();
	ASSERT_EQ(spool_open(dir, &opts, NULL, &s), 0);
	for (uint32_t i = 0; i < 50; i++) {
		append_events(s, 1 + i * 10, 10, NULL);
	}
	ASSERT_GT(count_segments(), 3);
	drain(s, 1000, &n);
	ASSERT_UINT_EQ(n, 500);
	ASSERT_EQ(count_segments(), 1);
	spool_close(s);
	remove_dir();
}

TEST(quarantine_counts)
{
	struct spool *s;
	struct spool_peek pk;
	struct spool_stats stats;

	make_dir();
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	append_events(s, 1, 4, NULL);
	ASSERT_EQ(spool_peek(s, 10, &pk), 0);
	ASSERT_EQ(spool_ack(s, pk.end, 0, pk.n, true), 0);
	spool_peek_free(&pk);
	spool_close(s);
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	spool_get_stats(s, &stats);
	ASSERT_UINT_EQ(stats.quarantined_batches, 1);
	ASSERT_UINT_EQ(stats.quarantined_events, 4);
	ASSERT_UINT_EQ(stats.pending_events, 0);
	spool_close(s);
	remove_dir();
}

TEST(lock_and_read_only)
{
	struct spool *s, *t;
	struct spool_options ro = {.read_only = true};
	struct spool_stats stats;

	make_dir();
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	append_events(s, 1, 2, NULL);
	ASSERT_EQ(spool_open(dir, NULL, NULL, &t), -EBUSY);
	ASSERT_EQ(spool_open(dir, &ro, NULL, &t), 0);
	spool_get_stats(t, &stats);
	ASSERT_UINT_EQ(stats.pending_events, 2);
	ASSERT_EQ(spool_append(t, NULL, 0, 0, NULL, 0), -EROFS);
	spool_close(t);
	spool_close(s);
	remove_dir();
}

TEST(torn_new_segment_falls_back)
{
	struct spool_options opts = {.max_bytes = 1 << 20, .segment_bytes = 2048};
	struct fake_state st = {0};
	struct spool_state_ops ops = {fake_snapshot, fake_restore, &st};
	struct spool *s;
	char path[512];
	uint64_t n;

	make_dir();
	ASSERT_EQ(spool_open(dir, &opts, &ops, &s), 0);
	for (uint32_t i = 0; i < 10; i++) {
		append_events(s, 1 + i * 10, 10, "p;");
		strcat(st.text, "p;");
	}
	ASSERT_GT(count_segments(), 1);
	spool_close(s);
	/* The newest segment loses everything, as if its creation was torn. */
	last_segment(path, sizeof(path));
	ASSERT_EQ(truncate(path, 0), 0);
	memset(&st, 0, sizeof(st));
	ASSERT_EQ(spool_open(dir, &opts, &ops, &s), 0);
	ASSERT_GT(st.snapshots, 0);
	drain(s, 1000, &n);
	ASSERT_GT(n, 0);
	ASSERT_LT(n, 100);
	spool_close(s);
	remove_dir();
}

/* The action spool: records of ActionRecords only, peeked in order across a restart and partial acks. */
TEST(action_records_round_trip)
{
	am_action_record a[5], *pv[5];
	uint8_t ids[5][16], *buf = NULL;
	size_t len = 0;
	struct spool *s;
	struct spool_peek pk;

	make_dir();
	for (int i = 0; i < 5; i++) {
		aimeter__v1__action_record__init(&a[i]);
		memset(ids[i], i + 1, 16);
		a[i].action_id.data = ids[i];
		a[i].action_id.len = 16;
		a[i].ts_ms = 1700000000000 + i;
		a[i].tool = "codex";
		a[i].kind = AIMETER__V1__ACTION_KIND__ACTION_KIND_EDIT;
		a[i].tool_name = "apply_patch";
		a[i].lines_added = (uint32_t)i;
		pv[i] = &a[i];
	}
	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	ASSERT_EQ(spool_actions_pack(pv, 3, &buf, &len), 0);
	ASSERT_EQ(spool_append(s, buf, len, 3, NULL, 0), 0);
	free(buf);
	ASSERT_EQ(spool_actions_pack(pv + 3, 2, &buf, &len), 0);
	ASSERT_EQ(spool_append(s, buf, len, 2, NULL, 0), 0);
	free(buf);
	ASSERT_EQ(spool_peek(s, 2, &pk), 0);
	ASSERT_EQ(pk.n, 2);
	ASSERT_EQ(pk.n_actions, 2);
	ASSERT_EQ(pk.actions[1]->lines_added, 1);
	ASSERT_EQ(spool_ack(s, pk.end, 0, pk.n, false), 0);
	spool_peek_free(&pk);
	spool_close(s);

	ASSERT_EQ(spool_open(dir, NULL, NULL, &s), 0);
	ASSERT_EQ(spool_peek(s, 10, &pk), 0);
	ASSERT_EQ(pk.n, 3);
	ASSERT_EQ(pk.n_actions, 3);
	for (size_t i = 0; i < 3; i++) {
		ASSERT_EQ(pk.actions[i]->lines_added, i + 2);
		ASSERT_EQ(pk.actions[i]->action_id.data[0], i + 3);
	}
	spool_peek_free(&pk);
	spool_close(s);
	remove_dir();
}

int
main(void)
{
	RUN(round_trip_and_restart);
	RUN(action_records_round_trip);
	RUN(partial_ack_survives_restart);
	RUN(torn_tail_is_cut_not_counted);
	RUN(corrupt_record_skipped_and_counted_once);
	RUN(corrupt_at_peek_time_is_skipped);
	RUN(cap_drops_oldest_and_counts);
	RUN(acked_segments_are_removed);
	RUN(quarantine_counts);
	RUN(lock_and_read_only);
	RUN(torn_new_segment_falls_back);
	return 0;
}
