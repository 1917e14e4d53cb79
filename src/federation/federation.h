/*
 * src/federation: external keys by federation (seed 000 art. 11: digital
 * keys issued by others, such as itsme, MyGov.be or an eIDAS key at its
 * notified level). kruispunt is the OpenID Connect relying party of such
 * an external provider: the person authenticates there, the provider's
 * signed ID token names their national number, and kruispunt opens a
 * session at the level of the key type registered for that provider,
 * exactly as a password or an eID login does (auth_login_external).
 * docs/OIDC.md, "External keys by federation", describes it as built.
 *
 * The flow, as the browser sees it:
 *   1. /api/v1/auth/federation/{id}/start (federation_start): state,
 *      nonce and a PKCE verifier are kept here, bound to the browser by a
 *      cookie, and the browser goes to the provider's authorization
 *      endpoint (from its discovery document, cached);
 *   2. the provider sends it back to /api/v1/auth/federation/callback
 *      with a code (federation_callback): the state and the cookie are
 *      checked, the code is traded at the provider's token endpoint
 *      (libcurl, TLS verified against the provider's CA), the ID token
 *      verified with cjose against the provider's keys, and the session
 *      opened.
 *
 * Providers are data (federation_provider_*); their client secrets are
 * kept sealed under the master key (auth_seal), never in clear.
 */
#ifndef KP_FEDERATION_H
#define KP_FEDERATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/base.h"
#include "store/store.h"

extern const struct store_schema federation_schema;

#define FEDERATION_ID_MAX 32       /* a provider's id: [a-z0-9-] */
#define FEDERATION_SECRET_MAX 256  /* a client secret, in bytes */
#define FEDERATION_CA_MAX 65536    /* a provider's CA file (PEM) */
/* A login started and not yet back: the person types a PIN on a phone,
 * which takes minutes, not hours. */
#define FEDERATION_LOGIN_TTL_S 600
/* How long a provider's discovery document and keys are trusted before
 * they are fetched again (a provider rolling its keys publishes the new
 * one before it signs with it; an unknown kid fetches at once). */
#define FEDERATION_CACHE_S 300
/* An ID token's iat may be this far in the future (clock skew), and the
 * token at most this old. */
#define FEDERATION_SKEW_S 120
#define FEDERATION_IAT_MAX_S 600
/* The provider's answers (discovery, keys, token): a few kilobytes. */
#define FEDERATION_ANSWER_MAX (64 * 1024)
/* The provider has this long to answer one request. */
#define FEDERATION_TIMEOUT_MS 5000
/* The authentication at the provider must be this recent (max_age in the
 * request, auth_time in the token): a login, not a session left open at
 * the provider for hours. */
#define FEDERATION_MAX_AGE_S 600

struct federation;

/* Start the relying party on log's store with auth (sealing, logins).
 * Returns 0 and *out (federation_close), or -1 with e. */
int federation_open(struct audit *log, struct auth *auth,
		    struct federation **out, struct error *e);
void federation_close(struct federation *f);

/* ------------------------------------------------------------ providers */

struct federation_provider_spec {
	const char *id;            /* [a-z0-9-], in URLs */
	const char *name;          /* shown on the login page */
	const char *issuer;        /* https (http only on the loopback) */
	const char *client_id;
	const char *client_secret; /* sealed before it is stored */
	const char *key_type;      /* of data/key_types.tsv: the level */
	const char *nrn_claim;     /* the ID token's claim with the INSZ */
	const char *ca_pem;        /* the CA its TLS is verified against, or
				      NULL: the system's */
	/* The acr values (space separated) that give the key type's level,
	 * asked for as essential and required in the ID token; NULL or "":
	 * the provider has one level only. */
	const char *acr;
};

/* Register a provider, by `by` (recorded "federation_provider_add", the
 * secret never in it). Returns 0, or -1 with e (ERR_INVALID
 * invalid_field, ERR_CONFLICT provider_exists), the refusal recorded. */
int federation_provider_add(struct federation *f, const struct audit_actor *by,
			    const struct federation_provider_spec *spec,
			    struct error *e);
/* Remove one (recorded "federation_provider_remove"); logins under way
 * with it fail. Returns 0, or -1 with e (ERR_NOT_FOUND unknown_provider). */
int federation_provider_remove(struct federation *f,
			       const struct audit_actor *by, const char *id,
			       struct error *e);
/* The providers as new JSON (caller frees): for the operator (no secret,
 * all fields) or, public, what the login page shows ({id, name, level}).
 * NULL with e. */
json_t *federation_provider_list(struct federation *f, bool public,
				 struct error *e);

/* ---------------------------------------------------------------- login */

/* The binding cookie's value: 64 hex digits and a NUL. */
#define FEDERATION_BINDING_HEX 65

/* A login begun: where the browser goes, and the cookie binding it. */
struct federation_begin {
	char *location; /* owned: federation_begin_free */
	char binding[FEDERATION_BINDING_HEX];
};
void federation_begin_free(struct federation_begin *b);

/* This side's callback, registered with every provider: auth's public
 * URL and this path. */
#define FEDERATION_CALLBACK_PATH "/api/v1/auth/federation/callback"

/* Begin a login with provider id, to end on return_path (a path of the
 * portal's, checked by the caller). Returns 0 with out, or -1 with e (ERR_NOT_FOUND unknown_provider;
 * ERR_UNAVAILABLE provider_unavailable when its discovery cannot be
 * fetched). */
int federation_start(struct federation *f, const char *id,
		     const char *return_path,
		     struct federation_begin *out, struct error *e);

/* The browser's return: params are the callback's query (code, state, or
 * error), binding its cookie (or NULL). The login is spent whatever
 * happens. On success returns 0 with a new session's token and out, and
 * back (the return path given at the start). Otherwise -1 with e, the
 * refusal recorded (ERR_UNAUTHENTICATED with federation_state_invalid,
 * federation_denied, federation_token_invalid, person_unknown;
 * ERR_UNAVAILABLE provider_unavailable). */
int federation_callback(struct federation *f, const struct audit_actor *by,
			const char *code, const char *state,
			const char *error, const char *binding,
			char token[TOKEN_HEX_LEN],
			struct auth_session *out, char back[512],
			struct error *e);

/* ------------------------------------------------------- verification */

/* What an ID token must show (OpenID Connect Core 1.0 section 3.1.3.7). */
struct federation_expect {
	const char *issuer;
	const char *client_id;
	const char *nonce;
	const char *nrn_claim;
	int64_t now; /* seconds */
	const char *acr; /* the acceptable acr values, or "" */
};

/* Verify id_token against the provider's JWK set (jwks, JSON text): the
 * signature by a key of the set with ES256, RS256 or PS256 as the header
 * says and the key's type allows (never "none", never HMAC), then iss,
 * aud (and azp when several), exp, iat and nonce. On success returns 0
 * and the national number claim's value in nrn (unchecked as an INSZ).
 * Returns 1 when no key of the set matches the header's kid (the caller
 * may fetch the keys again), -1 with e (federation_token_invalid and why)
 * otherwise. */
int federation_id_token_check(const char *id_token, const char *jwks,
			      const struct federation_expect *x,
			      char nrn[32], struct error *e);

#endif
