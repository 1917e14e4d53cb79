/* The citizen's side of a registration office's activation (docs/API.md
 * "Activation") and the eID self-service of username and
 * password. src/auth decides, limits and records every step; handlers
 * read the body, say how long to wait after a 429 and mask addresses. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "auth/auth.h"

/* A refused step: a 429 says how long to wait. */
static int step_refused(struct app *a, struct http_response *res)
{
	if (res->err.kind == ERR_RATE_LIMITED)
		res->problem_extra = json_pack(
			"{s:i}", "retry_after", auth_activation_retry_after(a->auth));
	return -1;
}

int api_activation_start(struct http_request *req, struct http_response *res,
			 void *app)
{
	struct app *a = app;
	const char *link, *code;
	if (jsonx_str(req->json, "link_token", true, 128, &link, &res->err) != 0 ||
	    jsonx_str(req->json, "activation_code", true, 64, &code,
		      &res->err) != 0)
		return -1;
	char id[TOKEN_HEX_LEN];
	struct audit_actor by = api_actor(req);
	if (auth_activation_start(a->auth, &by, link, code, id, &res->err) != 0)
		return step_refused(a, res);
	int rc = http_reply_json(res, 200, json_pack("{s:s}", "activation_id",
						     id));
	secret_wipe(id, sizeof(id));
	return rc;
}

/* The answer to a choice: the username, and the app's URI and QR code
 * or where the registration code went. */
static json_t *choice_json(const struct auth_activation_choice *c, int ttl)
{
	json_t *j = json_pack("{s:s}", "username", c->username);
	if (c->otpauth_uri) {
		json_object_set_new(j, "otpauth_uri", json_string(c->otpauth_uri));
		json_object_set_new(j, "qr_png_base64",
				    json_string(c->qr_png_base64));
		return j;
	}
	char shown[128];
	api_mask(c->sent_to, shown, sizeof(shown));
	json_object_set_new(j, "sent_to", json_string(shown));
	json_object_set_new(j, "code_valid_s", json_integer(ttl));
	return j;
}

int api_activation_credentials(struct http_request *req,
			       struct http_response *res, void *app)
{
	struct app *a = app;
	struct auth_activation_credentials c = {0};
	if (jsonx_str(req->json, "username", false, AUTH_USERNAME_MAX + 1,
		      &c.username, &res->err) < 0 ||
	    jsonx_str(req->json, "password", true, AUTH_PASSWORD_MAX + 1,
		      &c.password, &res->err) != 0 ||
	    jsonx_str(req->json, "key", true, 16, &c.key, &res->err) != 0)
		return -1;
	struct auth_activation_choice out;
	struct audit_actor by = api_actor(req);
	if (auth_activation_credentials(a->auth, &by, req->params[0], &c, &out,
					&res->err) != 0)
		return step_refused(a, res);
	int rc = http_reply_json(res, 200,
				 choice_json(&out, auth_registration_code_ttl(
							   a->auth)));
	if (out.otpauth_uri)
		secret_wipe(out.otpauth_uri, strlen(out.otpauth_uri));
	free(out.otpauth_uri);
	free(out.qr_png_base64);
	return rc;
}

int api_activation_resend(struct http_request *req, struct http_response *res,
			  void *app)
{
	struct app *a = app;
	char to[128], shown[128];
	struct audit_actor by = api_actor(req);
	if (auth_activation_resend(a->auth, &by, req->params[0], to,
				   &res->err) != 0)
		return step_refused(a, res);
	api_mask(to, shown, sizeof(shown));
	return http_reply_json(res, 202, json_pack("{s:s}", "sent_to", shown));
}

int api_activation_complete(struct http_request *req,
			    struct http_response *res, void *app)
{
	struct app *a = app;
	const char *code;
	if (jsonx_str(req->json, "code", true, 16, &code, &res->err) != 0)
		return -1;
	struct audit_actor by = api_actor(req);
	if (auth_activation_complete(a->auth, &by, req->params[0], code,
				     &res->err) != 0)
		return step_refused(a, res);
	return http_reply_json(res, 200, json_pack("{s:s}", "status", "active"));
}

int api_me_credentials(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	const char *user = NULL, *pw;
	if (jsonx_str(req->json, "username", false, AUTH_USERNAME_MAX + 1,
		      &user, &res->err) < 0 ||
	    jsonx_str(req->json, "password", true, AUTH_PASSWORD_MAX + 1, &pw,
		      &res->err) != 0)
		return -1;
	char username[AUTH_USERNAME_MAX + 1];
	struct audit_actor by = api_actor(req);
	if (auth_credentials_set(a->auth, &by, req->who.insz, req->who.level,
				 user, pw, username, &res->err) != 0) {
		if (strcmp(res->err.code, "insufficient_level") == 0)
			res->problem_extra = json_pack(
				"{s:i,s:i}", "required",
				auth_key_level(a->auth, "eid"), "current",
				req->who.level);
		return -1;
	}
	return http_reply_json(res, 200, json_pack("{s:s}", "username",
						   username));
}
