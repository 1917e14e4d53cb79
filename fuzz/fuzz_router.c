/* Routing of untrusted paths over the real route table: never crash, and
 * whatever matches must be a route of that listener and method whose
 * parameters are non-empty pieces of the path without a slash (but a last
 * {name*}, which is the rest of the path). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "http/http_internal.h"
#include "fuzz.h"

int fuzz_router(const uint8_t *data, size_t size)
{
	if (size < 1 || size > LIMIT_URL)
		return 0;
	char path[LIMIT_URL + 1];
	memcpy(path, data + 1, size - 1);
	path[size - 1] = '\0';
	unsigned listener = data[0] & 1 ? LISTENER_PUBLIC : LISTENER_NETWORK;
	enum http_method m = data[0] & 2 ? METHOD_GET : METHOD_POST;
	char scratch[LIMIT_URL + 1];
	const char *params[LIMIT_PATH_PARAMS];
	int np = 0;
	size_t idx;
	if (router_find(api_routes, api_nroutes, listener, m, path, scratch,
			sizeof(scratch), params, &np, &idx) != MATCH_OK)
		return 0;
	const struct http_route *r = &api_routes[idx];
	if (!(r->listeners & listener) || !(r->methods & m) || np < 0 ||
	    np > LIMIT_PATH_PARAMS)
		abort();
	/* A last {name*} takes the rest of the path, slashes and all. */
	size_t plen = strlen(r->pattern);
	bool rest = plen > 2 && r->pattern[plen - 2] == '*';
	for (int i = 0; i < np; i++)
		if (!params[i][0] ||
		    (strchr(params[i], '/') && !(rest && i == np - 1)) ||
		    !strstr(path, params[i]))
			abort();
	return 0;
}

#ifdef KP_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_router(data, size);
}
#endif
