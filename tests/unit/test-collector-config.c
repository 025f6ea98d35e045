/* test-collector-config.c: INI parsing, every error counted, overrides, secret files. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "test.h"

TEST(defaults_and_values)
{
	struct config *cfg = config_create();
	static const char ini[] = "; comment\n[database]\nconninfo = dbname=x host=/tmp\n"
				  "pool_size = 4\n[listen]\ntls = 127.0.0.1:8443\nreuseport = no\n"
				  "[limits]\nheader_timeout_ms = 2500\n";

	ASSERT_NOT_NULL(cfg);
	ASSERT_EQ(cfg->db_pool_size, 3);
	ASSERT_EQ(cfg->max_body_bytes, 4194304);
	ASSERT(cfg->reuseport);
	ASSERT_NULL(cfg->conninfo);
	ASSERT_EQ(config_parse(cfg, "t.conf", ini, sizeof(ini) - 1), 0);
	ASSERT_STR_EQ(cfg->conninfo, "dbname=x host=/tmp");
	ASSERT_EQ(cfg->db_pool_size, 4);
	ASSERT_STR_EQ(cfg->listen_tls, "127.0.0.1:8443");
	ASSERT(!cfg->reuseport);
	ASSERT_EQ(cfg->header_timeout_ms, 2500);
	ASSERT_EQ(config_set(cfg, "limits.max_connections", "7", "flag"), 0);
	ASSERT_EQ(cfg->max_connections, 7);
	ASSERT_EQ(config_set(cfg, "limits.nope", "7", "flag"), -EINVAL);
	/* No person key and no TLS files: two problems. */
	ASSERT_EQ(config_check(cfg, "t.conf"), 2);
	config_destroy(cfg);
}

TEST(every_error_counted)
{
	struct config *cfg = config_create();
	static const char ini[] = "[limits]\nmax_connections = -1\nmax_body_bytes = 12x\n"
				  "unknown = 1\n[database]\npool_size = 99\nthis line is bad\n";

	/* Four bad values or keys plus one syntax error. */
	ASSERT_EQ(config_parse(cfg, "bad.conf", ini, sizeof(ini) - 1), 5);
	ASSERT_EQ(cfg->max_connections, 1024);
	config_destroy(cfg);
	config_destroy(NULL);
}

/* The resource limits of issue 11 and the metrics listener: defaults, values, "off". */
TEST(connection_limits_and_metrics_listener)
{
	struct config *cfg = config_create();
	static const char ini[] = "[limits]\nmax_connections_per_address = 4\n"
				  "write_stall_timeout_ms = 1500\nconnection_lifetime_ms = 90000\n"
				  "[listen]\nmetrics = [::1]:9100\n";

	ASSERT_NOT_NULL(cfg);
	ASSERT_EQ(cfg->max_connections_per_address, 128);
	ASSERT_EQ(cfg->write_stall_timeout_ms, 15000);
	ASSERT_EQ(cfg->connection_lifetime_ms, 600000);
	ASSERT_STR_EQ(cfg->listen_metrics, "127.0.0.1:9464");
	ASSERT_EQ(config_parse(cfg, "t.conf", ini, sizeof(ini) - 1), 0);
	ASSERT_EQ(cfg->max_connections_per_address, 4);
	ASSERT_EQ(cfg->write_stall_timeout_ms, 1500);
	ASSERT_EQ(cfg->connection_lifetime_ms, 90000);
	ASSERT_STR_EQ(cfg->listen_metrics, "[::1]:9100");
	ASSERT_EQ(config_set(cfg, "listen.metrics", "off", "flag"), 0);
	ASSERT_NULL(cfg->listen_metrics);
	ASSERT_EQ(config_set(cfg, "listen.metrics", "127.0.0.1:0", "flag"), 0);
	ASSERT_STR_EQ(cfg->listen_metrics, "127.0.0.1:0");
	ASSERT_EQ(config_set(cfg, "listen.metrics", "", "flag"), 0);
	ASSERT_NULL(cfg->listen_metrics);
	ASSERT_EQ(config_set(cfg, "limits.max_connections_per_address", "0", "flag"), -EINVAL);
	ASSERT_EQ(config_set(cfg, "limits.connection_lifetime_ms", "10", "flag"), -EINVAL);
	config_destroy(cfg);
}

/* Found by fuzz-collector-config: "level =" left NULL and config_check dereferenced it. */
TEST(empty_log_level)
{
	struct config *cfg = config_create();
	static const char ini[] = "[log]\nlevel =\n";

	ASSERT_NOT_NULL(cfg);
	ASSERT_EQ(config_parse(cfg, "t.conf", ini, sizeof(ini) - 1), 0);
	ASSERT_NULL(cfg->log_level);
	/* No listener, no person key, and the level. */
	ASSERT_EQ(config_check(cfg, "t.conf"), 3);
	config_destroy(cfg);
}

TEST(secret_file_mode)
{
	char path[] = "/tmp/am-secret-XXXXXX", err[256];
	int fd = mkstemp(path);

	ASSERT_GE(fd, 0);
	ASSERT_EQ(write(fd, "x", 1), 1);
	close(fd);
	ASSERT_EQ(chmod(path, 0600), 0);
	ASSERT_EQ(config_check_secret_file(path, err, sizeof(err)), 0);
	ASSERT_EQ(chmod(path, 0640), 0);
	ASSERT_EQ(config_check_secret_file(path, err, sizeof(err)), -1);
	ASSERT(strstr(err, "readable by group or others") != NULL);
	unlink(path);
	ASSERT_EQ(config_check_secret_file(path, err, sizeof(err)), -1);
}

int
main(void)
{
	log_init("test", LOG_LEVEL_ERROR);
	RUN(defaults_and_values);
	RUN(every_error_counted);
	RUN(connection_limits_and_metrics_listener);
	RUN(empty_log_level);
	RUN(secret_file_mode);
	return 0;
}
