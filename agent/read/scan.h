/*
 * scan.h: finding the AI tools' files and reading them into the ledger.
 *
 * A scan walks every root as its source says (source.h), never follows a
 * symlink loop, reads a file reached twice only once, and feeds every
 * complete line through the tool's source into the ledger. Bad input
 * (invalid JSON, garbage, over-long lines, unreadable or vanishing files,
 * corrupt .zst) is counted per kind and warned about, naming the file, at
 * most SCAN_WARN_PER_FILE times per file and SCAN_WARN_MAX times per run.
 */
#ifndef AM_AGENT_SCAN_H
#define AM_AGENT_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "action.h"
#include "event.h"
#include "owned.h"
#include "json.h"
#include "ledger.h"
#include "project.h"
#include "source.h"

#define SCAN_WARN_PER_FILE 3
#define SCAN_WARN_MAX 50

enum scan_stat {
	SCAN_FILES,          /* files read */
	SCAN_BYTES,          /* bytes read (decompressed for .zst) */
	SCAN_LINES,          /* complete lines seen */
	SCAN_USAGE_LINES,    /* lines that became observations */
	SCAN_INVALID_JSON,   /* lines that passed the prefilter but are not JSON */
	SCAN_BAD_LINES,      /* usage lines with a bad timestamp or counter */
	SCAN_LONG_LINES,     /* lines over the maximum, skipped */
	SCAN_SYNTHETIC,      /* <synthetic> model lines, not usage */
	SCAN_API_ERRORS,     /* isApiErrorMessage lines, not usage */
	SCAN_CODEX_UNCHANGED, /* token_count re-emits (zero) */
	SCAN_CODEX_INFO_NULL, /* token_count with info null */
	SCAN_CODEX_REPLAY,   /* parent history replayed in sub-agent files */
	SCAN_CODEX_NO_MODEL, /* events before any turn_context: model unknown */
	SCAN_TORN_TAILS,     /* files ending in an incomplete line (left for later) */
	SCAN_UNREADABLE,     /* files or directories that could not be opened or read */
	SCAN_CORRUPT_ZSTD,   /* .zst files that did not decompress */
	SCAN_LOOPS,          /* symlink loops and repeated directories skipped */
	SCAN_UNSAFE,         /* symbolic links not followed (all-users mode) */
	SCAN_FOREIGN,        /* files or directories owned by another user (all-users mode) */
	SCAN_IMPLAUSIBLE,    /* usage lines with a timestamp or count no call can have */
	SCAN_STAT_MAX
};

/* Who the events of a root belong to: user identity and billing mode. */
struct scan_origin {
	char user[256];
	enum event_billing billing;
	int cloud_origin; /* index + 1 of its "cloud" twin, for Bedrock/Vertex model ids */
};

#define SCAN_MAX_ORIGINS 4096

/* Bytes of a source's running state in a cursor: the largest one's (Codex; each asserts it fits). */
#define SCAN_CURSOR_STATE 3392

/*
 * Where a read of one file stopped, and what it needs to continue (see
 * track.h). state belongs to the file's source (source_ops.cursor_encode);
 * zeroed, it is the state of a file read from its start.
 */
struct scan_cursor {
	uint64_t offset;     /* stream offset after the last complete line */
	bool has_open;       /* a response that may still grow (not final when written) */
	uint8_t open_id[16];
	_Alignas(16) unsigned char state[SCAN_CURSOR_STATE];
};

/* scan_cursor_reset(cur): the cursor of a file read from its start. */
void scan_cursor_reset(struct scan_cursor *cur);

struct request_ids;

struct scan {
	struct ledger ledger;
	struct json_doc doc;
	struct project *project; /* borrowed */
	struct action_table *actions; /* borrowed; NULL: tool calls are not read */
	struct request_ids *request_ids; /* borrowed; NULL: request ids are not kept */
	struct scan_origin *origins;
	size_t n_origins;
	uint64_t stat[SCAN_STAT_MAX];
	int64_t since_ms;   /* only files modified since (INT64_MIN: all) */
	size_t max_line;
	bool settle_all;    /* mark every record settled (one-shot scan) */
	unsigned warnings;  /* printed so far */
	/* identities of files and directories already visited */
	uint64_t *seen;     /* pairs (dev, ino), open addressing; 0,0 = empty */
	size_t n_seen, cap_seen;
	/* the last event id computed, reused for the next snapshot of the same response */
	enum event_tool last_tool;
	size_t last_key_len;
	char last_key[512];
	uint8_t last_id[16];
	/* the file being read, for warnings */
	const char *cur_path;
	unsigned cur_warnings;
	/* the file a walk offers to its callback, for scan_open */
	struct {
		bool active;
		int dirfd;
		const char *path, *name;
		const struct owned *owned;
	} offer;
};

/* scan_init(s, project): project (borrowed) labels projects. 0 or -ENOMEM. */
int scan_init(struct scan *s, struct project *project);

/* scan_finish(s): free; accepts a zeroed struct. */
void scan_finish(struct scan *s);

/* scan_add_origin(s, user, billing): register an origin; returns its index or -ENOMEM. */
int scan_add_origin(struct scan *s, const char *user, enum event_billing billing);

/*
 * scan_walk_one(s, tool, path, origin, cb, ctx): call cb for every file
 * of tool's source under the root path (see scan_walk_all). Files already
 * visited in this scan are not offered again.
 */
void scan_walk_one(struct scan *s, enum event_tool tool, const char *path, uint16_t origin,
		   scan_file_cb *cb, void *ctx);

/*
 * scan_read(s, tool, path, rel, origin, fd, zstd, cur): read fd (borrowed,
 * positioned at cur->offset unless zstd, which always starts at 0) to its
 * end, each line through tool's source, merging observations into the
 * ledger, and advance cur. A whole-document source's file
 * (source_ops.whole_file) is read from its start, as one record. Returns 0, or
 * a negative errno when the file failed mid-way (what was read still counts).
 */
int scan_read(struct scan *s, enum event_tool tool, const char *path, const char *rel,
	      uint16_t origin, int fd, bool zstd, struct scan_cursor *cur);

/*
 * A root to walk: a Claude config root or a CODEX_HOME, and whose it is.
 * owned.strict (all-users mode): nothing below the home directory is
 * followed if it is a symbolic link or read if another user owns it (see
 * owned.h); such entries are skipped and counted (SCAN_UNSAFE,
 * SCAN_FOREIGN). A zeroed owned (a user reading their own files) follows
 * links as the tools themselves would.
 */
struct scan_root {
	enum event_tool tool;
	char path[4096];
	uint16_t origin;
	struct owned owned;
};

/*
 * scan_root_own(root, uid, home): make root strict (all-users mode): its
 * files must be uid's, and nothing is followed below home, or below the
 * root itself when it lies outside home (configured by the administrator).
 */
void scan_root_own(struct scan_root *root, uid_t uid, const char *home);

/* scan_walk_all(s, roots, n, cb, ctx): walk every root in order, each by its source. */
void scan_walk_all(struct scan *s, const struct scan_root *roots, size_t n, scan_file_cb *cb,
		   void *ctx);

/*
 * scan_walk_dir(s, root, parent, sub, cb, ctx): for a source's walk: offer
 * every file its source wants below parent/sub, recursively; rel paths
 * start at sub. A missing directory is not an error.
 */
void scan_walk_dir(struct scan *s, const struct scan_root *root, const char *parent,
		   const char *sub, scan_file_cb *cb, void *ctx);

/*
 * scan_walk_top(s, root, parent, sub, cb, ctx): scan_walk_dir without
 * entering subdirectories: the wanted files directly in parent/sub ("" for
 * parent itself).
 */
void scan_walk_top(struct scan *s, const struct scan_root *root, const char *parent,
		   const char *sub, scan_file_cb *cb, void *ctx);

/*
 * scan_record(s, tool, file, off, cur, rec): a source's record at stream
 * offset off becomes an observation in the ledger: checked for
 * plausibility, keyed (the source's dedup_key) and merged. A record not
 * final when written stays open in cur until a later record of the file
 * belongs to another response. Returns whether it was taken.
 */
bool scan_record(struct scan *s, enum event_tool tool, const struct source_file *file,
		 uint64_t off, struct scan_cursor *cur, const struct source_rec *rec);

/* What a source does with a line it does not take: count it (stat), and warn (warn). */
struct scan_skip {
	bool counted;
	enum scan_stat stat;
	const char *warn; /* "invalid JSON line": " at byte N" follows; NULL: no warning */
};

/* scan_skip(s, file, off, skip): count and warn about the line at off as skip says. */
void scan_skip(struct scan *s, const struct source_file *file, uint64_t off,
	       const struct scan_skip *skip);

/* scan_name_ends(s, suffix), scan_is_zstd(path): file name tests for sources and readers. */
bool scan_name_ends(const char *s, const char *suffix);
bool scan_is_zstd(const char *path);

/*
 * scan_open(s, path): open a file a walk offers to its scan_file_cb: from
 * the directory the walk holds open (the path is not resolved again),
 * under the root's ownership rule. Outside a callback, path as it is.
 * Refusals and failures other than ENOENT are counted and warned about.
 * Returns a descriptor or a negative errno.
 */
int scan_open(struct scan *s, const char *path);

/* scan_offer_owned(s): the ownership rule of the file being offered, or NULL outside a walk. */
const struct owned *scan_offer_owned(const struct scan *s);

/* scan_read_all_cb: a scan_file_cb that reads each file whole (one-shot scan). */
void scan_read_all_cb(struct scan *s, void *ctx, enum event_tool tool, const char *path,
		      const char *rel, uint16_t origin, const struct stat *st);

/* scan_warn(s, path, fmt, ...): a rate-limited warning about a file. */
void scan_warn(struct scan *s, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* scan_stat_name(st): a short name for a counter. */
const char *scan_stat_name(enum scan_stat st);

/* scan_print_stats(s): one summary line per non-zero problem counter, to stderr. */
void scan_print_stats(const struct scan *s);

#endif
