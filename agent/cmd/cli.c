/* cli.c: the options and setup scan, report and collect share; see cli.h. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "event.h"
#include "source.h"
#include "log.h"

/* Built-in label key, used only when no key file can be read or made. */
static const char fallback_key[] = "aimeter local project-label key: not secret";

void
cli_usage(FILE *f)
{
	fprintf(f,
		"usage: aimeter-agent <command> [options]\n"
		"\n"
		"Reads the usage records AI coding tools write locally and turns them into\n"
		"usage events (counts only, never text).\n"
		"\n"
		"commands:\n"
		"  scan [--format jsonl|table] [--since YYYY-MM-DD] [--usage-only]\n"
		"       one-shot full scan; prints exactly what would be sent, keeps no state;\n"
		"       --usage-only: usage events without the action records\n"
		"  report daily|monthly|session|actions [--tz ZONE] [--json] [--prices FILE]\n"
		"       local report with estimated cost at list prices\n"
		"  run [-c FILE] [--all-users]\n"
		"       the daemon: enroll, follow the logs, spool, ship over HTTPS\n"
		"  status [-c FILE]    spool, last success, last error, drops, quarantine\n"
		"  flush [-c FILE] [--timeout S]  send now, wait until the spool is empty\n"
		"  collect [--state-dir DIR] [--settle SECONDS]\n"
		"       one incremental pass: prints events that became final since the last\n"
		"\n"
		"source options (any command):\n");
	for (int t = 0; t < EVENT_TOOL_MAX; t++) {
		char opt[64];
		snprintf(opt, sizeof(opt), "--%s-dir DIR", source_table[t]->key);
		fprintf(f, "  %-18s %s; repeatable\n", opt, source_table[t]->dir_help);
	}
	fprintf(f,
		"     (when any is given, only the roots given are read)\n"
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

int
cli_parse(int argc, char **argv, struct cli *c)
{
	enum { O_ALL = 256, O_USER, O_SINCE, O_FORMAT, O_TZ, O_JSON, O_PRICES, O_STATE, O_SETTLE, O_USAGE_ONLY,
	       O_DIR /* + tool: --<key>-dir */ };
	static const struct option fixed[] = {
		{"all-users", no_argument, NULL, O_ALL},
		{"user", required_argument, NULL, O_USER},
		{"since", required_argument, NULL, O_SINCE},
		{"format", required_argument, NULL, O_FORMAT},
		{"tz", required_argument, NULL, O_TZ},
		{"json", no_argument, NULL, O_JSON},
		{"prices", required_argument, NULL, O_PRICES},
		{"state-dir", required_argument, NULL, O_STATE},
		{"settle", required_argument, NULL, O_SETTLE},
		{"usage-only", no_argument, NULL, O_USAGE_ONLY},
		{"help", no_argument, NULL, 'h'},
	};
	/* the fixed options, then --<key>-dir for every source */
	struct option longopts[sizeof(fixed) / sizeof(fixed[0]) + EVENT_TOOL_MAX + 1];
	char dir_opts[EVENT_TOOL_MAX][64];
	size_t n = sizeof(fixed) / sizeof(fixed[0]);
	int ch;

	memcpy(longopts, fixed, sizeof(fixed));
	for (int t = 0; t < EVENT_TOOL_MAX; t++) {
		snprintf(dir_opts[t], sizeof(dir_opts[t]), "%s-dir", source_table[t]->key);
		longopts[n++] = (struct option){dir_opts[t], required_argument, NULL, O_DIR + t};
	}
	longopts[n] = (struct option){NULL, 0, NULL, 0};

	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			c->config_path = optarg;
			break;
		case O_ALL:
			c->roots.all_users = true;
			break;
		case O_USER:
			c->roots.user = optarg;
			break;
		case O_USAGE_ONLY:
			c->usage_only = true;
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
			cli_usage(stdout);
			exit(0);
		default:
			if (ch >= O_DIR && ch < O_DIR + EVENT_TOOL_MAX) {
				int t = ch - O_DIR;
				if (c->roots.n_dirs[t] == ROOTS_CLI_MAX) {
					log_warnx("too many --%s options", dir_opts[t]);
					return -1;
				}
				c->roots.dirs[t][c->roots.n_dirs[t]++] = optarg;
				break;
			}
			return -1;
		}
	}
	if (optind < argc) {
		log_warnx("unexpected argument \"%s\"; see --help", argv[optind]);
		return -1;
	}
	return 0;
}

int
cli_make_dirs(const char *path)
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

void
cli_setup_project(struct project *p, const struct agent_config *cfg)
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
			(void)cli_make_dirs(dir); /* failure shows up as the key's error */
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
