/*
 * config.h: the agent's configuration (docs/configuration.md).
 *
 * One table of keys, read in this order, later wins: built-in defaults, the
 * INI file, the drop-in directory's *.conf in name order, AIMETER_*
 * environment variables; the command line then overrides. Parsing works on
 * a buffer (config_parse), so it is tested and fuzzed without files. Every
 * error is reported as "file:line: message" and counted; parsing goes on.
 */
#ifndef AM_AGENT_CONFIG_H
#define AM_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "project.h"

#define CONFIG_PATH "/etc/aimeter/agent.conf"
#define CONFIG_DROPIN_DIR "/etc/aimeter/agent.conf.d"
#define CONFIG_STR 1024

enum identity_policy { IDENTITY_OS_USER, IDENTITY_TOOL_ACCOUNT, IDENTITY_FIXED, IDENTITY_POLICY_MAX };

struct agent_config {
	char server_url[CONFIG_STR];
	char enrollment_secret_file[CONFIG_STR];
	char enrollment_secret[CONFIG_STR];
	char ca_file[CONFIG_STR];
	char pin[CONFIG_STR];
	enum identity_policy identity_policy;
	char identity[CONFIG_STR];
	char team_hint[CONFIG_STR];
	char cost_center_hint[CONFIG_STR];
	char action_allowlist[CONFIG_STR]; /* [actions] allowlist: names shipped in clear */
	bool ship_actions;                 /* [actions] ship: the daemon reads and ships them */
	uint64_t action_settle_seconds;    /* [actions] settle_seconds */
	enum project_policy label_policy;
	char project_key_file[CONFIG_STR];
	char source_dirs[EVENT_TOOL_MAX][4 * CONFIG_STR]; /* [sources] <key>_dirs, per source */
	bool all_users;
	char state_dir[CONFIG_STR];
	uint64_t spool_max_bytes;
	uint64_t batch_events;
	uint64_t batch_age;
	uint64_t future_retry_seconds; /* [ship]: events refused as in the future wait this long */
	uint64_t settle_seconds;
};

/* config_defaults(cfg): the built-in defaults (paths left empty: see config_resolve). */
void config_defaults(struct agent_config *cfg);

/*
 * config_parse(buf, len, name, cfg): apply an INI document; name is used in
 * messages. Returns the number of errors (each already logged as
 * "name:line: message").
 */
int config_parse(const char *buf, size_t len, const char *name, struct agent_config *cfg);

/* config_set(cfg, section, key, value, ret_err, err_size): one key. 0 or -EINVAL/-ENOENT. */
int config_set(struct agent_config *cfg, const char *section, const char *key, const char *value,
	       char *ret_err, size_t err_size);

/*
 * config_load(cfg, path, dropin_dir): read path (missing is fine) and the
 * drop-ins, then the environment. A file holding enrollment_secret that
 * group or others can read is refused. Returns the number of errors.
 */
int config_load(struct agent_config *cfg, const char *path, const char *dropin_dir);

/* config_env(cfg): apply AIMETER_* variables. Returns the number of errors. */
int config_env(struct agent_config *cfg);

/*
 * config_resolve(cfg, home, is_root): fill what defaults to paths: state_dir
 * (/var/lib/aimeter as root, else <home>/.local/state/aimeter), the project
 * key file (<state_dir>/project.key).
 */
void config_resolve(struct agent_config *cfg, const char *home, bool is_root);

/*
 * config_can_read_all(): whether this process may read every user's files,
 * as all_users needs: it is root, or (Linux) its effective capability set
 * holds CAP_DAC_READ_SEARCH, as under the packaged unit, which runs the
 * agent as an unprivileged user with that one capability.
 */
bool config_can_read_all(void);

/* config_home(): $HOME, else the effective user's home from the password database, else "/". */
const char *config_home(void);

/*
 * config_load_command(cfg, cli_path, state_dir): the configuration as every
 * command loads it: defaults; the file given with -c (cli_path, alone), else
 * $AIMETER_CONFIG, else CONFIG_PATH, each with the drop-in directory; the
 * environment; state_dir (--state-dir, may be NULL) over the state
 * directory; then config_resolve for this user. Returns the number of errors.
 */
int config_load_command(struct agent_config *cfg, const char *cli_path, const char *state_dir);

/* config_source_dirs(cfg, tool): the configured roots of tool's source ("" when unset). */
const char *config_source_dirs(const struct agent_config *cfg, enum event_tool tool);

/* config_print(cfg, f): every key and its value, secrets masked (for -n). */
void config_print(const struct agent_config *cfg, void *file);

#endif
