/* cmd-collect.c: `aimeter-agent collect`, one incremental pass; see cli.h. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "log.h"
#include "tail.h"

int
cmd_collect(const struct cli *c, const struct agent_config *cfg, struct scan *s)
{
	struct scan_root *roots;
	struct tail_stats ts;
	struct timespec now;
	size_t n;
	int r;

	if (roots_collect(cfg, &c->roots, s, &roots, &n) < 0) {
		return 1;
	}
	if ((r = cli_make_dirs(cfg->state_dir)) < 0) {
		log_warnx("could not create state directory \"%s\": %s", cfg->state_dir, strerror(-r));
		free(roots);
		return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	clock_gettime(CLOCK_REALTIME, &now);
	r = tail_pass(s, roots, n, cfg->state_dir,
		      c->settle >= 0 ? (uint64_t)c->settle : cfg->settle_seconds,
		      (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, cfg->team_hint, stdout, &ts);
	free(roots);
	if (r < 0) {
		log_warnx("could not update state in \"%s\": %s", cfg->state_dir, strerror(-r));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	log_info("%llu files: %llu unchanged, %llu appended, %llu reread, %llu new, %llu removed; "
		 "%llu events emitted, %llu pending; pass took %.1f ms",
		 (unsigned long long)ts.files, (unsigned long long)ts.unchanged,
		 (unsigned long long)ts.appended, (unsigned long long)ts.reread,
		 (unsigned long long)ts.new_files, (unsigned long long)ts.removed,
		 (unsigned long long)ts.emitted, (unsigned long long)ts.pending,
		 (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	scan_print_stats(s);
	return 0;
}
