/* request-wire.c: request ids on the wire; see request-wire.h. */
#include "request-wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SCHEMA_FILE "collector-schema"

bool
request_wire_allowed(uint32_t schema)
{
	return schema >= AM_SCHEMA_VERSION_REQUEST_IDS;
}

uint32_t
request_wire_load(const char *state_dir)
{
	char path[4200], buf[16] = { 0 };
	unsigned long v;
	char *end;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/" SCHEMA_FILE, state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		return 0;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		return 0;
	}
	v = strtoul(buf, &end, 10);
	return (*end == '\n' || *end == '\0') && v < 1000 ? (uint32_t)v : 0;
}

int
request_wire_save(const char *state_dir, uint32_t schema)
{
	char path[4200], tmp[4220], buf[16];
	int fd, n, r = 0;

	snprintf(path, sizeof(path), "%s/" SCHEMA_FILE, state_dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	n = snprintf(buf, sizeof(buf), "%u\n", schema);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		return -errno;
	}
	/* no fsync: a lost file only sends the next batch without ids */
	if (write(fd, buf, (size_t)n) != n) {
		r = -EIO;
	}
	close(fd);
	if (r == 0 && rename(tmp, path) < 0) {
		r = -errno;
	}
	if (r < 0) {
		(void)unlink(tmp); /* nothing else to do about a stray temporary file */
	}
	return r;
}

bool
request_wire_any(am_usage_event *const *events, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (events[i]->request_id != NULL && events[i]->request_id[0] != '\0') {
			return true;
		}
	}
	return false;
}

void
request_wire_hide(am_usage_event **events, size_t n, char **saved)
{
	for (size_t i = 0; i < n; i++) {
		saved[i] = events[i]->request_id;
		events[i]->request_id = (char *)protobuf_c_empty_string;
	}
}

void
request_wire_restore(am_usage_event **events, size_t n, char **saved)
{
	for (size_t i = 0; i < n; i++) {
		events[i]->request_id = saved[i];
	}
}
