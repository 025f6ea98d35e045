/*
 * fuzz-otlp.h: the body of the OTLP decoder fuzz targets: an untrusted
 * OTLP/HTTP body through one encoding's decoder (collector/otlp/decode.h),
 * as logs, metrics and traces; a body starting with the gzip magic is also
 * tried as Content-Encoding: gzip.
 */
#ifndef AM_FUZZ_OTLP_H
#define AM_FUZZ_OTLP_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "decode.h"

static int
fuzz_otlp(enum otlp_encoding enc, const uint8_t *data, size_t size)
{
	static const struct otlp_limits lim = {
		.max_decompressed = 1u << 20,
		.max_records = 1000,
		.max_fields = 100000,
		.max_depth = 16,
	};
	bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;

	for (int s = 0; s < OTLP_SIGNAL_MAX; s++) {
		struct otlp_result res;

		memset(&res, 0, sizeof(res));
		if (otlp_decode((enum otlp_signal)s, enc, gzip, data, size, &lim, &res) == 0) {
			/* Touch every call and point so ASan sees a bad one. */
			uint64_t sum = 0;
			for (size_t i = 0; i < res.n_calls; i++) {
				sum += res.calls[i].input + strlen(res.calls[i].model) +
				       strlen(res.calls[i].user);
			}
			for (size_t i = 0; i < res.n_points; i++) {
				sum += res.points[i].time_ns + strlen(res.points[i].kind);
			}
			(void)sum;
		}
		otlp_result_finish(&res);
	}
	return 0;
}

#endif
