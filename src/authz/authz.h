/*
 * authz: the authorizations of the Information Security Committee
 * (deliberations, e.g. "IVC/KSZG/26/071"): which requester actor type, in
 * which capacity, may receive which data type, for which purpose, in which
 * period, and from which dossier phase on. They are public.
 *
 * authz_decide is the first question the hub asks about every exchange;
 * it names precisely why a request is not covered.
 */
#ifndef KP_AUTHZ_H
#define KP_AUTHZ_H

#include <stdint.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

#define AUTHZ_REFERENCE_MAX 64
#define AUTHZ_CODE_MAX 64

struct authz_authorization {
	int64_t id;
	char reference[AUTHZ_REFERENCE_MAX + 1];
	char requester_actor_type[AUTHZ_CODE_MAX + 1];
	int capacity;
	char data_type[AUTHZ_CODE_MAX + 1];
	char purpose[AUTHZ_CODE_MAX + 1];
	char valid_from[DATE_LEN];
	char valid_until[DATE_LEN]; /* "" = open-ended */
	int min_phase;              /* 1 = any phase */
};

/* Publish an authorization, by who acts (by): the authorization and its
 * event ("authorization_add", data type "authorization", the reference as
 * purpose and legal basis) are made in one transaction (audit_commit).
 * The data type must exist in the reference directory, and the requester
 * actor type must be a known one (org_actor_type_known: that of at least
 * one registered institution), so the first institution of a type comes
 * before its first deliberation. Returns 0 (a->id set), or -1 with e,
 * recorded refused: ERR_INVALID ("invalid_field", "unknown_actor_type",
 * "unknown_data_type", "unknown_capacity", "invalid_period"),
 * ERR_CONFLICT "authorization_exists"; or ERR_UNAVAILABLE
 * "audit_unavailable" / "store_unavailable", nothing published. */
int authz_add(struct audit *log, const struct audit_actor *by,
	      struct authz_authorization *a, struct error *e);

/* Every authorization, by reference. Fills out (caller frees) and *n.
 * Returns 0, or -1 with e. */
int authz_list(struct store *s, struct authz_authorization **out, int *n,
	       struct error *e);

enum authz_answer {
	AUTHZ_GRANTED = 0,
	AUTHZ_NO_DATA_TYPE,  /* nothing authorizes this actor type this data */
	AUTHZ_NO_CAPACITY,   /* ... not in this capacity */
	AUTHZ_NO_PURPOSE,    /* ... not for this purpose */
	AUTHZ_NOT_VALID,     /* an authorization exists, not on that date */
};

/* Stable code of an answer ("not_authorized", "capacity_not_authorized",
 * "purpose_not_authorized", "authorization_not_valid"). */
const char *authz_answer_code(enum authz_answer a);

/* Is (requester actor type, capacity, data type, purpose) authorized on
 * day (days since 1970-01-01)? purpose NULL: for any purpose (the hub
 * forwards a mutation to whoever may receive that data type at all). On AUTHZ_GRANTED, granted (when not NULL)
 * receives the authorization (its reference and min_phase). Returns the
 * answer, or -1 on a store failure. */
int authz_decide(struct store *s, const char *actor_type, int capacity,
		 const char *data_type, const char *purpose, int64_t day,
		 struct authz_authorization *granted);

/* ------------------------------------------------------------- schema */

/* The module's tables, as migrations (authz_schema.c): src/cli hands them
 * to store_open with every other module's. */
extern const struct store_schema authz_schema;

#endif
