/* decode.c: gzip, then the encoding's decoder; see decode.h. */
#include "decode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The OTLP spec recommends 64 MiB; a telemetry export is far smaller, and
 * two decode workers each holding this much must fit a small server. */
const struct otlp_limits otlp_default_limits = {
	.max_decompressed = 16u << 20,
	.max_records = 50000,
	.max_fields = 1000000,
	.max_depth = 16,
};

int
otlp_inflate(const uint8_t *in, size_t len, size_t max_out, uint8_t **ret_out, size_t *ret_len)
{
	z_stream z;
	size_t cap = len * 4 < max_out ? (len * 4 > 4096 ? len * 4 : 4096) : max_out;
	uint8_t *out = malloc(cap + 1);
	int zr, rc = -EBADMSG;

	if (out == NULL) {
		return -ENOMEM;
	}
	memset(&z, 0, sizeof(z));
	/* 16 + MAX_WBITS: gzip framing only, as Content-Encoding: gzip says. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		free(out);
		return -ENOMEM;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	for (;;) {
		if (z.total_out == cap) {
			size_t ncap;
			uint8_t *p;
			if (cap >= max_out) {
				rc = -EFBIG; /* one byte more than allowed is already a bomb */
				break;
			}
			ncap = cap * 2 < max_out ? cap * 2 : max_out;
			p = realloc(out, ncap + 1);
			if (p == NULL) {
				rc = -ENOMEM;
				break;
			}
			out = p;
			cap = ncap;
		}
		z.next_out = out + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		zr = inflate(&z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			rc = z.avail_in == 0 ? 0 : -EBADMSG; /* trailing bytes: not one gzip member */
			break;
		}
		if (zr != Z_OK && !(zr == Z_BUF_ERROR && z.avail_out == 0)) {
			rc = zr == Z_MEM_ERROR ? -ENOMEM : -EBADMSG;
			break;
		}
		if (z.avail_in == 0 && z.avail_out != 0) {
			break; /* input ended before the stream did */
		}
	}
	if (rc == 0) {
		*ret_len = z.total_out;
		*ret_out = out;
		out[z.total_out] = '\0'; /* room kept: the JSON parser may want a C string */
	} else {
		free(out);
	}
	inflateEnd(&z);
	return rc;
}

int
otlp_decode(enum otlp_signal signal, enum otlp_encoding enc, bool gzip, const uint8_t *body,
	    size_t len, const struct otlp_limits *lim, struct otlp_result *ret)
{
	uint8_t *plain = NULL;
	int r;

	if (gzip) {
		r = otlp_inflate(body, len, lim->max_decompressed, &plain, &len);
		if (r == -EFBIG) {
			return otlp_fail(ret, OTLP_TOO_LARGE,
					 "decompressed body larger than %zu bytes",
					 lim->max_decompressed);
		}
		if (r < 0) {
			return otlp_fail(ret, r == -ENOMEM ? OTLP_NOMEM : OTLP_BAD_GZIP,
					 "body is not valid gzip");
		}
		body = plain;
	} else if (len > lim->max_decompressed) {
		return otlp_fail(ret, OTLP_TOO_LARGE, "body larger than %zu bytes",
				 lim->max_decompressed);
	}
	r = enc == OTLP_JSON ? otlp_decode_json(signal, body, len, lim, ret) :
			       otlp_decode_protobuf(signal, body, len, lim, ret);
	free(plain);
	return r;
}

void
otlp_result_finish(struct otlp_result *res)
{
	if (res == NULL) {
		return;
	}
	free(res->calls);
	res->calls = NULL;
	res->n_calls = res->cap_calls = 0;
	free(res->points);
	res->points = NULL;
	res->n_points = res->cap_points = 0;
	free(res->actions);
	res->actions = NULL;
	res->n_actions = res->cap_actions = 0;
}
