/*
 * mandate: a citizen's mandate to an organisation (deliberation 25/016 of
 * the Information Security Committee, "precontractual personal data"). In
 * a job application, the citizen lets a potential employer, a social
 * mandatary or a recruitment agency consult one data set about them (the
 * hours left of the student contingent, or whether they may work a
 * flexi-job), for at most a few calendar months, and may revoke it at any
 * time with immediate effect.
 *
 * What a type allows is data (data/mandate_types.tsv, data/mandate_holders.tsv),
 * not code, and so are the conditions the citizen accepts
 * (data/mandate_conditions_<lang>.txt). Grants and revocations are kept
 * (the table refuses deletes) and each is an audit event about the citizen,
 * made in the same transaction; a holder's listing of its mandates is an
 * event about each mandator it shows.
 *
 * The mandator is the citizen in person (annex 1: "U stemt ermee in"): a
 * session acting for a child or for an organisation gives no mandate, so
 * only the profile "self" may grant, list or revoke one.
 */
#ifndef KP_MANDATE_H
#define KP_MANDATE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

/* The level a citizen's session needs (the catalogue's "Burgermandaten"
 * asks a substantial key), and so does a holder's user (the circle of
 * trust's criterion 3: FAS level 400 or more). */
#define MANDATE_LEVEL 400
/* Mandate types, data sets and holder categories are short codes. */
#define MANDATE_CODE_LEN 32
/* The deliberation every mandate event names as its legal basis. */
#define MANDATE_LEGAL_BASIS "IVC 25/016"

/* Who acts on their own mandates: a citizen's session. Filled by src/api
 * from the session; the checks are made here. */
struct mandate_citizen {
	char insz[INSZ_BUF];
	char profile[32]; /* the session's: "self" to act */
	int level;
	const char *channel; /* AUDIT_CHANNEL_* */
};

/* ------------------------------------------------------- the types (data) */

/* One data set of a mandate type, with its longest validity in calendar
 * months. */
struct mandate_data_set {
	char type[MANDATE_CODE_LEN];
	char code[MANDATE_CODE_LEN];
	int max_months;
};

/* Every data set of every type, in the table's order. Returns the array
 * (the caller frees it) and *n. */
struct mandate_data_set *mandate_data_sets(int *n);

/* The holder categories of type, in order, into out (at most max).
 * Returns how many (0 for an unknown type). */
int mandate_holder_categories(const char *type,
			      char out[][MANDATE_CODE_LEN], int max);

/* The holder category that lets the organisation kbo hold a mandate of
 * type into out: 0, or 1 when none does (not registered, or of no eligible
 * category), or -1 with e. */
int mandate_holder_category(struct store *s, const char *type,
			    const char *kbo, char out[MANDATE_CODE_LEN],
			    struct error *e);

/* The last day a mandate of this data set registered on from may run:
 * from + max_months calendar months, clamped to the target month's last
 * day (31 January + 1 month = the last day of February). Returns 0, or
 * -1 when the data set is unknown. */
int mandate_max_until(const char *type, const char *data_set,
		      struct date from, struct date *out);

/* ------------------------------------------------------- the conditions */

struct mandate_conditions {
	char version[32];
	const char *text; /* static */
};

/* The conditions of type in lang (nl, fr, de, en; NULL: nl). Returns 0,
 * or -1 with e (ERR_NOT_FOUND "unknown_mandate_type", ERR_INVALID
 * "invalid_field" for the language). */
int mandate_conditions_get(const char *type, const char *lang,
			   struct mandate_conditions *out, struct error *e);

/* ---------------------------------------------------------- the mandates */

struct mandate {
	int64_t id;
	char mandator[INSZ_BUF];
	char type[MANDATE_CODE_LEN];
	char data_set[MANDATE_CODE_LEN];
	char holder[11]; /* KBO */
	char holder_category[MANDATE_CODE_LEN];
	char valid_from[DATE_LEN];
	char valid_until[DATE_LEN]; /* inclusive */
	char conditions_version[32];
	const char *status; /* "active", "expired", "revoked": as of today */
};

/* What a citizen asks. Strings are borrowed; valid_until may be NULL (the
 * longest validity). */
struct mandate_request {
	const char *type, *data_set, *holder, *valid_until;
	const char *conditions_version; /* the version the citizen accepted */
};

/* c gives the mandate r, valid from today, recorded ("mandate_grant",
 * about c, naming the holder and the mandate in its purpose). Returns 0
 * with *out, or -1 with e: ERR_FORBIDDEN "insufficient_level",
 * "self_profile_required"; ERR_INVALID "invalid_field" (an unknown type or
 * data set, a malformed or past end date), "invalid_kbo",
 * "validity_too_long", "holder_not_eligible"; ERR_CONFLICT
 * "conditions_changed" (the accepted version is not the current one).
 * Every refusal past the session checks is recorded. */
int mandate_grant(struct audit *log, const struct mandate_citizen *c,
		  const struct mandate_request *r, struct mandate *out,
		  struct error *e);

/* c's mandates, active and past, newest first. Fills out (the caller
 * frees it) and *n. Returns 0, or -1 with e (the session refusals). */
int mandate_list_own(struct store *s, const struct mandate_citizen *c,
		     struct mandate **out, int *n, struct error *e);

/* c revokes their mandate id, with effect now (recorded
 * "mandate_revoke"). Revoking a revoked mandate changes nothing. Returns
 * 0, or -1 with e: ERR_NOT_FOUND "unknown_mandate" (none, or another
 * person's), ERR_CONFLICT "mandate_expired", the session refusals. */
int mandate_revoke(struct audit *log, const struct mandate_citizen *c,
		   int64_t id, struct error *e);

/* The mandates given to the organisation kbo and active today, for by (a
 * person holding the mandate_consult role there, at level MANDATE_LEVEL:
 * src/api's route checks both, and so does this). Each mandate shown is an
 * event "mandate_list" about its mandator, naming the organisation and the
 * user (annex 2 and the circle of trust's logging: who saw which person's
 * data, when). Fills out (the caller frees it) and *n. Returns 0, or -1
 * with e (ERR_FORBIDDEN "role_required", "insufficient_level"). */
int mandate_list_held(struct audit *log, const struct audit_actor *by,
		      int level, const char *kbo, struct mandate **out,
		      int *n, struct error *e);

/* -------------------------------------------------------- the consultation */

/* by (a person acting for the holder organisation by->actor, at level)
 * asks data_set about mandator: the organisation's user needs the
 * mandate_consult role there and level MANDATE_LEVEL, the organisation
 * the circle of trust, and the mandator an active mandate of data_set to
 * it today. On the network channel (by->channel AUDIT_CHANNEL_NETWORK) the
 * organisation's system asks with its certificate and names the person
 * (by->user): the level is not asked (the organisation vouches for its
 * user), the role is. Only that data set answers: student_contingent
 * {year, hours_left}, flexi_eligibility {flexi_eligible}. Recorded
 * ("mandate_consult" about the mandator, with the ticket, naming the
 * organisation and the person), granted or refused. Returns 0 with *data
 * (the caller json_decrefs it) and ticket, or -1 with e (and ticket):
 * ERR_FORBIDDEN "insufficient_level", "role_required",
 * "circle_of_trust_missing", "no_mandate", "mandate_revoked",
 * "mandate_expired"; ERR_INVALID "invalid_field", "invalid_insz",
 * "on_behalf_of_required". */
int mandate_consult(struct audit *log, const struct audit_actor *by,
		    int level, const char *mandator, const char *data_set,
		    char ticket[UUID_LEN], json_t **data, struct error *e);

/* A consultation refused before it could be asked: the request itself
 * says two things at once (a holder's system naming two different persons,
 * or one that is no INSZ). Recorded like any refused consultation, about
 * mandator when it is a valid INSZ, with a new ticket. Returns -1 always;
 * *why stays the answer. */
int mandate_consult_refused(struct audit *log, const struct audit_actor *by,
			    const char *mandator, const char *data_set,
			    const struct error *why, char ticket[UUID_LEN]);

/* ------------------------------------------------------------- schema */

extern const struct store_schema mandate_schema;

#endif
