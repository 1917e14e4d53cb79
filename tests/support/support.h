/*
 * tests/support: what the unit tests share instead of writing it again in
 * every file. A scratch directory and a temporary store, the test clock
 * from one agreed instant, and builders for the common world: a person
 * with a parent (registry), an institution with a certificate (org), a
 * deliberation (authz) and a dossier (directory).
 *
 * Builders return 0 (or an id), -1 with e on failure, and never assert:
 * a test states what it expects with its own assert.
 */
#ifndef KP_TEST_SUPPORT_H
#define KP_TEST_SUPPORT_H

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

/* ------------------------------------------------------ scratch storage */

/* A directory of its own under /tmp, named after the test. */
struct ts_dir {
	char path[64];
};

/* Make it (mkdtemp) and set up libsodium, which every store-backed test
 * needs first. Returns 0, or -1. */
int ts_dir_make(struct ts_dir *d, const char *name);
/* "DIR/rel" into out; aborts when it does not fit (names are the test's). */
void ts_dir_file(const struct ts_dir *d, const char *rel, char *out, size_t n);
/* Remove the directory and all below it. Returns 0, or -1. */
int ts_dir_remove(struct ts_dir *d);

/* The database a test opens, for store_open: the file rel in d, or, when
 * the tests run against PostgreSQL (KP_TEST_PG_URL_FILE names the file
 * with the scratch cluster's URL, started by tests/support/pg.sh), a new
 * schema of its own in that cluster, as a URL. Aborts when it cannot. */
void ts_db_location(const struct ts_dir *d, const char *rel, char *out,
		    size_t n);
/* True when the tests run against PostgreSQL. */
bool ts_pg(void);

/* A fresh, migrated store in a scratch directory, with its audit log
 * (signed with a key of its own, sk): domain changes are recorded there. */
struct ts_store {
	struct ts_dir dir;
	char path[512]; /* ts_db_location */
	struct store *s;
	struct audit *log;
	uint8_t sk[ED25519_SK_LEN];
};

/* Who the builders act as: the operator, on the host. */
extern const struct audit_actor ts_operator;

/* Returns 0, or -1 (nothing left behind). */
int ts_store_open(struct ts_store *t, const char *name);
/* Close the log and the store and remove the directory; returns 0, or -1 (the value a
 * cmocka teardown returns). */
int ts_store_close(struct ts_store *t);

/* The 6-digit TOTP code at time t (seconds) of an otpauth:// URI's
 * secret (30-second steps). Returns 0, or -1 when the URI has none. */
int ts_totp_code(const char *uri, int64_t t, char code[7]);

/* ------------------------------------------------------------- raw SQL */

/* Raw SQL for what the modules' functions would refuse to do, through the
 * store so that it runs on either backend. sql is one statement without
 * parameters and a literal (the store caches statements by the address of
 * their text), or text that lives as long as the store it runs on. */

/* Run sql on s in a write transaction of its own: committed when it ran,
 * rolled back otherwise. Returns STORE_DONE, or how it failed
 * (STORE_CONSTRAINT when a constraint or a trigger refused). */
enum store_rc ts_exec(struct store *s, const char *sql);
/* ts_exec on the database at location, opened for this statement alone
 * and closed after it: an attacker with access to the database, beside
 * the code under test. */
enum store_rc ts_exec_at(const char *location, const char *sql);
/* The first column of sql's first row, an integer, read on this thread's
 * reader of s; -1 when there is no row. */
int64_t ts_int(struct store *s, const char *sql);
/* ts_int on the database at location, opened for this query alone. */
int64_t ts_int_at(const char *location, const char *sql);
/* Make the audit log of s refuse every append, as a full or failing disk
 * would (a trigger on audit_event), or take events again. */
void ts_audit_refuse(struct store *s, bool refuse);

/* ---------------------------------------------------------------- clock */

/* The instant tests start at: a whole second, so lifetimes counted in
 * seconds end exactly where a test expects. */
#define TS_T0_MS INT64_C(1772359200000) /* 2026-03-01T10:00:00Z */

/* Set the test clock to TS_T0_MS (clock_reset() goes back to real). */
void ts_clock_start(void);
/* Day number of a YYYY-MM-DD literal; aborts when it is not one. */
int64_t ts_day(const char *date);

/* ---------------------------------------------------------------- events */

/* The events of log whose action is action (all when NULL), oldest first,
 * from the first AUDIT_QUERY_MAX: their number, into *out (caller frees
 * with free()); -1 when the log cannot be read. */
int ts_events(struct audit *log, const char *action, struct audit_record **out);

/* Whether the n events ev are, in order, the (action, outcome, reason)
 * triples of want ("" for no reason); prints the first difference. */
bool ts_events_are(const struct audit_record *ev, int n,
		   const char *const want[][3], size_t nwant);

/* Whether a call on what returned rc -1 with e's code code and, when detail
 * is not NULL, a detail holding it; prints the difference otherwise. */
bool ts_refusal_is(const char *what, int rc, const struct error *e,
		   const char *code, const char *detail);

/* -------------------------------------------------------------- builders */

/* A person in the National Register (birth may be "" when unknown). */
int ts_person(struct audit *log, const char *insz, const char *last,
	      const char *first, const char *birth, struct error *e);
/* An organisation (named after its KBO) and its institution; returns the
 * institution's id, or -1 with e. */
int64_t ts_institution(struct audit *log, const char *kbo,
		       const char *actor_type, const char *branch,
		       struct error *e);
/* A certificate fingerprint of institution id, valid from an hour before
 * to a day after the clock's now. */
int ts_certificate(struct audit *log, int64_t id,
		   const uint8_t fp[SHA256_LEN], struct error *e);
/* A deliberation open from `from` without end. */
int ts_deliberation(struct audit *log, const char *ref, const char *actor_type,
		    int capacity, const char *data_type, const char *purpose,
		    const char *from, int min_phase, struct error *e);
/* An open dossier of insz at institution id (of branch); its id into
 * *dossier when not NULL. */
int ts_dossier(struct audit *log, int64_t id, const char *branch,
	       const char *insz, int capacity, int phase, const char *start,
	       int64_t *dossier, struct error *e);

/* The common world, taken from the demo's own tables (src/demo), so the
 * tests and the demo describe one network: Jan Peeters and his minor
 * daughter Lotte, Marie Dubois without a dossier; the health insurance
 * fund 0411111140 with a certificate; the demo's deliberation for the
 * fund's identification data, with its capacity and data type, and Jan's
 * dossier at the fund from the day the deliberation starts. */
struct ts_world {
	const char *parent, *child, *stranger; /* INSZ */
	const char *fund_kbo;
	int64_t fund;                          /* institution id */
	uint8_t fund_fp[SHA256_LEN];
	const char *deliberation;
	int64_t dossier;
};

int ts_world_build(struct audit *log, struct ts_world *w, struct error *e);

#endif
