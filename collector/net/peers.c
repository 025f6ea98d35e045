/* peers.c: per-address connection counts in a chained hash table; see peers.h. */
#include "peers.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct peer_entry {
	struct peer_entry *next;
	struct peer_key key;
	unsigned count;
};

void
peers_init(struct peers *p, uint64_t seed)
{
	memset(p, 0, sizeof(*p));
	p->seed = seed | 1;
}

void
peers_finish(struct peers *p)
{
	for (size_t i = 0; i < PEERS_BUCKETS; i++) {
		struct peer_entry *e = p->buckets[i], *next;
		for (; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		p->buckets[i] = NULL;
	}
	p->n = 0;
}

int
peers_key(const struct sockaddr *sa, struct peer_key *ret_key)
{
	struct peer_key k;

	memset(&k, 0, sizeof(k));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
		k.b[10] = k.b[11] = 0xff;
		memcpy(&k.b[12], &a->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
			memcpy(k.b, &a->sin6_addr, 16); /* an IPv4 client of a dual-stack socket */
		} else {
			memcpy(k.b, &a->sin6_addr, 8);
		}
	} else {
		return -EAFNOSUPPORT;
	}
	*ret_key = k;
	return 0;
}

/* A keyed multiply-xorshift over the 16 bytes (not cryptographic; the seed is secret). */
static size_t
bucket_of(const struct peers *p, const struct peer_key *key)
{
	uint64_t h = p->seed, w[2];

	memcpy(w, key->b, sizeof(w));
	for (int i = 0; i < 2; i++) {
		h ^= w[i];
		h *= 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	h *= p->seed;
	h ^= h >> 32;
	return (size_t)(h & (PEERS_BUCKETS - 1));
}

static struct peer_entry **
find(const struct peers *p, const struct peer_key *key)
{
	struct peer_entry **pe = (struct peer_entry **)&p->buckets[bucket_of(p, key)];

	while (*pe != NULL && memcmp(&(*pe)->key, key, sizeof(*key)) != 0) {
		pe = &(*pe)->next;
	}
	return pe;
}

int
peers_add(struct peers *p, const struct peer_key *key, unsigned max)
{
	struct peer_entry **pe = find(p, key), *e = *pe;

	if (e != NULL) {
		if (e->count >= max) {
			return -EUSERS;
		}
		e->count++;
		return 0;
	}
	if (max == 0) {
		return -EUSERS;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		return -ENOMEM;
	}
	e->key = *key;
	e->count = 1;
	*pe = e; /* the end of the chain */
	p->n++;
	return 0;
}

void
peers_remove(struct peers *p, const struct peer_key *key)
{
	struct peer_entry **pe = find(p, key), *e = *pe;

	if (e == NULL) {
		return; /* not counted: nothing to undo */
	}
	if (--e->count == 0) {
		*pe = e->next;
		free(e);
		p->n--;
	}
}

unsigned
peers_count(const struct peers *p, const struct peer_key *key)
{
	struct peer_entry **pe = find(p, key);

	return *pe != NULL ? (*pe)->count : 0;
}
