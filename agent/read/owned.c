/* owned.c: opening a user's files without following their links; see owned.h. */
#include "owned.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define OPEN_FLAGS (O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

int
owned_openat(int dirfd, const char *name, const struct owned *o, int flags, struct stat *ret_st)
{
	struct stat lst;
	int fd, e;

	fd = openat(dirfd, name, flags | OPEN_FLAGS | (o->strict ? O_NOFOLLOW : 0));
	if (fd < 0) {
		e = errno;
		/* O_DIRECTORY | O_NOFOLLOW on a link says ENOTDIR: tell links apart */
		if (o->strict && (e == ELOOP || e == ENOTDIR) &&
		    fstatat(dirfd, name, &lst, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(lst.st_mode)) {
			return -ELOOP;
		}
		return -e;
	}
	if (fstat(fd, ret_st) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	if (o->strict && ret_st->st_uid != o->uid) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int
owned_open(const char *path, const struct owned *o, int flags, struct stat *ret_st)
{
	char prefix[4096], comp[256];
	const char *p, *next;
	int dfd, fd;

	if (!o->strict) {
		fd = open(path, flags | OPEN_FLAGS);
		if (fd < 0) {
			return -errno;
		}
		if (fstat(fd, ret_st) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		return fd;
	}
	if (o->trusted_len == 0 || o->trusted_len >= sizeof(prefix) ||
	    strlen(path) <= o->trusted_len || path[o->trusted_len] != '/') {
		return -EINVAL;
	}
	memcpy(prefix, path, o->trusted_len);
	prefix[o->trusted_len] = '\0';
	dfd = open(prefix, O_RDONLY | O_DIRECTORY | OPEN_FLAGS);
	if (dfd < 0) {
		return -errno;
	}
	for (p = path + o->trusted_len;; p = next) {
		while (*p == '/') {
			p++;
		}
		next = strchr(p, '/');
		size_t n = next != NULL ? (size_t)(next - p) : strlen(p);
		while (next != NULL && *next == '/') {
			next++;
		}
		bool last = next == NULL || *next == '\0';
		if (n == 0 || n >= sizeof(comp) || (n == 2 && memcmp(p, "..", 2) == 0)) {
			close(dfd);
			return n >= sizeof(comp) ? -ENAMETOOLONG : -EINVAL;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		fd = owned_openat(dfd, comp, o, last ? flags : O_RDONLY | O_DIRECTORY, ret_st);
		close(dfd);
		if (fd < 0 || last) {
			return fd;
		}
		dfd = fd;
	}
}

int
owned_check(const struct owned *o, int fd)
{
	struct stat st;

	if (!o->strict) {
		return 0;
	}
	return fstat(fd, &st) == 0 && st.st_uid == o->uid ? 0 : -EPERM;
}
