/*
 * collector.h: the one struct that owns the loop and every module of
 * aimeter-collector (main.c creates it and hands each module what it uses;
 * no module sees it).
 */
#ifndef AM_COLLECTOR_H
#define AM_COLLECTOR_H

#include <stdbool.h>
#include <uv.h>

#include "config.h"
#include "db.h"
#include "ingest.h"
#include "metrics.h"
#include "otlp.h"
#include "router.h"
#include "server.h"
#include "macros.h"

struct collector {
	uv_loop_t loop;
	struct config *cfg;      /* owned; swapped whole on SIGHUP */
	const char *config_path; /* borrowed from argv; NULL: flags only */
	char **overrides;        /* borrowed from argv: "section.key=value" */
	int n_overrides;
	struct metrics metrics;
	struct db db;
	struct ingest ingest;
	struct otlp otlp; /* issue 15: /v1/logs, /v1/metrics, /v1/traces */
	struct server server;
	struct router router;         /* the ingest listeners' routes */
	struct router metrics_router; /* the metrics listener's routes */
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t stop_timer;
	bool stopping;
	bool db_closed;
	bool force_stop; /* the shutdown timeout passed: do not wait for ingest */
	bool verbose;    /* -v: debug logging, kept across reloads */
	int exit_code;
};

#endif
