/* Routing over a route table, the one error-to-status mapping, metrics
 * rendering and forwarded-certificate parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http_internal.h"

static int handler(struct http_request *req, struct http_response *res,
		   void *app)
{
	(void)req;
	(void)res;
	(void)app;
	return 0;
}

static const struct http_route routes[] = {
	{METHOD_GET, "/healthz", LISTENER_PUBLIC | LISTENER_NETWORK, AUTH_NONE,
	 0, NULL, BODY_NONE, 0, handler},
	{METHOD_GET | METHOD_POST, "/api/v1/orgs/{kbo}/roles", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "access_manager", BODY_JSON, 0, handler},
	{METHOD_POST, "/api/v1/orgs/{kbo}/roles/{id}/revoke", LISTENER_PUBLIC,
	 AUTH_SESSION, 400, "access_manager", BODY_NONE, 0, handler},
	{METHOD_POST, "/api/v1/exchange", LISTENER_NETWORK, AUTH_INSTITUTION, 0,
	 NULL, BODY_JSON, 0, handler},
	{METHOD_GET, "/", LISTENER_PUBLIC, AUTH_NONE, 0, NULL, BODY_NONE, 0,
	 handler},
	{METHOD_GET, "/log/tile/{tile*}", LISTENER_PUBLIC, AUTH_NONE, 0, NULL,
	 BODY_NONE, 0, handler},
};

static enum route_match find(unsigned listener, enum http_method m,
			     const char *path, size_t *idx, const char **params,
			     int *np)
{
	static char scratch[LIMIT_URL + 1];
	return router_find(routes, KP_NELEM(routes), listener, m, path, scratch,
			   sizeof(scratch), params, np, idx);
}

static void routes_match_with_parameters(void **state)
{
	(void)state;
	size_t idx;
	const char *p[LIMIT_PATH_PARAMS];
	int np = 0;
	assert_int_equal(find(LISTENER_PUBLIC, METHOD_GET, "/healthz", &idx, p,
			      &np), MATCH_OK);
	assert_int_equal(idx, 0);
	assert_int_equal(find(LISTENER_PUBLIC, METHOD_POST,
			      "/api/v1/orgs/0203201340/roles/17/revoke", &idx,
			      p, &np), MATCH_OK);
	assert_int_equal(idx, 2);
	assert_int_equal(np, 2);
	assert_string_equal(p[0], "0203201340");
	assert_string_equal(p[1], "17");
	assert_int_equal(find(LISTENER_PUBLIC, METHOD_GET, "/", &idx, p, &np),
			 MATCH_OK);
	assert_int_equal(idx, 4);
}

/* A last {name*} takes the rest of the path, slashes included, and needs
 * at least one segment; it is refused anywhere but last. */
static void rest_placeholder(void **state)
{
	(void)state;
	size_t idx;
	const char *p[LIMIT_PATH_PARAMS];
	int np = 0;
	assert_int_equal(find(LISTENER_PUBLIC, METHOD_GET,
			      "/log/tile/0/x001/234.p/5", &idx, p, &np),
			 MATCH_OK);
	assert_int_equal(idx, 5);
	assert_int_equal(np, 1);
	assert_string_equal(p[0], "0/x001/234.p/5");
	assert_int_equal(find(LISTENER_PUBLIC, METHOD_GET, "/log/tile/000",
			      &idx, p, &np), MATCH_OK);
	assert_string_equal(p[0], "000");
	const char *bad[] = {"/log/tile", "/log/tile/", "/log/tile//0",
			     "/log/tile/0//1", "/log/tile/0/"};
	for (size_t i = 0; i < KP_NELEM(bad); i++)
		assert_int_equal(find(LISTENER_PUBLIC, METHOD_GET, bad[i], &idx,
				      p, &np), MATCH_NO_PATH);
	struct error e;
	struct http_route r = routes[5];
	r.pattern = "/log/{tile*}/x";
	assert_int_equal(router_check(&r, 1, &e), -1);
	r.pattern = "/log/{tile*}x";
	assert_int_equal(router_check(&r, 1, &e), -1);
}

static void deny_by_default(void **state)
{
	(void)state;
	size_t idx;
	const char *p[LIMIT_PATH_PARAMS];
	int np;
	/* A route on another listener does not exist here. */
	assert_int_equal(find(LISTENER_PUBLIC, METHOD_POST, "/api/v1/exchange",
			      &idx, p, &np), MATCH_NO_PATH);
	assert_int_equal(find(LISTENER_NETWORK, METHOD_POST, "/api/v1/exchange",
			      &idx, p, &np), MATCH_OK);
	assert_int_equal(find(LISTENER_PUBLIC, METHOD_DELETE, "/healthz", &idx,
			      p, &np), MATCH_NO_METHOD);
	const char *bad[] = {"", "healthz", "//healthz", "/healthz/",
			     "/healthz/x", "/api/v1/orgs//roles",
			     "/api/v1/orgs/x/roles/", "/HEALTHZ",
			     "/api/v1/orgs/x/roles/1/revoke/more",
			     "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r"};
	for (size_t i = 0; i < KP_NELEM(bad); i++)
		assert_int_equal(find(LISTENER_PUBLIC, METHOD_GET, bad[i], &idx,
				      p, &np), MATCH_NO_PATH);
	/* A path longer than the scratch space matches nothing. */
	char *longpath = xmalloc(LIMIT_URL + 100);
	memset(longpath, 'a', LIMIT_URL + 99);
	longpath[0] = '/';
	longpath[LIMIT_URL + 99] = '\0';
	assert_int_equal(find(LISTENER_PUBLIC, METHOD_GET, longpath, &idx, p,
			      &np), MATCH_NO_PATH);
	free(longpath);
}

static void route_table_is_checked(void **state)
{
	(void)state;
	struct error e;
	assert_int_equal(router_check(routes, KP_NELEM(routes), &e), 0);
	struct http_route bad = routes[0];
	bad.listeners = 0;
	assert_int_equal(router_check(&bad, 1, &e), -1);
	bad = routes[0];
	bad.min_level = 400; /* a level without a session is meaningless */
	assert_int_equal(router_check(&bad, 1, &e), -1);
	bad = routes[0];
	bad.handler = NULL;
	assert_int_equal(router_check(&bad, 1, &e), -1);
}

static void errors_map_to_status_in_one_place(void **state)
{
	(void)state;
	assert_int_equal(http_status_for(ERR_MALFORMED), 400);
	assert_int_equal(http_status_for(ERR_UNAUTHENTICATED), 401);
	assert_int_equal(http_status_for(ERR_FORBIDDEN), 403);
	assert_int_equal(http_status_for(ERR_NOT_FOUND), 404);
	assert_int_equal(http_status_for(ERR_CONFLICT), 409);
	assert_int_equal(http_status_for(ERR_GONE), 410);
	assert_int_equal(http_status_for(ERR_TOO_LARGE), 413);
	assert_int_equal(http_status_for(ERR_INVALID), 422);
	assert_int_equal(http_status_for(ERR_LOCKED), 423);
	assert_int_equal(http_status_for(ERR_RATE_LIMITED), 429);
	assert_int_equal(http_status_for(ERR_UPSTREAM), 502);
	assert_int_equal(http_status_for(ERR_UNAVAILABLE), 503);
	assert_int_equal(http_status_for(ERR_TIMEOUT), 504);
	assert_int_equal(http_status_for((enum err_kind)999), 500);
	assert_string_equal(http_status_title(422), "Unprocessable Content");
}

static void metrics_are_prometheus_text(void **state)
{
	(void)state;
	struct http_metrics *m = metrics_new(KP_NELEM(routes));
	metrics_record(m, 0, METHOD_GET, 200, 300000);     /* 0.3 ms */
	metrics_record(m, 0, METHOD_GET, 200, 2000000000); /* 2 s */
	metrics_record(m, KP_NELEM(routes), METHOD_GET, 404, 1000);
	size_t len;
	char *t = metrics_render(m, routes, &len);
	assert_int_equal(strlen(t), len);
	assert_non_null(strstr(t, "kruispunt_http_requests_total{route=\"/healthz\","
				  "method=\"GET\",status=\"200\"} 2\n"));
	assert_non_null(strstr(t, "{route=\"unmatched\",method=\"GET\",status=\"404\"} 1"));
	/* Buckets are cumulative: 0.5 ms holds one, 2.5 s holds both. */
	assert_non_null(strstr(t, "{route=\"/healthz\",method=\"GET\",le=\"0.0005\"} 1\n"));
	assert_non_null(strstr(t, "{route=\"/healthz\",method=\"GET\",le=\"2.5\"} 2\n"));
	assert_non_null(strstr(t, "_count{route=\"/healthz\",method=\"GET\"} 2\n"));
	assert_null(strstr(t, "/api/v1/exchange\",method=\"POST\",le"));
	free(t);
	metrics_free(m);
}

static void forwarded_fingerprints(void **state)
{
	(void)state;
	struct http_client_cert c;
	const char *hex = "A3:7A:89:CB:5C:B3:45:CB:54:68:9F:15:CB:AC:A0:75:"
			  "3F:3F:0D:34:46:00:C0:CC:20:4F:5A:6E:D3:53:A9:97";
	tls_verify_forwarded(NULL, hex, &c);
	assert_true(c.present);
	assert_true(c.verified);
	assert_int_equal(c.fingerprint[0], 0xa3);
	assert_int_equal(c.fingerprint[31], 0x97);
	/* Without a trust list nothing but a fingerprint is believed. */
	tls_verify_forwarded(NULL, "-----BEGIN CERTIFICATE-----", &c);
	assert_false(c.verified);
	tls_verify_forwarded(NULL, "a37a89", &c);
	assert_false(c.verified);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(routes_match_with_parameters),
		cmocka_unit_test(rest_placeholder),
		cmocka_unit_test(deny_by_default),
		cmocka_unit_test(route_table_is_checked),
		cmocka_unit_test(errors_map_to_status_in_one_place),
		cmocka_unit_test(metrics_are_prometheus_text),
		cmocka_unit_test(forwarded_fingerprints),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
