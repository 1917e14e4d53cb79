/* Operations endpoints: liveness, readiness, metrics, version. */
#include <stdlib.h>

#include "api/api.h"

/* Load balancers ask this many times a second: a constant body, no JSON
 * library on the way. */
int api_healthz(struct http_request *req, struct http_response *res, void *app)
{
	static const char body[] = "{\"status\":\"ok\"}";
	KP_UNUSED(req);
	KP_UNUSED(app);
	res->text = xstrdup(body);
	res->text_len = sizeof(body) - 1;
	res->status = 200;
	return 0;
}

int api_readyz(struct http_request *req, struct http_response *res, void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	if (!store_ping(a->store))
		return err_set(&res->err, ERR_UNAVAILABLE, "store_unavailable",
			       "the database is not reachable");
	return http_reply_json(res, 200, json_pack("{s:s}", "status", "ready"));
}

int api_metrics(struct http_request *req, struct http_response *res, void *app)
{
	KP_UNUSED(app);
	res->text = http_metrics_render(http_request_server(req), &res->text_len);
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	res->status = 200;
	return 0;
}

int api_version(struct http_request *req, struct http_response *res, void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	return http_reply_json(res, 200,
			       json_pack("{s:s,s:i}", "version", KP_VERSION,
					 "schema", store_schema_version(a->store)));
}
