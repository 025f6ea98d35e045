/*
 * agent-fixture.h: scan a fixture root into a ledger and look events up
 * (shared by the agent's unit tests; static functions only).
 */
#ifndef AM_TEST_AGENT_FIXTURE_H
#define AM_TEST_AGENT_FIXTURE_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent-test-paths.h"
#include "event_id.h"
#include "log.h"
#include "project.h"
#include "scan.h"
#include "test.h"

static struct project fx_project;

/* Scan fixture directory rel (under tests/fixtures) as a root of tool. */
static inline void
fx_scan(struct scan *s, enum event_tool tool, const char *rel)
{
	char root[4096];

	snprintf(root, sizeof(root), "%s/%s", AM_FIXTURES, rel);
	project_init(&fx_project, PROJECT_KEYED_HASH, (const uint8_t *)"test-key", 8);
	ASSERT_EQ(scan_init(s, &fx_project), 0);
	ASSERT_EQ(scan_add_origin(s, "dana", EVENT_BILLING_SUBSCRIPTION), 0);
	s->settle_all = true;
	scan_walk_one(s, tool, root, 0, scan_read_all_cb, NULL);
}

static inline void
fx_done(struct scan *s)
{
	scan_finish(s);
	project_finish(&fx_project);
}

/* The event whose dedup key is key, or NULL. */
static inline const struct ledger_rec *
fx_event(const struct scan *s, enum event_tool tool, const char *key)
{
	uint8_t id[16];

	am_event_id(event_tool_name(tool), key, strlen(key), id);
	return ledger_find(&s->ledger, id);
}

/* Append text to the file at path (created when missing). */
static inline void
fx_append(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	ASSERT(fd >= 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/*
 * The fingerprint the tracking engine keeps of a whole file under 4 KB
 * (FNV-1a), as the old state formats wrote it; its size in *ret_size.
 */
static inline uint64_t
fx_fnv_file(const char *path, uint64_t *ret_size)
{
	char buf[4096];
	FILE *f = fopen(path, "r");
	size_t n;
	uint64_t h = 1469598103934665603ull;

	ASSERT_NOT_NULL(f);
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	ASSERT_LT(n, sizeof(buf));
	for (size_t i = 0; i < n; i++) {
		h = (h ^ (unsigned char)buf[i]) * 1099511628211ull;
	}
	*ret_size = n;
	return h;
}

#endif
