/*
 * An employer's affiliation with a social secretariat (org.h). In Belgium
 * an employer may entrust its social-security formalities, the immediate
 * declaration of employment among them, to one recognised social
 * secretariat at a time; the employer's access manager registers and ends
 * that affiliation, and while it is active the secretariat's declarants
 * declare for the employer (src/employ asks org_secretariat_acts_for).
 * An affiliation is never deleted: ending it by hand sets revoked_at, so
 * who could declare for whom, when, stays readable.
 */
#include <stdio.h>
#include <string.h>

#include "org/org_internal.h"

/* An open end compares after every date. */
#define OPEN_END "9999-12-31"

#define COLUMNS                                                             \
	"id, employer, secretariat, valid_from, coalesce(valid_until, ''),"  \
	" created_by, created_at, coalesce(revoked_at, 0),"                 \
	" coalesce(revoked_by, '')"

static const char sql_overlap[] =
	"SELECT 1 FROM secretariat_affiliation WHERE employer = ?1 AND "
	"revoked_at IS NULL AND valid_from <= ?3 AND "
	"coalesce(valid_until, '" OPEN_END "') >= ?2 LIMIT 1";
static const char sql_add[] =
	"INSERT INTO secretariat_affiliation (employer, secretariat, "
	"valid_from, valid_until, created_by, created_at) VALUES (?1, ?2, ?3,"
	" nullif(?4, ''), ?5, ?6) RETURNING id";
static const char sql_get[] =
	"SELECT " COLUMNS " FROM secretariat_affiliation WHERE id = ?1 AND "
	"employer = ?2";
static const char sql_end[] =
	"UPDATE secretariat_affiliation SET revoked_at = ?3, revoked_by = ?4 "
	"WHERE id = ?1 AND employer = ?2 AND revoked_at IS NULL";
static const char sql_list[] =
	"SELECT " COLUMNS " FROM secretariat_affiliation WHERE employer = ?1 "
	"ORDER BY id DESC LIMIT 1000";
static const char sql_acts_for[] =
	"SELECT 1 FROM secretariat_affiliation a JOIN organisation_category c"
	" ON c.kbo = a.secretariat AND c.category = 'social_secretariat' "
	"WHERE a.secretariat = ?1 AND a.employer = ?2 AND a.revoked_at IS "
	"NULL AND a.valid_from <= ?3 AND coalesce(a.valid_until, '" OPEN_END
	"') >= ?3 LIMIT 1";

static void read_affiliation(struct store_stmt *st, void *out)
{
	struct org_affiliation *a = out;
	memset(a, 0, sizeof(*a));
	a->id = store_col_int(st, 0);
	str_copy(a->employer, sizeof(a->employer), store_col_text(st, 1));
	str_copy(a->secretariat, sizeof(a->secretariat), store_col_text(st, 2));
	str_copy(a->valid_from, sizeof(a->valid_from), store_col_text(st, 3));
	str_copy(a->valid_until, sizeof(a->valid_until), store_col_text(st, 4));
	str_copy(a->created_by, sizeof(a->created_by), store_col_text(st, 5));
	a->created_at = store_col_int(st, 6);
	a->revoked_at = store_col_int(st, 7);
	str_copy(a->revoked_by, sizeof(a->revoked_by), store_col_text(st, 8));
}

static bool kbo_digits(const char *kbo)
{
	return strlen(kbo) == 10 && kbo_valid(kbo);
}

/* Why a cannot be registered as it stands: NULL, or bad filled. The
 * period is checked first, as it needs no store. */
static const struct error *add_refusal(struct store *s,
				       const struct org_affiliation *a,
				       struct error *bad)
{
	struct date from, until;
	if (!kbo_digits(a->employer) || !kbo_digits(a->secretariat))
		err_set(bad, ERR_INVALID, "invalid_kbo",
			"not a valid enterprise number (digits only)");
	else if (date_parse(a->valid_from, &from) != 0 ||
		 date_cmp(from, date_today()) < 0 ||
		 (a->valid_until[0] && (date_parse(a->valid_until, &until) != 0 ||
					date_cmp(until, from) < 0)))
		err_set(bad, ERR_INVALID, "invalid_period",
			"valid_from: from today on; valid_until: not before "
			"valid_from, or absent (open-ended)");
	else if (strcmp(a->employer, a->secretariat) == 0)
		err_set(bad, ERR_INVALID, "invalid_field",
			"kbo: an organisation is not its own social "
			"secretariat");
	else if (!org_has_category(s, a->secretariat, "social_secretariat"))
		err_set(bad, ERR_INVALID, "not_a_social_secretariat",
			"kbo: no registered organisation with the category "
			"social_secretariat");
	else
		return NULL;
	return bad;
}

static const struct store_refusal org_unknown = {
	ERR_NOT_FOUND, "org_unknown", "no such organisation"};

static int add_change(struct store_conn *w, void *ctx,
		      struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct org_affiliation *a = ctx;
	struct store_stmt *st = store_prepare(w, sql_overlap);
	store_bind_text(st, 1, a->employer);
	store_bind_text(st, 2, a->valid_from);
	store_bind_text(st, 3, a->valid_until[0] ? a->valid_until : OPEN_END);
	int rc = store_one(st, NULL, NULL, e);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return err_set(e, ERR_CONFLICT, "already_affiliated",
			       "the employer has an affiliation in this "
			       "period; end it first");
	a->created_at = time_now();
	st = store_prepare(w, sql_add);
	store_bind_text(st, 1, a->employer);
	store_bind_text(st, 2, a->secretariat);
	store_bind_text(st, 3, a->valid_from);
	store_bind_text(st, 4, a->valid_until);
	store_bind_text(st, 5, a->created_by);
	store_bind_int(st, 6, a->created_at);
	return store_insert(st, &a->id, &org_unknown, e) == 0 ? 0 : -1;
}

int org_affiliation_add(struct audit *log, const struct audit_actor *by,
			struct org_affiliation *a, struct error *e)
{
	if (!a->valid_from[0])
		date_format(date_today(), a->valid_from);
	org_by_whom(by, a->created_by);
	struct error bad;
	const struct error *refusal = add_refusal(audit_store(log), a, &bad);
	struct audit_event ev = org_event(
		by, "social_secretariat_affiliate", a->employer,
		"social_secretariat",
		kbo_digits(a->secretariat) ? a->secretariat : NULL);
	return audit_change(log, &ev, add_change, a, refusal, e);
}

struct end {
	const char *employer;
	int64_t id;
	char by[16];
	struct org_affiliation a;
};

static int end_change(struct store_conn *w, void *ctx,
		      struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct end *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_get);
	store_bind_int(st, 1, c->id);
	store_bind_text(st, 2, c->employer);
	int rc = store_one(st, read_affiliation, &c->a, e);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_affiliation",
			       "this employer has no such affiliation");
	evs[0].purpose = c->a.secretariat;
	if (c->a.revoked_at ||
	    strcmp(org_affiliation_status(&c->a, date_to_days(date_today())),
		   "ended") == 0)
		return err_set(e, ERR_CONFLICT, "already_ended",
			       "this affiliation has ended already");
	c->a.revoked_at = time_now();
	str_copy(c->a.revoked_by, sizeof(c->a.revoked_by), c->by);
	st = store_prepare(w, sql_end);
	store_bind_int(st, 1, c->id);
	store_bind_text(st, 2, c->employer);
	store_bind_int(st, 3, c->a.revoked_at);
	store_bind_text(st, 4, c->by);
	return store_run(st, NULL, e);
}

int org_affiliation_end(struct audit *log, const struct audit_actor *by,
			const char *employer, int64_t id,
			struct org_affiliation *out, struct error *e)
{
	struct end c = {employer, id, "", {0}};
	org_by_whom(by, c.by);
	struct audit_event ev = org_event(by, "social_secretariat_end",
					  employer, "social_secretariat", NULL);
	int rc = audit_change(log, &ev, end_change, &c, NULL, e);
	if (rc == 0 && out)
		*out = c.a;
	return rc;
}

int org_affiliations(struct store *s, const char *employer,
		     struct org_affiliation **out, int *n, struct error *e)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return store_fail(e, "cannot read affiliations now");
	struct store_stmt *st = store_prepare(r, sql_list);
	store_bind_text(st, 1, employer);
	*out = store_collect(st, sizeof(**out), read_affiliation, n);
	return 0;
}

const char *org_affiliation_status(const struct org_affiliation *a,
				   int64_t day)
{
	char today[DATE_LEN];
	date_format(date_from_days(day), today);
	if (a->revoked_at)
		return "revoked";
	if (strcmp(today, a->valid_from) < 0)
		return "future";
	if (a->valid_until[0] && strcmp(today, a->valid_until) > 0)
		return "ended";
	return "active";
}

bool org_secretariat_acts_for(struct store *s, const char *secretariat,
			      const char *employer, int64_t day)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return false;
	char today[DATE_LEN];
	date_format(date_from_days(day), today);
	struct store_stmt *st = store_prepare(r, sql_acts_for);
	store_bind_text(st, 1, secretariat);
	store_bind_text(st, 2, employer);
	store_bind_text(st, 3, today);
	return store_one(st, NULL, NULL, NULL) == 0;
}
