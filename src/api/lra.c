/* The registration office's endpoints (docs/API.md, "Registration office"):
 * an officer's eID session acting for the office (profile org:<kbo>). The
 * route table asks only for a session: src/lra checks the level, the
 * office, the lra_officer role and the accepted conditions, so that every
 * refusal is recorded in the audit log as the office's action it was;
 * these handlers add the refusal's details (required and current level,
 * role and reason) to the problem. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lra/lra.h"

/* The officer a request acts as. */
static struct lra_officer officer(const struct http_request *req)
{
	struct lra_officer o;
	memset(&o, 0, sizeof(o));
	str_copy(o.insz, sizeof(o.insz), req->who.insz);
	str_copy(o.profile, sizeof(o.profile), req->who.profile);
	if (strncmp(req->who.profile, "org:", 4) == 0)
		str_copy(o.office, sizeof(o.office), req->who.profile + 4);
	o.level = req->who.level;
	o.channel = api_actor(req).channel;
	return o;
}

/* The refusal's details in the problem, as the gate gives them. */
static int refused(struct app *a, const struct lra_officer *o,
		   struct http_response *res)
{
	const char *code = res->err.code;
	if (strcmp(code, "insufficient_level") == 0)
		res->problem_extra = json_pack("{s:i,s:i}", "required",
					       LRA_OFFICER_LEVEL, "current",
					       o->level);
	else if (strcmp(code, "role_required") == 0)
		res->problem_extra = json_pack(
			"{s:s,s:s}", "role", "lra_officer", "reason",
			lra_refusal_role(a->store, o) ? lra_refusal_role(a->store, o)
						      : "missing");
	return -1;
}

int api_lra_conditions(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	struct lra_officer o = officer(req);
	struct lra_conditions c;
	if (lra_conditions_get(a->audit, &o, &c, &res->err) != 0)
		return refused(a, &o, res);
	json_t *j = json_pack("{s:s,s:s}", "version", c.version, "text",
			      c.text);
	if (c.accepted) {
		char at[RFC3339_LEN];
		time_format_rfc3339(c.accepted_at, at);
		json_object_set_new(j, "accepted_at", json_string(at));
	}
	return http_reply_json(res, 200, j);
}

int api_lra_conditions_accept(struct http_request *req,
			      struct http_response *res, void *app)
{
	struct app *a = app;
	struct lra_officer o = officer(req);
	bool accept = false;
	const char *version;
	if (jsonx_bool(req->json, "accept", true, &accept, &res->err) != 0 ||
	    jsonx_str(req->json, "version", true, 31, &version, &res->err) !=
		    0)
		return -1;
	if (!accept)
		return err_set(&res->err, ERR_INVALID, "invalid_field",
			       "accept: true, to accept the conditions");
	if (lra_conditions_accept(a->audit, &o, version, &res->err) != 0)
		return refused(a, &o, res);
	return api_lra_conditions(req, res, app) == 0 ? (res->status = 201, 0)
						      : -1;
}

static json_t *person_json(const struct registry_person *p)
{
	/* Seed 003 lists what an office sees: names, birth date and place,
	 * sex, address. Nothing else leaves. */
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:{s:s,s:s,s:s,s:s}}",
			 "insz", p->insz, "register", p->register_,
			 "last_name", p->last_name, "first_names",
			 p->first_names, "birth_date", p->birth_date,
			 "birth_place", p->birth_place, "sex", p->sex,
			 "address", "street", p->street, "postal_code",
			 p->postal_code, "municipality", p->municipality,
			 "country", p->country);
}

int api_lra_persons(struct http_request *req, struct http_response *res,
		    void *app)
{
	struct app *a = app;
	struct lra_officer o = officer(req);
	struct lra_query q = {
		.purpose = http_query(req, "purpose"),
		.insz = http_query(req, "insz"),
		.last_name = http_query(req, "last_name"),
		.first_name = http_query(req, "first_name"),
		.birth_date = http_query(req, "birth_date"),
	};
	struct registry_person *p;
	int n;
	if (lra_search(a->audit, &o, &q, &p, &n, &res->err) != 0)
		return refused(a, &o, res);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, person_json(&p[i]));
	free(p);
	return http_reply_json(res, 200, arr);
}

/* Read the identification body into in (strings borrowed from req). */
static int read_identification(struct http_request *req,
			       struct lra_identification *in, struct error *e)
{
	const char *doc;
	json_t *checks;
	memset(in, 0, sizeof(*in));
	if (jsonx_str(req->json, "insz", true, LIMIT_ID_INPUT, &in->insz, e) ||
	    jsonx_str(req->json, "purpose", true, 200, &in->purpose, e) ||
	    jsonx_str(req->json, "document_type", true, 31, &doc, e) ||
	    jsonx_str(req->json, "document_number", true, 40,
		      &in->document_number, e) ||
	    jsonx_str(req->json, "document_valid_until", true, DATE_LEN - 1,
		      &in->document_valid_until, e) ||
	    jsonx_str(req->json, "issuing_country", true, 2,
		      &in->issuing_country, e))
		return -1;
	in->document = lra_document_parse(doc);
	checks = json_object_get(req->json, "checks");
	if (!json_is_object(checks))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "checks: {photo_compared, document_genuine, "
			       "document_not_expired, person_present}, each "
			       "true or false");
	bool *out[] = {&in->photo_compared, &in->document_genuine,
		       &in->document_not_expired, &in->person_present};
	const char *names[] = {"photo_compared", "document_genuine",
			       "document_not_expired", "person_present"};
	for (size_t i = 0; i < KP_NELEM(out); i++)
		if (jsonx_bool(checks, names[i], true, out[i], e) != 0)
			return -1;
	return 0;
}

int api_lra_identify(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	struct lra_officer o = officer(req);
	struct lra_identification in;
	if (read_identification(req, &in, &res->err) != 0)
		return -1;
	int64_t id;
	bool identified;
	if (lra_identify(a->audit, &o, &in, &id, &identified, &res->err) != 0)
		return refused(a, &o, res);
	return http_reply_json(res, 201,
			       json_pack("{s:I,s:s}", "id", (json_int_t)id,
					 "outcome", identified ? "identified"
							       : "failed"));
}

static json_t *keys_json(const struct auth_activation_issued *out)
{
	json_t *arr = json_array();
	int own = out->nkeys - out->others;
	for (int i = 0; i < own; i++)
		json_array_append_new(
			arr, json_pack("{s:s,s:s,s:s}", "holder", "self", "type",
				       out->keys_to_deactivate[i].type,
				       "status",
				       out->keys_to_deactivate[i].status));
	/* Another person's: that there is one, not whose nor which. */
	for (int i = own; i < out->nkeys; i++)
		json_array_append_new(arr, json_pack("{s:s}", "holder",
						     "another person"));
	return arr;
}

int api_lra_activation(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	struct lra_officer o = officer(req);
	uint64_t id;
	const char *email, *phone = NULL, *language;
	if (api_parse_u64(req->params[0], "id", true, &id, &res->err) != 0 ||
	    jsonx_str(req->json, "email", true, 254, &email, &res->err) != 0 ||
	    jsonx_str(req->json, "phone", false, 32, &phone, &res->err) < 0 ||
	    jsonx_str(req->json, "language", true, 2, &language, &res->err))
		return -1;
	struct auth_activation_issued out;
	char *letter = NULL;
	if (lra_activation(a->audit, a->auth, &o, (int64_t)id, email, phone,
			   language, &out, &letter, &res->err) != 0)
		return refused(a, &o, res);
	char until[RFC3339_LEN];
	time_format_rfc3339(out.expires_at, until);
	/* The code is shown once: in this answer, and in the letter to
	 * print now (the office's client renders letter_html). */
	json_t *j = json_pack("{s:s,s:s,s:o,s:i}", "activation_code", out.code,
			      "expires_at", until, "keys_to_deactivate",
			      keys_json(&out), "other_persons_keys",
			      out.others);
	if (letter)
		json_object_set_new(j, "letter_html", json_string(letter));
	secret_wipe(out.code, sizeof(out.code));
	if (letter)
		secret_wipe(letter, strlen(letter));
	free(letter);
	free(out.keys_to_deactivate);
	return http_reply_json(res, 201, j);
}

int api_lra_actions(struct http_request *req, struct http_response *res,
		    void *app)
{
	struct app *a = app;
	struct lra_officer o = officer(req);
	struct audit_record *r;
	int n;
	if (lra_actions(a->audit, &o, 100, &r, &n, &res->err) != 0)
		return refused(a, &o, res);
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		json_t *j = json_pack("{s:I,s:s,s:s,s:s}", "seq",
				      (json_int_t)r[i].seq, "at", r[i].at,
				      "action", r[i].action, "outcome",
				      r[i].outcome);
		const char *opt[][2] = {{"subject", r[i].subject},
					{"purpose", r[i].purpose},
					{"reason", r[i].reason}};
		for (size_t k = 0; k < KP_NELEM(opt); k++)
			if (opt[k][1][0])
				json_object_set_new(j, opt[k][0],
						    json_string(opt[k][1]));
		json_array_append_new(arr, j);
	}
	free(r);
	return http_reply_json(res, 200, arr);
}
