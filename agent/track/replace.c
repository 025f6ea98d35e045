/* replace.c: atomic replacement of a state file; see replace.h. */
#include "replace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return w < 0 ? -errno : -EIO;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
replace_file(const char *dir, const char *name, const void *head, size_t head_len,
	     const void *body, size_t body_len)
{
	char path[4200], tmp[4200];
	int fd, e;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name) >= sizeof(tmp)) {
		return -ENAMETOOLONG;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	e = write_all(fd, head, head_len);
	if (e == 0) {
		e = write_all(fd, body, body_len);
	}
	if (e == 0 && fsync(fd) != 0) {
		e = -errno;
	}
	if (close(fd) != 0 && e == 0) {
		e = -EIO;
	}
	if (e == 0 && rename(tmp, path) != 0) {
		e = -errno;
	}
	if (e < 0) {
		(void)unlink(tmp); /* best effort: a stale .tmp is replaced next time */
		return e;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd); /* make the rename durable; nothing to undo if it fails */
		close(fd);
	}
	return 0;
}
