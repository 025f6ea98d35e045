/*
 * origin.h: the small JSON files beside a tool's logs that tell whose the
 * calls are and how they are paid (credentials, account files). Each
 * source reads its own (source_ops.billing and .account); only the one
 * field it needs is copied out.
 */
#ifndef AM_AGENT_ORIGIN_H
#define AM_AGENT_ORIGIN_H

#include <stddef.h>

#include "json.h"
#include "owned.h"

/*
 * origin_load_json(path, o, doc): read a regular file of at most 4 MiB
 * under o's rule (NULL: anyone's) and parse it into doc. Returns the
 * buffer doc points into (the caller frees it), or NULL.
 */
char *origin_load_json(const char *path, const struct owned *o, struct json_doc *doc);

#endif
