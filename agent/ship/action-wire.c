/* action-wire.c: action records on the wire; see action-wire.h. */
#include "action-wire.h"

#include <string.h>

/* enum action_kind order, and the wire's ActionKind values. */
static const Aimeter__V1__ActionKind kinds[ACTION_KIND_MAX] = {
	AIMETER__V1__ACTION_KIND__ACTION_KIND_EDIT,     AIMETER__V1__ACTION_KIND__ACTION_KIND_WRITE,
	AIMETER__V1__ACTION_KIND__ACTION_KIND_SHELL,    AIMETER__V1__ACTION_KIND__ACTION_KIND_COMMIT,
	AIMETER__V1__ACTION_KIND__ACTION_KIND_PULL_REQUEST,
	AIMETER__V1__ACTION_KIND__ACTION_KIND_SUBAGENT, AIMETER__V1__ACTION_KIND__ACTION_KIND_SKILL,
	AIMETER__V1__ACTION_KIND__ACTION_KIND_MCP,      AIMETER__V1__ACTION_KIND__ACTION_KIND_WEB,
	AIMETER__V1__ACTION_KIND__ACTION_KIND_OTHER,
};

static const Aimeter__V1__ActionDecision decisions[ACTION_DECISION_MAX] = {
	AIMETER__V1__ACTION_DECISION__ACTION_DECISION_UNKNOWN,
	AIMETER__V1__ACTION_DECISION__ACTION_DECISION_ACCEPTED,
	AIMETER__V1__ACTION_DECISION__ACTION_DECISION_REJECTED,
	AIMETER__V1__ACTION_DECISION__ACTION_DECISION_ERROR,
};

void
action_wire_fill(const struct action_rec *a, const char *user, const char *team_hint,
		 am_action_record *ret)
{
	aimeter__v1__action_record__init(ret);
	ret->action_id.data = (uint8_t *)(uintptr_t)a->id; /* borrowed; protobuf-c wants it mutable */
	ret->action_id.len = sizeof(a->id);
	ret->ts_ms = a->ts_ms;
	ret->tool = (char *)(uintptr_t)event_tool_name(a->tool);
	ret->session = (char *)(uintptr_t)a->session;
	ret->project = (char *)(uintptr_t)a->project;
	ret->user = (char *)(uintptr_t)(user != NULL ? user : "");
	ret->team_hint = (char *)(uintptr_t)(team_hint != NULL ? team_hint : "");
	ret->kind = (unsigned)a->kind < ACTION_KIND_MAX ? kinds[a->kind]
							: AIMETER__V1__ACTION_KIND__ACTION_KIND_OTHER;
	ret->tool_name = (char *)(uintptr_t)a->tool_name;
	ret->target = (char *)(uintptr_t)a->target;
	ret->decision = (unsigned)a->decision < ACTION_DECISION_MAX
				? decisions[a->decision]
				: AIMETER__V1__ACTION_DECISION__ACTION_DECISION_UNKNOWN;
	ret->lines_added = a->lines_added;
	ret->lines_removed = a->lines_removed;
	ret->proposed_lines_added = a->proposed_added;
	ret->proposed_lines_removed = a->proposed_removed;
	ret->file_ext = (char *)(uintptr_t)a->file_ext;
	ret->commits = a->commit ? 1 : 0;
	ret->pull_requests = a->pull_request ? 1 : 0;
	ret->in_subagent = a->in_subagent;
}

bool
action_wire_allowed(uint32_t max_schema)
{
	return max_schema >= AM_SCHEMA_VERSION_ACTIONS;
}
