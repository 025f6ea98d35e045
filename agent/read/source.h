/*
 * source.h: what every AI tool's reader provides, and the table of them.
 *
 * A source knows where its tool keeps its files (roots), which of the
 * files below a root it wants, how one record (a line) becomes an event
 * and what that event's dedup key is, and what it must remember between
 * two reads of one file (its cursor state, saved by the tracking engine).
 * Everything else (walking, reading lines, event ids, plausibility, the
 * ledger, settlement, saving) is shared: scan.c and track/.
 *
 * Adding a tool: one source-<tool>.c with its struct source_ops, a row in
 * source.c's table, its enum event_tool value and name, its fixtures.
 */
#ifndef AM_AGENT_SOURCE_H
#define AM_AGENT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include "blob.h"
#include "event.h"
#include "owned.h"

struct scan;
struct scan_root;
struct scan_cursor;

/* scan_file_cb: called for every wanted file a walk finds (see scan.h). */
typedef void scan_file_cb(struct scan *s, void *ctx, enum event_tool tool, const char *path,
			  const char *rel, uint16_t origin, const struct stat *st);

/* The file a record comes from. */
struct source_file {
	const char *path; /* for warnings only */
	const char *rel;  /* below the root's parent: part of some dedup keys */
	uint16_t origin;
	const struct owned *owned; /* the root's ownership rule, or NULL */
};

/*
 * One record, as a source hands it to scan_record (scan.h). Strings are
 * borrowed until scan_record returns. key_src is the source's own parse
 * result, from which its dedup_key builds the key.
 */
struct source_rec {
	int64_t ts_ms;
	uint64_t tok[EVENT_BUCKET_MAX];
	const char *model, *session, *project, *speed, *tier;
	const char *request_id; /* the API's id of the call (Claude), or NULL */
	bool sidechain; /* a sub-agent's copy (Claude) */
	bool cloud;     /* a Bedrock or Vertex model id: billed by the cloud */
	bool final;     /* final when written; else open until settled */
	/* the record's own billing mode when its file tells it (UNKNOWN: its root's) */
	enum event_billing billing;
	const void *key_src;
};

/* source_rec_usage(rec, ts_ms, tok, model): one call's time, counts and model; the rest unset. */
static inline void
source_rec_usage(struct source_rec *rec, int64_t ts_ms, const uint64_t tok[EVENT_BUCKET_MAX],
		 const char *model)
{
	memset(rec, 0, sizeof(*rec));
	rec->ts_ms = ts_ms;
	memcpy(rec->tok, tok, sizeof(rec->tok));
	rec->model = model;
}

struct source_ops {
	enum event_tool tool;
	const char *name;      /* on the wire and in reports ("claude-code") */
	const char *key;       /* in option names: --<key>-dir, [sources] <key>_dirs ("claude") */
	const char *dir_help;  /* what one of its roots is, for --help */
	const char *env;       /* the tool's own variable naming its roots ("CODEX_HOME") */
	const char *watch_dir; /* below a root, where new files appear (the daemon watches it) */
	/* the XDG base directory variable its defaults follow (NULL: "XDG_CONFIG_HOME") */
	const char *xdg_env;
	/* home_dir: its one default root, below the home directory (".qwen"), when
	 * default_roots is NULL. */
	const char *home_dir;
	/*
	 * default_roots(home, xdg_config, ret, size): the comma-separated roots
	 * under a home directory; xdg_config is the value of xdg_env, or NULL
	 * when unset or not to be used (another user's home). NULL: home_dir.
	 */
	void (*default_roots)(const char *home, const char *xdg_config, char *ret, size_t size);
	/* walk(s, root, cb, ctx): offer every wanted file under root (scan_walk_dir). */
	void (*walk)(struct scan *s, const struct scan_root *root, scan_file_cb *cb, void *ctx);
	/* wanted(name): whether a file of this name below a root is read. */
	bool (*wanted)(const char *name);
	/* whole_file: each file is one JSON document rewritten in place: read_line gets it
	 * all, from its start, whenever it changed (false: JSONL, appended). */
	bool whole_file;
	/* whole_suffix: with whole_file false, the files whose name ends so are whole documents
	 * all the same (Gemini CLI's legacy .json beside its JSONL); NULL: none. */
	const char *whole_suffix;
	/*
	 * companion(name): the suffix of a file beside name whose changes are
	 * name's too (a SQLite database's "-wal"), or NULL. The walk folds its
	 * size and mtime into name's, so the engine's unchanged test sees them.
	 */
	const char *(*companion)(const char *name);
	/*
	 * read_file(s, file, fd, cur): read a file that is no stream of lines or
	 * documents (a database) by the source itself, from where cur says;
	 * -ENOTSUP for a file that is (whole_file and read_line apply then).
	 * NULL: none. 0 or a negative errno.
	 */
	int (*read_file)(struct scan *s, const struct source_file *file, int fd,
			 struct scan_cursor *cur);
	/* prefilter(line, len): false when the line cannot matter (not even parsed). */
	bool (*prefilter)(const char *line, size_t len);
	/*
	 * read_line(s, file, line, len, off, cur): one complete line at stream
	 * offset off; counts what it skips (scan stats) and hands each record
	 * to scan_record. May update the source's state in cur.
	 */
	void (*read_line)(struct scan *s, const struct source_file *file, const char *line,
			  size_t len, uint64_t off, struct scan_cursor *cur);
	/* dedup_key(key_src, file, off, ret, size): the event's key. Length, or -1. */
	int (*dedup_key)(const void *key_src, const struct source_file *file, uint64_t off,
			 char *ret, size_t size);
	/* cursor_encode(cur, b) / cursor_decode(cur, r): the source's state in cur, no raw text a
	 * user wrote (no paths, no working directories). NULL: nothing to keep. */
	void (*cursor_encode)(const struct scan_cursor *cur, struct blob_w *b);
	void (*cursor_decode)(struct scan_cursor *cur, struct blob_r *r);
	/* billing(root, o) and account(root, o, ret, size) (may be NULL): see origin.h. */
	enum event_billing (*billing)(const char *root, const struct owned *o);
	int (*account)(const char *root, const struct owned *o, char *ret, size_t size);
};

/* source_string_key: a dedup_key for sources whose key_src is the key itself, a string. */
int source_string_key(const void *key_src, const struct source_file *file, uint64_t off, char *ret,
		      size_t size);

/* source_whole_file(src, path): whether src reads path as one whole document. */
bool source_whole_file(const struct source_ops *src, const char *path);

/* source_get(tool): the source of tool, or NULL when tool is out of range. */
const struct source_ops *source_get(enum event_tool tool);

/* The sources, one per tool, in enum event_tool order. */
extern const struct source_ops *const source_table[EVENT_TOOL_MAX];

#endif
