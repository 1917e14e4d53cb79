/* The paths a stranger names for the portal: a static file's path and an
 * eID login's return path. Never crash, and whatever is accepted must be
 * what the checks promise: a static path of '/'-separated segments of
 * [A-Za-z0-9_-.], none empty or starting with '.', so no "..", dotfile,
 * backslash, "//" or byte outside that set; a return path that starts
 * with one '/' and not two, holds no backslash, space or control byte,
 * and so can only name a place on our own origin. The first byte picks
 * the check. */
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "fuzz.h"

static void check_static(const char *p)
{
	if (!http_static_path_ok(p))
		return;
	size_t n = strlen(p);
	if (p[0] != '/' || n > LIMIT_STATIC_PATH || strstr(p, "//") ||
	    strstr(p, "/.") || strchr(p, '\\') || strchr(p, '%'))
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c <= 0x20 || c >= 0x7f)
			abort();
	}
}

static void check_return(const char *p)
{
	const char *r = http_return_path(p);
	if (r != p && strcmp(r, "/") != 0)
		abort();
	size_t n = strlen(r);
	if (r[0] != '/' || (n > 1 && (r[1] == '/' || r[1] == '\\')) ||
	    n > LIMIT_RETURN_PATH || strchr(r, '\\'))
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)r[i];
		if (c <= 0x20 || c >= 0x7f)
			abort();
	}
	char *q = http_query_escape(r);
	if (strchr(q, '&') || strchr(q, '#') || strchr(q, '?'))
		abort();
	free(q);
}

int fuzz_paths(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 2048)
		return 0;
	char *p = malloc(size);
	if (!p)
		return 0;
	memcpy(p, data + 1, size - 1);
	p[size - 1] = '\0';
	if (data[0] & 1)
		check_static(p);
	else
		check_return(p);
	free(p);
	return 0;
}

#ifdef KP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_paths(data, size);
}
#endif
