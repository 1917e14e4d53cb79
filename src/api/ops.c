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
	enum store_role role = store_role(a->store);
	if (role == STORE_ROLE_UNREACHABLE)
		return store_fail(&res->err, "the database is not reachable");
	/* A standby answers reads but refuses every write: a node that
	 * reaches only one is not ready (a proxy sends clients elsewhere). */
	if (role == STORE_ROLE_STANDBY)
		return store_fail(&res->err, "the database reached is a "
					     "read-only standby");
	/* After a rotation made elsewhere, a node with the old key signs
	 * nothing: a proxy sends clients to the nodes that do. */
	if (!audit_key_current(a->audit))
		return err_set(&res->err, ERR_UNAVAILABLE, "audit_key_superseded",
			       "this node's audit signing key was replaced by a "
			       "rotation: install the new keys/audit-signing.key");
	return http_reply_json(res, 200,
			       json_pack("{s:s,s:s,s:s}", "status", "ready",
					 "database", store_role_name(role),
					 "backend",
					 store_backend_of(a->store) ==
							 STORE_SQLITE
						 ? "sqlite"
						 : "postgresql"));
}

/* The audit log's own figures, after the HTTP ones. */
static void audit_metrics(struct app *a, struct buf *b)
{
	struct audit_checkpoint cp;
	uint64_t signed_size = audit_checkpoint_latest(a->store, &cp) == 0
			       ? cp.tree_size : 0;
	buf_printf(b,
		   "# HELP kruispunt_audit_events_total Events in the audit log "
		   "(durable).\n"
		   "# TYPE kruispunt_audit_events_total counter\n"
		   "kruispunt_audit_events_total %llu\n"
		   "# HELP kruispunt_audit_signed_events Events covered by the "
		   "newest signed checkpoint.\n"
		   "# TYPE kruispunt_audit_signed_events gauge\n"
		   "kruispunt_audit_signed_events %llu\n",
		   (unsigned long long)audit_size(a->audit),
		   (unsigned long long)signed_size);
}

int api_metrics(struct http_request *req, struct http_response *res, void *app)
{
	size_t len;
	char *http = http_metrics_render(http_request_server(req), &len);
	struct buf b;
	buf_init(&b, 32 * 1024 * 1024);
	buf_append(&b, http, len);
	free(http);
	audit_metrics(app, &b);
	res->text = buf_take(&b, &res->text_len);
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
