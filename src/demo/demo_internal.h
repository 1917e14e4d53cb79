/* Shared between the files of src/demo only. */
#ifndef KP_DEMO_INTERNAL_H
#define KP_DEMO_INTERNAL_H

#include <stdbool.h>

#include "demo/demo.h"

enum demo_eid {
	DEMO_EID_NONE = 0, /* no Belgian eID (BIS register) */
	DEMO_EID_VALID,
	DEMO_EID_REVOKED,  /* on the citizen CA's CRL */
	DEMO_EID_EXPIRED,  /* validity ended in 2021 */
	DEMO_EID_FOREIGN,  /* issued by a CA kruispunt does not trust */
};

struct demo_person {
	const char *insz;
	const char *first_name;
	const char *last_name;
	const char *birth_date; /* as far as known */
	const char *sex;        /* "M", "F" or "" (unknown) */
	const char *children[2]; /* INSZ of minor children, or NULL */
	enum demo_eid eid;
	/* No account and no key: waiting at the registration office for an
	 * activation code (seed 002). */
	bool at_the_office;
};

struct demo_org {
	const char *kbo;
	const char *name;
	const char *category;
};

struct demo_institution {
	const char *kbo; /* an organisation of demo_orgs */
	const char *actor_type;
	const char *branch;
};

struct demo_capacity {
	const char *branch;
	int code;
	const char *label;
};

struct demo_data_type {
	const char *code;
	const char *source; /* actor type of the authentic source */
	const char *label;
};

struct demo_dossier {
	const char *institution; /* KBO */
	const char *insz;
	int capacity;
	int phase;
	const char *start;
};

struct demo_authorization {
	const char *reference;
	const char *actor_type;
	int capacity;
	const char *data_type;
	const char *purpose;
	const char *from;
	int min_phase;
};

struct demo_availability {
	const char *actor_type;
	int capacity;
	const char *data_type;
};

extern const struct demo_availability demo_availability[];
extern const size_t demo_navailability;

struct demo_role {
	const char *insz;
	const char *kbo;
	const char *role;
};

extern const struct demo_role demo_roles[];
extern const size_t demo_nroles;

/* An employer and the social secretariat that declares for it. */
struct demo_affiliation {
	const char *employer;
	const char *secretariat;
};
extern const struct demo_affiliation demo_affiliations[];
extern const size_t demo_naffiliations;

/* Pensioners (the register's pension status: a flexi-job needs no prior
 * work of them, seed 001). */
struct demo_pensioner {
	const char *insz;
	const char *since; /* YYYY-MM-DD */
};
extern const struct demo_pensioner demo_pensioners[];
extern const size_t demo_npensioners;
extern const struct demo_authorization demo_authorizations[];
extern const size_t demo_nauthorizations;
extern const struct demo_capacity demo_capacities[];
extern const size_t demo_ncapacities;
extern const struct demo_data_type demo_data_types[];
extern const size_t demo_ndata_types;
extern const struct demo_dossier demo_dossiers[];
extern const size_t demo_ndossiers;
extern const struct demo_person demo_persons[];
extern const size_t demo_npersons;

/* Every demo person: the named ones above and the generated families.
 * Built once; valid for the life of the process. */
const struct demo_person *demo_all_persons(size_t *n);
/* Dossiers of the generated families, built with them. */
const struct demo_dossier *demo_family_dossiers(size_t *n);
extern const struct demo_org demo_orgs[];
extern const size_t demo_norgs;
extern const struct demo_institution demo_institutions[];
extern const size_t demo_ninstitutions;
/* Organisations, not institutions, with a network certificate
 * (pki/organisations/<kbo>.crt). */
extern const char *const demo_network_orgs[];
extern const size_t demo_nnetwork_orgs;

/* Build "DIR/rel" into out; aborts when it does not fit (paths are ours). */
void demo_path(char *out, size_t n, const char *dir, const char *rel);
/* The demo organisation with this KBO; aborts when there is none (the
 * tables are ours, so that is a programming error). */
const struct demo_org *demo_org_by_kbo(const char *kbo);

#endif
