/* run.c: `aimeter-agent run`; see run.h. */
#include "run.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "am_config.h"
#include "clock.h"
#include "config.h"
#include "defer.h"
#include "enroll.h"
#include "follow.h"
#include "log.h"
#include "ship.h"
#include "spool.h"
#include "storage.h"
#include "testhook.h"

#include "macros.h"

#define WATCH_MAX 2048
#define DEBOUNCE_MS 500
#define RESCAN_MS 60000
#define RETRY_MS 5000

struct watch {
	uv_fs_event_t ev;
	struct agent *agent;
	struct watch *next;
	bool seen; /* still wanted after the last pass */
	char path[];
};

struct agent {
	uv_loop_t loop;
	struct agent_config cfg;
	const char *config_path;
	bool all_users;

	struct spool *spool;
	struct spool *actions; /* action records only ([actions] ship): their own ack cursor */
	struct follow *follow;
	struct ship *ship;
	char secret[1024];
	char hostname[256];
	char os[64];

	uv_signal_t sig_term, sig_int, sig_hup, sig_usr1;
	uv_timer_t pass_timer;   /* debounce, settle and retry */
	uv_timer_t rescan_timer; /* periodic pass for what events miss */
	struct watch *watches;
	size_t n_watches;
	struct follow_skips skips; /* as last written to the reader status file */
	struct storage storage;    /* spool writes failing (a full disk): reading paused */
	bool reading;  /* enrolled: passes may run */
	bool stopping;
	int exit_code;
};

static int
mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	if (strlen(path) >= sizeof(buf)) {
		return -ENAMETOOLONG;
	}
	strcpy(buf, path);
	for (char *p = buf + 1; *p != '\0'; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
				return -errno;
			}
			*p = '/';
		}
	}
	if (mkdir(buf, mode) < 0 && errno != EEXIST) {
		return -errno;
	}
	return 0;
}

/* --- configuration ------------------------------------------------------------------ */

static int
load_config(struct agent *a, struct agent_config *cfg)
{
	int errors = config_load_command(cfg, a->config_path, NULL);

	if (a->all_users) {
		cfg->all_users = true;
	}
	if (cfg->all_users && !config_can_read_all()) {
		log_warnx("--all-users (all_users = true) needs root or CAP_DAC_READ_SEARCH");
		errors++;
	}
	return errors;
}

/*
 * Without a collector URL the agent neither enrolls nor reads (labels need
 * the key enrollment hands out): it stays up, idle, so that a fresh install
 * waits for device management instead of failing and restarting.
 */
static void
note_no_url(void)
{
	log_warnx("no collector URL configured ([server] url or AIMETER_SERVER_URL); waiting "
		  "idle until one is set and the agent restarted or sent SIGHUP");
}

static void
load_secret(struct agent *a)
{
	const char *file = a->cfg.enrollment_secret_file;
	char dflt[PATH_MAX];
	int r;

	a->secret[0] = '\0';
	if (file[0] == '\0' && getenv("CREDENTIALS_DIRECTORY") != NULL) {
		snprintf(dflt, sizeof(dflt), "%s/enrollment-secret", getenv("CREDENTIALS_DIRECTORY"));
		file = dflt;
	}
	if (file[0] != '\0') {
		r = enroll_secret_read(file, a->secret, sizeof(a->secret));
		if (r == 0) {
			return;
		}
		if (r == -EPERM) {
			log_warnx("refusing enrollment secret file \"%s\": group or others can read it",
				  file);
		} else if (a->cfg.enrollment_secret_file[0] != '\0') {
			log_warnx("could not read enrollment secret file \"%s\": %s", file,
				  strerror(-r));
		}
	}
	if (a->cfg.enrollment_secret[0] != '\0') {
		snprintf(a->secret, sizeof(a->secret), "%s", a->cfg.enrollment_secret);
	}
}

/* --- reading --------------------------------------------------------------------------- */

static void agent_pass(struct agent *a);

static void
pass_timer_cb(uv_timer_t *t)
{
	struct agent *a = container_of(t, struct agent, pass_timer);

	agent_pass(a);
}

static void
rescan_timer_cb(uv_timer_t *t)
{
	struct agent *a = container_of(t, struct agent, rescan_timer);

	agent_pass(a);
}

/* Run a pass soon, once, however many events arrive meanwhile. */
static void
schedule_pass(struct agent *a, uint64_t delay_ms)
{
	if (a->stopping || !a->reading) {
		return;
	}
	if (uv_is_active((uv_handle_t *)&a->pass_timer) &&
	    uv_timer_get_due_in(&a->pass_timer) <= delay_ms) {
		return;
	}
	uv_timer_start(&a->pass_timer, pass_timer_cb, delay_ms, 0);
}

static void
watch_event_cb(uv_fs_event_t *ev, const char *filename, int events, int status)
{
	struct watch *w = container_of(ev, struct watch, ev);

	(void)filename;
	(void)events;
	if (status < 0) {
		log_debug("watch on \"%s\" failed: %s", w->path, uv_strerror(status));
		return;
	}
	schedule_pass(w->agent, DEBOUNCE_MS);
}

static void
watch_close_cb(uv_handle_t *h)
{
	free(container_of((uv_fs_event_t *)h, struct watch, ev));
}

static void
sync_watches(struct agent *a)
{
	const char *const *dirs;
	size_t n = follow_dirs(a->follow, &dirs);

	for (struct watch *w = a->watches; w != NULL; w = w->next) {
		w->seen = false;
	}
	for (size_t i = 0; i < n; i++) {
		struct watch *w;
		for (w = a->watches; w != NULL; w = w->next) {
			if (strcmp(w->path, dirs[i]) == 0) {
				break;
			}
		}
		if (w != NULL) {
			w->seen = true;
			continue;
		}
		if (a->n_watches >= WATCH_MAX) {
			continue; /* the periodic rescan covers the rest */
		}
		w = calloc(1, sizeof(*w) + strlen(dirs[i]) + 1);
		if (w == NULL) {
			continue;
		}
		strcpy(w->path, dirs[i]);
		w->agent = a;
		w->seen = true;
		if (uv_fs_event_init(&a->loop, &w->ev) < 0) {
			free(w);
			continue;
		}
		if (uv_fs_event_start(&w->ev, watch_event_cb, w->path, 0) < 0) {
			uv_close((uv_handle_t *)&w->ev, watch_close_cb);
			continue;
		}
		w->next = a->watches;
		a->watches = w;
		a->n_watches++;
	}
	for (struct watch **pp = &a->watches; *pp != NULL;) {
		struct watch *w = *pp;
		if (w->seen) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		a->n_watches--;
		uv_fs_event_stop(&w->ev);
		uv_close((uv_handle_t *)&w->ev, watch_close_cb);
	}
}

/*
 * The readers' skips for `aimeter-agent status`, written when they change:
 * a hostile or broken home shows there, not only in the rate-limited log.
 */
static void
write_reader_status(struct agent *a)
{
	struct follow_skips now;
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;

	follow_get_skips(a->follow, &now);
	if (memcmp(&now, &a->skips, sizeof(now)) == 0) {
		return;
	}
	snprintf(path, sizeof(path), "%s/reader-status", a->cfg.state_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		return; /* informational only */
	}
	fprintf(f, "links_skipped %" PRIu64 "\nforeign_skipped %" PRIu64
		   "\nimplausible_dropped %" PRIu64 "\n",
		now.links, now.foreign, now.implausible);
	if (fclose(f) == 0 && rename(tmp, path) == 0) {
		a->skips = now;
	}
}

/*
 * Events the collector refused as in the future (defer.h) go back into the
 * spool once due; the pass after the next due time brings the rest. A
 * failure keeps the files for the next pass.
 */
static void
release_deferred(struct agent *a, int64_t now)
{
	uint64_t released = 0;
	int64_t next_due = 0;
	int r = defer_release(a->cfg.state_dir, a->spool, now, a->cfg.future_retry_seconds * 1000,
			      &released, &next_due);

	if (r < 0) {
		log_debug("could not send deferred events again yet: %s", strerror(-r));
		storage_note(&a->storage, r, now);
		schedule_pass(a, RETRY_MS);
	}
	if (released > 0) {
		log_info("sending again %" PRIu64 " events the collector had refused as in the future",
			 released);
		if (a->ship != NULL) {
			ship_kick(a->ship);
		}
	}
	if (next_due > 0) {
		schedule_pass(a, next_due - now < 100 ? 100 : (uint64_t)(next_due - now));
	}
}

static void
agent_pass(struct agent *a)
{
	struct follow_out out;
	int64_t now;
	int r;

	if (a->stopping || !a->reading) {
		return;
	}
	now = clock_wall_ms();
	release_deferred(a, now);
	r = follow_pass(a->follow, now, &out);
	if (r < 0) {
		log_warnx("could not read the AI tools' logs: %s; retrying", strerror(-r));
		follow_abort(a->follow);
		schedule_pass(a, RETRY_MS);
		return;
	}
	/*
	 * Action records first: once they are durable they count as handed out
	 * (follow_commit_actions), so a failure of the usage record below
	 * cannot spool them twice.
	 */
	for (size_t i = 0; i < out.n_action_chunks && r == 0; i++) {
		const struct follow_chunk *ch = &out.action_chunks[i];
		r = spool_append(a->actions, ch->events, ch->events_len, ch->n_events, NULL, 0);
	}
	if (r < 0) {
		log_debug("could not append %u action records to the spool: %s; retrying",
			  out.n_actions, strerror(-r));
		storage_note(&a->storage, r, now);
		follow_abort(a->follow);
		follow_out_finish(&out);
		schedule_pass(a, RETRY_MS);
		return;
	}
	if (out.n_actions > 0) {
		am_test_hook("read-actions"); /* spooled, not yet counted as handed out */
		follow_commit_actions(a->follow);
		log_debug("spooled %u action records", out.n_actions);
	}
	if (out.n_events > 0 || out.state_len > 0) {
		am_test_hook("read");
		/* One record per chunk; the state goes with the last one only. */
		size_t n = out.n_chunks > 0 ? out.n_chunks : 1;
		for (size_t i = 0; i < n && r == 0; i++) {
			const struct follow_chunk *ch = out.n_chunks > 0 ? &out.chunks[i] : NULL;
			bool last = i + 1 == n;
			r = spool_append(a->spool, ch ? ch->events : NULL, ch ? ch->events_len : 0,
					 ch ? ch->n_events : 0, last ? out.state : NULL,
					 last ? out.state_len : 0);
		}
		if (r < 0) {
			/* Positions stay where they were: the logs are still on disk. */
			log_debug("could not append %u events to the spool: %s; retrying", out.n_events,
				  strerror(-r));
			storage_note(&a->storage, r, now);
			follow_abort(a->follow);
			follow_out_finish(&out);
			schedule_pass(a, RETRY_MS);
			return;
		}
		if (out.n_events > 0) {
			log_debug("spooled %u events", out.n_events);
		}
	}
	follow_commit(a->follow);
	storage_note(&a->storage, 0, now);
	write_reader_status(a);
	if (out.next_settle_ms > 0) {
		int64_t delay = out.next_settle_ms - now;
		schedule_pass(a, delay < 100 ? 100 : (uint64_t)delay);
	}
	follow_out_finish(&out);
	sync_watches(a);
	if (a->ship != NULL) {
		ship_kick(a->ship);
	}
}

static void
start_reading(struct agent *a)
{
	if (a->reading || a->stopping) {
		return;
	}
	a->reading = true;
	uv_timer_start(&a->rescan_timer, rescan_timer_cb, RESCAN_MS, RESCAN_MS);
	agent_pass(a);
}

static void
enrolled_cb(struct ship *ship, void *opaque)
{
	struct agent *a = opaque;

	(void)ship;
	/* Labels from now on use the organisation's key enrollment just stored. */
	if (follow_reload_key(a->follow, &a->cfg) < 0) {
		log_warnx("project labels keep the previous key until the next start");
	}
	start_reading(a);
}

/* --- shipper ------------------------------------------------------------------------------ */

static int
make_ship(struct agent *a, struct ship **ret)
{
	struct ship_options o = {
		.url = a->cfg.server_url,
		.ca_file = a->cfg.ca_file,
		.pin = a->cfg.pin,
		.batch_events = (size_t)a->cfg.batch_events,
		.batch_age_ms = a->cfg.batch_age * 1000,
		.future_retry_ms = a->cfg.future_retry_seconds * 1000,
		.state_dir = a->cfg.state_dir,
		.key_file = a->cfg.project_key_file,
		.actions = a->actions,
		.enroll = {
			.secret = a->secret,
			.hostname = a->hostname,
			.os = a->os,
			.agent_version = AM_VERSION,
			.team_hint = a->cfg.team_hint,
		},
	};
	const char *base = getenv("AIMETER_BACKOFF_BASE_MS"); /* tests shorten the waits */

	if (base != NULL) {
		o.backoff_base_ms = strtoull(base, NULL, 10);
		o.backoff_cap_ms = o.backoff_base_ms * 4;
	}
	return ship_create(&a->loop, a->spool, &o, enrolled_cb, a, ret);
}

/* --- signals and shutdown ---------------------------------------------------------------------- */

static void
close_walk_cb(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h)) {
		/* Only handles owned here remain: timers, signals, watches. */
		if (h->type == UV_FS_EVENT) {
			uv_close(h, watch_close_cb);
		} else {
			uv_close(h, NULL);
		}
	}
}

static void
agent_stop(struct agent *a, int code)
{
	if (a->stopping) {
		return;
	}
	a->stopping = true;
	a->exit_code = code;
	/* Everything spooled is already durable; an upload in flight is simply resent. */
	ship_close(a->ship);
	a->ship = NULL;
	a->watches = NULL;
	a->n_watches = 0;
	uv_walk(&a->loop, close_walk_cb, NULL);
}

static void
signal_cb(uv_signal_t *h, int signum)
{
	struct agent *a = h->data;

	switch (signum) {
	case SIGTERM:
	case SIGINT:
		log_info("received %s; stopping", signum == SIGTERM ? "SIGTERM" : "SIGINT");
		agent_stop(a, 0);
		break;
	case SIGUSR1:
		log_info("flush requested");
		agent_pass(a);
		if (a->ship != NULL) {
			ship_flush(a->ship);
		}
		break;
	case SIGHUP: {
		struct agent_config *cfg = malloc(sizeof(*cfg));
		struct ship *ship = NULL;
		if (cfg == NULL) {
			break;
		}
		if (load_config(a, cfg) > 0) {
			log_warnx("configuration has errors; keeping the running one");
			free(cfg);
			break;
		}
		a->cfg = *cfg;
		free(cfg);
		load_secret(a);
		/* The shipper is rebuilt; the spool and the reading state stay. */
		ship_close(a->ship);
		a->ship = NULL;
		if (a->cfg.server_url[0] == '\0') {
			/* Reading, if it runs, goes on into the spool. */
			note_no_url();
			break;
		}
		if (make_ship(a, &ship) < 0) {
			log_warnx("could not apply the new collector settings; stopping");
			agent_stop(a, 1);
			break;
		}
		a->ship = ship;
		log_info("configuration reloaded (changes to sources and identity apply at the next start)");
		if (ship_enrolled(ship)) {
			start_reading(a);
		}
		ship_kick(ship); /* enrolls first if need be */
		break;
	}
	default:
		break;
	}
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: aimeter-agent run [-c FILE] [--all-users] [-n] [-v]\n"
		   "\n"
		   "  -c, --config FILE  configuration file (default " CONFIG_PATH ")\n"
		   "      --all-users    read every user's logs (root or CAP_DAC_READ_SEARCH)\n"
		   "  -n                 check the configuration and exit\n"
		   "  -v                 debug logging\n");
}

int
run_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"all-users", no_argument, NULL, 'A'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct agent *a;
	struct utsname un;
	bool check = false;
	int c, r, code = 1;

	a = calloc(1, sizeof(*a));
	if (a == NULL) {
		fatalx("out of memory");
	}
	log_init("aimeter-agent", LOG_LEVEL_INFO);
	a->config_path = NULL; /* -c, else config_load_command's default */
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:nvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			a->config_path = optarg;
			break;
		case 'A':
			a->all_users = true;
			break;
		case 'n':
			check = true;
			break;
		case 'v':
			log_set_level(LOG_LEVEL_DEBUG);
			break;
		case 'h':
			usage(stdout);
			free(a);
			return 0;
		default:
			usage(stderr);
			free(a);
			return 2;
		}
	}
	if (load_config(a, &a->cfg) > 0) {
		log_warnx("configuration has errors; not starting");
		free(a);
		return 1;
	}
	if (check) {
		if (a->cfg.server_url[0] == '\0') {
			log_warnx("no collector URL configured: the agent would wait for one");
		}
		config_print(&a->cfg, stdout);
		free(a);
		return 0;
	}
	load_secret(a);
	if (gethostname(a->hostname, sizeof(a->hostname) - 1) < 0) {
		strcpy(a->hostname, "unknown");
	}
	snprintf(a->os, sizeof(a->os), "%.60s", uname(&un) == 0 ? un.sysname : "unknown");
	for (char *p = a->os; *p != '\0'; p++) {
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	}

	r = mkdir_p(a->cfg.state_dir, 0700);
	if (r < 0) {
		log_warnx("could not create state directory \"%s\": %s", a->cfg.state_dir,
			  strerror(-r));
		goto out;
	}
	r = follow_create(&a->cfg, &a->follow);
	if (r < 0) {
		log_warnx("could not set up the log readers: %s", strerror(-r));
		goto out;
	}
	{
		char dir[PATH_MAX];
		struct spool_options so = {.max_bytes = a->cfg.spool_max_bytes};
		struct spool_state_ops ops = {follow_snapshot, follow_restore, a->follow};
		snprintf(dir, sizeof(dir), "%s/spool", a->cfg.state_dir);
		r = spool_open(dir, &so, &ops, &a->spool);
		if (r == -EBUSY) {
			log_warnx("another aimeter-agent is running on \"%s\"", a->cfg.state_dir);
			goto out;
		}
		if (r < 0) {
			log_warnx("could not open spool \"%s\": %s", dir, strerror(-r));
			goto out;
		}
		if (a->cfg.ship_actions) {
			/* beside the usage spool, so usage never waits for the negotiation */
			snprintf(dir, sizeof(dir), "%s/spool-actions", a->cfg.state_dir);
			r = spool_open(dir, &so, NULL, &a->actions);
			if (r == 0) {
				r = follow_note_spooled_actions(a->follow, a->actions, clock_wall_ms());
			}
			if (r < 0) {
				log_warnx("could not open spool \"%s\": %s", dir, strerror(-r));
				goto out;
			}
		}
	}
	/* After the spool's lock: the record names this pid only once it is the daemon. */
	storage_open(&a->storage, a->cfg.state_dir);
	r = uv_loop_init(&a->loop);
	if (r < 0) {
		log_warnx("could not start the event loop: %s", uv_strerror(r));
		goto out;
	}
	if (a->cfg.server_url[0] != '\0') {
		r = make_ship(a, &a->ship);
		if (r < 0) {
			uv_loop_close(&a->loop);
			goto out;
		}
	}
	uv_timer_init(&a->loop, &a->pass_timer);
	uv_timer_init(&a->loop, &a->rescan_timer);
	uv_signal_t *sigs[] = {&a->sig_term, &a->sig_int, &a->sig_hup, &a->sig_usr1};
	int signums[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};
	for (size_t i = 0; i < 4; i++) {
		uv_signal_init(&a->loop, sigs[i]);
		sigs[i]->data = a;
		uv_signal_start(sigs[i], signal_cb, signums[i]);
	}
	log_info("aimeter-agent %s running; state in \"%s\", collector \"%s\"", AM_VERSION,
		 a->cfg.state_dir, a->cfg.server_url);
	if (a->ship == NULL) {
		note_no_url();
	} else if (ship_enrolled(a->ship)) {
		start_reading(a);
		ship_kick(a->ship);
	} else {
		log_info("not enrolled yet; enrolling before reading");
		ship_kick(a->ship);
	}

	uv_run(&a->loop, UV_RUN_DEFAULT);
	r = uv_loop_close(&a->loop);
	if (r != 0) {
		log_warnx("event loop closed with handles still open: %s", uv_strerror(r));
	}
	code = a->exit_code;
	log_info("stopped");
out:
	spool_close(a->actions);
	spool_close(a->spool);
	follow_destroy(a->follow);
	storage_close(&a->storage);
	explicit_bzero(a->secret, sizeof(a->secret));
	free(a);
	return code;
}
