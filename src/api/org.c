/* Organisation endpoints (docs/API.md, "Organisations"): an organisation's
 * access manager gives and takes roles, and accepts the circle of trust.
 * The route table demands the access_manager role at the path's {kbo} and
 * level 400 (seed 001: users in the circle of trust log in at FAS 400 or
 * more). Every change is an audit event naming who made it. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "org/org.h"

static json_t *role_json(const struct org_role *r)
{
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id",
			 (json_int_t)r->id, "insz", r->insz, "role", r->role,
			 "valid_from", r->valid_from, "valid_until",
			 r->valid_until, "granted_by", r->granted_by, "status",
			 r->revoked ? "revoked" : "active");
}

int api_org_roles(struct http_request *req, struct http_response *res,
		  void *app)
{
	struct app *a = app;
	struct org_role *l;
	int n;
	if (org_roles(a->store, req->params[0], &l, &n, &res->err) != 0)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, role_json(&l[i]));
	free(l);
	return http_reply_json(res, 200, arr);
}

/* Read {insz, role, valid_until, valid_from?} into r. */
static int read_grant(struct http_request *req, struct org_role *r,
		      struct error *e)
{
	const char *insz, *role, *until, *from = NULL;
	if (jsonx_str(req->json, "insz", true, LIMIT_ID_INPUT, &insz, e) != 0 ||
	    jsonx_str(req->json, "role", true, 31, &role, e) != 0 ||
	    jsonx_str(req->json, "valid_until", true, DATE_LEN - 1, &until,
		      e) != 0 ||
	    jsonx_str(req->json, "valid_from", false, DATE_LEN - 1, &from, e) < 0)
		return -1;
	struct insz z;
	if (insz_parse(insz, strlen(insz), &z) != 0)
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "insz: not a valid national register or BIS "
			       "number");
	str_copy(r->insz, sizeof(r->insz), z.digits);
	str_copy(r->role, sizeof(r->role), role);
	str_copy(r->valid_until, sizeof(r->valid_until), until);
	str_copy(r->valid_from, sizeof(r->valid_from), from ? from : "");
	return 0;
}

int api_org_role_grant(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	struct org_role r;
	memset(&r, 0, sizeof(r));
	str_copy(r.kbo, sizeof(r.kbo), req->params[0]);
	if (read_grant(req, &r, &res->err) != 0)
		return -1;
	struct audit_actor by = api_actor(req);
	if (org_role_grant(a->audit, &by, &r, &res->err) != 0)
		return -1;
	return http_reply_json(res, 201, role_json(&r));
}

int api_org_role_revoke(struct http_request *req, struct http_response *res,
			void *app)
{
	struct app *a = app;
	struct org_role r;
	char *end;
	long long id = strtoll(req->params[1], &end, 10);
	if (*end || id <= 0)
		return err_set(&res->err, ERR_NOT_FOUND,
			       "unknown_role_assignment",
			       "no role assignment with this id here");
	struct audit_actor by = api_actor(req);
	if (org_role_revoke(a->audit, &by, req->params[0], id, &r,
			    &res->err) != 0)
		return -1;
	return http_reply_json(res, 200, role_json(&r));
}

/* {valid_until}: the new end, within the maximum validity from today. */
int api_org_role_renew(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	struct org_role r;
	const char *until;
	char *end;
	long long id = strtoll(req->params[1], &end, 10);
	if (*end || id <= 0)
		return err_set(&res->err, ERR_NOT_FOUND,
			       "unknown_role_assignment",
			       "no role assignment with this id here");
	if (jsonx_str(req->json, "valid_until", true, DATE_LEN - 1, &until,
		      &res->err) != 0)
		return -1;
	struct audit_actor by = api_actor(req);
	if (org_role_renew(a->audit, &by, req->params[0], id, until, &r,
			   &res->err) != 0)
		return -1;
	return http_reply_json(res, 200, role_json(&r));
}

int api_org_circle(struct http_request *req, struct http_response *res,
		   void *app)
{
	struct app *a = app;
	const char *ref;
	json_t *accept = json_object_get(req->json, "accept");
	if (!json_is_true(accept))
		return err_set(&res->err, ERR_INVALID, "invalid_field",
			       "accept: true (the circle-of-trust criteria "
			       "are accepted, not negotiated)");
	if (jsonx_str(req->json, "processing_register_ref", true, 128, &ref,
		      &res->err) != 0)
		return -1;
	struct audit_actor by = api_actor(req);
	if (org_circle_accept(a->audit, &by, req->params[0], ref,
			      &res->err) != 0)
		return -1;
	char now[RFC3339_LEN];
	time_format_rfc3339(time_now(), now);
	return http_reply_json(res, 201,
			       json_pack("{s:s,s:b,s:s,s:s}", "kbo", req->params[0],
					 "accepted", 1,
					 "processing_register_ref", ref,
					 "accepted_at", now));
}

/* The registration as recorded, or {kbo, accepted: false} before any. */
int api_org_circle_get(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	struct org_circle c;
	struct audit_actor by = api_actor(req);
	int rc = org_circle_get(a->audit, &by, req->params[0], &c, &res->err);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return http_reply_json(res, 200,
				       json_pack("{s:s,s:b}", "kbo",
						 req->params[0], "accepted",
						 0));
	char at[RFC3339_LEN];
	time_format_rfc3339(c.accepted_at, at);
	return http_reply_json(
		res, 200,
		json_pack("{s:s,s:b,s:s,s:s,s:s}", "kbo", c.kbo, "accepted", 1,
			  "processing_register_ref", c.register_ref,
			  "accepted_by", c.accepted_by, "accepted_at", at));
}

static json_t *control_json(const struct org_control *c)
{
	char at[RFC3339_LEN];
	time_format_rfc3339(c->recorded_at, at);
	return json_pack("{s:I,s:s,s:s,s:s,s:s,s:s}", "id", (json_int_t)c->id,
			 "checked_by", c->checked_by, "checked_on",
			 c->checked_on, "what", c->what, "finding",
			 c->finding, "recorded_at", at);
}

int api_org_control_add(struct http_request *req, struct http_response *res,
			void *app)
{
	struct app *a = app;
	struct org_control c;
	const char *on, *what, *finding;
	memset(&c, 0, sizeof(c));
	if (jsonx_str(req->json, "checked_on", true, DATE_LEN - 1, &on,
		      &res->err) != 0 ||
	    jsonx_str(req->json, "what", true, sizeof(c.what) - 1, &what,
		      &res->err) != 0 ||
	    jsonx_str(req->json, "finding", true, sizeof(c.finding) - 1,
		      &finding, &res->err) != 0)
		return -1;
	str_copy(c.kbo, sizeof(c.kbo), req->params[0]);
	str_copy(c.checked_on, sizeof(c.checked_on), on);
	str_copy(c.what, sizeof(c.what), what);
	str_copy(c.finding, sizeof(c.finding), finding);
	struct audit_actor by = api_actor(req);
	if (org_control_add(a->audit, &by, &c, &res->err) != 0)
		return -1;
	return http_reply_json(res, 201, control_json(&c));
}

int api_org_controls(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	struct org_control *c;
	int n;
	if (org_controls(a->store, req->params[0], &c, &n, &res->err) != 0)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, control_json(&c[i]));
	free(c);
	return http_reply_json(res, 200, arr);
}

/* The supervisor's export: one JSON object a line, oldest first. */
int api_org_controls_export(struct http_request *req,
			    struct http_response *res, void *app)
{
	struct app *a = app;
	struct org_control *c;
	int n;
	if (org_controls(a->store, req->params[0], &c, &n, &res->err) != 0)
		return -1;
	struct buf b;
	buf_init(&b, (size_t)n * 2048 + 1);
	for (int i = n - 1; i >= 0; i--) {
		json_t *j = control_json(&c[i]);
		char *line = json_dumps(j, JSON_COMPACT);
		buf_puts(&b, line);
		buf_puts(&b, "\n");
		free(line);
		json_decref(j);
	}
	free(c);
	res->text = buf_take(&b, &res->text_len);
	res->content_type = "application/x-ndjson";
	res->status = 200;
	return 0;
}

/* ------------------------------------------------ social secretariats */

static json_t *affiliation_json(const struct org_affiliation *f)
{
	json_t *j = json_pack(
		"{s:I,s:s,s:s,s:o,s:s,s:s}", "id", (json_int_t)f->id,
		"secretariat", f->secretariat, "valid_from", f->valid_from,
		"valid_until",
		f->valid_until[0] ? json_string(f->valid_until) : json_null(),
		"created_by", f->created_by, "status",
		org_affiliation_status(f, date_to_days(date_today())));
	if (f->revoked_at) {
		char at[RFC3339_LEN];
		time_format_rfc3339(f->revoked_at, at);
		json_object_set_new(j, "revoked_at", json_string(at));
		json_object_set_new(j, "revoked_by", json_string(f->revoked_by));
	}
	return j;
}

int api_org_secretariats(struct http_request *req, struct http_response *res,
			 void *app)
{
	struct app *a = app;
	struct org_affiliation *l;
	int n;
	if (org_affiliations(a->store, req->params[0], &l, &n, &res->err) != 0)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, affiliation_json(&l[i]));
	free(l);
	return http_reply_json(res, 200, arr);
}

/* {kbo, valid_from?, valid_until?}: the employer of the path affiliates
 * with the social secretariat kbo. */
int api_org_secretariat_add(struct http_request *req,
			    struct http_response *res, void *app)
{
	struct app *a = app;
	struct org_affiliation f;
	const char *kbo, *from = NULL, *until = NULL;
	memset(&f, 0, sizeof(f));
	if (jsonx_str(req->json, "kbo", true, LIMIT_ID_INPUT, &kbo,
		      &res->err) != 0 ||
	    jsonx_str(req->json, "valid_from", false, DATE_LEN - 1, &from,
		      &res->err) < 0 ||
	    jsonx_str(req->json, "valid_until", false, DATE_LEN - 1, &until,
		      &res->err) < 0)
		return -1;
	if (kbo_parse(kbo, strlen(kbo), f.secretariat) != ID_OK)
		return err_set(&res->err, ERR_INVALID, "invalid_kbo",
			       "kbo: not a valid enterprise number");
	str_copy(f.employer, sizeof(f.employer), req->params[0]);
	str_copy(f.valid_from, sizeof(f.valid_from), from ? from : "");
	str_copy(f.valid_until, sizeof(f.valid_until), until ? until : "");
	struct audit_actor by = api_actor(req);
	if (org_affiliation_add(a->audit, &by, &f, &res->err) != 0)
		return -1;
	return http_reply_json(res, 201, affiliation_json(&f));
}

int api_org_secretariat_end(struct http_request *req,
			    struct http_response *res, void *app)
{
	struct app *a = app;
	struct org_affiliation f;
	char *end;
	long long id = strtoll(req->params[1], &end, 10);
	if (*end || id <= 0)
		return err_set(&res->err, ERR_NOT_FOUND, "unknown_affiliation",
			       "no affiliation with this id here");
	struct audit_actor by = api_actor(req);
	if (org_affiliation_end(a->audit, &by, req->params[0], id, &f,
				&res->err) != 0)
		return -1;
	return http_reply_json(res, 200, affiliation_json(&f));
}
