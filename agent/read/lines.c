/* lines.c: bounded line reader over plain and zstd files; see lines.h. */
#define _GNU_SOURCE /* memmem */
#include "lines.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zstd.h>
#if defined(__SSE2__)
#include <emmintrin.h> /* baseline on x86-64 */
#endif

int
lines_init(struct lines *l, int fd, bool zstd, uint64_t start_offset, size_t max_line)
{
	memset(l, 0, sizeof(*l));
	l->fd = fd;
	l->offset = start_offset;
	l->max_line = max_line ? max_line : LINES_MAX_DEFAULT;
	l->cap = LINES_CHUNK;
	l->buf = malloc(l->cap);
	if (l->buf == NULL) {
		return -ENOMEM;
	}
	if (zstd) {
		l->zstd = ZSTD_createDCtx();
		l->zin = malloc(ZSTD_DStreamInSize());
		if (l->zstd == NULL || l->zin == NULL) {
			lines_finish(l);
			return -ENOMEM;
		}
		/* Bound the window a hostile frame may ask for (128 MiB). */
		if (ZSTD_isError(ZSTD_DCtx_setParameter(l->zstd, ZSTD_d_windowLogMax, 27))) {
			lines_finish(l);
			return -EINVAL;
		}
	}
	return 0;
}

void
lines_finish(struct lines *l)
{
	if (l == NULL) {
		return;
	}
	ZSTD_freeDCtx(l->zstd);
	free(l->zin);
	free(l->buf);
	l->zstd = NULL;
	l->zin = NULL;
	l->buf = NULL;
}

static ssize_t
read_fd(int fd, void *p, size_t n)
{
	ssize_t r;

	do {
		r = read(fd, p, n);
	} while (r < 0 && errno == EINTR);
	return r;
}

/* Append up to room bytes of stream data at buf[len]. Returns bytes, 0 at EOF, or -errno. */
static ssize_t
fill(struct lines *l, size_t room)
{
	if (l->zstd == NULL) {
		ssize_t r = read_fd(l->fd, l->buf + l->len, room);
		return r < 0 ? -errno : r;
	}
	for (;;) {
		ZSTD_inBuffer in = {l->zin, l->zin_len, l->zin_pos};
		ZSTD_outBuffer out = {l->buf + l->len, room, 0};
		size_t z;

		if (l->zin_pos == l->zin_len && !l->zdone) {
			ssize_t r = read_fd(l->fd, l->zin, ZSTD_DStreamInSize());
			if (r < 0) {
				return -errno;
			}
			if (r == 0) {
				l->zdone = true;
			}
			l->zin_len = (size_t)r;
			l->zin_pos = 0;
			in.size = l->zin_len;
			in.pos = 0;
		}
		if (l->zdone && l->zin_pos == l->zin_len) {
			/* A frame cut short is a corrupt file, not an end. */
			return l->zframe_open ? -EBADMSG : 0;
		}
		z = ZSTD_decompressStream(l->zstd, &out, &in);
		l->zin_pos = in.pos;
		if (ZSTD_isError(z)) {
			return -EBADMSG;
		}
		l->zframe_open = z != 0;
		if (out.pos > 0) {
			return (ssize_t)out.pos;
		}
	}
}

int
lines_next(struct lines *l, const char **ret_line, size_t *ret_len, uint64_t *ret_offset)
{
	size_t scan_from = l->pos;

	for (;;) {
		char *nl = memchr(l->buf + scan_from, '\n', l->len - scan_from);
		if (nl != NULL) {
			size_t start = l->pos, n = (size_t)(nl - (l->buf + start));
			*ret_offset = l->offset;
			l->pos = (size_t)(nl - l->buf) + 1;
			l->offset += n + 1;
			if (l->skipping || n > l->max_line) {
				l->skipping = false;
				*ret_len = n;
				return 2;
			}
			*ret_line = l->buf + start;
			*ret_len = n;
			return 1;
		}
		if (l->eof || l->error != 0) {
			return l->error != 0 ? l->error : 0;
		}
		/* Keep the partial line: move it to the front, grow if needed. */
		if (l->pos > 0) {
			memmove(l->buf, l->buf + l->pos, l->len - l->pos);
			l->len -= l->pos;
			l->pos = 0;
		}
		scan_from = l->len;
		if (l->len >= l->max_line) {
			/* Too long: drop what we hold, keep counting its bytes. */
			if (!l->skipping) {
				l->skip_start = l->offset;
			}
			l->skipping = true;
			l->offset += l->len;
			l->len = 0;
			scan_from = 0;
		}
		if (l->cap - l->len < LINES_CHUNK / 2 && l->cap < l->max_line + LINES_CHUNK) {
			size_t cap = l->cap * 2;
			char *grown = realloc(l->buf, cap);
			if (grown == NULL) {
				l->error = -ENOMEM;
				return l->error;
			}
			l->buf = grown;
			l->cap = cap;
		}
		ssize_t r = fill(l, l->cap - l->len);
		if (r < 0) {
			l->error = (int)r;
			continue;
		}
		if (r == 0) {
			l->eof = true;
			if (l->skipping) {
				/* The over-long line never ended: it is torn, so the
				 * next pass starts at its beginning again. */
				l->offset = l->skip_start;
				l->skipping = false;
				l->len = 0;
			}
			continue;
		}
		l->bytes_read += (uint64_t)r;
		l->len += (size_t)r;
	}
}

bool
lines_has(const char *line, size_t len, const char *needle, size_t n)
{
	size_t i = 0;

#if defined(__SSE2__)
	if (n >= 4) {
		/* Compare two inner bytes of the needle at sixteen starts at once
		 * (its ends are often '"', common in JSON), then check the
		 * candidates in full. */
		const size_t a = 1, b = n - 2;
		const __m128i first = _mm_set1_epi8(needle[a]), last = _mm_set1_epi8(needle[b]);
		for (; i + b + 16 <= len; i += 16) {
			__m128i x = _mm_loadu_si128((const __m128i *)(const void *)(line + i + a));
			__m128i y = _mm_loadu_si128((const __m128i *)(const void *)(line + i + b));
			unsigned m = (unsigned)_mm_movemask_epi8(
				_mm_and_si128(_mm_cmpeq_epi8(x, first), _mm_cmpeq_epi8(y, last)));
			for (; m != 0; m &= m - 1) {
				size_t at = i + (size_t)__builtin_ctz(m);
				if (at + n <= len && memcmp(line + at, needle, n) == 0) {
					return true;
				}
			}
		}
	}
#endif
	return i < len && memmem(line + i, len - i, needle, n) != NULL;
}
