/* origin.c: billing mode and account of a root; see origin.h. */
#include "origin.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

/* Read a small JSON file (at most 4 MiB) and parse it into doc; buf is returned to free. */
static char *
load_json(const char *path, const struct owned *o, struct json_doc *doc)
{
	static const struct owned lenient;
	struct stat st;
	int fd = owned_open(path, o != NULL ? o : &lenient, O_RDONLY, &st);
	char *buf = NULL;

	if (fd < 0) {
		return NULL;
	}
	if (S_ISREG(st.st_mode) && st.st_size > 0 &&
	    st.st_size < (4 << 20) && (buf = malloc((size_t)st.st_size)) != NULL) {
		if (read(fd, buf, (size_t)st.st_size) != st.st_size ||
		    json_parse(doc, buf, (size_t)st.st_size) < 0) {
			free(buf);
			buf = NULL;
		}
	}
	close(fd);
	return buf;
}

/* The account file beside a root: <root>/.claude.json, or ~/.claude.json for ~/.claude. */
static char *
load_account(const char *root, const struct owned *o, struct json_doc *doc)
{
	char path[4200];
	char *buf;
	size_t n = strlen(root);

	snprintf(path, sizeof(path), "%s/.claude.json", root);
	if ((buf = load_json(path, o, doc)) != NULL) {
		return buf;
	}
	if (n >= 8 && strcmp(root + n - 8, "/.claude") == 0) {
		snprintf(path, sizeof(path), "%.*s/.claude.json", (int)(n - 8), root);
		return load_json(path, o, doc);
	}
	return NULL;
}

const char *
origin_claude_billing(const char *root, const struct owned *o)
{
	struct json_doc doc;
	char path[4200], *buf;
	const char *mode = "unknown";
	const char *e;
	/* Reading other users' homes (o set), the environment is the service's,
	 * not theirs: it says nothing about how they pay. */
	bool own_env = o == NULL;

	if (own_env && (((e = getenv("CLAUDE_CODE_USE_BEDROCK")) != NULL && strcmp(e, "1") == 0) ||
			((e = getenv("CLAUDE_CODE_USE_VERTEX")) != NULL && strcmp(e, "1") == 0))) {
		return "cloud";
	}
	json_doc_init(&doc);
	snprintf(path, sizeof(path), "%s/.credentials.json", root);
	if ((buf = load_json(path, o, &doc)) != NULL && json_get(&doc, 0, "claudeAiOauth") >= 0) {
		mode = "subscription";
	}
	free(buf);
	if (strcmp(mode, "unknown") == 0 && (buf = load_account(root, o, &doc)) != NULL) {
		if (json_type(&doc, json_get(&doc, 0, "oauthAccount")) == JSON_OBJECT) {
			mode = "subscription";
		} else if (json_type(&doc, json_get(&doc, 0, "primaryApiKey")) == JSON_STRING) {
			mode = "api";
		}
		free(buf);
	}
	if (own_env && strcmp(mode, "unknown") == 0 && (e = getenv("ANTHROPIC_API_KEY")) != NULL &&
	    e[0] != '\0') {
		mode = "api";
	}
	json_doc_finish(&doc);
	return mode;
}

const char *
origin_codex_billing(const char *home, const struct owned *o)
{
	struct json_doc doc;
	char path[4200], *buf;
	const char *mode = "unknown";

	json_doc_init(&doc);
	snprintf(path, sizeof(path), "%s/auth.json", home);
	if ((buf = load_json(path, o, &doc)) != NULL) {
		if (json_type(&doc, json_get(&doc, 0, "OPENAI_API_KEY")) == JSON_STRING) {
			mode = "api";
		} else if (json_type(&doc, json_get(&doc, 0, "tokens")) == JSON_OBJECT) {
			mode = "subscription";
		}
		free(buf);
	}
	json_doc_finish(&doc);
	return mode;
}

int
origin_claude_account(const char *root, const struct owned *o, char *ret_buf, size_t size)
{
	struct json_doc doc;
	char *buf;
	int r = -ENOENT;

	json_doc_init(&doc);
	if ((buf = load_account(root, o, &doc)) != NULL) {
		if (json_str(&doc, json_path(&doc, 0, "oauthAccount", "emailAddress", NULL), ret_buf,
			     size) > 0) {
			r = 0;
		}
		free(buf);
	}
	json_doc_finish(&doc);
	return r;
}
