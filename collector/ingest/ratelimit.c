/* ratelimit.c: token buckets per address; see ratelimit.h. */
#include "ratelimit.h"

#include <stdio.h>
#include <string.h>

#define RATELIMIT_PROBE 8

void
ratelimit_init(struct ratelimit *rl, double burst, double per_sec)
{
	memset(rl, 0, sizeof(*rl));
	rl->burst = burst;
	rl->per_sec = per_sec;
}

/* The bucket of peer, refilled to now; never NULL: a slot is reused. */
static struct ratelimit_bucket *
bucket(struct ratelimit *rl, const char *peer, uint64_t now)
{
	uint32_t h = 2166136261u;
	struct ratelimit_bucket *b = NULL, *oldest = NULL;

	for (const char *p = peer; *p; p++) {
		h = (h ^ (uint8_t)*p) * 16777619u;
	}
	for (unsigned i = 0; i < RATELIMIT_PROBE && b == NULL; i++) {
		struct ratelimit_bucket *e = &rl->table[(h + i) % RATELIMIT_SLOTS];
		if (e->peer[0] != '\0' && strcmp(e->peer, peer) == 0) {
			b = e;
		} else if (oldest == NULL || e->peer[0] == '\0' ||
			   (oldest->peer[0] != '\0' && e->last_ns < oldest->last_ns)) {
			oldest = e;
		}
	}
	if (b == NULL) {
		b = oldest;
		snprintf(b->peer, sizeof(b->peer), "%s", peer);
		b->tokens = rl->burst;
		b->last_ns = now;
	}
	b->tokens += (double)(now - b->last_ns) / 1e9 * rl->per_sec;
	if (b->tokens > rl->burst) {
		b->tokens = rl->burst;
	}
	b->last_ns = now;
	return b;
}

bool
ratelimit_take(struct ratelimit *rl, const char *peer, uint64_t now_ns)
{
	struct ratelimit_bucket *b = bucket(rl, peer, now_ns);

	if (b->tokens < 1) {
		return false;
	}
	b->tokens -= 1;
	return true;
}

bool
ratelimit_allowed(struct ratelimit *rl, const char *peer, uint64_t now_ns)
{
	return bucket(rl, peer, now_ns)->tokens >= 1;
}

void
ratelimit_charge(struct ratelimit *rl, const char *peer, uint64_t now_ns)
{
	struct ratelimit_bucket *b = bucket(rl, peer, now_ns);

	b->tokens = b->tokens >= 1 ? b->tokens - 1 : 0;
}
