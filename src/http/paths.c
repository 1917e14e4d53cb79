/*
 * The paths a stranger names that the server then acts on: a static file
 * of the portal, and where a login sends the browser back to. Both are
 * judged by what they are, byte by byte, before anything is looked up:
 * a static path is then found only in the set loaded at start (never
 * opened on disk), and a return path only ever follows our own origin in
 * a Location header. Pure functions, fuzzed (fuzz/fuzz_paths.c).
 */
#include <string.h>
#include <strings.h>

#include "http/http_internal.h"

static bool static_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool http_static_path_ok(const char *path)
{
	size_t n = strnlen(path, LIMIT_STATIC_PATH + 1);
	if (n == 0 || n > LIMIT_STATIC_PATH || path[0] != '/')
		return false;
	/* Each segment: not empty (no "//"), not starting with '.' (no
	 * "..", no dotfile), only the characters above. A trailing '/' is a
	 * directory's index.html, decided by the caller. */
	for (size_t i = 1; i < n; i++) {
		bool seg_start = path[i - 1] == '/';
		if (path[i] == '/') {
			if (seg_start)
				return false;
			continue;
		}
		if ((seg_start && path[i] == '.') || !static_char(path[i]))
			return false;
	}
	return true;
}

/* Printable ASCII a return path may carry: no space, no quote or angle
 * bracket (nothing to break out of an attribute with), no backslash
 * (browsers read "/\\host" as "//host"). */
static bool return_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '\\' && c != '"' && c != '\'' &&
	       c != '<' && c != '>' && c != '`';
}

bool http_return_path_ok(const char *path)
{
	if (!path)
		return false;
	size_t n = strnlen(path, LIMIT_RETURN_PATH + 1);
	/* One '/' and then not another: "//host" is another site, and so is
	 * "/%2F..." once a proxy decodes it. */
	if (n == 0 || n > LIMIT_RETURN_PATH || path[0] != '/' ||
	    path[1] == '/' || strncasecmp(path + 1, "%2f", 3) == 0 ||
	    strncasecmp(path + 1, "%5c", 3) == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!return_char((unsigned char)path[i]))
			return false;
	return true;
}

const char *http_return_path(const char *path)
{
	return http_return_path_ok(path) ? path : "/";
}

int http_origin_of(const char *url, char *out, size_t n)
{
	const char *host = strstr(url, "://");
	if (!host || host == url || !host[3])
		return -1;
	host += 3;
	size_t len = (size_t)(host - url) + strcspn(host, "/?#");
	/* A browser's Origin leaves the scheme's default port out. */
	if (strncasecmp(url, "https://", 8) == 0 && len > 4 &&
	    strncmp(url + len - 4, ":443", 4) == 0)
		len -= 4;
	else if (strncasecmp(url, "http://", 7) == 0 && len > 3 &&
		 strncmp(url + len - 3, ":80", 3) == 0)
		len -= 3;
	if (len >= n)
		return -1;
	memcpy(out, url, len);
	out[len] = '\0';
	return 0;
}

char *http_query_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = xmalloc(3 * n + 1), *o = out;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		bool keep = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || strchr("-._~/", *p);
		if (keep) {
			*o++ = (char)*p;
			continue;
		}
		*o++ = '%';
		*o++ = hex[*p >> 4];
		*o++ = hex[*p & 15];
	}
	*o = '\0';
	return out;
}
