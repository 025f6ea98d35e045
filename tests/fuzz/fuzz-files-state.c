/*
 * fuzz-files-state.c: `collect`'s state file (tail.c files.state: the
 * tracking engine's blob, or the first text format read once) on arbitrary
 * bytes. Each input becomes the files.state of a fresh state
 * directory and one incremental pass runs over a small fixed Claude and
 * Codex root (FUZZ_ROOT, written here; the seeds name its files, so file
 * lines meet real files), then a second pass reads what the first saved.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "project.h"
#include "tail.h"

#define FUZZ_ROOT "/tmp/aimeter-fuzz-files-state"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char claude_log[] =
	"{\"type\":\"assistant\",\"sessionId\":\"s1\",\"cwd\":\"/w\",\"timestamp\":"
	"\"2026-09-14T10:00:00Z\",\"message\":{\"model\":\"m\",\"id\":\"msg_1\",\"usage\":"
	"{\"input_tokens\":1,\"output_tokens\":2}}}\n"
	"{\"type\":\"assistant\",\"sessionId\":\"s1\",\"cwd\":\"/w\",\"timestamp\":"
	"\"2026-09-14T10:01:00Z\",\"message\":{\"model\":\"m\",\"id\":\"msg_2\",\"usage\":"
	"{\"input_tokens\":3,\"output_tokens\":4}}}\n";
static const char codex_log[] =
	"{\"timestamp\":\"2026-09-14T10:00:00Z\",\"type\":\"session_meta\",\"payload\":"
	"{\"id\":\"0199a0b0-0000-7000-8000-000000000001\",\"cwd\":\"/w\"}}\n"
	"{\"timestamp\":\"2026-09-14T10:00:01Z\",\"type\":\"turn_context\",\"payload\":"
	"{\"model\":\"gpt-5\"}}\n"
	"{\"timestamp\":\"2026-09-14T10:00:02Z\",\"type\":\"event_msg\",\"payload\":{\"type\":"
	"\"token_count\",\"info\":{\"total_token_usage\":{\"input_tokens\":10,"
	"\"cached_input_tokens\":2,\"output_tokens\":3,\"reasoning_output_tokens\":1,"
	"\"total_tokens\":13}}}}\n";

static void
put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		abort();
	}
}

/* The fixed roots, written once per process (the same bytes every time). */
static void
make_roots(void)
{
	static int done;

	if (done) {
		return;
	}
	if (system("mkdir -p " FUZZ_ROOT "/claude/projects/p " FUZZ_ROOT "/codex/sessions") != 0) {
		abort();
	}
	put_file(FUZZ_ROOT "/claude/projects/p/s.jsonl", claude_log);
	put_file(FUZZ_ROOT "/codex/sessions/rollout-2026-09-14T10-00-00-"
			   "0199a0b0-0000-7000-8000-000000000001.jsonl",
		 codex_log);
	done = 1;
}

static void
clear_dir(const char *dir)
{
	char path[4200];
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL) {
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			(void)unlink(path); /* a fresh directory for the next input */
		}
	}
	closedir(d);
}

static char dir[64];

static void
remove_state_dir(void)
{
	clear_dir(dir);
	(void)rmdir(dir); /* a temporary directory: nothing to do if it fails */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scan_root roots[2];
	static int64_t now_ms;
	struct project project;
	struct scan s;
	struct tail_stats st;
	char path[128];
	FILE *f, *sink;

	if (dir[0] == '\0') {
		log_init("fuzz", LOG_LEVEL_ERROR);
		make_roots();
		now_ms = (int64_t)time(NULL) * 1000; /* the roots' files were just written */
		snprintf(dir, sizeof(dir), "/tmp/aimeter-fuzz-state-XXXXXX");
		if (mkdtemp(dir) == NULL) {
			abort();
		}
		atexit(remove_state_dir);
		roots[0].tool = EVENT_TOOL_CLAUDE;
		snprintf(roots[0].path, sizeof(roots[0].path), FUZZ_ROOT "/claude");
		roots[1].tool = EVENT_TOOL_CODEX;
		snprintf(roots[1].path, sizeof(roots[1].path), FUZZ_ROOT "/codex");
	}
	clear_dir(dir);
	snprintf(path, sizeof(path), "%s/files.state", dir);
	f = fopen(path, "w");
	if (f == NULL || (size > 0 && fwrite(data, size, 1, f) != 1) || fclose(f) != 0) {
		abort();
	}
	sink = fopen("/dev/null", "w");
	for (int pass = 0; pass < 2; pass++) {
		project_init(&project, PROJECT_NONE, NULL, 0);
		if (scan_init(&s, &project) < 0 || scan_add_origin(&s, "u", EVENT_BILLING_API) < 0) {
			abort();
		}
		/* settle 0: pending responses are handed out on the second pass */
		(void)tail_pass(&s, roots, 2, dir, pass == 0 ? 3600 : 0, now_ms, "t", sink, &st);
		scan_finish(&s);
		project_finish(&project);
	}
	fclose(sink);
	return 0;
}
