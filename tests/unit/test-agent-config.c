/* test-agent-config.c: the documented keys, every error counted, env wins, drop-ins in order. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "test.h"

TEST(keys_and_errors)
{
	struct agent_config c;
	static const char ini[] = "[server]\nurl = https://c.example\n"
				  "[identity]\npolicy = fixed\nvalue = dana@example.com\nteam_hint = t1\n"
				  "[project]\nlabel_policy = basename\n"
				  "[sources]\nclaude_dirs = /a,/b\nall_users = true\n"
				  "[agent]\nsettle_seconds = 45\n"
				  "[spool]\nmax_bytes = 64M\n"
				  "[ship]\nbatch_events = lots\n"
				  "[nope]\nkey = 1\n"
				  "[identity]\npolicy = everyone\n";

	config_defaults(&c);
	ASSERT_EQ(c.settle_seconds, 30);
	ASSERT_EQ(config_parse(ini, sizeof(ini) - 1, "agent.conf", &c), 3);
	ASSERT_STR_EQ(c.server_url, "https://c.example");
	ASSERT_EQ(c.identity_policy, IDENTITY_FIXED);
	ASSERT_STR_EQ(c.identity, "dana@example.com");
	ASSERT_EQ(c.label_policy, PROJECT_BASENAME);
	ASSERT_STR_EQ(config_source_dirs(&c, EVENT_TOOL_CLAUDE), "/a,/b");
	ASSERT(c.all_users);
	ASSERT_EQ(c.settle_seconds, 45);
	ASSERT_UINT_EQ(c.spool_max_bytes, 64ull << 20);
	ASSERT_EQ(c.batch_events, 1000);
}

TEST(env_and_dropins)
{
	char dir[] = "/tmp/am-conf-XXXXXX", path[256], cmd[1024];
	struct agent_config c;

	ASSERT_NOT_NULL(mkdtemp(dir));
	snprintf(cmd, sizeof(cmd),
		 "mkdir %s/d && printf '[agent]\\nsettle_seconds = 10\\n' > %s/agent.conf && "
		 "printf '[agent]\\nsettle_seconds = 20\\n' > %s/d/10-a.conf && "
		 "printf '[agent]\\nsettle_seconds = 25\\n' > %s/d/20-b.conf && "
		 "printf '[server]\\nenrollment_secret = s\\n' > %s/d/30-secret.conf && chmod 644 "
		 "%s/d/30-secret.conf",
		 dir, dir, dir, dir, dir, dir);
	ASSERT_EQ(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	snprintf(cmd, sizeof(cmd), "%s/d", dir);
	config_defaults(&c);
	unsetenv("AIMETER_SETTLE_SECONDS");
	/* the world-readable file holding a secret is refused: one error */
	ASSERT_EQ(config_load(&c, path, cmd), 1);
	ASSERT_EQ(c.settle_seconds, 25);
	ASSERT_STR_EQ(c.enrollment_secret, "");
	setenv("AIMETER_SETTLE_SECONDS", "5", 1);
	setenv("AIMETER_TEAM_HINT", "env-team", 1);
	config_defaults(&c);
	ASSERT_EQ(config_load(&c, path, NULL), 0);
	ASSERT_EQ(c.settle_seconds, 5);
	ASSERT_STR_EQ(c.team_hint, "env-team");
	config_resolve(&c, "/home/dana", false);
	ASSERT_STR_EQ(c.state_dir, "/home/dana/.local/state/aimeter");
	ASSERT_STR_EQ(c.project_key_file, "/home/dana/.local/state/aimeter/project.key");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ASSERT_EQ(system(cmd), 0);
}

int
main(void)
{
	log_init("test-agent-config", LOG_LEVEL_ERROR);
	RUN(keys_and_errors);
	RUN(env_and_dropins);
	return 0;
}
