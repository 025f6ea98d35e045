/*
 * ledger.h: every usage event seen so far, keyed by event id, with the
 * accounting rules of the spec's Decisions applied as copies arrive:
 *
 * Claude (one event per message.id, or per fallback key): every bucket is
 * the largest value among its lines and copies; the time is the earliest;
 * a sidechain copy never adds to an event a main-line copy has (a replay),
 * and a main-line copy replaces what only sidechain copies gave.
 * Codex (one event per timestamp and totals): copies of one key keep the
 * smallest delta, which is the one computed with the whole history before it
 * (a partial replay shows a larger jump).
 * The result does not depend on the order files are read in.
 *
 * Strings are interned: a record holds small indexes into the ledger's pool.
 *
 * Two layouts: by default records are struct ledger_rec, handed out by
 * pointer (ledger_at, ledger_find) to the incremental readers. A compact
 * ledger (ledger_set_compact, the one-shot scan) packs each record into
 * LEDGER_CREC_SIZE bytes and hands out copies only (ledger_get); merges
 * unpack, apply exactly the same rules, and pack again.
 */
#ifndef AM_AGENT_LEDGER_H
#define AM_AGENT_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "strpool.h"

#define LEDGER_SIDECHAIN 0x01u /* only sidechain copies so far */
#define LEDGER_EMITTED 0x02u   /* already handed out (incremental mode) */
#define LEDGER_SETTLED 0x04u   /* final: may be handed out */

/*
 * 68 bytes: buckets are 32-bit because one response or one Codex delta never
 * comes near 2^32 tokens; readers reject larger values as bad lines
 * (LEDGER_TOK_MAX), so what is kept is always exact. Strings are indexes
 * into three pools told apart by range, so ledger_str takes any of them:
 * speed and service tier below LEDGER_SMALL_END (8 bits), models below
 * LEDGER_MODEL_END (16 bits), sessions and projects from there on. A new
 * event whose model, speed or tier would not fit is refused (-E2BIG).
 */
#define LEDGER_TOK_MAX UINT32_MAX
#define LEDGER_SMALL_END 256u
#define LEDGER_MODEL_END 65536u

struct ledger_rec {
	uint8_t id[16];
	int64_t ts_ms;
	uint32_t tok[EVENT_BUCKET_MAX];
	uint32_t session, project; /* interned: LEDGER_MODEL_END and up, or 0 */
	uint16_t model;            /* interned: LEDGER_SMALL_END and up, or 0 */
	uint8_t speed, tier;       /* interned: below LEDGER_SMALL_END */
	uint16_t origin;           /* caller's index: user, billing */
	uint8_t tool;              /* enum event_tool */
	uint8_t flags;
} __attribute__((packed, aligned(4)));

/* A string pool: one of the three index ranges. */
/* One observation of an event: a Claude line or a Codex token_count. */
struct ledger_obs {
	enum event_tool tool;
	uint8_t id[16];
	int64_t ts_ms;
	uint64_t tok[EVENT_BUCKET_MAX];
	const char *model, *session, *project, *speed, *tier; /* borrowed */
	uint16_t origin;
	bool sidechain;
};

/*
 * Compact record, 38 bytes: id (16), time as 40-bit milliseconds since
 * LEDGER_TS_BASE (5), the buckets in LEDGER_CREC_TOK bytes, each in the 0
 * to 3 bytes its value needs (the benchmark's events need 2 to 12 bytes,
 * 6 on average; 98% fit), a 16-bit layout (each bucket's width in 2 bits,
 * the sidechain flag), session index (24 bits), shape (16 bits: an
 * interned tuple of tool, model, project, speed, tier and origin). Buckets
 * that do not fit are kept aside (28 bytes), and a record whose other
 * values do not fit (or that has flags other than the sidechain one) is
 * "wide", kept whole aside; the bucket bytes then hold the index, so
 * nothing is ever rounded.
 */
#define LEDGER_CREC_SIZE 38
#define LEDGER_CREC_TOK 10
#define LEDGER_TS_BASE 1577836800000LL /* 2020-01-01T00:00:00Z */

struct ledger_shape {
	uint32_t project;
	uint16_t model, origin;
	uint8_t speed, tier, tool;
};

struct ledger {
	unsigned char **blocks; /* records in blocks of LEDGER_BLOCK; stable addresses */
	size_t n_blocks;
	size_t n;
	uint32_t *slots; /* open addressing: record index + 1 and hash bits, 0 = empty */
	size_t n_slots;
	size_t last;     /* index + 1 of the record found or added last, or 0 */
	bool compact;    /* compact records (see ledger_set_compact) */
	struct ledger_rec *wide; /* compact: records that do not fit LEDGER_CREC_SIZE */
	size_t n_wide, cap_wide;
	uint32_t (*aside)[EVENT_BUCKET_MAX]; /* compact: buckets that do not fit a record */
	size_t n_aside, cap_aside;
	struct ledger_shape *shapes; /* compact: interned shapes */
	size_t n_shapes, cap_shapes;
	uint16_t *shape_slots; /* shape index + 1, 0 = empty */
	size_t n_shape_slots;
	/* string pools: speed and tier, models, the rest */
	struct strpool small, models, big;
	char *arena; /* current arena chunk */
	size_t arena_used, arena_cap;
	char **chunks;
	size_t n_chunks;
	/* counters */
	uint64_t replays_ignored; /* sidechain copies of main-line events */
	uint64_t copies_merged;   /* further lines or copies of a known event */
};

/* ledger_init(l)/ledger_finish(l): caller memory; finish accepts a zeroed ledger. */
void ledger_init(struct ledger *l);
void ledger_finish(struct ledger *l);

/*
 * ledger_add(l, obs, ret_rec): merge one observation. *ret_rec (may be NULL)
 * points at the record (stable until finish). Returns 1 for a new event, 0
 * for a merge into a known one, -ENOMEM (also past 2^26 - 2 events), or
 * -E2BIG for a new event whose model, speed or tier pool is full (hostile
 * input only). In a compact ledger *ret_rec is always NULL.
 */
int ledger_add(struct ledger *l, const struct ledger_obs *obs, struct ledger_rec **ret_rec);

/*
 * ledger_set_compact(l): store records in LEDGER_CREC_SIZE bytes from now on
 * (only while l is empty; a no-op otherwise). A compact ledger never hands
 * out pointers: ledger_add sets *ret_rec to NULL, ledger_find and ledger_at
 * must not be called; read records with ledger_get.
 */
void ledger_set_compact(struct ledger *l);

/* ledger_get(l, i, ret): a copy of the i-th record (i < l->n), in either layout. */
void ledger_get(const struct ledger *l, size_t i, struct ledger_rec *ret);

/*
 * ledger_sort(l): order the records by time, then id, in place, and drop
 * the id index: afterwards only ledger_get, ledger_at and ledger_str may be
 * used. Sorting in place needs no memory beyond the table's.
 */
void ledger_sort(struct ledger *l);

/* ledger_find(l, id): the record with this id, or NULL. */
struct ledger_rec *ledger_find(const struct ledger *l, const uint8_t id[16]);

/* ledger_at(l, i): the i-th record in insertion order (i < l->n). */
struct ledger_rec *ledger_at(const struct ledger *l, size_t i);

/* ledger_str(l, idx): an interned string of any pool (idx 0 is ""). */
const char *ledger_str(const struct ledger *l, uint32_t idx);

/* ledger_intern(l, s, ret_idx): intern s as a session or project. Returns 0 or -ENOMEM. */
int ledger_intern(struct ledger *l, const char *s, uint32_t *ret_idx);

/*
 * ledger_rec_plausible(rec): event_plausible for a record; the readers
 * check every line, this catches records restored from a damaged state.
 */
bool ledger_rec_plausible(const struct ledger_rec *rec);

#endif
