/*
 * The token endpoint (RFC 6749 4.1.3, RFC 7636 4.6), userinfo,
 * introspection (RFC 7662) and revocation (RFC 7009). A code is traded
 * once, by the client it was issued to, with the redirect URI and the PKCE
 * verifier of its request; a second try revokes what the first gave (RFC
 * 6749 4.1.2). The ID token names the person as little as the scopes
 * allow, and its issue is an event in the person's access log, durable
 * before the client sees the token.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/oidc_internal.h"
#include "org/org.h"
#include "registry/registry.h"

#define ID_TOKEN_TTL_S 300

static const char sql_code_get[] =
	"SELECT client, redirect_uri, challenge, scope, coalesce(nonce, ''),"
	" insz, profile, level, amr, auth_time, session_hash, expires_at,"
	" used_at IS NOT NULL FROM oidc_code WHERE code_hash = ?1";
static const char sql_code_use[] =
	"UPDATE oidc_code SET used_at = ?2 WHERE code_hash = ?1"
	" AND used_at IS NULL";
static const char sql_code_revoke[] =
	"UPDATE oidc_token SET revoked_at = ?2 WHERE code_hash = ?1"
	" AND revoked_at IS NULL";
static const char sql_token_add[] =
	"INSERT INTO oidc_token (token_hash, client, code_hash, scope, insz,"
	" profile, level, amr, auth_time, session_hash, issued_at, expires_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
static const char sql_token_get[] =
	"SELECT client, scope, insz, profile, level, amr, auth_time,"
	" issued_at, expires_at, session_hash FROM oidc_token"
	" WHERE token_hash = ?1"
	" AND revoked_at IS NULL AND expires_at > ?2";
static const char sql_token_revoke[] =
	"UPDATE oidc_token SET revoked_at = ?3 WHERE token_hash = ?1"
	" AND client = ?2 AND revoked_at IS NULL";

/* What a code or a token says about the person. */
struct grant {
	char client[OIDC_CLIENT_ID_MAX + 1];
	char redirect_uri[2048];
	char challenge[64];
	char scope[128];
	char nonce[513];
	char insz[INSZ_BUF];
	char profile[32];
	int level;
	char amr[64];
	int64_t auth_time;
	uint8_t session_hash[32];
	int64_t issued_at;
	int64_t expires_at;
	bool used;
};

static void read_code(struct store_stmt *st, void *out)
{
	struct grant *g = out;
	memset(g, 0, sizeof(*g));
	str_copy(g->client, sizeof(g->client), store_col_text(st, 0));
	str_copy(g->redirect_uri, sizeof(g->redirect_uri),
		 store_col_text(st, 1));
	str_copy(g->challenge, sizeof(g->challenge), store_col_text(st, 2));
	str_copy(g->scope, sizeof(g->scope), store_col_text(st, 3));
	str_copy(g->nonce, sizeof(g->nonce), store_col_text(st, 4));
	str_copy(g->insz, sizeof(g->insz), store_col_text(st, 5));
	str_copy(g->profile, sizeof(g->profile), store_col_text(st, 6));
	g->level = (int)store_col_int(st, 7);
	str_copy(g->amr, sizeof(g->amr), store_col_text(st, 8));
	g->auth_time = store_col_int(st, 9);
	size_t n = 0;
	const void *h = store_col_blob(st, 10, &n);
	if (h && n == 32)
		memcpy(g->session_hash, h, 32);
	g->expires_at = store_col_int(st, 11);
	g->used = store_col_int(st, 12) != 0;
}

static void read_token(struct store_stmt *st, void *out)
{
	struct grant *g = out;
	memset(g, 0, sizeof(*g));
	str_copy(g->client, sizeof(g->client), store_col_text(st, 0));
	str_copy(g->scope, sizeof(g->scope), store_col_text(st, 1));
	str_copy(g->insz, sizeof(g->insz), store_col_text(st, 2));
	str_copy(g->profile, sizeof(g->profile), store_col_text(st, 3));
	g->level = (int)store_col_int(st, 4);
	str_copy(g->amr, sizeof(g->amr), store_col_text(st, 5));
	g->auth_time = store_col_int(st, 6);
	g->issued_at = store_col_int(st, 7);
	g->expires_at = store_col_int(st, 8);
	size_t n = 0;
	const void *h = store_col_blob(st, 9, &n);
	if (h && n == 32)
		memcpy(g->session_hash, h, 32);
}

/* -------------------------------------------------------------- claims */

static json_t *words(const char *list)
{
	json_t *a = json_array();
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		size_t k = strcspn(p, " ");
		if (k)
			json_array_append_new(a, json_stringn(p, k));
		p += k;
	}
	return a;
}

/* The person's claims for scope (profile: names and language; email;
 * egovnrn: the INSZ), added to j. */
static void person_claims(struct oidc *o, const char *insz, const char *scope,
			  json_t *j)
{
	struct registry_person p;
	bool known = registry_get(o->store, insz, &p, NULL) == 0;
	if (oidc_list_has(scope, "egovnrn"))
		json_object_set_new(j, "egovNRN", json_string(insz));
	if (oidc_list_has(scope, "profile") && known) {
		json_object_set_new(j, "givenName",
				    json_string(p.first_names));
		json_object_set_new(j, "surname", json_string(p.last_name));
		char lang[AUTH_LANGUAGE_BUF];
		auth_account_language(o->auth, insz, lang);
		json_object_set_new(j, "prefLanguage", json_string(lang));
	}
	char email[128];
	if (oidc_list_has(scope, "email")) {
		auth_account_email(o->auth, insz, email);
		if (email[0])
			json_object_set_new(j, "email", json_string(email));
	}
}

/* The organisation a person acts for: its number, name and the person's
 * roles there today. */
static json_t *organisation_claim(struct oidc *o, const char *insz,
				  const char *kbo)
{
	struct auth_profile *list = NULL;
	int n = 0;
	struct error e;
	json_t *org = NULL;
	if (auth_profiles(o->auth, insz, &list, &n, &e) != 0)
		return NULL;
	for (int i = 0; i < n && !org; i++) {
		if (strcmp(list[i].kind, "organisation") ||
		    strcmp(list[i].kbo, kbo))
			continue;
		json_t *roles = json_array();
		for (int r = 0; r < list[i].nroles; r++)
			json_array_append_new(roles,
					      json_string(list[i].roles[r]));
		org = json_pack("{s:s,s:s,s:o}", "kbo", kbo, "name",
				list[i].name, "roles", roles);
	}
	free(list);
	return org;
}

/* The claims about who: sub, and by profile (RFC 8693's act for a child
 * acted for, the organisation otherwise), then the scope's. */
static json_t *who_claims(struct oidc *o, const struct oidc_client *c,
			  const struct grant *g)
{
	json_t *j = json_object();
	char sub[44];
	const char *child = strncmp(g->profile, "child:", 6) == 0
				    ? g->profile + 6
				    : NULL;
	oidc_subject(o, c, child ? child : g->insz, sub);
	json_object_set_new(j, "sub", json_string(sub));
	person_claims(o, child ? child : g->insz, g->scope, j);
	if (child) {
		json_t *act = json_object();
		oidc_subject(o, c, g->insz, sub);
		json_object_set_new(act, "sub", json_string(sub));
		person_claims(o, g->insz, g->scope, act);
		json_object_set_new(j, "act", act);
	} else if (strncmp(g->profile, "org:", 4) == 0) {
		json_t *org = organisation_claim(o, g->insz, g->profile + 4);
		if (org)
			json_object_set_new(j, "organisation", org);
	}
	return j;
}

static json_t *id_token_claims(struct oidc *o, const struct oidc_client *c,
			       const struct grant *g)
{
	json_t *j = who_claims(o, c, g);
	int64_t now = time_now();
	char acr[48];
	oidc_acr(g->level, acr);
	json_object_set_new(j, "iss", json_string(oidc_issuer(o)));
	json_object_set_new(j, "aud", json_string(c->id));
	json_object_set_new(j, "iat", json_integer(now));
	json_object_set_new(j, "exp", json_integer(now + ID_TOKEN_TTL_S));
	json_object_set_new(j, "auth_time", json_integer(g->auth_time));
	json_object_set_new(j, "acr", json_string(acr));
	json_object_set_new(j, "amr", words(g->amr));
	if (g->nonce[0])
		json_object_set_new(j, "nonce", json_string(g->nonce));
	return j;
}

/* --------------------------------------------------------------- code */

/* RFC 7636 4.1 and 4.6: 43 to 128 unreserved characters whose SHA-256,
 * base64url without padding, is the challenge. */
static bool verifier_ok(const char *v, const char *challenge)
{
	size_t n = v ? strlen(v) : 0;
	if (n < 43 || n > 128 ||
	    strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789-._~") != n)
		return false;
	uint8_t h[SHA256_LEN];
	sha256_digest(v, n, h);
	char b64[48];
	sodium_bin2base64(b64, sizeof(b64), h, sizeof(h),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	return strlen(challenge) == strlen(b64) &&
	       ct_equal(b64, challenge, strlen(b64));
}

static int code_revoke_change(struct store_conn *w, void *ctx,
			      struct audit_event *evs, size_t n,
			      struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct store_stmt *st = store_prepare(w, sql_code_revoke);
	store_bind_blob(st, 1, ctx, 32);
	store_bind_int(st, 2, time_now());
	return store_run(st, NULL, e);
}

/* A known code refused (the client c tried it): recorded about the
 * person; a code used twice also revokes whatever its first use gave
 * (RFC 6749 4.1.2), in the same commit. */
static void code_refused(struct oidc *o, const struct oidc_client *c,
			 const struct grant *g, uint8_t code_hash[32],
			 const char *reason)
{
	struct audit_actor by = {AUDIT_CHANNEL_API, c->kbo, NULL, NULL};
	struct audit_event evs[2];
	evs[0] = audit_event_by(&by, "id_token");
	evs[0].subject = audit_subject(g->insz);
	evs[0].purpose = c->id;
	evs[0].outcome = AUDIT_REFUSED;
	evs[0].reason = reason;
	struct error e;
	if (strcmp(reason, "code_reused") != 0) {
		err_set(&e, ERR_INVALID, "invalid_grant", "%s", reason);
		audit_refused(o->log, &evs[0], &e);
		return;
	}
	evs[1] = audit_event_by(&by, "token_revoke");
	evs[1].subject = evs[0].subject;
	evs[1].purpose = c->id;
	audit_commit(o->log, evs, 2, code_revoke_change, code_hash, &e);
}

static int code_check(struct oidc *o, const struct oidc_client *c,
		      json_t *form, struct grant *g, uint8_t hash[32],
		      struct oidc_error *err)
{
	const char *code = json_string_value(json_object_get(form, "code"));
	const char *uri =
		json_string_value(json_object_get(form, "redirect_uri"));
	const char *verifier =
		json_string_value(json_object_get(form, "code_verifier"));
	struct error e;
	int rc = 1;
	if (code && strlen(code) == 64) {
		oidc_handle_hash(code, hash);
		struct store_stmt *st =
			store_prepare(store_reader(o->store), sql_code_get);
		store_bind_blob(st, 1, hash, 32);
		rc = store_one(st, read_code, g, &e);
	}
	if (rc < 0)
		return oidc_err(err, 503, "temporarily_unavailable", "%s",
				e.detail),
		       -1;
	const char *why = NULL, *reason = NULL;
	if (rc > 0)
		why = "the code is unknown";
	else if (g->used)
		why = "the code was used before: its tokens are revoked",
		reason = "code_reused";
	else if (strcmp(g->client, c->id) != 0)
		why = "the code was issued to another client",
		reason = "code_of_another_client";
	else if (g->expires_at <= time_now())
		why = "the code has expired", reason = "code_expired";
	else if (!uri || strcmp(uri, g->redirect_uri) != 0)
		why = "redirect_uri differs from the authorization request's",
		reason = "redirect_uri_mismatch";
	else if (!verifier_ok(verifier, g->challenge))
		why = "the PKCE code_verifier does not match the challenge",
		reason = "pkce_mismatch";
	if (reason)
		code_refused(o, c, g, hash, reason);
	if (why)
		return oidc_err(err, 400, "invalid_grant", "%s", why), -1;
	return 0;
}

struct issue {
	struct oidc *o;
	const struct grant *g;
	uint8_t code_hash[32];
	uint8_t token_hash[32];
	int64_t now;
};

static int issue_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct issue *is = ctx;
	const struct grant *g = is->g;
	struct store_stmt *st = store_prepare(w, sql_code_use);
	store_bind_blob(st, 1, is->code_hash, 32);
	store_bind_int(st, 2, is->now);
	if (store_run(st, NULL, e) != 0)
		return -1;
	if (store_changes(w) == 0)
		return err_set(e, ERR_CONFLICT, "invalid_grant",
			       "the code was used meanwhile");
	st = store_prepare(w, sql_token_add);
	store_bind_blob(st, 1, is->token_hash, 32);
	store_bind_text(st, 2, g->client);
	store_bind_blob(st, 3, is->code_hash, 32);
	store_bind_text(st, 4, g->scope);
	store_bind_text(st, 5, g->insz);
	store_bind_text(st, 6, g->profile);
	store_bind_int(st, 7, g->level);
	store_bind_text(st, 8, g->amr);
	store_bind_int(st, 9, g->auth_time);
	store_bind_blob(st, 10, g->session_hash, 32);
	store_bind_int(st, 11, is->now);
	store_bind_int(st, 12, is->now + is->o->cfg.access_token_ttl_s);
	return store_run(st, NULL, e);
}

/* The claims an ID token gives, for the access log's data column. */
static void given(const json_t *claims, char out[AUDIT_FIELD_MAX])
{
	static const char *const names[] = {"egovNRN", "givenName", "surname",
					    "prefLanguage", "email", "act",
					    "organisation"};
	str_copy(out, AUDIT_FIELD_MAX, "identity");
	for (size_t i = 0; i < KP_NELEM(names); i++)
		if (json_object_get(claims, names[i])) {
			size_t l = strlen(out);
			snprintf(out + l, AUDIT_FIELD_MAX - l, " %s", names[i]);
		}
}

static json_t *issue(struct oidc *o, const struct oidc_client *c,
		     const struct grant *g, const uint8_t code_hash[32],
		     struct oidc_error *err)
{
	json_t *claims = id_token_claims(o, c, g);
	char *idt = oidc_sign(o, c->id_token_alg, claims);
	char data[AUDIT_FIELD_MAX];
	given(claims, data);
	json_decref(claims);
	if (!idt)
		return oidc_err(err, 500, "server_error",
				"the ID token could not be signed"),
		       NULL;
	char token[OIDC_HANDLE_HEX];
	struct issue is = {o, g, {0}, {0}, time_now()};
	memcpy(is.code_hash, code_hash, 32);
	token_new(token, is.token_hash);
	/* Who learned what about whom: the person, and for a child acted
	 * for, the child too. */
	struct audit_actor by = {AUDIT_CHANNEL_API, c->kbo, g->insz,
				 g->profile};
	struct audit_event evs[2];
	size_t nev = 1;
	evs[0] = audit_event_by(&by, "id_token");
	evs[0].subject = audit_subject(g->insz);
	evs[0].data_type = data;
	evs[0].purpose = c->id;
	if (strncmp(g->profile, "child:", 6) == 0) {
		evs[1] = evs[0];
		evs[1].subject = audit_subject(g->profile + 6);
		nev = 2;
	}
	struct error e;
	json_t *out = NULL;
	if (audit_commit(o->log, evs, nev, issue_change, &is, &e) == 0)
		out = json_pack("{s:s,s:s,s:i,s:s,s:s}", "access_token", token,
				"token_type", "Bearer", "expires_in",
				o->cfg.access_token_ttl_s, "id_token", idt,
				"scope", g->scope);
	else if (strcmp(e.code, "invalid_grant") == 0)
		oidc_err(err, 400, "invalid_grant", "%s", e.detail);
	else
		oidc_err(err, 503, "temporarily_unavailable", "%s", e.detail);
	secret_wipe(token, sizeof(token));
	free(idt);
	return out;
}

static const char *endpoint(struct oidc *o, const char *path, char *buf,
			    size_t n)
{
	snprintf(buf, n, "%s%s", oidc_issuer(o), path);
	return buf;
}

json_t *oidc_token(struct oidc *o, const char *authorization, json_t *form,
		   struct oidc_error *err)
{
	struct oidc_client c;
	char ep[512];
	memset(err, 0, sizeof(*err));
	if (oidc_client_authenticate(o, authorization, form,
				     endpoint(o, "/oidc/token", ep, sizeof(ep)),
				     &c, err) != 0)
		return NULL;
	const char *gt = json_string_value(json_object_get(form, "grant_type"));
	json_t *out = NULL;
	struct grant g;
	uint8_t hash[32];
	if (!gt)
		oidc_err(err, 400, "invalid_request", "grant_type is missing");
	else if (strcmp(gt, "authorization_code") != 0)
		oidc_err(err, 400, "unsupported_grant_type",
			 "only authorization_code");
	else if (code_check(o, &c, form, &g, hash, err) == 0)
		out = issue(o, &c, &g, hash, err);
	oidc_client_clear(&c);
	return out;
}

/* ------------------------------------------------------------- tokens */

static int token_get(struct oidc *o, const char *token, struct grant *g)
{
	if (!token || strlen(token) != 64)
		return 1;
	uint8_t h[32];
	oidc_handle_hash(token, h);
	struct store_stmt *st = store_prepare(store_reader(o->store),
					      sql_token_get);
	store_bind_blob(st, 1, h, 32);
	store_bind_int(st, 2, time_now());
	int rc = store_one(st, read_token, g, NULL);
	/* A token lives no longer than the session it was issued in: a
	 * logout, or a key deactivated, ends it too. */
	if (rc == 0 && !auth_session_live(o->auth, g->session_hash))
		return 1;
	return rc;
}

json_t *oidc_userinfo(struct oidc *o, const char *authorization,
		      struct oidc_error *err)
{
	memset(err, 0, sizeof(*err));
	const char *tok = authorization &&
					  strncasecmp(authorization, "Bearer ",
						      7) == 0
				  ? authorization + 7
				  : NULL;
	struct grant g;
	struct oidc_client c;
	struct error e;
	if (token_get(o, tok, &g) != 0 ||
	    oidc_client_get(o, g.client, &c, &e) != 0) {
		oidc_err(err, 401, "invalid_token",
			 "the access token is unknown, expired or revoked");
		err->challenge = true;
		return NULL;
	}
	json_t *claims = who_claims(o, &c, &g);
	char data[AUDIT_FIELD_MAX];
	given(claims, data);
	struct audit_actor by = {AUDIT_CHANNEL_API, c.kbo, g.insz, g.profile};
	struct audit_event ev = audit_event_by(&by, "userinfo");
	ev.subject = audit_subject(strncmp(g.profile, "child:", 6) == 0
					   ? g.profile + 6
					   : g.insz);
	ev.data_type = data;
	ev.purpose = c.id;
	oidc_client_clear(&c);
	if (audit_commit(o->log, &ev, 1, audit_no_change, NULL, &e) != 0) {
		json_decref(claims);
		oidc_err(err, 503, "temporarily_unavailable", "%s", e.detail);
		return NULL;
	}
	return claims;
}

json_t *oidc_introspect(struct oidc *o, const char *authorization,
			json_t *form, struct oidc_error *err)
{
	struct oidc_client c;
	char ep[512];
	memset(err, 0, sizeof(*err));
	if (oidc_client_authenticate(
		    o, authorization, form,
		    endpoint(o, "/oidc/introspect", ep, sizeof(ep)), &c,
		    err) != 0)
		return NULL;
	const char *tok = json_string_value(json_object_get(form, "token"));
	struct grant g;
	json_t *out;
	/* A client learns only about its own tokens. */
	if (token_get(o, tok, &g) != 0 || strcmp(g.client, c.id) != 0) {
		out = json_pack("{s:b}", "active", 0);
	} else {
		char sub[44], acr[48];
		oidc_subject(o, &c, strncmp(g.profile, "child:", 6) == 0
					 ? g.profile + 6
					 : g.insz,
			     sub);
		oidc_acr(g.level, acr);
		out = json_pack("{s:b,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:s}",
				"active", 1, "scope", g.scope, "client_id",
				c.id, "token_type", "Bearer", "sub", sub,
				"exp", (json_int_t)g.expires_at, "iat",
				(json_int_t)g.issued_at, "iss", oidc_issuer(o),
				"acr", acr);
	}
	oidc_client_clear(&c);
	return out;
}

struct revocation {
	uint8_t hash[32];
	const char *client;
};

static int revoke_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct revocation *r = ctx;
	struct store_stmt *st = store_prepare(w, sql_token_revoke);
	store_bind_blob(st, 1, r->hash, 32);
	store_bind_text(st, 2, r->client);
	store_bind_int(st, 3, time_now());
	return store_run(st, NULL, e);
}

int oidc_revoke(struct oidc *o, const char *authorization, json_t *form,
		struct oidc_error *err)
{
	struct oidc_client c;
	char ep[512];
	memset(err, 0, sizeof(*err));
	if (oidc_client_authenticate(o, authorization, form,
				     endpoint(o, "/oidc/revoke", ep, sizeof(ep)),
				     &c, err) != 0)
		return -1;
	const char *tok = json_string_value(json_object_get(form, "token"));
	int rc = 0;
	/* Unknown tokens, and other clients' tokens, are not an error
	 * (RFC 7009 2.2): nothing to tell, nothing recorded. */
	struct grant g;
	if (token_get(o, tok, &g) == 0 && strcmp(g.client, c.id) == 0) {
		struct revocation r;
		oidc_handle_hash(tok, r.hash);
		r.client = c.id;
		struct audit_actor by = {AUDIT_CHANNEL_API, c.kbo, NULL, NULL};
		struct audit_event ev = audit_event_by(&by, "token_revoke");
		ev.subject = audit_subject(g.insz);
		ev.purpose = c.id;
		struct error e;
		rc = audit_commit(o->log, &ev, 1, revoke_change, &r, &e);
		if (rc != 0)
			oidc_err(err, 503, "temporarily_unavailable",
				 "the token could not be revoked now");
	}
	oidc_client_clear(&c);
	return rc;
}
