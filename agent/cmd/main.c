/* main.c: command dispatch (scan, report, collect: cli.h; run, status, flush: run.h). */
#include <stdio.h>
#include <string.h>

#include "am_config.h"
#include "cli.h"
#include "log.h"
#include "run.h"

int
main(int argc, char **argv)
{
	struct cli c;
	struct agent_config cfg;
	struct project project;
	struct scan s;
	struct action_table actions;
	int rc;

	log_init("aimeter-agent", LOG_LEVEL_INFO);
	memset(&c, 0, sizeof(c));
	c.since_ms = INT64_MIN;
	c.settle = -1;
	if (argc < 2) {
		cli_usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		cli_usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("aimeter-agent %s\n", AM_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "-n") == 0) {
		if (cli_parse(argc - 1, argv + 1, &c) < 0) {
			return 2;
		}
		rc = config_load_command(&cfg, c.config_path, c.state_dir);
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
		c.actions = argc >= 3 && strcmp(argv[2], "actions") == 0;
		if (argc < 3 || (!c.actions && report_kind_parse(argv[2], &c.kind) < 0)) {
			log_warnx("report needs daily, monthly, session or actions; see --help");
			return 2;
		}
		argv++;
		argc--;
	} else if (strcmp(c.command, "scan") != 0 && strcmp(c.command, "collect") != 0) {
		log_warnx("unknown command \"%s\"; see --help", c.command);
		return 2;
	}
	if (cli_parse(argc - 1, argv + 1, &c) < 0) {
		return 2;
	}
	if (config_load_command(&cfg, c.config_path, c.state_dir) > 0) {
		log_warnx("configuration has errors; see above");
		return 1;
	}
	cli_setup_project(&project, &cfg);
	if (scan_init(&s, &project) < 0) {
		log_warnx("out of memory");
		return 1;
	}
	/* tool calls are read where they are printed; names keyed like project labels */
	action_table_init(&actions, project.key, project.key_len, cfg.action_allowlist);
	if ((strcmp(c.command, "scan") == 0 && !c.usage_only) || c.actions) {
		s.actions = &actions;
	}
	if (strcmp(c.command, "scan") == 0) {
		rc = cmd_scan(&c, &cfg, &s);
	} else if (c.actions) {
		rc = cmd_report_actions(&c, &cfg, &s);
	} else if (strcmp(c.command, "report") == 0) {
		rc = cmd_report(&c, &cfg, &s);
	} else {
		rc = cmd_collect(&c, &cfg, &s);
	}
	scan_finish(&s);
	action_table_finish(&actions);
	project_finish(&project);
	return rc;
}
