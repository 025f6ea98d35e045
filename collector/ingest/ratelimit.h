/*
 * ratelimit.h: a token bucket per client address, in a bounded table. A new
 * address takes a free slot, else the one idle longest among a few probed,
 * so a flood of addresses only forgets old buckets (they refill anyway).
 * Pure: the caller passes the time.
 */
#ifndef AM_COLLECTOR_RATELIMIT_H
#define AM_COLLECTOR_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_SLOTS 256

struct ratelimit_bucket {
	char peer[64]; /* "" : free */
	double tokens;
	uint64_t last_ns;
};

struct ratelimit {
	double burst, per_sec;
	struct ratelimit_bucket table[RATELIMIT_SLOTS];
};

/* ratelimit_init(rl, burst, per_sec): every address starts with burst tokens. */
void ratelimit_init(struct ratelimit *rl, double burst, double per_sec);

/* ratelimit_take(rl, peer, now_ns): take one token if peer has one. */
bool ratelimit_take(struct ratelimit *rl, const char *peer, uint64_t now_ns);

/* ratelimit_allowed(rl, peer, now_ns): peer has a token (none is taken). */
bool ratelimit_allowed(struct ratelimit *rl, const char *peer, uint64_t now_ns);

/* ratelimit_charge(rl, peer, now_ns): take one token, down to zero. */
void ratelimit_charge(struct ratelimit *rl, const char *peer, uint64_t now_ns);

#endif
