/*
 * The reference directory. A dossier row holds the INSZ as an integer and
 * its period as day numbers, and one covering index (person, capacity,
 * institution, start, end, phase) answers both the hub's decision query
 * and the anti-fraud check, each in a single index seek. An open dossier
 * ends on OPEN_END, so every comparison is between integers.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "directory/directory.h"
#include "registry/registry.h"

#define OPEN_END INT64_C(2147483647)

static const char sql_cap_add[] =
	"INSERT INTO capacity (branch, code, label) VALUES (?1, ?2, ?3)";
static const char sql_cap_known[] =
	"SELECT 1 FROM capacity WHERE branch = ?1 AND code = ?2";
static const char sql_type_add[] =
	"INSERT INTO data_type (code, source_actor_type, label) "
	"VALUES (?1, ?2, ?3)";
static const char sql_avail_add[] =
	"INSERT INTO availability (actor_type, capacity, data_type) "
	"VALUES (?1, ?2, ?3)";
static const char sql_avail[] =
	"SELECT 1 FROM availability WHERE actor_type = ?1 AND capacity = ?2 "
	"AND data_type = ?3";
static const char sql_type_source[] =
	"SELECT source_actor_type FROM data_type WHERE code = ?1";
/* Overlapping dossiers on the same person and capacity in the branch:
 * existing.start <= new.end AND existing.end >= new.start. */
static const char sql_overlap[] =
	"SELECT d.institution_id FROM dossier d "
	"JOIN institution i ON i.id = d.institution_id "
	"WHERE d.insz = ?1 AND d.capacity = ?2 AND d.start_day <= ?4 "
	"AND d.end_day >= ?3 AND i.branch = ?5 "
	"ORDER BY d.institution_id = ?6 DESC LIMIT 1";
static const char sql_insert[] =
	"INSERT INTO dossier (insz, institution_id, capacity, phase, "
	"start_day, end_day) VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id";
static const char sql_get[] =
	"SELECT id, insz, capacity, phase, start_day, end_day FROM dossier "
	"WHERE id = ?1 AND institution_id = ?2";
static const char sql_close[] =
	"UPDATE dossier SET end_day = ?3 WHERE id = ?1 AND institution_id = ?2";
static const char sql_holdings[] =
	"SELECT institution_id, capacity, max(phase) FROM dossier WHERE insz = ?1 "
	"AND start_day <= ?2 AND end_day >= ?2 GROUP BY institution_id, capacity "
	"ORDER BY institution_id, capacity";
/* The directory reads the institution's actor type here rather than
 * asking src/org per holding: one seek on the person's dossiers, joined
 * to their institutions and to availability by primary key. */
static const char sql_source[] =
	"SELECT d.institution_id FROM dossier d "
	"JOIN institution i ON i.id = d.institution_id "
	"JOIN availability a ON a.actor_type = i.actor_type "
	"AND a.capacity = d.capacity AND a.data_type = ?4 "
	"WHERE d.insz = ?1 AND d.start_day <= ?2 AND d.end_day >= ?2 "
	"AND i.actor_type = ?3 "
	"ORDER BY d.institution_id, d.capacity LIMIT 1";
static const char sql_decide[] =
	"SELECT max(phase) FROM dossier WHERE insz = ?1 AND capacity = ?2 "
	"AND institution_id = ?3 AND start_day <= ?4 AND end_day >= ?4";

int directory_capacity_json(const json_t *v)
{
	if (json_is_integer(v)) {
		json_int_t n = json_integer_value(v);
		if (n < 0 || n > 999)
			return -1;
		char code[8];
		snprintf(code, sizeof(code), "%03d", (int)n);
		return directory_capacity_parse(code);
	}
	return directory_capacity_parse(json_string_value(v));
}

int directory_capacity_parse(const char *s)
{
	if (!s || strlen(s) != 3)
		return -1;
	int code = 0;
	for (int i = 0; i < 3; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		code = code * 10 + (s[i] - '0');
	}
	return code <= 900 || code == CAPACITY_PROVISIONAL ? code : -1;
}

/* ------------------------------------------------------ reference data */

static const struct store_refusal already_defined = {
	ERR_CONFLICT, "already_defined", "already defined"};

/* The event of a change to the reference directory, about subject (left
 * out when it is no valid INSZ). Strings are borrowed. */
static struct audit_event directory_event(const struct audit_actor *by,
					  const char *action,
					  const char *subject,
					  const char *purpose)
{
	struct audit_event ev = audit_event_by(by, action);
	ev.subject = audit_subject(subject);
	ev.data_type = "reference_directory";
	ev.purpose = purpose;
	return ev;
}

/* A row of reference data: sql bound with a, then b (or code when b is
 * NULL), then c. */
struct reference {
	const char *sql, *a;
	int64_t code;
	const char *b, *c;
};

static int reference_change(struct store_conn *w, void *ctx,
			    struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct reference *r = ctx;
	struct store_stmt *st = store_prepare(w, r->sql);
	store_bind_text(st, 1, r->a);
	if (r->b)
		store_bind_text(st, 2, r->b);
	else
		store_bind_int(st, 2, r->code);
	store_bind_text(st, 3, r->c);
	return store_run(st, &already_defined, e);
}

/* Add r, recorded as action with what as its purpose; or record the
 * refusal when refused is not NULL. */
static int add_reference(struct audit *log, const struct audit_actor *by,
			 const char *action, const char *what,
			 struct reference *r, const struct error *refused,
			 struct error *e)
{
	struct audit_event ev = directory_event(by, action, NULL, what);
	return audit_change(log, &ev, reference_change, r, refused, e);
}

static bool capacity_code_ok(int code)
{
	return code >= 0 && (code <= 900 || code == CAPACITY_PROVISIONAL);
}

int directory_capacity_add(struct audit *log, const struct audit_actor *by,
			   const char *branch, int code, const char *label,
			   struct error *e)
{
	struct reference r = {sql_cap_add, branch, code, NULL, label};
	struct error bad;
	bool ok = branch[0] && capacity_code_ok(code);
	if (!ok)
		err_set(&bad, ERR_INVALID, "unknown_capacity",
			"capacity codes are 000-900 and 902");
	char what[AUDIT_FIELD_MAX + 1];
	snprintf(what, sizeof(what), "%s %03d", branch, code % 1000);
	return add_reference(log, by, "capacity_add", what, &r,
			     ok ? NULL : &bad, e);
}

int directory_data_type_add(struct audit *log, const struct audit_actor *by,
			    const char *code, const char *source_actor_type,
			    const char *label, struct error *e)
{
	struct reference r = {sql_type_add, code, 0, source_actor_type, label};
	struct error bad;
	bool ok = code[0] && source_actor_type[0];
	if (!ok)
		err_set(&bad, ERR_INVALID, "invalid_field",
			"a data type needs a code and a source");
	return add_reference(log, by, "data_type_add", code, &r,
			     ok ? NULL : &bad, e);
}

/* The data type must be in the directory: checked on the writer, in the
 * transaction that adds the availability. */
static int availability_change(struct store_conn *w, void *ctx,
			       struct audit_event *evs, size_t n,
			       struct error *e)
{
	struct reference *r = ctx;
	struct store_stmt *st = store_prepare(w, sql_type_source);
	store_bind_text(st, 1, r->c);
	int known = store_one(st, NULL, NULL, e);
	if (known < 0)
		return -1;
	if (known > 0)
		return err_set(e, ERR_INVALID, "unknown_data_type",
			       "the data type is not in the reference directory");
	return reference_change(w, ctx, evs, n, e);
}

int directory_availability_add(struct audit *log,
			       const struct audit_actor *by,
			       const char *actor_type, int capacity,
			       const char *data_type, struct error *e)
{
	struct reference r = {sql_avail_add, actor_type, capacity, NULL,
			      data_type};
	struct error bad;
	bool ok = actor_type[0] && capacity_code_ok(capacity);
	if (!ok)
		err_set(&bad, ERR_INVALID, "unknown_capacity",
			"an actor type and a capacity 000-900 or 902");
	char what[AUDIT_FIELD_MAX + 1];
	snprintf(what, sizeof(what), "%s %03d %s", actor_type, capacity % 1000,
		 data_type);
	struct audit_event ev = directory_event(by, "availability_add", NULL,
						what);
	return audit_change(log, &ev, availability_change, &r,
			    ok ? NULL : &bad, e);
}

bool directory_available(struct store *s, const char *actor_type,
			 int capacity, const char *data_type)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return false;
	struct store_stmt *st = store_prepare(r, sql_avail);
	store_bind_text(st, 1, actor_type);
	store_bind_int(st, 2, capacity);
	store_bind_text(st, 3, data_type);
	return store_one(st, NULL, NULL, NULL) == 0;
}

bool directory_capacity_known(struct store *s, const char *branch, int code)
{
	if (code == CAPACITY_DEFINITIVE || code == CAPACITY_PROVISIONAL)
		return true;
	struct store_conn *r = store_reader(s);
	if (!r)
		return false;
	struct store_stmt *st = store_prepare(r, sql_cap_known);
	store_bind_text(st, 1, branch);
	store_bind_int(st, 2, code);
	return store_one(st, NULL, NULL, NULL) == 0;
}

/* A text column copied into a caller's buffer. */
struct text_out {
	char *p;
	size_t n;
};

static void read_text(struct store_stmt *st, void *out)
{
	struct text_out *t = out;
	str_copy(t->p, t->n, store_col_text(st, 0));
}

int directory_data_type_source(struct store *s, const char *code, char *out,
			       size_t n)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_type_source);
	store_bind_text(st, 1, code);
	struct text_out source = {out, n};
	return store_one(st, read_text, &source, NULL);
}

/* ------------------------------------------------------------- dossiers */

/* Start and end (end "" = open) as day numbers, end not before start. */
static int period(const char *start, const char *end, int64_t *from,
		  int64_t *to, struct error *e)
{
	struct date a, b;
	if (date_parse(start, &a) != 0 ||
	    (end[0] && date_parse(end, &b) != 0))
		return err_set(e, ERR_INVALID, "invalid_period",
			       "dates are YYYY-MM-DD");
	*from = date_to_days(a);
	*to = end[0] ? date_to_days(b) : OPEN_END;
	if (*to < *from)
		return err_set(e, ERR_INVALID, "invalid_period",
			       "the end lies before the start");
	return 0;
}

static int64_t insz_number(const char *insz)
{
	return strtoll(insz, NULL, 10);
}

/* The anti-fraud rule and the no-overlap rule, on the held writer. */
static int check_overlap(struct store_conn *w, int64_t institution_id,
			 const char *branch, int64_t insz, int capacity,
			 int64_t from, int64_t to, struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_overlap);
	store_bind_int(st, 1, insz);
	store_bind_int(st, 2, capacity);
	store_bind_int(st, 3, from);
	store_bind_int(st, 4, to);
	store_bind_text(st, 5, branch);
	store_bind_int(st, 6, institution_id);
	int64_t holder = 0;
	int rc = store_one(st, store_read_int, &holder, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (holder == institution_id)
		return err_set(e, ERR_CONFLICT, "dossier_overlap",
			       "you already hold a dossier on this person in "
			       "this capacity for part of that period");
	/* The rule, and nothing about the other institution. */
	return err_set(e, ERR_CONFLICT, "directory_conflict",
		       "the person is integrated in this capacity for an "
		       "overlapping period by another institution of the "
		       "same branch");
}

static int insert_dossier(struct store_conn *w, int64_t institution_id,
			  int64_t insz, const struct directory_dossier *d,
			  int64_t from, int64_t to, int64_t *id,
			  struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_insert);
	store_bind_int(st, 1, insz);
	store_bind_int(st, 2, institution_id);
	store_bind_int(st, 3, d->capacity);
	store_bind_int(st, 4, d->phase);
	store_bind_int(st, 5, from);
	store_bind_int(st, 6, to);
	return store_insert(st, id, NULL, e) < 0 ? -1 : 0;
}

static int check_dossier(struct store *s, const char *branch,
			 const struct directory_dossier *d, int64_t *from,
			 int64_t *to, struct error *e)
{
	struct registry_person p;
	if (!insz_valid(d->insz) || strlen(d->insz) != 11)
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "not a valid INSZ (digits only)");
	if (!directory_capacity_known(s, branch, d->capacity))
		return err_set(e, ERR_INVALID, "unknown_capacity",
			       "this capacity does not exist in your branch");
	if (d->phase < 1 || d->phase > 99)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "phase is an ordinal from 1 to 99");
	if (period(d->start, d->end, from, to, e) != 0)
		return -1;
	int known = registry_get(s, d->insz, &p, e);
	if (known < 0)
		return -1;
	if (known == 1)
		return err_set(e, ERR_NOT_FOUND, "unknown_person",
			       "no person with this INSZ in the registers");
	return 0;
}

struct integrate {
	int64_t institution_id;
	const char *branch;
	struct directory_dossier *d;
	int64_t from, to;
};

/* The anti-fraud and no-overlap rules, checked on the writer in the
 * transaction that opens the dossier. */
static int integrate_change(struct store_conn *w, void *ctx,
			    struct audit_event *evs, size_t n,
			    struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct integrate *c = ctx;
	int64_t insz = insz_number(c->d->insz);
	int rc = check_overlap(w, c->institution_id, c->branch, insz,
			       c->d->capacity, c->from, c->to, e);
	if (rc == 0)
		rc = insert_dossier(w, c->institution_id, insz, c->d, c->from,
				    c->to, &c->d->id, e);
	return rc;
}

int directory_integrate(struct audit *log, const struct audit_actor *by,
			int64_t institution_id, const char *branch,
			struct directory_dossier *d, struct error *e)
{
	struct integrate c = {institution_id, branch, d, 0, 0};
	struct error bad;
	const struct error *refusal =
		check_dossier(audit_store(log), branch, d, &c.from, &c.to,
			      &bad) != 0 ? &bad : NULL;
	struct audit_event ev = directory_event(by, "dossier_integrate",
						d->insz, "file_management");
	return audit_change(log, &ev, integrate_change, &c, refusal, e);
}

static int cmp_row(const void *x, const void *y)
{
	const struct directory_import_row *a = x, *b = y;
	if (a->insz != b->insz)
		return a->insz < b->insz ? -1 : 1;
	if (a->capacity != b->capacity)
		return a->capacity < b->capacity ? -1 : 1;
	if (a->institution_id != b->institution_id)
		return a->institution_id < b->institution_id ? -1 : 1;
	return a->start_day < b->start_day ? -1 : a->start_day > b->start_day;
}

struct import {
	const struct directory_import_row *rows;
	size_t n;
};

static int import_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct import *c = ctx;
	int rc = 0;
	for (size_t i = 0; i < c->n && rc == 0; i++) {
		const struct directory_import_row *r = &c->rows[i];
		int64_t to = r->end_day < 0 ? OPEN_END : r->end_day;
		struct directory_dossier d = {.capacity = r->capacity,
					      .phase = r->phase};
		int64_t id;
		if (to < r->start_day || r->phase < 1)
			rc = err_set(e, ERR_INVALID, "invalid_period",
				     "row %zu: bad period or phase", i);
		else
			rc = check_overlap(w, r->institution_id, r->branch,
					   r->insz, r->capacity, r->start_day,
					   to, e);
		if (rc == 0)
			rc = insert_dossier(w, r->institution_id, r->insz, &d,
					    r->start_day, to, &id, e);
	}
	return rc;
}

int directory_import(struct audit *log, const struct audit_actor *by,
		     struct directory_import_row *rows, size_t n,
		     struct error *e)
{
	/* In index order, every insert lands at the end of the B-tree. */
	qsort(rows, n, sizeof(*rows), cmp_row);
	struct import c = {rows, n};
	/* One event describes the load: an event per dossier would make a
	 * load of millions (`kruispunt gen`) as slow as the log. */
	char count[32];
	snprintf(count, sizeof(count), "%zu dossiers", n);
	struct audit_event ev = directory_event(by, "directory_import", NULL,
						count);
	return audit_change(log, &ev, import_change, &c, NULL, e);
}

static void day_text(int64_t day, char out[DATE_LEN])
{
	if (day == OPEN_END)
		out[0] = '\0';
	else
		date_format(date_from_days(day), out);
}

/* Fill dossier (a struct directory_dossier) from a row of sql_get. */
static void read_dossier(struct store_stmt *st, void *dossier)
{
	struct directory_dossier *out = dossier;
	out->id = store_col_int(st, 0);
	snprintf(out->insz, sizeof(out->insz), "%011lld",
		 (long long)store_col_int(st, 1));
	out->capacity = (int)store_col_int(st, 2);
	out->phase = (int)store_col_int(st, 3);
	day_text(store_col_int(st, 4), out->start);
	day_text(store_col_int(st, 5), out->end);
}

/* One dossier of an institution on connection c: 0, 1 when it holds none
 * with this id, -1 with e set (e may be NULL). */
static int load(struct store_conn *c, int64_t institution_id, int64_t id,
		struct directory_dossier *out, struct error *e)
{
	struct store_stmt *st = store_prepare(c, sql_get);
	store_bind_int(st, 1, id);
	store_bind_int(st, 2, institution_id);
	return store_one(st, read_dossier, out, e);
}

int directory_get(struct store *s, int64_t institution_id, int64_t id,
		  struct directory_dossier *out)
{
	struct store_conn *r = store_reader(s);
	return r ? load(r, institution_id, id, out, NULL) : -1;
}

struct close {
	int64_t institution_id, id;
	const char *end;
	struct directory_dossier d;
};

/* Only the institution's own open dossier closes, not before it started;
 * the event names whose dossier it is, refused or not. */
static int close_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct close *c = ctx;
	int found = load(w, c->institution_id, c->id, &c->d, e);
	if (found != 0)
		return found < 0 ? -1
				 : err_set(e, ERR_NOT_FOUND, "unknown_dossier",
					   "you hold no dossier with this id");
	evs[0].subject = c->d.insz;
	int64_t from, to;
	if (c->d.end[0])
		return err_set(e, ERR_CONFLICT, "dossier_closed",
			       "this dossier is already closed");
	if (!c->end[0])
		return err_set(e, ERR_INVALID, "invalid_period",
			       "end is required");
	if (period(c->d.start, c->end, &from, &to, e) != 0)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_close);
	store_bind_int(st, 1, c->id);
	store_bind_int(st, 2, c->institution_id);
	store_bind_int(st, 3, to);
	str_copy(c->d.end, sizeof(c->d.end), c->end);
	return store_run(st, NULL, e);
}

int directory_close(struct audit *log, const struct audit_actor *by,
		    int64_t institution_id, int64_t id, const char *end,
		    struct directory_dossier *out, struct error *e)
{
	struct close c = {institution_id, id, end, {0}};
	struct audit_event ev = directory_event(by, "dossier_close", NULL,
						"file_management");
	int rc = audit_change(log, &ev, close_change, &c, NULL, e);
	if (rc == 0 && out)
		*out = c.d;
	return rc;
}

int directory_holdings(struct store *s, const char *insz, int64_t day,
		       struct directory_holding *out, int max)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_holdings);
	store_bind_int(st, 1, insz_number(insz));
	store_bind_int(st, 2, day);
	int n = 0;
	enum store_rc rc;
	while ((rc = store_step(st)) == STORE_ROW && n < max) {
		out[n].institution_id = store_col_int(st, 0);
		out[n].capacity = (int)store_col_int(st, 1);
		out[n].phase = (int)store_col_int(st, 2);
		n++;
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : n;
}

int directory_source(struct store *s, const char *insz, int64_t day,
		     const char *actor_type, const char *data_type,
		     int64_t *institution_id)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_source);
	store_bind_int(st, 1, insz_number(insz));
	store_bind_int(st, 2, day);
	store_bind_text(st, 3, actor_type);
	store_bind_text(st, 4, data_type);
	return store_one(st, store_read_int, institution_id, NULL);
}

int directory_decide(struct store *s, int64_t institution_id,
		     const char *insz, int capacity, int64_t day, int min_phase)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_decide);
	store_bind_int(st, 1, insz_number(insz));
	store_bind_int(st, 2, capacity);
	store_bind_int(st, 3, institution_id);
	store_bind_int(st, 4, day);
	enum store_rc rc = store_step(st);
	int answer = -1;
	if (rc == STORE_ROW)
		answer = store_col_null(st, 0) ? DIRECTORY_NO_DOSSIER
			 : store_col_int(st, 0) < min_phase ? DIRECTORY_PHASE_TOO_LOW
							    : DIRECTORY_DOSSIER;
	store_done(st);
	return answer;
}
