/*
 * Routing over the route table. Patterns are literal segments and {name}
 * placeholders; a placeholder matches one non-empty segment, except a last
 * one written {name*}, which takes the rest of the path (one or more
 * segments, slashes included) for a handler that parses a grammar of its
 * own (tlog-tiles' tile paths) and must refuse anything else. A route that
 * does not name the listener a request came in on does not exist there:
 * the answer is 404, exactly as for a path nobody defined.
 */
#include <string.h>

#include "http/http_internal.h"

static const struct {
	const char *name;
	enum http_method m;
} methods[] = {
	{"GET", METHOD_GET},   {"POST", METHOD_POST},
	{"PUT", METHOD_PUT},   {"DELETE", METHOD_DELETE},
	{"HEAD", METHOD_HEAD},
};

const char *method_name(enum http_method m)
{
	for (size_t i = 0; i < KP_NELEM(methods); i++)
		if (methods[i].m == m)
			return methods[i].name;
	return "-";
}

enum http_method method_parse(const char *m)
{
	for (size_t i = 0; i < KP_NELEM(methods); i++)
		if (strcmp(m, methods[i].name) == 0)
			return methods[i].m;
	return 0;
}

/* Split a path into segments in place. Returns the count, or -1 when the
 * path is not absolute, has an empty segment or too many segments. */
static int split(char *path, char **seg, int max)
{
	if (path[0] != '/')
		return -1;
	if (path[1] == '\0')
		return 0;
	int n = 0;
	char *p = path + 1;
	for (;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (*p == '\0' || n == max)
			return -1;
		seg[n++] = p;
		if (!slash)
			return n;
		p = slash + 1;
	}
}

/* Is the pattern element at p (len bytes) a rest placeholder {name*}? */
static bool is_rest(const char *p, size_t len)
{
	return len > 3 && p[0] == '{' && p[len - 2] == '*' && p[len - 1] == '}';
}

/* Does the pattern match the segments? Both must be used up exactly: a
 * path shorter or longer than the pattern is no match. Collects the
 * placeholder values; a rest placeholder's is the path from its segment
 * on, taken from path (scratch's copy has its slashes cut). */
static bool pattern_match(const char *pattern, const char *path,
			  const char *scratch, char **seg, int nseg,
			  const char **params, int *nparams)
{
	const char *p = pattern + 1; /* after the leading '/' */
	int np = 0;
	for (int i = 0; i < nseg; i++) {
		if (*p == '\0')
			return false;
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (p[0] == '{') {
			if (np == LIMIT_PATH_PARAMS)
				return false;
			if (!end && is_rest(p, len)) {
				params[np++] = path + (seg[i] - scratch);
				*nparams = np;
				return true;
			}
			params[np++] = seg[i];
		} else if (strlen(seg[i]) != len ||
			   memcmp(seg[i], p, len) != 0) {
			return false;
		}
		p = end ? end + 1 : p + len;
	}
	if (*p != '\0')
		return false;
	*nparams = np;
	return true;
}

enum route_match router_find(const struct http_route *routes, size_t n,
			     unsigned listener, enum http_method method,
			     const char *path, char *scratch, size_t scratch_len,
			     const char **params, int *nparams, size_t *idx)
{
	char *seg[LIMIT_PATH_SEGMENTS];
	if (!str_copy(scratch, scratch_len, path))
		return MATCH_NO_PATH;
	int nseg = split(scratch, seg, LIMIT_PATH_SEGMENTS);
	if (nseg < 0)
		return MATCH_NO_PATH;
	enum route_match result = MATCH_NO_PATH;
	for (size_t i = 0; i < n; i++) {
		const struct http_route *r = &routes[i];
		if (!(r->listeners & listener))
			continue;
		if (!pattern_match(r->pattern, path, scratch, seg, nseg, params,
				   nparams))
			continue;
		if (r->methods & method) {
			*idx = i;
			return MATCH_OK;
		}
		result = MATCH_NO_METHOD;
	}
	return result;
}

int router_check(const struct http_route *routes, size_t n, struct error *e)
{
	for (size_t i = 0; i < n; i++) {
		const struct http_route *r = &routes[i];
		if (!r->pattern || r->pattern[0] != '/' || !r->handler ||
		    !r->methods || !r->listeners)
			return err_set(e, ERR_INTERNAL, "bad_route",
				       "route %zu is incomplete", i);
		if ((r->auth == AUTH_NONE || r->auth == AUTH_ANON_LIMITED) &&
		    (r->min_level || r->role))
			return err_set(e, ERR_INTERNAL, "bad_route",
				       "%s: a level or role needs a session",
				       r->pattern);
		int params = 0;
		for (const char *p = r->pattern; *p; p++)
			params += *p == '{';
		const char *star = strchr(r->pattern, '*');
		if (star && (star[1] != '}' || star[2] != '\0'))
			return err_set(e, ERR_INTERNAL, "bad_route",
				       "%s: {name*} only as the last segment",
				       r->pattern);
		if (params > LIMIT_PATH_PARAMS)
			return err_set(e, ERR_INTERNAL, "bad_route",
				       "%s: too many parameters", r->pattern);
	}
	return 0;
}
