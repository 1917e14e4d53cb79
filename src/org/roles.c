/*
 * Organisation categories and role assignments. An organisation's access
 * manager gives its employees roles for a limited time (seed 003: the
 * registration officer's role "with limited validity that must be
 * renewed"); a role past valid_until counts as absent everywhere, and a
 * revoked one at once. The first access manager is appointed by the
 * operator (`kruispunt org grant`).
 */
#include <stdlib.h>
#include <string.h>

#include "org/org_internal.h"
#include "registry/registry.h"

static const char *const categories[] = {
	"employer", "temp_agency", "social_secretariat",
	"social_service_provider", "recruitment_agency", "municipality",
	"institution",
	/* An organisation other than a municipality that the operator makes
	 * a local registration office (seed 003). */
	"registration_office", NULL};
static const char *const roles[] = {
	"access_manager", "lra_officer", "mandate_consult",
	"employment_declarant", "auditor", NULL};

static const char sql_cat_add[] =
	"INSERT INTO organisation_category (kbo, category) VALUES (?1, ?2)";
static const char sql_cat_has[] =
	"SELECT 1 FROM organisation_category WHERE kbo = ?1 AND category = ?2";
static const char sql_grant[] =
	"INSERT INTO role_assignment (insz, kbo, role, valid_from, valid_until,"
	" granted_by, granted_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	"RETURNING id";
static const char sql_role_get[] =
	"SELECT id, kbo, insz, role, valid_from, valid_until, granted_by, "
	"revoked_at IS NOT NULL FROM role_assignment WHERE id = ?1 AND kbo = ?2";
static const char sql_revoke[] =
	"UPDATE role_assignment SET revoked_at = ?3, revoked_by = ?4 "
	"WHERE id = ?1 AND kbo = ?2 AND revoked_at IS NULL";
static const char sql_valid[] =
	"SELECT 1 FROM role_assignment WHERE insz = ?1 AND kbo = ?2 AND "
	"role = ?4 AND revoked_at IS NULL AND valid_from <= ?3 AND "
	"valid_until >= ?3 LIMIT 1";
static const char sql_any_valid[] =
	"SELECT 1 FROM role_assignment WHERE insz = ?1 AND kbo = ?2 AND "
	"revoked_at IS NULL AND valid_from <= ?3 AND valid_until >= ?3 LIMIT 1";
static const char sql_held[] =
	"SELECT id, kbo, insz, role, valid_from, valid_until, granted_by, 0 "
	"FROM role_assignment WHERE insz = ?1 AND revoked_at IS NULL AND "
	"valid_from <= ?2 AND valid_until >= ?2 ORDER BY kbo, role LIMIT 1000";
static const char sql_list[] =
	"SELECT id, kbo, insz, role, valid_from, valid_until, granted_by, "
	"revoked_at IS NOT NULL FROM role_assignment WHERE kbo = ?1 "
	"ORDER BY id DESC LIMIT 1000";

/* The longest validity, set once by src/cli before any request
 * (org_configure); 0 until then means the default. */
static int role_max_months;

void org_configure(const struct org_config *cfg)
{
	role_max_months = cfg->role_max_months;
	org_control_configure(cfg->internal_control_keep_days);
}

/* The last day a role starting on from may be valid. */
static struct date longest_until(struct date from)
{
	return date_add_months(from, role_max_months > 0 ? role_max_months
						       : ORG_ROLE_MAX_MONTHS);
}

static bool in_set(const char *s, const char *const *set)
{
	for (; *set; set++)
		if (strcmp(s, *set) == 0)
			return true;
	return false;
}

static const struct store_refusal category_exists = {
	ERR_CONFLICT, "category_exists",
	"unknown organisation, or already there"};
/* The organisation is the only reference a role or the circle of trust
 * can miss. */
static const struct store_refusal org_unknown = {
	ERR_NOT_FOUND, "org_unknown", "no such organisation"};

struct category_add {
	const char *kbo, *category;
};

static int category_change(struct store_conn *w, void *ctx,
			   struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct category_add *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_cat_add);
	store_bind_text(st, 1, c->kbo);
	store_bind_text(st, 2, c->category);
	return store_run(st, &category_exists, e);
}

int org_category_add(struct audit *log, const struct audit_actor *by,
		     const char *kbo, const char *category, struct error *e)
{
	struct category_add c = {kbo, category};
	struct error bad;
	bool ok = in_set(category, categories);
	if (!ok)
		err_set(&bad, ERR_INVALID, "invalid_category",
			"unknown organisation category");
	struct audit_event ev = org_event(by, "category_add", kbo,
					  "organisation", category);
	return audit_change(log, &ev, category_change, &c, ok ? NULL : &bad, e);
}

bool org_has_category(struct store *s, const char *kbo, const char *category)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return false;
	struct store_stmt *st = store_prepare(r, sql_cat_has);
	store_bind_text(st, 1, kbo);
	store_bind_text(st, 2, category);
	return store_one(st, NULL, NULL, NULL) == 0;
}

/* Why r cannot be granted as it stands (into bad), or NULL. */
static const struct error *grant_invalid(struct org_role *r, struct error *bad)
{
	struct date from, until;
	if (!in_set(r->role, roles))
		err_set(bad, ERR_INVALID, "invalid_role", "unknown role");
	else if (!insz_valid(r->insz) || strlen(r->insz) != 11)
		err_set(bad, ERR_INVALID, "invalid_insz",
			"not a valid INSZ (digits only)");
	else if (!kbo_valid(r->kbo) || strlen(r->kbo) != 10)
		err_set(bad, ERR_INVALID, "invalid_kbo",
			"not a valid enterprise number (digits only)");
	else if (date_parse(r->valid_from, &from) != 0 ||
		 date_parse(r->valid_until, &until) != 0 ||
		 date_cmp(until, from) < 0)
		err_set(bad, ERR_INVALID, "invalid_period",
			"valid_until is required, not before valid_from");
	else if (date_cmp(until, longest_until(from)) > 0)
		err_set(bad, ERR_INVALID, "validity_too_long",
			"valid_until: at most %d months after valid_from; "
			"renew the role instead",
			role_max_months > 0 ? role_max_months
					    : ORG_ROLE_MAX_MONTHS);
	else
		return NULL;
	return bad;
}

/* An access manager's own access_manager role bounds what they may give
 * themselves: without it, one could extend their own powers forever. */
static const char sql_own_until[] =
	"SELECT max(valid_until) FROM role_assignment WHERE insz = ?1 AND "
	"kbo = ?2 AND role = 'access_manager' AND revoked_at IS NULL AND "
	"valid_from <= ?3 AND valid_until >= ?3";

/* Refuses (into e) when by, a person, gives themselves a role at kbo
 * until past the end of their own access_manager role there. The
 * operator is bound by the maximum validity only. */
static int within_own(struct store_conn *w, const char *by, const char *insz,
		      const char *kbo, const char *until, struct error *e)
{
	if (strcmp(by, "operator") == 0 || strcmp(by, insz) != 0)
		return 0;
	char today[DATE_LEN];
	date_format(date_today(), today);
	struct store_stmt *st = store_prepare(w, sql_own_until);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, kbo);
	store_bind_text(st, 3, today);
	enum store_rc rc = store_step(st);
	const char *own = rc == STORE_ROW ? store_col_text(st, 0) : NULL;
	bool ok = own && strcmp(until, own) <= 0;
	char end[DATE_LEN];
	str_copy(end, sizeof(end), own ? own : "none");
	store_done(st);
	if (rc == STORE_ERROR)
		return store_fail(e, "cannot read roles now");
	if (ok)
		return 0;
	return err_set(e, ERR_FORBIDDEN, "beyond_own_role",
		       "you cannot give yourself a role past the end of your "
		       "own access_manager role (%s)", end);
}

static int grant_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct org_role *r = ctx;
	if (within_own(w, r->granted_by, r->insz, r->kbo, r->valid_until,
		       e) != 0)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_grant);
	store_bind_text(st, 1, r->insz);
	store_bind_text(st, 2, r->kbo);
	store_bind_text(st, 3, r->role);
	store_bind_text(st, 4, r->valid_from);
	store_bind_text(st, 5, r->valid_until);
	store_bind_text(st, 6, r->granted_by);
	store_bind_int(st, 7, time_now());
	return store_insert(st, &r->id, &org_unknown, e) < 0 ? -1 : 0;
}

int org_role_grant(struct audit *log, const struct audit_actor *by,
		   struct org_role *r, struct error *e)
{
	if (!r->valid_from[0])
		date_format(date_today(), r->valid_from);
	org_by_whom(by, r->granted_by);
	struct error bad;
	const struct error *invalid = grant_invalid(r, &bad);
	struct registry_person p;
	int known = invalid ? 0 : registry_get(audit_store(log), r->insz, &p, e);
	if (known < 0)
		return -1;
	if (known > 0)
		invalid = (err_set(&bad, ERR_NOT_FOUND, "unknown_person",
				   "the registers know no person with this "
				   "INSZ"), &bad);
	struct audit_event ev = org_event(by, "role_grant", r->kbo, "role",
					  r->role);
	ev.subject = insz_valid(r->insz) && strlen(r->insz) == 11 ? r->insz
								   : NULL;
	return audit_change(log, &ev, grant_change, r, invalid, e);
}

/* Fill r (a struct org_role) from a row of sql_role_get or sql_list. */
static void read_role(struct store_stmt *st, void *role)
{
	struct org_role *r = role;
	memset(r, 0, sizeof(*r));
	r->id = store_col_int(st, 0);
	str_copy(r->kbo, sizeof(r->kbo), store_col_text(st, 1));
	str_copy(r->insz, sizeof(r->insz), store_col_text(st, 2));
	str_copy(r->role, sizeof(r->role), store_col_text(st, 3));
	str_copy(r->valid_from, sizeof(r->valid_from), store_col_text(st, 4));
	str_copy(r->valid_until, sizeof(r->valid_until), store_col_text(st, 5));
	str_copy(r->granted_by, sizeof(r->granted_by), store_col_text(st, 6));
	r->revoked = store_col_int(st, 7) != 0;
}

struct revoke {
	const char *kbo;
	int64_t id;
	char by[16];
	struct org_role r;
};

/* Assignment id of kbo, read inside the change into r, and named in the
 * event (whose role it is), refused or not. 0 when it exists and is not
 * revoked; -1 with e otherwise ("unknown_role_assignment",
 * "already_revoked": a revoked role is granted anew, not revived). */
static int assignment_live(struct store_conn *w, const char *kbo, int64_t id,
			   struct org_role *r, struct audit_event *evs,
			   struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_role_get);
	store_bind_int(st, 1, id);
	store_bind_text(st, 2, kbo);
	int rc = store_one(st, read_role, r, e);
	if (rc == 1)
		return err_set(e, ERR_NOT_FOUND, "unknown_role_assignment",
			       "this organisation has no such role assignment");
	if (rc < 0)
		return -1;
	evs[0].subject = r->insz;
	evs[0].purpose = r->role;
	if (r->revoked)
		return err_set(e, ERR_CONFLICT, "already_revoked",
			       "this role assignment is revoked; grant it anew");
	return 0;
}

static int revoke_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct revoke *c = ctx;
	if (assignment_live(w, c->kbo, c->id, &c->r, evs, e) != 0)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_revoke);
	store_bind_int(st, 1, c->id);
	store_bind_text(st, 2, c->kbo);
	store_bind_int(st, 3, time_now());
	store_bind_text(st, 4, c->by);
	c->r.revoked = true;
	return store_run(st, NULL, e);
}

int org_role_revoke(struct audit *log, const struct audit_actor *by,
		    const char *kbo, int64_t id, struct org_role *out,
		    struct error *e)
{
	struct revoke c = {kbo, id, "", {0}};
	org_by_whom(by, c.by);
	struct audit_event ev = org_event(by, "role_revoke", kbo, "role", NULL);
	int rc = audit_change(log, &ev, revoke_change, &c, NULL, e);
	if (rc == 0 && out)
		*out = c.r;
	return rc;
}

/* ------------------------------------------------------------ renewal */

static const char sql_renew[] =
	"UPDATE role_assignment SET valid_until = ?3 WHERE id = ?1 AND "
	"kbo = ?2 AND revoked_at IS NULL";

struct renew {
	const char *kbo, *until;
	int64_t id;
	char by[16];
	struct org_role r;
};

/* Why until cannot end a role renewed today that began on from (into e),
 * or 0. */
static int renew_invalid(const char *from_text, const char *until_text,
			 struct error *e)
{
	struct date from, until, today = date_today();
	if (date_parse(until_text, &until) != 0 ||
	    date_parse(from_text, &from) != 0 || date_cmp(until, from) < 0 ||
	    date_cmp(until, today) < 0)
		return err_set(e, ERR_INVALID, "invalid_period",
			       "valid_until: a date from today on");
	if (date_cmp(until, longest_until(today)) > 0)
		return err_set(e, ERR_INVALID, "validity_too_long",
			       "valid_until: at most %d months from today",
			       role_max_months > 0 ? role_max_months
						   : ORG_ROLE_MAX_MONTHS);
	return 0;
}

static int renew_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct renew *c = ctx;
	if (assignment_live(w, c->kbo, c->id, &c->r, evs, e) != 0)
		return -1;
	if (renew_invalid(c->r.valid_from, c->until, e) != 0 ||
	    within_own(w, c->by, c->r.insz, c->kbo, c->until, e) != 0)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_renew);
	store_bind_int(st, 1, c->id);
	store_bind_text(st, 2, c->kbo);
	store_bind_text(st, 3, c->until);
	str_copy(c->r.valid_until, sizeof(c->r.valid_until), c->until);
	return store_run(st, NULL, e);
}

int org_role_renew(struct audit *log, const struct audit_actor *by,
		   const char *kbo, int64_t id, const char *valid_until,
		   struct org_role *out, struct error *e)
{
	struct renew c = {kbo, valid_until, id, "", {0}};
	org_by_whom(by, c.by);
	struct audit_event ev = org_event(by, "role_renew", kbo, "role", NULL);
	int rc = audit_change(log, &ev, renew_change, &c, NULL, e);
	if (rc == 0 && out)
		*out = c.r;
	return rc;
}

/* ------------------------------------------------------- holding a role */

/* When no assignment is valid, the newest one says why. */
static const char sql_newest[] =
	"SELECT revoked_at IS NOT NULL, valid_until < ?3 FROM role_assignment "
	"WHERE insz = ?1 AND kbo = ?2 AND role = ?4 ORDER BY id DESC LIMIT 1";

/* role NULL: any role. */
static bool holds(struct store *s, const char *sql, const char *insz,
		  const char *kbo, const char *role, int64_t day)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return false;
	char today[DATE_LEN];
	date_format(date_from_days(day), today);
	struct store_stmt *st = store_prepare(r, sql);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, kbo);
	store_bind_text(st, 3, today);
	if (role)
		store_bind_text(st, 4, role);
	return store_one(st, NULL, NULL, NULL) == 0;
}

bool org_role_valid(struct store *s, const char *insz, const char *kbo,
		    const char *role, int64_t day)
{
	return holds(s, sql_valid, insz, kbo, role, day);
}

struct newest {
	bool revoked, ended;
};

static void read_newest(struct store_stmt *st, void *out)
{
	struct newest *n = out;
	n->revoked = store_col_int(st, 0) != 0;
	n->ended = store_col_int(st, 1) != 0;
}

enum org_role_state org_role_state(struct store *s, const char *insz,
				   const char *kbo, const char *role,
				   int64_t day)
{
	if (holds(s, sql_valid, insz, kbo, role, day))
		return ORG_ROLE_HELD;
	struct store_conn *r = store_reader(s);
	if (!r)
		return ORG_ROLE_MISSING;
	char date[DATE_LEN];
	date_format(date_from_days(day), date);
	struct store_stmt *st = store_prepare(r, sql_newest);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, kbo);
	store_bind_text(st, 3, date);
	store_bind_text(st, 4, role);
	struct newest n = {false, false};
	if (store_one(st, read_newest, &n, NULL) != 0)
		return ORG_ROLE_MISSING;
	return n.revoked ? ORG_ROLE_REVOKED
			 : n.ended ? ORG_ROLE_EXPIRED : ORG_ROLE_MISSING;
}

const char *org_role_reason(enum org_role_state st)
{
	static const char *const reasons[] = {NULL, "missing", "expired",
					      "revoked"};
	return reasons[st];
}

bool org_any_role_valid(struct store *s, const char *insz, const char *kbo,
			int64_t day)
{
	return holds(s, sql_any_valid, insz, kbo, NULL, day);
}

int org_roles(struct store *s, const char *kbo, struct org_role **out, int *n,
	      struct error *e)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return store_fail(e, "cannot read roles now");
	struct store_stmt *st = store_prepare(r, sql_list);
	store_bind_text(st, 1, kbo);
	*out = store_collect(st, sizeof(**out), read_role, n);
	return 0;
}

int org_roles_held(struct store *s, const char *insz, int64_t day,
		   struct org_role **out, int *n, struct error *e)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return store_fail(e, "cannot read roles now");
	char today[DATE_LEN];
	date_format(date_from_days(day), today);
	struct store_stmt *st = store_prepare(r, sql_held);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, today);
	*out = store_collect(st, sizeof(**out), read_role, n);
	return 0;
}

/* ----------------------------------------------------- circle of trust */

static const char sql_circle_accept[] =
	"INSERT INTO circle_of_trust (kbo, accepted_by, register_ref, "
	"accepted_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (kbo) DO UPDATE SET "
	"accepted_by = ?2, register_ref = ?3, accepted_at = ?4";
static const char sql_circle_get[] =
	"SELECT kbo, accepted_by, register_ref, accepted_at FROM "
	"circle_of_trust WHERE kbo = ?1";
static const char sql_circle_has[] =
	"SELECT 1 FROM circle_of_trust WHERE kbo = ?1";

struct circle {
	const char *kbo, *insz, *ref;
};

static int circle_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct circle *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_circle_accept);
	store_bind_text(st, 1, c->kbo);
	store_bind_text(st, 2, c->insz);
	store_bind_text(st, 3, c->ref);
	store_bind_int(st, 4, time_now());
	return store_run(st, &org_unknown, e);
}

int org_circle_accept(struct audit *log, const struct audit_actor *by,
		      const char *kbo, const char *register_ref,
		      struct error *e)
{
	struct circle c = {kbo, by->user ? by->user : "", register_ref};
	struct error bad;
	bool ok = text_plain(register_ref, 128) && register_ref[0];
	if (!ok)
		err_set(&bad, ERR_INVALID, "invalid_field",
			"processing_register_ref: the reference of the "
			"organisation's processing register (1 to 128 "
			"characters, no control characters)");
	struct audit_event ev = org_event(by, "circle_of_trust_accept", kbo,
					  "organisation", register_ref);
	return audit_change(log, &ev, circle_change, &c, ok ? NULL : &bad, e);
}

bool org_in_circle(struct store *s, const char *kbo)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return false;
	struct store_stmt *st = store_prepare(r, sql_circle_has);
	store_bind_text(st, 1, kbo);
	return store_one(st, NULL, NULL, NULL) == 0;
}

static void read_circle(struct store_stmt *st, void *out)
{
	struct org_circle *c = out;
	memset(c, 0, sizeof(*c));
	str_copy(c->kbo, sizeof(c->kbo), store_col_text(st, 0));
	str_copy(c->accepted_by, sizeof(c->accepted_by), store_col_text(st, 1));
	str_copy(c->register_ref, sizeof(c->register_ref),
		 store_col_text(st, 2));
	c->accepted_at = store_col_int(st, 3);
}

int org_circle_get(struct audit *log, const struct audit_actor *by,
		   const char *kbo, struct org_circle *out, struct error *e)
{
	struct store_conn *r = store_reader(audit_store(log));
	if (!r)
		return store_fail(e, "cannot read the circle of trust now");
	struct store_stmt *st = store_prepare(r, sql_circle_get);
	store_bind_text(st, 1, kbo);
	int rc = store_one(st, read_circle, out, e);
	if (rc < 0)
		return -1;
	struct audit_event ev = org_event(by, "circle_of_trust_read", kbo,
					  "organisation", NULL);
	if (audit_commit(log, &ev, 1, audit_no_change, NULL, e) != 0)
		return -1;
	return rc;
}
