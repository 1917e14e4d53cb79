/*
 * A login by an external provider, in two requests of the browser's
 * (federation.h). What the start makes (state, nonce, PKCE verifier, the
 * way back) is kept here, found by the state's hash and bound to the
 * browser by a cookie; the callback spends it before it checks anything
 * else, so a state is accepted once, in the browser it was made for.
 * Every refusal is an event "login" refused, naming the provider.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "federation/federation_internal.h"

static const char sql_sweep[] =
	"DELETE FROM federation_login WHERE expires_at <= ?1";
static const char sql_put[] =
	"INSERT INTO federation_login (state_hash, binding_hash, provider,"
	" nonce, verifier, return_path, expires_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char sql_take[] =
	"DELETE FROM federation_login WHERE state_hash = ?1"
	" RETURNING binding_hash, provider, nonce, verifier, return_path,"
	" expires_at";

void federation_begin_free(struct federation_begin *b)
{
	free(b->location);
	b->location = NULL;
	secret_wipe(b->binding, sizeof(b->binding));
}

/* The login's secrets, as the start makes them. */
struct pending {
	char state[TOKEN_HEX_LEN], nonce[TOKEN_HEX_LEN];
	uint8_t state_hash[SHA256_LEN], binding_hash[SHA256_LEN];
	char verifier[64], challenge[64];
	const char *provider, *back;
};

static void pending_new(struct pending *p, char binding[TOKEN_HEX_LEN])
{
	uint8_t h[SHA256_LEN], v[32];
	token_new(p->state, p->state_hash);
	token_new(binding, p->binding_hash);
	token_new(p->nonce, h);
	/* RFC 7636: 32 random bytes, base64url, are the verifier; the
	 * SHA-256 of its text, base64url, the challenge (S256). */
	rand_bytes(v, sizeof(v));
	sodium_bin2base64(p->verifier, sizeof(p->verifier), v, sizeof(v),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sha256_digest(p->verifier, strlen(p->verifier), h);
	sodium_bin2base64(p->challenge, sizeof(p->challenge), h, sizeof(h),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static int pending_put(struct federation *f, const struct pending *p,
		       struct error *e)
{
	struct store_conn *w = store_write_begin(f->store, e);
	if (!w)
		return -1;
	int64_t now = time_now();
	struct store_stmt *st = store_prepare(w, sql_sweep);
	store_bind_int(st, 1, now);
	int rc = store_run(st, NULL, e);
	st = store_prepare(w, sql_put);
	store_bind_blob(st, 1, p->state_hash, SHA256_LEN);
	store_bind_blob(st, 2, p->binding_hash, SHA256_LEN);
	store_bind_text(st, 3, p->provider);
	store_bind_text(st, 4, p->nonce);
	store_bind_text(st, 5, p->verifier);
	store_bind_text(st, 6, p->back);
	store_bind_int(st, 7, now + FEDERATION_LOGIN_TTL_S);
	rc = rc ? rc : store_run(st, NULL, e);
	return store_write_end(f->store, rc, e);
}

/* value percent-encoded for a query (caller frees). */
static char *esc(const char *value)
{
	char *c = curl_easy_escape(NULL, value, 0);
	char *out = xstrdup(c ? c : "");
	curl_free(c);
	return out;
}

/* The authorization request (code flow, PKCE S256): scope openid, and the
 * national number's claim asked for in the ID token by name (OpenID
 * Connect Core 1.0 section 5.5), whatever scope the provider files it
 * under. */
static char *authorize_url(const char *endpoint,
			   const struct federation_provider *p,
			   const struct pending *q, const char *redirect)
{
	/* Built by jansson: the claim's name is the operator's text. */
	json_t *cj = json_pack("{s:{s:{s:b}}}", "id_token", p->nrn_claim,
			       "essential", 1);
	/* The level: only the acr values that give the key type's level,
	 * essential (OpenID Connect Core 5.5.1.1). */
	if (p->acr[0]) {
		json_t *vals = json_array();
		for (const char *v = p->acr; *v;) {
			while (*v == ' ')
				v++;
			size_t k = strcspn(v, " ");
			if (k)
				json_array_append_new(vals, json_stringn(v, k));
			v += k;
		}
		json_object_set_new(json_object_get(cj, "id_token"), "acr",
				    json_pack("{s:b,s:o}", "essential", 1,
					      "values", vals));
	}
	char *claims = json_dumps(cj, JSON_COMPACT);
	json_decref(cj);
	char *e[] = {esc(p->client_id), esc(redirect), esc(claims)};
	char *url = xasprintf(
		"%s%sresponse_type=code&scope=openid&client_id=%s"
		"&redirect_uri=%s&state=%s&nonce=%s&code_challenge=%s"
		"&code_challenge_method=S256&claims=%s&max_age=%d",
		endpoint, strchr(endpoint, '?') ? "&" : "?", e[0], e[1],
		q->state, q->nonce, q->challenge, e[2], FEDERATION_MAX_AGE_S);
	for (size_t i = 0; i < KP_NELEM(e); i++)
		free(e[i]);
	free(claims);
	return url;
}

int federation_start(struct federation *f, const char *id,
		     const char *return_path, struct federation_begin *out,
		     struct error *e)
{
	memset(out, 0, sizeof(*out));
	struct federation_provider p;
	int rc = federation_provider_get(f, id, &p, e);
	if (rc != 0)
		return rc < 0 ? -1
			      : err_set(e, ERR_NOT_FOUND, "unknown_provider",
					"no such provider");
	char authz[LIMIT_URL], token[LIMIT_URL];
	struct pending q = {.provider = p.id, .back = return_path};
	char *redirect = xasprintf("%s%s", auth_public_url(f->auth),
				   FEDERATION_CALLBACK_PATH);
	rc = federation_discover(f, &p, false, authz, token, NULL, e);
	if (rc == 0) {
		pending_new(&q, out->binding);
		rc = pending_put(f, &q, e);
	}
	if (rc == 0)
		out->location = authorize_url(authz, &p, &q, redirect);
	secret_wipe(&q, sizeof(q));
	free(redirect);
	federation_provider_free(&p);
	if (rc != 0)
		secret_wipe(out->binding, sizeof(out->binding));
	return rc;
}

/* ------------------------------------------------------------ callback */

/* A login under way, as taken from the store. */
struct taken {
	uint8_t binding_hash[SHA256_LEN];
	char provider[FEDERATION_ID_MAX + 1];
	char nonce[TOKEN_HEX_LEN], verifier[64], back[512];
	int64_t expires_at;
};

static void read_taken(struct store_stmt *st, void *out)
{
	struct taken *t = out;
	size_t n = 0;
	const void *b = store_col_blob(st, 0, &n);
	if (b && n == SHA256_LEN)
		memcpy(t->binding_hash, b, SHA256_LEN);
	str_copy(t->provider, sizeof(t->provider), store_col_text(st, 1));
	str_copy(t->nonce, sizeof(t->nonce), store_col_text(st, 2));
	str_copy(t->verifier, sizeof(t->verifier), store_col_text(st, 3));
	str_copy(t->back, sizeof(t->back), store_col_text(st, 4));
	t->expires_at = store_col_int(st, 5);
}

/* Is s 64 lower-case hex digits (a state, a binding)? */
static bool hex64(const char *s)
{
	if (!s || strlen(s) != TOKEN_HEX_LEN - 1)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* Spend the login of state: 0 with t when it exists, is alive and was
 * made for the browser of binding; 1 otherwise (it is gone either way);
 * -1 with e on a store failure. */
static int take(struct federation *f, const char *state, const char *binding,
		struct taken *t, struct error *e)
{
	uint8_t sh[SHA256_LEN], bh[SHA256_LEN];
	if (!hex64(state) || !hex64(binding))
		return 1;
	sha256_digest(state, strlen(state), sh);
	sha256_digest(binding, strlen(binding), bh);
	struct store_conn *w = store_write_begin(f->store, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_take);
	store_bind_blob(st, 1, sh, sizeof(sh));
	int rc = store_one(st, read_taken, t, e);
	if (store_write_end(f->store, rc < 0 ? -1 : 0, e) != 0)
		return -1;
	if (rc != 0)
		return 1;
	return ct_equal(t->binding_hash, bh, SHA256_LEN) &&
			       t->expires_at > time_now()
		       ? 0
		       : 1;
}

/* Record the refusal e of a login by provider (its key type when known),
 * about nobody: the person is not known, or not believed. Returns -1. */
static int refuse(struct federation *f, const struct audit_actor *by,
		  const char *provider, const char *key_type,
		  const struct error *e)
{
	struct audit_event ev = audit_event_by(by, "login");
	ev.data_type = "authentication";
	ev.purpose = key_type && *key_type ? key_type : "federation";
	ev.legal_basis = provider && *provider ? provider : NULL;
	return audit_refused(f->log, &ev, e);
}

/* Trade code at the provider's token endpoint (client_secret_basic, the
 * verifier): its ID token (caller frees), or NULL with e. */
static char *exchange(struct federation *f,
		      const struct federation_provider *p,
		      const char *endpoint, const char *code,
		      const char *verifier, struct error *e)
{
	char *url = xasprintf("%s%s", auth_public_url(f->auth),
			      FEDERATION_CALLBACK_PATH);
	char *redirect = esc(url), *c = esc(code);
	char *form = xasprintf("grant_type=authorization_code&code=%s"
			       "&redirect_uri=%s&code_verifier=%s", c,
			       redirect, verifier);
	free(url);
	struct federation_answer a;
	int rc = federation_http(p, endpoint, form, &a, e);
	secret_wipe(form, strlen(form));
	free(form);
	free(redirect);
	free(c);
	if (rc != 0)
		return NULL;
	json_t *j = a.status == 200 ? json_loadb(a.body, a.n, 0, NULL) : NULL;
	const char *t = json_string_value(json_object_get(j, "id_token"));
	char *out = t ? xstrdup(t) : NULL;
	if (!out) {
		log_warn("federation: provider %s's token endpoint answered "
			 "%ld without an ID token", p->id, a.status);
		err_set(e, ERR_UNAUTHENTICATED, "federation_token_invalid",
			"the provider gave no ID token for this code");
	}
	json_decref(j);
	secret_wipe(a.body, a.n);
	free(a.body);
	return out;
}

/* The national number the provider vouches for in its ID token for this
 * login into nrn: 0, or -1 with e. The keys are fetched again once when
 * none matches the token's kid (the provider rolled its keys). */
static int vouched(struct federation *f, const struct federation_provider *p,
		   const struct taken *t, const char *code, char nrn[32],
		   struct error *e)
{
	char authz[LIMIT_URL], endpoint[LIMIT_URL];
	char *keys = NULL;
	if (federation_discover(f, p, false, authz, endpoint, &keys, e) != 0)
		return -1;
	char *id_token = exchange(f, p, endpoint, code, t->verifier, e);
	struct federation_expect x = {p->issuer, p->client_id, t->nonce,
				      p->nrn_claim, time_now(), p->acr};
	int rc = id_token ? federation_id_token_check(id_token, keys, &x, nrn,
						      e)
			  : -1;
	if (rc == 1) {
		free(keys);
		keys = NULL;
		rc = federation_discover(f, p, true, authz, endpoint, &keys, e);
		if (rc == 0)
			rc = federation_id_token_check(id_token, keys, &x, nrn,
						       e) ? -1 : 0;
	}
	free(keys);
	free(id_token);
	struct insz z;
	if (rc == 0 && insz_parse(nrn, strlen(nrn), &z) != ID_OK)
		rc = err_set(e, ERR_UNAUTHENTICATED, "federation_token_invalid",
			     "the provider's national number is no valid INSZ");
	return rc;
}

int federation_callback(struct federation *f, const struct audit_actor *by,
			const char *code, const char *state,
			const char *error, const char *binding,
			char token[TOKEN_HEX_LEN], struct auth_session *out,
			char back[512], struct error *e)
{
	str_copy(back, 512, "/");
	struct taken t = {0};
	int rc = take(f, state, binding, &t, e);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		err_set(e, ERR_UNAUTHENTICATED, "federation_state_invalid",
			"this login is unknown, used, expired or of another "
			"browser: start it again from the portal");
		/* No login of ours, no person: logged, not an audit event
		 * (docs/SECURITY.md), or strangers could fill the log. */
		log_warn("federation: callback without a login of ours "
			 "(federation_state_invalid)");
		return -1;
	}
	str_copy(back, 512, t.back);
	struct federation_provider p;
	rc = federation_provider_get(f, t.provider, &p, e);
	if (rc != 0) {
		if (rc > 0)
			err_set(e, ERR_UNAUTHENTICATED, "federation_state_invalid",
				"this provider is no longer offered");
		return refuse(f, by, t.provider, NULL, e);
	}
	char nrn[32] = "";
	if (error || !code || !*code || strlen(code) > 2048) {
		err_set(e, ERR_UNAUTHENTICATED, "federation_denied",
			"the provider did not authenticate you (%s)",
			error && text_plain(error, 64) ? error : "no code");
		rc = -1;
	} else
		rc = vouched(f, &p, &t, code, nrn, e);
	if (rc == 0)
		rc = auth_login_external(f->auth, by, nrn, p.key_type, p.id,
					 token, out, e);
	/* auth records its own refusals of a person it knows. */
	if (rc != 0 && (!e->code || strcmp(e->code, "person_unknown") != 0) &&
	    e->kind != ERR_RATE_LIMITED)
		refuse(f, by, p.id, p.key_type, e);
	secret_wipe(&t, sizeof(t));
	federation_provider_free(&p);
	return rc;
}
