/* storage.c: state-directory write failures, recorded in place; see storage.h. */
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define STORAGE_RECORD_LEN 128

static void
storage_path(const char *state_dir, char *buf, size_t size)
{
	snprintf(buf, size, "%s/storage", state_dir);
}

/* One fixed-size record, written over the previous one: no new blocks needed. */
static int
storage_write(struct storage *st)
{
	char rec[STORAGE_RECORD_LEN];
	int n;

	if (st->fd < 0) {
		return -EBADF;
	}
	memset(rec, ' ', sizeof(rec));
	n = snprintf(rec, sizeof(rec), "error %d since_ms %" PRId64 " pid %ld", -st->error,
		     st->since_ms, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(rec)) {
		return -EINVAL;
	}
	rec[n] = ' ';
	rec[sizeof(rec) - 1] = '\n';
	if (pwrite(st->fd, rec, sizeof(rec), 0) != (ssize_t)sizeof(rec)) {
		return errno != 0 ? -errno : -EIO;
	}
	return 0;
}

void
storage_open(struct storage *st, const char *state_dir)
{
	char path[PATH_MAX];

	memset(st, 0, sizeof(*st));
	storage_path(state_dir, path, sizeof(path));
	st->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->fd < 0) {
		log_warn("could not open \"%s\"; a full disk will show only in the log", path);
		return;
	}
	/* Allocate the blocks now, while there is space: later writes only overwrite. */
	if (storage_write(st) < 0 || fdatasync(st->fd) < 0) {
		log_warn("could not write \"%s\"; a full disk will show only in the log", path);
		close(st->fd);
		st->fd = -1;
	}
}

void
storage_note(struct storage *st, int error, int64_t now_ms)
{
	if (error == 0) {
		if (st->error == 0) {
			return;
		}
		log_info("the state directory is writable again after %" PRId64
			 " s and %" PRIu64 " failed writes; reading resumed",
			 (now_ms - st->since_ms) / 1000, st->failures);
		st->error = 0;
		st->since_ms = 0;
		st->failures = 0;
	} else {
		st->failures++;
		if (st->error == error) {
			return;
		}
		log_warnx("could not write to the state directory: %s; reading paused (the logs "
			  "stay where they are), trying again every few seconds",
			  strerror(-error));
		if (st->error == 0) {
			st->since_ms = now_ms;
		}
		st->error = error;
	}
	/* Informational, and the spool is what matters: a failure here changes nothing. */
	(void)storage_write(st);
}

void
storage_close(struct storage *st)
{
	if (st->fd > 0) { /* 0: a zeroed struct (stdin is never ours) */
		close(st->fd);
	}
	st->fd = -1;
}

int
storage_read(const char *state_dir, int *ret_error, int64_t *ret_since_ms, long *ret_pid)
{
	char path[PATH_MAX], rec[STORAGE_RECORD_LEN + 1];
	int err = 0;
	long long since = 0;
	long pid = 0;
	FILE *f;

	storage_path(state_dir, path, sizeof(path));
	f = fopen(path, "re");
	if (f == NULL) {
		return -ENOENT;
	}
	if (fgets(rec, sizeof(rec), f) == NULL ||
	    sscanf(rec, "error %d since_ms %lld pid %ld", &err, &since, &pid) != 3) {
		err = 0;
		since = 0;
		pid = 0;
	}
	fclose(f);
	*ret_error = -err;
	*ret_since_ms = since;
	*ret_pid = pid;
	return 0;
}
