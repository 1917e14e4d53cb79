/*
 * org: organisations (by KBO enterprise number) and the institutions among
 * them, with the certificates that identify an institution on the network
 * listener. Issue 4 extends this module with categories and role
 * assignments; what is here is what the network listener needs to map a
 * client certificate to an institution.
 */
#ifndef KP_ORG_H
#define KP_ORG_H

#include <stdint.h>

#include "base/base.h"
#include "store/store.h"

struct org_institution {
	int64_t id;
	char kbo[11];
	char name[128];
	char actor_type[64];
	char branch[64];
};

/* Register an organisation. kbo must be a valid enterprise number. Returns
 * 0; -1 with e (ERR_INVALID "invalid_kbo", ERR_CONFLICT "org_exists"). */
int org_organisation_add(struct store *s, const char *kbo, const char *name,
			 struct error *e);

/* Make an existing organisation an institution of the network. Returns 0
 * and *id; -1 with e. endpoint may be NULL (no provider endpoint). */
int org_institution_add(struct store *s, const char *kbo,
			const char *actor_type, const char *branch,
			const char *endpoint, int64_t *id, struct error *e);

/* Bind a certificate (SHA-256 of its DER) to an institution. */
int org_cert_add(struct store *s, int64_t institution_id,
		 const uint8_t fingerprint[SHA256_LEN], const char *subject,
		 int64_t not_before, int64_t not_after, struct error *e);

/* The institution whose certificate has this fingerprint and is valid at
 * `now`. Returns 0 and fills out; 1 when none; -1 on a store failure. */
int org_institution_by_cert(struct store *s,
			    const uint8_t fingerprint[SHA256_LEN], int64_t now,
			    struct org_institution *out);

/* The institution with this enterprise number. Returns 0 and fills out;
 * 1 when none; -1 on a store failure. */
int org_institution_by_kbo(struct store *s, const char *kbo,
			   struct org_institution *out);

#endif
