/* main.c: aimeter-agent command line: scan, report, collect, -n. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "am_config.h"
#include "config.h"
#include "event.h"
#include "log.h"
#include "jsonl.h"
#include "price.h"
#include "project.h"
#include "report.h"
#include "roots.h"
#include "run.h"
#include "scan.h"
#include "tail.h"

/* Built-in label key, used only when no key file can be read or made. */
static const char fallback_key[] = "aimeter local project-label key: not secret";

struct cli {
	const char *command;
	const char *config_path;
	struct roots_options roots;
	int64_t since_ms;
	const char *format;
	const char *tz;
	bool json;
	const char *prices;
	const char *state_dir;
	long settle;
	enum report_kind kind;
};

static void
usage(FILE *f)
{
	fprintf(f,
		"usage: aimeter-agent <command> [options]\n"
		"\n"
		"Reads the usage records AI coding tools write locally and turns them into\n"
		"usage events (counts only, never text).\n"
		"\n"
		"commands:\n"
		"  scan [--format jsonl|table] [--since YYYY-MM-DD]\n"
		"       one-shot full scan; prints exactly what would be sent, keeps no state\n"
		"  report daily|monthly|session [--tz ZONE] [--json] [--prices FILE]\n"
		"       local report with estimated cost at list prices\n"
		"  run [-c FILE] [--all-users]\n"
		"       the daemon: enroll, follow the logs, spool, ship over HTTPS\n"
		"  status [-c FILE]    spool, last success, last error, drops, quarantine\n"
		"  flush [-c FILE] [--timeout S]  send now, wait until the spool is empty\n"
		"  collect [--state-dir DIR] [--settle SECONDS]\n"
		"       one incremental pass: prints events that became final since the last\n"
		"\n"
		"source options (any command):\n"
		"  --claude-dir DIR   a Claude config root (holds projects/); repeatable\n"
		"  --codex-dir DIR    a CODEX_HOME; repeatable\n"
		"     (when either is given, only the roots given are read)\n"
		"  --all-users        every user's home from the password database (root or\n"
		"                     CAP_DAC_READ_SEARCH)\n"
		"  --user NAME        the identity to report (fixed policy)\n"
		"  -c FILE            configuration file (default " CONFIG_PATH ")\n"
		"\n"
		"  -n [-c FILE]   check the configuration, print it and exit\n"
		"  -h, --help     show this help\n"
		"  -V, --version  show the version\n");
}

static int
parse_date(const char *s, int64_t *ret_ms)
{
	char buf[64];

	if (strlen(s) == 8 && strspn(s, "0123456789") == 8) {
		/* YYYYMMDD, as ccusage takes it */
		snprintf(buf, sizeof(buf), "%.4s-%.2s-%.2sT00:00:00Z", s, s + 4, s + 6);
	} else if (strlen(s) == 10) {
		snprintf(buf, sizeof(buf), "%sT00:00:00Z", s);
	} else {
		return -EINVAL;
	}
	return event_ts_parse(buf, ret_ms);
}

static int
parse_args(int argc, char **argv, struct cli *c)
{
	enum { O_CLAUDE = 256, O_CODEX, O_ALL, O_USER, O_SINCE, O_FORMAT, O_TZ, O_JSON, O_PRICES,
	       O_STATE, O_SETTLE };
	static const struct option longopts[] = {
		{"claude-dir", required_argument, NULL, O_CLAUDE},
		{"codex-dir", required_argument, NULL, O_CODEX},
		{"all-users", no_argument, NULL, O_ALL},
		{"user", required_argument, NULL, O_USER},
		{"since", required_argument, NULL, O_SINCE},
		{"format", required_argument, NULL, O_FORMAT},
		{"tz", required_argument, NULL, O_TZ},
		{"json", no_argument, NULL, O_JSON},
		{"prices", required_argument, NULL, O_PRICES},
		{"state-dir", required_argument, NULL, O_STATE},
		{"settle", required_argument, NULL, O_SETTLE},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->config_path = optarg;
			break;
		case O_CLAUDE:
		case O_CODEX: {
			enum event_tool t = ch == O_CLAUDE ? EVENT_TOOL_CLAUDE : EVENT_TOOL_CODEX;
			if (c->roots.n_dirs[t] == ROOTS_CLI_MAX) {
				log_warnx("too many --%s options", ch == O_CLAUDE ? "claude-dir" : "codex-dir");
				return -1;
			}
			c->roots.dirs[t][c->roots.n_dirs[t]++] = optarg;
			break;
		}
		case O_ALL:
			c->roots.all_users = true;
			break;
		case O_USER:
			c->roots.user = optarg;
			break;
		case O_SINCE:
			if (parse_date(optarg, &c->since_ms) < 0) {
				log_warnx("invalid --since \"%s\": expected YYYY-MM-DD", optarg);
				return -1;
			}
			break;
		case O_FORMAT:
			if (strcmp(optarg, "jsonl") != 0 && strcmp(optarg, "table") != 0) {
				log_warnx("invalid --format \"%s\": expected jsonl or table", optarg);
				return -1;
			}
			c->format = optarg;
			break;
		case O_TZ:
			c->tz = optarg;
			break;
		case O_JSON:
			c->json = true;
			break;
		case O_PRICES:
			c->prices = optarg;
			break;
		case O_STATE:
			c->state_dir = optarg;
			break;
		case O_SETTLE: {
			char *end;
			errno = 0;
			c->settle = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || c->settle < 0 || c->settle > 86400) {
				log_warnx("invalid --settle \"%s\": expected 0 to 86400 seconds", optarg);
				return -1;
			}
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc) {
		log_warnx("unexpected argument \"%s\"; see --help", argv[optind]);
		return -1;
	}
	return 0;
}

static int
load_config(const struct cli *c, struct agent_config *cfg)
{
	return config_load_command(cfg, c->config_path, c->state_dir);
}

static int
make_dirs(const char *path)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
				return -errno;
			}
			*p = '/';
		}
	}
	if (mkdir(buf, 0700) < 0 && errno != EEXIST) {
		return -errno;
	}
	return 0;
}

static void
setup_project(struct project *p, const struct agent_config *cfg)
{
	uint8_t key[256];
	size_t key_len = 0;
	int r = -ENOENT;

	if (cfg->label_policy == PROJECT_KEYED_HASH) {
		char dir[4096];
		snprintf(dir, sizeof(dir), "%s", cfg->project_key_file);
		char *slash = strrchr(dir, '/');
		if (slash != NULL && slash != dir) {
			*slash = '\0';
			(void)make_dirs(dir); /* failure shows up as the key's error */
		}
		r = project_key_load_or_create(cfg->project_key_file, key, &key_len);
		if (r < 0) {
			log_warnx("could not read or create project key \"%s\": %s; using the "
				  "built-in key",
				  cfg->project_key_file, strerror(-r));
		}
	}
	if (r < 0) {
		memcpy(key, fallback_key, sizeof(fallback_key) - 1);
		key_len = sizeof(fallback_key) - 1;
	}
	project_init(p, cfg->label_policy, key, key_len);
	memset(key, 0, sizeof(key));
}

/* ---- scan ---- */

static void
print_table_row(const struct scan *s, const struct ledger_rec *r)
{
	char ts[32], model[256], session[256], project[256];

	event_ts_format(r->ts_ms, ts);
	printf("%-24s %-11s %-28.28s %-8.8s %-8.8s %9llu %8llu %9llu %9llu %10llu %8llu %3llu\n", ts,
	       event_tool_name((enum event_tool)r->tool),
	       event_printable(ledger_str(&s->ledger, r->model), model, sizeof(model)),
	       event_printable(ledger_str(&s->ledger, r->session), session, sizeof(session)),
	       event_printable(ledger_str(&s->ledger, r->project), project, sizeof(project)),
	       (unsigned long long)r->tok[EVENT_INPUT], (unsigned long long)r->tok[EVENT_OUTPUT],
	       (unsigned long long)r->tok[EVENT_CACHE_WRITE_5M],
	       (unsigned long long)r->tok[EVENT_CACHE_WRITE_1H],
	       (unsigned long long)r->tok[EVENT_CACHE_READ],
	       (unsigned long long)r->tok[EVENT_REASONING],
	       (unsigned long long)r->tok[EVENT_WEB_SEARCH]);
}

static int
full_scan(struct scan *s, const struct cli *c, const struct agent_config *cfg)
{
	struct scan_root *roots;
	size_t n;
	int r = roots_collect(cfg, &c->roots, s, &roots, &n);

	if (r < 0) {
		return r;
	}
	s->since_ms = c->since_ms;
	s->settle_all = true; /* a one-shot scan sees whole files: everything is final */
	scan_walk_all(s, roots, n, scan_read_all_cb, NULL);
	free(roots);
	return 0;
}

static int
cmd_scan(const struct cli *c, const struct agent_config *cfg, struct scan *s)
{
	struct ledger_rec r;
	size_t n = 0;
	bool table = c->format != NULL && strcmp(c->format, "table") == 0;

	/* 46-byte records; sorted in place below, so no order array either */
	ledger_set_compact(&s->ledger);
	if (full_scan(s, c, cfg) < 0) {
		return 1;
	}
	ledger_sort(&s->ledger); /* by time, then event id */
	if (table) {
		printf("%-24s %-11s %-28s %-8s %-8s %9s %8s %9s %9s %10s %8s %3s\n", "time (UTC)",
		       "tool", "model", "session", "project", "input", "output", "cache_w5m",
		       "cache_w1h", "cache_read", "reason", "web");
	}
	for (size_t i = 0; i < s->ledger.n; i++) {
		ledger_get(&s->ledger, i, &r);
		if (r.ts_ms < c->since_ms) {
			continue;
		}
		n++;
		if (table) {
			print_table_row(s, &r);
		} else {
			jsonl_write_event(s, &r, cfg->team_hint, stdout);
		}
	}
	if (table) {
		printf("%zu events\n", n);
	}
	scan_print_stats(s);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
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
	if (full_scan(s, c, cfg) < 0) {
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

static int
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
	if ((r = make_dirs(cfg->state_dir)) < 0) {
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

int
main(int argc, char **argv)
{
	struct cli c;
	struct agent_config cfg;
	struct project project;
	struct scan s;
	int rc;

	log_init("aimeter-agent", LOG_LEVEL_INFO);
	memset(&c, 0, sizeof(c));
	c.since_ms = INT64_MIN;
	c.settle = -1;
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("aimeter-agent %s\n", AM_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "-n") == 0) {
		if (parse_args(argc - 1, argv + 1, &c) < 0) {
			return 2;
		}
		rc = load_config(&c, &cfg);
		config_print(&cfg, stdout);
		return rc == 0 ? 0 : 1;
	}
	/* delivery (run.h): the daemon and its companions parse their own options */
	if (strcmp(argv[1], "run") == 0) {
		return run_main(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "status") == 0) {
		return status_main(argc - 1, argv + 1);
	}
	if (strcmp(argv[1], "flush") == 0) {
		return flush_main(argc - 1, argv + 1);
	}
	c.command = argv[1];
	if (strcmp(c.command, "report") == 0) {
		if (argc < 3 || report_kind_parse(argv[2], &c.kind) < 0) {
			log_warnx("report needs daily, monthly or session; see --help");
			return 2;
		}
		argv++;
		argc--;
	} else if (strcmp(c.command, "scan") != 0 && strcmp(c.command, "collect") != 0) {
		log_warnx("unknown command \"%s\"; see --help", c.command);
		return 2;
	}
	if (parse_args(argc - 1, argv + 1, &c) < 0) {
		return 2;
	}
	if (load_config(&c, &cfg) > 0) {
		log_warnx("configuration has errors; see above");
		return 1;
	}
	setup_project(&project, &cfg);
	if (scan_init(&s, &project) < 0) {
		log_warnx("out of memory");
		return 1;
	}
	if (strcmp(c.command, "scan") == 0) {
		rc = cmd_scan(&c, &cfg, &s);
	} else if (strcmp(c.command, "report") == 0) {
		rc = cmd_report(&c, &cfg, &s);
	} else {
		rc = cmd_collect(&c, &cfg, &s);
	}
	scan_finish(&s);
	project_finish(&project);
	return rc;
}
