/*
 * fuzz-main.c: replay a fuzz target's corpus as an ordinary test (systemd
 * fuzz-main.c). Arguments are files or directories; every file is fed to
 * LLVMFuzzerTestOneInput once. Used when the build is not a libFuzzer build.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (f == NULL) {
		fprintf(stderr, "fuzz-main: could not open \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			uint8_t *grown;
			cap = cap ? cap * 2 : 65536;
			grown = realloc(buf, cap);
			if (grown == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len, f);
		if (n == 0) {
			break;
		}
		len += n;
	}
	fclose(f);
	/* Copy into an exact-size buffer so ASan catches reads past the end. */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

static int
replay(const char *path, int *count)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "fuzz-main: could not stat \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		DIR *d = opendir(path);
		struct dirent *de;
		int r = 0;

		if (d == NULL) {
			return -1;
		}
		while ((de = readdir(d)) != NULL) {
			char child[4096];
			if (de->d_name[0] == '.') {
				continue;
			}
			snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
			if (replay(child, count) < 0) {
				r = -1;
			}
		}
		closedir(d);
		return r;
	}
	(*count)++;
	return replay_file(path);
}

int
main(int argc, char **argv)
{
	int count = 0, r = 0;

	for (int i = 1; i < argc; i++) {
		if (replay(argv[i], &count) < 0) {
			r = 1;
		}
	}
	printf("replayed %d inputs\n", count);
	if (count == 0) {
		fprintf(stderr, "fuzz-main: no corpus inputs found\n");
		return 1;
	}
	return r;
}
