/* request.c: reading the request headers every handler checks; see request.h. */
#include "request.h"

#include <string.h>
#include <strings.h>

bool
request_media_type_is(const char *value, const char *want)
{
	size_t n = strlen(want);

	while (*value == ' ') {
		value++;
	}
	return strncasecmp(value, want, n) == 0 &&
	       (value[n] == '\0' || value[n] == ';' || value[n] == ' ');
}

const char *
request_bearer_token(const char *auth)
{
	if (strncasecmp(auth, "Bearer ", 7) != 0) {
		return NULL;
	}
	auth += 7;
	while (*auth == ' ') {
		auth++;
	}
	return *auth != '\0' ? auth : NULL;
}
