/*
 * collector.h: the one struct that owns the loop and every module of
 * aimeter-collector (main.c creates it; the modules get it explicitly).
 */
#ifndef AM_COLLECTOR_H
#define AM_COLLECTOR_H

#include <stdbool.h>
#include <uv.h>

#include "config.h"
#include "db.h"
#include "ingest.h"
#include "metrics.h"
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
	struct server server;
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t stop_timer;
	bool stopping;
	bool db_closed;
	int exit_code;
};

/* collector_maybe_finish(col): during shutdown, close the DB once idle. */
void collector_maybe_finish(struct collector *col);

#endif
