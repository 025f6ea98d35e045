/*
 * test-collector-tokens.c: the device token cache (hit, miss, expiry, TTL
 * cap, purge on revoke through the ingest's NOTIFY callback) and the
 * per-address limits. The ingest is set up on a real loop, which must
 * close clean (uv_loop_close() == 0).
 */
#include <string.h>
#include <uv.h>

#include "config.h"
#include "ingest.h"
#include "metrics.h"
#include "ratelimit.h"
#include "test.h"
#include "tokens.h"

#define MS 1000000ull /* ns */

static struct ingest ing;
static struct metrics metrics;

static void
hash_of(uint8_t h[32], uint8_t seed, uint8_t slot)
{
	memset(h, seed, 32);
	h[0] = slot; /* the slot comes from the first bytes */
	h[1] = h[2] = h[3] = 0;
}

static void
idle_cb(void *arg)
{
	(void)arg;
}

static void
test_tokens(void)
{
	struct tokens *t = &ing.tokens;
	uint8_t a[32], b[32], c[32];
	const struct tokens_entry *e;
	uint64_t now = 1000 * MS;

	hash_of(a, 0xaa, 1);
	hash_of(b, 0xbb, 2);
	hash_of(c, 0xcc, 1); /* same slot as a */

	ASSERT(tokens_get(t, a, now) == NULL);
	tokens_put(t, a, "dev-a", "team-a", 500, now);
	tokens_put(t, b, "dev-b", "", 500, now);
	e = tokens_get(t, a, now + 499 * MS);
	ASSERT_NOT_NULL(e);
	ASSERT_STR_EQ(e->device_id, "dev-a");
	ASSERT_STR_EQ(e->team_hint, "team-a");
	/* Expired at the TTL. */
	ASSERT(tokens_get(t, a, now + 500 * MS) == NULL);
	/* A token sharing the slot replaces, never matches, the other one. */
	tokens_put(t, c, "dev-c", "", 500, now);
	ASSERT(tokens_get(t, a, now) == NULL);
	ASSERT_STR_EQ(tokens_get(t, c, now)->device_id, "dev-c");
	/* TTL 0 ([database] device_cache_ms = 0): nothing is cached. */
	tokens_put(t, a, "dev-a", "", 0, now);
	ASSERT(tokens_get(t, a, now) == NULL);
	/* The TTL is capped: a lost NOTIFY cannot keep a revoked token alive long. */
	tokens_put(t, a, "dev-a", "", 3600000, now);
	ASSERT_NOT_NULL(tokens_get(t, a, now + (TOKENS_TTL_MAX_MS - 1) * MS));
	ASSERT(tokens_get(t, a, now + TOKENS_TTL_MAX_MS * MS) == NULL);

	/* Revocation (the pool's NOTIFY callback) purges every token of the device. */
	tokens_put(t, a, "dev-x", "", 500, now);
	tokens_put(t, b, "dev-x", "", 500, now);
	tokens_put(t, c, "dev-y", "", 500, now); /* replaces a's slot entry */
	hash_of(a, 0xaa, 3);
	tokens_put(t, a, "dev-x", "", 500, now);
	ingest_device_revoked(&ing, "dev-x");
	ASSERT(tokens_get(t, a, now) == NULL);
	ASSERT(tokens_get(t, b, now) == NULL);
	ASSERT_NOT_NULL(tokens_get(t, c, now));
	ASSERT_EQ(tokens_revoke(t, "dev-x"), 0);
	ASSERT_EQ(tokens_revoke(t, "dev-y"), 1);
	ASSERT(tokens_get(t, c, now) == NULL);
}

static void
test_ratelimit(void)
{
	struct ratelimit *rl = &ing.enroll_limit;
	uint64_t now = 5000 * MS;

	for (int i = 0; i < INGEST_ENROLL_BURST; i++) {
		ASSERT(ratelimit_take(rl, "192.0.2.1", now));
	}
	ASSERT(!ratelimit_take(rl, "192.0.2.1", now));
	ASSERT(ratelimit_take(rl, "192.0.2.2", now)); /* another address, its own bucket */
	/* Refilled at INGEST_ENROLL_PER_SEC. */
	ASSERT(ratelimit_take(rl, "192.0.2.1", now + 1000 * MS / INGEST_ENROLL_PER_SEC));
	ASSERT(!ratelimit_take(rl, "192.0.2.1", now + 1000 * MS / INGEST_ENROLL_PER_SEC));

	/* Failures only are charged: asking costs nothing. */
	rl = &ing.authfail_limit;
	for (int i = 0; i < 3 * INGEST_AUTHFAIL_BURST; i++) {
		ASSERT(ratelimit_allowed(rl, "198.51.100.7", now));
	}
	for (int i = 0; i < INGEST_AUTHFAIL_BURST; i++) {
		ratelimit_charge(rl, "198.51.100.7", now);
	}
	ASSERT(!ratelimit_allowed(rl, "198.51.100.7", now));
}

int
main(void)
{
	uv_loop_t loop;
	struct config *cfg = config_create();

	ASSERT_NOT_NULL(cfg);
	ASSERT_EQ(uv_loop_init(&loop), 0);
	ingest_init(&ing, &loop, cfg, NULL, &metrics, idle_cb, NULL);
	test_tokens();
	test_ratelimit();
	ASSERT(ingest_idle(&ing));
	ASSERT_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
	ASSERT_EQ(uv_loop_close(&loop), 0);
	config_destroy(cfg);
	return 0;
}
