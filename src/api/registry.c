/* Register endpoints on the network listener: BIS assignment and
 * mutations. src/registry records each, granted or refused, before the
 * answer leaves. */
#include <string.h>

#include "api/api.h"
#include "registry/registry.h"

/* Copy an optional string member into dst; -1 with res->err when it is
 * there but not a string or too long. */
static int opt_field(json_t *body, const char *key, char *dst, size_t n,
		     struct error *e)
{
	const char *v = NULL;
	int rc = jsonx_str(body, key, false, n - 1, &v, e);
	if (rc < 0)
		return -1;
	str_copy(dst, n, rc == 0 ? v : "");
	return 0;
}

/* The person fields a body may carry, into p. */
static int person_fields(json_t *body, struct registry_person *p,
			 struct error *e)
{
#define F(name) opt_field(body, #name, p->name, sizeof(p->name), e)
	return F(last_name) || F(first_names) || F(birth_date) ||
	       F(birth_place) || F(sex) || F(nationality) || F(street) ||
	       F(postal_code) || F(municipality) || F(country) || F(language)
		       ? -1 : 0;
#undef F
}

int api_registry_bis(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	struct registry_person p;
	memset(&p, 0, sizeof(p));
	if (person_fields(req->json, &p, &res->err) != 0)
		return -1;
	if (!p.last_name[0] || !p.first_names[0])
		return err_set(&res->err, ERR_INVALID, "invalid_field",
			       "last_name and first_names are required");
	struct audit_actor by = api_actor(req);
	bool existing;
	if (registry_assign_bis(a->audit, &by, &p, &existing, &res->err) != 0)
		return -1;
	/* A registered person keeps their number: 200 with it, not 201. */
	return http_reply_json(res, existing ? 200 : 201,
			       json_pack("{s:s,s:b}", "insz", p.insz,
					 "existing", existing));
}

static int mutation_body(json_t *body, struct registry_mutation *m,
			 struct error *e)
{
	const char *type, *on;
	memset(m, 0, sizeof(*m));
	if (jsonx_str(body, "type", true, 16, &type, e) != 0 ||
	    jsonx_str(body, "effective_on", true, DATE_LEN - 1, &on, e) != 0)
		return -1;
	if (registry_mutation_type_parse(type, &m->type) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "type must be address, death, birth, name or "
			       "pension");
	str_copy(m->effective_on, sizeof(m->effective_on), on);
	if (person_fields(body, &m->person, e) != 0 ||
	    opt_field(body, "pension_status", m->person.pension_status,
		      sizeof(m->person.pension_status), e) != 0)
		return -1;
	json_t *parents = json_object_get(body, "parents");
	if (parents && (!json_is_array(parents) || json_array_size(parents) > 2))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "parents is a list of at most two INSZ");
	size_t i;
	json_t *v;
	json_array_foreach(parents, i, v) {
		if (!json_is_string(v) || !insz_valid(json_string_value(v)) ||
		    strlen(json_string_value(v)) != 11)
			return err_set(e, ERR_INVALID, "invalid_insz",
				       "a parent is not a valid INSZ");
		str_copy(m->parents[m->nparents++], 12, json_string_value(v));
	}
	return 0;
}

int api_registry_mutation(struct http_request *req, struct http_response *res,
			  void *app)
{
	struct app *a = app;
	const char *insz = req->params[0];
	struct registry_mutation m;
	if (!insz_valid(insz) || strlen(insz) != 11)
		return err_set(&res->err, ERR_INVALID, "invalid_insz",
			       "the path does not hold a valid INSZ (digits)");
	if (mutation_body(req->json, &m, &res->err) != 0)
		return -1;
	char ticket[UUID_LEN];
	struct audit_actor by = api_actor(req);
	if (registry_mutate(a->audit, &by, insz, &m, req->who.actor_type,
			    req->who.institution_id, ticket, &res->err) != 0)
		return -1;
	/* The institutions that hold a file on the person learn of it
	 * through their mailboxes (src/hub forwards it). */
	if (a->hub)
		hub_mutation_recorded(a->hub);
	str_copy(res->ticket, sizeof(res->ticket), ticket);
	return http_reply_json(res, 201, json_pack("{s:s,s:s}", "ticket", ticket,
						   "type",
						   registry_mutation_type_name(m.type)));
}
