/* test-collector-peers.c: per-address connection counts, IPv4 and IPv6 /64 keys. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "peers.h"
#include "test.h"

static struct peer_key
v4(const char *text)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	struct peer_key k;

	ASSERT_EQ(inet_pton(AF_INET, text, &a.sin_addr), 1);
	ASSERT_EQ(peers_key((struct sockaddr *)&a, &k), 0);
	return k;
}

static struct peer_key
v6(const char *text)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	struct peer_key k;

	ASSERT_EQ(inet_pton(AF_INET6, text, &a.sin6_addr), 1);
	ASSERT_EQ(peers_key((struct sockaddr *)&a, &k), 0);
	return k;
}

TEST(cap_per_address)
{
	static struct peers p;
	struct peer_key a = v4("127.0.0.1"), b = v4("127.0.0.2");

	peers_init(&p, 12345);
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(peers_add(&p, &a, 3), 0);
	}
	ASSERT_EQ(peers_add(&p, &a, 3), -EUSERS);
	ASSERT_EQ(peers_count(&p, &a), 3);
	ASSERT_EQ(peers_add(&p, &b, 3), 0); /* another address has its own share */
	ASSERT_EQ(p.n, 2);
	peers_remove(&p, &a);
	ASSERT_EQ(peers_add(&p, &a, 3), 0);
	for (int i = 0; i < 3; i++) {
		peers_remove(&p, &a);
	}
	ASSERT_EQ(peers_count(&p, &a), 0);
	ASSERT_EQ(p.n, 1);
	peers_remove(&p, &a); /* not counted: a no-op */
	ASSERT_EQ(peers_count(&p, &b), 1);
	peers_finish(&p);
	ASSERT_EQ(p.n, 0);
}

TEST(keys)
{
	struct peer_key x, y;
	struct sockaddr sa = { .sa_family = AF_UNIX };

	/* One /64 is one key; the next /64 another. */
	x = v6("2001:db8:1:2::1");
	y = v6("2001:db8:1:2:ffff:eeee:dddd:cccc");
	ASSERT(memcmp(&x, &y, sizeof(x)) == 0);
	y = v6("2001:db8:1:3::1");
	ASSERT(memcmp(&x, &y, sizeof(x)) != 0);
	/* An IPv4 client of a dual-stack socket counts as that IPv4 address. */
	x = v4("192.0.2.7");
	y = v6("::ffff:192.0.2.7");
	ASSERT(memcmp(&x, &y, sizeof(x)) == 0);
	y = v4("192.0.2.8");
	ASSERT(memcmp(&x, &y, sizeof(x)) != 0);
	ASSERT_EQ(peers_key(&sa, &x), -EAFNOSUPPORT);
}

TEST(many_addresses)
{
	static struct peers p;
	char text[32];

	peers_init(&p, 99);
	for (int i = 0; i < 20000; i++) {
		struct peer_key k;
		snprintf(text, sizeof(text), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		k = v4(text);
		ASSERT_EQ(peers_add(&p, &k, 1), 0);
		ASSERT_EQ(peers_add(&p, &k, 1), -EUSERS);
	}
	ASSERT_EQ(p.n, 20000);
	for (int i = 0; i < 20000; i += 2) {
		struct peer_key k;
		snprintf(text, sizeof(text), "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		k = v4(text);
		peers_remove(&p, &k);
	}
	ASSERT_EQ(p.n, 10000);
	peers_finish(&p);
}

int
main(void)
{
	RUN(cap_per_address);
	RUN(keys);
	RUN(many_addresses);
	return 0;
}
