/*
 * lines.h: complete lines from a file, plain or zstd-compressed, in a
 * bounded buffer. A line is complete only when its newline has been read;
 * the bytes after the last newline (a torn last line) are left for the next
 * pass. Lines longer than the maximum are skipped whole and reported.
 */
#ifndef AM_AGENT_LINES_H
#define AM_AGENT_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LINES_CHUNK (256u * 1024u)
#define LINES_MAX_DEFAULT (16u * 1024u * 1024u)

struct lines {
	int fd;          /* borrowed */
	void *zstd;      /* ZSTD_DCtx when reading a .zst file, else NULL */
	uint8_t *zin;    /* compressed input buffer */
	size_t zin_len, zin_pos;
	bool zdone;      /* compressed input at EOF */
	bool zframe_open; /* inside an unfinished frame */
	char *buf;       /* owned: [0, len) holds unconsumed bytes */
	size_t len, pos, cap, max_line;
	bool eof;
	bool skipping;   /* inside an over-long line, dropping bytes to its newline */
	uint64_t skip_start; /* stream offset where that line starts */
	uint64_t offset; /* stream offset of buf[pos]: bytes consumed through complete lines */
	uint64_t bytes_read;
	int error;       /* 0, or negative errno after a read or zstd error */
};

/*
 * lines_init(l, fd, zstd, start_offset, max_line): read fd (borrowed) from
 * its current position, which is start_offset in the stream. zstd selects
 * decompression. Returns 0 or -ENOMEM.
 */
int lines_init(struct lines *l, int fd, bool zstd, uint64_t start_offset, size_t max_line);

/* lines_finish(l): free; accepts a zeroed or half-built reader. */
void lines_finish(struct lines *l);

/*
 * lines_next(l, ret_line, ret_len, ret_offset): the next complete line
 * (without its newline; not NUL-terminated; valid until the next call) and
 * the stream offset where it starts. Returns 1 for a line, 0 at the end
 * (l->offset then ends the last complete line), 2 for a line that was too
 * long and skipped (ret_len is its length), or a negative errno (l->error).
 */
int lines_next(struct lines *l, const char **ret_line, size_t *ret_len, uint64_t *ret_offset);

/*
 * lines_has(line, len, needle, n): whether needle (n bytes) occurs in line,
 * the sources' prefilter. memmem, sixteen candidate positions at a time:
 * every line is searched, and most lines are long text without the needle.
 */
bool lines_has(const char *line, size_t len, const char *needle, size_t n);

#endif
