/*
 * Who may act as a registration officer, and the usage conditions they
 * accept once (lra.h).
 */
#include <stdlib.h>
#include <string.h>

#include "lra/lra_internal.h"
#include "org/org.h"

extern const char kp_data_lra_conditions[];

static const char sql_accepted[] =
	"SELECT accepted_at FROM lra_conditions_acceptance "
	"WHERE officer = ?1 AND version = ?2";
static const char sql_accept[] =
	"INSERT INTO lra_conditions_acceptance (officer, office, version, "
	"text, accepted_at) VALUES (?1, ?2, ?3, ?4, ?5) "
	"ON CONFLICT (officer, version) DO NOTHING";

/* The conditions file starts with "version: <v>" and a blank line. */
static const char *conditions_version(char *out, size_t n)
{
	const char *v = kp_data_lra_conditions + strlen("version: ");
	size_t len = strcspn(v, "\n");
	if (len >= n)
		len = n - 1;
	memcpy(out, v, len);
	out[len] = '\0';
	return out;
}

static const char *conditions_text(void)
{
	const char *t = strstr(kp_data_lra_conditions, "\n\n");
	return t ? t + 2 : kp_data_lra_conditions;
}

bool lra_office_ok(struct store *s, const char *kbo)
{
	return kbo[0] && (org_has_category(s, kbo, "municipality") ||
			  org_has_category(s, kbo, "registration_office"));
}

const char *lra_refusal_role(struct store *s, const struct lra_officer *o)
{
	if (!o->office[0])
		return org_role_reason(ORG_ROLE_MISSING);
	return org_role_reason(org_role_state(s, o->insz, o->office,
					      "lra_officer",
					      date_to_days(date_today())));
}

/* When o accepted the current conditions: 0 with *at, 1 when not, -1. */
static int accepted_at(struct store *s, const struct lra_officer *o,
		       int64_t *at, struct error *e)
{
	char version[32];
	struct store_stmt *st = store_prepare(store_reader(s), sql_accepted);
	store_bind_text(st, 1, o->insz);
	store_bind_text(st, 2, conditions_version(version, sizeof(version)));
	return store_one(st, store_read_int, at, e);
}

int lra_officer_check(struct store *s, const struct lra_officer *o,
		      bool conditions, struct error *e)
{
	if (o->level < LRA_OFFICER_LEVEL)
		return err_set(e, ERR_FORBIDDEN, "insufficient_level",
			       "a registration officer logs in with their eID "
			       "(level %d)", LRA_OFFICER_LEVEL);
	if (o->office[0] && !lra_office_ok(s, o->office))
		return err_set(e, ERR_FORBIDDEN, "not_a_registration_office",
			       "the organisation you act for is no "
			       "registration office");
	const char *why = lra_refusal_role(s, o);
	if (why)
		return err_set(e, ERR_FORBIDDEN, "role_required",
			       "this needs the lra_officer role at the office "
			       "you act for (%s)", why);
	if (!conditions)
		return 0;
	int64_t at;
	int rc = accepted_at(s, o, &at, e);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return err_set(e, ERR_FORBIDDEN, "conditions_not_accepted",
			       "accept the usage conditions first "
			       "(GET /api/v1/lra/conditions)");
	return 0;
}

struct audit_event lra_event(const struct lra_officer *o, const char *action,
			     const char *subject, const char *purpose)
{
	struct audit_event ev = {
		.channel = o->channel,
		.actor = o->office[0] ? o->office : NULL,
		.user = o->insz,
		.profile = o->profile[0] ? o->profile : NULL,
		.subject = audit_subject(subject),
		.action = action,
		.data_type = "identification",
		.purpose = purpose,
		.outcome = AUDIT_GRANTED,
	};
	return ev;
}

int lra_refused(struct audit *log, const struct lra_officer *o,
		const char *action, const char *purpose,
		const struct error *refusal)
{
	struct audit_event ev = lra_event(o, action, NULL, purpose);
	return audit_refused(log, &ev, refusal);
}

int lra_conditions_get(struct audit *log, const struct lra_officer *o,
		       struct lra_conditions *out, struct error *e)
{
	struct store *s = audit_store(log);
	memset(out, 0, sizeof(*out));
	/* Seed 003: accesses to the application are recorded too, the
	 * refused ones above all. */
	if (lra_officer_check(s, o, false, e) != 0)
		return lra_refused(log, o, "lra_conditions", NULL, e);
	conditions_version(out->version, sizeof(out->version));
	out->text = conditions_text();
	int rc = accepted_at(s, o, &out->accepted_at, e);
	if (rc < 0)
		return -1;
	out->accepted = rc == 0;
	return 0;
}

struct acceptance {
	const struct lra_officer *o;
	const char *version;
};

static int accept_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct acceptance *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_accept);
	store_bind_text(st, 1, c->o->insz);
	store_bind_text(st, 2, c->o->office);
	store_bind_text(st, 3, c->version);
	store_bind_text(st, 4, conditions_text());
	store_bind_int(st, 5, time_now());
	return store_run(st, NULL, e);
}

int lra_conditions_accept(struct audit *log, const struct lra_officer *o,
			  const char *version, struct error *e)
{
	char current[32];
	conditions_version(current, sizeof(current));
	struct error bad;
	const struct error *refusal = NULL;
	if (lra_officer_check(audit_store(log), o, false, &bad) != 0)
		refusal = &bad;
	else if (!version || strcmp(version, current) != 0)
		refusal = (err_set(&bad, ERR_CONFLICT, "conditions_changed",
				   "the conditions are now version %s: read "
				   "them again", current), &bad);
	struct audit_event ev = lra_event(o, "lra_conditions_accept", NULL,
					  current);
	ev.data_type = NULL;
	struct acceptance c = {o, current};
	return audit_change(log, &ev, accept_change, &c, refusal, e);
}
