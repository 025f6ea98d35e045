/*
 * peers.h: open connections counted per client address, so that one address
 * cannot hold every connection slot. IPv4 counts per address; IPv6 per /64,
 * the smallest block a single host is usually given. Pure: no libuv.
 */
#ifndef AM_COLLECTOR_PEERS_H
#define AM_COLLECTOR_PEERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PEERS_BUCKETS 4096 /* power of two */

/* An IPv4 address as ::ffff:a.b.c.d, or an IPv6 /64 with the host half zeroed. */
struct peer_key {
	uint8_t b[16];
};

struct peer_entry;

struct peers {
	struct peer_entry *buckets[PEERS_BUCKETS];
	uint64_t seed; /* keyed hash: a client cannot choose addresses that share a chain */
	size_t n;      /* addresses with at least one connection */
};

/* peers_init(p, seed): an empty table. */
void peers_init(struct peers *p, uint64_t seed);

/* peers_finish(p): free every entry; p may be init'ed again. */
void peers_finish(struct peers *p);

/*
 * peers_key(sa, ret_key): the counting key of a peer address. Returns 0, or
 * -EAFNOSUPPORT for a family other than AF_INET and AF_INET6.
 */
int peers_key(const struct sockaddr *sa, struct peer_key *ret_key);

/*
 * peers_add(p, key, max): count one more connection from key unless it
 * already has max. Returns 0, -EUSERS over the cap, or -ENOMEM.
 */
int peers_add(struct peers *p, const struct peer_key *key, unsigned max);

/* peers_remove(p, key): one connection from key closed (key must be counted). */
void peers_remove(struct peers *p, const struct peer_key *key);

/* peers_count(p, key): open connections counted for key. */
unsigned peers_count(const struct peers *p, const struct peer_key *key);

#endif
