/*
 * owned.h: opening one user's files as a reader with more rights than that
 * user (all-users mode), so that the user cannot point the reader anywhere
 * else: below a trusted prefix (the home directory from the password
 * database), every component is opened with O_NOFOLLOW from its parent's
 * descriptor, never by re-resolving a path string, and must be owned by the
 * user (checked with fstat on what was opened). A zeroed struct owned is
 * the lenient mode of a user reading their own files: paths resolve as
 * usual and nobody's ownership is checked.
 */
#ifndef AM_AGENT_OWNED_H
#define AM_AGENT_OWNED_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

struct owned {
	bool strict;        /* no symlinks below the prefix, everything owned by uid */
	uid_t uid;          /* the user whose files these are */
	size_t trusted_len; /* bytes of a path resolved as usual (the home directory) */
};

/*
 * owned_openat(dirfd, name, o, flags, ret_st): open name (one component)
 * in dirfd with flags (O_CLOEXEC, O_NOCTTY and O_NONBLOCK are added) and
 * fstat it into ret_st. Strict: O_NOFOLLOW, and the result must belong to
 * o->uid. Returns the descriptor, or -ELOOP (a symbolic link, strict only),
 * -EPERM (owned by someone else) or another negative errno.
 */
int owned_openat(int dirfd, const char *name, const struct owned *o, int flags,
		 struct stat *ret_st);

/*
 * owned_open(path, o, flags, ret_st): the same for a whole path. Strict:
 * the first o->trusted_len bytes are opened as a directory as usual, then
 * each further component with owned_openat; a path not longer than the
 * prefix, or holding "..", is refused (-EINVAL).
 */
int owned_open(const char *path, const struct owned *o, int flags, struct stat *ret_st);

/* owned_check(o, fd): 0 when fd may be read under o, else -EPERM. */
int owned_check(const struct owned *o, int fd);

#endif
