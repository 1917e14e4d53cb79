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

static int add_reference(struct store *s, const char *sql, const char *a,
			 int64_t code, const char *b, const char *c,
			 struct error *e)
{
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql);
	store_bind_text(st, 1, a);
	if (b)
		store_bind_text(st, 2, b);
	else
		store_bind_int(st, 2, code);
	store_bind_text(st, 3, c);
	return store_write_end(s, store_run(st, &already_defined, e), e);
}

int directory_capacity_add(struct store *s, const char *branch, int code,
			   const char *label, struct error *e)
{
	if (!branch[0] || code < 0 || code > 999 ||
	    (code > 900 && code != CAPACITY_PROVISIONAL))
		return err_set(e, ERR_INVALID, "unknown_capacity",
			       "capacity codes are 000-900 and 902");
	return add_reference(s, sql_cap_add, branch, code, NULL, label, e);
}

int directory_data_type_add(struct store *s, const char *code,
			    const char *source_actor_type, const char *label,
			    struct error *e)
{
	if (!code[0] || !source_actor_type[0])
		return err_set(e, ERR_INVALID, "invalid_field",
			       "a data type needs a code and a source");
	return add_reference(s, sql_type_add, code, 0, source_actor_type,
			     label, e);
}

int directory_availability_add(struct store *s, const char *actor_type,
			       int capacity, const char *data_type,
			       struct error *e)
{
	char source[64];
	if (!actor_type[0] || capacity < 0 ||
	    (capacity > 900 && capacity != CAPACITY_PROVISIONAL))
		return err_set(e, ERR_INVALID, "unknown_capacity",
			       "an actor type and a capacity 000-900 or 902");
	int known = directory_data_type_source(s, data_type, source,
					       sizeof(source));
	if (known < 0)
		return store_fail(e, "the directory cannot be read now");
	if (known > 0)
		return err_set(e, ERR_INVALID, "unknown_data_type",
			       "the data type is not in the reference directory");
	return add_reference(s, sql_avail_add, actor_type, capacity, NULL,
			     data_type, e);
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

int directory_integrate(struct store *s, int64_t institution_id,
			const char *branch, struct directory_dossier *d,
			struct error *e)
{
	int64_t from, to;
	if (check_dossier(s, branch, d, &from, &to, e) != 0)
		return -1;
	int64_t insz = insz_number(d->insz);
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	int rc = check_overlap(w, institution_id, branch, insz, d->capacity,
			       from, to, e);
	if (rc == 0)
		rc = insert_dossier(w, institution_id, insz, d, from, to, &d->id, e);
	return store_write_end(s, rc, e);
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

int directory_import(struct store *s, struct directory_import_row *rows,
		     size_t n, struct error *e)
{
	/* In index order, every insert lands at the end of the B-tree. */
	qsort(rows, n, sizeof(*rows), cmp_row);
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct directory_import_row *r = &rows[i];
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
	return store_write_end(s, rc, e);
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

int directory_close(struct store *s, int64_t institution_id, int64_t id,
		    const char *end, struct error *e)
{
	struct directory_dossier d;
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	int found = load(w, institution_id, id, &d, e);
	int64_t from, to;
	int rc;
	if (found != 0)
		rc = found < 0 ? -1
			       : err_set(e, ERR_NOT_FOUND, "unknown_dossier",
					 "you hold no dossier with this id");
	else if (d.end[0])
		rc = err_set(e, ERR_CONFLICT, "dossier_closed",
			     "this dossier is already closed");
	else
		rc = !end[0] ? err_set(e, ERR_INVALID, "invalid_period",
				       "end is required")
			     : period(d.start, end, &from, &to, e);
	if (rc == 0) {
		struct store_stmt *st = store_prepare(w, sql_close);
		store_bind_int(st, 1, id);
		store_bind_int(st, 2, institution_id);
		store_bind_int(st, 3, to);
		rc = store_run(st, NULL, e);
	}
	return store_write_end(s, rc, e);
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
