/* origin.c: the small JSON files a source reads beside its logs; see origin.h. */
#include "origin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

char *
origin_load_json(const char *path, const struct owned *o, struct json_doc *doc)
{
	static const struct owned lenient;
	struct stat st;
	int fd = owned_open(path, o != NULL ? o : &lenient, O_RDONLY, &st);
	char *buf = NULL;

	if (fd < 0) {
		return NULL;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size < (4 << 20) && (buf = malloc((size_t)st.st_size)) != NULL) {
		if (read(fd, buf, (size_t)st.st_size) != st.st_size ||
		    json_parse(doc, buf, (size_t)st.st_size) < 0) {
			free(buf);
			buf = NULL;
		}
	}
	close(fd);
	return buf;
}

