/* fuzz-agent-config.c: configuration text and price-book CSV through their parsers. */
#include <stdint.h>
#include <stdlib.h>

#include "config.h"
#include "log.h"
#include "price.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_config cfg;
	struct price_book book;

	log_init("fuzz", LOG_LEVEL_ERROR);
	config_defaults(&cfg);
	(void)config_parse((const char *)data, size, "fuzz", &cfg);
	(void)price_book_parse((const char *)data, size, "fuzz", &book);
	for (size_t i = 0; i < book.n; i++) {
		uint64_t tok[EVENT_BUCKET_MAX] = {1000, 1000, 1000, 1000, 300000, 0, 3};
		price_pico p;
		price_cost(&book.rows[i], tok, "fast", &p);
	}
	price_book_finish(&book);
	return 0;
}
