/*
 * testhook.h: fault-injection points for the end-to-end tests.
 *
 * Compiled in only when am_config.h says AM_TEST_HOOKS 1 (tests/run builds
 * with -Dtest_hooks=true); otherwise every call is an empty inline.
 *
 * With AIMETER_TEST_KILL="phase:n[,phase:n...]" in the environment, the n-th
 * time the agent reaches phase it appends the phase name to the file named by
 * AIMETER_TEST_KILL_MARK (if set) and kills itself with SIGKILL. Phases:
 * "read" (increments read, not yet spooled), "spool-fsync" (record written,
 * not yet fsynced), "write-data", "write-snapshot" and "write-meta" (half of
 * a spool record of that type written: a torn record; the snapshot is the
 * readers' whole state), "upload" (request body being sent), "acked" (2xx
 * received, spool not yet told).
 */
#ifndef AM_TESTHOOK_H
#define AM_TESTHOOK_H

#include "am_config.h"

#if AM_TEST_HOOKS
void am_test_hook(const char *phase);
#else
static inline void
am_test_hook(const char *phase)
{
	(void)phase;
}
#endif

#endif
