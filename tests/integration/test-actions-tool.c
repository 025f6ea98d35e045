/*
 * test-actions-tool.c: batches with action records for test-collector-actions.py.
 *
 * usage: test-actions-tool batch OUT SCHEMA BATCH_SEED FILE.jsonl
 *          One zstd Batch (schema_version SCHEMA) from the lines of FILE:
 *          `aimeter-agent scan --format jsonl` lines, "record": "usage"
 *          (or none) as UsageEvent, "record": "action" as ActionRecord.
 *          A test may write a number where the agent writes a kind or
 *          decision word, to send a value no agent sends.
 *          Prints "events=N actions=M bytes=B".
 *        test-actions-tool ack FILE
 *          Prints "accepted=A duplicates=D rejected=R max_schema=S", then one
 *          "rejected INDEX REASON" line per rejection.
 *        test-actions-tool size
 *          Prints the encoded bytes of one typical edit ActionRecord.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "batch.h"
#include "hex.h"
#include "timestamp.h"

#define MAX_RECORDS 20000

static const char *const kinds[] = { "", "edit", "write", "shell", "commit", "pull_request",
				     "subagent", "skill", "mcp", "web", "other" };
static const char *const decisions[] = { "unknown", "accepted", "rejected", "error" };

static int
word_or_number(json_t *v, const char *const *words, int n)
{
	if (json_is_integer(v)) {
		return (int)json_integer_value(v);
	}
	for (int i = 0; v != NULL && json_is_string(v) && i < n; i++) {
		if (strcmp(json_string_value(v), words[i]) == 0) {
			return i;
		}
	}
	return 0;
}

static char *
str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return (char *)(json_is_string(v) ? json_string_value(v) : "");
}

static uint64_t
num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

/* Ids live as long as the tool: one slot per record. */
static uint8_t id_store[2 * MAX_RECORDS][64];
static size_t id_used;

static void
id_of(json_t *o, const char *key, ProtobufCBinaryData *out)
{
	size_t len = 0;
	uint8_t *buf = id_store[id_used++];

	if (hex_decode(str(o, key), buf, 64, &len) < 0) {
		len = 0;
	}
	out->data = buf;
	out->len = len;
}

static void
usage_from(json_t *o, am_usage_event *e)
{
	const char *mode = str(o, "billing_mode");

	aimeter__v1__usage_event__init(e);
	id_of(o, "event_id", &e->event_id);
	ts_parse_ms(str(o, "ts"), &e->ts_ms);
	e->tool = str(o, "tool");
	e->model = str(o, "model");
	e->session = str(o, "session");
	e->project = str(o, "project");
	e->user = str(o, "user");
	e->team_hint = str(o, "team_hint");
	e->billing_mode = strcmp(mode, "subscription") == 0 ? 1 : strcmp(mode, "api") == 0 ? 2 : 0;
	e->input_tokens = num(o, "input_tokens");
	e->output_tokens = num(o, "output_tokens");
	e->cache_read_tokens = num(o, "cache_read_tokens");
	/* test-otlp-dedup.py: the transcript's cache split and request id (schema 3) */
	e->cache_write_5m_tokens = num(o, "cache_write_5m_tokens");
	e->cache_write_1h_tokens = num(o, "cache_write_1h_tokens");
	e->request_id = str(o, "request_id");
}

static void
action_from(json_t *o, am_action_record *a)
{
	aimeter__v1__action_record__init(a);
	id_of(o, "action_id", &a->action_id);
	ts_parse_ms(str(o, "ts"), &a->ts_ms);
	a->tool = str(o, "tool");
	a->session = str(o, "session");
	a->project = str(o, "project");
	a->user = str(o, "user");
	a->team_hint = str(o, "team_hint");
	a->kind = word_or_number(json_object_get(o, "kind"), kinds, 11);
	a->tool_name = str(o, "tool_name");
	a->target = str(o, "target");
	a->decision = word_or_number(json_object_get(o, "decision"), decisions, 4);
	a->lines_added = (uint32_t)num(o, "lines_added");
	a->lines_removed = (uint32_t)num(o, "lines_removed");
	a->proposed_lines_added = (uint32_t)num(o, "proposed_lines_added");
	a->proposed_lines_removed = (uint32_t)num(o, "proposed_lines_removed");
	a->file_ext = str(o, "file_ext");
	a->commits = (uint32_t)num(o, "commits");
	a->pull_requests = (uint32_t)num(o, "pull_requests");
	a->in_subagent = json_is_true(json_object_get(o, "in_subagent"));
}

static int
cmd_batch(char **argv)
{
	static am_usage_event ev[MAX_RECORDS];
	static am_action_record ac[MAX_RECORDS];
	static am_usage_event *evp[MAX_RECORDS];
	static am_action_record *acp[MAX_RECORDS];
	static json_t *roots[2 * MAX_RECORDS];
	size_t n_roots = 0;
	am_batch b = AIMETER__V1__BATCH__INIT;
	uint8_t bid[16] = { 0 }, *out;
	unsigned long seed = strtoul(argv[4], NULL, 10);
	char line[1 << 16];
	size_t len;
	FILE *in = fopen(argv[5], "r"), *f;

	if (in == NULL) {
		perror(argv[5]);
		return 1;
	}
	for (int i = 0; i < 8; i++) {
		bid[i] = (uint8_t)(seed >> (8 * i));
	}
	bid[15] = 0xac;
	b.schema_version = (uint32_t)strtoul(argv[3], NULL, 10);
	b.batch_id.data = bid;
	b.batch_id.len = 16;
	b.events = evp;
	b.actions = acp;
	while (fgets(line, sizeof(line), in) != NULL) {
		json_t *o = json_loads(line, 0, NULL); /* kept: the records borrow it */
		const char *rec;

		if (o == NULL || n_roots == 2 * MAX_RECORDS) {
			json_decref(o);
			continue;
		}
		roots[n_roots++] = o;
		rec = str(o, "record");
		if (strcmp(rec, "action") == 0 && b.n_actions < MAX_RECORDS) {
			action_from(o, &ac[b.n_actions]);
			acp[b.n_actions] = &ac[b.n_actions];
			b.n_actions++;
		} else if (strcmp(rec, "action") != 0 && b.n_events < MAX_RECORDS) {
			usage_from(o, &ev[b.n_events]);
			evp[b.n_events] = &ev[b.n_events];
			b.n_events++;
		}
	}
	fclose(in);
	if (am_batch_encode(&b, &out, &len) < 0 || (f = fopen(argv[2], "wb")) == NULL) {
		return 1;
	}
	for (size_t i = 0; i < n_roots; i++) {
		json_decref(roots[i]);
	}
	fwrite(out, 1, len, f);
	fclose(f);
	free(out);
	printf("events=%zu actions=%zu bytes=%zu\n", b.n_events, b.n_actions, len);
	return 0;
}

static int
cmd_ack(char **argv)
{
	static uint8_t buf[1 << 20];
	FILE *f = fopen(argv[2], "rb");
	size_t len = f != NULL ? fread(buf, 1, sizeof(buf), f) : 0;
	Aimeter__V1__BatchAck *ack;

	if (f != NULL) {
		fclose(f);
	}
	ack = aimeter__v1__batch_ack__unpack(NULL, len, buf);
	if (ack == NULL) {
		fprintf(stderr, "not a BatchAck\n");
		return 1;
	}
	printf("accepted=%u duplicates=%u rejected=%zu max_schema=%u\n", ack->accepted,
	       ack->duplicates, ack->n_rejected, ack->max_schema_version);
	for (size_t i = 0; i < ack->n_rejected; i++) {
		printf("rejected %u %s\n", ack->rejected[i]->index, ack->rejected[i]->reason);
	}
	aimeter__v1__batch_ack__free_unpacked(ack, NULL);
	return 0;
}

/* The size of one edit record as an agent sends it (before zstd). */
static int
cmd_size(void)
{
	am_action_record a = AIMETER__V1__ACTION_RECORD__INIT;
	uint8_t id[16] = { 1 };

	a.action_id.data = id;
	a.action_id.len = 16;
	a.ts_ms = 1764000000000;
	a.tool = "claude-code";
	a.session = "0b7c9e5e-3f2a-4c51-9d7e-2a4f6b8c1d03";
	a.project = "p:3f9a1c0e5b7d2a64";
	a.user = "alice@example.com";
	a.kind = AIMETER__V1__ACTION_KIND__ACTION_KIND_EDIT;
	a.tool_name = "Edit";
	a.target = "";
	a.decision = AIMETER__V1__ACTION_DECISION__ACTION_DECISION_ACCEPTED;
	a.lines_added = 12;
	a.lines_removed = 3;
	a.proposed_lines_added = 12;
	a.proposed_lines_removed = 3;
	a.file_ext = "c";
	printf("action_record_bytes=%zu\n", aimeter__v1__action_record__get_packed_size(&a));
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "batch") == 0) {
		return cmd_batch(argv);
	}
	if (argc == 3 && strcmp(argv[1], "ack") == 0) {
		return cmd_ack(argv);
	}
	if (argc == 2 && strcmp(argv[1], "size") == 0) {
		return cmd_size();
	}
	fprintf(stderr, "usage: see the comment at the top of test-actions-tool.c\n");
	return 2;
}
