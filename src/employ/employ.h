/*
 * employ: the employment authority, an authentic source inside the hub.
 * Employers declare the start and end of each employment (DIMONA, the
 * immediate declaration of employment): who works for whom, as what
 * (student, flexi-job, ordinary contract), from when to when, for how many
 * hours (student work) or at what work fraction (4/5 = 0.8).
 *
 * A declaration is never changed: a correction or a cancellation is a new
 * declaration that names the one it replaces (same employer, same worker),
 * so the history of every chain stays readable. The latest declaration of a
 * chain is the one in force, unless it is a cancellation.
 *
 * Two answers are computed from the declarations, for the mandates a
 * citizen gives an employer (student contingent, flexi-job eligibility):
 *   - the student hours left in a year: the contingent for that year
 *     (data/student_contingent.tsv) minus every student hour declared for
 *     that year by any employer;
 *   - whether a person may take a flexi-job with an employer on a day: a
 *     pensioner, or employed at least 4/5 with other employers in the
 *     quarter three quarters before (T-3), and never with an employer
 *     where they hold a contract of at least 4/5 in the same quarter (T).
 *     The rules and their dates are data (data/flexi_rules.tsv).
 */
#ifndef KP_EMPLOY_H
#define KP_EMPLOY_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

enum employ_kind {
	EMPLOY_STUDENT = 1,
	EMPLOY_FLEXI,
	EMPLOY_ORDINARY,
};
/* "student" | "flexi" | "ordinary" to the kind; 0 when unknown. */
enum employ_kind employ_kind_parse(const char *s);
const char *employ_kind_name(enum employ_kind k);

/* A work fraction is kept in thousandths of a full-time job (4/5 = 800),
 * so that sums and comparisons are exact. */
#define EMPLOY_FRACTION_FULL 1000

/* The level a declarant's session needs. */
#define EMPLOY_DECLARANT_LEVEL 400

/* Who declares: a person's session acting for an organisation (profile
 * org:<kbo>): the employer itself, or the social secretariat the employer
 * is affiliated with (org_secretariat_acts_for), which files the
 * employer's declarations as Belgian employers' secretariats do. Filled by
 * src/api from the session, or by a test; the checks are made here. */
struct employ_declarant {
	char insz[INSZ_BUF];
	char profile[32]; /* the session's, "org:<kbo>" */
	int level;        /* the session's FAS level */
	const char *channel; /* AUDIT_CHANNEL_* */
};

/* One declaration as stored. */
struct employ_declaration {
	int64_t id;
	char employer[11];        /* KBO */
	char worker[INSZ_BUF];    /* INSZ */
	enum employ_kind kind;
	char start[DATE_LEN];     /* YYYY-MM-DD */
	char end[DATE_LEN];       /* YYYY-MM-DD, "" while open-ended */
	int hours;                /* student work: hours declared; else 0 */
	int fraction;             /* flexi, ordinary: thousandths; else 0 */
	int64_t replaces;         /* the declaration corrected, 0 for none */
	bool cancelled;           /* this one cancels what it replaces */
	char declared_by[INSZ_BUF];
	int64_t declared_at;
	char declared_via[11];    /* the secretariat's KBO; "" for the employer */
};

/* Record d as by's declaration (d->id, declared_by, declared_at and
 * declared_via set).
 * d->replaces, when not 0, names the declaration this one corrects; with
 * d->cancelled it cancels it instead, and then kind, dates, hours and
 * fraction are taken from it (what is given is ignored). Checks, in order:
 * by acts for d->employer (profile org:<employer>), or for a social
 * secretariat whose affiliation with d->employer is active today
 * (declared_via then names it), at level EMPLOY_DECLARANT_LEVEL with the
 * role employment_declarant at the organisation acted for; the
 * employer is a registered organisation; the worker a registered,
 * living person; start a date, end (required for student work, in the
 * same calendar year) not before start; student work has hours (1 to 24
 * a day of the period) and no fraction, flexi and ordinary a fraction
 * (1..EMPLOY_FRACTION_FULL) and no hours; the declaration replaced exists,
 * is of the same employer and worker, is not a cancellation and was not
 * replaced already. Recorded as "employment_declaration" (or
 * "employment_cancellation") about the worker, with the organisation
 * acted for (the secretariat, or the employer) as actor, refusals too. Returns 0,
 * or -1 with e: ERR_FORBIDDEN "not_acting_for_employer",
 * "insufficient_level", "role_required" (employ_refusal_role gives the
 * reason); ERR_INVALID "invalid_kbo", "invalid_insz", "invalid_field"
 * naming the field; ERR_NOT_FOUND "unknown_employer", "unknown_worker",
 * "unknown_declaration"; ERR_CONFLICT "worker_deceased",
 * "declaration_mismatch", "declaration_cancelled", "already_replaced". */
int employ_declare(struct audit *log, const struct employ_declarant *by,
		   struct employ_declaration *d, struct error *e);

/* For a "role_required" refusal of by: the reason (missing, expired,
 * revoked) at the organisation by acts for (employer when none). */
const char *employ_refusal_role(struct store *s,
				const struct employ_declarant *by,
				const char *employer);

/* The declarations in force for worker: the latest of each chain, without
 * cancelled chains, in start order. Fills *out (the caller frees it; never
 * NULL on success) and *n. Returns 0, or -1 with e. */
int employ_in_force(struct store *s, const char *worker,
		    struct employ_declaration **out, int *n, struct error *e);

/* ----------------------------------------------------- the computations */

/* The student contingent for year (hours). Returns 0, or -1 with e:
 * ERR_INVALID "no_contingent" for a year before the first row. */
int employ_student_contingent(int year, int *hours, struct error *e);

/* The student hours left to insz in year: the contingent minus the hours
 * of every student declaration in force that starts in that year, by any
 * employer. Negative when employers declared more than the contingent.
 * Returns 0, or -1 with e (ERR_INVALID "invalid_insz", "no_contingent";
 * the store's). */
int employ_student_hours_left(struct store *s, const char *insz, int year,
			      int *hours, struct error *e);

/* Whether insz may take a flexi-job with employer on date (YYYY-MM-DD),
 * by the rule in force on date. *reason is static: when eligible
 * "pensioner" or "employed_t3"; when not "main_employer" (a contract of
 * at least the threshold with employer in date's quarter),
 * "insufficient_employment", "no_rule" (no rule in force on date).
 * Returns 0, or -1 with e (ERR_INVALID "invalid_insz", "invalid_kbo",
 * "invalid_field" for the date; ERR_NOT_FOUND "unknown_person"; the
 * store's). */
int employ_flexi_eligible(struct store *s, const char *insz,
			  const char *employer, const char *date,
			  bool *eligible, const char **reason,
			  struct error *e);

/* ------------------------------------------------------------- schema */

extern const struct store_schema employ_schema;

#endif
