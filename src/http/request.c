/*
 * A request's way through the server: libmicrohttpd's callbacks, the same
 * for every listener.
 *
 * A request goes through these steps, in this order, and a handler runs
 * only when all of them passed (deny by default):
 *
 *   first call     framing and a NUL in the URL (400, connection closed),
 *                  route lookup (404 / 405), URL length (414), declared
 *                  Content-Length against the route's limit (413), then
 *                  from the headers alone (gate.c): behind a proxy the real
 *                  client's requests in flight (429), the anonymous rate
 *                  limit (429), client certificate when the listener or
 *                  route needs one (401), institution, session, level and
 *                  role (401 / 403);
 *   upload calls   body accumulated up to the route's limit (413, body.c),
 *                  only for a request nothing refused;
 *   last call      Content-Type and JSON parsing (415 / 400) in body.c,
 *                  handler; the answer is rendered by render.c.
 *
 * The answer is queued on the last call, not on the first: when
 * libmicrohttpd gets a response on the first call of a request it closes the
 * connection, which costs a TCP and TLS handshake per request
 * (docs/DESIGN.md, pitfall 1). A request refused for its framing or declared size, or
 * refused by the gate while a body follows, is answered at once and its
 * connection closed, precisely so that its body is never read: a stranger
 * must not make us take in up to a route's limit (256 MiB for a batch).
 * Between those calls the connection runs against a deadline (deadline.c):
 * set here when a request begins, cleared when it is ours.
 */
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "http/http_internal.h"

/* The connection's state (server.c), or NULL. */
static struct conn_state *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* libmicrohttpd cuts the request line in place: the version follows the
 * URI's terminating NUL. When it does not, the URI held a NUL of its own
 * and the path we were given is cut short. */
static bool raw_nul(const struct conn_state *cs, const char *version)
{
	uintptr_t v = (uintptr_t)version;
	return cs->raw_uri && v > cs->raw_uri &&
	       v != cs->raw_uri + cs->raw_uri_len + 1;
}

/* Framing a proxy could read otherwise, or a NUL in the URL: refused at
 * once, and the connection closed. */
static bool refused_malformed(struct request *rq, struct MHD_Connection *c,
			      const char *version)
{
	struct conn_state *cs = conn_of(c);
	bool nul = cs && (cs->nul_in_url || raw_nul(cs, version));
	if (cs) {
		cs->nul_in_url = false;
		cs->raw_uri = 0;
	}
	if (body_framing_invalid(rq))
		return true;
	if (!nul)
		return false;
	/* "/a%00/b" must not become "/a": refuse the request whole. */
	gate_refuse(rq, 400, ERR_MALFORMED, "malformed_url",
		    "the URL holds a NUL byte");
	rq->close = true;
	return true;
}

/* Who the client is: the connection's address, or behind a listed proxy
 * the real client it forwards for, whom the limits must see (not the
 * proxy, which carries every client). */
static void request_peer(struct request *rq)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (!ci)
		return;
	peer_text(ci->client_addr, rq->req.peer, sizeof(rq->req.peer));
	if (rq->l->cfg->behind_proxy && peer_is_proxy(rq->l, ci->client_addr)) {
		rq->via_proxy = true;
		peer_forwarded(rq);
	}
}

/* One of the portal's files: read, never written, and nothing to read
 * from the client (a body is refused at once, unread). */
static void request_static(struct request *rq)
{
	if (rq->req.method != METHOD_GET && rq->req.method != METHOD_HEAD) {
		gate_refuse(rq, 405, ERR_METHOD, "method_not_allowed",
			    "a page is only read (GET, HEAD)");
		rq->file = NULL;
	} else if (body_follows(rq)) {
		gate_refuse(rq, 413, ERR_TOO_LARGE, "body_too_large",
			    "a page takes no request body");
		rq->close = true;
	}
}

/* The request's state on its first call, refused already when its method,
 * URL or route is wrong. Freed by request_completed. */
static struct request *request_begin(struct listener *l,
				     struct MHD_Connection *c, const char *url,
				     const char *method, const char *version)
{
	struct http_server *srv = l->srv;
	struct request *rq = xcalloc(1, sizeof(*rq));
	rq->start_ns = time_mono_ns();
	rq->l = l;
	rq->conn = c;
	rq->req.listener = l->id;
	rq->req.path = url;
	rq->req.internal = rq;
	rq->route_idx = srv->opt.nroutes;
	uuid7_new(rq->req.request_id);
	buf_init(&rq->body, 0);
	request_peer(rq);

	rq->req.method = method_parse(method);
	if (refused_malformed(rq, c, version))
		return rq;
	if (!rq->req.method) {
		gate_refuse(rq, 405, ERR_METHOD, "method_not_allowed",
			    "method not supported");
		return rq;
	}
	if (strlen(url) > LIMIT_URL) {
		gate_refuse(rq, 414, ERR_MALFORMED, "uri_too_long",
			    "URI too long");
		return rq;
	}
	/* HEAD is answered wherever GET is. */
	enum http_method m = rq->req.method == METHOD_HEAD ? METHOD_GET
							   : rq->req.method;
	size_t idx;
	size_t scratch_len = strlen(url) + 1;
	rq->scratch = xmalloc(scratch_len);
	unsigned where = l->id | (l->cfg->metrics ? LISTENER_OPERATIONS : 0u);
	enum route_match match = router_find(
		srv->opt.routes, srv->opt.nroutes, where, m, url, rq->scratch,
		scratch_len, rq->req.params, &rq->req.nparams, &idx);
	if (match == MATCH_NO_PATH && l->id == LISTENER_PUBLIC &&
	    (rq->file = static_find(srv->files, url)) != NULL) {
		request_static(rq);
		return rq;
	}
	if (match == MATCH_NO_PATH) {
		gate_refuse(rq, 404, ERR_NOT_FOUND, "not_found",
			    "no such resource");
		return rq;
	}
	if (match == MATCH_NO_METHOD) {
		gate_refuse(rq, 405, ERR_METHOD, "method_not_allowed",
			    "method not allowed on this resource");
		return rq;
	}
	const struct http_route *r = &srv->opt.routes[idx];
	rq->route_idx = idx;
	rq->req.route = r;
	rq->body_limit = r->body == BODY_NONE ? 0
			 : r->body_limit     ? r->body_limit
					     : LIMIT_BODY_DEFAULT;
	buf_init(&rq->body, rq->body_limit);
	return rq;
}

static enum MHD_Result finish(struct request *rq)
{
	struct http_server *srv = rq->l->srv;
	const struct http_route *r = rq->req.route;
	/* The request is ours now: a slow handler or a deferred answer is
	 * no client's fault. */
	struct conn_state *cs = conn_of(rq->conn);
	if (cs)
		deadline_none(cs);
	if (!rq->refused && rq->file)
		return static_send(rq);
	if (!rq->refused && body_prepare(rq, r) == 0) {
		/* The handler's return value decides, not whatever a module
		 * left in the error on a path that succeeded after all. */
		if (r->handler(&rq->req, &rq->res, srv->opt.app) == 0)
			err_clear(&rq->res.err);
		else if (rq->res.err.kind == ERR_NONE)
			err_set(&rq->res.err, ERR_INTERNAL, "internal_error",
				"the request could not be completed");
		if (rq->res.defer && rq->res.err.kind == ERR_NONE) {
			/* Suspend first: the answer may be ready before
			 * defer returns, and resuming needs a suspended
			 * connection. */
			rq->deferred = true;
			rq->handle.rq = rq;
			atomic_fetch_add(&srv->suspended, 1);
			MHD_suspend_connection(rq->conn);
			rq->res.defer(&rq->req, &rq->handle, rq->res.defer_ctx);
			return MHD_YES;
		}
	}
	return render_send(rq);
}

struct http_response *http_deferred_response(struct http_deferred *d)
{
	return &d->rq->res;
}

void http_resume(struct http_deferred *d)
{
	struct request *rq = d->rq;
	struct http_server *srv = rq->l->srv;
	atomic_store_explicit(&rq->resumed, true, memory_order_release);
	MHD_resume_connection(rq->conn);
	atomic_fetch_sub(&srv->suspended, 1);
}

enum MHD_Result request_handle(void *cls, struct MHD_Connection *c,
			       const char *url, const char *method,
			       const char *version, const char *upload,
			       size_t *upload_size, void **con_cls)
{
	struct request *rq = *con_cls;
	if (rq && rq->deferred) /* called again once resumed */
		return atomic_load_explicit(&rq->resumed, memory_order_acquire)
			       ? render_send(rq)
			       : MHD_YES;
	if (!rq) {
		rq = request_begin(cls, c, url, method, version);
		*con_cls = rq;
		if (rq->close ||
		    (!rq->refused && !rq->file && body_declared_too_large(rq)))
			return render_send(rq);
		/* Who asks, from the headers, before any body byte: a
		 * refused body is not read at all (see above). A page is
		 * anyone's. */
		if (!rq->refused && !rq->file && gate_check(rq) != 0 &&
		    body_follows(rq)) {
			rq->close = true;
			return render_send(rq);
		}
		/* The head is in; the body gets time by its size. */
		struct conn_state *cs = conn_of(c);
		if (cs)
			deadline_body(rq->l->srv, cs, rq->declared);
		return MHD_YES;
	}
	if (*upload_size) {
		body_append(rq, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return finish(rq);
}

size_t request_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	KP_UNUSED(cls);
	size_t n = MHD_http_unescape(s);
	struct conn_state *cs = conn_of(c);
	if (cs && memchr(s, '\0', n))
		cs->nul_in_url = true;
	return n;
}

void *request_uri_seen(void *cls, const char *uri, struct MHD_Connection *c)
{
	KP_UNUSED(cls);
	struct conn_state *cs = conn_of(c);
	if (cs) {
		cs->raw_uri = (uintptr_t)uri;
		cs->raw_uri_len = strlen(uri);
	}
	return NULL;
}

static void access_log(struct request *rq, uint64_t ns)
{
	struct log_line l;
	log_begin(&l, LV_INFO, NULL, "request");
	log_str(&l, "id", rq->req.request_id);
	log_str(&l, "listener", rq->l->name);
	log_str(&l, "peer", rq->req.peer);
	log_str(&l, "method", method_name(rq->req.method));
	/* The route pattern, not the path: paths can carry an INSZ, and
	 * personal data has no place in an access log. */
	log_str(&l, "route", rq->req.route ? rq->req.route->pattern
			     : rq->file	      ? "(portal file)"
					      : "-");
	log_int(&l, "status", rq->status);
	log_int(&l, "us", (int64_t)(ns / 1000));
	if (rq->res.err.code)
		log_str(&l, "code", rq->res.err.code);
	if (rq->req.who.kind == AUTH_INSTITUTION ||
	    rq->req.who.kind == AUTH_ORGANISATION)
		log_str(&l, "institution", rq->req.who.kbo);
	if (rq->res.ticket[0])
		log_str(&l, "ticket", rq->res.ticket);
	log_end_buffered(&l);
}

void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
		       enum MHD_RequestTerminationCode toe)
{
	KP_UNUSED(cls);
	KP_UNUSED(toe);
	struct request *rq = *con_cls;
	if (!rq)
		return;
	/* The next request on this connection gets the head's time. */
	struct conn_state *cs = conn_of(c);
	if (cs)
		deadline_head(rq->l->srv, cs);
	if (rq->counted)
		addr_counts_give(rq->l->srv->inflight, rq->req.peer);
	uint64_t ns = time_mono_ns() - rq->start_ns;
	metrics_record(rq->l->srv->metrics, rq->route_idx,
		       rq->req.method ? rq->req.method : METHOD_GET, rq->status,
		       ns);
	access_log(rq, ns);
	secret_wipe(rq->req.who.token, sizeof(rq->req.who.token));
	secret_wipe(rq->res.set_cookie, sizeof(rq->res.set_cookie));
	free(rq->res.location);
	json_decref(rq->req.json);
	json_decref(rq->res.json);
	json_decref(rq->res.problem_extra);
	free(rq->res.text);
	free(rq->scratch);
	buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

const char *http_query(struct http_request *req, const char *key)
{
	struct request *rq = req->internal;
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct query_fields {
	json_t *obj;
	bool bad;
};

static enum MHD_Result query_field(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	KP_UNUSED(kind);
	struct query_fields *q = cls;
	json_t *v = json_string(value ? value : "");
	if (!v || json_object_get(q->obj, key))
		q->bad = true;
	else
		json_object_set_new(q->obj, key, v), v = NULL;
	json_decref(v);
	return q->bad ? MHD_NO : MHD_YES;
}

json_t *http_query_object(struct http_request *req)
{
	struct request *rq = req->internal;
	struct query_fields q = {json_object(), false};
	MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, query_field,
				  &q);
	if (q.bad) {
		json_decref(q.obj);
		return NULL;
	}
	return q.obj;
}

const char *http_header(struct http_request *req, const char *name)
{
	struct request *rq = req->internal;
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

struct cookie_find {
	const char *name;
	const char *value;
	int seen;
};

static enum MHD_Result cookie_each(void *cls, enum MHD_ValueKind kind,
				   const char *key, const char *value)
{
	KP_UNUSED(kind);
	struct cookie_find *f = cls;
	if (key && strcmp(key, f->name) == 0) {
		f->value = value;
		f->seen++;
	}
	return MHD_YES;
}

const char *http_cookie(struct http_request *req, const char *name)
{
	struct request *rq = req->internal;
	struct cookie_find f = {name, NULL, 0};
	MHD_get_connection_values(rq->conn, MHD_COOKIE_KIND, cookie_each, &f);
	return f.seen == 1 ? f.value : NULL;
}

struct http_server *http_request_server(struct http_request *req)
{
	struct request *rq = req->internal;
	return rq->l->srv;
}
