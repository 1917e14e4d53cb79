/*
 * directory: the reference directory of the crossroads hub (seed 004
 * section 4.2): which institution holds a dossier on which person, in which
 * capacity (hoedanigheid), from when to when and at which phase; which
 * capacities exist per branch; which data types exist and which actor type
 * is their authentic source.
 *
 * The anti-fraud rule: the same person cannot be integrated in the same
 * capacity for overlapping periods by two institutions of the same branch.
 * An institution sees and changes only its own dossiers.
 *
 * The hub asks, for every exchange, "does institution X hold a dossier on
 * person P in capacity C on date D, at phase >= F?": one covering-index
 * lookup (bench/directory measures it).
 */
#ifndef KP_DIRECTORY_H
#define KP_DIRECTORY_H

#include <stdint.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

/* Capacity codes: 000 definitive without specific capacity, 902
 * provisional, 001-900 specific capacities of a branch. */
#define CAPACITY_DEFINITIVE 0
#define CAPACITY_PROVISIONAL 902

/* Parse a capacity code ("000".."900", "902"). Returns the code, or -1. */
int directory_capacity_parse(const char *s);
/* A capacity given in JSON: "001" or 1. Returns the code, or -1. */
int directory_capacity_json(const json_t *v);

/* Every function below that changes the directory takes the audit log and
 * who acts (by): the change and its event (data type
 * "reference_directory") are made in one transaction (audit_commit), and a
 * refused request is recorded as refused with its code. Each may also fail
 * with ERR_UNAVAILABLE "audit_unavailable" or "store_unavailable", having
 * changed nothing. */

/* Reference data, by the operator (and the demo), recorded as
 * "capacity_add" / "data_type_add" with what was added as the purpose.
 * Return 0, or -1 with e (ERR_INVALID "unknown_capacity" /
 * "invalid_field", ERR_CONFLICT "already_defined"). */
int directory_capacity_add(struct audit *log, const struct audit_actor *by,
			   const char *branch, int code, const char *label,
			   struct error *e);
int directory_data_type_add(struct audit *log, const struct audit_actor *by,
			    const char *code, const char *source_actor_type,
			    const char *label, struct error *e);

/* True when the capacity exists for the branch (000 and 902 exist for
 * every branch). */
bool directory_capacity_known(struct store *s, const char *branch, int code);
/* The authentic source (actor type) of a data type into out; returns 0, 1
 * when the data type is unknown, -1 on a store failure. */
int directory_data_type_source(struct store *s, const char *code, char *out,
			       size_t n);

/* Availability: actor_type, in capacity, holds data_type (the hub routes
 * a request to such an actor); recorded as "availability_add". Returns 0,
 * or -1 with e (ERR_INVALID "unknown_data_type" / "unknown_capacity",
 * ERR_CONFLICT "already_defined"). */
int directory_availability_add(struct audit *log,
			       const struct audit_actor *by,
			       const char *actor_type, int capacity,
			       const char *data_type, struct error *e);
/* True when actor_type holds data_type in capacity. */
bool directory_available(struct store *s, const char *actor_type,
			 int capacity, const char *data_type);

struct directory_dossier {
	int64_t id;
	char insz[INSZ_BUF];
	int capacity;
	int phase;           /* ordinal, >= 1 */
	char start[DATE_LEN];
	char end[DATE_LEN];  /* "" while open */
};

/* Integrate a person: institution (of branch) opens a dossier, recorded
 * as "dossier_integrate" about the person (purpose "file_management"). d->id
 * is set. Returns 0, or -1 with e (each recorded refused): ERR_INVALID
 * ("invalid_insz", "unknown_capacity", "invalid_field", "invalid_period"),
 * ERR_NOT_FOUND "unknown_person", ERR_CONFLICT "dossier_overlap" (its own
 * dossier) or "directory_conflict" (another institution of the branch:
 * the anti-fraud rule). */
int directory_integrate(struct audit *log, const struct audit_actor *by,
			int64_t institution_id, const char *branch,
			struct directory_dossier *d, struct error *e);

/* Close an institution's own dossier on end, recorded as "dossier_close"
 * about the dossier's person (when it is the institution's). out (may be
 * NULL) receives the closed dossier. Returns 0, or -1 with e (each
 * recorded refused): ERR_NOT_FOUND "unknown_dossier" (also for another
 * institution's), ERR_CONFLICT "dossier_closed", ERR_INVALID
 * "invalid_period". */
int directory_close(struct audit *log, const struct audit_actor *by,
		    int64_t institution_id, int64_t id, const char *end,
		    struct directory_dossier *out, struct error *e);

/* An institution's own dossier. Returns 0, 1 when it has none with that
 * id, -1 on a store failure. */
int directory_get(struct store *s, int64_t institution_id, int64_t id,
		  struct directory_dossier *out);

/* One dossier of a bulk load. */
struct directory_import_row {
	int64_t institution_id;
	const char *branch; /* the institution's branch */
	int64_t insz;       /* the INSZ as a number */
	int capacity;
	int phase;
	int64_t start_day, end_day; /* end_day -1: open */
};

/* Load many dossiers in one transaction (an institution's initial load,
 * `kruispunt gen`), recorded as one event "directory_import" whose purpose
 * is "<n> dossiers": rows are sorted, then each is checked against the
 * anti-fraud and no-overlap rules and inserted. Persons are not looked up
 * (the loader vouches for them). The first refusal aborts the load
 * (recorded refused, nothing added). Returns 0, or -1 with e
 * (ERR_INVALID "invalid_period", ERR_CONFLICT "dossier_overlap" /
 * "directory_conflict"). */
int directory_import(struct audit *log, const struct audit_actor *by,
		     struct directory_import_row *rows, size_t n,
		     struct error *e);

enum directory_answer {
	DIRECTORY_DOSSIER = 0,     /* integrated, at a sufficient phase */
	DIRECTORY_NO_DOSSIER,      /* no dossier covering that date */
	DIRECTORY_PHASE_TOO_LOW,   /* integrated, but the phase is too low */
};

/* One institution's dossier on a person, active on a day. */
struct directory_holding {
	int64_t institution_id;
	int capacity;
	int phase;
};

/* Who holds a dossier on insz covering day (days since 1970): up to max
 * (institution, capacity) pairs, each with its highest phase, into out.
 * The hub routes to the authentic source and forwards mutations with it.
 * Returns their number, or -1 on a store failure. */
int directory_holdings(struct store *s, const char *insz, int64_t day,
		       struct directory_holding *out, int max);

/* The authentic source of data_type for a person: the institution of
 * actor_type that holds a dossier on insz covering day, in a capacity in
 * which availability says actor_type keeps data_type. One query; with
 * several, the lowest institution id (then capacity) wins, so the answer
 * does not depend on the plan. Returns 0 and *institution_id, 1 when
 * none, -1 on a store failure. */
int directory_source(struct store *s, const char *insz, int64_t day,
		     const char *actor_type, const char *data_type,
		     int64_t *institution_id);

/* The decision query. day is days since 1970-01-01 (date_to_days);
 * insz is digits. Returns the answer, or -1 on a store failure. */
int directory_decide(struct store *s, int64_t institution_id,
		     const char *insz, int capacity, int64_t day,
		     int min_phase);

/* ------------------------------------------------------------- schema */

/* The module's tables, as migrations (directory_schema.c): src/cli hands them
 * to store_open with every other module's. */
extern const struct store_schema directory_schema;

#endif
