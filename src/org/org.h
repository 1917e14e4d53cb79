/*
 * org: organisations (by KBO enterprise number) and the institutions among
 * them, the certificates that identify them on the network listener, their
 * categories, the roles they give persons, the circle of trust and their
 * internal control.
 */
#ifndef KP_ORG_H
#define KP_ORG_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

/* A role's longest validity, in months from its valid_from (seed 003: an
 * officer's role "with limited validity that must be renewed"): one year
 * unless configured. */
#define ORG_ROLE_MAX_MONTHS 12

/* Seed 001, the circle of trust: the internal control's results are kept
 * two years. */
#define ORG_CONTROL_KEEP_DAYS 731

struct org_config {
	int role_max_months; /* [org] role_max_months */
	int internal_control_keep_days; /* [org] internal_control_keep_days */
};
/* The module's configuration keys (org_config.c). */
extern const struct config_key org_config_keys[];
extern const size_t org_config_nkeys;
/* Take cfg's values (src/cli, after loading the configuration); until
 * then, and for a zero field, the defaults above hold. */
void org_configure(const struct org_config *cfg);

struct org_institution {
	int64_t id;
	char kbo[11];
	char name[128];
	char actor_type[64];
	char branch[64];
	char endpoint[256]; /* its provider URL (https), or "" */
	int timeout_ms;     /* its own provider timeout; 0: the hub's */
};

/* Every function below that changes state takes the audit log and who
 * acts (by): the change and its audit event are made in one transaction
 * (audit_commit), and a refused request is recorded as refused. Each may
 * also fail with ERR_UNAVAILABLE "audit_unavailable" or
 * "store_unavailable", having changed nothing. */

/* Register an organisation. kbo must be a valid enterprise number. Returns
 * 0; -1 with e (ERR_INVALID "invalid_kbo", ERR_CONFLICT "org_exists"). */
int org_organisation_add(struct audit *log, const struct audit_actor *by,
			 const char *kbo, const char *name, struct error *e);

/* Make an existing organisation an institution of the network. Returns 0
 * and *id; -1 with e. endpoint may be NULL (no provider endpoint). */
int org_institution_add(struct audit *log, const struct audit_actor *by,
			const char *kbo, const char *actor_type,
			const char *branch, const char *endpoint, int64_t *id,
			struct error *e);

/* Bind a certificate (SHA-256 of its DER) to the registered organisation
 * kbo: an institution (several certificates: rollover), or another
 * organisation whose own systems consult under the mandates citizens give
 * it. Returns 0, or -1 with e (ERR_INVALID "invalid_kbo", ERR_NOT_FOUND
 * "org_unknown", ERR_CONFLICT "certificate_exists"). */
int org_cert_add(struct audit *log, const struct audit_actor *by,
		 const char *kbo, const uint8_t fingerprint[SHA256_LEN],
		 const char *subject, int64_t not_before, int64_t not_after,
		 struct error *e);

/* The organisation whose certificate has this fingerprint and is valid at
 * `now`, as an institution: out->id is 0 (and actor type and branch are
 * empty) when the organisation is no institution of the network. Returns
 * 0 and fills out; 1 when none; -1 on a store failure. */
int org_by_cert(struct store *s, const uint8_t fingerprint[SHA256_LEN],
		int64_t now, struct org_institution *out);

/* ------------------------------------------------------ categories, roles */

/* Add a category (employer, temp_agency, social_secretariat,
 * social_service_provider, recruitment_agency, municipality, institution,
 * registration_office).
 * Returns 0, or -1 with e (ERR_INVALID "invalid_category", ERR_CONFLICT). */
int org_category_add(struct audit *log, const struct audit_actor *by,
		     const char *kbo, const char *category, struct error *e);
/* The organisation's name into out (n bytes). Returns 0, 1 when unknown,
 * or -1 with e. */
int org_name(struct store *s, const char *kbo, char *out, size_t n,
	     struct error *e);
/* True when the organisation has the category. */
bool org_has_category(struct store *s, const char *kbo, const char *category);

/* A role an organisation gives a person: access_manager, lra_officer,
 * mandate_consult, employment_declarant, auditor. */
struct org_role {
	int64_t id;
	char kbo[11];
	char insz[INSZ_BUF];
	char role[32];
	char valid_from[DATE_LEN];
	char valid_until[DATE_LEN];
	char granted_by[16]; /* INSZ of the access manager, or "operator" */
	bool revoked;
};

/* Grant a role; valid_until is required (roles are given for a limited
 * time and renewed, seed 003) and at most the configured maximum validity
 * after valid_from; granted_by is set from by (its person, or
 * "operator"). An access manager granting to themselves cannot go past
 * the end of their own access_manager role. Returns 0 (r->id set), or -1
 * with e: ERR_INVALID ("invalid_role", "invalid_insz", "invalid_period",
 * "validity_too_long"), ERR_FORBIDDEN "beyond_own_role", ERR_NOT_FOUND
 * "org_unknown". */
int org_role_grant(struct audit *log, const struct audit_actor *by,
		   struct org_role *r, struct error *e);
/* Revoke an organisation's role assignment (recorded as revoked by by's
 * person, or "operator"). Returns 0, or -1 with e (ERR_NOT_FOUND
 * "unknown_role_assignment", ERR_CONFLICT "already_revoked"). out (may be
 * NULL) receives the assignment. */
int org_role_revoke(struct audit *log, const struct audit_actor *by,
		    const char *kbo, int64_t id, struct org_role *out,
		    struct error *e);
/* Renew a role assignment: its valid_until becomes valid_until, from
 * today at most the maximum validity; a revoked assignment stays revoked
 * (grant anew). The same self-limit as a grant holds: an access manager
 * cannot renew their own roles past the end of their own access_manager
 * role. out (may be NULL) receives the assignment. Returns 0, or -1 with
 * e: ERR_NOT_FOUND "unknown_role_assignment", ERR_CONFLICT
 * "already_revoked", ERR_INVALID "invalid_period" or "validity_too_long",
 * ERR_FORBIDDEN "beyond_own_role". */
int org_role_renew(struct audit *log, const struct audit_actor *by,
		   const char *kbo, int64_t id, const char *valid_until,
		   struct org_role *out, struct error *e);

/* Why a person does not hold a role (one refusal vocabulary: a refusal
 * is "role_required" with the role and this reason). */
enum org_role_state {
	ORG_ROLE_HELD = 0,
	ORG_ROLE_MISSING,  /* never granted, or not yet valid */
	ORG_ROLE_EXPIRED,  /* its newest assignment ended */
	ORG_ROLE_REVOKED,  /* its newest assignment was revoked */
};
/* The state of insz's role at kbo on day (its newest assignment decides
 * when none is valid). A store failure reads as ORG_ROLE_MISSING. */
enum org_role_state org_role_state(struct store *s, const char *insz,
				   const char *kbo, const char *role,
				   int64_t day);
/* "missing", "expired", "revoked" (NULL for ORG_ROLE_HELD). */
const char *org_role_reason(enum org_role_state st);

/* True when insz holds role at kbo on day (days since 1970): granted, not
 * revoked, day within [valid_from, valid_until]. A role past valid_until
 * counts as absent. */
bool org_role_valid(struct store *s, const char *insz, const char *kbo,
		    const char *role, int64_t day);
/* True when insz holds any valid role at kbo on day. */
bool org_any_role_valid(struct store *s, const char *insz, const char *kbo,
			int64_t day);
/* The roles insz holds on day (days since the epoch): valid and not
 * revoked, ordered by organisation and role. Fills *out (the caller frees
 * it; never NULL on success) and *n. Returns 0, or -1 with e. */
int org_roles_held(struct store *s, const char *insz, int64_t day,
		   struct org_role **out, int *n, struct error *e);
/* An organisation's role assignments, newest first (caller frees). */
int org_roles(struct store *s, const char *kbo, struct org_role **out,
	      int *n, struct error *e);

/* The organisation accepts the circle-of-trust criteria (seed 001: users
 * at FAS level 400 or more, logging kept 10 years, internal control,
 * registration in the access management), naming its processing
 * register; accepting again updates the reference, recorded as accepted
 * by by's person. Returns 0, or -1 with e (ERR_INVALID
 * "invalid_field", ERR_NOT_FOUND "org_unknown"). */
int org_circle_accept(struct audit *log, const struct audit_actor *by,
		      const char *kbo, const char *register_ref,
		      struct error *e);
/* An organisation's registration in the circle of trust, as recorded. */
struct org_circle {
	char kbo[11];
	char accepted_by[16]; /* INSZ of the access manager, or "" */
	char register_ref[129];
	int64_t accepted_at; /* seconds since the epoch */
};
/* The circle-of-trust registration of kbo into out, read by by (recorded
 * as "circle_of_trust_read", like every read of the registers that names
 * a person: here whoever accepted). Returns 0 and out; 1 when kbo has not
 * registered; -1 with e. */
int org_circle_get(struct audit *log, const struct audit_actor *by,
		   const char *kbo, struct org_circle *out, struct error *e);
/* ------------------------------------------- social secretariats */

/* An employer's affiliation with a recognised social secretariat, which
 * then declares its employments (DIMONA) for it. An employer has at most
 * one affiliation whose period overlaps another's: ending the old one
 * (org_affiliation_end) comes before affiliating anew. An ended one is
 * kept, with who ended it and when. */
struct org_affiliation {
	int64_t id;
	char employer[11];     /* KBO */
	char secretariat[11];  /* KBO of the social secretariat */
	char valid_from[DATE_LEN];
	char valid_until[DATE_LEN]; /* "" while open-ended */
	char created_by[16];   /* INSZ of the access manager, or "operator" */
	int64_t created_at;
	int64_t revoked_at;    /* 0 while not ended by hand */
	char revoked_by[16];
};

/* Affiliate a->employer with a->secretariat (a->valid_from "" is today;
 * a->valid_until "" is open-ended), recorded as
 * "social_secretariat_affiliate"; a->id, created_by and created_at are
 * set. Returns 0, or -1 with e: ERR_INVALID "invalid_kbo",
 * "invalid_period" (from before today, until before from),
 * "invalid_field" (an organisation as its own secretariat),
 * "not_a_social_secretariat" (not registered with that category);
 * ERR_NOT_FOUND "org_unknown" (the employer); ERR_CONFLICT
 * "already_affiliated" (another affiliation's period overlaps). */
int org_affiliation_add(struct audit *log, const struct audit_actor *by,
			struct org_affiliation *a, struct error *e);
/* End employer's affiliation id at once (revoked_at now, revoked_by from
 * by), recorded as "social_secretariat_end"; out (may be NULL) receives
 * it. Returns 0, or -1 with e: ERR_NOT_FOUND "unknown_affiliation",
 * ERR_CONFLICT "already_ended". */
int org_affiliation_end(struct audit *log, const struct audit_actor *by,
			const char *employer, int64_t id,
			struct org_affiliation *out, struct error *e);
/* employer's affiliations, current and past, newest first (the caller
 * frees *out). Returns 0, or -1 with e. */
int org_affiliations(struct store *s, const char *employer,
		     struct org_affiliation **out, int *n, struct error *e);
/* "active", "future", "ended" (its valid_until passed) or "revoked" (ended
 * by hand) on day (days since 1970). Static. */
const char *org_affiliation_status(const struct org_affiliation *a,
				   int64_t day);
/* True when secretariat, a social secretariat, has an active affiliation
 * with employer on day: it may then declare for it. A store failure reads
 * as false. */
bool org_secretariat_acts_for(struct store *s, const char *secretariat,
			      const char *employer, int64_t day);

/* ------------------------------------------------- the internal control */

/* One check of an organisation's internal control: who checked what, on
 * which day, and what they found. */
struct org_control {
	int64_t id;
	char kbo[11];
	char checked_by[16]; /* INSZ, or "operator" */
	char checked_on[DATE_LEN];
	char what[257];
	char finding[1025];
	int64_t recorded_at;
};

/* Record c (kbo, checked_on, what, finding filled; checked_by is set from
 * by) for its organisation ("internal_control_add"), removing in the same
 * transaction the controls past their keeping. Returns 0 with c->id, or
 * -1 with e (ERR_INVALID "invalid_kbo", "invalid_field"). */
int org_control_add(struct audit *log, const struct audit_actor *by,
		    struct org_control *c, struct error *e);
/* kbo's controls still kept, newest first (the caller frees *out).
 * Returns 0, or -1 with e. */
int org_controls(struct store *s, const char *kbo, struct org_control **out,
		 int *n, struct error *e);
/* How long controls are kept, in days (org_configure sets it). */
void org_control_configure(int days);
/* The daemon's periodic housekeeping (the auth sweeper calls it about once
 * an hour): the internal-control records past their keeping removed, as
 * one "internal_control_purge" event naming how many, none when there were
 * none. Returns the number removed, or -1 with e. */
int64_t org_sweep(struct audit *log, struct error *e);

/* True when the organisation is in the circle of trust. */
bool org_in_circle(struct store *s, const char *kbo);

/* True when kbo is the institution that runs the network (actor type
 * crossroads_bank): its auditors may read the whole audit log (seed
 * 003). */
bool org_audits_the_network(struct store *s, const char *kbo);

/* The institution with this id. Returns 0 and fills out; 1 when none; -1
 * on a store failure. */
int org_institution_get(struct store *s, int64_t id, struct org_institution *out);
/* Set (or with "" clear) the provider endpoint of an institution: the
 * https:// URL where the hub asks it for the data it is the authentic
 * source of. Returns 0, or -1 with e (ERR_INVALID "invalid_endpoint",
 * ERR_NOT_FOUND "unknown_institution"). */
int org_institution_set_endpoint(struct audit *log,
				 const struct audit_actor *by, const char *kbo,
				 const char *endpoint, struct error *e);
/* Give a provider its own timeout (50 ms to 120 s), or 0 for the hub's
 * default. Returns 0, or -1 with e (ERR_INVALID "invalid_timeout",
 * ERR_NOT_FOUND "unknown_institution"). */
int org_institution_set_timeout(struct audit *log,
				const struct audit_actor *by, const char *kbo,
				int timeout_ms, struct error *e);

/* The institution with this enterprise number. Returns 0 and fills out;
 * 1 when none; -1 on a store failure. */
int org_institution_by_kbo(struct store *s, const char *kbo,
			   struct org_institution *out);

/* ---------------------------------------------------------- actor types */

/* The actor types the network knows are those of its institutions: an
 * actor type is declared by registering the first institution of that
 * type (org_institution_add), and only an institution ever asks the hub
 * anything, so no other actor type can be granted a thing. Whether
 * actor_type is one: returns 0 when it is, 1 when not, -1 on a store
 * failure. */
int org_actor_type_known(struct store *s, const char *actor_type);
/* The known actor types, in order, joined by ", " into out (n bytes, at
 * least 4; "" when there are none), ending in "..." when they do not all
 * fit. Returns 0, or -1 on a store failure. */
int org_actor_types(struct store *s, char *out, size_t n);

/* ---------------------------------------------------------- file loads */

/* A line of an operator's organisation file is at most this long. */
#define ORG_LINE_MAX 4096
#define ORG_LINE_CATEGORIES 8

/* One organisation of an operator's file (docs/IMPORT.md), and when
 * actor_type is not empty the institution it is. */
struct org_line {
	char kbo[11];
	char name[128];
	char categories[ORG_LINE_CATEGORIES][32];
	int ncategories;
	char actor_type[64];
	char branch[64];
	char endpoint[256];
	bool has_cert; /* the certificate that identifies the institution */
	uint8_t cert_sha256[SHA256_LEN];
	char cert_subject[256];
	int64_t cert_not_before, cert_not_after; /* seconds since the epoch */
};

/* Parse one line (len bytes, no line end, untrusted): a JSON object with
 * kbo, name, categories?, actor_type?, branch?, endpoint? and
 * certificate? {sha256, subject?, not_before, not_after} (RFC 3339
 * times); actor_type and branch come together, and endpoint and the
 * certificate only with them. Returns 0 and *out, or -1 with e: the codes
 * of jsonx_line, "invalid_kbo" (with the number's reason), "invalid_field". */
int org_line_parse(const char *line, size_t len, struct org_line *out,
		   struct error *e);

/* What loading an organisation did: 1 added, 2 changed, 3 unchanged. */
enum org_outcome { ORG_INSERTED = 1, ORG_UPDATED, ORG_UNCHANGED };

/* Bring the organisation of l into the registers, each change by the
 * function above that makes it (and records it): the organisation when
 * new, its missing categories, the institution when new or its endpoint
 * when it differs, the certificate when not bound yet. A different name,
 * actor type or branch of a registered one is refused (ERR_CONFLICT
 * "unchangeable_field") before any change. Returns 0 and *out, or -1 with
 * e (changes already made for the line stay). */
int org_upsert(struct audit *log, const struct audit_actor *by,
	       const struct org_line *l, enum org_outcome *out,
	       struct error *e);

/* The institution of this actor type registered first (a register's
 * authority: "national_register", "crossroads_bank"). Returns 0 and
 * fills out; 1 when none; -1 on a store failure. */
int org_institution_of_type(struct store *s, const char *actor_type,
			    struct org_institution *out);

/* ------------------------------------------------------------- schema */

/* The module's tables, as migrations (org_schema.c): src/cli hands them
 * to store_open with every other module's. */
extern const struct store_schema org_schema;

#endif
