/*
 * spool.c: durable bounded event queue; see spool.h for the format.
 *
 * Synchronous I/O on purpose: a workstation produces tens of events a second,
 * a record is one write plus one fdatasync of a few KB, and doing it inline
 * keeps the order "events and positions durable, then positions advance in
 * memory" trivially true. The loop only waits on it for milliseconds.
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "clock.h"
#include "log.h"
#include "testhook.h"

#define SEG_MIN_BYTES (64u << 10)
#define SEG_MAX_BYTES (8u << 20)
#define META_PAYLOAD_LEN 72
#define SPOOL_STRING_MAX 256

struct seg {
	uint64_t first_seq; /* from the file name */
	uint64_t bytes;
	uint32_t corrupt; /* corrupt regions found in it */
	bool has_snapshot; /* starts with a valid SNAPSHOT */
};

struct entry {
	uint64_t seq;
	uint64_t seg_first;
	uint64_t off;
	uint32_t len;
	uint32_t n_events;
	int64_t wall_ms;
};

struct spool {
	char *dir;
	bool read_only;
	uint64_t max_bytes;
	uint64_t segment_bytes;
	struct spool_state_ops ops;
	int lock_fd;

	struct seg *segs;
	size_t n_segs, cap_segs;
	int active_fd; /* O_APPEND on segs[n_segs - 1] */

	struct entry *ents; /* pending DATA records, oldest first from head */
	size_t head, n_ents, cap_ents;
	uint32_t head_idx; /* events of ents[head] already acknowledged */

	uint64_t next_seq;
	uint64_t total_bytes;

	/* counters persisted in META records; corrupt regions of segments that
	 * still exist are found again by every open, so only those of removed
	 * segments are persisted */
	uint64_t dropped_pending, dropped_total, corrupt_removed;
	uint64_t quarantined_batches, quarantined_events, shipped_events;

	/* a read descriptor cached for spool_peek */
	int read_fd;
	uint64_t read_seg;
};

/* --- little-endian helpers ------------------------------------------------ */

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint32_t
record_crc(const uint8_t *header, const uint8_t *payload, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, header, 12);
	/* zlib takes uInt lengths; records are capped far below 4 GiB. */
	c = crc32(c, payload, (uInt)len);
	return (uint32_t)c;
}

/* --- record codec ----------------------------------------------------------- */

int
spool_record_decode(const uint8_t *buf, size_t len, struct spool_record *ret_rec, size_t *ret_used)
{
	struct spool_record rec;
	const uint8_t *p;
	uint32_t plen;

	if (len < SPOOL_HEADER_LEN) {
		return -EAGAIN;
	}
	if (get32(buf) != SPOOL_MAGIC) {
		return -EBADMSG;
	}
	plen = get32(buf + 8);
	if (plen > SPOOL_PAYLOAD_MAX || buf[4] == 0 || buf[4] >= SPOOL_RECORD_MAX) {
		return -EBADMSG;
	}
	if (len - SPOOL_HEADER_LEN < plen) {
		return -EAGAIN;
	}
	p = buf + SPOOL_HEADER_LEN;
	if (record_crc(buf, p, plen) != get32(buf + 12)) {
		return -EBADMSG;
	}

	memset(&rec, 0, sizeof(rec));
	rec.type = (enum spool_record_type)buf[4];
	switch (rec.type) {
	case SPOOL_RECORD_DATA: {
		size_t off = 24;
		if (plen < 24) {
			return -EBADMSG;
		}
		rec.seq = get64(p);
		rec.wall_ms = (int64_t)get64(p + 8);
		rec.n_events = get32(p + 16);
		rec.events_len = get32(p + 20);
		if (rec.events_len > plen - off) {
			return -EBADMSG;
		}
		rec.events = p + off;
		off += rec.events_len;
		if (plen - off < 4) {
			return -EBADMSG;
		}
		rec.state_len = get32(p + off);
		off += 4;
		if (rec.state_len != plen - off) {
			return -EBADMSG;
		}
		rec.state = p + off;
		if ((rec.n_events == 0) != (rec.events_len == 0)) {
			return -EBADMSG;
		}
		break;
	}
	case SPOOL_RECORD_SNAPSHOT:
		if (plen < 12) {
			return -EBADMSG;
		}
		rec.seq = get64(p);
		rec.state_len = get32(p + 8);
		if (rec.state_len != plen - 12) {
			return -EBADMSG;
		}
		rec.state = p + 12;
		break;
	case SPOOL_RECORD_META:
		if (plen != META_PAYLOAD_LEN) {
			return -EBADMSG;
		}
		rec.seq = get64(p);
		rec.ack_seq = get64(p + 8);
		rec.ack_idx = get32(p + 16);
		rec.dropped_pending = get64(p + 24);
		rec.dropped_total = get64(p + 32);
		rec.corrupt_total = get64(p + 40);
		rec.quarantined_batches = get64(p + 48);
		rec.quarantined_events = get64(p + 56);
		rec.shipped_events = get64(p + 64);
		break;
	default:
		return -EBADMSG;
	}
	if (rec.seq == 0) {
		return -EBADMSG;
	}
	*ret_rec = rec;
	*ret_used = SPOOL_HEADER_LEN + (size_t)plen;
	return 0;
}

/* A Batch holding only events or only actions, packed for a DATA record. */
static int
pack_batch(const am_batch *b, uint8_t **ret_buf, size_t *ret_len)
{
	size_t len = aimeter__v1__batch__get_packed_size(b);
	uint8_t *buf = malloc(len ? len : 1);

	if (buf == NULL) {
		return -ENOMEM;
	}
	aimeter__v1__batch__pack(b, buf);
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

int
spool_events_pack(am_usage_event *const *events, size_t n, uint8_t **ret_buf, size_t *ret_len)
{
	am_batch b = AIMETER__V1__BATCH__INIT;

	b.n_events = n;
	b.events = (am_usage_event **)events;
	return pack_batch(&b, ret_buf, ret_len);
}

int
spool_actions_pack(am_action_record *const *actions, size_t n, uint8_t **ret_buf,
		   size_t *ret_len)
{
	am_batch b = AIMETER__V1__BATCH__INIT;

	b.n_actions = n;
	b.actions = (am_action_record **)actions;
	return pack_batch(&b, ret_buf, ret_len);
}

void
spool_events_free(am_batch *batch)
{
	if (batch != NULL) {
		aimeter__v1__batch__free_unpacked(batch, NULL);
	}
}

static bool
string_ok(const char *s)
{
	return s == NULL || strnlen(s, SPOOL_STRING_MAX + 1) <= SPOOL_STRING_MAX;
}

int
spool_events_unpack(const struct spool_record *rec, am_batch **ret_batch)
{
	am_batch *b;

	*ret_batch = NULL;
	if (rec->type != SPOOL_RECORD_DATA || rec->n_events == 0) {
		return -EBADMSG;
	}
	b = aimeter__v1__batch__unpack(NULL, rec->events_len, rec->events);
	if (b == NULL) {
		return -EBADMSG;
	}
	/* a record holds events or (the action spool) action records, never both */
	if ((b->n_events + b->n_actions != rec->n_events) || (b->n_events > 0 && b->n_actions > 0) ||
	    b->schema_version != 0 || (b->device_id != NULL && b->device_id[0] != 0)) {
		goto bad;
	}
	for (size_t i = 0; i < b->n_actions; i++) {
		const am_action_record *a = b->actions[i];
		if (a->action_id.len != AM_EVENT_ID_LEN || !string_ok(a->tool) ||
		    !string_ok(a->session) || !string_ok(a->project) || !string_ok(a->user) ||
		    !string_ok(a->team_hint) || !string_ok(a->tool_name) || !string_ok(a->target) ||
		    !string_ok(a->file_ext)) {
			goto bad;
		}
	}
	for (size_t i = 0; i < b->n_events; i++) {
		const am_usage_event *e = b->events[i];
		if (e->event_id.len != AM_EVENT_ID_LEN || !string_ok(e->tool) ||
		    !string_ok(e->model) || !string_ok(e->session) || !string_ok(e->project) ||
		    !string_ok(e->user) || !string_ok(e->team_hint) || !string_ok(e->speed) ||
		    !string_ok(e->service_tier) || !string_ok(e->request_id)) {
			goto bad;
		}
	}
	*ret_batch = b;
	return 0;
bad:
	aimeter__v1__batch__free_unpacked(b, NULL);
	return -EBADMSG;
}

/* --- files ------------------------------------------------------------------- */

static int
seg_path(const struct spool *s, uint64_t first, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s/%020" PRIu64 ".seg", s->dir, first);
	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	if (fd < 0) {
		return -errno;
	}
	if (fsync(fd) < 0) {
		r = -errno;
	}
	close(fd);
	return r;
}

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR) {
				continue;
			}
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
read_file(const char *path, uint8_t **ret_buf, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (fd < 0) {
		return -errno;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto fail;
	}
	buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	if (buf == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	while (len < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			r = -errno;
			goto fail;
		}
		if (n == 0) {
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	*ret_buf = buf;
	*ret_len = len;
	return 0;
fail:
	free(buf);
	close(fd);
	return r;
}

/* --- in-memory index -------------------------------------------------------------- */

static int
ents_push(struct spool *s, const struct entry *e)
{
	if (s->head > 0 && s->head + s->n_ents == s->cap_ents) {
		memmove(s->ents, s->ents + s->head, s->n_ents * sizeof(*s->ents));
		s->head = 0;
	}
	if (s->head + s->n_ents == s->cap_ents) {
		size_t cap = s->cap_ents ? s->cap_ents * 2 : 64;
		struct entry *grown = realloc(s->ents, cap * sizeof(*grown));
		if (grown == NULL) {
			return -ENOMEM;
		}
		s->ents = grown;
		s->cap_ents = cap;
	}
	s->ents[s->head + s->n_ents++] = *e;
	return 0;
}

static void
ents_pop(struct spool *s)
{
	s->head++;
	s->n_ents--;
	s->head_idx = 0;
	if (s->n_ents == 0) {
		s->head = 0;
	}
}

static int
segs_push(struct spool *s, uint64_t first, uint64_t bytes)
{
	if (s->n_segs == s->cap_segs) {
		size_t cap = s->cap_segs ? s->cap_segs * 2 : 16;
		struct seg *grown = realloc(s->segs, cap * sizeof(*grown));
		if (grown == NULL) {
			return -ENOMEM;
		}
		s->segs = grown;
		s->cap_segs = cap;
	}
	memset(&s->segs[s->n_segs], 0, sizeof(s->segs[0]));
	s->segs[s->n_segs].first_seq = first;
	s->segs[s->n_segs].bytes = bytes;
	s->n_segs++;
	return 0;
}

static struct spool_cursor
ack_cursor(const struct spool *s)
{
	struct spool_cursor c;

	if (s->n_ents > 0) {
		c.seq = s->ents[s->head].seq;
		c.idx = s->head_idx;
	} else {
		c.seq = s->next_seq;
		c.idx = 0;
	}
	return c;
}

/* --- writing records ------------------------------------------------------------------ */

static int
append_record(struct spool *s, enum spool_record_type type, const uint8_t *parts[],
	      const size_t lens[], size_t n_parts, uint64_t *ret_off, uint32_t *ret_len)
{
	uint8_t *buf, *p;
	size_t plen = 0, total;
	uint64_t off = s->segs[s->n_segs - 1].bytes;
	int r;

	for (size_t i = 0; i < n_parts; i++) {
		plen += lens[i];
	}
	if (plen > SPOOL_PAYLOAD_MAX) {
		return -EMSGSIZE;
	}
	total = SPOOL_HEADER_LEN + plen;
	buf = malloc(total);
	if (buf == NULL) {
		return -ENOMEM;
	}
	put32(buf, SPOOL_MAGIC);
	buf[4] = (uint8_t)type;
	buf[5] = 0;
	buf[6] = buf[7] = 0;
	put32(buf + 8, (uint32_t)plen);
	p = buf + SPOOL_HEADER_LEN;
	for (size_t i = 0; i < n_parts; i++) {
		if (lens[i] > 0) {
			memcpy(p, parts[i], lens[i]);
		}
		p += lens[i];
	}
	put32(buf + 12, record_crc(buf, buf + SPOOL_HEADER_LEN, plen));

#if AM_TEST_HOOKS
	/* Half first: a kill between the halves leaves the torn record a crash mid-write leaves. */
	static const char *const torn_at[SPOOL_RECORD_MAX] = {
		[SPOOL_RECORD_DATA] = "write-data",
		[SPOOL_RECORD_SNAPSHOT] = "write-snapshot",
		[SPOOL_RECORD_META] = "write-meta",
	};
	r = write_all(s->active_fd, buf, total / 2);
	if (r == 0) {
		am_test_hook(torn_at[type]);
		r = write_all(s->active_fd, buf + total / 2, total - total / 2);
	}
#else
	r = write_all(s->active_fd, buf, total);
#endif
	free(buf);
	if (r < 0) {
		/* Cut a partial record off so later appends start clean. */
		if (ftruncate(s->active_fd, (off_t)off) < 0) {
			log_warn("could not truncate spool segment after a failed write, ignoring");
		}
		return r;
	}
	am_test_hook("spool-fsync");
	if (fdatasync(s->active_fd) < 0) {
		r = -errno;
		(void)!ftruncate(s->active_fd, (off_t)off); /* best effort, as above */
		return r;
	}
	s->segs[s->n_segs - 1].bytes += total;
	s->total_bytes += total;
	if (ret_off != NULL) {
		*ret_off = off;
		*ret_len = (uint32_t)total;
	}
	return 0;
}

static int
write_meta(struct spool *s)
{
	uint8_t m[META_PAYLOAD_LEN];
	struct spool_cursor c = ack_cursor(s);
	const uint8_t *parts[1] = {m};
	size_t lens[1] = {sizeof(m)};

	memset(m, 0, sizeof(m));
	put64(m, s->next_seq);
	put64(m + 8, c.seq);
	put32(m + 16, c.idx);
	put64(m + 24, s->dropped_pending);
	put64(m + 32, s->dropped_total);
	put64(m + 40, s->corrupt_removed);
	put64(m + 48, s->quarantined_batches);
	put64(m + 56, s->quarantined_events);
	put64(m + 64, s->shipped_events);
	int r = append_record(s, SPOOL_RECORD_META, parts, lens, 1, NULL, NULL);
	if (r == 0) {
		s->next_seq++;
	}
	return r;
}

static int
write_snapshot(struct spool *s)
{
	uint8_t hdr[12];
	uint8_t *blob = NULL;
	size_t blob_len = 0;
	int r;

	if (s->ops.snapshot != NULL) {
		r = s->ops.snapshot(s->ops.opaque, &blob, &blob_len);
		if (r < 0) {
			return r;
		}
	}
	put64(hdr, s->next_seq);
	put32(hdr + 8, (uint32_t)blob_len);
	const uint8_t *parts[2] = {hdr, blob};
	size_t lens[2] = {sizeof(hdr), blob_len};
	r = append_record(s, SPOOL_RECORD_SNAPSHOT, parts, lens, 2, NULL, NULL);
	free(blob);
	if (r == 0) {
		s->next_seq++;
	}
	return r;
}

/* Start a new segment: the readers' full state first, then the counters. */
static int
rotate(struct spool *s)
{
	char path[4096];
	int fd, r;

	r = seg_path(s, s->next_seq, path, sizeof(path));
	if (r < 0) {
		return r;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	/* A leftover file of that name can only be a torn start: reuse it. */
	if (ftruncate(fd, 0) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	r = segs_push(s, s->next_seq, 0);
	if (r < 0) {
		close(fd);
		unlink(path);
		return r;
	}
	int old_fd = s->active_fd;
	s->active_fd = fd;
	r = write_snapshot(s);
	if (r == 0) {
		r = write_meta(s);
	}
	if (r == 0) {
		r = fsync_dir(s->dir);
	}
	if (r < 0) {
		close(fd);
		unlink(path);
		s->n_segs--;
		s->active_fd = old_fd;
		return r;
	}
	if (old_fd >= 0) {
		close(old_fd);
	}
	return 0;
}

static void
remove_segment_front(struct spool *s)
{
	char path[4096];

	if (seg_path(s, s->segs[0].first_seq, path, sizeof(path)) == 0 && unlink(path) < 0) {
		log_warn("could not remove spool segment \"%s\", ignoring", path);
	}
	if (s->read_seg == s->segs[0].first_seq && s->read_fd >= 0) {
		close(s->read_fd);
		s->read_fd = -1;
	}
	s->total_bytes -= s->segs[0].bytes;
	s->corrupt_removed += s->segs[0].corrupt;
	memmove(s->segs, s->segs + 1, (s->n_segs - 1) * sizeof(*s->segs));
	s->n_segs--;
}

/* Remove old segments that hold nothing pending any more. */
static void
collect(struct spool *s)
{
	bool removed = false;

	while (s->n_segs > 1) {
		uint64_t next_first = s->segs[1].first_seq;
		if (s->n_ents > 0 && s->ents[s->head].seq < next_first) {
			break;
		}
		remove_segment_front(s);
		removed = true;
	}
	if (removed) {
		(void)fsync_dir(s->dir); /* a resurrected acked segment only re-sends */
	}
}

/* Above the cap: drop the oldest segment whatever it holds, counting its events. */
static int
enforce_cap(struct spool *s)
{
	int r;

	if (s->total_bytes <= s->max_bytes) {
		return 0;
	}
	/*
	 * The oldest data goes, never the record just written: one record above
	 * the cap stays until a newer one arrives (the next append rotates).
	 */
	while (s->total_bytes > s->max_bytes && s->n_segs > 1) {
		uint64_t next_first = s->segs[1].first_seq, lost = 0;
		while (s->n_ents > 0 && s->ents[s->head].seq < next_first) {
			lost += s->ents[s->head].n_events - s->head_idx;
			ents_pop(s);
		}
		s->dropped_pending += lost;
		s->dropped_total += lost;
		if (lost > 0) {
			log_warnx("spool above its cap of %" PRIu64 " bytes: dropped %" PRIu64
				  " unsent events from the oldest segment",
				  s->max_bytes, lost);
		}
		/* Counters first: a crash before the unlink only leaves acked data. */
		r = write_meta(s);
		if (r < 0) {
			return r;
		}
		remove_segment_front(s);
	}
	(void)fsync_dir(s->dir); /* see collect */
	return 0;
}

int
spool_append(struct spool *s, const uint8_t *events, size_t events_len, uint32_t n_events,
	     const uint8_t *state, size_t state_len)
{
	uint8_t hdr[24], slen[4];
	struct entry e;
	int r;

	if (s->read_only) {
		return -EROFS;
	}
	if ((n_events == 0) != (events_len == 0)) {
		return -EINVAL;
	}
	if (s->segs[s->n_segs - 1].bytes >= s->segment_bytes ||
	    (s->total_bytes > s->max_bytes && s->segs[s->n_segs - 1].bytes > 0)) {
		r = rotate(s);
		if (r < 0) {
			return r;
		}
	}
	e.seq = s->next_seq;
	e.wall_ms = clock_wall_ms();
	e.n_events = n_events;
	e.seg_first = s->segs[s->n_segs - 1].first_seq;
	put64(hdr, e.seq);
	put64(hdr + 8, (uint64_t)e.wall_ms);
	put32(hdr + 16, n_events);
	put32(hdr + 20, (uint32_t)events_len);
	put32(slen, (uint32_t)state_len);
	const uint8_t *parts[4] = {hdr, events, slen, state};
	size_t lens[4] = {sizeof(hdr), events_len, sizeof(slen), state_len};
	r = append_record(s, SPOOL_RECORD_DATA, parts, lens, 4, &e.off, &e.len);
	if (r < 0) {
		return r;
	}
	s->next_seq++;
	if (n_events > 0) {
		r = ents_push(s, &e);
		if (r < 0) {
			return r;
		}
	}
	return enforce_cap(s);
}

/* --- reading back ------------------------------------------------------------------------ */

static int
read_entry(struct spool *s, const struct entry *e, uint8_t **ret_buf)
{
	char path[4096];
	uint8_t *buf;
	size_t got = 0;
	int r;

	if (s->read_fd < 0 || s->read_seg != e->seg_first) {
		if (s->read_fd >= 0) {
			close(s->read_fd);
			s->read_fd = -1;
		}
		r = seg_path(s, e->seg_first, path, sizeof(path));
		if (r < 0) {
			return r;
		}
		s->read_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->read_fd < 0) {
			return -errno;
		}
		s->read_seg = e->seg_first;
	}
	buf = malloc(e->len);
	if (buf == NULL) {
		return -ENOMEM;
	}
	while (got < e->len) {
		ssize_t n = pread(s->read_fd, buf + got, e->len - got, (off_t)(e->off + got));
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -EBADMSG;
		}
		got += (size_t)n;
	}
	*ret_buf = buf;
	return 0;
}

void
spool_peek_free(struct spool_peek *peek)
{
	if (peek == NULL) {
		return;
	}
	for (size_t i = 0; i < peek->n_owners; i++) {
		spool_events_free(peek->owners[i]);
	}
	free(peek->owners);
	free(peek->events);
	free(peek->actions);
	memset(peek, 0, sizeof(*peek));
}

int
spool_peek(struct spool *s, size_t max_events, struct spool_peek *ret_peek)
{
	struct spool_peek pk;
	size_t i = 0;
	uint32_t start_idx = s->head_idx;
	int r = 0;

	memset(&pk, 0, sizeof(pk));
	pk.end = ack_cursor(s);
	pk.events = calloc(max_events ? max_events : 1, sizeof(*pk.events));
	pk.actions = calloc(max_events ? max_events : 1, sizeof(*pk.actions));
	if (pk.events == NULL || pk.actions == NULL) {
		free(pk.events);
		free(pk.actions);
		return -ENOMEM;
	}
	while (pk.n < max_events && i < s->n_ents) {
		const struct entry *e = &s->ents[s->head + i];
		struct spool_record rec;
		uint8_t *buf = NULL;
		am_batch *b = NULL;
		size_t used;

		r = read_entry(s, e, &buf);
		if (r == 0) {
			r = spool_record_decode(buf, e->len, &rec, &used);
		}
		if (r == 0 && (rec.type != SPOOL_RECORD_DATA || rec.seq != e->seq)) {
			r = -EBADMSG;
		}
		if (r == 0) {
			r = spool_events_unpack(&rec, &b);
		}
		free(buf);
		if (r == -ENOMEM) {
			goto fail;
		}
		if (r < 0) {
			/* Skip it for good: counted, never retried. */
			log_warnx("skipping corrupt spool record %" PRIu64 " (%u events): %s", e->seq,
				  e->n_events, strerror(-r));
			for (size_t k = 0; k < s->n_segs; k++) {
				if (s->segs[k].first_seq == e->seg_first) {
					s->segs[k].corrupt++;
				}
			}
			if (i == 0) {
				ents_pop(s);
				start_idx = 0;
				pk.end = ack_cursor(s);
			} else {
				/* Stop here; the next peek starts at it and drops it. */
				break;
			}
			r = 0;
			continue;
		}
		am_batch **owners = realloc(pk.owners, (pk.n_owners + 1) * sizeof(*owners));
		if (owners == NULL) {
			spool_events_free(b);
			r = -ENOMEM;
			goto fail;
		}
		pk.owners = owners;
		pk.owners[pk.n_owners++] = b;
		uint32_t j = (i == 0) ? start_idx : 0, n_items = (uint32_t)(b->n_events + b->n_actions);
		while (j < n_items && pk.n < max_events) {
			if (b->n_actions > 0) {
				pk.actions[pk.n_actions++] = b->actions[j++];
				pk.n++;
			} else {
				pk.events[pk.n++] = b->events[j++];
			}
		}
		if (j < n_items) {
			pk.end.seq = e->seq;
			pk.end.idx = j;
		} else {
			pk.end.seq = (i + 1 < s->n_ents) ? s->ents[s->head + i + 1].seq : s->next_seq;
			pk.end.idx = 0;
		}
		i++;
	}
	*ret_peek = pk;
	return 0;
fail:
	spool_peek_free(&pk);
	return r;
}

int
spool_ack(struct spool *s, struct spool_cursor end, uint64_t dropped_reported, uint64_t events,
	  bool quarantined)
{
	int r;

	if (s->read_only) {
		return -EROFS;
	}
	while (s->n_ents > 0 && s->ents[s->head].seq < end.seq) {
		ents_pop(s);
	}
	if (s->n_ents > 0 && s->ents[s->head].seq == end.seq && end.idx > s->head_idx) {
		s->head_idx = end.idx;
		if (s->head_idx >= s->ents[s->head].n_events) {
			ents_pop(s);
		}
	}
	s->dropped_pending -= dropped_reported < s->dropped_pending ? dropped_reported
								    : s->dropped_pending;
	if (quarantined) {
		s->quarantined_batches++;
		s->quarantined_events += events;
	} else {
		s->shipped_events += events;
	}
	if (s->segs[s->n_segs - 1].bytes >= s->segment_bytes ||
	    (s->n_ents == 0 && s->n_segs == 1 && s->segs[0].bytes >= s->segment_bytes / 2)) {
		/* rotate writes the META itself; old segments then go. */
		r = rotate(s);
	} else {
		r = write_meta(s);
	}
	if (r < 0) {
		return r;
	}
	collect(s);
	return 0;
}

void
spool_get_stats(const struct spool *s, struct spool_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < s->n_ents; i++) {
		const struct entry *e = &s->ents[s->head + i];
		ret->pending_events += e->n_events - (i == 0 ? s->head_idx : 0);
		ret->pending_bytes += e->len;
		if (i == 0) {
			ret->oldest_pending_ms = e->wall_ms;
		}
	}
	ret->total_bytes = s->total_bytes;
	ret->segments = (uint32_t)s->n_segs;
	ret->dropped_pending = s->dropped_pending;
	ret->dropped_total = s->dropped_total;
	ret->corrupt_total = s->corrupt_removed;
	for (size_t i = 0; i < s->n_segs; i++) {
		ret->corrupt_total += s->segs[i].corrupt;
	}
	ret->quarantined_batches = s->quarantined_batches;
	ret->quarantined_events = s->quarantined_events;
	ret->shipped_events = s->shipped_events;
}

bool
spool_pending(const struct spool *s)
{
	return s->n_ents > 0;
}

/* --- opening --------------------------------------------------------------------------------- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int
list_segments(const char *dir, uint64_t **ret_ids, size_t *ret_n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t *ids = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		return -errno;
	}
	while ((de = readdir(d)) != NULL) {
		char *end;
		unsigned long long v;
		if (strlen(de->d_name) != 24 || strcmp(de->d_name + 20, ".seg") != 0) {
			continue;
		}
		errno = 0;
		v = strtoull(de->d_name, &end, 10);
		if (errno != 0 || end != de->d_name + 20 || v == 0) {
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint64_t *grown = realloc(ids, cap * sizeof(*ids));
			if (grown == NULL) {
				free(ids);
				closedir(d);
				return -ENOMEM;
			}
			ids = grown;
		}
		ids[n++] = v;
	}
	closedir(d);
	if (n > 0) {
		qsort(ids, n, sizeof(*ids), cmp_u64);
	}
	*ret_ids = ids;
	*ret_n = n;
	return 0;
}

/* The next offset after pos where a valid record starts, or len. */
static size_t
resync(const uint8_t *buf, size_t len, size_t pos)
{
	for (size_t i = pos + 1; i + SPOOL_HEADER_LEN <= len; i++) {
		struct spool_record rec;
		size_t used;
		if (buf[i] == (SPOOL_MAGIC & 0xff) && spool_record_decode(buf + i, len - i, &rec, &used) == 0) {
			return i;
		}
	}
	return len;
}

struct scan_meta {
	bool have;
	struct spool_record rec;
};

static int
scan_segment(struct spool *s, uint64_t first, bool last, struct scan_meta *meta)
{
	char path[4096];
	uint8_t *buf = NULL;
	size_t len = 0, pos = 0, keep;
	uint32_t corrupt = 0;
	bool has_snapshot = false;
	int r;

	r = seg_path(s, first, path, sizeof(path));
	if (r < 0) {
		return r;
	}
	r = read_file(path, &buf, &len);
	if (r < 0) {
		log_warnx("could not read spool segment \"%s\": %s", path, strerror(-r));
		return r;
	}
	keep = len;
	while (pos < len) {
		struct spool_record rec;
		size_t used;
		r = spool_record_decode(buf + pos, len - pos, &rec, &used);
		if (r == -EAGAIN && last) {
			/* A write that never completed: it was never reported durable. */
			keep = pos;
			break;
		}
		if (r < 0) {
			size_t next = resync(buf, len, pos);
			if (next == len && last) {
				keep = pos; /* torn tail whose length field survived */
				break;
			}
			corrupt++;
			log_warnx("skipping corrupt spool data in \"%s\" at offset %zu (%zu bytes)", path,
				  pos, next - pos);
			pos = next;
			continue;
		}
		if (rec.seq >= s->next_seq) {
			s->next_seq = rec.seq + 1;
		}
		switch (rec.type) {
		case SPOOL_RECORD_DATA:
			if (rec.n_events > 0) {
				struct entry e = {
					.seq = rec.seq,
					.seg_first = first,
					.off = pos,
					.len = (uint32_t)used,
					.n_events = rec.n_events,
					.wall_ms = rec.wall_ms,
				};
				r = ents_push(s, &e);
				if (r < 0) {
					goto out;
				}
			}
			if (s->ops.restore != NULL && rec.state_len > 0) {
				r = s->ops.restore(s->ops.opaque, rec.state, rec.state_len, false);
			}
			break;
		case SPOOL_RECORD_SNAPSHOT:
			has_snapshot = has_snapshot || pos == 0;
			if (s->ops.restore != NULL) {
				r = s->ops.restore(s->ops.opaque, rec.state, rec.state_len, true);
			}
			break;
		case SPOOL_RECORD_META:
			if (!meta->have || rec.seq > meta->rec.seq) {
				meta->have = true;
				meta->rec = rec;
			}
			break;
		default:
			break;
		}
		if (r < 0) {
			log_warnx("could not restore reader state from spool record %" PRIu64
				  ": %s, ignoring",
				  rec.seq, strerror(-r));
			r = 0;
		}
		pos += used;
	}
	r = 0;
	if (keep < len && !s->read_only) {
		log_warnx("truncating torn tail of spool segment \"%s\" at offset %zu", path, keep);
		if (truncate(path, (off_t)keep) < 0) {
			r = -errno;
			goto out;
		}
	}
	r = segs_push(s, first, keep);
	if (r == 0) {
		s->total_bytes += keep;
		s->segs[s->n_segs - 1].corrupt = corrupt;
		s->segs[s->n_segs - 1].has_snapshot = has_snapshot;
	}
out:
	free(buf);
	return r;
}

int
spool_open(const char *dir, const struct spool_options *opts, const struct spool_state_ops *ops,
	   struct spool **ret_spool)
{
	struct spool *s;
	struct scan_meta meta = {0};
	uint64_t *ids = NULL;
	size_t n_ids = 0;
	char path[4096];
	int r;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		return -ENOMEM;
	}
	s->active_fd = -1;
	s->lock_fd = -1;
	s->read_fd = -1;
	s->next_seq = 1;
	s->read_only = opts != NULL && opts->read_only;
	s->max_bytes = (opts != NULL && opts->max_bytes) ? opts->max_bytes : SPOOL_DEFAULT_MAX_BYTES;
	s->segment_bytes = (opts != NULL && opts->segment_bytes) ? opts->segment_bytes
								 : s->max_bytes / 8;
	if (s->segment_bytes < SEG_MIN_BYTES && (opts == NULL || opts->segment_bytes == 0)) {
		s->segment_bytes = SEG_MIN_BYTES;
	}
	if (s->segment_bytes > SEG_MAX_BYTES) {
		s->segment_bytes = SEG_MAX_BYTES;
	}
	if (ops != NULL) {
		s->ops = *ops;
	}
	s->dir = strdup(dir);
	if (s->dir == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if (!s->read_only) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			r = -errno;
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/lock", dir);
		s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (s->lock_fd < 0) {
			r = -errno;
			goto fail;
		}
		if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
			r = errno == EWOULDBLOCK ? -EBUSY : -errno;
			goto fail;
		}
	}
	r = list_segments(dir, &ids, &n_ids);
	if (r < 0) {
		goto fail;
	}
	for (size_t i = 0; i < n_ids; i++) {
		r = scan_segment(s, ids[i], i + 1 == n_ids, &meta);
		if (r < 0) {
			goto fail;
		}
	}
	free(ids);
	ids = NULL;

	if (meta.have) {
		s->dropped_pending = meta.rec.dropped_pending;
		s->dropped_total = meta.rec.dropped_total;
		s->corrupt_removed = meta.rec.corrupt_total;
		s->quarantined_batches = meta.rec.quarantined_batches;
		s->quarantined_events = meta.rec.quarantined_events;
		s->shipped_events = meta.rec.shipped_events;
		while (s->n_ents > 0 && s->ents[s->head].seq < meta.rec.ack_seq) {
			ents_pop(s);
		}
		if (s->n_ents > 0 && s->ents[s->head].seq == meta.rec.ack_seq) {
			s->head_idx = meta.rec.ack_idx;
			if (s->head_idx >= s->ents[s->head].n_events) {
				ents_pop(s);
			}
		}
	}
	if (!s->read_only) {
		if (s->n_segs > 0 && s->segs[s->n_segs - 1].bytes == 0) {
			/* A segment whose first write never completed. */
			if (seg_path(s, s->segs[s->n_segs - 1].first_seq, path, sizeof(path)) == 0) {
				(void)unlink(path); /* rotate reuses the name anyway */
			}
			s->n_segs--;
		}
		if (s->n_segs > 0 && s->segs[s->n_segs - 1].has_snapshot) {
			r = seg_path(s, s->segs[s->n_segs - 1].first_seq, path, sizeof(path));
			if (r == 0) {
				s->active_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
				r = s->active_fd < 0 ? -errno : 0;
			}
		} else {
			/* No segment, or the newest lost its snapshot: start one that has it. */
			r = rotate(s);
		}
		if (r < 0) {
			goto fail;
		}
		collect(s);
	}
	*ret_spool = s;
	return 0;
fail:
	free(ids);
	spool_close(s);
	return r;
}

void
spool_close(struct spool *s)
{
	if (s == NULL) {
		return;
	}
	if (s->active_fd >= 0) {
		close(s->active_fd);
	}
	if (s->read_fd >= 0) {
		close(s->read_fd);
	}
	if (s->lock_fd >= 0) {
		close(s->lock_fd);
	}
	free(s->segs);
	free(s->ents);
	free(s->dir);
	free(s);
}
