/*
 * lra: the local registration office (seed 003, "LRA Toepassing"). A
 * municipality, or an organisation the operator marks as a registration
 * office, identifies persons who cannot create their digital keys with an
 * eID and hands them an activation code (seed 002). Its officers:
 *   - hold a valid lra_officer role there, given by its access manager for
 *     a limited time (seed 003 §1.2: "Deze rol heeft een beperkte
 *     geldigheidsduur"), act for it (session profile org:<kbo>) and log in
 *     with their eID (level 500: "toegang ... enkel mogelijk met een
 *     Belgische identiteitskaart");
 *   - accept the usage conditions once before their first action (seed 003
 *     §1.2: "eenmalig gevraagd worden om akkoord te gaan"), their text and
 *     version stored with the date;
 *   - search the National Register and the BIS register only to identify
 *     the person in front of them, with a purpose, and see only the
 *     identification data the seed lists (names, birth date and place,
 *     sex, address);
 *   - document each identification (document, checks, outcome); only a
 *     successful one leads to an activation code (seed 003, "Identificatie
 *     van de personen").
 * Every action is an audit event naming the officer and the office, kept
 * ten years like the records themselves.
 */
#ifndef KP_LRA_H
#define KP_LRA_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "auth/auth.h"
#include "base/base.h"
#include "registry/registry.h"
#include "store/store.h"

/* Who acts: the person of an eID session, for the office of its profile.
 * Filled by src/api from the session; the checks are made here. */
struct lra_officer {
	char insz[INSZ_BUF];
	char office[11]; /* KBO; "" when the session acts for nobody */
	char profile[32]; /* the session's, "org:<kbo>" */
	int level;       /* the session's FAS level */
	const char *channel; /* AUDIT_CHANNEL_* */
};

/* The level an officer's session needs (seed 003: eID only). */
#define LRA_OFFICER_LEVEL 500
/* At most this many persons answer a search (more: refine it). */
#define LRA_SEARCH_MAX 20

/* Whether o may act now (conditions: also that they accepted the current
 * usage conditions). Returns 0, or -1 with e: ERR_FORBIDDEN
 * "insufficient_level", "not_a_registration_office", "role_required"
 * (role lra_officer, reason in e's detail: see lra_refusal_role),
 * "conditions_not_accepted". */
int lra_officer_check(struct store *s, const struct lra_officer *o,
		      bool conditions, struct error *e);
/* For a "role_required" refusal of o: the reason (missing, expired,
 * revoked), as the one refusal vocabulary names it. */
const char *lra_refusal_role(struct store *s, const struct lra_officer *o);

/* ------------------------------------------------------- the conditions */

struct lra_conditions {
	char version[32];
	const char *text;    /* static */
	bool accepted;
	int64_t accepted_at; /* when o accepted this version */
};

/* The current usage conditions and whether o accepted them. Returns 0, or
 * -1 with e (the officer checks but the conditions', recorded). */
int lra_conditions_get(struct audit *log, const struct lra_officer *o,
		       struct lra_conditions *out, struct error *e);
/* o accepts version (which must be the current one: ERR_CONFLICT
 * "conditions_changed" otherwise), stored with its text and the date and
 * recorded ("lra_conditions_accept"). Accepting again changes nothing.
 * Returns 0, or -1 with e. */
int lra_conditions_accept(struct audit *log, const struct lra_officer *o,
			  const char *version, struct error *e);

/* ------------------------------------------------------------ the search */

/* A search: by INSZ, or by last name + first name + birth date; purpose
 * is required (seed 003: a person is looked up only to identify them). */
struct lra_query {
	const char *purpose;
	const char *insz;
	const char *last_name, *first_name, *birth_date;
};

/* Persons matching q (registry_find's rules), at most LRA_SEARCH_MAX;
 * each one returned is an event "lra_search" about them naming the
 * officer, the office and the purpose; a search that finds nobody is one
 * event without a subject. Fills out (caller frees) and *n. Returns 0, or
 * -1 with e: ERR_INVALID "invalid_field" / "invalid_insz", ERR_INVALID
 * "too_many_matches" (refine the search; recorded, nobody named), or an
 * officer refusal (recorded). */
int lra_search(struct audit *log, const struct lra_officer *o,
	       const struct lra_query *q, struct registry_person **out,
	       int *n, struct error *e);

/* ---------------------------------------------------- the identification */

enum lra_document {
	LRA_DOC_BE_EID = 1,
	LRA_DOC_FOREIGN_ID,
	LRA_DOC_PASSPORT,
	LRA_DOC_RESIDENCE_PERMIT,
};
/* "be_eid" ... "residence_permit" to the type; 0 when unknown. */
enum lra_document lra_document_parse(const char *s);
const char *lra_document_name(enum lra_document d);

/* What the officer saw and checked. Strings are borrowed. */
struct lra_identification {
	const char *insz;
	const char *purpose;
	enum lra_document document;
	const char *document_number;
	const char *document_valid_until; /* YYYY-MM-DD */
	const char *issuing_country;      /* ISO 3166 alpha-2 */
	bool photo_compared, document_genuine, document_not_expired,
		person_present;
};

/* Record an identification of a registered person: identified only when
 * every check is true and the document is valid today, failed otherwise
 * (kept all the same: the procedure is documented for every person who
 * presents themselves). Recorded as "lra_identification" about the person
 * with its outcome. Returns 0 with *id and *identified, or -1 with e
 * (ERR_INVALID "invalid_field" naming the field, "invalid_insz";
 * ERR_NOT_FOUND "unknown_person"; ERR_FORBIDDEN "own_identification": an
 * officer does not identify themselves; ERR_CONFLICT "person_deceased";
 * an officer refusal). */
int lra_identify(struct audit *log, const struct lra_officer *o,
		 const struct lra_identification *in, int64_t *id,
		 bool *identified, struct error *e);

/* An activation for the person of identification id: identified, by this
 * office, recorded less than LRA_IDENTIFICATION_VALID_S ago; then
 * auth_activation_issue. With letter not NULL, also the printable letter
 * that carries the code (lra_letter; *letter allocated, the caller frees
 * it; NULL when it could not be made: the activation stands). Returns 0 with *out (as auth's: the caller frees its keys), or -1
 * with e (ERR_NOT_FOUND "unknown_identification"; ERR_CONFLICT
 * "not_identified" for a failed identification, "identification_stale"
 * for an old one; auth's refusals; an officer refusal). */
int lra_activation(struct audit *log, struct auth *auth,
		   const struct lra_officer *o, int64_t id, const char *email,
		   const char *phone, const char *language,
		   struct auth_activation_issued *out, char **letter,
		   struct error *e);

/* The letter the officer prints and hands over (HTML with print CSS, in
 * language): the person's name, the office, the code from issued and its
 * end, and where to go. The code is never stored in clear, so the letter
 * exists only now. Returns 0 with *html (the caller frees it), or -1. */
int lra_letter(struct store *s, struct auth *auth, const struct lra_officer *o,
	       const char *insz, const char *language,
	       const struct auth_activation_issued *issued, char **html,
	       struct error *e);

/* An identification leads to a code the same day, with the person at the
 * desk: after this long it must be done again. */
#define LRA_IDENTIFICATION_VALID_S (12 * 3600)

/* ------------------------------------------------------- the officer's log */

/* o's own recent actions at the office, newest first: the audit events
 * they made there (at most limit). Fills out (caller frees) and *n.
 * Returns 0, or -1 with e (an officer refusal). */
int lra_actions(struct audit *log, const struct lra_officer *o, int limit,
		struct audit_record **out, int *n, struct error *e);

/* ------------------------------------------------------------- schema */

extern const struct store_schema lra_schema;

#endif
