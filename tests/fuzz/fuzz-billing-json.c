/* fuzz-billing-json.c: untrusted vendor billing pages (collector/billing); byte 0 picks the API. */
#include <stddef.h>
#include <stdint.h>

#include "billing.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct billing_lines l;
	char next[512], err[256];

	if (size < 1) {
		return 0;
	}
	billing_lines_init(&l, 4096);
	(void)billing_page_parse((enum billing_source)(data[0] % BILLING_SOURCE_MAX),
				 (const char *)data + 1, size - 1, &l, next, sizeof(next), err,
				 sizeof(err));
	billing_lines_finish(&l);
	return 0;
}
