/* ledger.c: the event table and its merge rules; see ledger.h. */
#include "ledger.h"

#include <endian.h>
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
	free(l->wide);
	free(l->shapes);
	free(l->shape_slots);
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

/*
 * The id index: open addressing with linear probing over any number of
 * slots (not a power of two), filled up to 80%. A slot holds the record
 * index + 1 in its low SLOT_IDX_BITS and 6 more bits of the id's hash above
 * them, so a probe touches a record only when those bits agree.
 */
#define SLOT_IDX_BITS 26
#define SLOT_IDX_MASK ((1u << SLOT_IDX_BITS) - 1)
#define SLOT_MIN 1024

static uint64_t
id_hash(const uint8_t id[16])
{
	uint64_t h;

	/* Event ids are SHA-256 output, but tests make up ids: mix anyway. */
	memcpy(&h, id, sizeof(h));
	return h * 0x9e3779b97f4a7c15ull;
}

/* The home slot of hash h among n slots, and its tag bits. */
static size_t
slot_home(uint64_t h, size_t n)
{
	return (size_t)(((h >> 32) * (uint64_t)n) >> 32);
}

static uint32_t
slot_tag(uint64_t h)
{
	return (uint32_t)((h >> 20) & 0x3f) << SLOT_IDX_BITS;
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

static size_t
rec_size(const struct ledger *l)
{
	return l->compact ? LEDGER_CREC_SIZE : sizeof(struct ledger_rec);
}

/* The bytes of record i; the id is always its first 16 bytes. */
static unsigned char *
rec_ptr(const struct ledger *l, size_t i)
{
	return l->blocks[i / LEDGER_BLOCK] + (i % LEDGER_BLOCK) * rec_size(l);
}

struct ledger_rec *
ledger_at(const struct ledger *l, size_t i)
{
	return (struct ledger_rec *)(void *)rec_ptr(l, i);
}

static int
rec_rehash(struct ledger *l, size_t n_slots)
{
	uint32_t *slots = calloc(n_slots, sizeof(*slots));

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n; i++) {
		uint64_t h = id_hash(rec_ptr(l, i));
		size_t j = slot_home(h, n_slots);
		while (slots[j] != 0) {
			j = j + 1 < n_slots ? j + 1 : 0;
		}
		slots[j] = (uint32_t)(i + 1) | slot_tag(h);
	}
	free(l->slots);
	l->slots = slots;
	l->n_slots = n_slots;
	return 0;
}

/* Index + 1 of the record with this id, or 0. */
static size_t
find_index(const struct ledger *l, const uint8_t id[16])
{
	uint64_t h;
	uint32_t tag;
	size_t j;

	/* the lines of one response come one after another */
	if (l->last != 0 && memcmp(rec_ptr(l, l->last - 1), id, 16) == 0) {
		return l->last;
	}
	if (l->n_slots == 0) {
		return 0;
	}
	h = id_hash(id);
	tag = slot_tag(h);
	j = slot_home(h, l->n_slots);
	while (l->slots[j] != 0) {
		uint32_t v = l->slots[j];
		if ((v & ~SLOT_IDX_MASK) == tag &&
		    memcmp(rec_ptr(l, (v & SLOT_IDX_MASK) - 1), id, 16) == 0) {
			return v & SLOT_IDX_MASK;
		}
		j = j + 1 < l->n_slots ? j + 1 : 0;
	}
	return 0;
}

struct ledger_rec *
ledger_find(const struct ledger *l, const uint8_t id[16])
{
	size_t i = find_index(l, id);

	return i != 0 ? ledger_at(l, i - 1) : NULL;
}

/* ---- compact records ---- */

#define C_TS 16
#define C_TOK 21
#define C_SESSION 40
#define C_SHAPE 43
#define C_FLAGS 45
#define CFLAG_WIDE 0x80u
#define C24_MAX 0xFFFFFFu
#define C_TS_MAX ((1LL << 40) - 1)
#define SHAPE_MAX 65535u

_Static_assert(C_SHAPE == C_SESSION + 3 && C_FLAGS == C_SHAPE + 2,
	       "session, shape and flags end a record");
_Static_assert(C_TOK + 3 * (EVENT_WEB_SEARCH - 1) + 8 <= LEDGER_CREC_SIZE,
	       "8-byte loads stay inside a record");

_Static_assert(C_FLAGS + 1 == LEDGER_CREC_SIZE, "compact layout adds up");
_Static_assert(EVENT_WEB_SEARCH == EVENT_BUCKET_MAX - 1, "the 8-bit bucket is the last");
_Static_assert((LEDGER_SIDECHAIN | LEDGER_EMITTED | LEDGER_SETTLED) < CFLAG_WIDE, "flag bits");

static void
put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++) {
		p[i] = (unsigned char)(v >> (8 * i));
	}
}

/* n (< 8) little-endian bytes at p; the 8 bytes from p must lie in the record. */
static uint64_t
get_le(const unsigned char *p, int n)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v) & ((1ull << (8 * n)) - 1);
}

static bool
shape_eq(const struct ledger_shape *a, const struct ledger_shape *b)
{
	return a->project == b->project && a->model == b->model && a->origin == b->origin &&
	       a->speed == b->speed && a->tier == b->tier && a->tool == b->tool;
}

static size_t
shape_hash(const struct ledger_shape *sh)
{
	uint64_t h = sh->project;

	h = h * 0x9e3779b97f4a7c15ull ^ ((uint64_t)sh->model << 32 | (uint64_t)sh->origin << 16 |
					  (uint64_t)sh->speed << 8 | sh->tier);
	h = (h ^ sh->tool) * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 20);
}

static int
shape_rehash(struct ledger *l, size_t n_slots)
{
	uint16_t *slots = calloc(n_slots, sizeof(*slots));

	if (slots == NULL) {
		return -ENOMEM;
	}
	for (size_t i = 0; i < l->n_shapes; i++) {
		size_t j = shape_hash(&l->shapes[i]) & (n_slots - 1);
		while (slots[j] != 0) {
			j = (j + 1) & (n_slots - 1);
		}
		slots[j] = (uint16_t)(i + 1);
	}
	free(l->shape_slots);
	l->shape_slots = slots;
	l->n_shape_slots = n_slots;
	return 0;
}

/* The index of the shape of r, interned. 0, -ENOMEM, or -E2BIG when the table is full. */
static int
shape_intern(struct ledger *l, const struct ledger_rec *r, uint16_t *ret_idx)
{
	struct ledger_shape sh = {r->project, r->model, r->origin, r->speed, r->tier, r->tool};
	size_t j;

	if ((l->n_shapes + 1) * 2 > l->n_shape_slots &&
	    shape_rehash(l, l->n_shape_slots ? l->n_shape_slots * 2 : 64) < 0) {
		return -ENOMEM;
	}
	j = shape_hash(&sh) & (l->n_shape_slots - 1);
	while (l->shape_slots[j] != 0) {
		if (shape_eq(&l->shapes[l->shape_slots[j] - 1], &sh)) {
			*ret_idx = (uint16_t)(l->shape_slots[j] - 1);
			return 0;
		}
		j = (j + 1) & (l->n_shape_slots - 1);
	}
	if (l->n_shapes >= SHAPE_MAX) {
		return -E2BIG;
	}
	if (l->n_shapes == l->cap_shapes) {
		size_t cap = l->cap_shapes ? l->cap_shapes * 2 : 64;
		struct ledger_shape *shapes = realloc(l->shapes, cap * sizeof(*shapes));
		if (shapes == NULL) {
			return -ENOMEM;
		}
		l->shapes = shapes;
		l->cap_shapes = cap;
	}
	l->shapes[l->n_shapes] = sh;
	l->shape_slots[j] = (uint16_t)(l->n_shapes + 1);
	*ret_idx = (uint16_t)l->n_shapes++;
	return 0;
}

static void
unpack(const struct ledger *l, const unsigned char *p, struct ledger_rec *ret)
{
	const struct ledger_shape *sh;
	uint32_t session;
	uint64_t tail;

	if (p[C_FLAGS] & CFLAG_WIDE) {
		*ret = l->wide[get_le(p + C_TOK, 4)];
		ret->flags = (uint8_t)(p[C_FLAGS] & ~CFLAG_WIDE);
		return;
	}
	memcpy(ret->id, p, 16);
	ret->ts_ms = LEDGER_TS_BASE + (int64_t)get_le(p + C_TS, 5);
	for (int b = 0; b < EVENT_WEB_SEARCH; b++) {
		ret->tok[b] = (uint32_t)get_le(p + C_TOK + 3 * b, 3);
	}
	ret->tok[EVENT_WEB_SEARCH] = p[C_TOK + 3 * EVENT_WEB_SEARCH];
	/* the last 8 bytes of the record: session, shape, flags */
	memcpy(&tail, p + LEDGER_CREC_SIZE - 8, sizeof(tail));
	tail = le64toh(tail) >> (8 * (C_SESSION - (LEDGER_CREC_SIZE - 8)));
	session = (uint32_t)(tail & C24_MAX);
	ret->session = session != 0 ? session - 1 + LEDGER_MODEL_END : 0;
	sh = &l->shapes[(tail >> 24) & 0xFFFF];
	ret->project = sh->project;
	ret->model = sh->model;
	ret->origin = sh->origin;
	ret->speed = sh->speed;
	ret->tier = sh->tier;
	ret->tool = sh->tool;
	ret->flags = p[C_FLAGS];
}

/*
 * Store r into the compact record p (zeroed for a new record). A record
 * that does not fit, or that once did not, is kept whole aside. 0 or
 * -ENOMEM (p unchanged).
 */
static int
pack(struct ledger *l, const struct ledger_rec *r, unsigned char *p)
{
	uint16_t shape = 0;
	bool fits = r->ts_ms >= LEDGER_TS_BASE && r->ts_ms - LEDGER_TS_BASE <= C_TS_MAX &&
		    r->tok[EVENT_WEB_SEARCH] <= 0xFF &&
		    (r->session == 0 || r->session - LEDGER_MODEL_END + 1 <= C24_MAX);

	for (int b = 0; b < EVENT_WEB_SEARCH && fits; b++) {
		fits = r->tok[b] <= C24_MAX;
	}
	if (p[C_FLAGS] & CFLAG_WIDE) {
		l->wide[get_le(p + C_TOK, 4)] = *r;
		p[C_FLAGS] = (uint8_t)(r->flags | CFLAG_WIDE);
		return 0;
	}
	if (fits && shape_intern(l, r, &shape) == 0) {
		/* wider stores, each field after the one it overlaps */
		uint64_t ts = htole64((uint64_t)(r->ts_ms - LEDGER_TS_BASE));
		uint32_t v;
		memcpy(p, r->id, 16);
		memcpy(p + C_TS, &ts, sizeof(ts));
		for (int b = 0; b < EVENT_WEB_SEARCH; b++) {
			v = htole32(r->tok[b]);
			memcpy(p + C_TOK + 3 * b, &v, sizeof(v));
		}
		p[C_TOK + 3 * EVENT_WEB_SEARCH] = (unsigned char)r->tok[EVENT_WEB_SEARCH];
		v = htole32(r->session != 0 ? r->session - LEDGER_MODEL_END + 1 : 0);
		memcpy(p + C_SESSION, &v, sizeof(v));
		put_le(p + C_SHAPE, shape, 2);
		p[C_FLAGS] = r->flags;
		return 0;
	}
	if (l->n_wide == l->cap_wide) {
		size_t cap = l->cap_wide ? l->cap_wide * 2 : 16;
		struct ledger_rec *wide = realloc(l->wide, cap * sizeof(*wide));
		if (wide == NULL) {
			return -ENOMEM;
		}
		l->wide = wide;
		l->cap_wide = cap;
	}
	l->wide[l->n_wide] = *r;
	memcpy(p, r->id, 16);
	memset(p + 16, 0, LEDGER_CREC_SIZE - 16);
	put_le(p + C_TOK, l->n_wide++, 4);
	p[C_FLAGS] = (uint8_t)(r->flags | CFLAG_WIDE);
	return 0;
}

void
ledger_set_compact(struct ledger *l)
{
	if (l->n == 0 && l->n_blocks == 0) {
		l->compact = true;
	}
}

void
ledger_get(const struct ledger *l, size_t i, struct ledger_rec *ret)
{
	if (l->compact) {
		unpack(l, rec_ptr(l, i), ret);
	} else {
		*ret = *ledger_at(l, i);
	}
}

/* ---- sorting in place ---- */

static int64_t
rec_ts(const struct ledger *l, const unsigned char *p)
{
	if (!l->compact) {
		return ((const struct ledger_rec *)(const void *)p)->ts_ms;
	}
	if (p[C_FLAGS] & CFLAG_WIDE) {
		return l->wide[get_le(p + C_TOK, 4)].ts_ms;
	}
	return LEDGER_TS_BASE + (int64_t)get_le(p + C_TS, 5);
}

static int
rec_cmp(const struct ledger *l, const unsigned char *a, const unsigned char *b)
{
	int64_t x = rec_ts(l, a), y = rec_ts(l, b);

	uint64_t u, v;

	if (x != y) {
		return x < y ? -1 : 1;
	}
	/* ids as memcmp orders them: two big-endian halves */
	for (int k = 0; k < 16; k += 8) {
		memcpy(&u, a + k, sizeof(u));
		memcpy(&v, b + k, sizeof(v));
		if (u != v) {
			return be64toh(u) < be64toh(v) ? -1 : 1;
		}
	}
	return 0;
}

static void
rec_swap(const struct ledger *l, size_t i, size_t j)
{
	unsigned char t[sizeof(struct ledger_rec)];
	unsigned char *a = rec_ptr(l, i), *b = rec_ptr(l, j);
	size_t n = rec_size(l);

	memcpy(t, a, n);
	memcpy(a, b, n);
	memcpy(b, t, n);
}

/* Quicksort of [lo, hi] (Hoare, median of three), the smaller side first. */
static void
sort_range(const struct ledger *l, size_t lo, size_t hi)
{
	unsigned char pivot[sizeof(struct ledger_rec)];

	while (hi > lo + 12) {
		size_t mid = lo + (hi - lo) / 2, i = lo, j = hi;
		if (rec_cmp(l, rec_ptr(l, mid), rec_ptr(l, lo)) < 0) {
			rec_swap(l, mid, lo);
		}
		if (rec_cmp(l, rec_ptr(l, hi), rec_ptr(l, lo)) < 0) {
			rec_swap(l, hi, lo);
		}
		if (rec_cmp(l, rec_ptr(l, hi), rec_ptr(l, mid)) < 0) {
			rec_swap(l, hi, mid);
		}
		/* lo <= pivot <= hi now: both bound the scans below */
		memcpy(pivot, rec_ptr(l, mid), rec_size(l));
		for (;;) {
			do {
				i++;
			} while (rec_cmp(l, rec_ptr(l, i), pivot) < 0);
			do {
				j--;
			} while (rec_cmp(l, pivot, rec_ptr(l, j)) < 0);
			if (i >= j) {
				break;
			}
			rec_swap(l, i, j);
		}
		/* [lo, j] <= pivot <= [j + 1, hi] */
		if (j - lo < hi - j) {
			sort_range(l, lo, j);
			lo = j + 1;
		} else {
			sort_range(l, j + 1, hi);
			hi = j;
		}
	}
	for (size_t i = lo + 1; i <= hi; i++) {
		for (size_t k = i; k > lo && rec_cmp(l, rec_ptr(l, k), rec_ptr(l, k - 1)) < 0; k--) {
			rec_swap(l, k, k - 1);
		}
	}
}

void
ledger_sort(struct ledger *l)
{
	/* record numbers change: the index goes (ledger_add would rebuild it) */
	free(l->slots);
	l->slots = NULL;
	l->n_slots = 0;
	l->last = 0;
	if (l->n > 1) {
		sort_range(l, 0, l->n - 1);
	}
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

static void
merge(struct ledger *l, struct ledger_rec *r, const struct ledger_obs *o)
{
	/* OpenCode: a database row (main line) beats a legacy JSON copy (sidechain) */
	if (o->tool == EVENT_TOOL_CLAUDE || o->tool == EVENT_TOOL_OPENCODE) {
		merge_claude(l, r, o);
	} else {
		merge_codex(l, r, o);
	}
}

int
ledger_add(struct ledger *l, const struct ledger_obs *obs, struct ledger_rec **ret_rec)
{
	size_t i = find_index(l, obs->id);
	struct ledger_rec *r, tmp;
	unsigned char *p;

	if (ret_rec != NULL) {
		*ret_rec = NULL;
	}
	if (i != 0) {
		l->copies_merged++;
		l->last = i;
		if (l->compact) {
			struct ledger_rec before;
			p = rec_ptr(l, i - 1);
			unpack(l, p, &tmp);
			before = tmp;
			merge(l, &tmp, obs);
			if (memcmp(&before, &tmp, sizeof(tmp)) != 0) {
				(void)pack(l, &tmp, p); /* on error the record stays as it was */
			}
			return 0;
		}
		r = ledger_at(l, i - 1);
		merge(l, r, obs);
		if (ret_rec != NULL) {
			*ret_rec = r;
		}
		return 0;
	}
	if (l->n + 1 >= SLOT_IDX_MASK) {
		return -ENOMEM; /* 2^26 events: the index has no room for more */
	}
	if ((l->n + 1) * 5 > l->n_slots * 4) {
		/* grow by half: the index stays between 53% and 80% full */
		size_t want = l->n_slots + l->n_slots / 2 > SLOT_MIN ? l->n_slots + l->n_slots / 2 : SLOT_MIN;
		if (want * 4 < (l->n + 1) * 5) {
			want = (l->n + 1) * 2; /* after ledger_sort dropped the index */
		}
		if (rec_rehash(l, want) < 0) {
			return -ENOMEM;
		}
	}
	if (l->n / LEDGER_BLOCK >= l->n_blocks) {
		unsigned char **blocks = realloc(l->blocks, (l->n_blocks + 1) * sizeof(*blocks));
		if (blocks == NULL) {
			return -ENOMEM;
		}
		l->blocks = blocks;
		l->blocks[l->n_blocks] = malloc(LEDGER_BLOCK * rec_size(l));
		if (l->blocks[l->n_blocks] == NULL) {
			return -ENOMEM;
		}
		l->n_blocks++;
	}
	p = rec_ptr(l, l->n);
	r = l->compact ? &tmp : ledger_at(l, l->n);
	memset(r, 0, sizeof(*r));
	memcpy(r->id, obs->id, 16);
	r->tool = (uint8_t)obs->tool;
	int e = take(l, r, obs);
	if (e < 0) {
		return e; /* not added: the slot is reused by the next event */
	}
	if (l->compact) {
		memset(p, 0, LEDGER_CREC_SIZE);
		if ((e = pack(l, r, p)) < 0) {
			return e;
		}
	}
	uint64_t h = id_hash(r->id);
	size_t j = slot_home(h, l->n_slots);
	while (l->slots[j] != 0) {
		j = j + 1 < l->n_slots ? j + 1 : 0;
	}
	l->slots[j] = (uint32_t)(++l->n) | slot_tag(h);
	l->last = l->n;
	if (ret_rec != NULL && !l->compact) {
		*ret_rec = r;
	}
	return 1;
}

_Static_assert(sizeof(struct ledger_rec) == 68, "ledger records are 68 bytes");

bool
ledger_rec_plausible(const struct ledger_rec *rec)
{
	uint64_t tok[EVENT_BUCKET_MAX];

	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		tok[b] = rec->tok[b];
	}
	return event_plausible(rec->ts_ms, tok);
}
