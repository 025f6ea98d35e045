/* test-agent-ledger.c: the compact event table and its string pools. */
#include <errno.h>
#include <stdio.h>

#include "ledger.h"
#include "test.h"

static void
obs_init(struct ledger_obs *o, unsigned n, const char *model, const char *speed)
{
	memset(o, 0, sizeof(*o));
	o->tool = EVENT_TOOL_CLAUDE;
	memcpy(o->id, &n, sizeof(n));
	o->id[15] = 1;
	o->ts_ms = 1000 + n;
	o->tok[EVENT_OUTPUT] = n;
	o->model = model;
	o->speed = speed;
	o->tier = "standard";
	o->session = "s";
	o->project = "p";
}

TEST(pools_round_trip)
{
	struct ledger l;
	struct ledger_obs o;
	struct ledger_rec *r;
	uint32_t idx;

	ledger_init(&l);
	obs_init(&o, 1, "claude-sonnet-4-5", "fast");
	ASSERT_EQ(ledger_add(&l, &o, &r), 1);
	ASSERT_STR_EQ(ledger_str(&l, r->model), "claude-sonnet-4-5");
	ASSERT_STR_EQ(ledger_str(&l, r->speed), "fast");
	ASSERT_STR_EQ(ledger_str(&l, r->tier), "standard");
	ASSERT_STR_EQ(ledger_str(&l, r->session), "s");
	ASSERT_STR_EQ(ledger_str(&l, r->project), "p");
	ASSERT_GE(r->model, LEDGER_SMALL_END);
	ASSERT_GE(r->session, LEDGER_MODEL_END);
	ASSERT_EQ(ledger_intern(&l, "p", &idx), 0);
	ASSERT_EQ(idx, r->project);
	ASSERT_STR_EQ(ledger_str(&l, 0), "");
	ledger_finish(&l);
}

/* A full model or speed pool refuses new events; nothing else changes. */
TEST(small_pools_overflow)
{
	struct ledger l;
	struct ledger_obs o;
	struct ledger_rec *r;
	char speed[32];
	unsigned n;

	ledger_init(&l);
	for (n = 1; n < LEDGER_SMALL_END; n++) {
		snprintf(speed, sizeof(speed), "speed-%u", n);
		obs_init(&o, n, "m", speed);
		o.tier = NULL;
		ASSERT_EQ(ledger_add(&l, &o, &r), 1);
		ASSERT_STR_EQ(ledger_str(&l, r->speed), speed);
	}
	snprintf(speed, sizeof(speed), "speed-%u", n);
	obs_init(&o, n, "m", speed);
	o.tier = NULL;
	ASSERT_EQ(ledger_add(&l, &o, &r), -E2BIG);
	ASSERT_UINT_EQ(l.n, LEDGER_SMALL_END - 1);
	obs_init(&o, n, "m", "speed-1"); /* a known value still fits */
	o.tier = NULL;
	ASSERT_EQ(ledger_add(&l, &o, &r), 1);
	ASSERT_UINT_EQ(l.n, LEDGER_SMALL_END);
	ASSERT_EQ(ledger_find(&l, o.id) == r, 1);
	ledger_finish(&l);
}

/* A small deterministic generator for the layout tests. */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* One observation drawn from few ids, so copies and merges happen often. */
static void
obs_random(struct ledger_obs *o, uint64_t *x)
{
	static const char *const models[] = {"claude-opus-4-5", "gpt-5.1-codex", "m"};
	static const char *const sessions[] = {"s1", "s2", "", "s3"};
	static const char *const speeds[] = {NULL, "fast", "standard"};
	unsigned id = (unsigned)(rnd(x) % 3000);

	memset(o, 0, sizeof(*o));
	o->tool = id % 5 == 0 ? EVENT_TOOL_CODEX : EVENT_TOOL_CLAUDE;
	memcpy(o->id, &id, sizeof(id));
	o->id[15] = 7;
	/* mostly 2026, sometimes before LEDGER_TS_BASE or past 40 bits of it */
	switch (rnd(x) % 512) {
	case 0:
		o->ts_ms = 946684800000LL + (int64_t)(rnd(x) % 1000); /* 2000 */
		break;
	case 1:
		o->ts_ms = LEDGER_TS_BASE + (1LL << 40) + (int64_t)(rnd(x) % 3) - 1;
		break;
	default:
		o->ts_ms = 1767225600000LL + (int64_t)(rnd(x) % 100000);
	}
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		uint64_t r = rnd(x) % 2048;
		o->tok[b] = r == 0 ? LEDGER_TOK_MAX : r == 1 ? 0xFFFFFFu + (rnd(x) % 3) - 1
					    : r == 2 ? 255 + (rnd(x) % 3) : rnd(x) % 70000;
	}
	o->model = models[rnd(x) % 3];
	o->session = sessions[rnd(x) % 4];
	o->project = rnd(x) % 2 ? "p" : "q";
	o->speed = speeds[rnd(x) % 3];
	o->tier = rnd(x) % 2 ? "standard" : NULL;
	o->origin = (uint16_t)(rnd(x) % 3);
	o->sidechain = rnd(x) % 3 == 0;
}

/* The compact layout gives exactly what the full one does, values that do not fit included. */
TEST(compact_matches_full)
{
	struct ledger full, compact;
	struct ledger_obs o;
	struct ledger_rec *r, a, b;
	uint64_t x = 88172645463325252ull;
	size_t wide;

	ledger_init(&full);
	ledger_init(&compact);
	ledger_set_compact(&compact);
	for (int k = 0; k < 20000; k++) {
		obs_random(&o, &x);
		int e = ledger_add(&full, &o, NULL);
		ASSERT_EQ(ledger_add(&compact, &o, &r), e);
		ASSERT_NULL(r); /* a compact ledger hands out no pointers */
	}
	ASSERT_UINT_EQ(compact.n, full.n);
	ASSERT_UINT_EQ(compact.copies_merged, full.copies_merged);
	ASSERT_UINT_EQ(compact.replays_ignored, full.replays_ignored);
	for (size_t i = 0; i < full.n; i++) {
		ledger_get(&full, i, &a);
		ledger_get(&compact, i, &b);
		ASSERT_EQ(memcmp(&a, &b, sizeof(a)), 0);
	}
	wide = compact.n_wide;
	ASSERT_GT(wide, 0);         /* the escape was exercised */
	ASSERT_LT(wide, compact.n); /* and most records are compact */
	/* sorting both gives the same order: time, then id */
	ledger_sort(&full);
	ledger_sort(&compact);
	for (size_t i = 0; i < full.n; i++) {
		ledger_get(&full, i, &a);
		ledger_get(&compact, i, &b);
		ASSERT_EQ(memcmp(&a, &b, sizeof(a)), 0);
		if (i > 0) {
			struct ledger_rec p;
			ledger_get(&compact, i - 1, &p);
			ASSERT(p.ts_ms < b.ts_ms || (p.ts_ms == b.ts_ms && memcmp(p.id, b.id, 16) < 0));
		}
	}
	ledger_finish(&full);
	ledger_finish(&compact);
}

/*
 * Each bucket takes the bytes its value needs: values at every width's
 * edge come back exact, usual events stay compact, and a merge that widens
 * a bucket (or needs more than 24 bits) keeps the record exact.
 */
TEST(compact_bucket_widths)
{
	static const uint32_t edges[] = {0, 1, 255, 256, 65535, 65536, 0xFFFFFF};
	struct ledger l;
	struct ledger_obs o;
	struct ledger_rec r;
	unsigned n = 0;

	ledger_init(&l);
	ledger_set_compact(&l);
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
			obs_init(&o, ++n, "claude-opus-4-5", NULL);
			o.ts_ms = 1767225600000LL + n;
			o.tok[EVENT_OUTPUT] = 0;
			o.tok[b] = edges[i];
			if (b != EVENT_INPUT) {
				o.tok[EVENT_INPUT] = 3; /* a usual event: a few buckets set */
			}
			ASSERT_EQ(ledger_add(&l, &o, NULL), 1);
			ledger_get(&l, l.n - 1, &r);
			for (int k = 0; k < EVENT_BUCKET_MAX; k++) {
				ASSERT_UINT_EQ(r.tok[k], o.tok[k]);
			}
		}
	}
	ASSERT_UINT_EQ(l.n_wide, 0);
	ASSERT_UINT_EQ(l.n_aside, 0);
	/* a copy with a larger bucket: Claude keeps the largest value */
	obs_init(&o, 1, "claude-opus-4-5", NULL);
	o.ts_ms = 1767225600000LL + 1;
	o.tok[EVENT_CACHE_READ] = 0x1000000; /* past 24 bits: the buckets go aside */
	ASSERT_EQ(ledger_add(&l, &o, NULL), 0);
	ledger_get(&l, 0, &r);
	ASSERT_UINT_EQ(r.tok[EVENT_CACHE_READ], 0x1000000);
	ASSERT_UINT_EQ(r.tok[EVENT_INPUT], 0);
	ASSERT_UINT_EQ(r.tok[EVENT_OUTPUT], 1); /* the copy's, larger than the first's 0 */
	ASSERT_UINT_EQ(l.n_aside, 1);
	ASSERT_UINT_EQ(l.n_wide, 0);
	/* a sidechain event needing more bytes than a record has, then its main-line copy */
	obs_init(&o, ++n, "claude-opus-4-5", NULL);
	o.ts_ms = 1767225600000LL + n;
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		o.tok[b] = 0x10000u + (uint32_t)b;
	}
	o.sidechain = true;
	ASSERT_EQ(ledger_add(&l, &o, NULL), 1);
	ledger_get(&l, l.n - 1, &r);
	ASSERT_EQ(r.flags, LEDGER_SIDECHAIN);
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		ASSERT_UINT_EQ(r.tok[b], o.tok[b]);
	}
	o.sidechain = false;
	o.tok[EVENT_OUTPUT] = 7;
	ASSERT_EQ(ledger_add(&l, &o, NULL), 0);
	ledger_get(&l, l.n - 1, &r);
	ASSERT_EQ(r.flags, 0);
	ASSERT_UINT_EQ(r.tok[EVENT_OUTPUT], 7);
	ASSERT_UINT_EQ(r.tok[EVENT_CACHE_READ], 0x10000u + EVENT_CACHE_READ);
	ASSERT_UINT_EQ(l.n_aside, 2);
	ASSERT_UINT_EQ(l.n_wide, 0);
	ledger_finish(&l);
}

/* Sorting: many records with few distinct times, already ordered, reversed. */
TEST(sort_in_place)
{
	struct ledger l;
	struct ledger_obs o;
	struct ledger_rec a, b;

	for (int pass = 0; pass < 3; pass++) {
		ledger_init(&l);
		ledger_set_compact(&l);
		for (unsigned n = 0; n < 5000; n++) {
			obs_init(&o, n, "m", NULL);
			o.ts_ms = LEDGER_TS_BASE + (pass == 0 ? n % 7 : pass == 1 ? n : 5000 - n);
			ASSERT_EQ(ledger_add(&l, &o, NULL), 1);
		}
		ledger_sort(&l);
		ASSERT_UINT_EQ(l.n_slots, 0); /* the index is gone */
		for (size_t i = 1; i < l.n; i++) {
			ledger_get(&l, i - 1, &a);
			ledger_get(&l, i, &b);
			ASSERT(a.ts_ms < b.ts_ms || (a.ts_ms == b.ts_ms && memcmp(a.id, b.id, 16) < 0));
		}
		ledger_finish(&l);
	}
}

int
main(void)
{
	RUN(pools_round_trip);
	RUN(small_pools_overflow);
	RUN(compact_matches_full);
	RUN(compact_bucket_widths);
	RUN(sort_in_place);
	return 0;
}
