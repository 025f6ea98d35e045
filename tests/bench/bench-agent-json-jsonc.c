/* bench-agent-json-jsonc.c: json-c on the same lines (see bench-agent-json.c). */
#include <json-c/json.h>
#include <stdint.h>
#include <time.h>

double bench_jsonc(char **line, const size_t *len, size_t n, int reps, volatile uint64_t *sink);

double
bench_jsonc(char **line, const size_t *len, size_t n, int reps, volatile uint64_t *sink)
{
	struct timespec a, b;
	json_tokener *tok = json_tokener_new();

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int r = 0; r < reps; r++) {
		for (size_t i = 0; i < n; i++) {
			struct json_object *root, *m, *u = NULL, *p, *info, *v;
			json_tokener_reset(tok);
			root = json_tokener_parse_ex(tok, line[i], (int)len[i]);
			if (root == NULL) {
				continue;
			}
			if (json_object_object_get_ex(root, "message", &m)) {
				json_object_object_get_ex(m, "usage", &u);
			} else if (json_object_object_get_ex(root, "payload", &p) &&
				   json_object_object_get_ex(p, "info", &info)) {
				json_object_object_get_ex(info, "total_token_usage", &u);
			}
			if (u != NULL && json_object_object_get_ex(u, "output_tokens", &v)) {
				*sink += (uint64_t)json_object_get_int64(v);
			}
			json_object_put(root);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	json_tokener_free(tok);
	return ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9) / reps;
}
