/*
 * main.c: aimeter-collector: argv, configuration, signals and the one loop.
 *
 * SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the
 * database, exit 0 (forcing the close after [limits] shutdown_timeout_ms).
 * SIGHUP: parse the configuration into a new struct and swap it in only if
 * it is valid; certificates and secrets are reloaded the same way, open
 * connections keep going.
 */
#include <assert.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "am_config.h"
#include "collector.h"
#include "log.h"
#include "tls.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: aimeter-collector [-n] [-v] [-c file] [-o section.key=value]... "
		   "[flags]\n"
		   "\n"
		   "Receives usage batches from agents over HTTPS and writes them to PostgreSQL.\n"
		   "\n"
		   "options:\n"
		   "  -c, --config FILE      INI configuration file\n"
		   "  -n, --check            check the configuration, secrets and certificates, "
		   "then exit\n"
		   "  -o KEY=VALUE           set any configuration key (overrides the file)\n"
		   "      --listen ADDR      [listen] tls, host:port\n"
		   "      --listen-plain ADDR [listen] plain, host:port\n"
		   "      --conninfo STR     [database] conninfo\n"
		   "      --tls-cert FILE    [tls] cert_file\n"
		   "      --tls-key FILE     [tls] key_file\n"
		   "  -v, --verbose          log debug messages\n"
		   "  -h, --help             show this help\n"
		   "  -V, --version          show the version\n"
		   "\n"
		   "configuration keys:\n");
	config_usage(f);
}

static const struct {
	const char *flag;
	const char *key;
} flag_keys[] = {
	{ "--listen", "listen.tls" },		{ "--listen-plain", "listen.plain" },
	{ "--conninfo", "database.conninfo" }, { "--tls-cert", "tls.cert_file" },
	{ "--tls-key", "tls.key_file" },
};

/* Builds a configuration from the file and the overrides; NULL on any error. */
static struct config *
config_build(const char *path, char **overrides, int n_overrides, bool verbose)
{
	struct config *cfg = config_create();
	const char *name = path ? path : "configuration";
	int errors = 0;

	if (cfg == NULL) {
		log_warnx("could not allocate the configuration: out of memory");
		return NULL;
	}
	if (path != NULL) {
		int r = config_load(cfg, path);
		if (r < 0) {
			config_destroy(cfg);
			return NULL;
		}
		errors += r;
	}
	for (int i = 0; i < n_overrides; i++) {
		char key[128];
		const char *eq = strchr(overrides[i], '=');
		if (eq == NULL || (size_t)(eq - overrides[i]) >= sizeof(key)) {
			log_warnx("command line: expected section.key=value, not \"%s\"",
				  overrides[i]);
			errors++;
			continue;
		}
		snprintf(key, sizeof(key), "%.*s", (int)(eq - overrides[i]), overrides[i]);
		if (config_set(cfg, key, eq + 1, "command line") < 0) {
			errors++;
		}
	}
	if (verbose) {
		(void)config_set(cfg, "log.level", "debug", "command line");
	}
	errors += config_check(cfg, name);
	if (errors > 0) {
		log_warnx("%d error%s in the configuration", errors, errors == 1 ? "" : "s");
		config_destroy(cfg);
		return NULL;
	}
	return cfg;
}

static enum log_level
level_of(const char *s)
{
	if (strcmp(s, "error") == 0) {
		return LOG_LEVEL_ERROR;
	}
	if (strcmp(s, "warn") == 0) {
		return LOG_LEVEL_WARN;
	}
	if (strcmp(s, "debug") == 0) {
		return LOG_LEVEL_DEBUG;
	}
	return LOG_LEVEL_INFO;
}

static void
signals_close(struct collector *col)
{
	uv_close((uv_handle_t *)&col->sig_term, NULL);
	uv_close((uv_handle_t *)&col->sig_int, NULL);
	uv_close((uv_handle_t *)&col->sig_hup, NULL);
	uv_close((uv_handle_t *)&col->stop_timer, NULL);
	/* Closing the last handle restored the default action: a repeated
	 * SIGTERM must not kill the few remaining steps of a clean exit. */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
}

static void
db_closed_cb(struct db *db)
{
	struct collector *col = container_of(db, struct collector, db);

	log_info("database connections closed");
	signals_close(col);
}

/* During shutdown, close the database once the server and ingest are idle. */
static void
collector_maybe_finish(struct collector *col)
{
	if (!col->stopping || col->db_closed) {
		return;
	}
	if (!server_idle(&col->server)) {
		return;
	}
	if (!col->force_stop && (!ingest_idle(&col->ingest) || !otlp_idle(&col->otlp))) {
		return;
	}
	col->db_closed = true;
	ingest_fail_queued(&col->ingest, 503);
	otlp_fail_queued(&col->otlp);
	db_close(&col->db, db_closed_cb);
}

static void
stop_timer_cb(uv_timer_t *t)
{
	struct collector *col = container_of(t, struct collector, stop_timer);

	log_warnx("shutdown took longer than %llu ms: closing %u connections",
		  (unsigned long long)col->cfg->shutdown_timeout_ms, col->server.nconns);
	col->force_stop = true;
	server_close_all(&col->server);
	collector_maybe_finish(col);
}

static void
collector_stop(struct collector *col, const char *why)
{
	if (col->stopping) {
		return;
	}
	log_info("%s: no longer accepting, finishing %u connections", why, col->server.nconns);
	col->stopping = true;
	ingest_stop(&col->ingest);
	otlp_stop(&col->otlp);
	uv_timer_start(&col->stop_timer, stop_timer_cb, col->cfg->shutdown_timeout_ms, 0);
	server_drain(&col->server);
	collector_maybe_finish(col);
}

static void
collector_reload(struct collector *col)
{
	struct config *cfg;
	const struct config *old = col->cfg;

	log_info("reloading configuration");
	cfg = config_build(col->config_path, col->overrides, col->n_overrides, col->verbose);
	if (cfg == NULL) {
		log_warnx("configuration not reloaded; keeping the running one");
		return;
	}
	if (ingest_load_secrets(&col->ingest, cfg) < 0 ||
	    server_reload_tls(&col->server, cfg) < 0) {
		log_warnx("configuration not reloaded; keeping the running one");
		config_destroy(cfg);
		return;
	}
#define SAME_STR(a, b) ((a) == (b) || ((a) != NULL && (b) != NULL && strcmp((a), (b)) == 0))
	if (!SAME_STR(old->listen_tls, cfg->listen_tls) ||
	    !SAME_STR(old->listen_plain, cfg->listen_plain) ||
	    !SAME_STR(old->listen_metrics, cfg->listen_metrics) ||
	    !SAME_STR(old->conninfo, cfg->conninfo) || old->db_pool_size != cfg->db_pool_size) {
		log_warnx("listeners, conninfo and pool_size change only on restart, ignoring");
	}
#undef SAME_STR
	server_set_config(&col->server, cfg);
	ingest_set_config(&col->ingest, cfg);
	otlp_set_config(&col->otlp, cfg);
	config_destroy(col->cfg);
	col->cfg = cfg;
	log_set_level(level_of(cfg->log_level));
	ingest_register_secret(&col->ingest);
	log_info("configuration and certificates reloaded");
}

static void
signal_cb(uv_signal_t *h, int signum)
{
	struct collector *col = h->data;

	if (signum == SIGHUP) {
		collector_reload(col);
	} else {
		collector_stop(col, signum == SIGTERM ? "SIGTERM" : "SIGINT");
	}
}

/* The pool's pull: agent batches first, then OTLP requests. */
static struct db_job *
next_job_cb(void *owner)
{
	struct collector *col = owner;
	struct db_job *job = ingest_next_job(&col->ingest);

	return job != NULL ? job : otlp_next_job(&col->otlp);
}

/* The pool's NOTIFY callback: its owner is the collector (next_job_cb). */
static void
device_revoked_cb(void *owner, const char *device_id)
{
	struct collector *col = owner;

	ingest_device_revoked(&col->ingest, device_id);
}

/* server_idle_cb and ingest_idle_cb: a module finished something. */
static void
module_idle_cb(void *arg)
{
	collector_maybe_finish(arg);
}

static void
reply_text(reply_fn reply, void *reply_arg, int status, const char *msg, unsigned retry_after)
{
	reply(reply_arg, status, "text/plain; charset=utf-8", msg, strlen(msg), retry_after);
}

/* GET /healthz: the process runs. */
static void *
healthz_cb(void *owner, const struct request *req, reply_fn reply, void *reply_arg)
{
	(void)owner;
	(void)req;
	reply_text(reply, reply_arg, 200, "ok\n", 0);
	return NULL;
}

/* GET /readyz: batches can be written now. */
static void *
readyz_cb(void *owner, const struct request *req, reply_fn reply, void *reply_arg)
{
	struct collector *col = owner;

	(void)req;
	if (db_ready(&col->db) && !col->stopping) {
		reply_text(reply, reply_arg, 200, "ready\n", 0);
	} else {
		reply_text(reply, reply_arg, 503, "database unreachable or not migrated\n", 2);
	}
	return NULL;
}

/* GET /metrics, on its own listener. */
static void *
metrics_cb(void *owner, const struct request *req, reply_fn reply, void *reply_arg)
{
	struct collector *col = owner;
	char *text;
	size_t len;

	(void)req;
	if (metrics_format(&col->metrics, &text, &len) < 0) {
		reply_text(reply, reply_arg, 503, "out of memory\n", 1);
		return NULL;
	}
	reply(reply_arg, 200, "text/plain; version=0.0.4; charset=utf-8", text, len, 0);
	free(text);
	return NULL;
}

/*
 * The endpoints: /v1/ to ingest, probes here. /metrics only on its own
 * listener ([listen] metrics), so the ingest listeners answer it 404.
 */
static void
routes_init(struct collector *col)
{
	struct router *r = &col->router;

	router_init(r);
	/* Fewer routes than ROUTER_MAX: the results need no check. */
	(void)router_add(r, HTTP_REQ_POST, "/v1/batches", METRICS_EP_BATCHES, ingest_submit,
			 ingest_cancel, &col->ingest);
	(void)router_add(r, HTTP_REQ_POST, "/v1/enroll", METRICS_EP_ENROLL, ingest_enroll,
			 ingest_cancel, &col->ingest);
	/* OTLP/HTTP (issue 15, docs/otlp.md) on the same listeners. */
	for (int s = 0; s < OTLP_SIGNAL_MAX; s++) {
		static const char *const paths[OTLP_SIGNAL_MAX] = { "/v1/logs", "/v1/metrics",
								    "/v1/traces" };
		(void)router_add(r, HTTP_REQ_POST, paths[s], METRICS_EP_OTHER, otlp_submit,
				 otlp_cancel, &col->otlp.endpoints[s]);
	}
	(void)router_add(r, HTTP_REQ_GET, "/healthz", METRICS_EP_HEALTHZ, healthz_cb, NULL, col);
	(void)router_add(r, HTTP_REQ_GET, "/readyz", METRICS_EP_READYZ, readyz_cb, NULL, col);
	router_init(&col->metrics_router);
	(void)router_add(&col->metrics_router, HTTP_REQ_GET, "/metrics", METRICS_EP_METRICS,
			 metrics_cb, NULL, col);
}

static int
run(struct collector *col)
{
	int r;

	r = uv_loop_init(&col->loop);
	if (r < 0) {
		log_warnx("could not create the event loop: %s", uv_strerror(r));
		return 1;
	}
	ingest_init(&col->ingest, &col->loop, col->cfg, &col->db, &col->metrics, module_idle_cb,
		    col);
	otlp_init(&col->otlp, &col->loop, col->cfg, &col->db, &col->ingest, module_idle_cb, col);
	routes_init(col);
	server_init(&col->server, &col->loop, col->cfg, &col->metrics, &col->router,
		    &col->metrics_router, module_idle_cb, col);
	if (ingest_load_secrets(&col->ingest, col->cfg) < 0) {
		uv_loop_close(&col->loop);
		return 1;
	}
	r = db_init(&col->db, &col->loop, col->cfg->conninfo, (unsigned)col->cfg->db_pool_size,
		    next_job_cb, col, &col->metrics);
	if (r < 0) {
		log_warnx("could not set up the database pool: %s", strerror(-r));
		uv_loop_close(&col->loop);
		return 1;
	}
	(void)db_listen(&col->db, INGEST_REVOKE_CHANNEL, device_revoked_cb); /* a constant */
#if AM_TEST_HOOKS
	{
		const char *pause = getenv("AIMETER_TEST_COMMIT_PAUSE_MS");
		if (pause != NULL) {
			col->db.commit_pause_ms = (unsigned)strtoul(pause, NULL, 10);
			log_warnx("test hook: pausing %u ms after every COMMIT",
				  col->db.commit_pause_ms);
		}
	}
#endif
	uv_signal_init(&col->loop, &col->sig_term);
	uv_signal_init(&col->loop, &col->sig_int);
	uv_signal_init(&col->loop, &col->sig_hup);
	uv_timer_init(&col->loop, &col->stop_timer);
	col->sig_term.data = col->sig_int.data = col->sig_hup.data = col;
	uv_signal_start(&col->sig_term, signal_cb, SIGTERM);
	uv_signal_start(&col->sig_int, signal_cb, SIGINT);
	uv_signal_start(&col->sig_hup, signal_cb, SIGHUP);
	r = server_start(&col->server);
	if (r < 0) {
		col->exit_code = 1;
		col->stopping = true;
		ingest_stop(&col->ingest);
		col->force_stop = true;
		server_drain(&col->server);
		collector_maybe_finish(col);
	} else {
		db_start(&col->db);
		ingest_register_secret(&col->ingest);
		log_info("aimeter-collector %s started (pid %d)", AM_VERSION, (int)getpid());
	}
	uv_run(&col->loop, UV_RUN_DEFAULT);
	r = uv_loop_close(&col->loop);
	assert(r == 0);
	server_finish(&col->server);
	if (col->exit_code == 0) {
		log_info("stopped");
	}
	return col->exit_code;
}

int
main(int argc, char **argv)
{
	struct collector *col = calloc(1, sizeof(*col)); /* large: the read buffers */
	const char *path = NULL;
	bool check = false;
	char **overrides = calloc((size_t)argc + 1, sizeof(char *));
	char *owned[16];
	int n_over = 0, n_owned = 0, code;

	log_init("aimeter-collector", LOG_LEVEL_INFO);
	if (overrides == NULL || col == NULL) {
		fatalx("out of memory");
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool matched = false;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			code = 0;
			goto done;
		}
		if (strcmp(a, "-V") == 0 || strcmp(a, "--version") == 0) {
			printf("aimeter-collector %s\n", AM_VERSION);
			code = 0;
			goto done;
		}
		if (strcmp(a, "-n") == 0 || strcmp(a, "--check") == 0) {
			check = true;
			continue;
		}
		if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
			col->verbose = true;
			continue;
		}
		if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
			path = argv[++i];
			continue;
		}
		if (strcmp(a, "-o") == 0 && i + 1 < argc) {
			overrides[n_over++] = argv[++i];
			continue;
		}
		for (size_t k = 0; k < sizeof(flag_keys) / sizeof(flag_keys[0]); k++) {
			if (strcmp(a, flag_keys[k].flag) == 0 && i + 1 < argc && n_owned < 16) {
				size_t len = strlen(flag_keys[k].key) + strlen(argv[i + 1]) + 2;
				char *kv = malloc(len);
				if (kv == NULL) {
					fatalx("out of memory");
				}
				snprintf(kv, len, "%s=%s", flag_keys[k].key, argv[++i]);
				owned[n_owned++] = kv;
				overrides[n_over++] = kv;
				matched = true;
				break;
			}
		}
		if (!matched) {
			fprintf(stderr, "aimeter-collector: unknown or incomplete option \"%s\"; "
					"see --help\n",
				a);
			code = 2;
			goto done;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	col->config_path = path;
	col->overrides = overrides;
	col->n_overrides = n_over;
	col->cfg = config_build(path, overrides, n_over, col->verbose);
	if (col->cfg == NULL) {
		code = 1;
		goto done;
	}
	log_set_level(level_of(col->cfg->log_level));
	if (check) {
		struct ingest ing;
		char err[512];
		SSL_CTX *ctx = NULL;

		ingest_init(&ing, NULL, col->cfg, NULL, NULL, NULL, NULL);
		code = ingest_load_secrets(&ing, col->cfg) < 0 ? 1 : 0;
		if (code == 0 && col->cfg->listen_tls != NULL) {
			ctx = tls_ctx_create(col->cfg->tls_cert_file, col->cfg->tls_key_file, err,
					     sizeof(err));
			if (ctx == NULL) {
				log_warnx("%s", err);
				code = 1;
			}
			SSL_CTX_free(ctx);
		}
		if (code == 0) {
			printf("configuration OK\n");
		}
		goto done;
	}
	code = run(col);
done:
	if (col != NULL) {
		config_destroy(col->cfg);
	}
	free(col);
	for (int i = 0; i < n_owned; i++) {
		free(owned[i]);
	}
	free(overrides);
	return code;
}
