/* cmd-report.c: `aimeter-agent report daily|monthly|session`; see cli.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "price.h"

int
cmd_report(const struct cli *c, const struct agent_config *cfg, struct scan *s)
{
	struct price_book book;
	int errors;

	if (c->prices != NULL) {
		int fd = open(c->prices, O_RDONLY | O_CLOEXEC);
		struct stat st;
		char *buf = NULL;
		if (fd < 0 || fstat(fd, &st) < 0 || st.st_size > (64 << 20) ||
		    (buf = malloc((size_t)st.st_size + 1)) == NULL ||
		    read(fd, buf, (size_t)st.st_size) != st.st_size) {
			log_warn("could not read price book \"%s\"", c->prices);
			if (fd >= 0) {
				close(fd);
			}
			free(buf);
			return 1;
		}
		close(fd);
		errors = price_book_parse(buf, (size_t)st.st_size, c->prices, &book);
		free(buf);
	} else {
		errors = price_book_builtin(&book);
	}
	if (errors > 0) {
		log_warnx("%d bad price rows ignored", errors);
	}
	if (cli_full_scan(s, c, cfg) < 0) {
		price_book_finish(&book);
		return 1;
	}
	int r = report_print(s, &book, c->kind, c->tz, c->json, stdout);
	price_book_finish(&book);
	if (r == -EINVAL) {
		log_warnx("unknown time zone \"%s\"", c->tz);
		return 2;
	}
	scan_print_stats(s);
	return r < 0 ? 1 : 0;
}
