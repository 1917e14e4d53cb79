/*
 * Relying applications as data: registered by an operator (kruispunt oidc
 * client add), each with the organisation responsible for it, its exact
 * redirect URIs, the scopes it may ask, the lowest level it accepts and
 * how it authenticates at the token endpoint. A secret is shown once and
 * kept as its SHA-256 (it is 256 random bits: a slow hash would add
 * nothing); private_key_jwt clients register their public keys instead.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oidc/oidc_internal.h"
#include "org/org.h"

static const char sql_add[] =
	"INSERT INTO oidc_client (id, name, kbo, app, auth_method, secret_hash,"
	" jwks, redirect_uris, post_logout_uris, scopes, min_level,"
	" id_token_alg, subject_type, subject_key, created_at) VALUES"
	" (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
static const char sql_get[] =
	"SELECT id, name, kbo, coalesce(app, ''), auth_method, secret_hash, jwks,"
	" redirect_uris, post_logout_uris, scopes, min_level, id_token_alg,"
	" subject_type, subject_key FROM oidc_client"
	" WHERE id = ?1 AND removed_at IS NULL";
static const char sql_list[] =
	"SELECT id, name, kbo, coalesce(app, ''), auth_method, NULL, NULL,"
	" redirect_uris, post_logout_uris, scopes, min_level, id_token_alg,"
	" subject_type, subject_key FROM oidc_client"
	" WHERE removed_at IS NULL ORDER BY id";
static const char sql_secret[] =
	"UPDATE oidc_client SET secret_hash = ?2 WHERE id = ?1"
	" AND removed_at IS NULL AND auth_method <> 'private_key_jwt'";
static const char sql_remove[] =
	"UPDATE oidc_client SET removed_at = ?2 WHERE id = ?1"
	" AND removed_at IS NULL";
static const char sql_jti[] =
	"INSERT INTO oidc_assertion (client, jti, expires_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT DO NOTHING";
static const char sql_jti_sweep[] =
	"DELETE FROM oidc_assertion WHERE expires_at < ?1";

static const char *const scopes_known[] = {"openid", "profile", "email",
					   "egovnrn"};

bool oidc_list_has(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && *p;) {
		while (*p == ' ')
			p++;
		size_t k = strcspn(p, " ");
		if (k == n && n && strncmp(p, word, n) == 0)
			return true;
		p += k;
	}
	return false;
}

void oidc_list_add(char *out, size_t n, const char *word)
{
	size_t l = strlen(out);
	if (l < n)
		snprintf(out + l, n - l, "%s%s", l ? " " : "", word);
}

static void read_client(struct store_stmt *st, void *out)
{
	struct oidc_client *c = out;
	memset(c, 0, sizeof(*c));
	char *dst[] = {c->id, c->name, c->kbo, c->app, c->auth_method};
	size_t len[] = {sizeof(c->id), sizeof(c->name), sizeof(c->kbo),
			sizeof(c->app), sizeof(c->auth_method)};
	for (int i = 0; i < 5; i++)
		str_copy(dst[i], len[i], store_col_text(st, i));
	size_t n = 0;
	const void *h = store_col_blob(st, 5, &n);
	if (h && n == sizeof(c->secret_hash)) {
		memcpy(c->secret_hash, h, n);
		c->has_secret = true;
	}
	if (!store_col_null(st, 6))
		c->jwks = xstrdup(store_col_text(st, 6));
	str_copy(c->redirect_uris, sizeof(c->redirect_uris),
		 store_col_text(st, 7));
	str_copy(c->post_logout_uris, sizeof(c->post_logout_uris),
		 store_col_text(st, 8));
	str_copy(c->scopes, sizeof(c->scopes), store_col_text(st, 9));
	c->min_level = (int)store_col_int(st, 10);
	str_copy(c->id_token_alg, sizeof(c->id_token_alg),
		 store_col_text(st, 11));
	str_copy(c->subject_type, sizeof(c->subject_type),
		 store_col_text(st, 12));
	const void *k = store_col_blob(st, 13, &n);
	if (k && n == sizeof(c->subject_key))
		memcpy(c->subject_key, k, n);
}

void oidc_client_clear(struct oidc_client *c)
{
	free(c->jwks);
	c->jwks = NULL;
}

int oidc_client_get(struct oidc *o, const char *id, struct oidc_client *out,
		    struct error *e)
{
	memset(out, 0, sizeof(*out));
	if (!id || strlen(id) > OIDC_CLIENT_ID_MAX)
		return 1;
	struct store_stmt *st = store_prepare(store_reader(o->store), sql_get);
	store_bind_text(st, 1, id);
	return store_one(st, read_client, out, e);
}

/* ------------------------------------------------------------ register */

static bool id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > OIDC_CLIENT_ID_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789._-") == n;
}

/* A redirect URI a browser may be sent to: https (http only to the
 * loopback, for an application on the person's own machine, RFC 8252),
 * no user information in the authority (http://localhost:1@evil.example
 * is evil.example), no fragment, no space, no control character. */
static bool uri_ok(const char *u, size_t n)
{
	size_t skip = n > 8 && strncmp(u, "https://", 8) == 0  ? 8
		      : n > 7 && strncmp(u, "http://", 7) == 0 ? 7
							       : 0;
	if (!skip)
		return false;
	for (size_t i = 0; i < n; i++)
		if (u[i] == '#' || (unsigned char)u[i] <= ' ' || u[i] == 0x7f)
			return false;
	const char *host = u + skip;
	size_t alen = 0;
	while (skip + alen < n && !strchr("/?", host[alen]))
		alen++;
	if (alen == 0 || memchr(host, '@', alen) || memchr(host, '\\', alen))
		return false;
	if (skip == 8)
		return true;
	/* http: the host exactly a loopback name, with a port or not. */
	static const char *const loops[] = {"127.0.0.1", "localhost", "[::1]"};
	for (size_t i = 0; i < KP_NELEM(loops); i++) {
		size_t l = strlen(loops[i]);
		if (alen >= l && strncmp(host, loops[i], l) == 0 &&
		    (alen == l || host[l] == ':'))
			return strspn(host + l + (alen > l), "0123456789") ==
			       alen - l - (alen > l);
	}
	return false;
}

static bool uris_ok(const char *list, bool required)
{
	if (!list || !*list)
		return !required;
	if (strlen(list) >= 2048)
		return false;
	int n = 0;
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		size_t k = strcspn(p, " ");
		if (k && !uri_ok(p, k))
			return false;
		n += k > 0;
		p += k;
	}
	return n > 0 || !required;
}

static bool scopes_ok(const char *list)
{
	if (!list || strlen(list) >= 128 || !oidc_list_has(list, "openid"))
		return false;
	for (const char *p = list; *p;) {
		while (*p == ' ')
			p++;
		size_t k = strcspn(p, " "), hit = 0;
		for (size_t i = 0; k && i < KP_NELEM(scopes_known); i++)
			hit += strlen(scopes_known[i]) == k &&
			       strncmp(p, scopes_known[i], k) == 0;
		if (k && !hit)
			return false;
		p += k;
	}
	return true;
}

/* A JWK set every key of which cjose can import, none private. */
static bool jwks_ok(const char *text)
{
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;
	json_t *keys = json_object_get(j, "keys");
	bool ok = json_is_array(keys) && json_array_size(keys) > 0 &&
		  json_array_size(keys) <= 8;
	size_t i;
	json_t *k;
	json_array_foreach(keys, i, k) {
		char *one = json_dumps(k, JSON_COMPACT);
		cjose_err cerr;
		cjose_jwk_t *jwk = one ? cjose_jwk_import(one, strlen(one),
							  &cerr)
				       : NULL;
		ok = ok && jwk && !json_object_get(k, "d");
		cjose_jwk_release(jwk);
		free(one);
	}
	json_decref(j);
	return ok;
}

static int spec_check(struct oidc *o, const struct oidc_client_spec *s,
		      int *level, struct error *e)
{
	const char *m = s->auth_method ? s->auth_method : "";
	bool pkjwt = strcmp(m, "private_key_jwt") == 0;
	const char *bad = NULL;
	char name[256];
	if (!id_ok(s->id))
		bad = "id: 1 to 64 of A-Z a-z 0-9 . _ -";
	else if (!s->name || !*s->name || !text_plain(s->name, 127))
		bad = "name: plain text, at most 127 bytes";
	else if (!s->kbo || !kbo_valid(s->kbo) ||
		 org_name(o->store, s->kbo, name, sizeof(name), NULL) != 0)
		bad = "kbo: a registered organisation's enterprise number";
	else if (strcmp(m, "client_secret_basic") &&
		 strcmp(m, "client_secret_post") && !pkjwt)
		bad = "auth_method: client_secret_basic, client_secret_post "
		      "or private_key_jwt";
	else if (!uris_ok(s->redirect_uris, true))
		bad = "redirect_uris: https URLs (http only on the loopback), "
		      "no fragment, space separated";
	else if (!uris_ok(s->post_logout_uris, false))
		bad = "post_logout_uris: as redirect_uris";
	else if (!scopes_ok(s->scopes ? s->scopes : "openid"))
		bad = "scopes: openid and any of profile email egovnrn";
	else if (pkjwt != (s->jwks != NULL) || (pkjwt && !jwks_ok(s->jwks)))
		bad = "jwks: a public JWK set, for private_key_jwt only";
	else if (s->id_token_alg && strcmp(s->id_token_alg, "ES256") &&
		 strcmp(s->id_token_alg, "RS256"))
		bad = "id_token_alg: ES256 or RS256";
	else if (s->subject_type && strcmp(s->subject_type, "pairwise") &&
		 strcmp(s->subject_type, "public"))
		bad = "subject_type: pairwise or public";
	if (bad)
		return err_set(e, ERR_INVALID, "invalid_field", "%s", bad);
	struct auth_app app;
	*level = s->min_level ? s->min_level : 200;
	if (s->app && *s->app) {
		if (auth_app(o->auth, s->app, &app) != 0)
			return err_set(e, ERR_INVALID, "invalid_field",
				       "app: not in the catalogue");
		/* The catalogue's minimum holds whatever else is set. */
		if (app.min_level > *level)
			*level = app.min_level;
	}
	if (*level < 100 || *level > 500)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "min_level: 100 to 500");
	return 0;
}

struct client_add {
	const struct oidc_client_spec *s;
	int level;
	uint8_t secret_hash[32];
	bool secret;
};

static int add_change(struct store_conn *w, void *ctx,
		      struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct client_add *c = ctx;
	const struct oidc_client_spec *s = c->s;
	uint8_t subject_key[32];
	rand_bytes(subject_key, sizeof(subject_key));
	struct store_stmt *st = store_prepare(w, sql_add);
	const char *t[] = {s->id, s->name, s->kbo};
	for (int i = 0; i < 3; i++)
		store_bind_text(st, i + 1, t[i]);
	if (s->app && *s->app)
		store_bind_text(st, 4, s->app);
	store_bind_text(st, 5, s->auth_method);
	if (c->secret)
		store_bind_blob(st, 6, c->secret_hash, 32);
	if (s->jwks)
		store_bind_text(st, 7, s->jwks);
	store_bind_text(st, 8, s->redirect_uris);
	store_bind_text(st, 9, s->post_logout_uris ? s->post_logout_uris : "");
	store_bind_text(st, 10, s->scopes ? s->scopes : "openid");
	store_bind_int(st, 11, c->level);
	store_bind_text(st, 12, s->id_token_alg ? s->id_token_alg : "ES256");
	store_bind_text(st, 13, s->subject_type ? s->subject_type : "pairwise");
	store_bind_blob(st, 14, subject_key, sizeof(subject_key));
	store_bind_int(st, 15, time_now());
	static const struct store_refusal dup = {
		ERR_CONFLICT, "client_exists", "a client with this id exists"};
	return store_run(st, &dup, e);
}

static struct audit_event client_event(const struct audit_actor *by,
				       const char *action, const char *id)
{
	struct audit_event ev = audit_event_by(by, action);
	ev.purpose = id;
	return ev;
}

int oidc_client_add(struct oidc *o, const struct audit_actor *by,
		    const struct oidc_client_spec *spec,
		    char secret[OIDC_SECRET_HEX], struct error *e)
{
	secret[0] = '\0';
	struct client_add c = {spec, 0, {0}, false};
	struct error bad;
	const struct error *refusal = NULL;
	if (spec_check(o, spec, &c.level, &bad) != 0)
		refusal = &bad;
	else if (strcmp(spec->auth_method, "private_key_jwt") != 0) {
		token_new(secret, c.secret_hash);
		c.secret = true;
	}
	struct audit_event ev = client_event(
		by, "oidc_client_add", refusal ? NULL : spec->id);
	int rc = audit_change(o->log, &ev, add_change, &c, refusal, e);
	if (rc != 0)
		secret_wipe(secret, OIDC_SECRET_HEX);
	return rc;
}

struct client_update {
	const char *sql;
	const char *id;
	uint8_t hash[32];
};

static int update_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct client_update *u = ctx;
	struct store_stmt *st = store_prepare(w, u->sql);
	store_bind_text(st, 1, u->id);
	if (u->sql == sql_secret)
		store_bind_blob(st, 2, u->hash, sizeof(u->hash));
	else
		store_bind_int(st, 2, time_now());
	if (store_run(st, NULL, e) != 0)
		return -1;
	if (store_changes(w) == 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_client",
			       "no client %s that this applies to", u->id);
	return 0;
}

int oidc_client_rotate_secret(struct oidc *o, const struct audit_actor *by,
			      const char *id, char secret[OIDC_SECRET_HEX],
			      struct error *e)
{
	struct client_update u = {sql_secret, id, {0}};
	token_new(secret, u.hash);
	struct audit_event ev = client_event(by, "oidc_client_secret", id);
	int rc = audit_commit(o->log, &ev, 1, update_change, &u, e);
	if (rc != 0)
		secret_wipe(secret, OIDC_SECRET_HEX);
	return rc;
}

int oidc_client_remove(struct oidc *o, const struct audit_actor *by,
		       const char *id, struct error *e)
{
	struct client_update u = {sql_remove, id, {0}};
	struct audit_event ev = client_event(by, "oidc_client_remove", id);
	return audit_commit(o->log, &ev, 1, update_change, &u, e);
}

json_t *oidc_client_list(struct oidc *o, struct error *e)
{
	KP_UNUSED(e);
	int n = 0;
	struct store_stmt *st = store_prepare(store_reader(o->store), sql_list);
	struct oidc_client *c = store_collect(st, sizeof(*c), read_client, &n);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(
			arr,
			json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:i,s:s,s:s}",
				  "id", c[i].id, "name", c[i].name, "kbo",
				  c[i].kbo, "app", c[i].app, "auth_method",
				  c[i].auth_method, "redirect_uris",
				  c[i].redirect_uris, "scopes", c[i].scopes,
				  "min_level", c[i].min_level, "id_token_alg",
				  c[i].id_token_alg, "subject_type",
				  c[i].subject_type));
	free(c);
	return arr;
}

/* -------------------------------------------------------- subject ids */

void oidc_subject(const struct oidc *o, const struct oidc_client *c,
		  const char *insz, char out[44])
{
	/* Pairwise (OpenID Connect Core section 8.1): one person is another
	 * subject at each client, so two applications cannot join their
	 * records by it; stable because the client's key never changes.
	 * Public: the same at every client, but still not the national
	 * number, which only the egovnrn scope gives. */
	const uint8_t *key = strcmp(c->subject_type, "public") == 0
				     ? o->public_key
				     : c->subject_key;
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state h;
	crypto_auth_hmacsha256_init(&h, key, 32);
	crypto_auth_hmacsha256_update(&h, (const uint8_t *)insz, strlen(insz));
	crypto_auth_hmacsha256_final(&h, mac);
	sodium_bin2base64(out, 44, mac, sizeof(mac),
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* ------------------------------------------------------ authentication */

static int assertion_check(struct oidc *o, const struct oidc_client *c,
			   const char *jwt, const char *endpoint,
			   struct oidc_error *err);

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Undo application/x-www-form-urlencoded in place: '+' a space, %XX a
 * byte. False for a broken escape, or one that is a NUL (which would cut
 * the string short). */
static bool form_decode(char *s)
{
	char *w = s;
	for (const char *r = s; *r; r++) {
		if (*r != '%') {
			*w++ = *r == '+' ? ' ' : *r;
			continue;
		}
		int hi = hex_digit(r[1]);
		int lo = hi < 0 ? -1 : hex_digit(r[2]);
		if (lo < 0 || (hi | lo) == 0)
			return false;
		*w++ = (char)(hi << 4 | lo);
		r += 2;
	}
	*w = '\0';
	return true;
}

/* client_secret_basic: "Basic base64(urlencode(id):urlencode(secret))"
 * (RFC 6749 section 2.3.1). Our ids and secrets never need the encoding,
 * but clients apply it all the same: openid-client sends "my-app" as
 * "my%2Dapp", so both halves are decoded. */
static bool basic_parse(const char *h, char id[OIDC_CLIENT_ID_MAX + 1],
			char secret[128])
{
	if (!h || strncasecmp(h, "Basic ", 6) != 0)
		return false;
	char raw[512]; /* room for every character of an id as %XX */
	size_t n = 0;
	if (sodium_base642bin((uint8_t *)raw, sizeof(raw) - 1, h + 6,
			      strlen(h + 6), NULL, &n, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	raw[n] = '\0';
	char *colon = strchr(raw, ':');
	if (!colon || memchr(raw, '\0', n) ||
	    colon - raw > 3 * OIDC_CLIENT_ID_MAX)
		return false;
	*colon = '\0';
	bool ok = form_decode(raw) && form_decode(colon + 1) &&
		  str_copy(id, OIDC_CLIENT_ID_MAX + 1, raw) &&
		  str_copy(secret, 128, colon + 1);
	secret_wipe(raw, sizeof(raw));
	return ok;
}

static bool secret_matches(const struct oidc_client *c, const char *secret)
{
	uint8_t h[32];
	sha256_digest(secret, strlen(secret), h);
	return c->has_secret && ct_equal(h, c->secret_hash, sizeof(h));
}

int oidc_client_authenticate(struct oidc *o, const char *authorization,
			     json_t *form, const char *endpoint,
			     struct oidc_client *c, struct oidc_error *err)
{
	/* Zeroed first: every way out clears it, also when no method of
	 * authentication was recognised and no client was ever read. */
	memset(c, 0, sizeof(*c));
	memset(err, 0, sizeof(*err));
	const char *fid = json_string_value(json_object_get(form, "client_id"));
	const char *fsec =
		json_string_value(json_object_get(form, "client_secret"));
	const char *atype = json_string_value(
		json_object_get(form, "client_assertion_type"));
	const char *assertion =
		json_string_value(json_object_get(form, "client_assertion"));
	char id[OIDC_CLIENT_ID_MAX + 1] = "", secret[128] = "";
	const char *method = NULL;
	bool basic = authorization && strncasecmp(authorization, "Basic ", 6) == 0;
	if (basic && basic_parse(authorization, id, secret))
		method = "client_secret_basic";
	else if (!basic && fsec && fid && str_copy(id, sizeof(id), fid) &&
		 str_copy(secret, sizeof(secret), fsec))
		method = "client_secret_post";
	else if (!basic && assertion && atype &&
		 strcmp(atype, "urn:ietf:params:oauth:client-assertion-type:"
			       "jwt-bearer") == 0)
		method = "private_key_jwt";
	struct error e;
	int rc = 1;
	if (method && strcmp(method, "private_key_jwt") == 0) {
		/* The client is the assertion's issuer; a client_id beside it
		 * must name the same (checked after the signature). */
		rc = fid ? oidc_client_get(o, fid, c, &e) : 1;
	} else if (method)
		rc = oidc_client_get(o, id, c, &e);
	bool ok = rc == 0 && strcmp(c->auth_method, method) == 0;
	if (ok && strcmp(method, "private_key_jwt") == 0)
		ok = assertion_check(o, c, assertion, endpoint, err) == 0;
	else if (ok)
		ok = secret_matches(c, secret);
	secret_wipe(secret, sizeof(secret));
	if (ok)
		return 0;
	oidc_client_clear(c);
	if (rc < 0) {
		oidc_err(err, 503, "temporarily_unavailable", "%s", e.detail);
		return -1;
	}
	if (err->error == NULL || strcmp(err->error, "invalid_client") != 0)
		oidc_err(err, 401, "invalid_client",
			 "client authentication failed");
	err->challenge = basic;
	return -1;
}

/* ---------------------------------------------------- private_key_jwt */

/* The assertion (RFC 7523 section 3): signed by one of the client's
 * registered keys with ES256 or RS256 (never "none", never HMAC with a
 * public key), iss and sub the client, aud the token endpoint or the
 * issuer, exp in the near future, jti new. */
static bool assertion_claims(struct oidc *o, const struct oidc_client *c,
			     json_t *cl, const char *endpoint, int64_t *exp)
{
	const char *iss = json_string_value(json_object_get(cl, "iss"));
	const char *sub = json_string_value(json_object_get(cl, "sub"));
	json_t *aud = json_object_get(cl, "aud");
	json_t *jexp = json_object_get(cl, "exp");
	bool aud_ok = false;
	if (json_is_string(aud))
		aud_ok = strcmp(json_string_value(aud), endpoint) == 0 ||
			 strcmp(json_string_value(aud), oidc_issuer(o)) == 0;
	size_t i;
	json_t *a;
	json_array_foreach(aud, i, a) aud_ok |=
		json_is_string(a) &&
		(strcmp(json_string_value(a), endpoint) == 0 ||
		 strcmp(json_string_value(a), oidc_issuer(o)) == 0);
	int64_t now = time_now();
	*exp = json_is_integer(jexp) ? json_integer_value(jexp) : 0;
	return iss && sub && strcmp(iss, c->id) == 0 && strcmp(sub, c->id) == 0 &&
	       aud_ok && *exp > now && *exp <= now + o->cfg.assertion_max_s;
}

static bool assertion_signed(const struct oidc_client *c, cjose_jws_t *jws)
{
	cjose_err cerr;
	cjose_header_t *hdr = cjose_jws_get_protected(jws);
	const char *alg = cjose_header_get(hdr, CJOSE_HDR_ALG, &cerr);
	if (!alg || (strcmp(alg, "ES256") && strcmp(alg, "RS256")))
		return false;
	/* An extension we would have to understand (RFC 7515 4.1.11): we
	 * understand none. */
	if (json_object_get((json_t *)hdr, "crit"))
		return false;
	json_t *set = json_loads(c->jwks, 0, NULL);
	bool ok = false;
	size_t i;
	json_t *k;
	json_array_foreach(json_object_get(set, "keys"), i, k) {
		char *one = json_dumps(k, JSON_COMPACT);
		cjose_jwk_t *jwk = one ? cjose_jwk_import(one, strlen(one),
							  &cerr)
				       : NULL;
		cjose_jwk_kty_t kty = jwk ? cjose_jwk_get_kty(jwk, &cerr) : 0;
		bool fits = jwk && ((kty == CJOSE_JWK_KTY_EC && alg[0] == 'E') ||
				    (kty == CJOSE_JWK_KTY_RSA && alg[0] == 'R'));
		ok = ok || (fits && cjose_jws_verify(jws, jwk, &cerr));
		cjose_jwk_release(jwk);
		free(one);
	}
	json_decref(set);
	return ok;
}

static int assertion_check(struct oidc *o, const struct oidc_client *c,
			 const char *jwt, const char *endpoint,
			 struct oidc_error *err)
{
	cjose_err cerr;
	cjose_jws_t *jws = jwt && strlen(jwt) < 8192
				   ? cjose_jws_import(jwt, strlen(jwt), &cerr)
				   : NULL;
	uint8_t *plain = NULL;
	size_t n = 0;
	json_t *cl = NULL;
	int64_t exp = 0;
	bool ok = jws && assertion_signed(c, jws) &&
		  cjose_jws_get_plaintext(jws, &plain, &n, &cerr) &&
		  (cl = json_loadb((const char *)plain, n, 0, NULL)) &&
		  assertion_claims(o, c, cl, endpoint, &exp);
	const char *jti = json_string_value(json_object_get(cl, "jti"));
	ok = ok && jti && text_plain(jti, 128);
	if (ok) {
		/* Once only: a replayed assertion is refused. */
		struct error e;
		struct store_conn *w = store_write_begin(o->store, &e);
		int rc = -1;
		if (w) {
			struct store_stmt *st = store_prepare(w, sql_jti_sweep);
			store_bind_int(st, 1, time_now());
			rc = store_run(st, NULL, &e);
			st = store_prepare(w, sql_jti);
			store_bind_text(st, 1, c->id);
			store_bind_text(st, 2, jti);
			store_bind_int(st, 3, exp);
			rc = rc ? rc : store_run(st, NULL, &e);
			if (rc == 0 && store_changes(w) == 0)
				rc = -1; /* seen before: a replay */
			rc = store_write_end(o->store, rc, &e);
		}
		ok = rc == 0;
	}
	json_decref(cl);
	cjose_jws_release(jws);
	if (ok)
		return 0;
	oidc_err(err, 401, "invalid_client",
		 "the client assertion is not valid, or was used before");
	return -1;
}
