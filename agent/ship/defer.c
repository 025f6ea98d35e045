/* defer.c: events refused as in the future, kept and sent again; see defer.h. */
#include "defer.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "log.h"
#include "replace.h"

#define DEFER_HEADER_LEN 8
#define DEFER_FILE_MAX (SPOOL_PAYLOAD_MAX + DEFER_HEADER_LEN)

static void
put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++) {
		p[i] = (uint8_t)(v >> (8 * i));
	}
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint32_t
blob_crc(uint32_t n, const uint8_t *blob, size_t len)
{
	uint8_t head[4];
	uLong crc = crc32(0L, Z_NULL, 0);

	put32(head, n);
	crc = crc32(crc, head, sizeof(head));
	return (uint32_t)crc32(crc, blob, (uInt)len);
}

int
defer_save(const char *state_dir, am_usage_event *const *events, size_t n, int64_t due_ms)
{
	char dir[PATH_MAX], name[64];
	uint8_t head[DEFER_HEADER_LEN], *blob = NULL;
	uint64_t rnd = 0;
	size_t len = 0;
	int r;

	if (n == 0 || n > UINT32_MAX) {
		return n == 0 ? 0 : -EINVAL;
	}
	snprintf(dir, sizeof(dir), "%s/" DEFER_DIR, state_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	r = spool_events_pack(events, n, &blob, &len);
	if (r < 0) {
		return r;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		rnd = (uint64_t)getpid() << 32 ^ (uint64_t)due_ms; /* the name only has to be new */
	}
	snprintf(name, sizeof(name), "%020" PRId64 "-%016" PRIx64 ".ev", due_ms, rnd);
	put32(head, (uint32_t)n);
	put32(head + 4, blob_crc((uint32_t)n, blob, len));
	r = replace_file(dir, name, head, sizeof(head), blob, len);
	free(blob);
	return r;
}

/* The whole file, if it is a whole deferred file: 0, -EBADMSG, or an errno. */
static int
read_deferred(const char *path, uint8_t **ret_buf, size_t *ret_len)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	uint8_t *buf;
	size_t len;

	if (f == NULL) {
		return -errno;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size < DEFER_HEADER_LEN ||
	    st.st_size > DEFER_FILE_MAX) {
		fclose(f);
		return -EBADMSG;
	}
	len = (size_t)st.st_size;
	buf = malloc(len);
	if (buf == NULL || fread(buf, 1, len, f) != len) {
		free(buf);
		fclose(f);
		return buf == NULL ? -ENOMEM : -EIO;
	}
	fclose(f);
	if (get32(buf) == 0 ||
	    get32(buf + 4) != blob_crc(get32(buf), buf + DEFER_HEADER_LEN, len - DEFER_HEADER_LEN)) {
		free(buf);
		return -EBADMSG;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

/* Calls fn for each deferred file, in name order (due time first); stops at fn's error. */
static int
each_file(const char *state_dir, int (*fn)(const char *path, int64_t due_ms, void *arg),
	  void *arg)
{
	char dir[PATH_MAX], path[PATH_MAX + 80];
	struct dirent **names = NULL;
	int n, r = 0;

	snprintf(dir, sizeof(dir), "%s/" DEFER_DIR, state_dir);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0) {
		return errno == ENOENT ? 0 : -errno;
	}
	for (int i = 0; i < n; i++) {
		const char *nm = names[i]->d_name;
		size_t l = strlen(nm);
		if (r == 0 && l > 3 && strcmp(nm + l - 3, ".ev") == 0) {
			snprintf(path, sizeof(path), "%s/%s", dir, nm);
			r = fn(path, strtoll(nm, NULL, 10), arg);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

struct release {
	struct spool *spool;
	int64_t now_ms;
	uint64_t max_wait_ms;
	uint64_t released;
	int64_t next_due_ms;
};

static int
release_one(const char *path, int64_t due_ms, void *arg)
{
	struct release *rl = arg;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	if (due_ms > rl->now_ms && (uint64_t)(due_ms - rl->now_ms) <= rl->max_wait_ms) {
		if (rl->next_due_ms == 0 || due_ms < rl->next_due_ms) {
			rl->next_due_ms = due_ms;
		}
		return 0;
	}
	r = read_deferred(path, &buf, &len);
	if (r == -EBADMSG) {
		char bad[PATH_MAX + 96];
		snprintf(bad, sizeof(bad), "%s.corrupt", path);
		log_warnx("deferred events file \"%s\" is damaged; moved aside", path);
		(void)rename(path, bad); /* kept for a look; never read again */
		return 0;
	}
	if (r < 0) {
		return r;
	}
	r = spool_append(rl->spool, buf + DEFER_HEADER_LEN, len - DEFER_HEADER_LEN, get32(buf),
			 NULL, 0);
	if (r == 0) {
		rl->released += get32(buf);
		if (unlink(path) < 0) {
			/* appended again next time: the collector keeps the first copy */
			log_warn("could not remove deferred events file \"%s\"", path);
		}
	}
	free(buf);
	return r;
}

int
defer_release(const char *state_dir, struct spool *spool, int64_t now_ms,
	      uint64_t max_wait_ms, uint64_t *ret_released, int64_t *ret_next_due_ms)
{
	struct release rl = { spool, now_ms, max_wait_ms, 0, 0 };
	int r = each_file(state_dir, release_one, &rl);

	*ret_released = rl.released;
	*ret_next_due_ms = rl.next_due_ms;
	return r;
}

struct stats {
	uint64_t events;
	int64_t next_due_ms;
};

static int
count_one(const char *path, int64_t due_ms, void *arg)
{
	struct stats *st = arg;
	uint8_t head[DEFER_HEADER_LEN];
	FILE *f = fopen(path, "re");

	if (f != NULL && fread(head, 1, sizeof(head), f) == sizeof(head)) {
		st->events += get32(head);
	}
	if (f != NULL) {
		fclose(f);
	}
	if (st->next_due_ms == 0 || due_ms < st->next_due_ms) {
		st->next_due_ms = due_ms;
	}
	return 0;
}

void
defer_stats(const char *state_dir, uint64_t *ret_events, int64_t *ret_next_due_ms)
{
	struct stats st = { 0, 0 };

	(void)each_file(state_dir, count_one, &st); /* status shows what it could read */
	*ret_events = st.events;
	*ret_next_due_ms = st.next_due_ms;
}
