/* Mandates (docs/API.md, "Mandates"): a citizen's session at level 400
 * gives, lists and revokes their own; a holder's user with the
 * mandate_consult role lists the mandates its organisation holds today.
 * The route table checks the level and the role; src/mandate checks them
 * again, with the profile, and records. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "mandate/mandate.h"
#include "org/org.h"

static struct mandate_citizen citizen(const struct http_request *req)
{
	struct mandate_citizen c;
	memset(&c, 0, sizeof(c));
	str_copy(c.insz, sizeof(c.insz), req->who.insz);
	str_copy(c.profile, sizeof(c.profile),
		 req->who.profile[0] ? req->who.profile : "self");
	c.level = req->who.level;
	c.channel = api_actor(req).channel;
	return c;
}

int api_mandate_types(struct http_request *req, struct http_response *res,
		      void *app)
{
	KP_UNUSED(req);
	KP_UNUSED(app);
	int n;
	struct mandate_data_set *d = mandate_data_sets(&n);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		if (i > 0 && strcmp(d[i].type, d[i - 1].type) == 0)
			continue;
		json_t *sets = json_array(), *cats = json_array();
		for (int k = i; k < n && strcmp(d[k].type, d[i].type) == 0;
		     k++) {
			/* ISO 8601: calendar months, as the table counts. */
			char period[16];
			snprintf(period, sizeof(period), "P%dM",
				 d[k].max_months);
			json_array_append_new(sets,
					      json_pack("{s:s,s:s}", "code",
							d[k].code,
							"max_validity",
							period));
		}
		char c[8][MANDATE_CODE_LEN];
		int nc = mandate_holder_categories(d[i].type, c, 8);
		for (int k = 0; k < nc; k++)
			json_array_append_new(cats, json_string(c[k]));
		json_array_append_new(arr, json_pack("{s:s,s:o,s:o}", "code",
						     d[i].type, "data_sets",
						     sets, "holder_categories",
						     cats));
	}
	free(d);
	return http_reply_json(res, 200, arr);
}

int api_mandate_conditions(struct http_request *req,
			   struct http_response *res, void *app)
{
	KP_UNUSED(app);
	struct mandate_conditions c;
	if (mandate_conditions_get(req->params[0], http_query(req, "lang"), &c,
				   &res->err) != 0)
		return -1;
	return http_reply_json(res, 200,
			       json_pack("{s:s,s:s}", "version", c.version,
					 "text", c.text));
}

/* The holder's name as registered, for people who know an organisation
 * by its name rather than its number. */
static void add_holder_name(struct app *a, json_t *j, const char *kbo)
{
	char name[128];
	if (org_name(a->store, kbo, name, sizeof(name), NULL) == 0)
		json_object_set_new(j, "holder_name", json_string(name));
}

/* {kbo, name} and, with ?mandate_type=, whether the organisation may hold
 * a mandate of that type (may_hold, holder_category): what a citizen sees
 * before confirming a mandate. Names in the enterprise register are
 * public; the route asks for a session all the same. */
int api_organisation_get(struct http_request *req, struct http_response *res,
			 void *app)
{
	struct app *a = app;
	char kbo[11], name[128], category[MANDATE_CODE_LEN];
	const char *type = http_query(req, "mandate_type");
	if (kbo_parse(req->params[0], strlen(req->params[0]), kbo) != ID_OK)
		return err_set(&res->err, ERR_INVALID, "invalid_kbo",
			       "not a valid enterprise number");
	char kinds[8][MANDATE_CODE_LEN];
	if (type && mandate_holder_categories(type, kinds, 8) == 0)
		return err_set(&res->err, ERR_NOT_FOUND,
			       "unknown_mandate_type", "no such mandate type");
	int rc = org_name(a->store, kbo, name, sizeof(name), &res->err);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return err_set(&res->err, ERR_NOT_FOUND, "org_unknown",
			       "no organisation with this enterprise number "
			       "is registered");
	json_t *j = json_pack("{s:s,s:s}", "kbo", kbo, "name", name);
	if (type) {
		rc = mandate_holder_category(a->store, type, kbo, category,
					     &res->err);
		if (rc < 0) {
			json_decref(j);
			return -1;
		}
		json_object_set_new(j, "mandate_type", json_string(type));
		json_object_set_new(j, "may_hold", json_boolean(rc == 0));
		if (rc == 0)
			json_object_set_new(j, "holder_category",
					    json_string(category));
	}
	return http_reply_json(res, 200, j);
}

static json_t *mandate_json(struct app *a, const struct mandate *m,
			    bool mandator)
{
	json_t *j = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s}", "id",
			      (json_int_t)m->id, "type", m->type, "data_set",
			      m->data_set, "holder", m->holder, "valid_from",
			      m->valid_from, "valid_until", m->valid_until,
			      "status", m->status);
	add_holder_name(a, j, m->holder);
	if (mandator)
		json_object_set_new(j, "mandator", json_string(m->mandator));
	return j;
}

static json_t *mandates_json(struct app *a, struct mandate *m, int n,
			     bool mandator)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, mandate_json(a, &m[i], mandator));
	free(m);
	return arr;
}

int api_me_mandates(struct http_request *req, struct http_response *res,
		    void *app)
{
	struct app *a = app;
	struct mandate_citizen c = citizen(req);
	struct mandate *m;
	int n;
	if (mandate_list_own(a->store, &c, &m, &n, &res->err) != 0)
		return -1;
	return http_reply_json(res, 200, mandates_json(a, m, n, false));
}

int api_me_mandate_grant(struct http_request *req, struct http_response *res,
			 void *app)
{
	struct app *a = app;
	static const char *const fields[] = {"type", "data_set", "holder",
					     "valid_until",
					     "conditions_version", NULL};
	struct mandate_request r = {0};
	if (jsonx_known_fields(req->json, fields, &res->err) != 0 ||
	    jsonx_str(req->json, "type", true, MANDATE_CODE_LEN - 1, &r.type,
		      &res->err) != 0 ||
	    jsonx_str(req->json, "data_set", true, MANDATE_CODE_LEN - 1,
		      &r.data_set, &res->err) != 0 ||
	    jsonx_str(req->json, "holder", true, LIMIT_ID_INPUT, &r.holder,
		      &res->err) != 0 ||
	    jsonx_str(req->json, "valid_until", false, DATE_LEN - 1,
		      &r.valid_until, &res->err) < 0 ||
	    jsonx_str(req->json, "conditions_version", true, 31,
		      &r.conditions_version, &res->err) != 0)
		return -1;
	struct mandate_citizen c = citizen(req);
	struct mandate m;
	if (mandate_grant(a->audit, &c, &r, &m, &res->err) != 0)
		return -1;
	json_t *j = json_pack("{s:I,s:s,s:s,s:s}", "id", (json_int_t)m.id,
			      "holder", m.holder, "valid_from", m.valid_from,
			      "valid_until", m.valid_until);
	add_holder_name(a, j, m.holder);
	return http_reply_json(res, 201, j);
}

int api_me_mandate_revoke(struct http_request *req,
			  struct http_response *res, void *app)
{
	struct app *a = app;
	uint64_t id;
	if (api_parse_u64(req->params[0], "id", true, &id, &res->err) != 0)
		return -1;
	struct mandate_citizen c = citizen(req);
	if (mandate_revoke(a->audit, &c, (int64_t)id, &res->err) != 0)
		return -1;
	return http_reply_json(res, 200, json_pack("{s:s}", "status",
						   "revoked"));
}

int api_org_mandates(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	struct audit_actor by = api_actor(req);
	struct mandate *m;
	int n;
	if (mandate_list_held(a->audit, &by, req->who.level, req->params[0],
			      &m, &n, &res->err) != 0)
		return -1;
	return http_reply_json(res, 200, mandates_json(a, m, n, true));
}

/* The consultation's answer, or its refusal with the ticket. */
static int consult_reply(struct http_response *res, int rc,
			 const char *ticket, json_t *data, int level)
{
	str_copy(res->ticket, sizeof(res->ticket), ticket);
	if (rc != 0) {
		res->problem_extra = json_pack("{s:s}", "ticket", ticket);
		if (strcmp(res->err.code, "insufficient_level") == 0)
			json_object_update_new(
				res->problem_extra,
				json_pack("{s:i,s:i}", "required",
					  MANDATE_LEVEL, "current", level));
		return -1;
	}
	return http_reply_json(res, 200,
			       json_pack("{s:s,s:o}", "ticket", ticket, "data",
					 data));
}

/* mandator and data_set from the body; mandator as digits when valid
 * (src/mandate refuses it, recorded, when not). */
static int read_consult(struct http_request *req, const char **mandator,
			const char **data_set, struct insz *z,
			struct error *e)
{
	if (jsonx_str(req->json, "mandator", true, LIMIT_ID_INPUT, mandator,
		      e) != 0 ||
	    jsonx_str(req->json, "data_set", true, 64, data_set, e) != 0)
		return -1;
	if (insz_parse(*mandator, strlen(*mandator), z) == ID_OK)
		*mandator = z->digits;
	return 0;
}

/* The consultation under a mandate: the session acts for the holder
 * (profile org:<kbo>); src/mandate checks level, role, circle of trust
 * and the mandate, and records every answer and refusal with its ticket. */
int api_mandate_consult(struct http_request *req, struct http_response *res,
			void *app)
{
	struct app *a = app;
	const char *mandator, *data_set;
	struct insz z;
	if (read_consult(req, &mandator, &data_set, &z, &res->err) != 0)
		return -1;
	struct audit_actor by = api_actor(req);
	/* The organisation the session acts for is the one that asks. */
	if (strncmp(req->who.profile, "org:", 4) == 0)
		by.actor = req->who.profile + 4;
	char ticket[UUID_LEN];
	json_t *data;
	int rc = mandate_consult(a->audit, &by, req->who.level, mandator,
				 data_set, ticket, &data, &res->err);
	return consult_reply(res, rc, ticket, data, req->who.level);
}

/* The same on the network: the holder's system, by its certificate, names
 * the person it asks for (on_behalf_of in the body, or the
 * Kruispunt-On-Behalf-Of header; both must agree). */
int api_mandate_consult_network(struct http_request *req,
				struct http_response *res, void *app)
{
	struct app *a = app;
	const char *mandator, *data_set, *person = NULL;
	struct insz z, p;
	if (read_consult(req, &mandator, &data_set, &z, &res->err) != 0 ||
	    jsonx_str(req->json, "on_behalf_of", false, LIMIT_ID_INPUT,
		      &person, &res->err) < 0)
		return -1;
	/* by.user is the header's person, if any. */
	struct audit_actor by = api_actor(req);
	char ticket[UUID_LEN];
	int bad = 0;
	if (person && insz_parse(person, strlen(person), &p) != ID_OK)
		bad = err_set(&res->err, ERR_INVALID, "invalid_on_behalf_of",
			      "on_behalf_of: not a valid INSZ");
	else if (person && by.user && strcmp(p.digits, by.user) != 0)
		bad = err_set(&res->err, ERR_INVALID, "invalid_on_behalf_of",
			      "on_behalf_of and the " HTTP_ON_BEHALF_OF
			      " header name different persons");
	else if (person)
		by.user = p.digits;
	if (bad) /* an attack on the record: recorded too */
		return consult_reply(res,
				     mandate_consult_refused(a->audit, &by,
							     mandator, data_set,
							     &res->err, ticket),
				     ticket, NULL, 0);
	json_t *data;
	int rc = mandate_consult(a->audit, &by, 0, mandator, data_set, ticket,
				 &data, &res->err);
	return consult_reply(res, rc, ticket, data, 0);
}
