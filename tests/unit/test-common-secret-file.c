/* test-common-secret-file.c: what secret_file_read() reads and what it refuses. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret-file.h"
#include "test.h"

static char dir[] = "/tmp/am-secret-XXXXXX";

static void
put(const char *name, const char *text, mode_t mode, char *ret_path)
{
	int fd;

	snprintf(ret_path, 256, "%s/%s", dir, name);
	unlink(ret_path);
	fd = open(ret_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	ASSERT_EQ(chmod(ret_path, mode), 0);
}

static int
all_zero(const char *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (buf[i] != 0) {
			return 0;
		}
	}
	return 1;
}

TEST(reads_a_private_file)
{
	char path[256], buf[16], err[256];
	size_t n = 0;

	put("ok", "s3cret\n", 0600, path);
	ASSERT_EQ(secret_file_read(path, "secret file", buf, sizeof(buf), &n, err, sizeof(err)), 0);
	ASSERT_UINT_EQ(n, 7);
	ASSERT_EQ(memcmp(buf, "s3cret\n", 7), 0);
	ASSERT_EQ(secret_file_check(path, "secret file", err, sizeof(err)), 0);
	put("exact", "0123456789abcdef", 0400, path); /* exactly the cap */
	ASSERT_EQ(secret_file_read(path, "secret file", buf, sizeof(buf), &n, err, sizeof(err)), 0);
	ASSERT_UINT_EQ(n, 16);
}

TEST(refuses_group_or_other_bits)
{
	static const mode_t modes[] = {0640, 0604, 0610, 0601, 0660, 0644};
	char path[256], buf[16], err[256];
	size_t n;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		put("open", "s3cret", modes[i], path);
		memset(buf, 'x', sizeof(buf));
		ASSERT_EQ(secret_file_read(path, "secret file", buf, sizeof(buf), &n, err,
					   sizeof(err)),
			  -EPERM);
		ASSERT(strstr(err, "readable by group or others") != NULL);
		ASSERT(strstr(err, path) != NULL);
		ASSERT(all_zero(buf, sizeof(buf)));
		ASSERT_EQ(secret_file_check(path, "secret file", err, sizeof(err)), -EPERM);
	}
}

TEST(refuses_a_symlink)
{
	char path[256], link[256], buf[16], err[256];
	size_t n;

	put("target", "s3cret", 0600, path);
	snprintf(link, sizeof(link), "%s/link", dir);
	unlink(link);
	ASSERT_EQ(symlink(path, link), 0);
	ASSERT_EQ(secret_file_read(link, "key file", buf, sizeof(buf), &n, err, sizeof(err)),
		  -ELOOP);
	ASSERT(strstr(err, "symbolic link") != NULL);
	ASSERT(strstr(err, "key file") != NULL);
	ASSERT(all_zero(buf, sizeof(buf)));
	unlink(link);
}

TEST(refuses_a_non_regular_file)
{
	char path[256], buf[16], err[256];
	size_t n;

	/* A directory, and a FIFO (which must not block the open). */
	ASSERT_EQ(secret_file_read(dir, "secret file", buf, sizeof(buf), &n, err, sizeof(err)),
		  -EINVAL);
	ASSERT(strstr(err, "not a regular file") != NULL);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	unlink(path);
	ASSERT_EQ(mkfifo(path, 0600), 0);
	ASSERT_EQ(secret_file_read(path, "secret file", buf, sizeof(buf), &n, err, sizeof(err)),
		  -EINVAL);
	ASSERT(strstr(err, "not a regular file") != NULL);
	unlink(path);
}

TEST(refuses_an_oversize_file)
{
	char path[256], buf[16], err[256];
	size_t n;

	put("big", "0123456789abcdef!", 0600, path);
	ASSERT_EQ(secret_file_read(path, "secret file", buf, sizeof(buf), &n, err, sizeof(err)),
		  -EFBIG);
	ASSERT(strstr(err, "larger than 16 bytes") != NULL);
	ASSERT(all_zero(buf, sizeof(buf)));
}

TEST(missing_file_says_why)
{
	char path[256], buf[16], err[256];
	size_t n;

	snprintf(path, sizeof(path), "%s/missing", dir);
	ASSERT_EQ(secret_file_read(path, "secret file", buf, sizeof(buf), &n, err, sizeof(err)),
		  -ENOENT);
	ASSERT(strstr(err, "could not open secret file") != NULL);
}

int
main(void)
{
	ASSERT_NOT_NULL(mkdtemp(dir));
	RUN(reads_a_private_file);
	RUN(refuses_group_or_other_bits);
	RUN(refuses_a_symlink);
	RUN(refuses_a_non_regular_file);
	RUN(refuses_an_oversize_file);
	RUN(missing_file_says_why);
	/* Leave nothing behind. */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : 1;
}
