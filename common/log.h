/*
 * log.h: the one logger (OpenBSD log.c in small). Writes to stderr; never
 * changes errno. Messages follow PostgreSQL style: lowercase, no final period,
 * "could not open spool file \"%s\": %s". Never log payloads or secrets.
 */
#ifndef AM_LOG_H
#define AM_LOG_H

#include <stdbool.h>

enum log_level { LOG_LEVEL_ERROR, LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG, LOG_LEVEL_MAX };

/* log_init(program, level): set the program name shown and the level kept. */
void log_init(const char *program, enum log_level level);
void log_set_level(enum log_level level);

/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
