/*
 * External keys by federation (src/federation, docs/OIDC.md): the login
 * page's list of providers, the start of a login with one, and the
 * provider's redirect back. src/federation records the events; these
 * handlers carry the cookies.
 */
#include <stdlib.h>

#include "api/api.h"
#include "federation/federation.h"

/* The browser's binding to its login under way. It must come back on the
 * provider's redirect, a top-level navigation from the provider's site:
 * SameSite=Lax (http_cookie_set_lax), never Strict. */
#define FEDERATION_COOKIE "__Host-kp_federation"

int api_auth_providers(struct http_request *req, struct http_response *res,
		       void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	json_t *l = federation_provider_list(a->federation, true, &res->err);
	return l ? http_reply_json(res, 200, l) : -1;
}

/* Not from another site's page (Sec-Fetch-Site: cross-site): a page that
 * started a login in someone's browser could finish it with its own
 * account there (login CSRF). */
int api_federation_start(struct http_request *req, struct http_response *res,
			 void *app)
{
	struct app *a = app;
	if (http_cross_site(req))
		return err_set(&res->err, ERR_FORBIDDEN, "csrf_failed",
			       "start the login from the portal's pages");
	struct federation_begin b;
	if (federation_start(a->federation, req->params[0],
			     http_return_path(http_query(req, "return")), &b,
			     &res->err) != 0)
		return -1;
	http_cookie_set_lax(res, FEDERATION_COOKIE, b.binding,
			    FEDERATION_LOGIN_TTL_S);
	http_redirect(res, b.location);
	res->status = 302;
	federation_begin_free(&b);
	return 0;
}

/* The provider's redirect back (cross-site by nature: no Sec-Fetch-Site
 * check; the state and the cookie are the check). The cookie is spent
 * whatever the outcome. */
int api_federation_callback(struct http_request *req,
			    struct http_response *res, void *app)
{
	struct app *a = app;
	http_cookie_set_lax(res, FEDERATION_COOKIE, NULL, 0);
	struct audit_actor by = api_actor(req);
	char token[TOKEN_HEX_LEN], back[512];
	struct auth_session s;
	if (federation_callback(a->federation, &by, http_query(req, "code"),
				http_query(req, "state"),
				http_query(req, "error"),
				http_cookie(req, FEDERATION_COOKIE), token, &s,
				back, &res->err) != 0)
		return -1;
	int64_t left = s.expires_at - time_now();
	http_session_cookie(res, token, left > 0 ? left : 1);
	secret_wipe(token, sizeof(token));
	return http_redirect(res, http_return_path(back));
}
