/* fuzz-csv.c: untrusted CSV files (directory, price book, seats) through the reader. */
#include <stddef.h>
#include <stdint.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csv_reader r;
	char err[128];
	size_t total = 0;

	csv_init(&r, (const char *)data, size);
	while (csv_next(&r, err, sizeof(err)) == 1) {
		for (size_t i = 0; i < r.n_fields; i++) {
			total += r.fields[i][0] != '\0';
		}
	}
	csv_finish(&r);
	(void)total;
	return 0;
}
