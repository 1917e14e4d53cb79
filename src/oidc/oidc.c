/*
 * The provider's handle, its configuration and what it publishes
 * (discovery, keys). oidc.h describes the module.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oidc/oidc_internal.h"

#define OIDC_KEY(key, field, def, min, max, help)                          \
	{"oidc", key, CONFIG_INT, CONFIG_FIELD(struct oidc_config, field), \
	 def, min, max, NULL, help}

const struct config_key oidc_config_keys[] = {
	OIDC_KEY("code_ttl_s", code_ttl_s, KP_XSTR(OIDC_CODE_TTL_S), 10, 600,
		 "how long an authorization code may be traded for tokens"),
	OIDC_KEY("access_token_ttl_s", access_token_ttl_s,
		 KP_XSTR(OIDC_ACCESS_TOKEN_TTL_S), 60, 86400,
		 "how long an access token is valid"),
	OIDC_KEY("request_ttl_s", request_ttl_s, KP_XSTR(OIDC_REQUEST_TTL_S),
		 60, 3600,
		 "how long a login for an application may take"),
	OIDC_KEY("assertion_max_s", assertion_max_s,
		 KP_XSTR(OIDC_ASSERTION_MAX_S), 30, 3600,
		 "the longest life a private_key_jwt assertion may have"),
};
const size_t oidc_config_nkeys = KP_NELEM(oidc_config_keys);

/* The public subjects' key: 32 random bytes in keys_dir, made once. */
static int public_key(struct oidc *o, const char *dir, struct error *e)
{
	char path[LIMIT_PATH];
	if (snprintf(path, sizeof(path), "%s/public-subject.key", dir) >=
	    (int)sizeof(path))
		return err_set(e, ERR_INVALID, "bad_path", "path too long");
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return err_set(e, ERR_INTERNAL, "key_write_failed",
			       "cannot create %s: %s", dir, strerror(errno));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		uint8_t k[32];
		rand_bytes(k, sizeof(k));
		bool ok = write(fd, k, sizeof(k)) == (ssize_t)sizeof(k) &&
			  fsync(fd) == 0;
		secret_wipe(k, sizeof(k));
		close(fd);
		if (!ok) {
			unlink(path);
			return err_set(e, ERR_INTERNAL, "key_write_failed",
				       "cannot write %s", path);
		}
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && read(fd, o->public_key, sizeof(o->public_key)) ==
				     (ssize_t)sizeof(o->public_key);
	if (fd >= 0)
		close(fd);
	return ok ? 0
		  : err_set(e, ERR_INTERNAL, "key_read_failed",
			    "cannot read %s", path);
}

int oidc_open(struct audit *log, struct auth *auth,
	      const struct oidc_config *cfg, const char *keys_dir,
	      struct oidc **out, struct error *e)
{
	struct oidc *o = xcalloc(1, sizeof(*o));
	o->log = log;
	o->auth = auth;
	o->store = audit_store(log);
	o->cfg = *cfg;
	if (o->cfg.code_ttl_s <= 0)
		o->cfg.code_ttl_s = OIDC_CODE_TTL_S;
	if (o->cfg.access_token_ttl_s <= 0)
		o->cfg.access_token_ttl_s = OIDC_ACCESS_TOKEN_TTL_S;
	if (o->cfg.request_ttl_s <= 0)
		o->cfg.request_ttl_s = OIDC_REQUEST_TTL_S;
	if (o->cfg.assertion_max_s <= 0)
		o->cfg.assertion_max_s = OIDC_ASSERTION_MAX_S;
	char kid[64];
	int rc = oidc_keys_load(o, keys_dir, e);
	if (rc == 0)
		rc = public_key(o, keys_dir, e);
	/* A new installation, or one from before OpenID Connect: its first
	 * keys. */
	if (rc == 0 && o->nkeys == 0)
		rc = oidc_key_rotate(keys_dir, "ES256", kid, e) ||
				     oidc_key_rotate(keys_dir, "RS256", kid, e) ||
				     oidc_keys_load(o, keys_dir, e)
			     ? -1
			     : 0;
	if (rc != 0) {
		oidc_close(o);
		return -1;
	}
	*out = o;
	return 0;
}

void oidc_close(struct oidc *o)
{
	if (!o)
		return;
	oidc_keys_free(o);
	secret_wipe(o->public_key, sizeof(o->public_key));
	free(o);
}

const char *oidc_issuer(const struct oidc *o)
{
	return auth_public_url(o->auth);
}

int oidc_request_ttl(const struct oidc *o)
{
	return o->cfg.request_ttl_s;
}

/* Requests go when they end; codes and tokens a day after their end, so
 * that a reused code is still recognised as reused. At most once a minute
 * (the writer is shared), best effort. */
void oidc_sweep(struct oidc *o, struct store_conn *w)
{
	int64_t now = time_now();
	if (now - o->swept_at < 60)
		return;
	o->swept_at = now;
	static const char *const sql[] = {
		"DELETE FROM oidc_request WHERE expires_at < ?1",
		"DELETE FROM oidc_code WHERE expires_at < ?1 - 86400",
		"DELETE FROM oidc_token WHERE expires_at < ?1 - 86400"};
	for (size_t i = 0; i < KP_NELEM(sql); i++) {
		struct store_stmt *st = store_prepare(w, sql[i]);
		store_bind_int(st, 1, now);
		store_run(st, NULL, NULL);
	}
}

static json_t *strings(const char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

json_t *oidc_discovery(struct oidc *o)
{
	const char *iss = oidc_issuer(o);
	static const char *const scopes[] = {"openid", "profile", "email",
					     "egovnrn"};
	static const char *const auth_methods[] = {
		"client_secret_basic", "client_secret_post", "private_key_jwt"};
	static const char *const algs[] = {"ES256", "RS256"};
	static const char *const acrs[] = {
		OIDC_ACR_PREFIX "200", OIDC_ACR_PREFIX "400",
		OIDC_ACR_PREFIX "450", OIDC_ACR_PREFIX "500"};
	static const char *const claims[] = {
		"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr",
		"amr", "egovNRN", "givenName", "surname", "prefLanguage",
		"email", "act", "organisation"};
	static const char *const locales[] = {"nl", "fr", "de", "en"};
	json_t *d = json_object();
	json_object_set_new(d, "issuer", json_string(iss));
	const char *ep[][2] = {{"authorization_endpoint", "/oidc/authorize"},
			       {"token_endpoint", "/oidc/token"},
			       {"userinfo_endpoint", "/oidc/userinfo"},
			       {"jwks_uri", "/oidc/jwks"},
			       {"introspection_endpoint", "/oidc/introspect"},
			       {"revocation_endpoint", "/oidc/revoke"},
			       {"end_session_endpoint", "/oidc/logout"}};
	for (size_t i = 0; i < KP_NELEM(ep); i++)
		json_object_set_new(d, ep[i][0],
				    json_sprintf("%s%s", iss, ep[i][1]));
	json_object_set_new(d, "scopes_supported", strings(scopes, 4));
	json_object_set_new(d, "response_types_supported",
			    strings((const char *const[]){"code"}, 1));
	json_object_set_new(d, "response_modes_supported",
			    strings((const char *const[]){"query"}, 1));
	json_object_set_new(d, "grant_types_supported",
			    strings((const char *const[]){"authorization_code"},
				    1));
	json_object_set_new(d, "subject_types_supported",
			    strings((const char *const[]){"pairwise", "public"},
				    2));
	json_object_set_new(d, "id_token_signing_alg_values_supported",
			    strings(algs, 2));
	json_object_set_new(d, "token_endpoint_auth_methods_supported",
			    strings(auth_methods, 3));
	json_object_set_new(d, "token_endpoint_auth_signing_alg_values_supported",
			    strings(algs, 2));
	json_object_set_new(d, "introspection_endpoint_auth_methods_supported",
			    strings(auth_methods, 3));
	json_object_set_new(d, "revocation_endpoint_auth_methods_supported",
			    strings(auth_methods, 3));
	json_object_set_new(d, "code_challenge_methods_supported",
			    strings((const char *const[]){"S256"}, 1));
	json_object_set_new(d, "acr_values_supported", strings(acrs, 4));
	json_object_set_new(d, "claims_supported", strings(claims, 16));
	json_object_set_new(d, "ui_locales_supported", strings(locales, 4));
	json_object_set_new(d, "claims_parameter_supported", json_true());
	json_object_set_new(d, "request_parameter_supported", json_false());
	json_object_set_new(d, "request_uri_parameter_supported", json_false());
	json_object_set_new(d, "authorization_response_iss_parameter_supported",
			    json_true());
	return d;
}

void oidc_handle_new(char out[OIDC_HANDLE_HEX])
{
	uint8_t h[SHA256_LEN];
	token_new(out, h);
}

void oidc_handle_hash(const char *handle, uint8_t out[32])
{
	sha256_digest(handle, strlen(handle), out);
}

void oidc_err(struct oidc_error *err, int status, const char *error,
	      const char *fmt, ...)
{
	err->status = status;
	err->error = error;
	err->challenge = false;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->description, sizeof(err->description), fmt, ap);
	va_end(ap);
}

void oidc_acr(int level, char out[48])
{
	snprintf(out, 48, OIDC_ACR_PREFIX "%d", level);
}
