/*
 * bench-agent-json.c: the JSON parser choice, measured (docs/parsers.md).
 * Parses realistic Claude and Codex usage lines from the generator with
 * our json.c (one-pass parse and validation, extract the usage fields),
 * jansson (json_loadb + lookups) and json-c (json_tokener + lookups), and
 * prints MB/s for each; then parsing alone, one-pass against the earlier
 * jsmn-plus-validation (json_parse_jsmn); then the byte prefilter over all
 * lines, lines_has against memmem.
 * usage: bench-agent-json [--toy]
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent-test-paths.h"
#include "json.h"
#include "lines.h"
#include "source-claude.h"
#include "source-codex.h"

/* bench-agent-json-lib.c: the other parsers, in their own units (their names clash). */
double bench_jansson(char **line, const size_t *len, size_t n, int reps, volatile uint64_t *sink);
double bench_jsonc(char **line, const size_t *len, size_t n, int reps, volatile uint64_t *sink);

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct corpus {
	char **line;
	size_t *len;
	size_t n, bytes, all_bytes, all_lines;
};

static void
load(struct corpus *c, const char *dir)
{
	char cmd[8192], *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "find '%s' -name '*.jsonl' -type f | head -400 | xargs cat", dir);
	p = popen(cmd, "r");
	while (p != NULL && (n = getline(&buf, &cap, p)) > 0 && buf != NULL) {
		c->all_bytes += (size_t)n;
		c->all_lines++;
		if (memmem(buf, (size_t)n, "\"usage\"", 7) == NULL &&
		    memmem(buf, (size_t)n, "\"token_count\"", 13) == NULL) {
			continue;
		}
		char **nl = realloc(c->line, (c->n + 1) * sizeof(*c->line));
		if (nl == NULL) {
			break;
		}
		c->line = nl;
		size_t *nlen = realloc(c->len, (c->n + 1) * sizeof(*c->len));
		if (nlen == NULL) {
			break;
		}
		c->len = nlen;
		c->line[c->n] = malloc((size_t)n);
		if (c->line[c->n] == NULL) {
			break;
		}
		memcpy(c->line[c->n], buf, (size_t)n - 1); /* lines may hold NUL bytes */
		c->len[c->n] = (size_t)n - 1;
		c->bytes += (size_t)n - 1;
		c->n++;
	}
	free(buf);
	if (p != NULL) {
		pclose(p);
	}
}

int
main(int argc, char **argv)
{
	struct corpus c = {0};
	char dir[4300], cmd[9000];
	int reps = argc > 1 && strcmp(argv[1], "--toy") == 0 ? 1 : 5;
	volatile uint64_t sink = 0;
	double t;

	snprintf(dir, sizeof(dir), "/tmp/aimeter-bench-json");
	snprintf(cmd, sizeof(cmd), "test -f %s/truth.json || python3 '%s/tests/gen/gen-logs' %s --seed 3 --sessions %d >/dev/null",
		 dir, AM_SOURCE_ROOT, dir, reps == 1 ? 10 : 120);
	if (system(cmd) != 0) {
		return 1;
	}
	load(&c, dir);
	printf("%zu usage lines, %.1f MB (of %zu lines, %.1f MB); %d repetitions\n", c.n,
	       (double)c.bytes / 1e6, c.all_lines, (double)c.all_bytes / 1e6, reps);

	/* json.c, as the agent uses it */
	struct json_doc d;
	struct claude_obs *o = malloc(sizeof(*o));
	struct codex_file cf;
	struct codex_obs co;
	json_doc_init(&d);
	memset(&cf, 0, sizeof(cf));
	t = now();
	for (int r = 0; r < reps; r++) {
		for (size_t i = 0; i < c.n; i++) {
			if (claude_line_parse(&d, c.line[i], c.len[i], o) == CLAUDE_LINE_USAGE) {
				sink += o->tok[EVENT_OUTPUT];
			} else if (codex_line_parse(&d, c.line[i], c.len[i], &cf, &co) == CODEX_LINE_EVENT) {
				sink += co.tok[EVENT_OUTPUT];
			}
		}
	}
	double jsmn_s = (now() - t) / reps;
	json_doc_finish(&d);
	free(o);

	double jansson_s = bench_jansson(c.line, c.len, c.n, reps, &sink);
	double jsonc_s = bench_jsonc(c.line, c.len, c.n, reps, &sink);

	/* parsing alone: the one-pass parser and the jsmn one */
	double parse_s[2];
	json_doc_init(&d);
	for (int p = 0; p < 2; p++) {
		t = now();
		for (int r = 0; r < reps; r++) {
			for (size_t i = 0; i < c.n; i++) {
				sink += (uint64_t)(p == 0 ? json_parse(&d, c.line[i], c.len[i])
						   : json_parse_jsmn(&d, c.line[i], c.len[i]));
				sink += d.n_tok;
			}
		}
		parse_s[p] = (now() - t) / reps;
	}
	json_doc_finish(&d);

	/* the prefilter over every line */
	double pre_s[2];
	size_t hits = 0;
	for (int p = 0; p < 2; p++) {
		t = now();
		for (int r = 0; r < reps; r++) {
			for (size_t i = 0; i < c.n; i++) {
				hits += p == 0 ? lines_has(c.line[i], c.len[i], "\"usage\"", 7)
					       : memmem(c.line[i], c.len[i], "\"usage\"", 7) != NULL;
			}
		}
		pre_s[p] = (now() - t) / reps;
	}

	double mb = (double)c.bytes / 1e6;
	printf("%-28s %9s %9s\n", "parser (usage lines only)", "MB/s", "vs agent");
	printf("%-28s %9.0f %8.2fx\n", "json.c + fields (agent)", mb / jsmn_s, 1.0);
	printf("%-28s %9.0f %8.2fx\n", "jansson 2.14", mb / jansson_s, jansson_s / jsmn_s);
	printf("%-28s %9.0f %8.2fx\n", "json-c 0.16", mb / jsonc_s, jsonc_s / jsmn_s);
	printf("%-28s %9.0f %8.2fx\n", "json_parse alone", mb / parse_s[0], parse_s[0] / jsmn_s);
	printf("%-28s %9.0f %8.2fx\n", "json_parse_jsmn alone", mb / parse_s[1], parse_s[1] / jsmn_s);
	printf("%-28s %9.0f\n", "lines_has prefilter", mb / pre_s[0]);
	printf("%-28s %9.0f\n", "memmem prefilter", mb / pre_s[1]);
	printf("(checksum %llu, %zu prefilter hits)\n", (unsigned long long)sink, hits);
	for (size_t i = 0; i < c.n; i++) {
		free(c.line[i]);
	}
	free(c.line);
	free(c.len);
	return 0;
}
