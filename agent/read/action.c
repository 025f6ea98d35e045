/* action.c: the table of action records and their rules; see action.h. */
#include "action.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"
#include "event_id.h"

/*
 * One call key's merged state. The call side comes from the earliest line
 * carrying the call; the result side keeps what decides it.
 */
struct action_entry {
	/* ordered by size, so no padding: 49k calls in a large scan */
	uint8_t id[16];
	int64_t call_ts;
	int64_t res_ts;
	int64_t exec_exit_code;
	struct action_output out; /* Codex: the first output */
	uint32_t session, project, tool_name, target; /* interned */
	uint32_t prop_added, prop_removed;
	uint32_t applied_added, applied_removed;
	uint32_t deleted_lines;
	uint16_t origin;
	char file_ext[12];
	/* the call, from the earliest line carrying it */
	uint8_t tool;
	bool has_call;
	bool all_subagent; /* every call line so far is a sub-agent line */
	uint8_t kind, cls, web;
	bool shell_commit, shell_pr, mcp_pr, call_background;
	/* Claude: the earliest deciding result */
	bool has_result;
	uint8_t decision;
	bool has_applied, res_background;
	/* Codex: the first output and end events */
	bool has_output, has_exec_end, has_patch_end, has_mcp_end;
	bool exec_declined, exec_exit_known, patch_declined, patch_success, mcp_error;
};

static const char *const kind_names[ACTION_KIND_MAX] = {
	"edit", "write", "shell", "commit", "pull_request", "subagent", "skill", "mcp", "web", "other",
};
static const char *const decision_names[ACTION_DECISION_MAX] = {
	"unknown", "accepted", "rejected", "error",
};

const char *
action_kind_name(enum action_kind k)
{
	return (unsigned)k < ACTION_KIND_MAX ? kind_names[k] : "other";
}

const char *
action_decision_name(enum action_decision d)
{
	return (unsigned)d < ACTION_DECISION_MAX ? decision_names[d] : "unknown";
}

void
action_id(enum event_tool tool, const char *key, uint8_t ret_id[16])
{
	char buf[600];
	size_t n = strlen(key);

	if (n > sizeof(buf) - 7) {
		n = sizeof(buf) - 7; /* keys are short ids; a hostile one is cut, still stable */
	}
	memcpy(buf, "action:", 7);
	memcpy(buf + 7, key, n);
	am_event_id(event_tool_name(tool), buf, n + 7, ret_id);
}

void
action_table_init(struct action_table *t, const uint8_t *key, size_t key_len, const char *allow)
{
	memset(t, 0, sizeof(*t));
	t->key = key;
	t->key_len = key_len;
	t->allow = allow;
	json_doc_init(&t->args);
}

void
action_table_finish(struct action_table *t)
{
	strpool_finish(&t->strs, true);
	free(t->slots);
	free(t->v);
	json_doc_finish(&t->args);
	memset(t, 0, sizeof(*t));
}

/* Ids are SHA-256 output: their first bytes are already a uniform hash. */
static uint64_t
id_hash(const uint8_t id[16])
{
	uint64_t h;

	memcpy(&h, id, sizeof(h));
	return h;
}

/* Intern s; 0 is "". Returns the index, or -ENOMEM. */
static int64_t
intern(struct action_table *t, const char *s)
{
	uint32_t i;
	int r = strpool_intern(&t->strs, s, UINT32_MAX, NULL, NULL, &i);

	return r < 0 ? r : (int64_t)i;
}

static const char *
str_at(const struct action_table *t, uint32_t i)
{
	return strpool_str(&t->strs, i);
}

/* intern() of a call's field f: the same string as the last call's is not hashed again. */
static int64_t
intern_recent(struct action_table *t, unsigned f, const char *s)
{
	int64_t i;

	if (s != NULL && t->recent[f] != 0 && strcmp(str_at(t, t->recent[f]), s) == 0) {
		return t->recent[f];
	}
	if ((i = intern(t, s)) >= 0) {
		t->recent[f] = (uint32_t)i;
	}
	return i;
}

/*
 * A slot holds the index + 1 in its low SLOT_IDX_BITS and six bits of the
 * id above them, so a probe past other ids seldom reads their entries (a
 * cache miss each in a table of many MB), and four bytes a slot keep the
 * slots of a large scan in the core's cache.
 */
#define SLOT_IDX_BITS 26
#define SLOT_IDX_MASK ((1u << SLOT_IDX_BITS) - 1)

static uint32_t
slot_tag(const uint8_t id[16])
{
	return (uint32_t)(id_hash(id) >> 58) << SLOT_IDX_BITS;
}

static int
slots_grow(struct action_table *t)
{
	size_t ns = t->n_slots ? t->n_slots * 2 : 256;
	uint32_t *slots = calloc(ns, sizeof(*slots));

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		size_t j = id_hash(t->v[i].id) & (ns - 1);
		while (slots[j] != 0) {
			j = (j + 1) & (ns - 1);
		}
		slots[j] = slot_tag(t->v[i].id) | (uint32_t)(i + 1);
	}
	free(t->slots);
	t->slots = slots;
	t->n_slots = ns;
	return 0;
}

/* The entry of key, created empty when new; NULL on -ENOMEM. */
static struct action_entry *
entry(struct action_table *t, enum event_tool tool, const char *key)
{
	uint8_t id[16];
	size_t j, kl = strlen(key);

	if (kl < sizeof(t->last_key) && t->last_tool == (uint8_t)tool + 1 &&
	    memcmp(t->last_key, key, kl + 1) == 0) {
		memcpy(id, t->last_id, 16);
	} else {
		action_id(tool, key, id);
		if (kl < sizeof(t->last_key)) {
			memcpy(t->last_key, key, kl + 1);
			memcpy(t->last_id, id, 16);
			t->last_tool = (uint8_t)tool + 1;
		}
	}
	if ((t->n + 1) * 2 > t->n_slots && slots_grow(t) < 0) {
		return NULL;
	}
	j = id_hash(id) & (t->n_slots - 1);
	uint32_t tag = slot_tag(id);
	while (t->slots[j] != 0) {
		if ((t->slots[j] & ~SLOT_IDX_MASK) == tag) {
			struct action_entry *e = &t->v[(t->slots[j] & SLOT_IDX_MASK) - 1];
			if (memcmp(e->id, id, 16) == 0) {
				return e;
			}
		}
		j = (j + 1) & (t->n_slots - 1);
	}
	if (t->n + 1 >= SLOT_IDX_MASK) {
		return NULL; /* 67 million calls: no more, as in the ledger */
	}
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct action_entry *v = realloc(t->v, cap * sizeof(*v));
		if (v == NULL) {
			return NULL;
		}
		t->v = v;
		t->cap = cap;
	}
	struct action_entry *e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, 16);
	e->tool = (uint8_t)tool;
	e->all_subagent = true;
	t->slots[j] = tag | (uint32_t)++t->n;
	return e;
}

/* A copy no earlier than the call known: only in_subagent and the session can change. */
static int
merge_copy(struct action_table *t, struct action_entry *e, int64_t ts, bool subagent,
	   const char *session)
{
	int64_t idx;

	e->all_subagent = e->all_subagent && subagent;
	if (ts == e->call_ts && strcmp(session != NULL ? session : "", str_at(t, e->session)) < 0) {
		/* copies are identical; the session is the smallest among the earliest */
		if ((idx = intern(t, session)) < 0) {
			return -ENOMEM;
		}
		e->session = (uint32_t)idx;
	}
	return 0;
}

int
action_merge_copy(struct action_table *t, enum event_tool tool, const char *key, int64_t ts_ms,
		  bool subagent, const char *session)
{
	struct action_entry *e = entry(t, tool, key);

	if (e == NULL) {
		return -ENOMEM;
	}
	if (!e->has_call || ts_ms < e->call_ts) {
		return 0;
	}
	return merge_copy(t, e, ts_ms, subagent, session) < 0 ? -ENOMEM : 1;
}

int
action_add_call(struct action_table *t, const struct action_call *c)
{
	struct action_entry *e = entry(t, c->tool, c->key);
	int64_t session, project, name, target;

	if (e == NULL) {
		return -ENOMEM;
	}
	if (e->has_call && c->ts_ms >= e->call_ts) {
		return merge_copy(t, e, c->ts_ms, c->subagent, c->session);
	}
	e->all_subagent = e->all_subagent && c->subagent;
	if ((session = intern_recent(t, 0, c->session)) < 0 ||
	    (project = intern_recent(t, 1, c->project)) < 0 ||
	    (name = intern_recent(t, 2, c->tool_name)) < 0 ||
	    (target = intern_recent(t, 3, c->target)) < 0) {
		return -ENOMEM;
	}
	e->has_call = true;
	e->call_ts = c->ts_ms;
	e->session = (uint32_t)session;
	e->project = (uint32_t)project;
	e->tool_name = (uint32_t)name;
	e->target = (uint32_t)target;
	e->origin = c->origin;
	e->kind = (uint8_t)c->kind;
	e->cls = (uint8_t)c->cls;
	e->web = (uint8_t)c->web;
	e->shell_commit = c->shell_commit;
	e->shell_pr = c->shell_pr;
	e->mcp_pr = c->mcp_pr;
	e->call_background = c->background;
	e->prop_added = c->prop_added;
	e->prop_removed = c->prop_removed;
	memcpy(e->file_ext, c->file_ext, sizeof(e->file_ext));
	e->file_ext[sizeof(e->file_ext) - 1] = '\0';
	return 0;
}

int
action_add_result(struct action_table *t, const struct action_result *r)
{
	struct action_entry *e = entry(t, r->tool, r->key);

	if (e == NULL) {
		return -ENOMEM;
	}
	switch (r->what) {
	case ACTION_RES_CLAUDE:
		/* the earliest result whose decision is not unknown */
		if (e->has_result &&
		    (r->decision == ACTION_UNKNOWN ||
		     (e->decision != ACTION_UNKNOWN && r->ts_ms >= e->res_ts))) {
			return 0;
		}
		e->has_result = true;
		e->res_ts = r->ts_ms;
		e->decision = (uint8_t)r->decision;
		e->has_applied = r->has_applied;
		e->applied_added = r->applied_added;
		e->applied_removed = r->applied_removed;
		e->res_background = r->background;
		break;
	case ACTION_RES_OUTPUT:
		if (!e->has_output) {
			e->has_output = true;
			e->out = r->out;
		}
		break;
	case ACTION_RES_EXEC_END:
		if (!e->has_exec_end) {
			e->has_exec_end = true;
			e->exec_declined = r->declined;
			e->exec_exit_known = r->exit_known;
			e->exec_exit_code = r->exit_code;
		}
		break;
	case ACTION_RES_PATCH_END:
		if (!e->has_patch_end) {
			e->has_patch_end = true;
			e->patch_declined = r->declined;
			e->patch_success = r->success;
			e->deleted_lines = r->deleted_lines;
		}
		break;
	case ACTION_RES_MCP_END:
		if (!e->has_mcp_end) {
			e->has_mcp_end = true;
			e->mcp_error = r->error;
		}
		break;
	}
	return 0;
}

/* D.3 for a Codex call; *ret_exit_zero: its exit code is known and 0 (D.6). */
static enum action_decision
codex_decision(const struct action_entry *e, bool *ret_exit_zero)
{
	const struct action_output *o = &e->out;

	*ret_exit_zero = false;
	switch (e->cls) {
	case ACTION_CLASS_WEB:
		return (enum action_decision)e->web;
	case ACTION_CLASS_SHELL:
		if (e->has_exec_end) {
			*ret_exit_zero = !e->exec_declined && e->exec_exit_known && e->exec_exit_code == 0;
			return e->exec_declined       ? ACTION_REJECTED
			       : !e->exec_exit_known ? ACTION_ERROR
			       : e->exec_exit_code == 0 ? ACTION_ACCEPTED
						       : ACTION_ERROR;
		}
		break;
	case ACTION_CLASS_PATCH:
		if (e->has_patch_end) {
			return e->patch_declined ? ACTION_REJECTED
			       : e->patch_success ? ACTION_ACCEPTED
						  : ACTION_ERROR;
		}
		break;
	case ACTION_CLASS_MCP:
		if (e->has_mcp_end) {
			return e->mcp_error ? ACTION_ERROR : ACTION_ACCEPTED;
		}
		break;
	default:
		break;
	}
	if (!e->has_output) {
		return ACTION_UNKNOWN;
	}
	if (o->rejected) {
		return ACTION_REJECTED;
	}
	if (o->aborted) {
		return ACTION_UNKNOWN;
	}
	switch (e->cls) {
	case ACTION_CLASS_SHELL:
		if (o->exit_known) {
			*ret_exit_zero = o->exit_code == 0;
			return o->exit_code == 0 ? ACTION_ACCEPTED : ACTION_ERROR;
		}
		return o->running ? ACTION_ACCEPTED : ACTION_ERROR;
	case ACTION_CLASS_PATCH:
		if (o->exit_known) {
			return o->exit_code == 0 ? ACTION_ACCEPTED : ACTION_ERROR;
		}
		return o->success_text ? ACTION_ACCEPTED : ACTION_ERROR;
	default:
		return ACTION_ACCEPTED;
	}
}

bool
action_table_get(const struct action_table *t, size_t i, struct action_rec *ret)
{
	const struct action_entry *e = &t->v[i];
	bool exit_zero = false, accepted;

	if (!e->has_call) {
		return false;
	}
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->id, e->id, 16);
	ret->tool = (enum event_tool)e->tool;
	ret->ts_ms = e->call_ts;
	ret->session = str_at(t, e->session);
	ret->project = str_at(t, e->project);
	ret->origin = e->origin;
	ret->kind = (enum action_kind)e->kind;
	ret->tool_name = str_at(t, e->tool_name);
	ret->target = str_at(t, e->target);
	ret->in_subagent = e->all_subagent;
	memcpy(ret->file_ext, e->file_ext, sizeof(ret->file_ext));
	if (e->cls == ACTION_CLASS_DIRECT) {
		ret->decision = e->has_result ? (enum action_decision)e->decision : ACTION_UNKNOWN;
	} else {
		ret->decision = codex_decision(e, &exit_zero);
	}
	accepted = ret->decision == ACTION_ACCEPTED;
	if (ret->kind == ACTION_EDIT || ret->kind == ACTION_WRITE) {
		uint32_t deleted = e->cls == ACTION_CLASS_PATCH && e->has_patch_end ? e->deleted_lines : 0;
		ret->proposed_added = e->prop_added;
		ret->proposed_removed = e->prop_removed + deleted;
		if (accepted && e->cls == ACTION_CLASS_DIRECT && e->has_applied) {
			ret->lines_added = e->applied_added;
			ret->lines_removed = e->applied_removed;
		} else if (accepted) {
			ret->lines_added = ret->proposed_added;
			ret->lines_removed = ret->proposed_removed;
		}
	} else {
		ret->file_ext[0] = '\0';
	}
	if (accepted) {
		bool ran = e->cls == ACTION_CLASS_DIRECT ? !e->call_background && !e->res_background
							 : exit_zero;
		ret->commit = ran && e->shell_commit;
		ret->pull_request = (ran && e->shell_pr) || e->mcp_pr;
	}
	return true;
}

/* A sort key standing alone, so qsort needs no context. */
struct order_key {
	int64_t ts;
	uint8_t id[16];
	size_t index;
};

static int
cmp_order(const void *a, const void *b)
{
	const struct order_key *x = a, *y = b;

	if (x->ts != y->ts) {
		return x->ts < y->ts ? -1 : 1;
	}
	return memcmp(x->id, y->id, 16);
}

size_t *
action_table_sort(const struct action_table *t)
{
	size_t *order = malloc((t->n ? t->n : 1) * sizeof(*order));
	struct order_key *k = malloc((t->n ? t->n : 1) * sizeof(*k));

	if (order == NULL || k == NULL) {
		free(order);
		free(k);
		return NULL;
	}
	for (size_t i = 0; i < t->n; i++) {
		k[i].ts = t->v[i].call_ts;
		memcpy(k[i].id, t->v[i].id, 16);
		k[i].index = i;
	}
	qsort(k, t->n, sizeof(*k), cmp_order);
	for (size_t i = 0; i < t->n; i++) {
		order[i] = k[i].index;
	}
	free(k);
	return order;
}

static bool
allowed(const char *allow, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = allow; p != NULL && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		const char *a = p, *z = p + len;
		while (a < z && (*a == ' ' || *a == '\t')) {
			a++;
		}
		while (z > a && (z[-1] == ' ' || z[-1] == '\t')) {
			z--;
		}
		if ((size_t)(z - a) == n && n > 0 && memcmp(a, name, n) == 0) {
			return true;
		}
		p = comma != NULL ? comma + 1 : p + len;
	}
	return false;
}

void
action_name(const struct action_table *t, const char *category, const char *name, char *ret,
	    size_t size)
{
	uint8_t mac[DIGEST_SHA256_SIZE];
	unsigned mac_len = sizeof(mac);
	size_t cl = strlen(category), nl = strlen(name);
	unsigned char *msg;

	if (allowed(t->allow, name)) {
		snprintf(ret, size, "%s", name);
		return;
	}
	if ((msg = malloc(cl + 1 + nl)) == NULL) {
		snprintf(ret, size, "h:");
		return;
	}
	memcpy(msg, category, cl);
	msg[cl] = 0;
	memcpy(msg + cl + 1, name, nl);
	/* Nettle, not libcrypto: loading that cost the scan 3.4 MB (common/digest.h) */
	digest_hmac_sha256(t->key != NULL ? t->key : (const uint8_t *)"", t->key_len, msg,
			   cl + 1 + nl, mac);
	free(msg);
	snprintf(ret, size, "h:");
	for (unsigned i = 0; i < 8 && i < mac_len && 2 + 2 * i + 2 < size; i++) {
		snprintf(ret + 2 + 2 * i, 3, "%02x", mac[i]);
	}
}
