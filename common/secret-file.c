/* secret-file.c: open once, check the open descriptor, read with a cap. */
#define _GNU_SOURCE
#include "secret-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens path and checks what it is; returns the descriptor or -errno. */
static int
secret_open(const char *path, const char *what, struct stat *ret_st, char *err, size_t err_len)
{
	/* O_NONBLOCK: a FIFO must not block the open before fstat refuses it. */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK), r;

	if (fd < 0) {
		r = -errno;
		if (r == -ELOOP) {
			snprintf(err, err_len, "%s \"%s\" is a symbolic link; name the file itself",
				 what, path);
		} else {
			snprintf(err, err_len, "could not open %s \"%s\": %s", what, path,
				 strerror(-r));
		}
		return r;
	}
	if (fstat(fd, ret_st) < 0) {
		r = -errno;
		snprintf(err, err_len, "could not stat %s \"%s\": %s", what, path, strerror(-r));
	} else if (!S_ISREG(ret_st->st_mode)) {
		r = -EINVAL;
		snprintf(err, err_len, "%s \"%s\" is not a regular file", what, path);
	} else if (ret_st->st_uid != geteuid() && ret_st->st_uid != 0) {
		r = -EPERM;
		snprintf(err, err_len, "%s \"%s\" is owned by uid %u, not by this user (uid %u)",
			 what, path, (unsigned)ret_st->st_uid, (unsigned)geteuid());
	} else if ((ret_st->st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		r = -EPERM;
		snprintf(err, err_len,
			 "%s \"%s\" is readable by group or others (mode %04o); "
			 "run chmod 600 on it",
			 what, path, (unsigned)(ret_st->st_mode & 07777));
	} else {
		return fd;
	}
	close(fd);
	return r;
}

int
secret_file_check(const char *path, const char *what, char *err, size_t err_len)
{
	struct stat st;
	int fd = secret_open(path, what, &st, err, err_len);

	if (fd < 0) {
		return fd;
	}
	close(fd);
	return 0;
}

int
secret_file_read(const char *path, const char *what, void *buf, size_t cap, size_t *ret_len,
		 char *err, size_t err_len)
{
	struct stat st;
	size_t len = 0;
	char extra;
	ssize_t n;
	int fd = secret_open(path, what, &st, err, err_len), r = 0;

	if (fd < 0) {
		explicit_bzero(buf, cap);
		return fd;
	}
	while (len < cap && (n = read(fd, (char *)buf + len, cap - len)) != 0) {
		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n < 0) {
			r = -errno;
			snprintf(err, err_len, "could not read %s \"%s\": %s", what, path,
				 strerror(-r));
			break;
		}
		len += (size_t)n;
	}
	/* Full: one more byte tells "exactly cap" from "larger". */
	if (r == 0 && len == cap && read(fd, &extra, 1) > 0) {
		r = -EFBIG;
		snprintf(err, err_len, "%s \"%s\" is larger than %zu bytes", what, path, cap);
	}
	close(fd);
	if (r < 0) {
		explicit_bzero(buf, cap);
		return r;
	}
	*ret_len = len;
	return 0;
}
