/*
 * cli.h: the commands that read the tools' files on the command line:
 * scan, report and collect (one file each, cmd-*.c), their shared options
 * and setup. The daemon and its companions are in run.h.
 */
#ifndef AM_AGENT_CLI_H
#define AM_AGENT_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "project.h"
#include "report.h"
#include "roots.h"
#include "scan.h"

/* The command line of scan, report and collect. */
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
	bool actions; /* report actions */
	bool usage_only; /* scan: no action records */
};

/* cli_usage(f): the help text. */
void cli_usage(FILE *f);

/* cli_parse(argc, argv, c): options into c (set to defaults first). 0, or -1 after a message. */
int cli_parse(int argc, char **argv, struct cli *c);

/* cli_make_dirs(path): mkdir -p with mode 0700. 0 or a negative errno. */
int cli_make_dirs(const char *path);

/*
 * cli_setup_project(p, cfg): the project labeller of cfg's policy, with the
 * key file's key (made when missing), else a built-in one.
 */
void cli_setup_project(struct project *p, const struct agent_config *cfg);

/* cli_full_scan(s, c, cfg): read every root whole into s (everything final). 0 or -errno. */
int cli_full_scan(struct scan *s, const struct cli *c, const struct agent_config *cfg);

/* The commands: the process's exit code. */
int cmd_scan(const struct cli *c, const struct agent_config *cfg, struct scan *s);
int cmd_report(const struct cli *c, const struct agent_config *cfg, struct scan *s);
int cmd_collect(const struct cli *c, const struct agent_config *cfg, struct scan *s);
int cmd_report_actions(const struct cli *c, const struct agent_config *cfg, struct scan *s);

#endif
