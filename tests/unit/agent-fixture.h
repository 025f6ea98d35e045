/*
 * agent-fixture.h: scan a fixture root into a ledger and look events up
 * (shared by the agent's unit tests; static functions only).
 */
#ifndef AM_TEST_AGENT_FIXTURE_H
#define AM_TEST_AGENT_FIXTURE_H

#include <stdio.h>
#include <string.h>

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
	ASSERT_EQ(scan_add_origin(s, "dana", "subscription"), 0);
	s->settle_all = true;
	if (tool == EVENT_TOOL_CLAUDE) {
		scan_walk_claude(s, root, 0, scan_read_all_cb, NULL);
	} else {
		scan_walk_codex(s, root, 0, scan_read_all_cb, NULL);
	}
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

#endif
