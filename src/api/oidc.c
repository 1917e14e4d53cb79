/*
 * OpenID Connect over HTTP (src/oidc does the work): discovery, keys, the
 * authorization endpoint, the portal's view of a waiting request and its
 * answer, and the endpoints clients call (token, userinfo, introspection,
 * revocation). The client endpoints answer errors the way RFC 6749 5.2
 * and RFC 6750 3 prescribe (application/json with error and
 * error_description; WWW-Authenticate on a 401), because off-the-shelf
 * clients read exactly that; a stable `code` member repeats the error.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

#define OIDC_BINDING_COOKIE "__Host-kp_oidc"

int api_oidc_discovery(struct http_request *req, struct http_response *res,
		       void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	res->cache_control = "max-age=300";
	return http_reply_json(res, 200, oidc_discovery(a->oidc));
}

int api_oidc_jwks(struct http_request *req, struct http_response *res,
		  void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	res->cache_control = "max-age=300";
	return http_reply_json(res, 200, oidc_jwks(a->oidc));
}

/* A request the browser brings to the portal (a login, a logout): GET
 * with the query, POST with the form (OpenID Connect Core 3.1.2.1). */
static int to_portal(struct http_request *req, struct http_response *res,
		     struct oidc *o,
		     int (*begin)(struct oidc *, json_t *, struct oidc_begin *,
				  struct error *))
{
	json_t *params = req->method == METHOD_POST ? json_incref(req->json)
						    : http_query_object(req);
	if (!params)
		return err_set(&res->err, ERR_MALFORMED, "invalid_request",
			       "a parameter is given twice, or is not UTF-8");
	struct oidc_begin b;
	int rc = begin(o, params, &b, &res->err);
	json_decref(params);
	if (rc != 0)
		return -1;
	if (b.binding[0])
		http_cookie_set(res, OIDC_BINDING_COOKIE, b.binding,
				oidc_request_ttl(o));
	http_redirect(res, b.location);
	res->status = 302;
	secret_wipe(b.binding, sizeof(b.binding));
	oidc_begin_free(&b);
	return 0;
}

int api_oidc_authorize(struct http_request *req, struct http_response *res,
		       void *app)
{
	return to_portal(req, res, ((struct app *)app)->oidc, oidc_authorize);
}

int api_oidc_logout(struct http_request *req, struct http_response *res,
		    void *app)
{
	return to_portal(req, res, ((struct app *)app)->oidc, oidc_logout);
}

int api_oidc_request(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	json_t *v = oidc_request_view(a->oidc, req->params[0],
				      http_cookie(req, OIDC_BINDING_COOKIE),
				      NULL, &res->err);
	return v ? http_reply_json(res, 200, v) : -1;
}

static int answer(struct http_request *req, struct http_response *res,
		  struct app *a, bool with_session)
{
	struct audit_actor by = api_actor(req);
	struct auth_session s;
	const struct auth_session *sp = NULL;
	if (with_session) {
		if (auth_session_check(a->auth, req->who.token, &s) != 0)
			return err_set(&res->err, ERR_UNAUTHENTICATED,
				       "not_authenticated",
				       "the session has ended");
		sp = &s;
	}
	char *url = oidc_request_continue(
		a->oidc, &by, req->params[0],
		http_cookie(req, OIDC_BINDING_COOKIE),
		with_session ? req->who.token : NULL, sp, !with_session,
		&res->err);
	if (!url)
		return -1;
	http_cookie_set(res, OIDC_BINDING_COOKIE, NULL, 0);
	json_t *j = json_pack("{s:s}", "redirect", url);
	free(url);
	return http_reply_json(res, 200, j);
}

int api_oidc_continue(struct http_request *req, struct http_response *res,
		      void *app)
{
	return answer(req, res, app, true);
}

int api_oidc_cancel(struct http_request *req, struct http_response *res,
		    void *app)
{
	return answer(req, res, app, false);
}

/* An OAuth error as clients expect it. */
static int oauth_error(struct http_response *res, const struct oidc_error *e,
		       const char *scheme)
{
	if (e->challenge)
		res->www_authenticate = scheme;
	return http_reply_json(res, e->status ? e->status : 400,
			       json_pack("{s:s,s:s,s:s}", "error",
					 e->error ? e->error : "server_error",
					 "error_description", e->description,
					 "code",
					 e->error ? e->error : "server_error"));
}

int api_oidc_token(struct http_request *req, struct http_response *res,
		   void *app)
{
	struct app *a = app;
	struct oidc_error e;
	json_t *t = oidc_token(a->oidc, http_header(req, "Authorization"),
			       req->json, &e);
	return t ? http_reply_json(res, 200, t)
		 : oauth_error(res, &e, "Basic realm=\"kruispunt\"");
}

int api_oidc_userinfo(struct http_request *req, struct http_response *res,
		      void *app)
{
	struct app *a = app;
	struct oidc_error e;
	json_t *c = oidc_userinfo(a->oidc, http_header(req, "Authorization"),
				  &e);
	return c ? http_reply_json(res, 200, c)
		 : oauth_error(res, &e,
			       "Bearer realm=\"kruispunt\", "
			       "error=\"invalid_token\"");
}

int api_oidc_introspect(struct http_request *req, struct http_response *res,
			void *app)
{
	struct app *a = app;
	struct oidc_error e;
	json_t *j = oidc_introspect(a->oidc, http_header(req, "Authorization"),
				    req->json, &e);
	return j ? http_reply_json(res, 200, j)
		 : oauth_error(res, &e, "Basic realm=\"kruispunt\"");
}

int api_oidc_revoke(struct http_request *req, struct http_response *res,
		    void *app)
{
	struct app *a = app;
	struct oidc_error e;
	if (oidc_revoke(a->oidc, http_header(req, "Authorization"), req->json,
			&e) != 0)
		return oauth_error(res, &e, "Basic realm=\"kruispunt\"");
	return http_reply_json(res, 200, json_object());
}
