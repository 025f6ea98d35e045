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
	free(l->aside);
	free(l->shapes);
	free(l->shape_slots);
	strpool_finish(&l->small, false); /* their strings are in the arena */
	strpool_finish(&l->models, false);
	strpool_finish(&l->big, false);
	for (size_t i = 0; i < l->n_chunks; i++) {
		free(l->chunks[i]);
	}
	free(l->chunks);
	memset(l, 0, sizeof(*l));
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
arena_dup(void *ctx, const char *s, size_t n)
{
	struct ledger *l = ctx;
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

/* Intern s in pool p, whose indexes start at base and stay below end. */
static int
pool_intern(struct ledger *l, struct strpool *p, uint32_t base, uint64_t end, const char *s,
	    uint32_t *ret_idx)
{
	/* the small pool's indexes start at 1 (0 is ""), the others at base */
	uint32_t shift = base > 0 ? 1 : 0, i;
	int r = strpool_intern(p, s, (size_t)(end - base + shift), arena_dup, l, &i);

	if (r == 0) {
		*ret_idx = i == 0 ? 0 : base + i - shift;
	}
	return r;
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

const char *
ledger_str(const struct ledger *l, uint32_t idx)
{
	if (idx == 0) {
		return "";
	}
	if (idx < LEDGER_SMALL_END) {
		return strpool_str(&l->small, idx);
	}
	if (idx < LEDGER_MODEL_END) {
		return strpool_str(&l->models, idx - LEDGER_SMALL_END + 1);
	}
	return strpool_str(&l->big, idx - LEDGER_MODEL_END + 1);
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
#define C_TOK 21 /* LEDGER_CREC_TOK bytes of buckets, each as wide as its value needs */
#define C_LAYOUT (C_TOK + LEDGER_CREC_TOK) /* 16 bits, see below */
#define C_SESSION (C_LAYOUT + 2)
#define C_SHAPE (C_SESSION + 3)
/*
 * The layout: without LAYOUT_WIDE, 2-bit byte widths of the buckets in bits
 * 0 to 13 and the sidechain flag; with it, the bucket bytes hold an index
 * instead, of the buckets kept aside (LAYOUT_ASIDE, bit 0 the sidechain
 * flag) or of the whole record.
 */
#define LAYOUT_SIDECHAIN 0x4000u
#define LAYOUT_ASIDE 0x4000u
#define LAYOUT_WIDE 0x8000u
#define C24_MAX 0xFFFFFFu
#define C_TS_MAX ((1LL << 40) - 1)
#define SHAPE_MAX 65535u

_Static_assert(C_SHAPE + 2 == LEDGER_CREC_SIZE, "compact layout adds up");
_Static_assert(C_TS + 8 <= LEDGER_CREC_SIZE && C_TOK + 8 <= LEDGER_CREC_SIZE &&
		       LEDGER_CREC_TOK >= 4,
	       "8-byte loads stay inside a record, and an index fits the bucket bytes");
_Static_assert(2 * EVENT_BUCKET_MAX <= 14, "bucket widths fit below the layout flags");

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

/* n (<= 8) little-endian bytes at p, read one by one. */
static uint64_t
get_bytes(const unsigned char *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--) {
		v = v << 8 | p[i];
	}
	return v;
}

/* Is the whole record kept aside? */
static bool
is_wide(const unsigned char *p)
{
	return (get_bytes(p + C_LAYOUT, 2) & (LAYOUT_WIDE | LAYOUT_ASIDE)) == LAYOUT_WIDE;
}

/* Are (only) its buckets kept aside? */
static bool
is_aside(const unsigned char *p)
{
	return (get_bytes(p + C_LAYOUT, 2) & (LAYOUT_WIDE | LAYOUT_ASIDE)) ==
	       (LAYOUT_WIDE | LAYOUT_ASIDE);
}

/* The index held in the bucket bytes of a wide or aside record. */
static size_t
wide_index(const unsigned char *p)
{
	return (size_t)get_le(p + C_TOK, 4);
}

/* Bytes that hold v (0 for 0), up to 3. */
static int
width_of(uint32_t v)
{
	return v == 0 ? 0 : v <= 0xFF ? 1 : v <= 0xFFFF ? 2 : 3;
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
	uint32_t session, layout = (uint32_t)get_bytes(p + C_LAYOUT, 2);
	const unsigned char *t = p + C_TOK;

	if (is_wide(p)) {
		*ret = l->wide[wide_index(p)];
		return;
	}
	memcpy(ret->id, p, 16);
	ret->ts_ms = LEDGER_TS_BASE + (int64_t)get_le(p + C_TS, 5);
	if (layout & LAYOUT_WIDE) {
		memcpy(ret->tok, l->aside[wide_index(p)], sizeof(ret->tok));
		layout = (layout & 1) ? LAYOUT_SIDECHAIN : 0;
	} else {
		for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
			int w = (int)(layout >> (2 * b) & 3);
			ret->tok[b] = (uint32_t)get_bytes(t, w);
			t += w;
		}
	}
	session = (uint32_t)get_bytes(p + C_SESSION, 3);
	ret->session = session != 0 ? session - 1 + LEDGER_MODEL_END : 0;
	sh = &l->shapes[get_bytes(p + C_SHAPE, 2)];
	ret->project = sh->project;
	ret->model = sh->model;
	ret->origin = sh->origin;
	ret->speed = sh->speed;
	ret->tier = sh->tier;
	ret->tool = sh->tool;
	ret->flags = (layout & LAYOUT_SIDECHAIN) ? LEDGER_SIDECHAIN : 0;
}

/* arr, or arr moved, with room for element n; NULL (arr unchanged) when out of memory. */
static void *
grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void *a;
	size_t c;

	if (n < *cap) {
		return arr;
	}
	c = *cap ? *cap * 2 : 16;
	a = realloc(arr, c * size);
	if (a != NULL) {
		*cap = c;
	}
	return a;
}

/*
 * Store r into the compact record p (zeroed for a new record). Buckets
 * that do not fit the record's bytes are kept aside; a record whose other
 * values do not fit is kept whole aside. Either, once chosen, stays, so
 * nothing is ever rounded. 0 or -ENOMEM (p unchanged).
 */
static int
pack(struct ledger *l, const struct ledger_rec *r, unsigned char *p)
{
	uint16_t shape = 0;
	int width[EVENT_BUCKET_MAX], total = 0;
	bool side = (r->flags & LEDGER_SIDECHAIN) != 0, inline_tok = !is_aside(p);
	bool fits = r->ts_ms >= LEDGER_TS_BASE && r->ts_ms - LEDGER_TS_BASE <= C_TS_MAX &&
		    (r->flags & ~LEDGER_SIDECHAIN) == 0 &&
		    (r->session == 0 || r->session - LEDGER_MODEL_END + 1 <= C24_MAX);

	for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
		inline_tok = inline_tok && r->tok[b] <= C24_MAX;
		width[b] = width_of(r->tok[b]);
		total += width[b];
	}
	inline_tok = inline_tok && total <= LEDGER_CREC_TOK;
	if (is_wide(p)) {
		l->wide[wide_index(p)] = *r;
		return 0;
	}
	if (fits && shape_intern(l, r, &shape) == 0) {
		uint32_t layout = side ? LAYOUT_SIDECHAIN : 0;
		unsigned char *t = p + C_TOK;
		size_t at = is_aside(p) ? wide_index(p) : l->n_aside;
		if (!inline_tok) {
			if (at == l->n_aside) {
				void *a = grow(l->aside, &l->cap_aside, l->n_aside, sizeof(*l->aside));
				if (a == NULL) {
					return -ENOMEM;
				}
				l->aside = a;
			}
			memcpy(l->aside[at], r->tok, sizeof(r->tok));
			if (at == l->n_aside) {
				l->n_aside++;
			}
			layout = LAYOUT_WIDE | LAYOUT_ASIDE | (side ? 1u : 0u);
		}
		memcpy(p, r->id, 16);
		put_le(p + C_TS, (uint64_t)(r->ts_ms - LEDGER_TS_BASE), 5);
		memset(t, 0, LEDGER_CREC_TOK);
		if (inline_tok) {
			for (int b = 0; b < EVENT_BUCKET_MAX; b++) {
				put_le(t, r->tok[b], width[b]);
				t += width[b];
				layout |= (uint32_t)width[b] << (2 * b);
			}
		} else {
			put_le(t, at, 4);
		}
		put_le(p + C_LAYOUT, layout, 2);
		put_le(p + C_SESSION, r->session != 0 ? r->session - LEDGER_MODEL_END + 1 : 0, 3);
		put_le(p + C_SHAPE, shape, 2);
		return 0;
	}
	void *w = grow(l->wide, &l->cap_wide, l->n_wide, sizeof(*l->wide));
	if (w == NULL) {
		return -ENOMEM;
	}
	l->wide = w;
	l->wide[l->n_wide] = *r;
	memcpy(p, r->id, 16);
	memset(p + 16, 0, LEDGER_CREC_SIZE - 16);
	put_le(p + C_TOK, l->n_wide++, 4);
	put_le(p + C_LAYOUT, LAYOUT_WIDE, 2);
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
	if (is_wide(p)) {
		return l->wide[wide_index(p)].ts_ms;
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
