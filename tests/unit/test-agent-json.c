/*
 * test-agent-json.c: what counts as JSON, lookups, escapes, null as absent,
 * and the one-pass parser against the jsmn one on mutated fixture lines.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>

#include "agent-test-paths.h"
#include "json.h"
#include "test.h"

/* the token layout only: json.c compiles jsmn's code */
#define JSMN_HEADER
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

static int
parse(struct json_doc *d, const char *s)
{
	return json_parse(d, s, strlen(s));
}

TEST(validity)
{
	struct json_doc d;
	static const char *const bad[] = {
		"", "{", "{\"a\":1", "{\"a\" 1}", "{\"a\":tru}", "{\"a\":01}", "{\"a\":1.}",
		"{\"a\":1} x", "{\"a\":1}{}", "{1:2}", "{\"a\":\"\x01\"}", "{\"a\":\"\\x\"}",
		"{\"a\":1 \"b\":2}", "[1,]x", "nul", "{\"a\":-}",
	};
	static const char *const good[] = {
		"{}", " {\"a\":1}\r", "{\"a\":[1,2,{\"b\":null}],\"c\":\"\\u00e9\\n\"}", "[true,false]",
		"{\"a\":-1.5e+3}",
	};

	json_doc_init(&d);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&d, bad[i]) == 0) {
			TEST_FAIL_("accepted invalid JSON: %s", bad[i]);
		}
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (parse(&d, good[i]) != 0) {
			TEST_FAIL_("rejected valid JSON: %s", good[i]);
		}
	}
	json_doc_finish(&d);
}

TEST(lookups_ignore_text_in_strings)
{
	struct json_doc d;
	uint64_t v = 0;
	char buf[64];

	json_doc_init(&d);
	ASSERT_EQ(parse(&d, "{\"t\":\"\\\"usage\\\":{\\\"x\\\":1}\",\"m\":{\"usage\":{\"x\":7,\"n\":null}},"
			    "\"usage\":[1]}"),
		  0);
	ASSERT_EQ(json_u64(&d, json_path(&d, 0, "m", "usage", "x", NULL), &v), 1);
	ASSERT_UINT_EQ(v, 7);
	ASSERT_EQ(json_u64(&d, json_path(&d, 0, "m", "usage", "n", NULL), &v), 0); /* null */
	ASSERT_EQ(json_u64(&d, json_path(&d, 0, "m", "usage", "zz", NULL), &v), 0); /* absent */
	ASSERT_EQ(json_type(&d, json_get(&d, 0, "usage")), JSON_ARRAY);
	ASSERT_EQ(json_str(&d, json_get(&d, 0, "t"), buf, sizeof(buf)), 15);
	ASSERT_STR_EQ(buf, "\"usage\":{\"x\":1}");
	ASSERT_EQ(parse(&d, "{\"a\":-1,\"b\":1.5,\"c\":18446744073709551616,\"d\":\"s\"}"), 0);
	ASSERT_EQ(json_u64(&d, json_get(&d, 0, "a"), &v), -EINVAL);
	ASSERT_EQ(json_u64(&d, json_get(&d, 0, "b"), &v), -EINVAL);
	ASSERT_EQ(json_u64(&d, json_get(&d, 0, "c"), &v), -EINVAL);
	ASSERT_EQ(json_u64(&d, json_get(&d, 0, "d"), &v), -EINVAL);
	json_doc_finish(&d);
}

TEST(escapes_and_keys)
{
	struct json_doc d;
	char buf[64];

	json_doc_init(&d);
	ASSERT_EQ(parse(&d, "{\"\\u0075sage\":\"\\ud83d\\ude00\\/\",\"k\":\"\"}"), 0);
	ASSERT_GE(json_get(&d, 0, "usage"), 0); /* escaped key still matches */
	ASSERT_EQ(json_str(&d, json_get(&d, 0, "usage"), buf, sizeof(buf)), 5);
	ASSERT_STR_EQ(buf, "\xf0\x9f\x98\x80/");
	ASSERT_EQ(json_str(&d, json_get(&d, 0, "k"), buf, sizeof(buf)), 0); /* "" is a value */
	ASSERT_EQ(json_str(&d, json_get(&d, 0, "k"), buf, 0), -ENAMETOOLONG);
	json_doc_finish(&d);
}

TEST(many_tokens)
{
	struct json_doc d;
	size_t n = 200000;
	char *s = malloc(n * 2 + 16);
	size_t o = 0;

	s[o++] = '[';
	for (size_t i = 0; i < n; i++) {
		s[o++] = '1';
		s[o++] = ',';
	}
	s[o - 1] = ']';
	json_doc_init(&d);
	ASSERT_EQ(json_parse(&d, s, o), 0);
	ASSERT_EQ(d.n_tok, n + 1);
	json_doc_finish(&d);
	free(s);
}

/* What jsmn alone accepts and RFC 8259 does not. */
TEST(strict)
{
	struct json_doc d;
	static const char *const bad[] = {
		"{\"a\":1,}", "[1,]", "[1,2 , ]", "{\"a\":{\"b\":[]},}", "[,1]", "[1,,2]",
		"[1 2]", "{\"a\":1 \"b\":2}", "{\"a\"::1}", "{\"a\":1,,\"b\":2}", "{,\"a\":1}",
		"[\"a\":1]", ",[1]", "[1]]", "{\"a\":\"x\ty\"}", "{\"a\":\"x\ry\"}",
		"{\"a\":\"x\ny\"}", "[\"tab\tinside a string long enough to be skipped\"]",
		"[\"bad escape \\q in a string long enough to be skipped\"]",
		"[\"bad \\u12G4 escape in a string long enough to be skipped\"]",
		"[\"no end, and long enough to be skipped by the pre-scan]",
		"[\"a\" \"long enough to be skipped by the pre-scan\"]",
	};
	static const char *const good[] = {
		"[ 1 , 2 ]", "{ \"a\" : 1 , \"b\" : [ ] }\t", "\t[\r\n]", "[\"x\\ty\\r\"]",
		"[{},[],\"\",0,-0.5,1e3]",
	};
	char buf[8], line[256];
	int sep = 0;

	json_doc_init(&d);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(&d, bad[i]) == 0) {
			TEST_FAIL_("accepted invalid JSON: %s", bad[i]);
		}
	}
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (parse(&d, good[i]) != 0) {
			TEST_FAIL_("rejected valid JSON: %s", good[i]);
		}
	}
	/* a NUL byte inside or outside a string */
	ASSERT_EQ(json_parse(&d, "[\"a\0b\"]", 7), -EINVAL);
	ASSERT_EQ(json_parse(&d, "[1]\0", 4), -EINVAL);
	/* every separator position, one at a time, in a long line */
	for (sep = 0; sep < 3; sep++) {
		snprintf(line, sizeof(line), "{\"k\":\"%s\"%s\"n\":[1%s]}",
			 "a long string value that jsmn never sees", sep == 0 ? ",," : ",",
			 sep == 1 ? ",2," : ",2");
		ASSERT_EQ(parse(&d, line), sep == 2 ? 0 : -EINVAL);
	}
	ASSERT_EQ(json_str(&d, json_path(&d, 0, "k", NULL), buf, sizeof(buf)), -ENAMETOOLONG);
	json_doc_finish(&d);
}

/* Long strings are hidden from jsmn: their tokens must still point into the line. */
TEST(long_strings_keep_offsets)
{
	struct json_doc d;
	char big[300], line[1024], buf[512];
	uint64_t v = 0;
	int got[3];
	static const char *const keys[] = {"after", "a_key_that_is_long_enough_to_be_skipped", "zz"};

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[10] = '\\';
	big[11] = '"'; /* an escaped quote inside the long string */
	snprintf(line, sizeof(line),
		 "{\"t\":\"%s\",\"m\":{\"content\":[{\"text\":\"%s \\\"usage\\\":{}\"}],"
		 "\"usage\":{\"x\":7}},\"a_key_that_is_long_enough_to_be_skipped\":\"0123456789"
		 "abcdefghij\",\"after\":42}",
		 big, big);
	json_doc_init(&d);
	ASSERT_EQ(parse(&d, line), 0);
	ASSERT_EQ(json_u64(&d, json_path(&d, 0, "m", "usage", "x", NULL), &v), 1);
	ASSERT_UINT_EQ(v, 7);
	json_get_many(&d, 0, keys, 3, got);
	ASSERT_EQ(json_u64(&d, got[0], &v), 1);
	ASSERT_UINT_EQ(v, 42);
	ASSERT_EQ(json_str(&d, got[1], buf, sizeof(buf)), 20);
	ASSERT_STR_EQ(buf, "0123456789abcdefghij");
	ASSERT_EQ(got[2], -1);
	ASSERT_EQ(json_str(&d, json_get(&d, 0, "t"), buf, sizeof(buf)), (int)strlen(big) - 1);
	ASSERT_EQ(buf[10], '"');
	ASSERT_EQ(buf[11], 'x');
	/* text that looks like a field, inside a long string, is not one */
	ASSERT_EQ(json_get(&d, json_path(&d, 0, "m", NULL), "text"), -1);
	json_doc_finish(&d);
}

/* An escaped key anywhere switches lookups to decoded comparison. */
TEST(escaped_keys_many)
{
	struct json_doc d;
	static const char *const keys[] = {"type", "usage", "id"};
	int got[3];

	json_doc_init(&d);
	ASSERT_EQ(parse(&d, "{\"id\":1,\"typ\\u0065\":2,\"usage\":3,\"id\":4}"), 0);
	json_get_many(&d, 0, keys, 3, got);
	ASSERT_EQ(got[0], 4);
	ASSERT_EQ(got[1], 6);
	ASSERT_EQ(got[2], 8); /* the last of a duplicated key */
	json_doc_finish(&d);
}

/* A key counts only as a direct member: not deeper, not inside a string. */
TEST(same_keys_deeper_and_in_strings)
{
	struct json_doc d;
	uint64_t v = 0;
	static const char *const keys[] = {"usage", "id", "model"};
	int got[3];

	json_doc_init(&d);
	ASSERT_EQ(parse(&d, "{\"content\":[{\"usage\":{\"id\":1}},\"\\\"model\\\":\\\"x\\\"\"],"
			    "\"m\":{\"usage\":{\"usage\":5},\"id\":\"deep\"},"
			    "\"text\":\"{\\\"usage\\\":{\\\"id\\\":9}}\",\"id\":\"top\"}"),
		  0);
	json_get_many(&d, 0, keys, 3, got);
	ASSERT_EQ(got[0], -1);
	ASSERT(json_str_eq(&d, got[1], "top"));
	ASSERT_EQ(got[2], -1);
	ASSERT_EQ(json_u64(&d, json_path(&d, 0, "m", "usage", "usage", NULL), &v), 1);
	ASSERT_UINT_EQ(v, 5);
	ASSERT(json_str_eq(&d, json_path(&d, 0, "m", "id", NULL), "deep"));
	json_doc_finish(&d);
}

/* A torn line is never a record: no prefix of a usage line parses. */
TEST(truncated_lines)
{
	struct json_doc d;
	static const char line[] =
		"{\"type\":\"assistant\",\"message\":{\"id\":\"msg_\\u00e9\",\"content\":[{\"text\":"
		"\"a \\\"quoted\\\" back\\\\slash\"}],\"usage\":{\"input_tokens\":12,"
		"\"cache_creation\":{\"ephemeral_5m_input_tokens\":0}}},\"timestamp\":\"2026-01-01\"}";

	json_doc_init(&d);
	for (size_t n = 0; n < sizeof(line) - 1; n++) {
		if (json_parse(&d, line, n) == 0) {
			TEST_FAIL_("accepted a prefix of %zu bytes", n);
		}
	}
	ASSERT_EQ(json_parse(&d, line, sizeof(line) - 1), 0);
	json_doc_finish(&d);
}

/* Both parsers accept the same bytes and give the same tokens. */
static void
same_as_jsmn(struct json_doc *fast, struct json_doc *ref, const char *js, size_t len)
{
	int a = json_parse(fast, js, len), b = json_parse_jsmn(ref, js, len);

	if ((a == 0) != (b == 0)) {
		TEST_FAIL_("json_parse %d, json_parse_jsmn %d on: %.*s", a, b, (int)len, js);
		return;
	}
	if (a != 0) {
		return;
	}
	if (fast->n_tok != ref->n_tok || fast->key_escapes != ref->key_escapes) {
		TEST_FAIL_("%u tokens against %u on: %.*s", fast->n_tok, ref->n_tok, (int)len, js);
		return;
	}
	for (unsigned i = 0; i < fast->n_tok; i++) {
		const jsmntok_t *x = (const jsmntok_t *)fast->tok + i;
		const jsmntok_t *y = (const jsmntok_t *)ref->tok + i;
		if (x->type != y->type || x->start != y->start || x->end != y->end ||
		    x->size != y->size || x->parent != y->parent) {
			TEST_FAIL_("token %u differs on: %.*s", i, (int)len, js);
			return;
		}
	}
}

/* Every line of one fixture file, cut short and with bytes replaced. */
static void
mutate_file(struct json_doc *fast, struct json_doc *ref, const char *path)
{
	static const char subst[] = {'"', '\\', '{', '}', '[', ']', ',', ':', ' ', '0', 'u', '\x01'};
	FILE *f = fopen(path, "r");
	char *line = NULL, *m;
	size_t cap = 0;
	ssize_t n;

	ASSERT(f != NULL);
	while ((n = getline(&line, &cap, f)) > 0) {
		size_t len = (size_t)n - (line[n - 1] == '\n');
		size_t step = len / 48 + 1;
		same_as_jsmn(fast, ref, line, len);
		for (size_t k = 0; k < len; k += step) {
			same_as_jsmn(fast, ref, line, k);
		}
		m = malloc(len + 1);
		ASSERT(m != NULL);
		for (size_t k = 0; k < len; k += step * 2) {
			for (size_t c = 0; c < sizeof(subst); c++) {
				memcpy(m, line, len);
				m[k] = subst[c];
				same_as_jsmn(fast, ref, m, len);
			}
		}
		free(m);
	}
	free(line);
	fclose(f);
}

static void
mutate_dir(struct json_doc *fast, struct json_doc *ref, const char *dir, unsigned *n_files)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	char path[4096];

	ASSERT(dh != NULL);
	while ((e = readdir(dh)) != NULL) {
		if (e->d_name[0] == '.') {
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			mutate_dir(fast, ref, path, n_files);
		} else if (strstr(e->d_name, ".jsonl") != NULL && strstr(e->d_name, ".zst") == NULL) {
			mutate_file(fast, ref, path);
			(*n_files)++;
		}
	}
	closedir(dh);
}

TEST(onepass_matches_jsmn)
{
	struct json_doc fast, ref;
	unsigned n_files = 0;

	json_doc_init(&fast);
	json_doc_init(&ref);
	mutate_dir(&fast, &ref, AM_FIXTURES "/claude", &n_files);
	mutate_dir(&fast, &ref, AM_FIXTURES "/codex", &n_files);
	ASSERT_GE(n_files, 10);
	/* the edges the grammar has */
	static const char *const edges[] = {
		"123", "123 ", "\"abc\"", " \"abc\" ", "true", "null\t", "[1]x", "{\"a\":1}}",
		"{\"a\":[1}", "{\"a\":{]}", "[1e]", "[-]", "[01]", "[1.]", "[.5]", "[truex]",
		"{\"a\\u0062\":1,\"ab\":2}", "{\"k\\\"\":1}", "[\"\\ud83d\\ude00\"]", "{\"a\" :[ ] , \"b\":{ }}",
	};
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		same_as_jsmn(&fast, &ref, edges[i], strlen(edges[i]));
	}
	json_doc_finish(&fast);
	json_doc_finish(&ref);
}

int
main(void)
{
	RUN(validity);
	RUN(lookups_ignore_text_in_strings);
	RUN(escapes_and_keys);
	RUN(many_tokens);
	RUN(strict);
	RUN(long_strings_keep_offsets);
	RUN(escaped_keys_many);
	RUN(same_keys_deeper_and_in_strings);
	RUN(truncated_lines);
	RUN(onepass_matches_jsmn);
	return 0;
}
