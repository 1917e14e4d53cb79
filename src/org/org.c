/* Organisations, institutions and their network certificates. */
#include <string.h>

#include "org/org.h"

static const char sql_org_add[] =
	"INSERT INTO organisation (kbo, name, created_at) VALUES (?1, ?2, ?3)";
static const char sql_inst_add[] =
	"INSERT INTO institution (kbo, name, actor_type, branch, endpoint) "
	"SELECT kbo, name, ?2, ?3, ?4 FROM organisation WHERE kbo = ?1 "
	"RETURNING id";
static const char sql_cert_add[] =
	"INSERT INTO institution_cert (fingerprint, institution_id, subject, "
	"not_before, not_after, added_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_by_kbo[] =
	"SELECT id, kbo, name, actor_type, branch, coalesce(endpoint, ''), "
	"coalesce(timeout_ms, 0) FROM institution WHERE kbo = ?1";
static const char sql_by_id[] =
	"SELECT id, kbo, name, actor_type, branch, coalesce(endpoint, ''), "
	"coalesce(timeout_ms, 0) FROM institution WHERE id = ?1";
static const char sql_set_timeout[] =
	"UPDATE institution SET timeout_ms = nullif(?2, 0) WHERE kbo = ?1";
static const char sql_set_endpoint[] =
	"UPDATE institution SET endpoint = nullif(?2, '') WHERE kbo = ?1";
static const char sql_by_cert[] =
	"SELECT i.id, i.kbo, i.name, i.actor_type, i.branch, "
	"coalesce(i.endpoint, ''), coalesce(i.timeout_ms, 0) "
	"FROM institution_cert c JOIN institution i ON i.id = c.institution_id "
	"WHERE c.fingerprint = ?1 AND c.not_before <= ?2 AND c.not_after >= ?2";

static const struct store_refusal org_exists = {
	ERR_CONFLICT, "org_exists", "it is already registered"};
static const struct store_refusal institution_exists = {
	ERR_CONFLICT, "institution_exists", "it is already registered"};
static const struct store_refusal certificate_exists = {
	ERR_CONFLICT, "certificate_exists", "it is already registered"};

int org_organisation_add(struct store *s, const char *kbo, const char *name,
			 struct error *e)
{
	char k[11];
	if (kbo_parse(kbo, strlen(kbo), k) != ID_OK)
		return err_set(e, ERR_INVALID, "invalid_kbo",
			       "not a valid enterprise number");
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_org_add);
	store_bind_text(st, 1, k);
	store_bind_text(st, 2, name);
	store_bind_int(st, 3, time_now());
	return store_write_end(s, store_run(st, &org_exists, e), e);
}

int org_institution_add(struct store *s, const char *kbo,
			const char *actor_type, const char *branch,
			const char *endpoint, int64_t *id, struct error *e)
{
	char k[11];
	if (kbo_parse(kbo, strlen(kbo), k) != ID_OK)
		return err_set(e, ERR_INVALID, "invalid_kbo",
			       "not a valid enterprise number");
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_inst_add);
	store_bind_text(st, 1, k);
	store_bind_text(st, 2, actor_type);
	store_bind_text(st, 3, branch);
	store_bind_text(st, 4, endpoint);
	int rc = store_insert(st, id, &institution_exists, e);
	if (rc == 1)
		rc = err_set(e, ERR_NOT_FOUND, "org_unknown",
			     "no such organisation");
	return store_write_end(s, rc, e);
}

int org_cert_add(struct store *s, int64_t institution_id,
		 const uint8_t fingerprint[SHA256_LEN], const char *subject,
		 int64_t not_before, int64_t not_after, struct error *e)
{
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_cert_add);
	store_bind_blob(st, 1, fingerprint, SHA256_LEN);
	store_bind_int(st, 2, institution_id);
	store_bind_text(st, 3, subject);
	store_bind_int(st, 4, not_before);
	store_bind_int(st, 5, not_after);
	store_bind_int(st, 6, time_now());
	/* An unknown institution is a foreign-key refusal, so a conflict
	 * too. */
	return store_write_end(s, store_run(st, &certificate_exists, e), e);
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

int org_institution_by_cert(struct store *s,
			    const uint8_t fingerprint[SHA256_LEN], int64_t now,
			    struct org_institution *out)
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

/* Run one UPDATE of an institution: ?1 its KBO, ?2 text or (text NULL)
 * num. */
static int institution_update(struct store *s, const char *sql,
			      const char *kbo, const char *text, int64_t num,
			      struct error *e)
{
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql);
	store_bind_text(st, 1, kbo);
	if (text)
		store_bind_text(st, 2, text);
	else
		store_bind_int(st, 2, num);
	int rc = store_run(st, NULL, e);
	if (rc == 0 && store_changes(w) == 0)
		rc = err_set(e, ERR_NOT_FOUND, "unknown_institution",
			     "no institution with this enterprise number");
	return store_write_end(s, rc, e);
}

int org_institution_set_endpoint(struct store *s, const char *kbo,
				 const char *endpoint, struct error *e)
{
	if (endpoint[0] && strncmp(endpoint, "https://", 8) != 0)
		return err_set(e, ERR_INVALID, "invalid_endpoint",
			       "a provider endpoint is an https:// URL");
	if (strlen(endpoint) >= sizeof(((struct org_institution *)0)->endpoint))
		return err_set(e, ERR_INVALID, "invalid_endpoint",
			       "endpoint too long");
	return institution_update(s, sql_set_endpoint, kbo, endpoint, 0, e);
}

int org_institution_set_timeout(struct store *s, const char *kbo,
				int timeout_ms, struct error *e)
{
	if (timeout_ms != 0 && (timeout_ms < 50 || timeout_ms > 120000))
		return err_set(e, ERR_INVALID, "invalid_timeout",
			       "a provider timeout is 50 to 120000 ms (0: the "
			       "hub's default)");
	return institution_update(s, sql_set_timeout, kbo, NULL, timeout_ms, e);
}
