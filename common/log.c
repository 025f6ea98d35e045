/* log.c: stderr logging with levels; see log.h. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *log_program = "aimeter";
static enum log_level log_level = LOG_LEVEL_INFO;

void
log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_level = level;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

static void
vlog(enum log_level level, const char *tag, int errnum, const char *fmt, va_list ap)
{
	char msg[1024];
	int saved = errno;

	if (level > log_level) {
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (errnum != 0) {
		fprintf(stderr, "%s: %s%s: %s\n", log_program, tag, msg, strerror(errnum));
	} else {
		fprintf(stderr, "%s: %s%s\n", log_program, tag, msg);
	}
	errno = saved;
}

#define LOG_FN(name, level, tag, with_errno)                                                      \
	void name(const char *fmt, ...)                                                           \
	{                                                                                         \
		va_list ap;                                                                       \
		int e = errno;                                                                    \
		va_start(ap, fmt);                                                                \
		vlog(level, tag, with_errno ? e : 0, fmt, ap);                                    \
		va_end(ap);                                                                       \
	}

LOG_FN(log_warn, LOG_LEVEL_WARN, "warning: ", 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, "warning: ", 0)
LOG_FN(log_info, LOG_LEVEL_INFO, "", 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, "debug: ", 0)

void
fatal(const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, "fatal: ", e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_LEVEL_ERROR, "fatal: ", 0, fmt, ap);
	va_end(ap);
	exit(1);
}
