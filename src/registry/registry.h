/*
 * registry: the National Register (RR) and the BIS register (seed 004
 * section 4.4): basic identification data of every person the social sector
 * knows, parent-child links, and the history of every change.
 *
 * Changes (address, death, birth, name, pension) come only from the
 * institution
 * that is the register's authority (an RR person's from the National
 * Register, a BIS person's from the Crossroads Bank); each gets a ticket
 * and is kept as a mutation, which the hub forwards to the mailboxes of
 * the institutions that hold a file on the person.
 *
 * BIS numbers are assigned here, for persons without a national register
 * number: the next free valid number for the birth date and sex.
 */
#ifndef KP_REGISTRY_H
#define KP_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

#define REGISTRY_NAME_MAX 100

/* A person as the register holds it. Text fields are NUL-terminated;
 * empty means unknown. birth_date is YYYY-MM-DD, YYYY-MM or YYYY. */
struct registry_person {
	char insz[INSZ_BUF];
	char register_[4];  /* "RR" or "BIS" */
	char last_name[REGISTRY_NAME_MAX + 1];
	char first_names[REGISTRY_NAME_MAX + 1];
	char birth_date[DATE_LEN];
	char birth_place[REGISTRY_NAME_MAX + 1];
	char sex[2];        /* "M", "F", or "" */
	char nationality[3]; /* ISO 3166 alpha-2 */
	char street[REGISTRY_NAME_MAX + 1];
	char postal_code[11];
	char municipality[REGISTRY_NAME_MAX + 1];
	char country[3];
	char language[3];   /* "nl", "fr", "de", "en" */
	char deceased_on[DATE_LEN];
	/* "none" or "retired" (REGISTRY_PENSION_*), "" when unknown: whether
	 * the person draws a retirement pension, which decides the pensioner
	 * route into a flexi-job; pension_since (YYYY-MM-DD, "" unknown) is
	 * the date that status took effect. Not identification data: an
	 * exchange for identification data leaves it out. */
	char pension_status[8];
	char pension_since[DATE_LEN];
	int64_t version;
};

#define REGISTRY_PENSION_NONE "none"
#define REGISTRY_PENSION_RETIRED "retired"

/* Every function below that changes the registers takes the audit log and
 * who acts (by): the change and its event (data type "identification",
 * purpose "register_maintenance", the person as subject) are made in one
 * transaction (audit_commit), and a refused request is recorded as refused
 * with its code. Each may also fail with ERR_UNAVAILABLE
 * "audit_unavailable" or "store_unavailable", having changed nothing. */

/* Add a person (operator load, demo), recorded as "person_add". The
 * register (RR or BIS) follows from the number. Returns 0, or -1 with e:
 * ERR_INVALID (a field, "invalid_insz") or ERR_CONFLICT "person_exists". */
int registry_add(struct audit *log, const struct audit_actor *by,
		 const struct registry_person *p, struct error *e);

/* Add many persons in one transaction (loads, `kruispunt gen`), recorded
 * as one event "registry_import" whose purpose is "<n> persons" (an event
 * per person would make a large load as slow as the log). Each is
 * validated as by registry_add; the first refusal aborts the whole load
 * (recorded refused, nothing added). Sorted by INSZ, the rows append to
 * the table's B-tree. */
int registry_import(struct audit *log, const struct audit_actor *by,
		    const struct registry_person *p, size_t n, struct error *e);

/* The person with this INSZ. Returns 0, 1 when unknown, -1 with e. */
int registry_get(struct store *s, const char *insz, struct registry_person *out,
		 struct error *e);

/* The person as the registers knew it on date (YYYY-MM-DD): the current
 * row with every mutation effective after date undone, newest first, from
 * the values before it that person_mutation keeps. Returns 0, 1 when the
 * person is unknown or not yet born on date, -1 with e. Reads on the
 * calling thread's connection, so inside a read snapshot it sees that
 * snapshot. */
int registry_get_as_of(struct store *s, const char *insz, const char *date,
		       struct registry_person *out, struct error *e);

/* Persons by last name, first name and birth date, for registration
 * offices (seed 003): names compared without regard to case or accents
 * (text_fold), otherwise exactly; first_names matches the person's given
 * names in full or any one of them; birth_date exactly as registered.
 * Fills out (caller frees; room for max + 1) with at most max persons, in
 * INSZ order. Returns 0, or -1 with e (then *out is NULL). */
int registry_find(struct store *s, const char *last_name,
		  const char *first_names, const char *birth_date,
		  struct registry_person **out, int *n, int max,
		  struct error *e);

/* Record that parent is a parent of child (both known persons), with an
 * event "parent_link" about each. Returns 0, or -1 with e: ERR_INVALID
 * "invalid_insz" (recorded about the child), ERR_CONFLICT "link_invalid"
 * (unknown person, or already linked) or "link_implausible" (the child is
 * an ancestor of the parent, or the parent is not born before the child
 * as far as both birth dates tell). A birth's parents are checked so too. */
int registry_link_parent(struct audit *log, const struct audit_actor *by,
			 const char *child, const char *parent,
			 struct error *e);
/* The children of parent in the registers (parent links), at most 64.
 * Fills *out (the caller frees it; never NULL on success) and *n.
 * Returns 0, or -1 with e. */
int registry_children(struct store *s, const char *parent,
		      char (**out)[INSZ_BUF], int *n, struct error *e);
/* True when parent is a registered parent of child. */
bool registry_is_parent(struct store *s, const char *parent,
			const char *child);

/* Assign a BIS number to a new person: p->insz is ignored and set (""
 * when refused). birth_date may be empty, YYYY, YYYY-MM or YYYY-MM-DD; sex
 * may be empty. A person already registered (either register) with the
 * same names (without case), birth date and sex as given is not numbered
 * again: p->insz is their number, *existing (when not NULL) true, and the
 * event "bis_match" about them. Otherwise recorded as "bis_assignment"
 * with the new number as subject. Returns 0, or -1 with e (ERR_INVALID
 * "invalid_field"; ERR_CONFLICT "bis_exhausted" when no sequence number
 * is left for that date and sex, or "person_ambiguous" when several
 * registered persons match). */
int registry_assign_bis(struct audit *log, const struct audit_actor *by,
			struct registry_person *p, bool *existing,
			struct error *e);

enum registry_mutation_type {
	MUTATION_ADDRESS = 1,
	MUTATION_DEATH,
	MUTATION_BIRTH,
	MUTATION_NAME,
	MUTATION_PENSION,
};

/* A change submitted by a register authority. For MUTATION_BIRTH, person
 * is the newborn (its insz is the path's) and parents lists up to two
 * INSZ; for the others only the fields of that kind are read. A
 * MUTATION_PENSION reads person.pension_status; its effective_on is the
 * date the status takes effect (the new pension_since). */
struct registry_mutation {
	enum registry_mutation_type type;
	char effective_on[DATE_LEN]; /* the date of the fact */
	struct registry_person person;
	char parents[2][INSZ_BUF];
	int nparents;
};

/* Parse "address" | "death" | "birth" | "name" | "pension". Returns 0,
 * or -1. */
int registry_mutation_type_parse(const char *s,
				 enum registry_mutation_type *out);
const char *registry_mutation_type_name(enum registry_mutation_type t);

/* The data type a mutation of type t (as registry_mutation_type_name
 * names it) discloses: "pension_status" for a pension, "identification"
 * for the others. Its event carries it, and the hub forwards it only to
 * institutions authorized for that data type. */
const char *registry_mutation_data_type(const char *type);

/* Apply a mutation to the person insz on behalf of an institution of
 * actor_type, which must be the authority of the person's register;
 * recorded as "registry_mutation" about insz (data type as
 * registry_mutation_data_type), with the ticket when granted.
 * On success ticket receives the mutation's ticket. Returns 0, or -1 with
 * e (each recorded refused): ERR_FORBIDDEN "not_register_authority",
 * ERR_NOT_FOUND "unknown_person", ERR_CONFLICT "person_exists" (birth of a
 * known number) or "person_deceased", ERR_INVALID ("invalid_insz",
 * "invalid_field"). The hub's forwarding of the mutation is the caller's
 * (hub_mutation_recorded). */
int registry_mutate(struct audit *log, const struct audit_actor *by,
		    const char *insz, const struct registry_mutation *m,
		    const char *actor_type, int64_t institution_id,
		    char ticket[UUID_LEN], struct error *e);

/* The actor type that is the authority of a register ("RR", "BIS"). */
const char *registry_authority(const char *register_);

/* ---------------------------------------------------------- file loads */

/* A line of an operator's register file is at most this long: the
 * longest valid person is about 1,100 bytes, escapes included. */
#define REGISTRY_LINE_MAX 4096

/* One person of an operator's register file (docs/IMPORT.md). */
struct registry_line {
	struct registry_person person;
	char parents[2][INSZ_BUF];
	int nparents;
	char effective_on[DATE_LEN]; /* of its changes; "" for today */
};

/* Whether p can be registered as it stands: every field as the registers
 * take it, and a valid INSZ in digits that agrees with the birth date and
 * sex given. Returns 0, or -1 with e (ERR_INVALID "invalid_insz" or
 * "invalid_field" naming the field). */
int registry_person_check(const struct registry_person *p, struct error *e);

/* Parse one line (len bytes, no line end, untrusted): a JSON object with
 * insz, register?, last_name, first_names, birth_date?, birth_place?,
 * sex?, nationality?, address? {street, postal_code, municipality,
 * country}, language?, parents? (at most two INSZ), deceased_on?,
 * pension_status? ("none" | "retired"), pension_since? (with a
 * pension_status), effective_on?. Formatted numbers are taken and kept
 * as digits; the register, when given, must be the number's. Returns 0 and *out, or -1
 * with e: the codes of jsonx_line, "invalid_insz" (with the number's
 * reason) or "invalid_field". */
int registry_line_parse(const char *line, size_t len, struct registry_line *out,
			struct error *e);

/* What loading a person did. */
enum registry_outcome {
	REGISTRY_INSERTED = 1,
	REGISTRY_UPDATED,
	REGISTRY_UNCHANGED,
	REGISTRY_REFUSED,
};

/* Initial load of persons checked by registry_line_parse: each new one
 * inserted with its own event "person_add" about them, in commits of
 * AUDIT_COMMIT_MAX persons made from several threads at once, so the
 * audit writer puts many in one transaction. A person registered with
 * exactly these data is left alone (unchanged, no event); one registered
 * with other data, or twice in l, is refused "person_exists" (its event
 * recorded refused). Parent links are not made here (registry_link_parent,
 * once every person is in). out[i] receives line i's outcome. Nothing is
 * forwarded. Returns 0, or -1 with e when the log or the store failed
 * (the commits made stay made; out says which). */
int registry_load(struct audit *log, const struct audit_actor *by,
		  const struct registry_line *l, size_t n,
		  enum registry_outcome *out, struct error *e);

/* A line of a daily mutation file, applied as the register's authority
 * (actor_type, institution_id) sends it: a new person is added
 * (registry_add) with its parent links; a known one gets an address,
 * name, pension or death mutation (registry_mutate, forwarded by the hub
 * to the mailboxes) for each kind of data that differs, and links to
 * parents it lacks. A pension mutation takes effect on pension_since
 * when the line gives one. Fields the line leaves empty are not compared; a birth date,
 * birth place, sex, nationality or language that differs is refused
 * (ERR_CONFLICT "unchangeable_field": no mutation changes it) before any
 * change. Returns 0 and *out, or -1 with e (a mutation's refusal; changes
 * already made for the line stay). */
int registry_upsert(struct audit *log, const struct audit_actor *by,
		    const struct registry_line *l, const char *actor_type,
		    int64_t institution_id, enum registry_outcome *out,
		    struct error *e);

/* ------------------------------------------------------------- schema */

/* The module's tables, as migrations (registry_schema.c): src/cli hands them
 * to store_open with every other module's. */
extern const struct store_schema registry_schema;

#endif
