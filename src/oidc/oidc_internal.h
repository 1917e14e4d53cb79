/* src/oidc's own shared parts (oidc.h says what the module does). */
#ifndef KP_OIDC_INTERNAL_H
#define KP_OIDC_INTERNAL_H

#include <cjose/cjose.h>
#include <pthread.h>

#include "oidc/oidc.h"

/* The signing keys in memory: each file of keys_dir, the newest of each
 * algorithm signing. */
#define OIDC_KEYS_MAX 16
struct oidc_key {
	cjose_jwk_t *jwk;
	char kid[64];
	char alg[8];
	bool signing;
};

struct oidc {
	struct audit *log;
	struct auth *auth;
	struct store *store;
	struct oidc_config cfg;
	struct oidc_key keys[OIDC_KEYS_MAX];
	int nkeys;
	/* The key of public subjects (keys_dir/public-subject.key): one
	 * identifier per person for every public client, never the INSZ. */
	uint8_t public_key[32];
	_Atomic int64_t swept_at; /* seconds; sweeps at most once a minute */
};

/* Waiting requests at once, all browsers together: past it, a new one is
 * refused (503) until some end. Each address is limited as well (the
 * gate's anonymous rate limit). */
#define OIDC_REQUESTS_MAX 100000

/* keys.c */
int oidc_keys_load(struct oidc *o, const char *dir, struct error *e);
void oidc_keys_free(struct oidc *o);
/* A compact JWS of claims signed with the newest key of alg (caller
 * frees), or NULL. */
char *oidc_sign(struct oidc *o, const char *alg, json_t *claims);

/* A client as stored. */
struct oidc_client {
	char id[OIDC_CLIENT_ID_MAX + 1];
	char name[128];
	char kbo[16];
	char app[64];
	char auth_method[32];
	char redirect_uris[2048];
	char post_logout_uris[2048];
	char scopes[128];
	char id_token_alg[8];
	char subject_type[16];
	int min_level;
	uint8_t secret_hash[32];
	bool has_secret;
	uint8_t subject_key[32];
	char *jwks; /* owned, or NULL */
};

/* client.c */
/* Client id, live. Returns 0, 1 when unknown or removed, -1 with e. Free
 * out's jwks with oidc_client_clear. */
int oidc_client_get(struct oidc *o, const char *id, struct oidc_client *out,
		    struct error *e);
void oidc_client_clear(struct oidc_client *c);
/* Whether word is one of the space-separated list. */
bool oidc_list_has(const char *list, const char *word);
/* Append word to the space-separated list out (n bytes; cut when full). */
void oidc_list_add(char *out, size_t n, const char *word);
/* Authenticate the client of a token-endpoint request (its method's
 * way: Basic header, form fields, or a signed assertion). Returns 0 with
 * *c, or -1 with err (401 invalid_client). */
int oidc_client_authenticate(struct oidc *o, const char *authorization,
			     json_t *form, const char *endpoint,
			     struct oidc_client *c, struct oidc_error *err);
/* The subject of insz for client c (pairwise: its own for each client;
 * public: one for all, under the installation's key; never the INSZ):
 * out has 44 bytes. */
void oidc_subject(const struct oidc *o, const struct oidc_client *c,
		  const char *insz, char out[44]);

/* A new random handle (hex) and the SHA-256 of a handle. */
void oidc_handle_new(char out[OIDC_HANDLE_HEX]);
void oidc_handle_hash(const char *handle, uint8_t out[32]);
void oidc_err(struct oidc_error *err, int status, const char *error,
	      const char *fmt, ...) KP_PRINTF(4, 5);

/* In w's transaction: remove requests, codes and tokens that ended a day
 * ago (best effort). */
void oidc_sweep(struct oidc *o, struct store_conn *w);

/* authorize.c, shared with logout.c */
/* A parameter's value; NULL when absent or empty (RFC 6749 3.1). */
const char *oidc_param(json_t *p, const char *k);
/* uri with the pairs kv[0]=kv[1]&... (a NULL value left out) added to
 * its query, percent-encoded (caller frees). */
char *oidc_back(const char *uri, const char *const *kv, size_t n);
/* Keep kept for the portal: a new id and browser binding. Returns 0, or
 * -1 with e. */
int oidc_request_store(struct oidc *o, json_t *kept, const char *client,
		       char id[OIDC_HANDLE_HEX],
		       char binding[OIDC_HANDLE_HEX], struct error *e);
struct oidc_waiting {
	uint8_t binding[32];
	char client[OIDC_CLIENT_ID_MAX + 1];
	json_t *params; /* owned */
};
/* The waiting request id names, if binding is this browser's. Returns 0
 * with *w (free w->params), or -1 with e (unknown_request). */
int oidc_waiting_get(struct oidc *o, const char *id, const char *binding,
		     struct oidc_waiting *w, struct error *e);
/* logout.c: the logout request's answer (view, or the way back). */
json_t *oidc_logout_view(struct oidc *o, struct oidc_waiting *w);
char *oidc_logout_done(struct oidc *o, const char *id, struct oidc_waiting *w,
		       struct error *e);

/* The acr of a level, "urn:be:fedict:iam:fas:Level400". */
void oidc_acr(int level, char out[48]);

#endif
