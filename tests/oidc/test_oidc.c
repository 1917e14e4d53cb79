/* The OpenID Provider without HTTP: a request is checked and kept, the
 * person's answer gives a code, the code gives an ID token once, to its
 * client, with its PKCE verifier, before it expires; and the refusals the
 * OpenID Foundation's basic OP tests make (wrong redirect URI, reused code,
 * missing PKCE, wrong secret, expired code), plus the ones of
 * private_key_jwt (alg none, a replayed assertion). Times on the test
 * clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjose/cjose.h>
#include <cmocka.h>
#include <sodium.h>

#include "auth/auth.h"
#include "oidc/oidc.h"
#include "org/org.h"
#include "support/support.h"

#define JAN "85073003328"
#define KBO "0412345614"
#define URI "https://app.example/cb"

static struct ts_store tmp;
static struct auth *a;
static struct oidc *o;
static char secret[OIDC_SECRET_HEX];
static char token[TOKEN_HEX_LEN];
static struct auth_session session;
static const struct audit_actor citizen = {AUDIT_CHANNEL_PORTAL, NULL, JAN,
					   "self"};

/* One set of signing keys for every test: an RSA key takes seconds. */
static struct ts_dir keydir;
static char keys[128];

static int group_setup(void **state)
{
	(void)state;
	if (ts_dir_make(&keydir, "oidc-keys") != 0)
		return -1;
	ts_dir_file(&keydir, "oidc", keys, sizeof(keys));
	char kid[64];
	struct error e;
	return oidc_key_rotate(keys, "ES256", kid, &e) ||
			       oidc_key_rotate(keys, "RS256", kid, &e)
		       ? -1
		       : 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return ts_dir_remove(&keydir);
}

static int setup(void **state)
{
	(void)state;
	struct error e;
	ts_clock_start();
	if (ts_store_open(&tmp, "oidc") != 0)
		return -1;
	struct auth_options ao = {.argon2_ops = crypto_pwhash_OPSLIMIT_MIN,
				  .argon2_mem = crypto_pwhash_MEMLIMIT_MIN,
				  .max_failures = 3,
				  .session_absolute_s = 3600,
				  .session_idle_s = 600};
	rand_bytes(ao.master_key, sizeof(ao.master_key));
	str_copy(ao.public_url, sizeof(ao.public_url), "https://kp.example");
	struct oidc_config cfg = {0};
	struct auth_account acc = {.insz = JAN, .username = "jan",
				   .language = "nl"};
	enum auth_failure why;
	char who[INSZ_BUF];
	if (auth_open(tmp.log, &ao, &a, &e) != 0 ||
	    ts_person(tmp.log, JAN, "Peeters", "Jan", "", &e) != 0 ||
	    org_organisation_add(tmp.log, &ts_operator, KBO, "Bakkerij",
				 &e) != 0 ||
	    auth_account_create(a, &ts_operator, &acc, "a long passphrase 42",
				&e) != 0 ||
	    auth_login_password(a, &citizen, "jan", "a long passphrase 42",
				token, &session, &why, who, &e) != 0 ||
	    oidc_open(tmp.log, a, &cfg, keys, &o, &e) != 0)
		return -1;
	struct oidc_client_spec spec = {
		.id = "app", .name = "The application", .kbo = KBO,
		.auth_method = "client_secret_basic", .redirect_uris = URI,
		.post_logout_uris = "https://app.example/bye",
		.scopes = "openid profile egovnrn", .min_level = 200};
	return oidc_client_add(o, &ts_operator, &spec, secret, &e);
}

static int teardown(void **state)
{
	(void)state;
	oidc_close(o);
	auth_close(a);
	clock_reset();
	return ts_store_close(&tmp);
}

static const char verifier[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
/* BASE64URL(SHA256(verifier)), RFC 7636 appendix B. */
static const char challenge[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

static json_t *request(const char *uri, const char *pkce)
{
	json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "client_id", "app",
			      "redirect_uri", uri, "response_type", "code",
			      "scope", "openid profile egovnrn", "state", "s1",
			      "nonce", "n1");
	if (pkce) {
		json_object_set_new(p, "code_challenge", json_string(pkce));
		json_object_set_new(p, "code_challenge_method",
				    json_string("S256"));
	}
	return p;
}

/* Begin a request; the portal's id and the browser's binding out. */
static void begin(char id[OIDC_HANDLE_HEX], char binding[OIDC_HANDLE_HEX])
{
	struct oidc_begin b;
	struct error e;
	json_t *p = request(URI, challenge);
	assert_int_equal(oidc_authorize(o, p, &b, &e), 0);
	json_decref(p);
	const char *at = strstr(b.location, "#/oidc?request=");
	assert_non_null(at);
	str_copy(id, OIDC_HANDLE_HEX, at + strlen("#/oidc?request="));
	str_copy(binding, OIDC_HANDLE_HEX, b.binding);
	oidc_begin_free(&b);
}

/* A code for Jan, from a request answered with his session. */
static void code_for_jan(char code[OIDC_HANDLE_HEX])
{
	char id[OIDC_HANDLE_HEX], binding[OIDC_HANDLE_HEX];
	begin(id, binding);
	struct error e;
	char *url = oidc_request_continue(o, &citizen, id, binding, token,
					  &session, false, &e);
	assert_non_null(url);
	assert_non_null(strstr(url, "state=s1"));
	assert_non_null(strstr(url, "iss=https%3A%2F%2Fkp.example"));
	const char *c = strstr(url, "code=");
	assert_non_null(c);
	snprintf(code, OIDC_HANDLE_HEX, "%.64s", c + 5);
	free(url);
}

static char *basic(const char *id, const char *pw)
{
	char raw[256], b64[400];
	snprintf(raw, sizeof(raw), "%s:%s", id, pw);
	sodium_bin2base64(b64, sizeof(b64), (const uint8_t *)raw, strlen(raw),
			  sodium_base64_VARIANT_ORIGINAL);
	return xasprintf("Basic %s", b64);
}

static json_t *trade(const char *code, const char *uri, const char *ver,
		     const char *pw, struct oidc_error *err)
{
	json_t *f = json_pack("{s:s,s:s,s:s}", "grant_type",
			      "authorization_code", "code", code,
			      "redirect_uri", uri);
	if (ver)
		json_object_set_new(f, "code_verifier", json_string(ver));
	char *h = basic("app", pw);
	json_t *t = oidc_token(o, h, f, err);
	free(h);
	json_decref(f);
	return t;
}

static json_t *payload(const char *jwt)
{
	const char *p = strchr(jwt, '.') + 1;
	size_t n = strcspn(p, ".");
	uint8_t raw[4096];
	size_t len = 0;
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), p, n, NULL, &len,
					   NULL,
					   sodium_base64_VARIANT_URLSAFE_NO_PADDING),
			 0);
	return json_loadb((const char *)raw, len, 0, NULL);
}

static void test_code_flow(void **state)
{
	(void)state;
	char code[OIDC_HANDLE_HEX];
	code_for_jan(code);
	struct oidc_error err;
	json_t *t = trade(code, URI, verifier, secret, &err);
	assert_non_null(t);
	json_t *c = payload(json_string_value(json_object_get(t, "id_token")));
	assert_string_equal(json_string_value(json_object_get(c, "egovNRN")),
			    JAN);
	assert_string_equal(json_string_value(json_object_get(c, "acr")),
			    OIDC_ACR_PREFIX "200");
	assert_string_equal(json_string_value(json_object_get(c, "nonce")),
			    "n1");
	assert_string_equal(json_string_value(json_object_get(c, "aud")), "app");
	assert_int_equal(json_integer_value(json_object_get(c, "auth_time")),
			 TS_T0_MS / 1000);
	/* Pairwise: not the INSZ. */
	assert_string_not_equal(json_string_value(json_object_get(c, "sub")),
				JAN);
	/* The access token gives the same person at userinfo. */
	char *bearer = xasprintf(
		"Bearer %s",
		json_string_value(json_object_get(t, "access_token")));
	json_t *u = oidc_userinfo(o, bearer, &err);
	assert_non_null(u);
	assert_true(json_equal(json_object_get(u, "sub"),
			       json_object_get(c, "sub")));
	/* The ID token's issue is in Jan's access log. */
	struct audit_record *ev;
	int n = ts_events(tmp.log, "id_token", &ev);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].subject, JAN);
	assert_string_equal(ev[0].actor, KBO);
	free(ev);
	/* A second use of the code: refused, and the first token revoked. */
	json_t *again = trade(code, URI, verifier, secret, &err);
	assert_null(again);
	assert_string_equal(err.error, "invalid_grant");
	assert_null(oidc_userinfo(o, bearer, &err));
	assert_string_equal(err.error, "invalid_token");
	free(bearer);
	json_decref(u);
	json_decref(c);
	json_decref(t);
}

static void test_refusals(void **state)
{
	(void)state;
	struct oidc_begin b;
	struct error e;
	/* An unregistered redirect URI: never redirected to. */
	json_t *p = request("https://evil.example/cb", challenge);
	assert_int_equal(oidc_authorize(o, p, &b, &e), -1);
	assert_string_equal(e.code, "invalid_redirect_uri");
	/* A 400, as docs/openapi.yaml says; never 422. */
	assert_int_equal(e.kind, ERR_MALFORMED);
	json_decref(p);
	/* Nor for a client that is not registered. */
	p = request(URI, challenge);
	json_object_set_new(p, "client_id", json_string("nobody"));
	assert_int_equal(oidc_authorize(o, p, &b, &e), -1);
	assert_string_equal(e.code, "invalid_client");
	assert_int_equal(e.kind, ERR_MALFORMED);
	json_decref(p);
	/* No PKCE: back to the client with invalid_request. */
	p = request(URI, NULL);
	assert_int_equal(oidc_authorize(o, p, &b, &e), 0);
	assert_non_null(strstr(b.location, "error=invalid_request"));
	assert_string_equal(b.binding, "");
	oidc_begin_free(&b);
	json_decref(p);
	struct oidc_error err;
	char code[OIDC_HANDLE_HEX];
	code_for_jan(code);
	/* Wrong secret, wrong verifier, wrong redirect URI. */
	assert_null(trade(code, URI, verifier, "0000", &err));
	assert_int_equal(err.status, 401);
	assert_string_equal(err.error, "invalid_client");
	assert_null(trade(code, URI, "x" "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEj",
			  secret, &err));
	assert_string_equal(err.error, "invalid_grant");
	assert_null(trade(code, "https://app.example/other", verifier, secret,
			  &err));
	assert_string_equal(err.error, "invalid_grant");
	/* Expired: a minute later (oidc.code_ttl_s). */
	code_for_jan(code);
	clock_advance_ms(61 * 1000);
	assert_null(trade(code, URI, verifier, secret, &err));
	assert_string_equal(err.error, "invalid_grant");
}

static void test_level_and_binding(void **state)
{
	(void)state;
	struct error e;
	char id[OIDC_HANDLE_HEX], binding[OIDC_HANDLE_HEX];
	json_t *p = request(URI, challenge);
	json_object_set_new(p, "acr_values",
			    json_string(OIDC_ACR_PREFIX "400"));
	struct oidc_begin b;
	assert_int_equal(oidc_authorize(o, p, &b, &e), 0);
	json_decref(p);
	str_copy(id, sizeof(id), strstr(b.location, "request=") + 8);
	str_copy(binding, sizeof(binding), b.binding);
	oidc_begin_free(&b);
	json_t *v = oidc_request_view(o, id, binding, &session, &e);
	assert_string_equal(json_string_value(json_object_get(v, "next")),
			    "step_up");
	json_decref(v);
	/* A session at 200 cannot answer a request for 400. */
	assert_null(oidc_request_continue(o, &citizen, id, binding, token,
					  &session, false, &e));
	assert_string_equal(e.code, "insufficient_level");
	/* Another browser (another binding) does not see the request. */
	char other[OIDC_HANDLE_HEX];
	memset(other, 'a', 64);
	other[64] = '\0';
	assert_null(oidc_request_view(o, id, other, NULL, &e));
	assert_string_equal(e.code, "unknown_request");
	/* The person says no: access_denied, and the request is gone. */
	char *url = oidc_request_continue(o, &citizen, id, binding, NULL, NULL,
					  true, &e);
	assert_non_null(strstr(url, "error=access_denied"));
	free(url);
	assert_null(oidc_request_view(o, id, binding, NULL, &e));
}

/* private_key_jwt: an assertion signed with the client's key passes once;
 * one with alg none never. */
static char *assertion(cjose_jwk_t *k, const char *alg, const char *jti)
{
	char *claims = xasprintf(
		"{\"iss\":\"pk\",\"sub\":\"pk\",\"aud\":\"https://kp.example/"
		"oidc/token\",\"jti\":\"%s\",\"exp\":%lld}",
		jti, (long long)(time_now() + 60));
	cjose_err ce;
	cjose_header_t *h = cjose_header_new(&ce);
	cjose_header_set(h, CJOSE_HDR_ALG, alg, &ce);
	cjose_jws_t *j = cjose_jws_sign(k, h, (const uint8_t *)claims,
				      strlen(claims), &ce);
	const char *ser = NULL;
	char *out = NULL;
	if (j && cjose_jws_export(j, &ser, &ce))
		out = xstrdup(ser);
	if (!out) { /* alg none: cjose will not sign it, so write it */
		char hb[64], pb[512];
		const char *hdr = "{\"alg\":\"none\"}";
		sodium_bin2base64(hb, sizeof(hb), (const uint8_t *)hdr,
				  strlen(hdr),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_bin2base64(pb, sizeof(pb), (const uint8_t *)claims,
				  strlen(claims),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		out = xasprintf("%s.%s.", hb, pb);
	}
	cjose_jws_release(j);
	cjose_header_release(h);
	free(claims);
	return out;
}

static void test_private_key_jwt(void **state)
{
	(void)state;
	cjose_err ce;
	cjose_jwk_t *k = cjose_jwk_create_EC_random(CJOSE_JWK_EC_P_256, &ce);
	char *pub = cjose_jwk_to_json(k, false, &ce);
	char *set = xasprintf("{\"keys\":[%s]}", pub);
	struct oidc_client_spec spec = {
		.id = "pk", .name = "Signed", .kbo = KBO,
		.auth_method = "private_key_jwt", .redirect_uris = URI,
		.scopes = "openid", .jwks = set};
	char none[OIDC_SECRET_HEX];
	struct error e;
	assert_int_equal(oidc_client_add(o, &ts_operator, &spec, none, &e), 0);
	assert_string_equal(none, "");
	struct oidc_error err;
	const char *algs[] = {"ES256", "none"};
	for (int i = 0; i < 2; i++) {
		char *jwt = assertion(k, algs[i], algs[i]);
		json_t *f = json_pack(
			"{s:s,s:s,s:s,s:s}", "grant_type", "client_credentials",
			"client_id", "pk", "client_assertion_type",
			"urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
			"client_assertion", jwt);
		/* The client authenticates (then the grant type is refused);
		 * alg none does not. */
		assert_null(oidc_token(o, NULL, f, &err));
		assert_string_equal(err.error, i == 0 ? "unsupported_grant_type"
						      : "invalid_client");
		if (i == 0) { /* the same assertion again: a replay */
			assert_null(oidc_token(o, NULL, f, &err));
			assert_string_equal(err.error, "invalid_client");
		}
		json_decref(f);
		free(jwt);
	}
	free(set);
	free(pub);
	cjose_jwk_release(k);
}

/* RP-initiated logout: only to a registered post-logout URI, for the
 * client named by client_id or by an ID token of ours. */
static void test_logout(void **state)
{
	(void)state;
	char code[OIDC_HANDLE_HEX];
	code_for_jan(code);
	struct oidc_error err;
	json_t *t = trade(code, URI, verifier, secret, &err);
	const char *idt = json_string_value(json_object_get(t, "id_token"));
	struct error e;
	struct oidc_begin b;
	json_t *p = json_pack("{s:s,s:s,s:s}", "id_token_hint", idt,
			      "post_logout_redirect_uri",
			      "https://app.example/bye", "state", "x y");
	assert_int_equal(oidc_logout(o, p, &b, &e), 0);
	const char *at = strstr(b.location, "#/oidc/logout?request=");
	assert_non_null(at);
	char id[OIDC_HANDLE_HEX];
	str_copy(id, sizeof(id), at + strlen("#/oidc/logout?request="));
	json_t *v = oidc_request_view(o, id, b.binding, NULL, &e);
	assert_string_equal(json_string_value(json_object_get(v, "kind")),
			    "logout");
	assert_string_equal(json_string_value(json_object_get(v,
							      "client_name")),
			    "The application");
	json_decref(v);
	char *url = oidc_request_continue(o, &citizen, id, b.binding, NULL,
					  NULL, true, &e);
	assert_string_equal(url, "https://app.example/bye?state=x%20y");
	free(url);
	oidc_begin_free(&b);
	/* A URI the client did not register: no redirect. */
	json_object_set_new(p, "post_logout_redirect_uri",
			    json_string("https://evil.example/"));
	assert_int_equal(oidc_logout(o, p, &b, &e), -1);
	assert_string_equal(e.code, "invalid_redirect_uri");
	/* A hint that is not ours (its signature broken): refused. */
	char *forged = xasprintf("%.*sAAAA", (int)strlen(idt) - 4, idt);
	json_object_set_new(p, "id_token_hint", json_string(forged));
	json_object_set_new(p, "post_logout_redirect_uri",
			    json_string("https://app.example/bye"));
	assert_int_equal(oidc_logout(o, p, &b, &e), -1);
	assert_string_equal(e.code, "invalid_request");
	/* Without a hint or a client, a URI is never used. */
	json_object_del(p, "id_token_hint");
	assert_int_equal(oidc_logout(o, p, &b, &e), -1);
	assert_string_equal(e.code, "invalid_redirect_uri");
	free(forged);
	json_decref(p);
	json_decref(t);
}

/* Review fixes. No credentials at all, a Basic header that does not
 * parse, an assertion without client_id: refused, and nothing freed that
 * was never read (the daemon aborted on the first). */
static void test_client_auth_garbage(void **state)
{
	(void)state;
	const char *hdrs[] = {NULL, "Basic !!!", "Basic YWJj", "Bearer x"};
	struct oidc_error err;
	for (size_t i = 0; i < KP_NELEM(hdrs); i++) {
		json_t *f = json_pack("{s:s}", "grant_type",
				      "authorization_code");
		assert_null(oidc_token(o, hdrs[i], f, &err));
		assert_string_equal(err.error, "invalid_client");
		assert_null(oidc_introspect(o, hdrs[i], f, &err));
		assert_int_equal(oidc_revoke(o, hdrs[i], f, &err), -1);
		json_decref(f);
	}
	json_t *f = json_pack("{s:s,s:s}", "client_assertion_type",
			      "urn:ietf:params:oauth:client-assertion-type:"
			      "jwt-bearer",
			      "client_assertion", "a.b.c");
	assert_null(oidc_token(o, NULL, f, &err));
	assert_string_equal(err.error, "invalid_client");
	json_decref(f);
}

/* A public subject is one identifier for all public clients, never the
 * national number (only egovnrn gives that). */
static void test_public_subject(void **state)
{
	(void)state;
	struct oidc_client_spec spec = {
		.id = "pub", .name = "Public", .kbo = KBO,
		.auth_method = "client_secret_post", .redirect_uris = URI,
		.scopes = "openid", .subject_type = "public"};
	char sec[OIDC_SECRET_HEX];
	struct error e;
	assert_int_equal(oidc_client_add(o, &ts_operator, &spec, sec, &e), 0);
	char id[OIDC_HANDLE_HEX], binding[OIDC_HANDLE_HEX];
	json_t *p = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "client_id", "pub",
			      "redirect_uri", URI, "response_type", "code",
			      "scope", "openid", "code_challenge", challenge,
			      "code_challenge_method", "S256");
	struct oidc_begin b;
	assert_int_equal(oidc_authorize(o, p, &b, &e), 0);
	str_copy(id, sizeof(id), strstr(b.location, "request=") + 8);
	str_copy(binding, sizeof(binding), b.binding);
	oidc_begin_free(&b);
	char *url = oidc_request_continue(o, &citizen, id, binding, token,
					  &session, false, &e);
	char code[OIDC_HANDLE_HEX];
	snprintf(code, sizeof(code), "%.64s", strstr(url, "code=") + 5);
	free(url);
	json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "grant_type",
			      "authorization_code", "code", code,
			      "redirect_uri", URI, "code_verifier", verifier,
			      "client_id", "pub", "client_secret", sec);
	struct oidc_error err;
	json_t *t = oidc_token(o, NULL, f, &err);
	assert_non_null(t);
	json_t *c = payload(json_string_value(json_object_get(t, "id_token")));
	const char *sub = json_string_value(json_object_get(c, "sub"));
	assert_string_not_equal(sub, JAN);
	assert_null(strstr(sub, JAN));
	assert_null(json_object_get(c, "egovNRN"));
	json_decref(c);
	json_decref(t);
	json_decref(f);
	json_decref(p);
}

/* Redirect URIs: user information in the authority hides another host;
 * http only to a loopback host exactly. */
static void test_redirect_uri_rules(void **state)
{
	(void)state;
	const char *bad[] = {"http://localhost:1@evil.example/cb",
			     "https://app.example@evil.example/cb",
			     "http://localhost.evil.example/cb",
			     "http://127.0.0.1.evil.example/cb",
			     "http://example.org/cb", "https://a.example/#x"};
	const char *good[] = {"http://127.0.0.1:8080/cb", "http://localhost/cb",
			      "http://[::1]:9/cb", "https://a.example/cb?x=1"};
	char sec[OIDC_SECRET_HEX];
	struct error e;
	for (size_t i = 0; i < KP_NELEM(bad) + KP_NELEM(good); i++) {
		bool ok = i >= KP_NELEM(bad);
		char id[16];
		snprintf(id, sizeof(id), "u%zu", i);
		struct oidc_client_spec spec = {
			.id = id, .name = "U", .kbo = KBO,
			.auth_method = "client_secret_basic",
			.redirect_uris = ok ? good[i - KP_NELEM(bad)] : bad[i],
			.scopes = "openid"};
		assert_int_equal(oidc_client_add(o, &ts_operator, &spec, sec,
						 &e),
				 ok ? 0 : -1);
	}
}

/* The review's medium findings: a silent request without a session
 * answers login_required (not access_denied); a refused continue and a
 * reused code are recorded, the revocation too; a token dies with its
 * session. */
static void test_prompt_none_and_records(void **state)
{
	(void)state;
	struct error e;
	json_t *p = request(URI, challenge);
	json_object_set_new(p, "prompt", json_string("none"));
	struct oidc_begin b;
	assert_int_equal(oidc_authorize(o, p, &b, &e), 0);
	char id[OIDC_HANDLE_HEX];
	str_copy(id, sizeof(id), strstr(b.location, "request=") + 8);
	char *url = oidc_request_continue(o, &citizen, id, b.binding, NULL,
					  NULL, true, &e);
	assert_non_null(strstr(url, "error=login_required"));
	free(url);
	oidc_begin_free(&b);
	json_decref(p);
	char code[OIDC_HANDLE_HEX];
	code_for_jan(code);
	struct oidc_error err;
	json_t *t = trade(code, URI, verifier, secret, &err);
	assert_null(trade(code, URI, verifier, secret, &err));
	struct audit_record *ev;
	int n = ts_events(tmp.log, "token_revoke", &ev);
	assert_int_equal(n, 1);
	assert_string_equal(ev[0].subject, JAN);
	free(ev);
	n = ts_events(tmp.log, "id_token", &ev);
	assert_int_equal(n, 2);
	assert_string_equal(ev[1].outcome, "refused");
	assert_string_equal(ev[1].reason, "code_reused");
	free(ev);
	/* A fresh token, then the session ends: the token is dead too. */
	code_for_jan(code);
	json_decref(t);
	t = trade(code, URI, verifier, secret, &err);
	char *bearer = xasprintf(
		"Bearer %s",
		json_string_value(json_object_get(t, "access_token")));
	json_t *u = oidc_userinfo(o, bearer, &err);
	assert_non_null(u);
	json_decref(u);
	assert_int_equal(auth_logout(a, &citizen, token, &e), 0);
	assert_null(oidc_userinfo(o, bearer, &err));
	assert_string_equal(err.error, "invalid_token");
	free(bearer);
	json_decref(t);
}

/* auth_time is the last authentication that raised the level: a second
 * factor used again at the same level does not make an old login look
 * fresh (max_age, prompt=login). */
static void test_auth_time_honest(void **state)
{
	(void)state;
	struct error e;
	int64_t kid;
	char *uri = NULL, *png = NULL;
	assert_int_equal(auth_totp_enrol(a, &citizen, JAN, 500, &kid, &uri,
					 &png, &e),
			 0);
	char code[7];
	assert_int_equal(ts_totp_code(uri, time_now(), code), 0);
	assert_int_equal(auth_totp_confirm(a, &citizen, JAN, 500, kid, code,
					   &e),
			 0);
	clock_advance_ms(30 * 1000);
	int level;
	assert_int_equal(ts_totp_code(uri, time_now(), code), 0);
	assert_int_equal(auth_step_up(a, &citizen, token, JAN, "totp", code,
				      &level, &e),
			 0);
	struct auth_session s;
	assert_int_equal(auth_session_check(a, token, &s), 0);
	int64_t raised = s.auth_time;
	assert_int_equal(raised, time_now());
	clock_advance_ms(30 * 1000);
	assert_int_equal(ts_totp_code(uri, time_now(), code), 0);
	assert_int_equal(auth_step_up(a, &citizen, token, JAN, "totp", code,
				      &level, &e),
			 0);
	assert_int_equal(auth_session_check(a, token, &s), 0);
	assert_int_equal(s.auth_time, raised);
	free(uri);
	free(png);
}

/* client_secret_basic form-encodes the id and the secret before Base64
 * (RFC 6749 section 2.3.1), and clients do: openid-client (oauth4webapi)
 * sends "my-app.v2" as "my%2Dapp%2Ev2". Decoded, it authenticates; a
 * broken escape, or one that decodes to a NUL, does not. */
static void test_basic_form_encoded(void **state)
{
	(void)state;
	struct error e;
	char s2[OIDC_SECRET_HEX];
	struct oidc_client_spec spec = {
		.id = "my-app.v2", .name = "Encoded", .kbo = KBO,
		.auth_method = "client_secret_basic", .redirect_uris = URI,
		.scopes = "openid", .min_level = 200};
	assert_int_equal(oidc_client_add(o, &ts_operator, &spec, s2, &e), 0);
	static const char *const good[] = {"my-app.v2", "my%2Dapp%2Ev2",
					   "my%2dapp.v2"};
	static const char *const bad[] = {"my%2Xapp.v2", "my-app.v2%",
					  "my-app.v2%00", "my+app.v2"};
	json_t *f = json_pack("{s:s}", "token", "0123");
	struct oidc_error err;
	for (size_t i = 0; i < KP_NELEM(good) + KP_NELEM(bad); i++) {
		bool ok = i < KP_NELEM(good);
		char *h = basic(ok ? good[i] : bad[i - KP_NELEM(good)], s2);
		json_t *j = oidc_introspect(o, h, f, &err);
		free(h);
		if (ok)
			assert_non_null(j);
		else
			assert_null(j);
		if (!ok)
			assert_string_equal(err.error, "invalid_client");
		json_decref(j);
	}
	json_decref(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_code_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_and_binding, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_private_key_jwt, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_logout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_auth_garbage, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_public_subject, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_redirect_uri_rules, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_prompt_none_and_records,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_auth_time_honest, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_basic_form_encoded, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
