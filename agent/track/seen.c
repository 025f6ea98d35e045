/* seen.c: the ids `collect` has handed out; see seen.h. */
#include "seen.h"

#include "replace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEEN_FILE "seen.bin"
#define SEEN_MAGIC "AMSEEN2\n" /* then records: 16-byte id, event time (ms, int64 LE) */
#define SEEN_MAGIC_LEN 8
#define SEEN_REC 24
#define SEEN_WINDOW_MS (60LL * 86400 * 1000)
#define SEEN_FILE_MAX (1LL << 32)


/* The slot that holds id, or the empty one where it would go (n_slots > 0). */
static size_t
slot_of(const struct seen *s, const uint8_t id[16])
{
	static const uint8_t zero[16];
	uint64_t h;

	memcpy(&h, id, sizeof(h));
	size_t j = h & (s->n_slots - 1);
	while (memcmp(s->ids[j], zero, 16) != 0 && memcmp(s->ids[j], id, 16) != 0) {
		j = (j + 1) & (s->n_slots - 1);
	}
	return j;
}

static int
seen_put(struct seen *s, const uint8_t id[16])
{
	static const uint8_t zero[16];
	uint64_t h;

	if ((s->n + 1) * 2 > s->n_slots) {
		size_t ns = s->n_slots ? s->n_slots * 2 : 4096;
		uint8_t(*ids)[16] = calloc(ns, 16);
		if (ids == NULL) {
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->n_slots; i++) {
			if (memcmp(s->ids[i], zero, 16) != 0) {
				memcpy(&h, s->ids[i], sizeof(h));
				size_t j = h & (ns - 1);
				while (memcmp(ids[j], zero, 16) != 0) {
					j = (j + 1) & (ns - 1);
				}
				memcpy(ids[j], s->ids[i], 16);
			}
		}
		free(s->ids);
		s->ids = ids;
		s->n_slots = ns;
	}
	size_t j = slot_of(s, id);
	if (memcmp(s->ids[j], zero, 16) != 0) {
		return 0;
	}
	memcpy(s->ids[j], id, 16);
	s->n++;
	return 1;
}

bool
seen_has(const struct seen *s, const uint8_t id[16])
{
	return s->n_slots > 0 && memcmp(s->ids[slot_of(s, id)], id, 16) == 0;
}

static void
put_le64(uint8_t *p, int64_t v)
{
	for (int i = 0; i < 8; i++) {
		p[i] = (uint8_t)((uint64_t)v >> (8 * i));
	}
}

static int64_t
get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++) {
		v |= (uint64_t)p[i] << (8 * i);
	}
	return (int64_t)v;
}

/* Replace the seen file with the records in recs (after the magic). */
static int
seen_rewrite(const char *dir, const uint8_t *recs, size_t n)
{
	return replace_file(dir, SEEN_FILE, SEEN_MAGIC, SEEN_MAGIC_LEN, recs, n * SEEN_REC);
}

/*
 * Load the ids handed out whose event time is within SEEN_WINDOW_MS of the
 * newest event time known (in the file or about to be handed out,
 * emit_max_ms), but never later than now_ms: a wrong clock or a timestamp
 * in the future cannot make it forget recent ids. Older ones are dropped,
 * and the file is rewritten without them once they are a quarter of it, so
 * it stays about one window's worth of events long. A file of the first
 * format (bare 16-byte ids, no times) is kept whole for one window.
 */
int
seen_load(struct seen *s, const char *dir, int64_t now_ms, int64_t emit_max_ms)
{
	char path[4200];
	uint8_t *buf = NULL;
	size_t n = 0, kept = 0;
	bool legacy = false;
	int64_t anchor = emit_max_ms;
	struct stat st;
	FILE *f;
	int r = 0;

	s->loaded = true;
	snprintf(path, sizeof(path), "%s/" SEEN_FILE, dir);
	f = fopen(path, "re");
	if (f != NULL) {
		char magic[SEEN_MAGIC_LEN];
		if (fstat(fileno(f), &st) < 0 || st.st_size > SEEN_FILE_MAX) {
			fclose(f);
			return -EFBIG;
		}
		legacy = st.st_size > 0 && (fread(magic, SEEN_MAGIC_LEN, 1, f) != 1 ||
					    memcmp(magic, SEEN_MAGIC, SEEN_MAGIC_LEN) != 0);
		if (legacy) {
			rewind(f);
		}
		buf = malloc((size_t)st.st_size / 16 * SEEN_REC + SEEN_REC);
		if (buf == NULL) {
			fclose(f);
			return -ENOMEM;
		}
		for (uint8_t *rec = buf;; rec = buf + n * SEEN_REC) {
			if (legacy ? fread(rec, 16, 1, f) != 1 : fread(rec, SEEN_REC, 1, f) != 1) {
				break;
			}
			if (!legacy && get_le64(rec + 16) > anchor) {
				anchor = get_le64(rec + 16);
			}
			n++;
		}
		fclose(f);
	}
	if (anchor == INT64_MIN || anchor > now_ms) {
		anchor = now_ms;
	}
	s->cutoff_ms = anchor - SEEN_WINDOW_MS;
	for (size_t i = 0; i < n; i++) {
		uint8_t *rec = buf + i * SEEN_REC;
		if (legacy) {
			put_le64(rec + 16, anchor); /* no time known: one window from now */
		}
		if (get_le64(rec + 16) < s->cutoff_ms) {
			continue;
		}
		if (seen_put(s, rec) < 0) {
			free(buf);
			return -ENOMEM;
		}
		memmove(buf + kept * SEEN_REC, rec, SEEN_REC);
		kept++;
	}
	if (f == NULL || n == 0 || legacy || (n - kept) * 4 >= n) {
		if (n > kept || n == 0 || legacy) {
			r = seen_rewrite(dir, buf, kept);
		}
	}
	free(buf);
	if (r < 0) {
		return r;
	}
	s->append = fopen(path, "ae");
	return s->append != NULL ? 0 : -errno;
}

int
seen_add_id(struct seen *s, const uint8_t id[16], int64_t ts_ms)
{
	uint8_t rec[SEEN_REC];
	int r = seen_put(s, id);

	if (r <= 0) {
		return r;
	}
	if (ts_ms < s->cutoff_ms) {
		return 1; /* would be dropped on the next load: not written */
	}
	memcpy(rec, id, 16);
	put_le64(rec + 16, ts_ms);
	return fwrite(rec, SEEN_REC, 1, s->append) == 1 ? 1 : -EIO;
}

int
seen_sync(struct seen *s)
{
	if (s->append == NULL) {
		return 0;
	}
	if (fflush(s->append) != 0 || fsync(fileno(s->append)) != 0) {
		return -errno;
	}
	return 0;
}

void
seen_finish(struct seen *s)
{
	if (s->append != NULL) {
		fclose(s->append);
	}
	free(s->ids);
	memset(s, 0, sizeof(*s));
}
