/* secret-file.h: reading files that hold keys, tokens and secrets.
 *
 * The file is opened once (O_NOFOLLOW) and every check runs on the open
 * descriptor, so nothing can be swapped in between the check and the read.
 * Returns 0 or -errno (see macros.h) and, on error, one line of text in err
 * naming the file by `what` (e.g. "person-key file") and path.
 */
#ifndef AM_COMMON_SECRET_FILE_H
#define AM_COMMON_SECRET_FILE_H

#include <stddef.h>

/* secret_file_read(path, what, buf, cap, ret_len, err, err_len): reads the whole
 * file into buf (not NUL-terminated). Refuses a symbolic link (-ELOOP), a
 * non-regular file (-EINVAL), a file owned by another user than the effective
 * one or root (-EPERM), any group/other permission bit (-EPERM) and a file over
 * cap bytes (-EFBIG). On any error buf is zeroed. */
int secret_file_read(const char *path, const char *what, void *buf, size_t cap, size_t *ret_len,
		     char *err, size_t err_len);

/* secret_file_check(path, what, err, err_len): the same checks, reading nothing. */
int secret_file_check(const char *path, const char *what, char *err, size_t err_len);

#endif
