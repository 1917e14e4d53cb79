/*
 * src/oidc: kruispunt as the OpenID Provider of the applications that rely
 * on it (seed 000: the federal authentication service every application
 * of the three portals sends its users to). An application asks for a
 * minimum level; kruispunt authenticates with a key of that level or
 * higher and tells the application who the person is, at which level and
 * in which profile. docs/OIDC.md describes the protocol as built.
 *
 * The flow, as the browser sees it:
 *   1. the application sends it to /oidc/authorize (oidc_authorize): the
 *      request is checked and kept, and the browser goes on to the
 *      portal's page /#/oidc?request=ID with a cookie binding the request
 *      to this browser (the session cookie is SameSite=Strict, so a
 *      navigation from another site never carries it: the portal's own
 *      scripts, same-origin, do);
 *   2. the portal shows what the application asks (oidc_request_view),
 *      logs the person in or steps the session up, lets them choose a
 *      profile, and continues (oidc_request_continue): a one-time code,
 *      and the way back to the application;
 *   3. the application's server trades the code for tokens
 *      (oidc_token), with its own authentication and the PKCE verifier;
 *      the ID token issued is an event in the person's access log.
 *
 * Signing keys are JWKs in files (keys/oidc/<kid>.jwk), used through cjose;
 * no signature code of our own. Clients are data (oidc_client_*).
 */
#ifndef KP_OIDC_H
#define KP_OIDC_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/base.h"
#include "store/store.h"

extern const struct store_schema oidc_schema;

/* The form of a level as an acr value, as the federal service names
 * them: "urn:be:fedict:iam:fas:Level400". */
#define OIDC_ACR_PREFIX "urn:be:fedict:iam:fas:Level"

#define OIDC_CLIENT_ID_MAX 64
#define OIDC_SECRET_HEX 65 /* a client secret: 32 random bytes, hex */
#define OIDC_HANDLE_HEX 65 /* request ids, bindings, codes, tokens */

/* [oidc] */
struct oidc_config {
	int code_ttl_s;         /* an authorization code (60) */
	int access_token_ttl_s; /* an access token (600) */
	int request_ttl_s;      /* a request waiting for the person (900) */
	int assertion_max_s;    /* a private_key_jwt assertion's life (300) */
};

#define OIDC_CODE_TTL_S 60
#define OIDC_ACCESS_TOKEN_TTL_S 600
#define OIDC_REQUEST_TTL_S 900
#define OIDC_ASSERTION_MAX_S 300

extern const struct config_key oidc_config_keys[];
extern const size_t oidc_config_nkeys;

struct oidc;

/* Open the provider: its signing keys from keys_dir (a new ES256 and a new
 * RS256 key are made there, mode 0600, when it has none), the issuer
 * (auth's public URL). Returns 0 and *out (oidc_close), or -1 with e. */
int oidc_open(struct audit *log, struct auth *auth,
	      const struct oidc_config *cfg, const char *keys_dir,
	      struct oidc **out, struct error *e);
void oidc_close(struct oidc *o);

/* The issuer: auth's public URL. */
const char *oidc_issuer(const struct oidc *o);
/* How long a request waits for the person (oidc.request_ttl_s): the
 * binding cookie's life. */
int oidc_request_ttl(const struct oidc *o);

/* Discovery (OpenID Connect Discovery 1.0) and the public keys (RFC 7517):
 * new JSON the caller frees. */
json_t *oidc_discovery(struct oidc *o);
json_t *oidc_jwks(struct oidc *o);

/* A new signing key for alg ("ES256" or "RS256") in keys_dir; it signs
 * from now on, the older ones stay published until retired. *kid gets its
 * id. Returns 0, or -1 with e. (kruispunt oidc key rotate) */
int oidc_key_rotate(const char *keys_dir, const char *alg,
		    char kid[64], struct error *e);
/* Stop publishing kid (its file is removed). Refused for the newest key
 * of an algorithm. Returns 0, or -1 with e. */
int oidc_key_retire(const char *keys_dir, const char *kid, struct error *e);
/* The keys in keys_dir as JSON (kid, alg, created, signing), caller frees. */
json_t *oidc_key_list(const char *keys_dir, struct error *e);

/* -------------------------------------------------------------- clients */

/* A relying application, registered by an operator. Lists are space
 * separated: redirect URIs (each matched exactly), scopes it may ask. */
struct oidc_client_spec {
	const char *id;
	const char *name;
	const char *kbo;          /* the organisation responsible for it */
	const char *app;          /* its catalogue entry, or NULL */
	const char *auth_method;  /* client_secret_basic | client_secret_post
				     | private_key_jwt */
	const char *redirect_uris;
	const char *post_logout_uris; /* or NULL */
	const char *scopes;       /* of openid profile email egovnrn */
	const char *jwks;         /* private_key_jwt: its public JWK set */
	const char *id_token_alg; /* ES256 (default) or RS256 */
	const char *subject_type; /* pairwise (default) or public */
	int min_level;            /* 0: the catalogue entry's, else 200 */
};

/* Register a client, by `by` (recorded "oidc_client_add"). For the
 * secret methods, secret receives the new secret, shown once (only its
 * SHA-256 is kept). Returns 0, or -1 with e (ERR_INVALID invalid_field,
 * ERR_CONFLICT client_exists). */
int oidc_client_add(struct oidc *o, const struct audit_actor *by,
		    const struct oidc_client_spec *spec,
		    char secret[OIDC_SECRET_HEX], struct error *e);
int oidc_client_rotate_secret(struct oidc *o, const struct audit_actor *by,
			      const char *id, char secret[OIDC_SECRET_HEX],
			      struct error *e);
int oidc_client_remove(struct oidc *o, const struct audit_actor *by,
		       const char *id, struct error *e);
/* The clients as JSON (no secrets), caller frees; NULL with e. */
json_t *oidc_client_list(struct oidc *o, struct error *e);

/* ------------------------------------------------------- authorization */

/* Where /oidc/authorize sends the browser. */
struct oidc_begin {
	char *location; /* owned: oidc_begin_free */
	/* Set when the request waits for the person: the binding cookie's
	 * value (else ""). */
	char binding[OIDC_HANDLE_HEX];
};
void oidc_begin_free(struct oidc_begin *b);

/* An authorization request (its parameters, from the query or the form,
 * as an object of strings). Returns 0 with out: on to the portal, or back
 * to the application with an error (RFC 6749 section 4.1.2.1). Returns -1
 * with e when it cannot go back (an unknown client, a redirect URI not
 * registered): the browser is told, never redirected. */
int oidc_authorize(struct oidc *o, json_t *params, struct oidc_begin *out,
		   struct error *e);

/* RP-initiated logout: params (id_token_hint, client_id,
 * post_logout_redirect_uri, state). Returns 0 with out: on to the
 * portal's page /#/oidc/logout with a binding, as oidc_authorize; -1 with
 * e (invalid_request: a hint not signed by us, or naming another client;
 * invalid_redirect_uri: a post-logout URI the client did not register).
 * The portal ends the session itself, then answers the request through
 * oidc_request_continue, which gives the way back. */
int oidc_logout(struct oidc *o, json_t *params, struct oidc_begin *out,
		struct error *e);

/* What a waiting request asks, for the portal, given the browser's
 * binding and its session (s NULL: none): the application, the level, the
 * claims, and "next": login, step_up, eid or ready. New JSON, or NULL
 * with e (ERR_NOT_FOUND unknown_request: unknown, expired, done or of
 * another browser alike). */
json_t *oidc_request_view(struct oidc *o, const char *id, const char *binding,
			  const struct auth_session *s, struct error *e);

/* The person's answer to a waiting request: allow (with session token,
 * whose session s is, acting in its current profile) or deny. Returns the
 * URL to send the browser back to the application (the code, or the
 * error), which the caller frees; NULL with e (unknown_request, or
 * ERR_FORBIDDEN insufficient_level / login_required when the session
 * cannot answer yet). */
char *oidc_request_continue(struct oidc *o, const struct audit_actor *by,
			    const char *id, const char *binding,
			    const char *token, const struct auth_session *s,
			    bool deny, struct error *e);

/* --------------------------------------------------------------- tokens */

/* An OAuth error as RFC 6749 section 5.2 answers it: the status, the
 * error code, a description, and whether the client must be asked to
 * authenticate (401 with WWW-Authenticate). */
struct oidc_error {
	int status;
	const char *error;
	char description[256];
	bool challenge;
};

/* The token endpoint: form (object of strings) with the client's
 * Authorization header (or NULL). Returns the token response (caller
 * frees), or NULL with err. The ID token's issue is recorded, durable
 * before the answer, about the person (and the child acted for). */
json_t *oidc_token(struct oidc *o, const char *authorization, json_t *form,
		   struct oidc_error *err);

/* The claims for an access token (Authorization: Bearer), or NULL with err
 * (401 invalid_token). Caller frees. */
json_t *oidc_userinfo(struct oidc *o, const char *authorization,
		      struct oidc_error *err);

/* RFC 7662 and RFC 7009, for an authenticated client. */
json_t *oidc_introspect(struct oidc *o, const char *authorization,
			json_t *form, struct oidc_error *err);
int oidc_revoke(struct oidc *o, const char *authorization, json_t *form,
		struct oidc_error *err);

#endif
