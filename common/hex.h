/* hex.h: hex text to bytes and back. Returns 0 or -errno (see macros.h). */
#ifndef AM_COMMON_HEX_H
#define AM_COMMON_HEX_H

#include <stddef.h>
#include <stdint.h>

/* hex_decode(hex, out, cap, ret_len): decodes a whole NUL-terminated string of
 * hex digit pairs (either case). -EINVAL on an odd length or a non-hex digit,
 * -ENOSPC if it does not fit in cap bytes. */
int hex_decode(const char *hex, uint8_t *out, size_t cap, size_t *ret_len);

/* hex_encode(in, n, out): writes 2n lowercase digits and a NUL to out. */
void hex_encode(const uint8_t *in, size_t n, char *out);

#endif
