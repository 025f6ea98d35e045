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

int
main(void)
{
	RUN(pools_round_trip);
	RUN(small_pools_overflow);
	return 0;
}
