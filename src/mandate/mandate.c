/*
 * Giving, listing and revoking mandates, and a holder's view of the
 * mandates it holds (mandate.h). The citizen is the only one who acts on
 * their mandates: their events name them as user and subject and no
 * organisation as actor (nobody acts for them); the holder is named in the
 * purpose, with the mandate's number, so that the citizen's own log reads
 * "to whom, until when".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mandate/mandate.h"
#include "org/org.h"

#define MANDATE_COLS                                                        \
	"id, mandator, type, data_set, holder, holder_category, valid_from, " \
	"valid_until, conditions_version, revoked_at IS NOT NULL"

static const char sql_insert[] =
	"INSERT INTO mandate (mandator, type, data_set, holder, "
	"holder_category, valid_from, valid_until, conditions_version, "
	"created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id";
static const char sql_own[] = "SELECT " MANDATE_COLS " FROM mandate "
			      "WHERE mandator = ?1 ORDER BY id DESC";
static const char sql_one[] = "SELECT " MANDATE_COLS " FROM mandate "
			      "WHERE id = ?1 AND mandator = ?2";
static const char sql_revoke[] =
	"UPDATE mandate SET revoked_at = ?1 WHERE id = ?2 AND mandator = ?3 "
	"AND revoked_at IS NULL";
static const char sql_held[] =
	"SELECT " MANDATE_COLS " FROM mandate WHERE holder = ?1 "
	"AND revoked_at IS NULL AND valid_from <= ?2 AND valid_until >= ?2 "
	"ORDER BY id";

/* A row of MANDATE_COLS into a struct mandate, its status as of today. */
static void read_mandate(struct store_stmt *st, void *out)
{
	struct mandate *m = out;
	char today[DATE_LEN];
	memset(m, 0, sizeof(*m));
	m->id = store_col_int(st, 0);
	str_copy(m->mandator, sizeof(m->mandator), store_col_text(st, 1));
	str_copy(m->type, sizeof(m->type), store_col_text(st, 2));
	str_copy(m->data_set, sizeof(m->data_set), store_col_text(st, 3));
	str_copy(m->holder, sizeof(m->holder), store_col_text(st, 4));
	str_copy(m->holder_category, sizeof(m->holder_category),
		 store_col_text(st, 5));
	str_copy(m->valid_from, sizeof(m->valid_from), store_col_text(st, 6));
	str_copy(m->valid_until, sizeof(m->valid_until),
		 store_col_text(st, 7));
	str_copy(m->conditions_version, sizeof(m->conditions_version),
		 store_col_text(st, 8));
	date_format(date_today(), today);
	m->status = store_col_int(st, 9)			   ? "revoked"
		    : strcmp(m->valid_until, today) < 0 ? "expired"
							   : "active";
}

/* Whether c may act on their own mandates: 0, or -1 with e. */
static int citizen_check(const struct mandate_citizen *c, struct error *e)
{
	if (c->level < MANDATE_LEVEL)
		return err_set(e, ERR_FORBIDDEN, "insufficient_level",
			       "mandates need a digital key of level %d",
			       MANDATE_LEVEL);
	if (strcmp(c->profile, "self") != 0)
		return err_set(e, ERR_FORBIDDEN, "self_profile_required",
			       "a mandate is given by the person whose data it "
			       "opens: act for yourself (profile self)");
	return 0;
}

static struct audit_event citizen_event(const struct mandate_citizen *c,
					const char *action,
					const char *data_set)
{
	struct audit_event ev = {
		.channel = c->channel,
		.user = c->insz,
		.profile = c->profile,
		.subject = audit_subject(c->insz),
		.action = action,
		.data_type = data_set,
		.legal_basis = MANDATE_LEGAL_BASIS,
		.outcome = AUDIT_GRANTED,
	};
	return ev;
}

/* Why r cannot be granted today (NULL when it can), with the mandate's
 * dates and holder category filled in m. A store failure sets e and
 * returns it too. */
static const struct error *grant_refusal(struct store *s,
					 const struct mandate_request *r,
					 struct mandate *m, struct error *e)
{
	struct date today = date_today(), until, max;
	struct mandate_conditions cond;
	if (!r->type || mandate_conditions_get(r->type, "nl", &cond, e) != 0)
		return (err_set(e, ERR_INVALID, "invalid_field",
				"type: precontractual"), e);
	if (mandate_max_until(r->type, r->data_set, today, &max) != 0)
		return (err_set(e, ERR_INVALID, "invalid_field",
				"data_set: one of the type's data sets "
				"(GET /api/v1/mandate-types)"), e);
	if (!r->holder || !kbo_valid(r->holder))
		return (err_set(e, ERR_INVALID, "invalid_kbo",
				"holder: an enterprise number"), e);
	until = max;
	if (r->valid_until && (date_parse(r->valid_until, &until) != 0 ||
			       date_cmp(until, today) < 0))
		return (err_set(e, ERR_INVALID, "invalid_field",
				"valid_until: a date (YYYY-MM-DD), today or "
				"later"), e);
	char maxs[DATE_LEN];
	date_format(max, maxs);
	if (date_cmp(until, max) > 0)
		return (err_set(e, ERR_INVALID, "validity_too_long",
				"this data set's mandate runs at most until "
				"%s", maxs), e);
	if (!r->conditions_version ||
	    strcmp(r->conditions_version, cond.version) != 0)
		return (err_set(e, ERR_CONFLICT, "conditions_changed",
				"the conditions are now version %s: read them "
				"again", cond.version), e);
	int rc = mandate_holder_category(s, r->type, r->holder,
					 m->holder_category, e);
	if (rc > 0)
		err_set(e, ERR_INVALID, "holder_not_eligible",
			"this organisation cannot hold this mandate: it must "
			"be registered, as a potential employer, a social "
			"mandatary or a recruitment agency");
	if (rc != 0)
		return e;
	date_format(today, m->valid_from);
	date_format(until, m->valid_until);
	str_copy(m->conditions_version, sizeof(m->conditions_version),
		 cond.version);
	return NULL;
}

struct grant {
	struct mandate *m;
	char purpose[96];
};

static int grant_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct grant *g = ctx;
	struct mandate *m = g->m;
	struct store_stmt *st = store_prepare(w, sql_insert);
	const char *v[] = {m->mandator, m->type, m->data_set, m->holder,
			   m->holder_category, m->valid_from, m->valid_until,
			   m->conditions_version};
	for (size_t i = 0; i < KP_NELEM(v); i++)
		store_bind_text(st, (int)i + 1, v[i]);
	store_bind_int(st, 9, time_now());
	if (store_insert(st, &m->id, NULL, e) != 0)
		return -1;
	snprintf(g->purpose, sizeof(g->purpose), "mandate %lld to %s until %s",
		 (long long)m->id, m->holder, m->valid_until);
	evs[0].purpose = g->purpose;
	return 0;
}

int mandate_grant(struct audit *log, const struct mandate_citizen *c,
		  const struct mandate_request *r, struct mandate *out,
		  struct error *e)
{
	memset(out, 0, sizeof(*out));
	if (citizen_check(c, e) != 0)
		return -1;
	struct error bad;
	const struct error *refusal = grant_refusal(audit_store(log), r, out,
						    &bad);
	if (refusal && refusal->kind == ERR_UNAVAILABLE)
		return (*e = bad, -1);
	str_copy(out->mandator, sizeof(out->mandator), c->insz);
	str_copy(out->type, sizeof(out->type), r->type ? r->type : "");
	str_copy(out->data_set, sizeof(out->data_set),
		 r->data_set ? r->data_set : "");
	str_copy(out->holder, sizeof(out->holder), r->holder ? r->holder : "");
	out->status = "active";
	struct audit_event ev = citizen_event(c, "mandate_grant",
					      refusal ? NULL : r->data_set);
	struct grant g = {out, ""};
	return audit_change(log, &ev, grant_change, &g, refusal, e);
}

int mandate_list_own(struct store *s, const struct mandate_citizen *c,
		     struct mandate **out, int *n, struct error *e)
{
	*out = NULL;
	*n = 0;
	if (citizen_check(c, e) != 0)
		return -1;
	struct store_stmt *st = store_prepare(store_reader(s), sql_own);
	store_bind_text(st, 1, c->insz);
	*out = store_collect(st, sizeof(**out), read_mandate, n);
	return 0;
}

struct revocation {
	const struct mandate_citizen *c;
	int64_t id;
};

static int revoke_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct revocation *r = ctx;
	struct store_stmt *st = store_prepare(w, sql_revoke);
	store_bind_int(st, 1, time_now());
	store_bind_int(st, 2, r->id);
	store_bind_text(st, 3, r->c->insz);
	return store_run(st, NULL, e);
}

int mandate_revoke(struct audit *log, const struct mandate_citizen *c,
		   int64_t id, struct error *e)
{
	if (citizen_check(c, e) != 0)
		return -1;
	struct mandate m;
	struct store_stmt *st = store_prepare(store_reader(audit_store(log)),
					      sql_one);
	store_bind_int(st, 1, id);
	store_bind_text(st, 2, c->insz);
	int rc = store_one(st, read_mandate, &m, e);
	if (rc < 0)
		return -1;
	if (rc == 0 && strcmp(m.status, "revoked") == 0)
		return 0;
	struct error bad;
	const struct error *refusal = NULL;
	if (rc > 0)
		refusal = (err_set(&bad, ERR_NOT_FOUND, "unknown_mandate",
				   "you have no mandate with this number"),
			   &bad);
	else if (strcmp(m.status, "expired") == 0)
		refusal = (err_set(&bad, ERR_CONFLICT, "mandate_expired",
				   "this mandate ended on %s", m.valid_until),
			   &bad);
	char purpose[96];
	snprintf(purpose, sizeof(purpose), "mandate %lld to %s", (long long)id,
		 rc == 0 ? m.holder : "?");
	struct audit_event ev = citizen_event(c, "mandate_revoke",
					      rc == 0 ? m.data_set : NULL);
	ev.purpose = purpose;
	struct revocation r = {c, id};
	return audit_change(log, &ev, revoke_change, &r, refusal, e);
}

static struct audit_event holder_event(const struct audit_actor *by,
				       const char *kbo)
{
	struct audit_event ev = audit_event_by(by, "mandate_list");
	ev.actor = kbo;
	ev.legal_basis = MANDATE_LEGAL_BASIS;
	return ev;
}

/* One event per mandate shown, in groups the log commits at once. */
static int record_held(struct audit *log, const struct audit_actor *by,
		       const char *kbo, const struct mandate *m, int n,
		       struct error *e)
{
	struct audit_event evs[AUDIT_COMMIT_MAX];
	char purposes[AUDIT_COMMIT_MAX][48];
	if (n == 0) {
		evs[0] = holder_event(by, kbo);
		return audit_commit(log, evs, 1, audit_no_change, NULL,
				 e);
	}
	for (int done = 0; done < n;) {
		int k = 0;
		for (; k < AUDIT_COMMIT_MAX && done + k < n; k++) {
			const struct mandate *x = &m[done + k];
			evs[k] = holder_event(by, kbo);
			evs[k].subject = audit_subject(x->mandator);
			evs[k].data_type = x->data_set;
			snprintf(purposes[k], sizeof(purposes[k]),
				 "mandate %lld", (long long)x->id);
			evs[k].purpose = purposes[k];
		}
		if (audit_commit(log, evs, (size_t)k, audit_no_change, NULL,
				 e) != 0)
			return -1;
		done += k;
	}
	return 0;
}

int mandate_list_held(struct audit *log, const struct audit_actor *by,
		      int level, const char *kbo, struct mandate **out,
		      int *n, struct error *e)
{
	struct store *s = audit_store(log);
	*out = NULL;
	*n = 0;
	struct error bad;
	const struct error *refusal = NULL;
	if (level < MANDATE_LEVEL)
		refusal = (err_set(&bad, ERR_FORBIDDEN, "insufficient_level",
				   "this needs a digital key of level %d",
				   MANDATE_LEVEL), &bad);
	else if (!by->user || !kbo_valid(kbo) ||
		 !org_role_valid(s, by->user, kbo, "mandate_consult",
				 date_to_days(date_today())))
		refusal = (err_set(&bad, ERR_FORBIDDEN, "role_required",
				   "this needs the mandate_consult role at the "
				   "organisation"), &bad);
	if (refusal) {
		*e = bad;
		struct audit_event ev = holder_event(by, kbo_valid(kbo) ? kbo
									: NULL);
		return audit_refused(log, &ev, refusal);
	}
	char today[DATE_LEN];
	date_format(date_today(), today);
	struct store_stmt *st = store_prepare(store_reader(s), sql_held);
	store_bind_text(st, 1, kbo);
	store_bind_text(st, 2, today);
	*out = store_collect(st, sizeof(**out), read_mandate, n);
	if (record_held(log, by, kbo, *out, *n, e) != 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return -1;
	}
	return 0;
}
