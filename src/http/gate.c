/*
 * The gate: what a request must show before its handler runs. The
 * listener's and the route's certificate requirement (from TLS, or from a
 * trusted proxy's header), the institution behind a certificate, the
 * session with its level and role, the anonymous rate limit, and behind
 * a proxy the real client's requests in flight. All of
 * them are decided from the request's headers on its first call, before
 * any of its body is read. Each check that fails records a refusal; the
 * handler then never runs.
 */
#include <string.h>
#include <strings.h>

#include "http/http_internal.h"

/* Record a refusal before the handler. status 0 derives it from kind. */
void gate_refuse(struct request *rq, int status, enum err_kind kind,
		 const char *code, const char *detail)
{
	rq->refused = true;
	rq->res.status = status;
	err_set(&rq->res.err, kind, code, "%s", detail);
}

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
		      r->auth == AUTH_INSTITUTION ||
		      r->auth == AUTH_ORGANISATION;
	if (!needed)
		return 0;
	if (!cert) {
		gate_refuse(rq, 401, ERR_UNAUTHENTICATED,
			    "certificate_required",
			    "this endpoint requires a TLS client certificate");
		return -1;
	}
	if (!cert->verified) {
		log_cert_refusal(rq, cert->reason);
		gate_refuse(rq, 401, ERR_UNAUTHENTICATED,
			    "certificate_rejected",
			    cert->reason ? cert->reason
					 : "certificate rejected");
		return -1;
	}
	return 0;
}

/* The session token: "Authorization: Bearer <hex>", or else, on the
 * public listener of a server that does cookie sessions, the portal's
 * cookie. A request with both is the header's: a page cannot make a
 * browser send an Authorization header to another site, so the header
 * needs no CSRF check, and a cookie beside it changes nothing. Any
 * Authorization header, Bearer or not, rules the cookie out. */
static const char *session_token(struct request *rq, bool *cookie)
{
	struct http_server *srv = rq->l->srv;
	const char *h = http_header(&rq->req, MHD_HTTP_HEADER_AUTHORIZATION);
	*cookie = false;
	if (h)
		return strncasecmp(h, "Bearer ", 7) == 0 ? h + 7 : NULL;
	if (rq->l->id != LISTENER_PUBLIC || !srv->opt.csrf ||
	    !srv->opt.public_url)
		return NULL;
	const char *c = http_cookie(&rq->req, HTTP_SESSION_COOKIE);
	if (!c || !c[0])
		return NULL;
	*cookie = true;
	return c;
}

static int csrf_refuse(struct request *rq, const char *why)
{
	struct log_line line;
	log_begin(&line, LV_WARN, __func__, "security: CSRF check failed");
	log_str(&line, "reason", why);
	log_str(&line, "peer", rq->req.peer);
	log_str(&line, "request_id", rq->req.request_id);
	log_end(&line);
	gate_refuse(rq, 403, ERR_FORBIDDEN, "csrf_failed",
		    "this request did not come from the portal's own pages");
	return -1;
}

static bool method_safe(const struct request *rq)
{
	return rq->req.method == METHOD_GET || rq->req.method == METHOD_HEAD;
}

/* Did a state-changing request come from a page of another site? Browsers
 * say so in Sec-Fetch-Site and Origin, which no page can set; a client
 * that sends neither (curl, an app) is no browser and has no ambient
 * cookie to abuse. Returns 0, or -1 with the refusal recorded. */
static int check_origin(struct request *rq)
{
	struct http_server *srv = rq->l->srv;
	const char *site = http_header(&rq->req, "Sec-Fetch-Site");
	if (site && strcasecmp(site, "cross-site") == 0)
		return csrf_refuse(rq, "Sec-Fetch-Site: cross-site");
	const char *origin = http_header(&rq->req, "Origin");
	if (!origin)
		return 0;
	char ours[256];
	const char *url = srv->opt.public_url ? srv->opt.public_url(srv->opt.app)
					      : NULL;
	if (!url || http_origin_of(url, ours, sizeof(ours)) != 0 ||
	    strcasecmp(origin, ours) != 0)
		return csrf_refuse(rq, "Origin is not the portal's");
	return 0;
}

/* Whether the request carries the session's CSRF value. */
static bool csrf_given(struct request *rq, const char *token)
{
	struct http_server *srv = rq->l->srv;
	const char *given = http_header(&rq->req, HTTP_CSRF_HEADER);
	if (!given || strlen(given) != HTTP_CSRF_HEX - 1)
		return false;
	char want[HTTP_CSRF_HEX];
	srv->opt.csrf(srv->opt.app, token, want);
	bool ok = ct_equal(want, given, HTTP_CSRF_HEX - 1);
	secret_wipe(want, sizeof(want));
	return ok;
}

/* A cookie session's state-changing request carries the session's CSRF
 * value (the MAC of its token under the server's key) in a header: a
 * page of another site can make the browser send the cookie, but can
 * neither read it nor the value, nor set a header without a CORS
 * preflight we never grant. A GET changes no state but may still leave a
 * trace (a search a registration officer makes is an audit event), and
 * SameSite=Strict lets a sibling host's page (same site) send the cookie
 * with an <img>: so a cookie GET needs the CSRF value too, unless the
 * browser says the request came from the portal's own pages or from the
 * user (Sec-Fetch-Site: same-origin or none, which no page can forge:
 * a download link, a reload). */
static int check_csrf(struct request *rq, const char *token)
{
	if (method_safe(rq)) {
		const char *site = http_header(&rq->req, "Sec-Fetch-Site");
		if (csrf_given(rq, token) ||
		    (site && (strcasecmp(site, "same-origin") == 0 ||
			      strcasecmp(site, "none") == 0)))
			return 0;
		return csrf_refuse(rq, "a cookie GET from elsewhere");
	}
	if (check_origin(rq) != 0)
		return -1;
	return csrf_given(rq, token) ? 0
				     : csrf_refuse(rq, "no or wrong CSRF value");
}

/* What a resolver's failure is when it did not say (it must). */
#define RESOLVER_FAILED                                                      \
	((struct error){.kind = ERR_INTERNAL, .code = "internal_error"})

static int authenticate_session(struct request *rq, const struct http_route *r)
{
	struct http_server *srv = rq->l->srv;
	bool cookie;
	const char *token = session_token(rq, &cookie);
	/* Checked before the session is even looked up: a forged request
	 * costs no database read and changes nothing. */
	if (token && cookie && check_csrf(rq, token) != 0)
		return -1;
	struct error e = RESOLVER_FAILED;
	int rc = token && srv->opt.resolve_session
		 ? srv->opt.resolve_session(srv->opt.app, token, &rq->req.who,
					    &e)
		 : 1;
	if (rc < 0) {
		gate_refuse(rq, 0, e.kind, e.code, e.detail);
		return -1;
	}
	if (rc > 0) {
		gate_refuse(rq, 401, ERR_UNAUTHENTICATED, "not_authenticated",
			    "log in first: no valid session");
		return -1;
	}
	rq->req.who.kind = AUTH_SESSION;
	rq->req.who.cookie = cookie;
	str_copy(rq->req.who.token, sizeof(rq->req.who.token), token);
	if (rq->req.who.level < r->min_level) {
		gate_refuse(rq, 403, ERR_FORBIDDEN, "insufficient_level",
			    "this needs a digital key of a higher level");
		rq->res.problem_extra = json_pack("{s:i,s:i}", "required",
						  r->min_level, "current",
						  rq->req.who.level);
		return -1;
	}
	const char *why = !r->role ? NULL
			  : srv->opt.has_role
			  ? srv->opt.has_role(srv->opt.app, &rq->req, r->role)
			  : "missing";
	if (why) {
		gate_refuse(rq, 403, ERR_FORBIDDEN, "role_required",
			    "this needs a role you do not hold (now)");
		rq->res.problem_extra = json_pack("{s:s,s:s}", "role", r->role,
						  "reason", why);
		return -1;
	}
	return 0;
}

/* The natural person an organisation's system names (header
 * Kruispunt-On-Behalf-Of): absent, or a valid INSZ, kept as digits. */
static int read_on_behalf_of(struct request *rq)
{
	const char *v = http_header(&rq->req, HTTP_ON_BEHALF_OF);
	if (!v)
		return 0;
	struct insz id;
	if (insz_parse(v, strlen(v), &id) != ID_OK) {
		gate_refuse(rq, 400, ERR_INVALID, "invalid_on_behalf_of",
			    HTTP_ON_BEHALF_OF ": not a valid INSZ");
		return -1;
	}
	str_copy(rq->req.who.on_behalf_of, sizeof(rq->req.who.on_behalf_of),
		 id.digits);
	return 0;
}

/* The organisation behind the certificate; an institution where the
 * route needs one. */
static int authenticate_certificate(struct request *rq,
				    const struct http_route *r)
{
	struct http_server *srv = rq->l->srv;
	struct error e = RESOLVER_FAILED;
	int rc = srv->opt.resolve_institution
			 ? srv->opt.resolve_institution(
				   srv->opt.app, rq->req.cert->fingerprint,
				   &rq->req.who, &e)
			 : 1;
	if (rc < 0) {
		gate_refuse(rq, 0, e.kind, e.code, e.detail);
		return -1;
	}
	if (rc > 0 || (r->auth == AUTH_INSTITUTION && !rq->req.who.institution_id)) {
		/* A trusted certificate of nobody we know, or of an
		 * organisation where an institution must ask: still
		 * unauthenticated on this route (401), as it always was. */
		log_cert_refusal(rq, "certificate of no institution");
		gate_refuse(rq, 401, ERR_UNAUTHENTICATED,
			    "unknown_institution",
			    "this certificate is not registered to an "
			    "institution of the network");
		return -1;
	}
	rq->req.who.kind = rq->req.who.institution_id ? AUTH_INSTITUTION
						      : AUTH_ORGANISATION;
	return read_on_behalf_of(rq);
}

static int gate_authenticate(struct request *rq, const struct http_route *r)
{
	if (check_certificate(rq, r) != 0)
		return -1;
	if (r->auth == AUTH_INSTITUTION || r->auth == AUTH_ORGANISATION)
		return authenticate_certificate(rq, r);
	if (r->auth == AUTH_SESSION)
		return authenticate_session(rq, r);
	return 0;
}

static bool gate_rate_limited(struct request *rq, const struct http_route *r)
{
	struct http_server *srv = rq->l->srv;
	bool limited = (r->auth == AUTH_NONE &&
			rq->req.method == METHOD_POST) ||
		       r->auth == AUTH_ANON_LIMITED;
	if (!limited ||
	    ratelimit_allow(srv->anonymous, rq->req.peer, strlen(rq->req.peer)))
		return false;
	gate_refuse(rq, 429, ERR_RATE_LIMITED, "rate_limited",
		    "too many requests from your address; try again shortly");
	return true;
}

/* Behind a proxy the per-address connection cap would see the proxy
 * alone: a real client gets as many requests in flight as it would get
 * connections without one. */
static bool gate_inflight(struct request *rq)
{
	struct http_server *srv = rq->l->srv;
	if (!rq->via_proxy)
		return false;
	if (addr_counts_take(srv->inflight, rq->req.peer, srv->per_address)) {
		rq->counted = true;
		return false;
	}
	gate_refuse(rq, 429, ERR_RATE_LIMITED, "too_many_in_flight",
		    "too many requests in flight from your address");
	return true;
}

/* A login that asks for a cookie session is held to the same origin
 * rules as the cookie's later use: no other site may log a browser in
 * (login CSRF). */
static int gate_cookie_login(struct request *rq)
{
	if (method_safe(rq) || !http_header(&rq->req, HTTP_SESSION_MODE))
		return 0;
	return check_origin(rq);
}

int gate_check(struct request *rq)
{
	const struct http_route *r = rq->req.route;
	if (gate_inflight(rq) || gate_rate_limited(rq, r) ||
	    gate_cookie_login(rq) != 0 || gate_authenticate(rq, r) != 0)
		return -1;
	return 0;
}

bool http_cross_site(struct http_request *req)
{
	const char *site = http_header(req, "Sec-Fetch-Site");
	return site && strcasecmp(site, "cross-site") == 0;
}
