/* Declarations of employment (docs/API.md, "Mandates and employment"): a
 * declarant's session acting for the employer or for its social
 * secretariat (profile org:<kbo>), with the role employment_declarant
 * there at level 400; src/employ checks it with everything else, and
 * records the declaration and every refusal about the worker. */
#include <math.h>
#include <string.h>

#include "api/api.h"
#include "employ/employ.h"

/* work_fraction: a number above 0, at most 1, kept in thousandths (0.8 is
 * 800): the one place a fraction is a floating-point number. */
static int read_fraction(json_t *body, int *out, struct error *e)
{
	json_t *v = json_object_get(body, "work_fraction");
	*out = 0;
	if (!v)
		return 0;
	double f = json_is_number(v) ? json_number_value(v) : -1;
	if (!(f > 0 && f <= 1))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "work_fraction: a number above 0, at most 1");
	*out = (int)lround(f * EMPLOY_FRACTION_FULL);
	if (*out < 1)
		*out = 1;
	return 0;
}

/* The body into d (strings copied). */
static int read_declaration(json_t *body, struct employ_declaration *d,
			    struct error *e)
{
	const char *employer, *worker, *kind = NULL, *start = "", *end = "";
	int64_t hours = 0, replaces = 0;
	bool cancel = false;
	memset(d, 0, sizeof(*d));
	if (jsonx_str(body, "employer", true, LIMIT_ID_INPUT, &employer, e) <
		    0 ||
	    jsonx_str(body, "worker", true, LIMIT_ID_INPUT, &worker, e) < 0 ||
	    jsonx_bool(body, "cancel", false, &cancel, e) < 0 ||
	    jsonx_int(body, "replaces", cancel, 1, INT64_MAX, &replaces, e) <
		    0 ||
	    jsonx_str(body, "kind", !cancel, 16, &kind, e) < 0 ||
	    jsonx_str(body, "start", !cancel, DATE_LEN - 1, &start, e) < 0 ||
	    jsonx_str(body, "end", false, DATE_LEN - 1, &end, e) < 0 ||
	    jsonx_int(body, "hours", false, 1, 100000, &hours, e) < 0 ||
	    read_fraction(body, &d->fraction, e) < 0)
		return -1;
	if (kbo_parse(employer, strlen(employer), d->employer) != ID_OK)
		return err_set(e, ERR_INVALID, "invalid_kbo",
			       "employer: not a valid enterprise number");
	struct insz id;
	if (insz_parse(worker, strlen(worker), &id) != ID_OK)
		return err_set(e, ERR_INVALID, "invalid_insz",
			       "worker: not a valid INSZ");
	str_copy(d->worker, sizeof(d->worker), id.digits);
	d->kind = employ_kind_parse(kind);
	if (!cancel && !d->kind)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "kind: student, flexi or ordinary");
	str_copy(d->start, sizeof(d->start), start);
	str_copy(d->end, sizeof(d->end), end);
	d->hours = (int)hours;
	d->replaces = replaces;
	d->cancelled = cancel;
	return 0;
}

int api_employ_declare(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	struct employ_declaration d;
	if (read_declaration(req->json, &d, &res->err) != 0)
		return -1;
	struct employ_declarant by = {.level = req->who.level,
				      .channel = api_actor(req).channel};
	str_copy(by.insz, sizeof(by.insz), req->who.insz);
	str_copy(by.profile, sizeof(by.profile), req->who.profile);
	if (employ_declare(a->audit, &by, &d, &res->err) != 0) {
		const char *why =
			employ_refusal_role(a->store, &by, d.employer);
		if (strcmp(res->err.code, "role_required") == 0)
			res->problem_extra = json_pack(
				"{s:s,s:s}", "role", "employment_declarant",
				"reason", why ? why : "missing");
		else if (strcmp(res->err.code, "insufficient_level") == 0)
			res->problem_extra = json_pack(
				"{s:i,s:i}", "required", EMPLOY_DECLARANT_LEVEL,
				"current", req->who.level);
		return -1;
	}
	json_t *j = json_pack("{s:I}", "id", (json_int_t)d.id);
	if (d.declared_via[0])
		json_object_set_new(j, "declared_via",
				    json_string(d.declared_via));
	return http_reply_json(res, 201, j);
}
