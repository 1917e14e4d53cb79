/* Authentication endpoints (docs/API.md, "Authentication", "Digital
 * keys"), the application gate, and what a citizen sees of the audit log.
 * src/auth records the events of what they do (logins, locks, keys,
 * step-ups, profiles, application entries); handlers name who acts
 * (api_actor) and translate. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "registry/registry.h"
#include "auth/auth.h"
#include "org/org.h"

/* The step-up methods a session at its level is offered. */
static json_t *step_up_json(struct app *a, const struct auth_session *s)
{
	const char *m[AUTH_STEP_UP_METHODS_MAX];
	int n = auth_step_up_methods(a->auth, s->insz, s->level, m);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_string(m[i]));
	return arr;
}

static json_t *session_json(struct app *a, const char *token,
			    const struct auth_session *s)
{
	return json_pack("{s:s,s:i,s:s,s:o}", "token", token, "level",
			 s->level, "insz", s->insz, "step_up",
			 step_up_json(a, s));
}

/* Does the login ask for the portal's cookie (Kruispunt-Session:
 * cookie) rather than a token in the body? 1 yes, 0 no, -1 with e for a
 * value we do not know (refused before anyone logs in). */
static int wants_cookie(struct http_request *req, struct error *e)
{
	const char *mode = http_header(req, HTTP_SESSION_MODE);
	if (!mode)
		return 0;
	if (strcmp(mode, "cookie") == 0)
		return 1;
	return err_set(e, ERR_INVALID, "invalid_session_mode",
		       HTTP_SESSION_MODE ": only \"cookie\" is known");
}

/* The cookie of a new session, living as long as the session may. */
static void set_cookie(struct http_response *res, const char *token,
		       const struct auth_session *s)
{
	int64_t left = s->expires_at - time_now();
	http_session_cookie(res, token, left > 0 ? left : 1);
}

/* A new session's answer: the token in the body for an API client; for
 * the portal the token only in the HttpOnly cookie, where no script can
 * read it, and the CSRF value its pages send back. */
static int session_reply(struct app *a, struct http_response *res,
			 bool cookie, const char *token,
			 const struct auth_session *s)
{
	json_t *j = session_json(a, token, s);
	if (cookie) {
		char csrf[AUTH_CSRF_HEX];
		auth_csrf(a->auth, token, csrf);
		json_object_del(j, "token");
		json_object_set_new(j, "csrf", json_string(csrf));
		set_cookie(res, token, s);
	}
	return http_reply_json(res, 200, j);
}

int api_auth_login(struct http_request *req, struct http_response *res,
		   void *app)
{
	struct app *a = app;
	const char *user, *pw;
	int cookie = wants_cookie(req, &res->err);
	if (cookie < 0 ||
	    jsonx_str(req->json, "username", true, AUTH_USERNAME_MAX, &user,
		      &res->err) != 0 ||
	    jsonx_str(req->json, "password", true, AUTH_PASSWORD_MAX, &pw,
		      &res->err) != 0)
		return -1;
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session s;
	enum auth_failure why;
	struct audit_actor by = api_actor(req);
	int rc = auth_login_password(a->auth, &by, user, pw, token, &s, &why,
				     insz, &res->err);
	if (rc != 0) {
		/* How long to wait, so a client backs off instead of
		 * hammering (Retry-After carries the same seconds). */
		if (res->err.kind == ERR_RATE_LIMITED)
			res->problem_extra = json_pack(
				"{s:i}", "retry_after",
				auth_login_retry_after(a->auth, user));
		struct log_line l;
		log_begin(&l, LV_WARN, __func__, "security: login refused");
		log_str(&l, "code", res->err.code);
		log_int(&l, "why", why);
		log_str(&l, "peer", req->peer);
		log_end(&l);
		return -1;
	}
	int out = session_reply(a, res, cookie, token, &s);
	secret_wipe(token, sizeof(token));
	return out;
}

int api_auth_login_eid(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	if (!req->cert)
		return err_set(&res->err, ERR_UNAUTHENTICATED,
			       "certificate_required",
			       "present your eID (a TLS client certificate)");
	if (!req->cert->verified)
		return err_set(&res->err, ERR_UNAUTHENTICATED,
			       "certificate_rejected", "%s",
			       req->cert->reason ? req->cert->reason
						 : "certificate rejected");
	char token[TOKEN_HEX_LEN];
	struct auth_session s;
	struct audit_actor by = api_actor(req);
	if (auth_login_certificate(a->auth, &by, req->cert->serial_number,
				   token, &s, &res->err) != 0)
		return -1;
	int out = http_reply_json(res, 200, session_json(a, token, &s));
	secret_wipe(token, sizeof(token));
	return out;
}

/* The keys this session was opened with and stepped up with: what a
 * relying application needs to know about how sure the login is. Answered
 * from the session alone (cached), so checking a session stays cheap. */
int api_auth_session(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	struct auth_session s;
	if (auth_session_check(a->auth, req->who.token, &s) != 0)
		return err_set(&res->err, ERR_UNAUTHENTICATED,
			       "not_authenticated", "the session has ended");
	json_t *kj = json_array();
	json_t *opened = json_pack("{s:s,s:i}", "type", s.key_type, "level",
				   auth_key_level(a->auth, s.key_type));
	if (s.key_id)
		json_object_set_new(opened, "id", json_integer(s.key_id));
	json_array_append_new(kj, opened);
	if (s.step_up[0])
		json_array_append_new(kj, json_pack("{s:s,s:i}", "type",
						    s.step_up, "level",
						    auth_key_level(a->auth,
								   s.step_up)));
	char expires[RFC3339_LEN], authed[RFC3339_LEN];
	time_format_rfc3339(s.expires_at, expires);
	time_format_rfc3339(s.auth_time, authed);
	json_t *j = json_pack("{s:s,s:i,s:o,s:s,s:s,s:s}", "insz", s.insz,
			      "level", s.level, "keys", kj, "profile",
			      s.profile, "expires_at", expires, "auth_time",
			      authed);
	/* A reloaded page has lost its CSRF value; a GET may give it back
	 * (no other site can read this answer). */
	if (req->who.cookie) {
		char csrf[AUTH_CSRF_HEX];
		auth_csrf(a->auth, req->who.token, csrf);
		json_object_set_new(j, "csrf", json_string(csrf));
	}
	return http_reply_json(res, 200, j);
}

int api_auth_logout(struct http_request *req, struct http_response *res,
		    void *app)
{
	struct app *a = app;
	struct audit_actor by = api_actor(req);
	/* Also 204 when the session ended meanwhile: it is over either way. */
	if (auth_logout(a->auth, &by, req->who.token, &res->err) < 0)
		return -1;
	if (req->who.cookie)
		http_session_cookie(res, NULL, 0);
	res->status = 204;
	return 0;
}

/* Where a browser starts an eID login, on the portal's host: it gets a
 * random state in an HttpOnly cookie, and goes to the eID host with only
 * the state's hash, so that the code coming back is taken only in this
 * browser. Not from another site's page (Sec-Fetch-Site: cross-site). */
int api_eid_start(struct http_request *req, struct http_response *res,
		  void *app)
{
	struct app *a = app;
	if (http_cross_site(req))
		return err_set(&res->err, ERR_FORBIDDEN, "csrf_failed",
			       "start the eID login from the portal's pages");
	char state[TOKEN_HEX_LEN], hash[2 * SHA256_LEN + 1];
	auth_eid_state_new(state, hash);
	http_cookie_set(res, HTTP_EID_STATE_COOKIE, state,
			AUTH_HANDOFF_TTL_MS / 1000 * 3);
	secret_wipe(state, sizeof(state));
	char *back = http_query_escape(
		http_return_path(http_query(req, "return")));
	char *url = xasprintf("%s/eid/login?return=%s&state=%s",
			      auth_eid_url(a->auth), back, hash);
	http_redirect(res, url);
	free(url);
	free(back);
	return 0;
}

/* ?state=: the SHA-256 of the browser's state, 64 hex digits. */
static int read_state(struct http_request *req, uint8_t out[SHA256_LEN],
		      struct error *e)
{
	const char *s = http_query(req, "state");
	if (!s || strlen(s) != 2 * SHA256_LEN ||
	    hex_decode(s, 2 * SHA256_LEN, out, SHA256_LEN) != 0)
		return err_set(e, ERR_INVALID, "invalid_state",
			       "start the eID login from the portal "
			       "(/api/v1/auth/eid/start)");
	return 0;
}

/* The eID login of a browser, on the eID listener (which demands the
 * citizen's certificate): the session is opened here, but its cookie
 * must be set by the portal's host, so the browser goes there with a
 * one-time code (303), bound to its state and this eID. Room for the
 * code is checked before the login opens a session, so a flood of logins
 * opens none. Where it ends up is a path of the portal's own (?return=,
 * "/" when it is anything else: no open redirect). */
int api_eid_login(struct http_request *req, struct http_response *res,
		  void *app)
{
	struct app *a = app;
	uint8_t state[SHA256_LEN];
	if (!req->cert || !req->cert->verified)
		return err_set(&res->err, ERR_UNAUTHENTICATED,
			       "certificate_required",
			       "present your eID (a TLS client certificate)");
	if (http_cross_site(req))
		return err_set(&res->err, ERR_FORBIDDEN, "csrf_failed",
			       "start the eID login from the portal's pages");
	if (read_state(req, state, &res->err) != 0 ||
	    auth_handoff_room(a->auth, req->cert->fingerprint, &res->err))
		return -1;
	char token[TOKEN_HEX_LEN], code[TOKEN_HEX_LEN];
	struct auth_session s;
	struct audit_actor by = api_actor(req);
	if (auth_login_certificate(a->auth, &by, req->cert->serial_number,
				   token, &s, &res->err) != 0)
		return -1;
	int rc = auth_handoff_issue(a->auth, token, req->cert->fingerprint,
				    state, code, &res->err);
	secret_wipe(token, sizeof(token));
	if (rc != 0)
		return -1;
	char *back = http_query_escape(
		http_return_path(http_query(req, "return")));
	char *url = xasprintf("%s/api/v1/auth/eid/complete?code=%s&return=%s",
			      auth_public_url(a->auth), code, back);
	secret_wipe(code, sizeof(code));
	http_redirect(res, url);
	secret_wipe(url, strlen(url));
	free(url);
	free(back);
	return 0;
}

/* The portal's half of an eID login: the code becomes the session's
 * cookie, once, in the browser that holds the login's state (a code of
 * someone else's login, pushed into this browser, would sit its user in
 * that account). The state is spent either way. */
int api_eid_complete(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	http_cookie_set(res, HTTP_EID_STATE_COOKIE, NULL, 0);
	if (http_cross_site(req))
		return err_set(&res->err, ERR_FORBIDDEN, "csrf_failed",
			       "this login did not come from the eID login");
	const char *code = http_query(req, "code");
	char token[TOKEN_HEX_LEN];
	struct auth_session s;
	int rc = code ? auth_handoff_take(a->auth, code,
					  http_cookie(req,
						      HTTP_EID_STATE_COOKIE),
					  token, &s)
		      : 1;
	if (rc < 0)
		return store_fail(&res->err, "sessions cannot be checked now");
	if (rc > 0)
		return err_set(&res->err, ERR_UNAUTHENTICATED, "handoff_invalid",
			       "this login link is unknown, used, expired or "
			       "of another browser: present your eID again");
	set_cookie(res, token, &s);
	secret_wipe(token, sizeof(token));
	return http_redirect(res, http_return_path(http_query(req, "return")));
}

int api_apps(struct http_request *req, struct http_response *res, void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	struct auth_app *apps;
	int n;
	if (auth_apps(a->auth, &apps, &n, &res->err) != 0)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:i}", "id",
						     apps[i].id, "name",
						     apps[i].name, "portal",
						     apps[i].portal, "min_level",
						     apps[i].min_level));
	free(apps);
	return http_reply_json(res, 200, arr);
}

int api_app_enter(struct http_request *req, struct http_response *res,
		  void *app)
{
	struct app *a = app;
	struct auth_app ap;
	struct audit_actor by = api_actor(req);
	if (auth_app_enter(a->auth, &by, req->params[0], req->who.level, &ap,
			   &res->err) != 0) {
		if (strcmp(res->err.code, "insufficient_level") == 0)
			res->problem_extra = json_pack("{s:i,s:i}", "required",
						       ap.min_level, "current",
						       req->who.level);
		return -1;
	}
	return http_reply_json(res, 200, json_pack("{s:b,s:s}", "granted", 1,
						   "app", ap.id));
}

int api_me_keys(struct http_request *req, struct http_response *res, void *app)
{
	struct app *a = app;
	struct auth_key *keys;
	int n;
	if (auth_keys(a->auth, req->who.insz, &keys, &n, &res->err) != 0)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		char created[RFC3339_LEN], used[RFC3339_LEN];
		time_format_rfc3339(keys[i].created_at, created);
		time_format_rfc3339(keys[i].last_used_at, used);
		json_array_append_new(
			arr, json_pack("{s:I,s:s,s:i,s:s,s:s,s:o}", "id",
				       (json_int_t)keys[i].id, "type",
				       keys[i].type, "level", keys[i].level,
				       "status", keys[i].status, "created_at",
				       created, "last_used_at",
				       keys[i].last_used_at ? json_string(used)
							    : json_null()));
	}
	free(keys);
	return http_reply_json(res, 200, arr);
}

int api_me_key_deactivate(struct http_request *req, struct http_response *res,
			  void *app)
{
	struct app *a = app;
	char *end;
	long long id = strtoll(req->params[0], &end, 10);
	if (*end || id <= 0)
		return err_set(&res->err, ERR_NOT_FOUND, "unknown_key",
			       "you have no key with this id");
	struct audit_actor by = api_actor(req);
	if (auth_key_deactivate(a->auth, &by, req->who.insz, id,
				&res->err) != 0)
		return -1;
	return http_reply_json(res, 200,
			       json_pack("{s:s}", "status", "deactivated"));
}

/* One access to insz's data as the access log shows it: what happened,
 * and the bytes that prove it (the canonical entry, base64, and its leaf
 * hash, hex) for GET /api/v1/me/access-log/{seq}/proof. */
static json_t *access_item(struct app *a, const struct audit_record *r,
			   const char *insz)
{
	char org[128];
	if (org_name(a->store, r->actor, org, sizeof(org), NULL) != 0)
		str_copy(org, sizeof(org), r->actor);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "at", r->at,
			      "organisation", org, "data_type", r->data_type,
			      "purpose", r->purpose, "channel", r->channel,
			      "ticket", r->ticket, "seq", (json_int_t)r->seq);
	/* Who there, where kruispunt checked who it was (see below). */
	struct registry_person who;
	bool checked = strcmp(r->channel, AUDIT_CHANNEL_NETWORK) ||
		       strcmp(r->action, "mandate_consult") == 0;
	if (checked && r->user[0] && strcmp(r->user, insz) &&
	    registry_get(a->store, r->user, &who, NULL) == 0)
		json_object_set_new(j, "person",
				    json_sprintf("%s %s", who.first_names,
						 who.last_name));
	struct audit_entry en;
	struct error e;
	if (audit_entry_of(a->store, r->seq, insz, &en, &e) == 0) {
		char leaf[2 * SHA256_LEN + 1];
		hex_encode(en.leaf, SHA256_LEN, leaf);
		json_object_set_new(j, "leaf_hash", json_string(leaf));
		json_object_set_new(j, "entry", api_base64(en.entry, en.n));
		free(en.entry);
	}
	return j;
}

/* Who consulted my data (seed 004: citizens can see the logs about
 * them): granted accesses by others, the organisation by name, and the
 * person there where kruispunt itself checked who it was (a session's
 * user, or the person a holder's system named under a mandate, whose role
 * was checked): the mandate's conditions promise the citizen who looked.
 * The person an institution merely names on the network
 * (Kruispunt-On-Behalf-Of) is its claim: kept in the log for the
 * auditors, never shown as fact. */
int api_me_access_log(struct http_request *req, struct http_response *res,
		      void *app)
{
	struct app *a = app;
	uint64_t after = 0;
	int has = api_query_u64(req, "after", false, &after, &res->err);
	if (has < 0)
		return -1;
	struct audit_filter f = {.subject = req->who.insz,
				 .outcome = AUDIT_GRANTED, .limit = 100,
				 .after = after, .has_after = has == 0};
	struct audit_record *recs;
	int n;
	bool more;
	uint64_t next;
	if (audit_query(a->audit, &f, &recs, &n, &more, &next, &res->err) != 0)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		if (recs[i].actor[0]) /* not the person's own actions */
			json_array_append_new(
				arr, access_item(a, &recs[i], req->who.insz));
	free(recs);
	KP_UNUSED(more);
	KP_UNUSED(next);
	/* docs/API.md "Paging": a plain array; the next page is
	 * ?after=<seq of the last entry>. */
	return http_reply_json(res, 200, arr);
}

/* "j***@example.org", "+32 4** *** *67": enough to recognise, not to
 * harvest. */
void api_mask(const char *to, char *out, size_t n)
{
	size_t len = strlen(to), i = 0, k = 0;
	const char *at = strchr(to, '@');
	for (; i < len && k + 1 < n; i++) {
		bool keep = i == 0 || (at && to + i >= at) || (!at && i + 2 >= len);
		out[k++] = keep || to[i] == ' ' ? to[i] : '*';
	}
	out[k] = '\0';
}

/* Hand a one-time code to the outbox for "email_code" or "sms_code",
 * then wipe it. Returns 0, or -1 with e. */
/* The code by e-mail or SMS, in the language of insz's account. The code
 * is wiped here, sent or not. */
static int deliver_code(struct app *a, const char *insz, const char *method,
			const char *to, char code[7], struct error *e)
{
	bool email = strcmp(method, "email_code") == 0;
	char lang[AUTH_LANGUAGE_BUF], minutes[16];
	auth_account_language(a->auth, insz, lang);
	snprintf(minutes, sizeof(minutes), "%d", auth_code_ttl(a->auth) / 60);
	const char *const vars[][2] = {{"code", code}, {"minutes", minutes}};
	char *subject, *body;
	int rc = notify_message(email ? "login_code_email" : "login_code_sms",
				lang, vars, KP_NELEM(vars), &subject, &body, e);
	secret_wipe(code, 7);
	if (rc != 0)
		return -1;
	rc = notify_send(a->notify, email ? "email" : "sms", to, subject, body,
			 e);
	secret_wipe(body, strlen(body));
	free(body);
	free(subject);
	return rc;
}

static int key_create_totp(struct app *a, struct http_request *req,
			   struct http_response *res)
{
	int64_t id;
	char *uri, *png;
	struct audit_actor by = api_actor(req);
	if (auth_totp_enrol(a->auth, &by, req->who.insz, req->who.level, &id,
			    &uri, &png, &res->err) != 0)
		return -1;
	json_t *j = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)id,
			      "status", "pending", "otpauth_uri", uri,
			      "qr_png_base64", png);
	secret_wipe(uri, strlen(uri));
	free(uri);
	free(png);
	return http_reply_json(res, 201, j);
}

/* A code that could not be sent: a 429 says how long to wait. */
static int code_refused(struct app *a, struct http_request *req,
			struct http_response *res, const char *to)
{
	if (res->err.kind == ERR_RATE_LIMITED)
		res->problem_extra = json_pack(
			"{s:i}", "retry_after",
			auth_code_retry_after(a->auth, req->who.insz, to));
	return -1;
}

/* An e-mail or SMS key is pending until the code sent to the new address
 * comes back: proof that the address is the person's. src/auth refuses
 * (and records) a type it has no such key for. */
static int key_create_code(struct app *a, struct http_request *req,
			   struct http_response *res, const char *type)
{
	const char *field = strcmp(type, "sms_code") == 0 ? "phone" : "email";
	const char *to = NULL;
	if (jsonx_str(req->json, field, false, 128, &to, &res->err) < 0)
		return -1;
	int64_t id = 0;
	char code[7];
	struct audit_actor by = api_actor(req);
	if (auth_code_key_enrol(a->auth, &by, req->who.insz, req->who.level,
				type, to ? to : "", &id, code, &res->err) != 0)
		return code_refused(a, req, res, to ? to : "");
	if (deliver_code(a, req->who.insz, type, to, code, &res->err) != 0) {
		/* Never confirmable: not left pending (recorded as a
		 * deactivation). */
		struct error ignored;
		auth_key_deactivate(a->auth, &by, req->who.insz, id, &ignored);
		return -1;
	}
	char shown[128];
	api_mask(to, shown, sizeof(shown));
	return http_reply_json(res, 201,
			       json_pack("{s:I,s:s,s:s}", "id", (json_int_t)id,
					 "status", "pending", "sent_to", shown));
}

/* A new key needs a session at its level (src/auth decides and records
 * the refusal); the answer names both levels, as the application gate
 * does. */
int api_me_key_create(struct http_request *req, struct http_response *res,
		      void *app)
{
	struct app *a = app;
	const char *type;
	if (jsonx_str(req->json, "type", true, 32, &type, &res->err) != 0)
		return -1;
	int rc = strcmp(type, "totp") == 0 ? key_create_totp(a, req, res)
					   : key_create_code(a, req, res, type);
	if (rc != 0 && strcmp(res->err.code, "insufficient_level") == 0)
		res->problem_extra = json_pack(
			"{s:i,s:i}", "required", auth_enrol_level(a->auth, type),
			"current", req->who.level);
	return rc;
}

int api_me_key_confirm(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	const char *code;
	char *end, type[32] = "unknown";
	long long id = strtoll(req->params[0], &end, 10);
	if (*end || id <= 0)
		return err_set(&res->err, ERR_NOT_FOUND, "unknown_key",
			       "you have no key with this id");
	if (jsonx_str(req->json, "code", true, 16, &code, &res->err) != 0)
		return -1;
	struct audit_actor by = api_actor(req);
	if (auth_key_confirm(a->auth, &by, req->who.insz, req->who.level, id,
			     code, type, &res->err) != 0) {
		if (strcmp(res->err.code, "insufficient_level") == 0)
			res->problem_extra = json_pack(
				"{s:i,s:i}", "required",
				auth_key_level(a->auth, type), "current",
				req->who.level);
		return -1;
	}
	return http_reply_json(res, 200, json_pack("{s:s}", "status", "active"));
}

int api_auth_step_up(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	const char *method, *code;
	if (jsonx_str(req->json, "method", true, 16, &method, &res->err) != 0 ||
	    jsonx_str(req->json, "code", true, 16, &code, &res->err) != 0)
		return -1;
	int level;
	struct audit_actor by = api_actor(req);
	if (auth_step_up(a->auth, &by, req->who.token, req->who.insz, method,
			 code, &level, &res->err) != 0)
		return -1;
	return http_reply_json(res, 200, json_pack("{s:i}", "level", level));
}

/* One profile as the API shows it; current when the session acts so. */
static json_t *profile_json(const struct auth_profile *p, const char *now)
{
	json_t *j = json_pack("{s:s,s:s}", "kind", p->kind, "name", p->name);
	char as[32];
	if (strcmp(p->kind, "organisation") == 0) {
		json_t *roles = json_array();
		for (int r = 0; r < p->nroles; r++)
			json_array_append_new(roles, json_string(p->roles[r]));
		json_object_set_new(j, "kbo", json_string(p->kbo));
		json_object_set_new(j, "roles", roles);
		snprintf(as, sizeof(as), "org:%s", p->kbo);
	} else {
		json_object_set_new(j, "insz", json_string(p->insz));
		snprintf(as, sizeof(as), "%s%s",
			 strcmp(p->kind, "child") == 0 ? "child:" : "self",
			 strcmp(p->kind, "child") == 0 ? p->insz : "");
	}
	json_object_set_new(j, "current", json_boolean(strcmp(as, now) == 0));
	return j;
}

/* The profiles the session's person may choose (POST
 * /api/v1/auth/profile takes each). */
int api_auth_profiles(struct http_request *req, struct http_response *res,
		      void *app)
{
	struct app *a = app;
	struct auth_profile *l;
	int n;
	if (auth_profiles(a->auth, req->who.insz, &l, &n, &res->err) != 0)
		return -1;
	const char *now = req->who.profile[0] ? req->who.profile : "self";
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, profile_json(&l[i], now));
	free(l);
	return http_reply_json(res, 200, arr);
}

int api_auth_profile(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	const char *as = NULL, *child = NULL, *kbo = NULL;
	if (jsonx_str(req->json, "as", false, 8, &as, &res->err) < 0 ||
	    jsonx_str(req->json, "child", false, 11, &child, &res->err) < 0 ||
	    jsonx_str(req->json, "organisation", false, LIMIT_ID_INPUT, &kbo,
		      &res->err) < 0)
		return -1;
	if ((as != NULL) + (child != NULL) + (kbo != NULL) != 1 ||
	    (as && strcmp(as, "self") != 0))
		return err_set(&res->err, ERR_INVALID, "invalid_field",
			       "give one of {\"as\": \"self\"}, {\"child\": insz} "
			       "or {\"organisation\": kbo}");
	char profile[32];
	struct audit_actor by = api_actor(req);
	if (auth_choose_profile(a->auth, &by, req->who.token, req->who.insz,
				child, kbo, profile, &res->err) != 0)
		return -1;
	str_copy(req->who.profile, sizeof(req->who.profile), profile);
	return http_reply_json(res, 200, json_pack("{s:s}", "profile", profile));
}

int api_auth_step_up_send(struct http_request *req, struct http_response *res,
			  void *app)
{
	struct app *a = app;
	const char *method;
	if (jsonx_str(req->json, "method", true, 16, &method, &res->err) != 0)
		return -1;
	char code[7], to[128], shown[128];
	to[0] = '\0';
	if (auth_code_issue(a->auth, req->who.insz, method, code, to, sizeof(to),
			    &res->err) != 0)
		return code_refused(a, req, res, to);
	if (deliver_code(a, req->who.insz, method, to, code, &res->err) != 0)
		return -1;
	api_mask(to, shown, sizeof(shown));
	return http_reply_json(res, 202, json_pack("{s:s}", "sent_to", shown));
}
