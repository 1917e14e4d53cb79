/*
 * Declarations of employment (employ.h): who may declare, what a
 * declaration must hold, and corrections and cancellations as new rows.
 */
#include <stdlib.h>
#include <string.h>

#include "employ/employ.h"
#include "org/org.h"
#include "registry/registry.h"

static const char *const kinds[] = {NULL, "student", "flexi", "ordinary"};

#define COLUMNS                                                             \
	"id, employer, worker, kind, start, coalesce(\"end\", ''),"             \
	" coalesce(hours, 0), coalesce(fraction, 0), coalesce(replaces, 0),"\
	" cancelled, declared_by, declared_at, coalesce(declared_via, '')"

static const char sql_get[] =
	"SELECT " COLUMNS " FROM employ_declaration WHERE id = ?1";
/* The latest of each chain: no row replaces it. */
static const char sql_in_force[] =
	"SELECT " COLUMNS " FROM employ_declaration d WHERE worker = ?1 AND "
	"cancelled = 0 AND NOT EXISTS (SELECT 1 FROM employ_declaration r "
	"WHERE r.replaces = d.id) ORDER BY start, id";
static const char sql_insert[] =
	"INSERT INTO employ_declaration (employer, worker, kind, start, \"end\", "
	"hours, fraction, replaces, cancelled, declared_by, declared_at, "
	"declared_via) VALUES (?1, ?2, ?3, ?4, nullif(?5, ''), nullif(?6, 0),"
	" nullif(?7, 0), nullif(?8, 0), ?9, ?10, ?11, nullif(?12, '')) "
	"RETURNING id";

enum employ_kind employ_kind_parse(const char *s)
{
	for (size_t i = 1; s && i < KP_NELEM(kinds); i++)
		if (strcmp(s, kinds[i]) == 0)
			return (enum employ_kind)i;
	return 0;
}

const char *employ_kind_name(enum employ_kind k)
{
	return k > 0 && (size_t)k < KP_NELEM(kinds) ? kinds[k] : "";
}

static void read_declaration(struct store_stmt *st, void *out)
{
	struct employ_declaration *d = out;
	memset(d, 0, sizeof(*d));
	d->id = store_col_int(st, 0);
	str_copy(d->employer, sizeof(d->employer), store_col_text(st, 1));
	str_copy(d->worker, sizeof(d->worker), store_col_text(st, 2));
	d->kind = employ_kind_parse(store_col_text(st, 3));
	str_copy(d->start, sizeof(d->start), store_col_text(st, 4));
	str_copy(d->end, sizeof(d->end), store_col_text(st, 5));
	d->hours = (int)store_col_int(st, 6);
	d->fraction = (int)store_col_int(st, 7);
	d->replaces = store_col_int(st, 8);
	d->cancelled = store_col_int(st, 9) != 0;
	str_copy(d->declared_by, sizeof(d->declared_by),
		 store_col_text(st, 10));
	d->declared_at = store_col_int(st, 11);
	str_copy(d->declared_via, sizeof(d->declared_via),
		 store_col_text(st, 12));
}

int employ_in_force(struct store *s, const char *worker,
		    struct employ_declaration **out, int *n, struct error *e)
{
	struct store_stmt *st = store_prepare(store_reader(s), sql_in_force);
	store_bind_text(st, 1, worker);
	KP_UNUSED(e);
	*out = store_collect(st, sizeof(**out), read_declaration, n);
	return 0;
}

/* The organisation by's session acts for (profile org:<kbo>), or "". */
static const char *acting_org(const struct employ_declarant *by)
{
	return strncmp(by->profile, "org:", 4) == 0 ? by->profile + 4 : "";
}

const char *employ_refusal_role(struct store *s,
				const struct employ_declarant *by,
				const char *employer)
{
	const char *at = acting_org(by);
	return org_role_reason(org_role_state(s, by->insz, at[0] ? at : employer,
					      "employment_declarant",
					      date_to_days(date_today())));
}

/* Whether by may declare for d->employer: acting for it, or for the
 * social secretariat it is affiliated with today (then d->declared_via
 * names the secretariat). Returns 0, or -1 with e. */
static int declarant_check(struct store *s, const struct employ_declarant *by,
			   struct employ_declaration *d, struct error *e)
{
	const char *at = acting_org(by);
	d->declared_via[0] = '\0';
	if (at[0] && strcmp(at, d->employer) != 0 &&
	    org_secretariat_acts_for(s, at, d->employer,
				     date_to_days(date_today())))
		str_copy(d->declared_via, sizeof(d->declared_via), at);
	else if (!at[0] || strcmp(at, d->employer) != 0)
		return err_set(e, ERR_FORBIDDEN, "not_acting_for_employer",
			       "act for the employer, or for its social "
			       "secretariat (profile org:<kbo>), to declare "
			       "its employments");
	if (by->level < EMPLOY_DECLARANT_LEVEL)
		return err_set(e, ERR_FORBIDDEN, "insufficient_level",
			       "declaring employment needs level %d",
			       EMPLOY_DECLARANT_LEVEL);
	const char *why = employ_refusal_role(s, by, d->employer);
	if (why)
		return err_set(e, ERR_FORBIDDEN, "role_required",
			       "this needs the employment_declarant role at "
			       "the organisation you act for (%s)", why);
	return 0;
}

/* The employer and the worker exist; the worker lives. */
static int parties_check(struct store *s, const struct employ_declaration *d,
			 struct error *e)
{
	if (!kbo_valid(d->employer))
		return err_set(e, ERR_INVALID, "invalid_kbo",
			       "employer: not a valid enterprise number");
	if (!insz_valid(d->worker))
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "worker: not a valid INSZ");
	char name[8];
	int rc = org_name(s, d->employer, name, sizeof(name), e);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_employer",
			       "the employer is no registered organisation");
	struct registry_person p;
	rc = registry_get(s, d->worker, &p, e);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_worker",
			       "the worker is not in the registers");
	if (p.deceased_on[0] && strcmp(p.deceased_on, d->start) <= 0)
		return err_set(e, ERR_CONFLICT, "worker_deceased",
			       "the worker died before the start");
	return 0;
}

/* Dates and the kind's own fields. */
static int content_check(const struct employ_declaration *d, struct error *e)
{
	struct date start, end;
	if (!d->kind)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "kind: student, flexi or ordinary");
	if (date_parse(d->start, &start) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "start: a date YYYY-MM-DD");
	if (d->end[0] && (date_parse(d->end, &end) != 0 ||
			  date_cmp(end, start) < 0))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "end: a date YYYY-MM-DD, not before start");
	if (d->kind != EMPLOY_STUDENT)
		return d->hours == 0 && d->fraction > 0 &&
				       d->fraction <= EMPLOY_FRACTION_FULL
			       ? 0
			       : err_set(e, ERR_INVALID, "invalid_field",
					 "work_fraction: above 0, at most 1 "
					 "(and no hours)");
	/* The contingent is counted per calendar year: a student
	 * declaration stays within one. */
	if (!d->end[0] || end.y != start.y)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "end: required for student work, in the "
			       "start's year");
	int64_t days = date_to_days(end) - date_to_days(start) + 1;
	if (d->fraction != 0 || d->hours < 1 || d->hours > 24 * days)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "hours: at least 1, at most 24 a day of the "
			       "period (and no work_fraction)");
	return 0;
}

/* The declaration d replaces: same parties, still in force. A
 * cancellation takes its content. */
static int replaced_check(struct store *s, struct employ_declaration *d,
			  struct error *e)
{
	struct employ_declaration old;
	struct store_stmt *st = store_prepare(store_reader(s), sql_get);
	store_bind_int(st, 1, d->replaces);
	int rc = store_one(st, read_declaration, &old, e);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_declaration",
			       "replaces: no such declaration");
	if (strcmp(old.employer, d->employer) != 0 ||
	    strcmp(old.worker, d->worker) != 0)
		return err_set(e, ERR_CONFLICT, "declaration_mismatch",
			       "replaces: a declaration of another employer "
			       "or worker");
	if (old.cancelled)
		return err_set(e, ERR_CONFLICT, "declaration_cancelled",
			       "replaces: a cancellation ends its chain");
	if (d->cancelled) {
		d->kind = old.kind;
		memcpy(d->start, old.start, sizeof(d->start));
		memcpy(d->end, old.end, sizeof(d->end));
		d->hours = old.hours;
		d->fraction = old.fraction;
	}
	return 0;
}

static int declaration_check(struct store *s,
			     const struct employ_declarant *by,
			     struct employ_declaration *d, struct error *e)
{
	if (declarant_check(s, by, d, e) != 0 ||
	    parties_check(s, d, e) != 0)
		return -1;
	if (d->replaces && replaced_check(s, d, e) != 0)
		return -1;
	if (d->cancelled && !d->replaces)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "replaces: a cancellation names the "
			       "declaration it cancels");
	return content_check(d, e);
}

static int insert_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct employ_declaration *d = ctx;
	static const struct store_refusal replaced = {
		ERR_CONFLICT, "already_replaced",
		"replaces: that declaration was corrected or cancelled "
		"already"};
	struct store_stmt *st = store_prepare(w, sql_insert);
	store_bind_text(st, 1, d->employer);
	store_bind_text(st, 2, d->worker);
	store_bind_text(st, 3, employ_kind_name(d->kind));
	store_bind_text(st, 4, d->start);
	store_bind_text(st, 5, d->end);
	store_bind_int(st, 6, d->hours);
	store_bind_int(st, 7, d->fraction);
	store_bind_int(st, 8, d->replaces);
	store_bind_int(st, 9, d->cancelled);
	store_bind_text(st, 10, d->declared_by);
	store_bind_int(st, 11, d->declared_at);
	store_bind_text(st, 12, d->declared_via);
	return store_insert(st, &d->id, &replaced, e) == 0 ? 0 : -1;
}

int employ_declare(struct audit *log, const struct employ_declarant *by,
		   struct employ_declaration *d, struct error *e)
{
	struct error bad;
	const struct error *refusal = NULL;
	if (declaration_check(audit_store(log), by, d, &bad) != 0)
		refusal = &bad;
	str_copy(d->declared_by, sizeof(d->declared_by), by->insz);
	d->declared_at = time_now();
	/* The acting organisation is the one the session acts for (the
	 * secretariat a declaration came through, the employer, or the
	 * organisation a refused declarant acted for); else the employer. */
	const char *actor = acting_org(by)[0] ? acting_org(by) : d->employer;
	struct audit_event ev = {
		.channel = by->channel,
		.actor = kbo_valid(actor) ? actor : NULL,
		.user = by->insz,
		.profile = by->profile[0] ? by->profile : NULL,
		.subject = audit_subject(d->worker),
		.action = d->cancelled ? "employment_cancellation"
				       : "employment_declaration",
		.data_type = "employment",
		.purpose = employ_kind_name(d->kind),
		.outcome = AUDIT_GRANTED,
	};
	return audit_change(log, &ev, insert_change, d, refusal, e);
}
