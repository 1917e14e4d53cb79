/*
 * The registers: persons, parent links, BIS assignment and mutations with
 * their history. Every write runs on the store's single writer, so reading
 * a person and changing it (or finding a free BIS number and taking it)
 * cannot interleave with another writer.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry_internal.h"

#define PERSON_COLS                                                          \
	"insz, register, last_name, first_names, birth_date, birth_place, "  \
	"sex, nationality, street, postal_code, municipality, country, "     \
	"language, deceased_on, pension_status, pension_since, version"

static const char sql_get[] =
	"SELECT " PERSON_COLS " FROM person WHERE insz = ?1";
/* Everyone born that day (a few hundred in ten million), whose names are
 * then compared folded (person_by_birth_date, migration 18). */
static const char sql_born[] =
	"SELECT " PERSON_COLS " FROM person WHERE birth_date = ?1 ORDER BY insz";
static const char sql_insert[] =
	"INSERT INTO person (" PERSON_COLS ", updated_at) VALUES "
	"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "  \
	"?16, 1, ?17)";
/* An initial load leaves a registered person to the comparison. */
static const char sql_insert_new[] =
	"INSERT INTO person (" PERSON_COLS ", updated_at) VALUES "
	"(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "  \
	"?16, 1, ?17)"
	" ON CONFLICT (insz) DO NOTHING";
static const char sql_update[] =
	"UPDATE person SET last_name = ?2, first_names = ?3, street = ?4, "
	"postal_code = ?5, municipality = ?6, country = ?7, deceased_on = ?8, "
	"pension_status = ?9, pension_since = ?10, version = version + 1, "
	"updated_at = ?11 WHERE insz = ?1";
static const char sql_exists[] = "SELECT 1 FROM person WHERE insz = ?1";
/* The same person as a BIS request describes: names compared without
 * case, birth date and sex exactly as given (a partial date matches only
 * the same partial date). Served by person_by_name. */
static const char sql_bis_match[] =
	"SELECT insz FROM person WHERE last_name = ?1 COLLATE NOCASE "
	"AND first_names = ?2 COLLATE NOCASE "
	"AND coalesce(birth_date, '') = coalesce(?3, '') "
	"AND coalesce(sex, '') = coalesce(?4, '') ORDER BY insz LIMIT 2";
static const char sql_link[] =
	"INSERT INTO person_parent (child, parent) VALUES (?1, ?2)";
static const char sql_is_parent[] =
	"SELECT 1 FROM person_parent WHERE parent = ?1 AND child = ?2";
static const char sql_mutation[] =
	"INSERT INTO person_mutation (insz, type, ticket, effective_on, "
	"recorded_at, institution_id, before, after) "
	"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

/* ------------------------------------------------------------ validation */

static bool plain_text(const char *s, bool required)
{
	size_t n = strlen(s);
	if (n == 0)
		return !required;
	if (n > REGISTRY_NAME_MAX || !utf8_valid(s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool code2(const char *s)
{
	return !s[0] || (strlen(s) == 2 && isupper((unsigned char)s[0]) &&
			 isupper((unsigned char)s[1]));
}

/* YYYY, YYYY-MM or YYYY-MM-DD into y/m/d (0 for unknown parts). */
static bool partial_date(const char *s, int *y, int *m, int *d)
{
	char buf[DATE_LEN];
	struct date dt;
	size_t n = strlen(s);
	*y = *m = *d = 0;
	if (n == 0)
		return true;
	if (n != 4 && n != 7 && n != 10)
		return false;
	str_copy(buf, sizeof(buf), s);
	if (n < 10)
		str_copy(buf + n, sizeof(buf) - n, n == 4 ? "-01-01" : "-01");
	if (date_parse(buf, &dt) != 0)
		return false;
	*y = dt.y;
	*m = n >= 7 ? dt.m : 0;
	*d = n == 10 ? dt.d : 0;
	return true;
}

static int invalid(struct error *e, const char *field)
{
	return err_set(e, ERR_INVALID, "invalid_field", "field '%s' is invalid",
		       field);
}

/* A status the registers know, and a date only with a status: a date
 * alone would say since when of nothing. */
static int pension_valid(const struct registry_person *p, struct error *e)
{
	struct date d;
	if (p->pension_status[0] &&
	    strcmp(p->pension_status, REGISTRY_PENSION_NONE) &&
	    strcmp(p->pension_status, REGISTRY_PENSION_RETIRED))
		return invalid(e, "pension_status");
	if (p->pension_since[0] &&
	    (!p->pension_status[0] || date_parse(p->pension_since, &d) != 0))
		return invalid(e, "pension_since");
	return 0;
}

static int validate(const struct registry_person *p, struct error *e)
{
	static const char *langs[] = {"", "nl", "fr", "de", "en"};
	int y, m, d;
	struct date dd;
	bool lang_ok = false;
	for (size_t i = 0; i < KP_NELEM(langs); i++)
		lang_ok |= strcmp(p->language, langs[i]) == 0;
	if (!plain_text(p->last_name, true))
		return invalid(e, "last_name");
	if (!plain_text(p->first_names, true))
		return invalid(e, "first_names");
	if (!plain_text(p->birth_place, false))
		return invalid(e, "birth_place");
	if (!plain_text(p->street, false) || !plain_text(p->municipality, false))
		return invalid(e, "address");
	if (!plain_text(p->postal_code, false) || strlen(p->postal_code) > 10)
		return invalid(e, "postal_code");
	if (!code2(p->nationality))
		return invalid(e, "nationality");
	if (!code2(p->country))
		return invalid(e, "country");
	if (!lang_ok)
		return invalid(e, "language");
	if (p->sex[0] && strcmp(p->sex, "M") && strcmp(p->sex, "F"))
		return invalid(e, "sex");
	if (!partial_date(p->birth_date, &y, &m, &d))
		return invalid(e, "birth_date");
	if (p->deceased_on[0] && date_parse(p->deceased_on, &dd) != 0)
		return invalid(e, "deceased_on");
	return pension_valid(p, e);
}

/* The number must be valid, and agree with the sex and birth date given. */
static int check_number(const struct registry_person *p, struct insz *z,
			struct error *e)
{
	if (insz_parse(p->insz, strlen(p->insz), z) != ID_OK ||
	    strcmp(z->digits, p->insz) != 0)
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "not a valid INSZ (digits only)");
	int y, m, d;
	partial_date(p->birth_date, &y, &m, &d);
	/* Parts the number leaves unknown (0) bind nothing. */
	if ((y && z->birth_year && y != z->birth_year) ||
	    (m && z->birth_month && m != z->birth_month) ||
	    (d && z->birth_day && d != z->birth_day))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "birth_date does not match the INSZ");
	if (p->sex[0] && z->sex != SEX_UNKNOWN &&
	    (p->sex[0] == 'M') != (z->sex == SEX_MALE))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "sex does not match the INSZ");
	return 0;
}

/* --------------------------------------------------------------- reading */

static void col(struct store_stmt *st, int i, char *dst, size_t n)
{
	const char *v = store_col_text(st, i);
	str_copy(dst, n, v ? v : "");
}

/* Fill person (a struct registry_person) from a row of PERSON_COLS. */
static void read_person(struct store_stmt *st, void *person)
{
	struct registry_person *p = person;
	col(st, 0, p->insz, sizeof(p->insz));
	col(st, 1, p->register_, sizeof(p->register_));
	col(st, 2, p->last_name, sizeof(p->last_name));
	col(st, 3, p->first_names, sizeof(p->first_names));
	col(st, 4, p->birth_date, sizeof(p->birth_date));
	col(st, 5, p->birth_place, sizeof(p->birth_place));
	col(st, 6, p->sex, sizeof(p->sex));
	col(st, 7, p->nationality, sizeof(p->nationality));
	col(st, 8, p->street, sizeof(p->street));
	col(st, 9, p->postal_code, sizeof(p->postal_code));
	col(st, 10, p->municipality, sizeof(p->municipality));
	col(st, 11, p->country, sizeof(p->country));
	col(st, 12, p->language, sizeof(p->language));
	col(st, 13, p->deceased_on, sizeof(p->deceased_on));
	col(st, 14, p->pension_status, sizeof(p->pension_status));
	col(st, 15, p->pension_since, sizeof(p->pension_since));
	p->version = store_col_int(st, 16);
}

int registry_read(struct store_conn *c, const char *insz,
		struct registry_person *out, struct error *e)
{
	struct store_stmt *st = store_prepare(c, sql_get);
	store_bind_text(st, 1, insz);
	return store_one(st, read_person, out, e);
}

int registry_get(struct store *s, const char *insz, struct registry_person *out,
		 struct error *e)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return store_fail(e, "the register cannot be read now");
	return registry_read(r, insz, out, e);
}

/* The mutations effective after a date, newest first: undone in that
 * order, each restores the values it replaced. */
static const char sql_after[] =
	"SELECT type, before FROM person_mutation WHERE insz = ?1 AND "
	"effective_on > ?2 ORDER BY id DESC";

/* Put back into p the fields a mutation's before object names (null:
 * the field was empty). */
static void undo(struct registry_person *p, json_t *before)
{
	static const struct {
		const char *name;
		size_t off, size;
	} fields[] = {
#define F(x) {#x, offsetof(struct registry_person, x), \
	      sizeof(((struct registry_person *)0)->x)}
		F(street), F(postal_code), F(municipality), F(country),
		F(last_name), F(first_names), F(deceased_on),
		F(pension_status), F(pension_since),
#undef F
	};
	for (size_t i = 0; i < KP_NELEM(fields); i++) {
		json_t *v = json_object_get(before, fields[i].name);
		if (v)
			str_copy((char *)p + fields[i].off, fields[i].size,
				 json_is_string(v) ? json_string_value(v) : "");
	}
}

int registry_get_as_of(struct store *s, const char *insz, const char *date,
		       struct registry_person *out, struct error *e)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return store_fail(e, "the register cannot be read now");
	int rc = registry_read(r, insz, out, e);
	if (rc != 0)
		return rc;
	struct store_stmt *st = store_prepare(r, sql_after);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, date);
	enum store_rc step = STORE_DONE;
	while (rc == 0 && (step = store_step(st)) == STORE_ROW) {
		/* Born after date: the registers did not know the person. */
		if (strcmp(store_col_text(st, 0), "birth") == 0) {
			rc = 1;
			break;
		}
		const char *b = store_col_text(st, 1);
		json_t *before = b ? json_loads(b, 0, NULL) : NULL;
		undo(out, before);
		json_decref(before);
	}
	if (rc == 0 && step != STORE_DONE)
		rc = store_fail(e, "the register's history cannot be read now");
	store_done(st);
	return rc;
}

/* True when the folded query q names one of the folded given names in
 * names, or all of them. */
static bool first_name_matches(const char *names, const char *q)
{
	size_t n = strlen(q);
	if (n == 0)
		return false;
	if (strcmp(names, q) == 0)
		return true;
	for (const char *p = names; (p = strstr(p, q)) != NULL; p++) {
		bool starts = p == names || p[-1] == ' ' || p[-1] == '-';
		bool ends = p[n] == '\0' || p[n] == ' ' || p[n] == '-';
		if (starts && ends)
			return true;
	}
	return false;
}

/* Whether p is the person the folded names describe. */
static bool names_match(const struct registry_person *p, const char *last,
			const char *first)
{
	char l[4 * REGISTRY_NAME_MAX + 1], f[4 * REGISTRY_NAME_MAX + 1];
	return text_fold(p->last_name, l, sizeof(l)) &&
	       text_fold(p->first_names, f, sizeof(f)) && strcmp(l, last) == 0 &&
	       first_name_matches(f, first);
}

int registry_find(struct store *s, const char *last_name,
		  const char *first_names, const char *birth_date,
		  struct registry_person **out, int *n, int max,
		  struct error *e)
{
	char last[4 * REGISTRY_NAME_MAX + 1], first[4 * REGISTRY_NAME_MAX + 1];
	*out = xcalloc((size_t)max + 1, sizeof(**out));
	*n = 0;
	if (!text_fold(last_name, last, sizeof(last)) ||
	    !text_fold(first_names, first, sizeof(first)))
		return 0; /* no register name folds to that */
	struct store_stmt *st = store_prepare(store_reader(s), sql_born);
	store_bind_text(st, 1, birth_date);
	enum store_rc rc;
	while (*n < max && (rc = store_step(st)) == STORE_ROW) {
		read_person(st, &(*out)[*n]);
		if (names_match(&(*out)[*n], last, first))
			(*n)++;
	}
	store_done(st);
	if (rc != STORE_ROW && rc != STORE_DONE) {
		free(*out);
		*out = NULL;
		*n = 0;
		return store_fail(e, "the register cannot be read now");
	}
	return 0;
}

static const char sql_children[] =
	"SELECT child FROM person_parent WHERE parent = ?1 ORDER BY child "
	"LIMIT 64";

static void read_child(struct store_stmt *st, void *out)
{
	str_copy(out, INSZ_BUF, store_col_text(st, 0));
}

int registry_children(struct store *s, const char *parent,
		      char (**out)[INSZ_BUF], int *n, struct error *e)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return store_fail(e, "the registers cannot be read now");
	struct store_stmt *st = store_prepare(r, sql_children);
	store_bind_text(st, 1, parent);
	*out = store_collect(st, INSZ_BUF, read_child, n);
	return 0;
}

bool registry_is_parent(struct store *s, const char *parent, const char *child)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return false;
	struct store_stmt *st = store_prepare(r, sql_is_parent);
	store_bind_text(st, 1, parent);
	store_bind_text(st, 2, child);
	return store_one(st, NULL, NULL, NULL) == 0;
}

/* --------------------------------------------------------------- writing */

static void bind_or_null(struct store_stmt *st, int i, const char *v)
{
	store_bind_text(st, i, v[0] ? v : NULL);
}

static const struct store_refusal person_exists = {
	ERR_CONFLICT, "person_exists", "this INSZ is already registered"};
static const struct store_refusal link_invalid = {
	ERR_CONFLICT, "link_invalid", "unknown person, or already linked"};

static void bind_person(struct store_stmt *st, const struct registry_person *p,
			const char *reg)
{
	store_bind_text(st, 1, p->insz);
	store_bind_text(st, 2, reg);
	store_bind_text(st, 3, p->last_name);
	store_bind_text(st, 4, p->first_names);
	bind_or_null(st, 5, p->birth_date);
	bind_or_null(st, 6, p->birth_place);
	bind_or_null(st, 7, p->sex);
	bind_or_null(st, 8, p->nationality);
	bind_or_null(st, 9, p->street);
	bind_or_null(st, 10, p->postal_code);
	bind_or_null(st, 11, p->municipality);
	bind_or_null(st, 12, p->country);
	bind_or_null(st, 13, p->language);
	bind_or_null(st, 14, p->deceased_on);
	bind_or_null(st, 15, p->pension_status);
	bind_or_null(st, 16, p->pension_since);
	store_bind_int(st, 17, time_now());
}

/* Insert on the held writer. Returns 0 or -1 with e. */
static int insert(struct store_conn *w, const struct registry_person *p,
		  const char *reg, struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_insert);
	bind_person(st, p, reg);
	return store_run(st, &person_exists, e);
}

int registry_insert_new(struct store_conn *w, const struct registry_person *p,
			struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_insert_new);
	bind_person(st, p, registry_register_of(p->insz));
	if (store_run(st, NULL, e) != 0)
		return -1;
	return store_changes(w) == 1 ? 0 : 1;
}

/* The event of a change to the registers, about subject (left out when
 * it is no valid INSZ). Strings are borrowed. */
struct audit_event registry_event(const struct audit_actor *by,
				  const char *action, const char *subject)
{
	struct audit_event ev = audit_event_by(by, action);
	ev.subject = audit_subject(subject);
	ev.data_type = "identification";
	ev.purpose = "register_maintenance";
	return ev;
}

const char *registry_register_of(const char *insz)
{
	struct insz z;
	return insz_parse(insz, strlen(insz), &z) == ID_OK && z.kind == INSZ_BIS
		       ? "BIS" : "RR";
}

int registry_person_check(const struct registry_person *p, struct error *e)
{
	struct insz z;
	return validate(p, e) != 0 || check_number(p, &z, e) != 0 ? -1 : 0;
}

/* Why p cannot be registered as it stands (into bad), or NULL. */
static const struct error *person_refusal(const struct registry_person *p,
					  struct error *bad)
{
	return registry_person_check(p, bad) != 0 ? bad : NULL;
}

/* Persons to insert: one (registry_add) or a load. */
struct persons {
	const struct registry_person *p;
	size_t n;
};

static int persons_change(struct store_conn *w, void *ctx,
			  struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct persons *c = ctx;
	for (size_t i = 0; i < c->n; i++)
		if (insert(w, &c->p[i], registry_register_of(c->p[i].insz), e) != 0)
			return -1;
	return 0;
}

int registry_add(struct audit *log, const struct audit_actor *by,
		 const struct registry_person *p, struct error *e)
{
	struct persons c = {p, 1};
	struct error bad;
	struct audit_event ev = registry_event(by, "person_add", p->insz);
	return audit_change(log, &ev, persons_change, &c,
			    person_refusal(p, &bad), e);
}

int registry_import(struct audit *log, const struct audit_actor *by,
		    const struct registry_person *p, size_t n, struct error *e)
{
	struct persons c = {p, n};
	struct error bad;
	const struct error *refusal = NULL;
	for (size_t i = 0; i < n && !refusal; i++)
		refusal = person_refusal(&p[i], &bad);
	/* One event describes the load: an event per person would make a
	 * load of millions (`kruispunt gen`) as slow as the log. */
	char count[32];
	snprintf(count, sizeof(count), "%zu persons", n);
	struct audit_event ev = registry_event(by, "registry_import", NULL);
	ev.purpose = count;
	return audit_change(log, &ev, persons_change, &c, refusal, e);
}

static const char sql_births[] =
	"SELECT c.birth_date, p.birth_date FROM person c, person p "
	"WHERE c.insz = ?1 AND p.insz = ?2";
/* Whether ?2 is among the ancestors of ?1 (UNION stops on a repeat). */
static const char sql_ancestor[] =
	"WITH RECURSIVE up(insz) AS ("
	" SELECT parent FROM person_parent WHERE child = ?1"
	" UNION SELECT pp.parent FROM person_parent pp JOIN up"
	" ON pp.child = up.insz) "
	"SELECT 1 FROM up WHERE insz = ?2 LIMIT 1";

struct births {
	char child[DATE_LEN], parent[DATE_LEN];
};

static void read_births(struct store_stmt *st, void *out)
{
	struct births *b = out;
	col(st, 0, b->child, sizeof(b->child));
	col(st, 1, b->parent, sizeof(b->parent));
}

/* The parent born before the child, as far as both dates tell: they are
 * compared at the precision both have (YYYY, YYYY-MM or YYYY-MM-DD), and
 * an unknown date tells nothing. */
static bool born_before(const char *parent, const char *child)
{
	size_t n = strlen(parent) < strlen(child) ? strlen(parent)
						  : strlen(child);
	int c = strncmp(parent, child, n);
	return c < 0 || (c == 0 && n < DATE_LEN - 1);
}

/* A link that cannot be true is refused, whoever asks: not the person
 * themselves, no cycle (the child among the parent's ancestors), and the
 * parent born first. Unknown persons are left to the insert's refusal. */
static int link_plausible(struct store_conn *w, const char *child,
			  const char *parent, struct error *e)
{
	if (!strcmp(child, parent))
		return err_set(e, ERR_CONFLICT, "link_implausible",
			       "a person cannot be their own parent");
	struct births b;
	struct store_stmt *st = store_prepare(w, sql_births);
	store_bind_text(st, 1, child);
	store_bind_text(st, 2, parent);
	int rc = store_one(st, read_births, &b, e);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (!born_before(b.parent, b.child))
		return err_set(e, ERR_CONFLICT, "link_implausible",
			       "the parent is not born before the child");
	st = store_prepare(w, sql_ancestor);
	store_bind_text(st, 1, parent);
	store_bind_text(st, 2, child);
	rc = store_one(st, NULL, NULL, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_CONFLICT, "link_implausible",
			       "the child is an ancestor of the parent");
	return 0;
}

static int link_on(struct store_conn *w, const char *child,
		   const char *parent, struct error *e)
{
	if (link_plausible(w, child, parent, e) != 0)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_link);
	store_bind_text(st, 1, child);
	store_bind_text(st, 2, parent);
	return store_run(st, &link_invalid, e);
}

struct link {
	const char *child, *parent;
};

static int link_change(struct store_conn *w, void *ctx,
		       struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct link *c = ctx;
	return link_on(w, c->child, c->parent, e);
}

int registry_link_parent(struct audit *log, const struct audit_actor *by,
			 const char *child, const char *parent,
			 struct error *e)
{
	struct link c = {child, parent};
	/* The link is part of both persons' data: each finds it in the
	 * log of who touched their data. */
	struct audit_event evs[2] = {registry_event(by, "parent_link", child),
				     registry_event(by, "parent_link", parent)};
	struct error bad;
	if (!insz_valid(child) || !insz_valid(parent) || !strcmp(child, parent))
		return audit_change(log, &evs[0], link_change, &c,
				    (err_set(&bad, ERR_INVALID, "invalid_insz",
					     "two different valid INSZ are "
					     "needed"), &bad), e);
	return audit_commit(log, evs, 2, link_change, &c, e);
}

static bool taken(struct store_conn *w, const char *insz)
{
	struct store_stmt *st = store_prepare(w, sql_exists);
	store_bind_text(st, 1, insz);
	return store_one(st, NULL, NULL, NULL) == 0;
}

/* A BIS request and what it found. */
struct bis {
	struct registry_person *p;
	bool existing; /* p->insz is a registered person's own number */
};

/* The registered persons (either register) with p's names, birth date
 * and sex as given, at most two: 0 none, 1 (its number in insz), 2
 * several, or -1 with e. */
static int bis_matches(struct store_conn *w, const struct registry_person *p,
		       char insz[INSZ_BUF], struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_bis_match);
	store_bind_text(st, 1, p->last_name);
	store_bind_text(st, 2, p->first_names);
	store_bind_text(st, 3, p->birth_date);
	store_bind_text(st, 4, p->sex);
	int found = 0;
	enum store_rc rc;
	while ((rc = store_step(st)) == STORE_ROW && found < 2)
		if (found++ == 0)
			str_copy(insz, INSZ_BUF, store_col_text(st, 0));
	store_done(st);
	return rc == STORE_ROW || rc == STORE_DONE
		       ? found
		       : store_fail(e, "looking for the person");
}

/* Take the first free BIS number for p's birth date and sex into p->insz:
 * the number is known only here, so the event's subject is set here. */
static int bis_new(struct store_conn *w, struct registry_person *p,
		   struct audit_event *ev, struct error *e)
{
	int y, m, d;
	partial_date(p->birth_date, &y, &m, &d);
	/* A wholly unknown birth date is written as 00 00 (month +20/+40). */
	if (y == 0)
		y = 1900;
	bool sex_known = p->sex[0] != '\0';
	int first = !sex_known || p->sex[0] == 'M' ? 1 : 2;
	int step = sex_known ? 2 : 1;
	int rc = 1; /* until a free number is found */
	for (int seq = first; seq <= 998 && rc == 1; seq += step) {
		char num[INSZ_BUF];
		if (insz_compose(INSZ_BIS, y, m, d, sex_known, seq, num) != ID_OK)
			return invalid(e, "birth_date");
		if (taken(w, num))
			continue;
		str_copy(p->insz, sizeof(p->insz), num);
		rc = insert(w, p, "BIS", e);
	}
	if (rc == 1)
		return err_set(e, ERR_CONFLICT, "bis_exhausted",
			       "no BIS number is left for this birth date and "
			       "sex");
	if (rc == 0)
		ev->subject = p->insz;
	return rc;
}

/* As the National Register does, a person is never numbered twice: a
 * request that matches a registered person (same names, birth date and
 * sex as given) gets that person's number, recorded as a "bis_match"
 * about them; one that matches several is refused rather than guessed. */
static int bis_change(struct store_conn *w, void *ctx,
		      struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct bis *b = ctx;
	b->existing = false;
	int found = bis_matches(w, b->p, b->p->insz, e);
	if (found < 0)
		return -1;
	if (found > 1)
		return err_set(e, ERR_CONFLICT, "person_ambiguous",
			       "several registered persons have these names, "
			       "birth date and sex: use the number you hold "
			       "for this person");
	if (found == 1) {
		b->existing = true;
		evs[0].action = "bis_match";
		evs[0].subject = b->p->insz;
		return 0;
	}
	return bis_new(w, b->p, &evs[0], e);
}

int registry_assign_bis(struct audit *log, const struct audit_actor *by,
			struct registry_person *p, bool *existing,
			struct error *e)
{
	struct error bad;
	str_copy(p->insz, sizeof(p->insz), "");
	const struct error *refusal = validate(p, &bad) != 0 ? &bad : NULL;
	struct audit_event ev = registry_event(by, "bis_assignment", NULL);
	struct bis b = {p, false};
	int rc = audit_change(log, &ev, bis_change, &b, refusal, e);
	if (rc != 0)
		str_copy(p->insz, sizeof(p->insz), "");
	if (existing)
		*existing = rc == 0 && b.existing;
	return rc;
}

/* ------------------------------------------------------------- mutations */

static const struct {
	const char *name;
	enum registry_mutation_type type;
} mutation_types[] = {
	{"address", MUTATION_ADDRESS},
	{"death", MUTATION_DEATH},
	{"birth", MUTATION_BIRTH},
	{"name", MUTATION_NAME},
	{"pension", MUTATION_PENSION},
};

int registry_mutation_type_parse(const char *s, enum registry_mutation_type *out)
{
	for (size_t i = 0; i < KP_NELEM(mutation_types); i++) {
		if (strcmp(s, mutation_types[i].name) == 0) {
			*out = mutation_types[i].type;
			return 0;
		}
	}
	return -1;
}

const char *registry_mutation_type_name(enum registry_mutation_type t)
{
	for (size_t i = 0; i < KP_NELEM(mutation_types); i++)
		if (mutation_types[i].type == t)
			return mutation_types[i].name;
	return "unknown";
}

const char *registry_mutation_data_type(const char *type)
{
	return strcmp(type, "pension") == 0 ? "pension_status"
					    : "identification";
}

const char *registry_authority(const char *register_)
{
	return strcmp(register_, "RR") == 0 ? "national_register"
					    : "crossroads_bank";
}

static json_t *address_json(const struct registry_person *p)
{
	return json_pack("{s:s,s:s,s:s,s:s}", "street", p->street,
			 "postal_code", p->postal_code, "municipality",
			 p->municipality, "country", p->country);
}

static json_t *name_json(const struct registry_person *p)
{
	return json_pack("{s:s,s:s}", "last_name", p->last_name, "first_names",
			 p->first_names);
}

/* A value the register may not know is null, so that undoing the
 * mutation (registry_get_as_of) empties it again. */
static json_t *known(const char *v)
{
	return v[0] ? json_string(v) : json_null();
}

static json_t *pension_json(const struct registry_person *p)
{
	return json_pack("{s:o,s:o}", "pension_status",
			 known(p->pension_status), "pension_since",
			 known(p->pension_since));
}

/* The status from effective_on: the date is the mutation's. */
static int apply_pension(const struct registry_person *in,
			 const char *effective_on, struct registry_person *next)
{
	if (!in->pension_status[0])
		return -1;
	str_copy(next->pension_status, sizeof(next->pension_status),
		 in->pension_status);
	str_copy(next->pension_since, sizeof(next->pension_since),
		 effective_on);
	return 0;
}

/* The birth of a new person, with its parent links. */
static int apply_birth(struct store_conn *w, const char *insz,
		       const struct registry_mutation *m, json_t **after,
		       struct error *e)
{
	struct registry_person p = m->person;
	struct insz z;
	str_copy(p.insz, sizeof(p.insz), insz);
	/* A pension status comes with a pension mutation, never at birth. */
	p.pension_status[0] = p.pension_since[0] = '\0';
	if (!p.birth_date[0])
		str_copy(p.birth_date, sizeof(p.birth_date), m->effective_on);
	if (strcmp(p.birth_date, m->effective_on) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "a birth's effective_on is the birth date");
	if (validate(&p, e) != 0 || check_number(&p, &z, e) != 0)
		return -1;
	if (z.kind != INSZ_RR)
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "a birth gets a national register number");
	if (insert(w, &p, "RR", e) != 0)
		return -1;
	for (int i = 0; i < m->nparents; i++)
		if (link_on(w, insz, m->parents[i], e) != 0)
			return -1;
	*after = json_pack("{s:s,s:s,s:s,s:s}", "last_name", p.last_name,
			   "first_names", p.first_names, "birth_date",
			   p.birth_date, "sex", p.sex);
	return 0;
}

/* Address, death or name of a known, living person. */
static int apply_change(struct registry_person *cur,
			const struct registry_mutation *m, json_t **before,
			json_t **after, struct error *e)
{
	const struct registry_person *in = &m->person;
	struct registry_person next = *cur;
	switch (m->type) {
	case MUTATION_ADDRESS:
		if (!in->street[0] || !in->postal_code[0] || !in->municipality[0])
			return invalid(e, "address");
		str_copy(next.street, sizeof(next.street), in->street);
		str_copy(next.postal_code, sizeof(next.postal_code), in->postal_code);
		str_copy(next.municipality, sizeof(next.municipality), in->municipality);
		str_copy(next.country, sizeof(next.country),
			 in->country[0] ? in->country : "BE");
		*before = address_json(cur);
		*after = address_json(&next);
		break;
	case MUTATION_DEATH:
		if (cur->birth_date[0] && strlen(cur->birth_date) == 10 &&
		    strcmp(m->effective_on, cur->birth_date) < 0)
			return invalid(e, "effective_on");
		str_copy(next.deceased_on, sizeof(next.deceased_on), m->effective_on);
		*before = json_pack("{s:n}", "deceased_on");
		*after = json_pack("{s:s}", "deceased_on", next.deceased_on);
		break;
	case MUTATION_NAME:
		if (!in->last_name[0] && !in->first_names[0])
			return invalid(e, "last_name");
		if (in->last_name[0])
			str_copy(next.last_name, sizeof(next.last_name), in->last_name);
		if (in->first_names[0])
			str_copy(next.first_names, sizeof(next.first_names),
				 in->first_names);
		*before = name_json(cur);
		*after = name_json(&next);
		break;
	case MUTATION_PENSION:
		if (apply_pension(in, m->effective_on, &next) != 0)
			return invalid(e, "pension_status");
		*before = pension_json(cur);
		*after = pension_json(&next);
		break;
	case MUTATION_BIRTH:
		return err_set(e, ERR_CONFLICT, "person_exists",
			       "this INSZ is already registered");
	}
	if (validate(&next, e) != 0)
		return -1;
	*cur = next;
	return 0;
}

static int store_change(struct store_conn *w, const struct registry_person *p,
			struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_update);
	store_bind_text(st, 1, p->insz);
	store_bind_text(st, 2, p->last_name);
	store_bind_text(st, 3, p->first_names);
	bind_or_null(st, 4, p->street);
	bind_or_null(st, 5, p->postal_code);
	bind_or_null(st, 6, p->municipality);
	bind_or_null(st, 7, p->country);
	bind_or_null(st, 8, p->deceased_on);
	bind_or_null(st, 9, p->pension_status);
	bind_or_null(st, 10, p->pension_since);
	store_bind_int(st, 11, time_now());
	return store_run(st, NULL, e);
}

static int record_mutation(struct store_conn *w, const char *insz,
			   const struct registry_mutation *m,
			   int64_t institution_id, json_t *before,
			   json_t *after, char ticket[UUID_LEN],
			   struct error *e)
{
	char *b = before ? jsonx_dump(before) : NULL;
	char *a = after ? jsonx_dump(after) : NULL;
	uuid7_new(ticket);
	struct store_stmt *st = store_prepare(w, sql_mutation);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, registry_mutation_type_name(m->type));
	store_bind_text(st, 3, ticket);
	store_bind_text(st, 4, m->effective_on);
	store_bind_int(st, 5, time_now());
	store_bind_int(st, 6, institution_id);
	store_bind_text(st, 7, b);
	store_bind_text(st, 8, a);
	/* The binds copied the texts. */
	free(b);
	free(a);
	return store_run(st, NULL, e);
}

/* Checks that need no database: number, date, authority. */
static int precheck(const char *insz, const struct registry_mutation *m,
		    const char *actor_type, struct error *e)
{
	struct insz z;
	struct date eff;
	if (insz_parse(insz, strlen(insz), &z) != ID_OK ||
	    strcmp(z.digits, insz) != 0)
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "not a valid INSZ (digits only)");
	if (date_parse(m->effective_on, &eff) != 0)
		return invalid(e, "effective_on");
	/* A move may be announced; a birth, death, name or pension is
	 * recorded once it is a fact. */
	if (m->type != MUTATION_ADDRESS && date_cmp(eff, date_today()) > 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "a %s cannot lie in the future",
			       registry_mutation_type_name(m->type));
	const char *reg = z.kind == INSZ_RR ? "RR" : "BIS";
	if (!actor_type || strcmp(actor_type, registry_authority(reg)) != 0)
		return err_set(e, ERR_FORBIDDEN, "not_register_authority",
			       "only the %s register's authority may change it",
			       reg);
	return 0;
}

struct mutate {
	const char *insz;
	const struct registry_mutation *m;
	int64_t institution_id;
	char *ticket; /* UUID_LEN */
};

/* The rules that need the register (the person known, alive; a newborn's
 * number free), then the change and its history row, whose ticket the
 * event carries. */
static int mutate_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct mutate *c = ctx;
	const struct registry_mutation *m = c->m;
	json_t *before = NULL, *after = NULL;
	struct registry_person cur;
	int found = registry_read(w, c->insz, &cur, e);
	int rc;
	if (found < 0)
		rc = -1;
	else if (m->type == MUTATION_BIRTH && found == 1)
		rc = apply_birth(w, c->insz, m, &after, e);
	else if (found == 1)
		rc = err_set(e, ERR_NOT_FOUND, "unknown_person",
			     "no person with this INSZ");
	else if (cur.deceased_on[0])
		rc = err_set(e, ERR_CONFLICT, "person_deceased",
			     "the person is registered as deceased");
	else if ((rc = apply_change(&cur, m, &before, &after, e)) == 0)
		rc = store_change(w, &cur, e);
	if (rc == 0)
		rc = record_mutation(w, c->insz, m, c->institution_id, before,
				     after, c->ticket, e);
	if (rc == 0)
		evs[0].ticket = c->ticket;
	json_decref(before);
	json_decref(after);
	return rc;
}

int registry_mutate(struct audit *log, const struct audit_actor *by,
		    const char *insz, const struct registry_mutation *m,
		    const char *actor_type, int64_t institution_id,
		    char ticket[UUID_LEN], struct error *e)
{
	struct mutate c = {insz, m, institution_id, ticket};
	struct error bad;
	const struct error *refusal =
		precheck(insz, m, actor_type, &bad) != 0 ? &bad : NULL;
	struct audit_event ev = registry_event(by, "registry_mutation", insz);
	ev.data_type = registry_mutation_data_type(
		registry_mutation_type_name(m->type));
	return audit_change(log, &ev, mutate_change, &c, refusal, e);
}
