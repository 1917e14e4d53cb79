/* Organisations, institutions and their network certificates. */
#include <stdio.h>
#include <string.h>

#include "org/org_internal.h"

static const char sql_org_add[] =
	"INSERT INTO organisation (kbo, name, created_at) VALUES (?1, ?2, ?3)";
static const char sql_inst_add[] =
	"INSERT INTO institution (kbo, name, actor_type, branch, endpoint) "
	"SELECT kbo, name, ?2, ?3, ?4 FROM organisation WHERE kbo = ?1 "
	"RETURNING id";
static const char sql_cert_add[] =
	"INSERT INTO organisation_cert (fingerprint, kbo, subject, "
	"not_before, not_after, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_by_kbo[] =
	"SELECT id, kbo, name, actor_type, branch, coalesce(endpoint, ''), "
	"coalesce(timeout_ms, 0) FROM institution WHERE kbo = ?1";
static const char sql_by_id[] =
	"SELECT id, kbo, name, actor_type, branch, coalesce(endpoint, ''), "
	"coalesce(timeout_ms, 0) FROM institution WHERE id = ?1";
static const char sql_of_type[] =
	"SELECT id, kbo, name, actor_type, branch, coalesce(endpoint, ''), "
	"coalesce(timeout_ms, 0) FROM institution WHERE actor_type = ?1 "
	"ORDER BY id LIMIT 1";
static const char sql_set_timeout[] =
	"UPDATE institution SET timeout_ms = nullif(?2, 0) WHERE kbo = ?1";
static const char sql_set_endpoint[] =
	"UPDATE institution SET endpoint = nullif(?2, '') WHERE kbo = ?1";
/* An organisation that is no institution comes with id 0 and empty
 * actor type and branch. */
static const char sql_by_cert[] =
	"SELECT coalesce(i.id, 0), o.kbo, o.name, coalesce(i.actor_type, ''), "
	"coalesce(i.branch, ''), coalesce(i.endpoint, ''), "
	"coalesce(i.timeout_ms, 0) "
	"FROM organisation_cert c JOIN organisation o ON o.kbo = c.kbo "
	"LEFT JOIN institution i ON i.kbo = c.kbo "
	"WHERE c.fingerprint = ?1 AND c.not_before <= ?2 AND c.not_after >= ?2";

static const struct store_refusal org_exists = {
	ERR_CONFLICT, "org_exists", "it is already registered"};
static const struct store_refusal institution_exists = {
	ERR_CONFLICT, "institution_exists", "it is already registered"};
static const struct store_refusal certificate_exists = {
	ERR_CONFLICT, "certificate_exists", "it is already registered"};

struct audit_event org_event(const struct audit_actor *by, const char *action,
			     const char *kbo, const char *data_type,
			     const char *purpose)
{
	struct audit_event ev = audit_event_by(by, action);
	/* An operator acts for no organisation: the event names the one
	 * concerned. */
	if (!ev.actor || !ev.actor[0])
		ev.actor = kbo_valid(kbo) && strlen(kbo) == 10 ? kbo : NULL;
	ev.data_type = data_type;
	ev.purpose = purpose;
	return ev;
}

void org_by_whom(const struct audit_actor *by, char out[16])
{
	str_copy(out, 16, by->user && by->user[0] ? by->user : "operator");
}

/* kbo as digits into out; NULL, or bad filled with the refusal. */
static const struct error *kbo_refusal(const char *kbo, char out[11],
				       struct error *bad)
{
	if (kbo_parse(kbo, strlen(kbo), out) == ID_OK)
		return NULL;
	err_set(bad, ERR_INVALID, "invalid_kbo", "not a valid enterprise number");
	return bad;
}

struct org_add {
	char kbo[11];
	const char *name;
};

static int org_add_change(struct store_conn *w, void *ctx,
			  struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct org_add *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_org_add);
	store_bind_text(st, 1, c->kbo);
	store_bind_text(st, 2, c->name);
	store_bind_int(st, 3, time_now());
	return store_run(st, &org_exists, e);
}

int org_organisation_add(struct audit *log, const struct audit_actor *by,
			 const char *kbo, const char *name, struct error *e)
{
	struct org_add c = {"", name};
	struct error bad;
	const struct error *invalid = kbo_refusal(kbo, c.kbo, &bad);
	struct audit_event ev = org_event(by, "organisation_add", c.kbo,
					  "organisation", name);
	return audit_change(log, &ev, org_add_change, &c, invalid, e);
}

struct inst_add {
	char kbo[11];
	const char *actor_type, *branch, *endpoint;
	int64_t id;
};

static int inst_add_change(struct store_conn *w, void *ctx,
			   struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct inst_add *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_inst_add);
	store_bind_text(st, 1, c->kbo);
	store_bind_text(st, 2, c->actor_type);
	store_bind_text(st, 3, c->branch);
	store_bind_text(st, 4, c->endpoint);
	int rc = store_insert(st, &c->id, &institution_exists, e);
	if (rc == 1)
		rc = err_set(e, ERR_NOT_FOUND, "org_unknown",
			     "no such organisation");
	return rc;
}

int org_institution_add(struct audit *log, const struct audit_actor *by,
			const char *kbo, const char *actor_type,
			const char *branch, const char *endpoint, int64_t *id,
			struct error *e)
{
	struct inst_add c = {"", actor_type, branch, endpoint, 0};
	struct error bad;
	const struct error *invalid = kbo_refusal(kbo, c.kbo, &bad);
	struct audit_event ev = org_event(by, "institution_add", c.kbo,
					  "institution", actor_type);
	int rc = audit_change(log, &ev, inst_add_change, &c, invalid, e);
	if (rc == 0 && id)
		*id = c.id;
	return rc;
}

struct cert_add {
	const char *kbo;
	const uint8_t *fingerprint;
	const char *subject;
	int64_t not_before, not_after;
};

static const char sql_org_known[] = "SELECT 1 FROM organisation WHERE kbo = ?1";

static void read_nothing(struct store_stmt *st, void *out)
{
	KP_UNUSED(st);
	KP_UNUSED(out);
}

static int cert_add_change(struct store_conn *w, void *ctx,
			   struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	KP_UNUSED(evs);
	struct cert_add *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_org_known);
	store_bind_text(st, 1, c->kbo);
	int found = store_one(st, read_nothing, NULL, e);
	if (found != 0)
		return found < 0 ? -1
				 : err_set(e, ERR_NOT_FOUND, "org_unknown",
					   "%s is no registered organisation",
					   c->kbo);
	st = store_prepare(w, sql_cert_add);
	store_bind_blob(st, 1, c->fingerprint, SHA256_LEN);
	store_bind_text(st, 2, c->kbo);
	store_bind_text(st, 3, c->subject);
	store_bind_int(st, 4, c->not_before);
	store_bind_int(st, 5, c->not_after);
	store_bind_int(st, 6, time_now());
	return store_run(st, &certificate_exists, e);
}

int org_cert_add(struct audit *log, const struct audit_actor *by,
		 const char *kbo, const uint8_t fingerprint[SHA256_LEN],
		 const char *subject, int64_t not_before, int64_t not_after,
		 struct error *e)
{
	struct error bad;
	char digits[11] = "";
	const struct error *invalid = kbo_refusal(kbo, digits, &bad);
	struct cert_add c = {digits, fingerprint, subject, not_before,
			     not_after};
	/* The fingerprint names the certificate in the log; the subject is
	 * in the register of certificates. */
	char fp[2 * SHA256_LEN + 1];
	hex_encode(fingerprint, SHA256_LEN, fp);
	struct audit_event ev = org_event(by, "certificate_add",
					  invalid ? "" : digits,
					  "certificate", fp);
	return audit_change(log, &ev, cert_add_change, &c, invalid, e);
}

/* Fill out (a struct org_institution) from a row of (id, kbo, name,
 * actor_type, branch, endpoint, timeout_ms). */
static void read_institution(struct store_stmt *st, void *institution)
{
	struct org_institution *out = institution;
	out->id = store_col_int(st, 0);
	str_copy(out->kbo, sizeof(out->kbo), store_col_text(st, 1));
	str_copy(out->name, sizeof(out->name), store_col_text(st, 2));
	str_copy(out->actor_type, sizeof(out->actor_type), store_col_text(st, 3));
	str_copy(out->branch, sizeof(out->branch), store_col_text(st, 4));
	str_copy(out->endpoint, sizeof(out->endpoint), store_col_text(st, 5));
	out->timeout_ms = (int)store_col_int(st, 6);
}

int org_by_cert(struct store *s, const uint8_t fingerprint[SHA256_LEN],
		int64_t now, struct org_institution *out)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_by_cert);
	store_bind_blob(st, 1, fingerprint, SHA256_LEN);
	store_bind_int(st, 2, now);
	return store_one(st, read_institution, out, NULL);
}

/* The one institution sql finds for a text (?1) or, when text is NULL,
 * an id: 0 and out; 1 when none; -1 on a store failure. */
static int institution_where(struct store *s, const char *sql,
			     const char *text, int64_t id,
			     struct org_institution *out)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql);
	if (text)
		store_bind_text(st, 1, text);
	else
		store_bind_int(st, 1, id);
	return store_one(st, read_institution, out, NULL);
}

int org_institution_by_kbo(struct store *s, const char *kbo,
			   struct org_institution *out)
{
	return institution_where(s, sql_by_kbo, kbo, 0, out);
}

int org_institution_get(struct store *s, int64_t id, struct org_institution *out)
{
	return institution_where(s, sql_by_id, NULL, id, out);
}

int org_institution_of_type(struct store *s, const char *actor_type,
			    struct org_institution *out)
{
	return institution_where(s, sql_of_type, actor_type, 0, out);
}

bool org_audits_the_network(struct store *s, const char *kbo)
{
	struct org_institution inst;
	return org_institution_by_kbo(s, kbo, &inst) == 0 &&
	       strcmp(inst.actor_type, "crossroads_bank") == 0;
}

static const char sql_actor_type_known[] =
	"SELECT 1 FROM institution WHERE actor_type = ?1 LIMIT 1";
static const char sql_actor_types[] =
	"SELECT DISTINCT actor_type FROM institution ORDER BY actor_type";

int org_actor_type_known(struct store *s, const char *actor_type)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_actor_type_known);
	store_bind_text(st, 1, actor_type);
	return store_one(st, NULL, NULL, NULL);
}

int org_actor_types(struct store *s, char *out, size_t n)
{
	struct store_conn *r = store_reader(s);
	if (!r || n < 4)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_actor_types);
	size_t used = 0;
	enum store_rc rc;
	out[0] = '\0';
	while ((rc = store_step(st)) == STORE_ROW) {
		const char *t = store_col_text(st, 0);
		/* Room for this one, its separator and a final ", ...". */
		if (used + 2 + strlen(t) + 5 >= n) {
			str_copy(out + used, n - used, used ? ", ..." : "...");
			break;
		}
		used += (size_t)snprintf(out + used, n - used, "%s%s",
					 used ? ", " : "", t);
	}
	store_done(st);
	return rc == STORE_ERROR ? -1 : 0;
}

/* One UPDATE of an institution: ?1 its KBO, ?2 text or (text NULL) num. */
struct inst_update {
	const char *sql, *kbo, *text;
	int64_t num;
};

static int inst_update_change(struct store_conn *w, void *ctx,
			      struct audit_event *evs, size_t n,
			      struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct inst_update *c = ctx;
	struct store_stmt *st = store_prepare(w, c->sql);
	store_bind_text(st, 1, c->kbo);
	if (c->text)
		store_bind_text(st, 2, c->text);
	else
		store_bind_int(st, 2, c->num);
	int rc = store_run(st, NULL, e);
	if (rc == 0 && store_changes(w) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "unknown_institution",
			     "no institution with this enterprise number");
	return rc;
}

int org_institution_set_endpoint(struct audit *log,
				 const struct audit_actor *by, const char *kbo,
				 const char *endpoint, struct error *e)
{
	struct inst_update c = {sql_set_endpoint, kbo, endpoint, 0};
	struct error bad, *invalid = &bad;
	if (endpoint[0] && strncmp(endpoint, "https://", 8) != 0)
		err_set(&bad, ERR_INVALID, "invalid_endpoint",
			"a provider endpoint is an https:// URL");
	else if (strlen(endpoint) >=
		 sizeof(((struct org_institution *)0)->endpoint))
		err_set(&bad, ERR_INVALID, "invalid_endpoint",
			"endpoint too long");
	else
		invalid = NULL;
	struct audit_event ev = org_event(by, "institution_endpoint", kbo,
					  "institution", endpoint);
	return audit_change(log, &ev, inst_update_change, &c, invalid, e);
}

int org_institution_set_timeout(struct audit *log,
				const struct audit_actor *by, const char *kbo,
				int timeout_ms, struct error *e)
{
	struct inst_update c = {sql_set_timeout, kbo, NULL, timeout_ms};
	struct error bad;
	bool ok = timeout_ms == 0 || (timeout_ms >= 50 && timeout_ms <= 120000);
	if (!ok)
		err_set(&bad, ERR_INVALID, "invalid_timeout",
			"a provider timeout is 50 to 120000 ms (0: the hub's "
			"default)");
	char ms[16];
	snprintf(ms, sizeof(ms), "%d", timeout_ms);
	struct audit_event ev = org_event(by, "institution_timeout", kbo,
					  "institution", ms);
	return audit_change(log, &ev, inst_update_change, &c, ok ? NULL : &bad,
			  e);
}

static const char sql_name[] = "SELECT name FROM organisation WHERE kbo = ?1";

struct name_out {
	char *out;
	size_t n;
};

static void read_name(struct store_stmt *st, void *out)
{
	struct name_out *o = out;
	str_copy(o->out, o->n, store_col_text(st, 0));
}

int org_name(struct store *s, const char *kbo, char *out, size_t n,
	     struct error *e)
{
	struct name_out o = {out, n};
	out[0] = '\0';
	struct store_stmt *st = store_prepare(store_reader(s), sql_name);
	store_bind_text(st, 1, kbo);
	return store_one(st, read_name, &o, e);
}
