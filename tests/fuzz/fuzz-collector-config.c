/*
 * fuzz-collector-config.c: the collector's configuration file through
 * config_parse and config_check, and its first line as a command-line
 * override ("section.key=value") through config_set.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;
	const char *nl;
	char line[256];

	log_init("fuzz", LOG_LEVEL_ERROR);
	cfg = config_create();
	if (cfg == NULL) {
		return 0;
	}
	if (config_parse(cfg, "fuzz", (const char *)data, size) >= 0) {
		(void)config_check(cfg, "fuzz");
	}
	nl = memchr(data, '\n', size);
	if (nl != NULL && (size_t)(nl - (const char *)data) < sizeof(line)) {
		size_t n = (size_t)(nl - (const char *)data);
		char *eq;

		memcpy(line, data, n);
		line[n] = '\0';
		eq = strchr(line, '=');
		if (eq != NULL) {
			*eq = '\0';
			(void)config_set(cfg, line, eq + 1, "fuzz");
		}
	}
	config_destroy(cfg);
	return 0;
}
