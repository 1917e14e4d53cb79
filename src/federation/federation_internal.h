/* What src/federation's files share. */
#ifndef KP_FEDERATION_INTERNAL_H
#define KP_FEDERATION_INTERNAL_H

#include <pthread.h>

#include "federation/federation.h"

/* A provider's discovery and keys, as fetched last. */
struct federation_cache {
	char issuer[LIMIT_URL]; /* the provider's, as registered */
	char *authorization_endpoint, *token_endpoint, *jwks_uri;
	char *jwks;            /* the JWK set, JSON text */
	int64_t fetched_at;    /* discovery, seconds */
	int64_t jwks_at;       /* keys, seconds */
	int64_t failed_at;     /* the last fetch that failed, seconds */
	bool fetching;         /* a thread is fetching for it, unlocked */
};

/* After a failed fetch, logins with that provider are refused at once
 * for this long: an absent provider costs no request a timeout. */
#define FEDERATION_BACKOFF_S 15

#define FEDERATION_CACHED 8 /* providers whose discovery is kept */

struct federation {
	struct audit *log;
	struct auth *auth;
	struct store *store;
	pthread_mutex_t lock; /* the cache */
	struct federation_cache cache[FEDERATION_CACHED];
};

/* A registered provider, read from the store, secret unsealed. */
struct federation_provider {
	char id[FEDERATION_ID_MAX + 1];
	char name[128];
	char issuer[LIMIT_URL];
	char client_id[256];
	char secret[FEDERATION_SECRET_MAX + 1];
	char key_type[32];
	char nrn_claim[64];
	char *ca_pem; /* or NULL */
	char acr[256]; /* acceptable acr values, space separated, or "" */
};

/* Provider id from the store: 0 with p (federation_provider_free), 1 when
 * unknown or its secret cannot be unsealed (logged), -1 with e. */
int federation_provider_get(struct federation *f, const char *id,
			    struct federation_provider *p, struct error *e);
void federation_provider_free(struct federation_provider *p);

/* An answer of the provider's. */
struct federation_answer {
	long status;
	size_t n;
	char *body; /* owned, NUL-terminated: free() */
};

/* GET url (form NULL) or POST form with HTTP basic client_id:secret
 * (client_secret_basic), over https verified against p's CA (http only to
 * a loopback issuer). Returns 0 with a (its body freed by the caller), or
 * -1 with e (ERR_UNAVAILABLE provider_unavailable; logged). */
int federation_http(const struct federation_provider *p, const char *url,
		    const char *form, struct federation_answer *a,
		    struct error *e);

/* Whether url is https, or http to a loopback host (a provider on the
 * operator's own machine: the demo's). */
bool federation_url_ok(const char *url);

/* p's endpoints from its (cached) discovery into the strings given (each
 * LIMIT_URL): 0, or -1 with e (provider_unavailable). With keys, also its
 * JWK set (a new string, caller frees), fetched again when fresh_keys. */
int federation_discover(struct federation *f,
			const struct federation_provider *p, bool fresh_keys,
			char authz[LIMIT_URL], char token[LIMIT_URL],
			char **keys, struct error *e);

#endif
