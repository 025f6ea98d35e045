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
	free(l->strs);
	free(l->str_slots);
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
str_rehash(struct ledger *l, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 1; i < l->n_strs; i++) {
		size_t j = hash_bytes(l->strs[i], strlen(l->strs[i])) & (n_slots - 1);
		while (slots[j] != 0) {
			j = (j + 1) & (n_slots - 1);
		}
		slots[j] = (uint32_t)i;
	}
	free(l->str_slots);
	l->str_slots = slots;
	l->n_str_slots = n_slots;
	return 0;
}

int
ledger_intern(struct ledger *l, const char *s, uint32_t *ret_idx)
{
	size_t n, j;
	char *copy;

	if (s == NULL || s[0] == '\0') {
		*ret_idx = 0;
		return 0;
	}
	if (l->n_strs == 0) {
		l->strs = malloc(64 * sizeof(*l->strs));
		if (l->strs == NULL) {
			return -ENOMEM;
		}
		l->cap_strs = 64;
		l->strs[0] = (char *)"";
		l->n_strs = 1;
	}
	if ((l->n_strs + 1) * 2 > l->n_str_slots &&
	    str_rehash(l, l->n_str_slots ? l->n_str_slots * 2 : 128) < 0) {
		return -ENOMEM;
	}
	n = strlen(s);
	j = hash_bytes(s, n) & (l->n_str_slots - 1);
	while (l->str_slots[j] != 0) {
		if (strcmp(l->strs[l->str_slots[j]], s) == 0) {
			*ret_idx = l->str_slots[j];
			return 0;
		}
		j = (j + 1) & (l->n_str_slots - 1);
	}
	if (l->n_strs == l->cap_strs) {
		char **strs = realloc(l->strs, l->cap_strs * 2 * sizeof(*strs));
		if (strs == NULL) {
			return -ENOMEM;
		}
		l->strs = strs;
		l->cap_strs *= 2;
	}
	copy = arena_dup(l, s, n);
	if (copy == NULL) {
		return -ENOMEM;
	}
	l->strs[l->n_strs] = copy;
	l->str_slots[j] = (uint32_t)l->n_strs;
	*ret_idx = (uint32_t)l->n_strs++;
	return 0;
}

const char *
ledger_str(const struct ledger *l, uint32_t idx)
{
	return idx < l->n_strs ? l->strs[idx] : "";
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

static int
set_strings(struct ledger *l, struct ledger_rec *r, const struct ledger_obs *o)
{
	if (ledger_intern(l, o->model, &r->model) < 0 ||
	    ledger_intern(l, o->session, &r->session) < 0 ||
	    ledger_intern(l, o->project, &r->project) < 0 ||
	    ledger_intern(l, o->speed, &r->speed) < 0 || ledger_intern(l, o->tier, &r->tier) < 0) {
		return -ENOMEM;
	}
	r->origin = o->origin;
	return 0;
}

static void
take(struct ledger *l, struct ledger_rec *r, const struct ledger_obs *o)
{
	r->ts_ms = o->ts_ms;
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		r->tok[b] = (uint32_t)(o->tok[b] < LEDGER_TOK_MAX ? o->tok[b] : LEDGER_TOK_MAX);
	}
	(void)set_strings(l, r, o); /* on ENOMEM a field stays as it was */
	r->flags = (uint8_t)((r->flags & ~LEDGER_SIDECHAIN) | (o->sidechain ? LEDGER_SIDECHAIN : 0));
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
		take(l, r, o); /* main-line copy beats what sidechain copies said */
		return;
	}
	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		if (o->tok[b] > r->tok[b]) {
			r->tok[b] = (uint32_t)(o->tok[b] < LEDGER_TOK_MAX ? o->tok[b] : LEDGER_TOK_MAX);
		}
	}
	if (earlier(l, r, o)) {
		uint32_t speed = r->speed, tier = r->tier;
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
			(void)ledger_intern(l, o->speed, &r->speed);
		}
		if (r->tier == 0 && o->tier != NULL && o->tier[0] != '\0') {
			(void)ledger_intern(l, o->tier, &r->tier);
		}
	}
}

static uint64_t
codex_size32(const uint32_t *tok)
{
	return (uint64_t)tok[EVENT_INPUT] + tok[EVENT_CACHE_READ] + tok[EVENT_OUTPUT];
}

static uint64_t
codex_size(const uint64_t *tok)
{
	return tok[EVENT_INPUT] + tok[EVENT_CACHE_READ] + tok[EVENT_OUTPUT];
}

static void
merge_codex(struct ledger *l, struct ledger_rec *r, const struct ledger_obs *o)
{
	uint64_t a = codex_size32(r->tok), b = codex_size(o->tok);

	if (b < a || (b == a && strcmp(o->session ? o->session : "",
				       ledger_str(l, r->session)) < 0)) {
		take(l, r, o);
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
	if (l->n % LEDGER_BLOCK == 0) {
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
	take(l, r, obs);
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
