/*
 * fuzz-agent-json-diff.c: json_parse (the one-pass parser) against
 * json_parse_jsmn (jsmn plus validation) on the same bytes: both accept or
 * both reject, and when they accept, the tokens (types, offsets, sizes,
 * parent links) and the escaped-key flag are the same, so every lookup
 * answers the same. Each line is tried, then the whole input as one value.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* the token layout only: json.c compiles jsmn's code */
#define JSMN_HEADER
#define JSMN_STRICT
#define JSMN_PARENT_LINKS
#include <jsmn.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
same(struct json_doc *fast, struct json_doc *ref, const char *js, size_t len)
{
	int a = json_parse(fast, js, len), b = json_parse_jsmn(ref, js, len);

	if ((a == 0) != (b == 0)) {
		fprintf(stderr, "json_parse %d, json_parse_jsmn %d on: %.*s\n", a, b, (int)len, js);
		abort();
	}
	if (a != 0) {
		return;
	}
	if (fast->n_tok != ref->n_tok || fast->key_escapes != ref->key_escapes) {
		fprintf(stderr, "%u tokens (escaped keys %d) against %u (%d) on: %.*s\n", fast->n_tok,
			fast->key_escapes, ref->n_tok, ref->key_escapes, (int)len, js);
		abort();
	}
	for (unsigned i = 0; i < fast->n_tok; i++) {
		const jsmntok_t *x = (const jsmntok_t *)fast->tok + i, *y = (const jsmntok_t *)ref->tok + i;
		if (x->type != y->type || x->start != y->start || x->end != y->end ||
		    x->size != y->size || x->parent != y->parent) {
			fprintf(stderr, "token %u differs on: %.*s\n", i, (int)len, js);
			abort();
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_doc fast, ref;
	const char *p = (const char *)data;
	size_t start = 0;

	json_doc_init(&fast);
	json_doc_init(&ref);
	for (size_t i = 0; i <= size; i++) {
		if (i == size || p[i] == '\n') {
			same(&fast, &ref, p + start, i - start);
			start = i + 1;
		}
	}
	same(&fast, &ref, p, size);
	json_doc_finish(&fast);
	json_doc_finish(&ref);
	return 0;
}
