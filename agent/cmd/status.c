/*
 * status.c: `aimeter-agent status` and `aimeter-agent flush`.
 *
 * status reads the spool read-only (it never takes the daemon's lock) and
 * the small status file the shipper keeps, and prints spooled events and
 * bytes, the age of the oldest unsent event, last success, last error,
 * drops and quarantined batches. flush asks the running daemon (SIGUSR1) to
 * read and send now, or, with no daemon, sends the spool itself; either way
 * it waits until the spool is empty or the timeout passes.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "am_config.h"
#include "clock.h"
#include "config.h"
#include "defer.h"
#include "enroll.h"
#include "log.h"
#include "run.h"
#include "ship.h"
#include "spool.h"
#include "storage.h"

struct status_file {
	long pid;
	int enrolled;
	int64_t last_success_ms, last_error_ms;
	char last_error[512];
	int collector_schema; /* the schema its last ack stated; 0: none this run */
};

static void print_action_status(const char *state_dir, int collector_schema);
static void format_age(int64_t ms, char *buf, size_t size);

/* Events the collector refused as in the future, kept to be sent again (defer.h). */
static void
print_deferred(const char *state_dir, uint64_t retry_seconds)
{
	uint64_t events;
	int64_t due, wait;
	char age[64];

	defer_stats(state_dir, &events, &due);
	if (events == 0) {
		printf("deferred events:     0\n");
		return;
	}
	/* a due time further off than the retry was set by a clock since gone back: due now */
	wait = due - clock_wall_ms();
	wait = wait < 0 || (uint64_t)wait > retry_seconds * 1000 ? 0 : wait;
	format_age(wait, age, sizeof(age));
	printf("deferred events:     %" PRIu64 " (refused by the collector as in the future; "
	       "sent again in %s)\n", events, age);
}

/* Whether the daemon can write its spool (storage.h): a full disk pauses reading. */
static void
print_storage(const char *state_dir, bool running)
{
	int err;
	int64_t since;
	long pid;
	char age[64];

	if (storage_read(state_dir, &err, &since, &pid) < 0) {
		return;
	}
	if (err == 0) {
		printf("spool writes:        ok\n");
		return;
	}
	format_age(clock_wall_ms() - since, age, sizeof(age));
	printf("spool writes:        failing for %s: %s; reading paused%s\n", age, strerror(-err),
	       running ? " until a write succeeds" : " (when the daemon last ran)");
}

static void
read_status_file(const char *state_dir, struct status_file *ret)
{
	char path[PATH_MAX], line[700];
	FILE *f;

	memset(ret, 0, sizeof(*ret));
	snprintf(path, sizeof(path), "%s/status", state_dir);
	f = fopen(path, "r");
	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "pid ", 4) == 0) {
			ret->pid = strtol(line + 4, NULL, 10);
		} else if (strncmp(line, "enrolled ", 9) == 0) {
			ret->enrolled = atoi(line + 9) != 0;
		} else if (strncmp(line, "last_success_ms ", 16) == 0) {
			ret->last_success_ms = strtoll(line + 16, NULL, 10);
		} else if (strncmp(line, "last_error_ms ", 14) == 0) {
			ret->last_error_ms = strtoll(line + 14, NULL, 10);
		} else if (strncmp(line, "collector_schema ", 17) == 0) {
			ret->collector_schema = atoi(line + 17);
		} else if (strncmp(line, "last_error ", 11) == 0) {
			snprintf(ret->last_error, sizeof(ret->last_error), "%.500s", line + 11);
		}
	}
	fclose(f);
}

/*
 * The daemon's pid when it runs: the status file names it (or, when that
 * could not be rewritten on a full disk, the storage record) and it holds
 * the lock.
 */
static long
daemon_pid(const char *state_dir, const struct status_file *sf)
{
	char dir[PATH_MAX];
	struct spool *probe;
	long pid = sf->pid;
	int64_t since;
	int r, err;

	if ((pid <= 0 || kill((pid_t)pid, 0) < 0) &&
	    storage_read(state_dir, &err, &since, &pid) < 0) {
		return 0;
	}
	if (pid <= 0 || kill((pid_t)pid, 0) < 0) {
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s/spool", state_dir);
	r = spool_open(dir, NULL, NULL, &probe);
	if (r == 0) {
		spool_close(probe); /* nobody holds the lock */
		return 0;
	}
	return r == -EBUSY ? pid : 0;
}

/* The readers' skips (run.c write_reader_status), when the daemon has written them. */
static void
print_reader_status(const char *state_dir)
{
	char path[PATH_MAX], line[200], key[64];
	unsigned long long links = 0, foreign = 0, implausible = 0, v;
	FILE *f;

	snprintf(path, sizeof(path), "%s/reader-status", state_dir);
	f = fopen(path, "r");
	if (f == NULL) {
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%63s %llu", key, &v) != 2) {
			continue;
		}
		if (strcmp(key, "links_skipped") == 0) {
			links = v;
		} else if (strcmp(key, "foreign_skipped") == 0) {
			foreign = v;
		} else if (strcmp(key, "implausible_dropped") == 0) {
			implausible = v;
		}
	}
	fclose(f);
	printf("links not followed:  %llu (last pass, all-users mode)\n", links);
	printf("foreign-owned skips: %llu (last pass, all-users mode)\n", foreign);
	printf("implausible lines:   %llu dropped since the daemon started\n", implausible);
}

static void
format_age(int64_t ms, char *buf, size_t size)
{
	int64_t s = ms / 1000;

	if (s < 120) {
		snprintf(buf, size, "%" PRId64 " s", s);
	} else if (s < 7200) {
		snprintf(buf, size, "%" PRId64 " min", s / 60);
	} else if (s < 172800) {
		snprintf(buf, size, "%" PRId64 " h", s / 3600);
	} else {
		snprintf(buf, size, "%" PRId64 " days", s / 86400);
	}
}

static int
setup(int argc, char **argv, struct agent_config *cfg, long *ret_timeout_s, const char *usage)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"timeout", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL; /* -c, else config_load_command's default */
	int c, errors;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:t:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 't':
			if (ret_timeout_s != NULL) {
				*ret_timeout_s = strtol(optarg, NULL, 10);
			}
			break;
		case 'h':
			printf("%s", usage);
			return 0;
		default:
			fprintf(stderr, "%s", usage);
			return -1;
		}
	}
	errors = config_load_command(cfg, path, NULL);
	if (errors > 0) {
		log_warnx("configuration has errors");
		return -1;
	}
	return 1;
}

int
status_main(int argc, char **argv)
{
	struct agent_config *cfg = calloc(1, sizeof(*cfg));
	struct spool_options ro = {.read_only = true};
	struct spool_stats st = {0};
	struct status_file sf;
	struct spool *sp = NULL;
	char dir[PATH_MAX], age[32];
	long pid;
	int r;

	if (cfg == NULL) {
		return 1;
	}
	log_init("aimeter-agent", LOG_LEVEL_ERROR); /* the read-only scan stays quiet */
	r = setup(argc, argv, cfg, NULL,
		  "usage: aimeter-agent status [-c FILE]\n"
		  "  prints spooled events and bytes, oldest unsent age, last success,\n"
		  "  last error, drops and quarantined batches\n");
	if (r <= 0) {
		free(cfg);
		return r == 0 ? 0 : 2;
	}
	read_status_file(cfg->state_dir, &sf);
	pid = daemon_pid(cfg->state_dir, &sf);
	snprintf(dir, sizeof(dir), "%s/spool", cfg->state_dir);
	r = spool_open(dir, &ro, NULL, &sp);
	if (r == 0) {
		spool_get_stats(sp, &st);
		spool_close(sp);
	}
	printf("state directory:     %s\n", cfg->state_dir);
	printf("collector:           %s\n", cfg->server_url[0] ? cfg->server_url : "(none)");
	printf("daemon:              %s", pid > 0 ? "running" : "not running");
	if (pid > 0) {
		printf(" (pid %ld)", pid);
	}
	printf("\nenrolled:            %s\n", sf.enrolled ? "yes" : "no");
	print_storage(cfg->state_dir, pid > 0);
	if (r < 0) {
		printf("spool:               (none: %s)\n", strerror(-r));
	} else {
		printf("spooled events:      %" PRIu64 "\n", st.pending_events);
		printf("spooled bytes:       %" PRIu64 " (files: %" PRIu64 " in %u segments)\n",
		       st.pending_bytes, st.total_bytes, st.segments);
		if (st.oldest_pending_ms > 0) {
			format_age(clock_wall_ms() - st.oldest_pending_ms, age, sizeof(age));
			printf("oldest unsent:       %s ago\n", age);
		} else {
			printf("oldest unsent:       -\n");
		}
		printf("shipped events:      %" PRIu64 "\n", st.shipped_events);
		printf("dropped events:      %" PRIu64 " (not yet reported: %" PRIu64 ")\n",
		       st.dropped_total, st.dropped_pending);
		printf("corrupt records:     %" PRIu64 "\n", st.corrupt_total);
		printf("quarantined batches: %" PRIu64 " (%" PRIu64 " events)\n",
		       st.quarantined_batches, st.quarantined_events);
	}
	print_deferred(cfg->state_dir, cfg->future_retry_seconds);
	print_action_status(cfg->state_dir, sf.collector_schema);
	print_reader_status(cfg->state_dir);
	if (sf.last_success_ms > 0) {
		format_age(clock_wall_ms() - sf.last_success_ms, age, sizeof(age));
		printf("last success:        %s ago\n", age);
	} else {
		printf("last success:        never\n");
	}
	if (sf.last_error_ms > 0) {
		format_age(clock_wall_ms() - sf.last_error_ms, age, sizeof(age));
		printf("last error:          %s ago: %s\n", age, sf.last_error);
	} else {
		printf("last error:          none\n");
	}
	free(cfg);
	return 0;
}

/* The action spool (docs/actions.md, "The daemon"), when the daemon keeps one. */
static void
print_action_status(const char *state_dir, int collector_schema)
{
	struct spool_options ro = {.read_only = true};
	struct spool_stats st = {0};
	struct spool *sp = NULL;
	char dir[PATH_MAX];
	struct stat sb;

	snprintf(dir, sizeof(dir), "%s/spool-actions", state_dir);
	if (stat(dir, &sb) < 0 || spool_open(dir, &ro, NULL, &sp) < 0) {
		return;
	}
	spool_get_stats(sp, &st);
	spool_close(sp);
	printf("spooled actions:     %" PRIu64 "%s\n", st.pending_events,
	       collector_schema == 0 ? ""
	       : collector_schema >= 2
		       ? ""
		       : " (the collector does not accept action records yet)");
	printf("shipped actions:     %" PRIu64 "\n", st.shipped_events);
}

/* --- flush ------------------------------------------------------------------------------ */

struct flusher {
	uv_loop_t loop;
	uv_timer_t tick;
	struct ship *ship;
	struct spool *spool;
	int64_t deadline;
	bool done, ok;
};

static void
flusher_tick_cb(uv_timer_t *t)
{
	struct flusher *f = t->data;

	if (ship_idle(f->ship) || clock_wall_ms() > f->deadline) {
		f->ok = ship_idle(f->ship);
		ship_close(f->ship);
		uv_close((uv_handle_t *)&f->tick, NULL);
	}
}

static void
flusher_enrolled_cb(struct ship *ship, void *opaque)
{
	(void)opaque;
	ship_flush(ship);
}

static int
pending_now(const char *state_dir, uint64_t *ret_events)
{
	char dir[PATH_MAX];
	struct spool_options ro = {.read_only = true};
	struct spool_stats st;
	struct spool *sp;
	int r;

	snprintf(dir, sizeof(dir), "%s/spool", state_dir);
	r = spool_open(dir, &ro, NULL, &sp);
	if (r < 0) {
		return r;
	}
	spool_get_stats(sp, &st);
	spool_close(sp);
	*ret_events = st.pending_events;
	return 0;
}

int
flush_main(int argc, char **argv)
{
	struct agent_config *cfg = calloc(1, sizeof(*cfg));
	struct status_file sf;
	long timeout_s = 300, pid;
	uint64_t pending = 0;
	int r, code = 1;

	if (cfg == NULL) {
		return 1;
	}
	log_init("aimeter-agent", LOG_LEVEL_WARN);
	r = setup(argc, argv, cfg, &timeout_s,
		  "usage: aimeter-agent flush [-c FILE] [--timeout SECONDS]\n"
		  "  reads and sends now; waits until the spool is empty (default 300 s)\n");
	if (r <= 0) {
		free(cfg);
		return r == 0 ? 0 : 2;
	}
	int64_t deadline = clock_wall_ms() + timeout_s * 1000;
	read_status_file(cfg->state_dir, &sf);
	pid = daemon_pid(cfg->state_dir, &sf);
	if (pid > 0) {
		if (kill((pid_t)pid, SIGUSR1) < 0) {
			log_warn("could not signal the agent (pid %ld)", pid);
			goto out;
		}
		/* The daemon reads and sends; watch the spool drain. */
		usleep(300 * 1000);
		for (;;) {
			r = pending_now(cfg->state_dir, &pending);
			if (r == 0 && pending == 0) {
				printf("spool empty: everything is delivered\n");
				code = 0;
				goto out;
			}
			if (clock_wall_ms() > deadline) {
				break;
			}
			usleep(250 * 1000);
		}
		printf("%" PRIu64 " events still spooled after %ld s; see aimeter-agent status\n",
		       pending, timeout_s);
		goto out;
	}

	/* No daemon: send the spool from here. */
	{
		struct flusher f = {.deadline = deadline};
		struct spool_options so = {.max_bytes = cfg->spool_max_bytes};
		char dir[PATH_MAX], secret[1024] = "", host[256] = "unknown";
		struct ship_options o = {
			.url = cfg->server_url,
			.ca_file = cfg->ca_file,
			.pin = cfg->pin,
			.batch_events = (size_t)cfg->batch_events,
			.state_dir = cfg->state_dir,
			.key_file = cfg->project_key_file,
			.enroll = {.secret = secret, .hostname = host, .os = "linux",
				   .team_hint = cfg->team_hint},
		};
		if (cfg->enrollment_secret_file[0] != '\0') {
			(void)enroll_secret_read(cfg->enrollment_secret_file, secret, sizeof(secret));
		} else {
			snprintf(secret, sizeof(secret), "%s", cfg->enrollment_secret);
		}
		(void)gethostname(host, sizeof(host) - 1); /* "unknown" stays on failure */
		snprintf(dir, sizeof(dir), "%s/spool", cfg->state_dir);
		r = spool_open(dir, &so, NULL, &f.spool);
		if (r < 0) {
			log_warnx("could not open spool \"%s\": %s", dir, strerror(-r));
			goto out;
		}
		uv_loop_init(&f.loop);
		r = ship_create(&f.loop, f.spool, &o, flusher_enrolled_cb, &f, &f.ship);
		if (r < 0) {
			spool_close(f.spool);
			uv_loop_close(&f.loop);
			goto out;
		}
		uv_timer_init(&f.loop, &f.tick);
		f.tick.data = &f;
		uv_timer_start(&f.tick, flusher_tick_cb, 100, 100);
		ship_flush(f.ship);
		uv_run(&f.loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&f.loop) != 0) {
			log_warnx("event loop closed with handles still open");
		}
		struct spool_stats st;
		spool_get_stats(f.spool, &st);
		spool_close(f.spool);
		explicit_bzero(secret, sizeof(secret));
		if (f.ok) {
			printf("spool empty: everything is delivered\n");
			code = 0;
		} else {
			printf("%" PRIu64 " events still spooled after %ld s; see aimeter-agent status\n",
			       st.pending_events, timeout_s);
		}
	}
out:
	free(cfg);
	return code;
}
