/*
 * The HTTP server: libmicrohttpd with an epoll thread pool per listener.
 *
 * A request goes through these steps, in this order, and a handler runs
 * only when all of them passed (deny by default):
 *
 *   first call     route lookup (404 / 405), URL length (414), declared
 *                  Content-Length against the route's limit (413);
 *   upload calls   body accumulated up to the route's limit (413);
 *   last call      client certificate when the listener or route needs one
 *                  (401 / 403), session, level and role (401 / 403),
 *                  Content-Type and JSON parsing (415 / 400), handler.
 *
 * The answer is always queued on the last call, never on the first: when
 * libmicrohttpd gets a response on the first call of a request it closes the
 * connection, which costs a TCP and TLS handshake per request (DESIGN.md
 * "Known pitfall"). Only a request refused for its declared size is
 * answered at once, precisely so that its body is not read.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "http/http_internal.h"

struct listener {
	enum http_listener id;
	const char *name;
	const struct listener_config *cfg;
	struct http_server *srv;
	struct MHD_Daemon *daemon;
	char *cert_pem;
	char *key_pem;
	size_t key_len;
	char *ca_pem;
	struct tls_trust *trust;
	struct in6_addr proxies[LIMIT_PROXY_ADDRESSES];
	int nproxies;
	int port;
};

struct http_server {
	struct http_server_options opt;
	struct listener listeners[2];
	struct http_metrics *metrics;
	/* Strangers get smaller limits (STYLE.md item 2): unauthenticated
	 * POSTs (login, identifier checks), per client address. */
	struct ratelimit *anonymous;
	/* Requests suspended for a deferred answer: libmicrohttpd must not
	 * stop with one still suspended. */
	_Atomic int suspended;
};

/* Per TCP connection: the client certificate is verified once per TLS
 * session, not once per request. */
struct conn_state {
	bool checked;
	struct http_client_cert cert;
};

struct request {
	struct http_request req;
	struct http_response res;
	struct listener *l;
	struct MHD_Connection *conn;
	uint64_t start_ns;
	size_t route_idx; /* nroutes when no route matched */
	size_t body_limit;
	struct buf body;
	bool refused;     /* res.err set before the handler could run */
	bool deferred;    /* suspended, waiting for http_resume */
	_Atomic bool resumed;
	int status;       /* what was queued; 0 when nothing was */
	struct http_client_cert forwarded;
	char *scratch; /* copy of the path that params point into */
};

/* ------------------------------------------------------------- utilities */

/* Read a whole file of at most max bytes; the caller frees the result
 * (and wipes it first when it is a key). */
static char *read_file(const char *path, size_t max, size_t *len,
		       struct error *e)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		err_set(e, ERR_INVALID, "config_invalid", "cannot read %s: %s",
			path, strerror(errno));
		return NULL;
	}
	char *p = xmalloc(max + 1);
	size_t n = fread(p, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(p);
		err_set(e, ERR_INVALID, "config_invalid", "%s is too large",
			path);
		return NULL;
	}
	p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

static void peer_text(const struct sockaddr *sa, char *out, size_t n)
{
	out[0] = '\0';
	if (!sa)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			  out, (socklen_t)n);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
			  out, (socklen_t)n);
}

/* Parse an address into IPv6 form (IPv4 as ::ffff:a.b.c.d). */
static bool parse_ip(const char *s, struct in6_addr *out)
{
	struct in_addr v4;
	if (inet_pton(AF_INET6, s, out) == 1)
		return true;
	if (inet_pton(AF_INET, s, &v4) != 1)
		return false;
	memset(out, 0, sizeof(*out));
	out->s6_addr[10] = 0xff;
	out->s6_addr[11] = 0xff;
	memcpy(&out->s6_addr[12], &v4, 4);
	return true;
}

static bool peer_is_proxy(const struct listener *l, const struct sockaddr *sa)
{
	char text[64];
	struct in6_addr a;
	peer_text(sa, text, sizeof(text));
	if (!parse_ip(text, &a))
		return false;
	for (int i = 0; i < l->nproxies; i++)
		if (memcmp(&a, &l->proxies[i], sizeof(a)) == 0)
			return true;
	return false;
}

static bool is_loopback(const char *address)
{
	struct in6_addr a;
	if (!parse_ip(address, &a))
		return false;
	static const uint8_t v6_loopback[16] = {[15] = 1};
	return memcmp(&a, v6_loopback, 16) == 0 ||
	       (a.s6_addr[10] == 0xff && a.s6_addr[11] == 0xff &&
		a.s6_addr[12] == 127);
}

/* ------------------------------------------------------------- refusals */

/* Record a refusal before the handler. status 0 derives it from kind. */
static void refuse(struct request *rq, int status, enum err_kind kind,
		   const char *code, const char *detail)
{
	rq->refused = true;
	rq->res.status = status;
	err_set(&rq->res.err, kind, code, "%s", detail);
}

/* ------------------------------------------------------------- responses */

static void add_common_headers(struct request *rq, struct MHD_Response *r,
			       const char *content_type)
{
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	MHD_add_response_header(r, "X-Request-Id", rq->req.request_id);
	/* Answers carry personal data: never cached by anyone. */
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	if (rq->l->cfg->tls)
		MHD_add_response_header(r, "Strict-Transport-Security",
					"max-age=31536000");
	if (rq->res.ticket[0])
		MHD_add_response_header(r, "X-Kruispunt-Ticket", rq->res.ticket);
}

/* Turn rq->res into bytes: a problem document when it carries an error. */
static char *render(struct request *rq, int *status, size_t *len,
		    const char **ctype)
{
	struct http_response *res = &rq->res;
	if (res->err.kind != ERR_NONE) {
		*status = res->status >= 400 ? res->status
					     : http_status_for(res->err.kind);
		*ctype = "application/problem+json";
		char instance[UUID_LEN + 32];
		snprintf(instance, sizeof(instance), "urn:kruispunt:request:%s",
			 rq->req.request_id);
		char *body = problem_render(*status, http_status_title(*status),
					    &res->err, instance,
					    res->problem_extra);
		*len = strlen(body);
		return body;
	}
	*status = res->status ? res->status : 200;
	*ctype = res->content_type ? res->content_type : "application/json";
	if (res->text) {
		char *body = res->text;
		*len = res->text_len ? res->text_len : strlen(body);
		res->text = NULL;
		return body;
	}
	if (res->json) {
		char *body = jsonx_dump(res->json);
		*len = strlen(body);
		return body;
	}
	*len = 0;
	return xstrdup("");
}

static enum MHD_Result send_response(struct request *rq)
{
	int status;
	size_t len;
	const char *ctype;
	char *body = render(rq, &status, &len, &ctype);
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, MHD_RESPMEM_MUST_FREE);
	add_common_headers(rq, r, ctype);
	enum MHD_Result ret = MHD_queue_response(rq->conn, (unsigned)status, r);
	MHD_destroy_response(r);
	rq->status = status;
	return ret;
}

/* ------------------------------------------------------- authentication */

static const struct http_client_cert *client_cert(struct request *rq)
{
	struct listener *l = rq->l;
	const union MHD_ConnectionInfo *ci;
	if (l->cfg->behind_proxy) {
		ci = MHD_get_connection_info(rq->conn,
					     MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		const char *v = http_header(&rq->req, l->cfg->proxy_cert_header);
		if (!v || !v[0])
			return NULL;
		if (!ci || !peer_is_proxy(l, ci->client_addr)) {
			struct log_line line;
			log_begin(&line, LV_WARN, __func__,
				  "security: certificate header from an "
				  "address that is not a trusted proxy");
			log_str(&line, "peer", rq->req.peer);
			log_str(&line, "request_id", rq->req.request_id);
			log_end(&line);
			return NULL;
		}
		tls_verify_forwarded(l->trust, v, &rq->forwarded);
		return &rq->forwarded;
	}
	if (!l->cfg->tls || !l->trust)
		return NULL;
	ci = MHD_get_connection_info(rq->conn,
				     MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn_state *cs = ci ? ci->socket_context : NULL;
	if (!cs)
		return NULL;
	if (!cs->checked) {
		ci = MHD_get_connection_info(rq->conn,
					     MHD_CONNECTION_INFO_GNUTLS_SESSION);
		if (!ci || !ci->tls_session)
			return NULL;
		tls_verify_session(l->trust, ci->tls_session, &cs->cert);
		cs->checked = true;
	}
	return cs->cert.present ? &cs->cert : NULL;
}

static void log_cert_refusal(struct request *rq, const char *why)
{
	struct log_line line;
	log_begin(&line, LV_WARN, __func__, "security: client certificate refused");
	log_str(&line, "reason", why);
	log_str(&line, "listener", rq->l->name);
	log_str(&line, "peer", rq->req.peer);
	/* The fingerprint names the certificate without copying its subject,
	 * which on an eID carries the national register number. */
	if (rq->req.cert) {
		char fp[2 * SHA256_LEN + 1];
		hex_encode(rq->req.cert->fingerprint, SHA256_LEN, fp);
		log_str(&line, "fingerprint", fp);
	}
	log_str(&line, "request_id", rq->req.request_id);
	log_end(&line);
}

/* The certificate checks: the listener's requirement, then the route's. */
static int check_certificate(struct request *rq, const struct http_route *r)
{
	const struct http_client_cert *cert = client_cert(rq);
	rq->req.cert = cert;
	bool needed = rq->l->cfg->client_cert == CLIENT_CERT_REQUIRED ||
		      r->auth == AUTH_INSTITUTION;
	if (!needed)
		return 0;
	if (!cert) {
		refuse(rq, 401, ERR_UNAUTHENTICATED, "certificate_required",
		       "this endpoint requires a TLS client certificate");
		return -1;
	}
	if (!cert->verified) {
		log_cert_refusal(rq, cert->reason);
		refuse(rq, 401, ERR_UNAUTHENTICATED, "certificate_rejected",
		       cert->reason ? cert->reason : "certificate rejected");
		return -1;
	}
	return 0;
}

/* The bearer token ("Authorization: Bearer <hex>") or the portal's
 * HttpOnly cookie. */
static const char *session_token(struct request *rq)
{
	const char *h = http_header(&rq->req, MHD_HTTP_HEADER_AUTHORIZATION);
	if (h && strncasecmp(h, "Bearer ", 7) == 0)
		return h + 7;
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND,
					   "kp_session");
}

/* What a resolver's failure is when it did not say (it must). */
#define RESOLVER_FAILED                                                      \
	((struct error){.kind = ERR_INTERNAL, .code = "internal_error"})

static int authenticate_session(struct request *rq, const struct http_route *r)
{
	struct http_server *srv = rq->l->srv;
	const char *token = session_token(rq);
	struct error e = RESOLVER_FAILED;
	int rc = token && srv->opt.resolve_session
		 ? srv->opt.resolve_session(srv->opt.app, token, &rq->req.who,
					    &e)
		 : 1;
	if (rc < 0) {
		refuse(rq, 0, e.kind, e.code, e.detail);
		return -1;
	}
	if (rc > 0) {
		refuse(rq, 401, ERR_UNAUTHENTICATED, "not_authenticated",
		       "log in first: no valid session");
		return -1;
	}
	rq->req.who.kind = AUTH_SESSION;
	str_copy(rq->req.who.token, sizeof(rq->req.who.token), token);
	if (rq->req.who.level < r->min_level) {
		refuse(rq, 403, ERR_FORBIDDEN, "insufficient_level",
		       "this needs a digital key of a higher level");
		rq->res.problem_extra = json_pack("{s:i,s:i}", "required",
						  r->min_level, "current",
						  rq->req.who.level);
		return -1;
	}
	if (r->role && !(srv->opt.has_role &&
			 srv->opt.has_role(srv->opt.app, &rq->req, r->role))) {
		refuse(rq, 403, ERR_FORBIDDEN, "role_required",
		       "this needs a role you do not hold (now)");
		return -1;
	}
	return 0;
}

static int authenticate(struct request *rq, const struct http_route *r)
{
	struct http_server *srv = rq->l->srv;
	if (check_certificate(rq, r) != 0)
		return -1;
	if (r->auth == AUTH_INSTITUTION) {
		struct error e = RESOLVER_FAILED;
		int rc = srv->opt.resolve_institution
			 ? srv->opt.resolve_institution(srv->opt.app,
							rq->req.cert->fingerprint,
							&rq->req.who, &e)
			 : 1;
		if (rc < 0) {
			refuse(rq, 0, e.kind, e.code, e.detail);
			return -1;
		}
		if (rc > 0) {
			/* A trusted certificate of nobody we know: still
			 * unauthenticated on the network (401). */
			log_cert_refusal(rq, "certificate of no institution");
			refuse(rq, 401, ERR_UNAUTHENTICATED, "unknown_institution",
			       "this certificate is not registered to an "
			       "institution of the network");
			return -1;
		}
		rq->req.who.kind = AUTH_INSTITUTION;
	} else if (r->auth == AUTH_SESSION) {
		return authenticate_session(rq, r);
	}
	return 0;
}

/* ------------------------------------------------------------------ body */

static bool is_json_type(const char *ct)
{
	static const char json[] = "application/json";
	if (!ct || strncasecmp(ct, json, sizeof(json) - 1) != 0)
		return false;
	char next = ct[sizeof(json) - 1];
	return next == '\0' || next == ';' || next == ' ';
}

static int prepare_body(struct request *rq, const struct http_route *r)
{
	if (r->body == BODY_NONE)
		return 0;
	rq->req.body = rq->body.p;
	rq->req.body_len = rq->body.len;
	if (r->body != BODY_JSON)
		return 0;
	/* Only JSON is accepted: a browser form cannot post it cross-site
	 * without a CORS preflight, which we never grant. */
	if (!is_json_type(http_header(&rq->req, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		refuse(rq, 415, ERR_MALFORMED, "unsupported_media_type",
		       "send the body as application/json");
		return -1;
	}
	if (rq->body.len == 0) {
		refuse(rq, 400, ERR_MALFORMED, "malformed_json",
		       "a JSON object is required");
		return -1;
	}
	struct error e;
	rq->req.json = jsonx_parse(rq->body.p, rq->body.len, &e);
	if (!rq->req.json) {
		refuse(rq, 400, ERR_MALFORMED, "malformed_json", e.detail);
		return -1;
	}
	if (!json_is_object(rq->req.json)) {
		refuse(rq, 400, ERR_MALFORMED, "malformed_json",
		       "the body must be a JSON object");
		return -1;
	}
	return 0;
}

/* --------------------------------------------------------- request flow */

static struct request *request_begin(struct listener *l,
				     struct MHD_Connection *c, const char *url,
				     const char *method)
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
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci)
		peer_text(ci->client_addr, rq->req.peer, sizeof(rq->req.peer));

	rq->req.method = method_parse(method);
	if (!rq->req.method) {
		refuse(rq, 405, ERR_METHOD, "method_not_allowed",
		       "method not supported");
		return rq;
	}
	if (strlen(url) > LIMIT_URL) {
		refuse(rq, 414, ERR_MALFORMED, "uri_too_long", "URI too long");
		return rq;
	}
	/* HEAD is answered wherever GET is. */
	enum http_method m = rq->req.method == METHOD_HEAD ? METHOD_GET
							   : rq->req.method;
	size_t idx;
	size_t scratch_len = strlen(url) + 1;
	rq->scratch = xmalloc(scratch_len);
	enum route_match match = router_find(
		srv->opt.routes, srv->opt.nroutes, l->id, m, url, rq->scratch,
		scratch_len, rq->req.params, &rq->req.nparams, &idx);
	if (match == MATCH_NO_PATH) {
		refuse(rq, 404, ERR_NOT_FOUND, "not_found", "no such resource");
		return rq;
	}
	if (match == MATCH_NO_METHOD) {
		refuse(rq, 405, ERR_METHOD, "method_not_allowed",
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

/* Refuse by the declared Content-Length, before reading any of it. */
static bool declared_too_large(struct request *rq)
{
	const char *cl = http_header(&rq->req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (!cl)
		return false;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(cl, &end, 10);
	if (errno || end == cl || n > rq->body_limit) {
		refuse(rq, 413, ERR_TOO_LARGE, "body_too_large",
		       "request body larger than this endpoint accepts");
		return true;
	}
	return false;
}

static bool rate_limited(struct request *rq, const struct http_route *r)
{
	struct http_server *srv = rq->l->srv;
	if (r->auth != AUTH_NONE || rq->req.method != METHOD_POST ||
	    ratelimit_allow(srv->anonymous, rq->req.peer, strlen(rq->req.peer)))
		return false;
	refuse(rq, 429, ERR_RATE_LIMITED, "rate_limited",
	       "too many requests from your address; try again shortly");
	return true;
}

static enum MHD_Result finish(struct request *rq)
{
	struct http_server *srv = rq->l->srv;
	const struct http_route *r = rq->req.route;
	if (!rq->refused)
		rate_limited(rq, r);
	if (!rq->refused && authenticate(rq, r) == 0 &&
	    prepare_body(rq, r) == 0) {
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
			atomic_fetch_add(&srv->suspended, 1);
			MHD_suspend_connection(rq->conn);
			rq->res.defer(&rq->req, &rq->res, rq->res.defer_ctx);
			return MHD_YES;
		}
	}
	return send_response(rq);
}

void http_resume(struct http_request *req)
{
	struct request *rq = req->internal;
	struct http_server *srv = rq->l->srv;
	atomic_store_explicit(&rq->resumed, true, memory_order_release);
	MHD_resume_connection(rq->conn);
	atomic_fetch_sub(&srv->suspended, 1);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	KP_UNUSED(version);
	struct request *rq = *con_cls;
	if (rq && rq->deferred) /* called again once resumed */
		return atomic_load_explicit(&rq->resumed, memory_order_acquire)
			       ? send_response(rq)
			       : MHD_YES;
	if (!rq) {
		rq = request_begin(cls, c, url, method);
		*con_cls = rq;
		if (!rq->refused && declared_too_large(rq))
			return send_response(rq);
		return MHD_YES;
	}
	if (*upload_size) {
		if (!rq->refused &&
		    buf_append(&rq->body, upload, *upload_size) != 0) {
			refuse(rq, 413, ERR_TOO_LARGE, "body_too_large",
			       "request body larger than this endpoint "
			       "accepts");
			buf_free(&rq->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	return finish(rq);
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
	log_str(&l, "route", rq->req.route ? rq->req.route->pattern : "-");
	log_int(&l, "status", rq->status);
	log_int(&l, "us", (int64_t)(ns / 1000));
	if (rq->res.err.code)
		log_str(&l, "code", rq->res.err.code);
	if (rq->req.who.kind == AUTH_INSTITUTION)
		log_str(&l, "institution", rq->req.who.kbo);
	if (rq->res.ticket[0])
		log_str(&l, "ticket", rq->res.ticket);
	log_end_buffered(&l);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	KP_UNUSED(cls);
	KP_UNUSED(c);
	KP_UNUSED(toe);
	struct request *rq = *con_cls;
	if (!rq)
		return;
	uint64_t ns = time_mono_ns() - rq->start_ns;
	metrics_record(rq->l->srv->metrics, rq->route_idx,
		       rq->req.method ? rq->req.method : METHOD_GET, rq->status,
		       ns);
	access_log(rq, ns);
	secret_wipe(rq->req.who.token, sizeof(rq->req.who.token));
	json_decref(rq->req.json);
	json_decref(rq->res.json);
	json_decref(rq->res.problem_extra);
	free(rq->res.text);
	free(rq->scratch);
	buf_free(&rq->body);
	free(rq);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	KP_UNUSED(cls);
	KP_UNUSED(c);
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		*socket_ctx = xcalloc(1, sizeof(struct conn_state));
	} else {
		free(*socket_ctx);
		*socket_ctx = NULL;
	}
}

KP_PRINTF(2, 0)
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct listener *l = cls;
	char msg[LIMIT_LOG_VALUE];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = '\0';
	struct log_line line;
	log_begin(&line, LV_WARN, "libmicrohttpd", msg);
	log_str(&line, "listener", l->name);
	log_end(&line);
}

/* ------------------------------------------------------------ listeners */

static int listener_tls(struct listener *l, const struct config *cfg,
			struct error *e)
{
	char path[LIMIT_PATH];
	const struct listener_config *lc = l->cfg;
	if (config_path(cfg, lc->tls_cert, path, sizeof(path)) != 0 ||
	    !(l->cert_pem = read_file(path, 256 * 1024, NULL, e)))
		return -1;
	if (config_path(cfg, lc->tls_key, path, sizeof(path)) != 0 ||
	    !(l->key_pem = read_file(path, 64 * 1024, &l->key_len, e)))
		return -1;
	return 0;
}

/* The trust anchors client certificates are verified against. */
static int listener_trust(struct listener *l, const struct config *cfg,
			  struct error *e)
{
	const struct listener_config *lc = l->cfg;
	if (!lc->client_ca[0]) {
		if (lc->client_cert != CLIENT_CERT_NONE && !lc->behind_proxy)
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.client_cert needs %s.client_ca",
				       l->name, l->name);
		return 0;
	}
	char ca[LIMIT_PATH], crl[LIMIT_PATH] = "";
	if (config_path(cfg, lc->client_ca, ca, sizeof(ca)) != 0 ||
	    (lc->crl[0] && config_path(cfg, lc->crl, crl, sizeof(crl)) != 0))
		return err_set(e, ERR_INVALID, "config_invalid", "path too long");
	if (tls_trust_load(ca, crl, &l->trust, e) != 0)
		return -1;
	if (lc->tls && !lc->behind_proxy &&
	    !(l->ca_pem = read_file(ca, 1024 * 1024, NULL, e)))
		return -1;
	return 0;
}

static int listener_proxies(struct listener *l, struct error *e)
{
	char list[sizeof(l->cfg->proxy_addresses)];
	str_copy(list, sizeof(list), l->cfg->proxy_addresses);
	char *save = NULL;
	for (char *tok = strtok_r(list, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save)) {
		if (l->nproxies == LIMIT_PROXY_ADDRESSES ||
		    !parse_ip(tok, &l->proxies[l->nproxies]))
			return err_set(e, ERR_INVALID, "config_invalid",
				       "%s.proxy_addresses: bad or too many "
				       "addresses", l->name);
		l->nproxies++;
	}
	if (l->cfg->behind_proxy && l->nproxies == 0)
		return err_set(e, ERR_INVALID, "config_invalid",
			       "%s.behind_proxy needs %s.proxy_addresses",
			       l->name, l->name);
	return 0;
}

static int listener_bind(const struct listener *l, struct sockaddr_storage *ss,
			 bool *v6, struct error *e)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)(void *)ss;
	uint16_t port = htons((uint16_t)l->cfg->port);
	if (inet_pton(AF_INET, l->cfg->address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = port;
		*v6 = false;
	} else if (inet_pton(AF_INET6, l->cfg->address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		*v6 = true;
	} else {
		return err_set(e, ERR_INVALID, "config_invalid",
			       "%s.address must be an IP address", l->name);
	}
	return 0;
}

static int listener_start(struct listener *l, const struct config *cfg,
			  unsigned threads, struct error *e)
{
	const struct listener_config *lc = l->cfg;
	/* Secure by default: plain HTTP only where nobody else can reach it
	 * (loopback, e.g. behind a TLS-terminating proxy on this host). */
	if (!lc->tls && !is_loopback(lc->address))
		return err_set(e, ERR_INVALID, "config_invalid",
			       "%s: tls = false is only allowed on a loopback "
			       "address", l->name);
	if ((lc->tls && listener_tls(l, cfg, e) != 0) ||
	    listener_trust(l, cfg, e) != 0 || listener_proxies(l, e) != 0)
		return -1;
	struct sockaddr_storage ss;
	bool v6 = false;
	if (listener_bind(l, &ss, &v6, e) != 0)
		return -1;

	struct MHD_OptionItem opts[16];
	size_t n = 0;
#define OPT(o, v, p) opts[n++] = (struct MHD_OptionItem){o, (intptr_t)(v), p}
	/* The logger first: options before it would log elsewhere. */
	OPT(MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l);
	OPT(MHD_OPTION_SOCK_ADDR, 0, &ss);
	OPT(MHD_OPTION_THREAD_POOL_SIZE, threads, NULL);
	OPT(MHD_OPTION_CONNECTION_LIMIT, LIMIT_CONNECTIONS, NULL);
	OPT(MHD_OPTION_PER_IP_CONNECTION_LIMIT, LIMIT_CONNECTIONS_PER_IP, NULL);
	OPT(MHD_OPTION_CONNECTION_TIMEOUT, LIMIT_CONNECTION_IDLE_S, NULL);
	OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL);
	OPT(MHD_OPTION_NOTIFY_CONNECTION, on_connection, NULL);
	if (lc->tls) {
		OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, l->cert_pem);
		OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, l->key_pem);
		OPT(MHD_OPTION_HTTPS_PRIORITIES, 0,
		    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
		/* Giving libmicrohttpd the CA makes it ask for a client
		 * certificate; judging it is ours (tls.c). */
		if (l->ca_pem && lc->client_cert != CLIENT_CERT_NONE)
			OPT(MHD_OPTION_HTTPS_MEM_TRUST, 0, l->ca_pem);
	}
	OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME |
			 (lc->tls ? MHD_USE_TLS : 0) | (v6 ? MHD_USE_IPv6 : 0);
	l->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l,
				     MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!l->daemon)
		return err_set(e, ERR_UNAVAILABLE, "listen_failed",
			       "cannot listen on %s port %d (%s listener)",
			       lc->address, lc->port, l->name);
	const union MHD_DaemonInfo *di =
		MHD_get_daemon_info(l->daemon, MHD_DAEMON_INFO_BIND_PORT);
	l->port = di ? di->port : lc->port;
	return 0;
}

static void listener_stop(struct listener *l)
{
	if (l->daemon)
		MHD_stop_daemon(l->daemon);
	tls_trust_free(l->trust);
	if (l->key_pem)
		secret_wipe(l->key_pem, l->key_len);
	free(l->key_pem);
	free(l->cert_pem);
	free(l->ca_pem);
	memset(l, 0, sizeof(*l));
}

int http_server_start(const struct http_server_options *opt,
		      struct http_server **out, struct error *e)
{
	if (router_check(opt->routes, opt->nroutes, e) != 0)
		return -1;
	struct http_server *srv = xcalloc(1, sizeof(*srv));
	srv->opt = *opt;
	srv->metrics = metrics_new(opt->nroutes);
	srv->anonymous = ratelimit_new(opt->cfg->public_posts_per_second,
				       2.0 * opt->cfg->public_posts_per_second,
				       4096);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = opt->cfg->threads > 0 ? (unsigned)opt->cfg->threads
			   : cores > 0		  ? (unsigned)cores
						  : 1;
	const struct {
		enum http_listener id;
		const char *name;
		const struct listener_config *cfg;
	} defs[] = {
		{LISTENER_PUBLIC, "public", &opt->cfg->public_listener},
		{LISTENER_NETWORK, "network", &opt->cfg->network_listener},
	};
	for (size_t i = 0; i < KP_NELEM(defs); i++) {
		struct listener *l = &srv->listeners[i];
		if (!defs[i].cfg->enabled)
			continue;
		l->id = defs[i].id;
		l->name = defs[i].name;
		l->cfg = defs[i].cfg;
		l->srv = srv;
		if (listener_start(l, opt->cfg, threads, e) != 0) {
			http_server_stop(srv);
			return -1;
		}
	}
	*out = srv;
	return 0;
}

void http_server_stop(struct http_server *srv)
{
	if (!srv)
		return;
	/* Take no new connections, then let deferred answers finish (their
	 * audit events are on their way): libmicrohttpd must not stop with a
	 * connection suspended. */
	for (size_t i = 0; i < KP_NELEM(srv->listeners); i++)
		if (srv->listeners[i].daemon) {
			MHD_socket fd = MHD_quiesce_daemon(srv->listeners[i].daemon);
			if (fd != MHD_INVALID_SOCKET)
				close(fd); /* ours now, says libmicrohttpd */
		}
	for (int i = 0; i < 10000 && atomic_load(&srv->suspended) > 0; i++) {
		const struct timespec ms = {0, 1000 * 1000};
		nanosleep(&ms, NULL);
	}
	for (size_t i = 0; i < KP_NELEM(srv->listeners); i++)
		listener_stop(&srv->listeners[i]);
	metrics_free(srv->metrics);
	ratelimit_free(srv->anonymous);
	free(srv);
}

int http_server_port(const struct http_server *srv, enum http_listener l)
{
	for (size_t i = 0; i < KP_NELEM(srv->listeners); i++)
		if (srv->listeners[i].id == l && srv->listeners[i].daemon)
			return srv->listeners[i].port;
	return 0;
}

const char *http_query(struct http_request *req, const char *key)
{
	struct request *rq = req->internal;
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(struct http_request *req, const char *name)
{
	struct request *rq = req->internal;
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

char *http_metrics_render(struct http_server *srv, size_t *len)
{
	return metrics_render(srv->metrics, srv->opt.routes, len);
}

struct http_server *http_request_server(struct http_request *req)
{
	struct request *rq = req->internal;
	return rq->l->srv;
}
