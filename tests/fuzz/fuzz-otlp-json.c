/* fuzz-otlp-json.c: untrusted OTLP/HTTP bodies through the json decoder (fuzz-otlp.h). */
#include "fuzz-otlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_otlp(OTLP_JSON, data, size);
}
