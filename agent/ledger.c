/* ledger.c: the event table and its merge rules; see ledger.h. */
#include "ledger.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LEDGER_BLOCK 4096
#define ARENA_CHUNK 65536

void
ledger_init(struct ledger *l)
{
	memset(l, 0, sizeof(*l));
}

static void
pool_finish(struct ledger_pool *p)
{
	free(p->strs);
	free(p->slots);
}

void
ledger_finish(struct ledger *l)
{
	if (l == NULL) {
		return;
	}
	for (size_t i = 0; i < l->n_blocks; i++) {
		free(l->blocks[i]);
	}
	free(l->blocks);
	free(l->slots);
	pool_finish(&l->small);
	pool_finish(&l->models);
	pool_finish(&l->big);
	for (size_t i = 0; i < l->n_chunks; i++) {
		free(l->chunks[i]);
	}
	free(l->chunks);
	memset(l, 0, sizeof(*l));
}

static uint64_t
hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h = (h ^ s[i]) * 1099511628211ull;
	}
	return h;
}

static uint64_t
id_hash(const uint8_t id[16])
{
	uint64_t h;

	/* Event ids are SHA-256 output: any 8 bytes are a good hash. */
	memcpy(&h, id, sizeof(h));
	return h;
}

/* ---- strings ---- */

static char *
arena_dup(struct ledger *l, const char *s, size_t n)
{
	char *p;

	if (n + 1 > l->arena_cap - l->arena_used) {
		size_t cap = n + 1 > ARENA_CHUNK ? n + 1 : ARENA_CHUNK;
		char **chunks = realloc(l->chunks, (l->n_chunks + 1) * sizeof(*chunks));
		if (chunks == NULL) {
			return NULL;
		}
		l->chunks = chunks;
		l->arena = malloc(cap);
		if (l->arena == NULL) {
			l->arena_cap = l->arena_used = 0;
			return NULL;
		}
		l->chunks[l->n_chunks++] = l->arena;
		l->arena_cap = cap;
		l->arena_used = 0;
	}
	p = l->arena + l->arena_used;
	memcpy(p, s, n);
	p[n] = '\0';
	l->arena_used += n + 1;
	return p;
}

static int
pool_rehash(struct ledger_pool *p, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 1; i < p->n_strs; i++) {
		size_t j = hash_bytes(p->strs[i], strlen(p->strs[i])) & (n_slots - 1);
		while (slots[j] != 0) {
			j = (j + 1) & (n_slots - 1);
		}
		slots[j] = (uint32_t)i;
	}
	free(p->slots);
	p->slots = slots;
	p->n_slots = n_slots;
	return 0;
}

/* Intern s in pool p, whose indexes start at base and stay below end. */
static int
pool_intern(struct ledger *l, struct ledger_pool *p, uint32_t base, uint64_t end, const char *s,
	    uint32_t *ret_idx)
{
	size_t n, j;
	char *copy;

	if (s == NULL || s[0] == '\0') {
		*ret_idx = 0;
		return 0;
	}
	if (p->n_strs == 0) {
		p->strs = malloc(64 * sizeof(*p->strs));
		if (p->strs == NULL) {
			return -ENOMEM;
		}
		p->cap_strs = 64;
		p->strs[0] = (char *)"";
		p->n_strs = 1;
	}
	if ((p->n_strs + 1) * 2 > p->n_slots &&
	    pool_rehash(p, p->n_slots ? p->n_slots * 2 : 64) < 0) {
		return -ENOMEM;
	}
	n = strlen(s);
	j = hash_bytes(s, n) & (p->n_slots - 1);
	while (p->slots[j] != 0) {
		if (strcmp(p->strs[p->slots[j]], s) == 0) {
			*ret_idx = base + p->slots[j] - (base > 0 ? 1 : 0);
			return 0;
		}
		j = (j + 1) & (p->n_slots - 1);
	}
	/* the small pool's indexes start at 1, the others at base */
	if ((uint64_t)base + p->n_strs - (base > 0 ? 1 : 0) >= end) {
		return -E2BIG;
	}
	if (p->n_strs == p->cap_strs) {
		char **strs = realloc(p->strs, p->cap_strs * 2 * sizeof(*strs));
		if (strs == NULL) {
			return -ENOMEM;
		}
		p->strs = strs;
		p->cap_strs *= 2;
	}
	copy = arena_dup(l, s, n);
	if (copy == NULL) {
		return -ENOMEM;
	}
	p->strs[p->n_strs] = copy;
	p->slots[j] = (uint32_t)p->n_strs;
	*ret_idx = base + (uint32_t)p->n_strs - (base > 0 ? 1 : 0);
	p->n_strs++;
	return 0;
}

int
ledger_intern(struct ledger *l, const char *s, uint32_t *ret_idx)
{
	return pool_intern(l, &l->big, LEDGER_MODEL_END, (uint64_t)UINT32_MAX + 1, s, ret_idx);
}

static int
intern_model(struct ledger *l, const char *s, uint16_t *ret)
{
	uint32_t idx;
	int r = pool_intern(l, &l->models, LEDGER_SMALL_END, LEDGER_MODEL_END, s, &idx);

	if (r == 0) {
		*ret = (uint16_t)idx;
	}
	return r;
}

static int
intern_small(struct ledger *l, const char *s, uint8_t *ret)
{
	uint32_t idx;
	int r = pool_intern(l, &l->small, 0, LEDGER_SMALL_END, s, &idx);

	if (r == 0) {
		*ret = (uint8_t)idx;
	}
	return r;
}

static const char *
pool_str(const struct ledger_pool *p, uint32_t i)
{
	return i < p->n_strs ? p->strs[i] : "";
}

const char *
ledger_str(const struct ledger *l, uint32_t idx)
{
	if (idx == 0) {
		return "";
	}
	if (idx < LEDGER_SMALL_END) {
		return pool_str(&l->small, idx);
	}
	if (idx < LEDGER_MODEL_END) {
		return pool_str(&l->models, idx - LEDGER_SMALL_END + 1);
	}
	return pool_str(&l->big, idx - LEDGER_MODEL_END + 1);
}

/* ---- records ---- */

struct ledger_rec *
ledger_at(const struct ledger *l, size_t i)
{
	return &l->blocks[i / LEDGER_BLOCK][i % LEDGER_BLOCK];
}

static int
rec_rehash(struct ledger *l, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++) {
		size_t j = id_hash(ledger_at(l, i)->id) & (n_slots - 1);
		while (slots[j] != 0) {
			j = (j + 1) & (n_slots - 1);
		}
		slots[j] = (uint32_t)(i + 1);
	}
	free(l->slots);
	l->slots = slots;
	l->n_slots = n_slots;
	return 0;
}

struct ledger_rec *
ledger_find(const struct ledger *l, const uint8_t id[16])
{
	size_t j;

	if (l->n_slots == 0) {
		return NULL;
	}
	j = id_hash(id) & (l->n_slots - 1);
	while (l->slots[j] != 0) {
		struct ledger_rec *r = ledger_at(l, l->slots[j] - 1);
		if (memcmp(r->id, id, 16) == 0) {
			return r;
		}
		j = (j + 1) & (l->n_slots - 1);
	}
	return NULL;
}

/* All strings of o into r, or none of them. 0, -ENOMEM or -E2BIG. */
static int
set_strings(struct ledger *l, struct ledger_rec *r, const struct ledger_obs *o)
{
	uint32_t session = 0, project = 0;
	uint16_t model = 0;
	uint8_t speed = 0, tier = 0;
	int e;

	if ((e = intern_model(l, o->model, &model)) < 0 ||
	    (e = ledger_intern(l, o->session, &session)) < 0 ||
	    (e = ledger_intern(l, o->project, &project)) < 0 ||
	    (e = intern_small(l, o->speed, &speed)) < 0 || (e = intern_small(l, o->tier, &tier)) < 0) {
		return e;
	}
	r->model = model;
	r->session = session;
	r->project = project;
	r->speed = speed;
	r->tier = tier;
	r->origin = o->origin;
	return 0;
}

static int
take(struct ledger *l, struct ledger_rec *r, const struct ledger_obs *o)
{
	int e = set_strings(l, r, o);

	if (e < 0) {
		return e; /* the record stays as it was */
	}
	r->ts_ms = o->ts_ms;
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		r->tok[b] = (uint32_t)(o->tok[b] < LEDGER_TOK_MAX ? o->tok[b] : LEDGER_TOK_MAX);
	}
	r->flags = (uint8_t)((r->flags & ~LEDGER_SIDECHAIN) | (o->sidechain ? LEDGER_SIDECHAIN : 0));
	return 0;
}

/*
 * Does copy o date the event instead of r? Earliest time wins; on a tie the
 * smaller session id, so the choice does not depend on reading order.
 */
static bool
earlier(const struct ledger *l, const struct ledger_rec *r, const struct ledger_obs *o)
{
	if (o->ts_ms != r->ts_ms) {
		return o->ts_ms < r->ts_ms;
	}
	return strcmp(o->session ? o->session : "", ledger_str(l, r->session)) < 0;
}

static void
merge_claude(struct ledger *l, struct ledger_rec *r, const struct ledger_obs *o)
{
	bool rec_side = (r->flags & LEDGER_SIDECHAIN) != 0;

	if (o->sidechain && !rec_side) {
		l->replays_ignored++; /* a replay of a main-line response */
		return;
	}
	if (!o->sidechain && rec_side) {
		(void)take(l, r, o); /* main-line copy beats sidechain copies; on error r stays */
		return;
	}
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		if (o->tok[b] > r->tok[b]) {
			r->tok[b] = (uint32_t)(o->tok[b] < LEDGER_TOK_MAX ? o->tok[b] : LEDGER_TOK_MAX);
		}
	}
	if (earlier(l, r, o)) {
		uint8_t speed = r->speed, tier = r->tier;
		r->ts_ms = o->ts_ms;
		(void)set_strings(l, r, o);
		/* speed and tier may sit only on some snapshots: keep any value seen */
		if (r->speed == 0) {
			r->speed = speed;
		}
		if (r->tier == 0) {
			r->tier = tier;
		}
	} else {
		if (r->speed == 0 && o->speed != NULL && o->speed[0] != '\0') {
			uint8_t v;
			if (intern_small(l, o->speed, &v) == 0) {
				r->speed = v;
			}
		}
		if (r->tier == 0 && o->tier != NULL && o->tier[0] != '\0') {
			uint8_t v;
			if (intern_small(l, o->tier, &v) == 0) {
				r->tier = v;
			}
		}
	}
}

static uint64_t
codex_size32(const struct ledger_rec *r)
{
	return (uint64_t)r->tok[EVENT_INPUT] + r->tok[EVENT_CACHE_READ] + r->tok[EVENT_OUTPUT];
}

static uint64_t
codex_size(const uint64_t *tok)
{
	return tok[EVENT_INPUT] + tok[EVENT_CACHE_READ] + tok[EVENT_OUTPUT];
}

static void
merge_codex(struct ledger *l, struct ledger_rec *r, const struct ledger_obs *o)
{
	uint64_t a = codex_size32(r), b = codex_size(o->tok);

	if (b < a || (b == a && strcmp(o->session ? o->session : "",
				       ledger_str(l, r->session)) < 0)) {
		(void)take(l, r, o); /* on error r stays as it was */
	}
}

int
ledger_add(struct ledger *l, const struct ledger_obs *obs, struct ledger_rec **ret_rec)
{
	struct ledger_rec *r = ledger_find(l, obs->id);

	if (r != NULL) {
		l->copies_merged++;
		if (obs->tool == EVENT_TOOL_CLAUDE) {
			merge_claude(l, r, obs);
		} else {
			merge_codex(l, r, obs);
		}
		if (ret_rec != NULL) {
			*ret_rec = r;
		}
		return 0;
	}
	if ((l->n + 1) * 2 > l->n_slots && rec_rehash(l, l->n_slots ? l->n_slots * 2 : 1024) < 0) {
		return -ENOMEM;
	}
	if (l->n / LEDGER_BLOCK >= l->n_blocks) {
		struct ledger_rec **blocks = realloc(l->blocks, (l->n_blocks + 1) * sizeof(*blocks));
		if (blocks == NULL) {
			return -ENOMEM;
		}
		l->blocks = blocks;
		l->blocks[l->n_blocks] = malloc(LEDGER_BLOCK * sizeof(struct ledger_rec));
		if (l->blocks[l->n_blocks] == NULL) {
			return -ENOMEM;
		}
		l->n_blocks++;
	}
	r = ledger_at(l, l->n);
	memset(r, 0, sizeof(*r));
	memcpy(r->id, obs->id, 16);
	r->tool = (uint8_t)obs->tool;
	int e = take(l, r, obs);
	if (e < 0) {
		return e; /* not added: the slot is reused by the next event */
	}
	size_t j = id_hash(r->id) & (l->n_slots - 1);
	while (l->slots[j] != 0) {
		j = (j + 1) & (l->n_slots - 1);
	}
	l->slots[j] = (uint32_t)(++l->n);
	if (ret_rec != NULL) {
		*ret_rec = r;
	}
	return 1;
}

_Static_assert(sizeof(struct ledger_rec) == 68, "ledger records are 68 bytes");
