/*
 * Organisations and institutions from an operator's file
 * (docs/IMPORT.md): each line checked as a request body is, then brought
 * into the registers by the module's own audited functions.
 */
#include <string.h>

#include "org/org_internal.h"

static const char *const line_fields[] = {
	"kbo", "name", "categories", "actor_type", "branch", "endpoint",
	"certificate", NULL};
static const char *const cert_fields[] = {
	"sha256", "subject", "not_before", "not_after", NULL};

static const char sql_name[] = "SELECT name FROM organisation WHERE kbo = ?1";

static int text(json_t *obj, const char *key, bool required, char *dst,
		size_t n, struct error *e)
{
	const char *v = NULL;
	int rc = jsonx_str(obj, key, required, n - 1, &v, e);
	if (rc < 0)
		return -1;
	str_copy(dst, n, rc == 0 ? v : "");
	return 0;
}

static int when(json_t *obj, const char *key, int64_t *out, struct error *e)
{
	const char *v;
	if (jsonx_str(obj, key, true, 40, &v, e) != 0)
		return -1;
	if (time_parse_rfc3339(v, out) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "certificate %s is no RFC 3339 time", key);
	return 0;
}

static int certificate(json_t *j, struct org_line *out, struct error *e)
{
	json_t *c = json_object_get(j, "certificate");
	if (!c || json_is_null(c))
		return 0;
	const char *fp;
	if (!json_is_object(c))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "certificate must be an object");
	if (jsonx_known_fields(c, cert_fields, e) != 0 ||
	    jsonx_str(c, "sha256", true, 2 * SHA256_LEN, &fp, e) != 0)
		return -1;
	if (strlen(fp) != 2 * SHA256_LEN ||
	    hex_decode(fp, strlen(fp), out->cert_sha256, SHA256_LEN) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "certificate sha256 is 64 hex digits");
	if (text(c, "subject", false, out->cert_subject,
		 sizeof(out->cert_subject), e) != 0 ||
	    when(c, "not_before", &out->cert_not_before, e) != 0 ||
	    when(c, "not_after", &out->cert_not_after, e) != 0)
		return -1;
	if (out->cert_not_after <= out->cert_not_before)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "certificate not_after is before not_before");
	out->has_cert = true;
	return 0;
}

static int categories(json_t *j, struct org_line *out, struct error *e)
{
	json_t *list = json_object_get(j, "categories");
	if (!list || json_is_null(list))
		return 0;
	if (!json_is_array(list) || json_array_size(list) > ORG_LINE_CATEGORIES)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "categories is a list of at most %d names",
			       ORG_LINE_CATEGORIES);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		char *dst = out->categories[out->ncategories++];
		if (!json_is_string(v) || json_string_length(v) >= 32)
			return err_set(e, ERR_INVALID, "invalid_field",
				       "a category is a short name");
		str_copy(dst, 32, json_string_value(v));
	}
	return 0;
}

static int institution(json_t *j, struct org_line *out, struct error *e)
{
	if (text(j, "actor_type", false, out->actor_type,
		 sizeof(out->actor_type), e) ||
	    text(j, "branch", false, out->branch, sizeof(out->branch), e) ||
	    text(j, "endpoint", false, out->endpoint, sizeof(out->endpoint), e))
		return -1;
	if (!out->actor_type[0] != !out->branch[0])
		return err_set(e, ERR_INVALID, "invalid_field",
			       "an institution has both actor_type and branch");
	if (!out->actor_type[0] && (out->endpoint[0] || out->has_cert))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "endpoint and certificate are an institution's");
	return 0;
}

int org_line_parse(const char *line, size_t len, struct org_line *out,
		   struct error *e)
{
	memset(out, 0, sizeof(*out));
	json_t *j = jsonx_line(line, len, ORG_LINE_MAX, line_fields, e);
	if (!j)
		return -1;
	const char *kbo = NULL;
	int rc = jsonx_str(j, "kbo", true, LIMIT_ID_INPUT, &kbo, e);
	enum id_status st = rc == 0 ? kbo_parse(kbo, strlen(kbo), out->kbo)
				    : ID_OK;
	if (rc == 0 && st != ID_OK)
		rc = err_set(e, ERR_INVALID, "invalid_kbo", "kbo: %s",
			     id_status_text(st));
	if (rc == 0)
		rc = text(j, "name", true, out->name, sizeof(out->name), e) ||
		     categories(j, out, e) || certificate(j, out, e) ||
		     institution(j, out, e) ? -1 : 0;
	if (rc == 0 && !out->name[0])
		rc = err_set(e, ERR_INVALID, "invalid_field", "name is empty");
	json_decref(j);
	return rc;
}

/* ---------------------------------------------------------------- upsert */

static void read_name(struct store_stmt *st, void *out)
{
	const char *v = store_col_text(st, 0);
	str_copy(out, 128, v ? v : "");
}

/* The organisation's registered name: 0, 1 when unknown, -1 with e. */
static int registered_name(struct store *s, const char *kbo, char name[128],
			   struct error *e)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return store_fail(e, "the organisations cannot be read now");
	struct store_stmt *st = store_prepare(r, sql_name);
	store_bind_text(st, 1, kbo);
	return store_one(st, read_name, name, e);
}

static int unchangeable(const char *field, struct error *e)
{
	return err_set(e, ERR_CONFLICT, "unchangeable_field",
		       "%s differs from the registered one, and an import "
		       "does not change it", field);
}

/* The institution's part of l: 1 when something changed, 0, -1 with e. */
static int institution_upsert(struct audit *log, const struct audit_actor *by,
			      const struct org_line *l, struct error *e)
{
	struct store *s = audit_store(log);
	struct org_institution inst;
	int changed = 0;
	int rc = org_institution_by_kbo(s, l->kbo, &inst);
	if (rc < 0)
		return store_fail(e, "the institutions cannot be read now");
	if (rc == 1) {
		if (org_institution_add(log, by, l->kbo, l->actor_type, l->branch,
					l->endpoint[0] ? l->endpoint : NULL,
					&inst.id, e) != 0)
			return -1;
		changed = 1;
	} else if (strcmp(inst.endpoint, l->endpoint) != 0) {
		if (org_institution_set_endpoint(log, by, l->kbo, l->endpoint,
						 e) != 0)
			return -1;
		changed = 1;
	}
	struct org_institution holder;
	/* Bound with the same validity: it identifies the institution at
	 * its first instant. */
	if (l->has_cert && (org_by_cert(s, l->cert_sha256, l->cert_not_before,
					&holder) != 0 ||
			    holder.id != inst.id)) {
		if (org_cert_add(log, by, l->kbo, l->cert_sha256,
				 l->cert_subject, l->cert_not_before,
				 l->cert_not_after, e) != 0)
			return -1;
		changed = 1;
	}
	return changed;
}

/* Refuse a line that would change what an import does not change. */
static int check_unchangeable(struct store *s, const struct org_line *l,
			      bool *known, struct error *e)
{
	char name[128];
	int rc = registered_name(s, l->kbo, name, e);
	if (rc < 0)
		return -1;
	*known = rc == 0;
	if (*known && strcmp(name, l->name) != 0)
		return unchangeable("name", e);
	struct org_institution inst;
	if (l->actor_type[0] && org_institution_by_kbo(s, l->kbo, &inst) == 0) {
		if (strcmp(inst.actor_type, l->actor_type) != 0)
			return unchangeable("actor_type", e);
		if (strcmp(inst.branch, l->branch) != 0)
			return unchangeable("branch", e);
	}
	return 0;
}

int org_upsert(struct audit *log, const struct audit_actor *by,
	       const struct org_line *l, enum org_outcome *out,
	       struct error *e)
{
	struct store *s = audit_store(log);
	bool known;
	if (check_unchangeable(s, l, &known, e) != 0)
		return -1;
	int changed = 0;
	if (!known && org_organisation_add(log, by, l->kbo, l->name, e) != 0)
		return -1;
	for (int i = 0; i < l->ncategories; i++) {
		if (org_has_category(s, l->kbo, l->categories[i]))
			continue;
		if (org_category_add(log, by, l->kbo, l->categories[i], e) != 0)
			return -1;
		changed = 1;
	}
	int inst = l->actor_type[0] ? institution_upsert(log, by, l, e) : 0;
	if (inst < 0)
		return -1;
	*out = !known ? ORG_INSERTED
		      : changed || inst ? ORG_UPDATED : ORG_UNCHANGED;
	return 0;
}
