/* bench-agent-json-jansson.c: jansson on the same lines (see bench-agent-json.c). */
#include <jansson.h>
#include <stdint.h>
#include <time.h>

double bench_jansson(char **line, const size_t *len, size_t n, int reps, volatile uint64_t *sink);

double
bench_jansson(char **line, const size_t *len, size_t n, int reps, volatile uint64_t *sink)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int r = 0; r < reps; r++) {
		for (size_t i = 0; i < n; i++) {
			json_error_t err;
			json_t *root = json_loadb(line[i], len[i], 0, &err);
			json_t *u;
			if (root == NULL) {
				continue;
			}
			u = json_object_get(json_object_get(root, "message"), "usage");
			if (u == NULL) {
				u = json_object_get(json_object_get(json_object_get(root, "payload"), "info"),
						    "total_token_usage");
			}
			*sink += (uint64_t)json_integer_value(json_object_get(u, "output_tokens"));
			json_decref(root);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	return ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9) / reps;
}
