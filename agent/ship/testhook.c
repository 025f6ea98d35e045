/* testhook.c: see testhook.h. */
#include "testhook.h"

#if AM_TEST_HOOKS
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HOOK_MAX 8

static struct hook {
	char phase[32];
	long at;
	long hits;
} hooks[HOOK_MAX];
static int n_hooks = -1;

static void
hooks_parse(void)
{
	const char *spec = getenv("AIMETER_TEST_KILL");
	char buf[256], *save = NULL;

	n_hooks = 0;
	if (spec == NULL || strlen(spec) >= sizeof(buf)) {
		return;
	}
	strcpy(buf, spec);
	for (char *tok = strtok_r(buf, ",", &save); tok != NULL && n_hooks < HOOK_MAX;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		long at = 1;
		if (colon != NULL) {
			*colon = '\0';
			at = strtol(colon + 1, NULL, 10);
		}
		if (strlen(tok) < sizeof(hooks[0].phase) && at > 0) {
			strcpy(hooks[n_hooks].phase, tok);
			hooks[n_hooks].at = at;
			n_hooks++;
		}
	}
}

void
am_test_hook(const char *phase)
{
	if (n_hooks < 0) {
		hooks_parse();
	}
	for (int i = 0; i < n_hooks; i++) {
		if (strcmp(hooks[i].phase, phase) != 0 || ++hooks[i].hits != hooks[i].at) {
			continue;
		}
		const char *mark = getenv("AIMETER_TEST_KILL_MARK");
		if (mark != NULL) {
			int fd = open(mark, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
			if (fd >= 0) {
				(void)!write(fd, phase, strlen(phase));
				(void)!write(fd, "\n", 1);
				close(fd);
			}
		}
		fprintf(stderr, "aimeter-agent: test hook: killing myself at phase \"%s\"\n", phase);
		raise(SIGKILL);
	}
}
#endif
