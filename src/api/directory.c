/* Reference directory endpoints on the network listener: an institution
 * integrates persons, closes and reads its own dossiers. src/directory
 * records each change, granted or refused, before the answer leaves. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "directory/directory.h"

/* "001" or 1. */
static int capacity_field(json_t *body, int *out, struct error *e)
{
	*out = directory_capacity_json(json_object_get(body, "capacity"));
	if (*out < 0)
		return err_set(e, ERR_INVALID, "unknown_capacity",
			       "capacity is a code 000-900 or 902");
	return 0;
}

static int dossier_body(json_t *body, struct directory_dossier *d,
			struct error *e)
{
	const char *insz, *start, *end = "";
	int64_t phase = 1;
	memset(d, 0, sizeof(*d));
	if (jsonx_str(body, "insz", true, 11, &insz, e) != 0 ||
	    capacity_field(body, &d->capacity, e) != 0 ||
	    jsonx_str(body, "start", true, DATE_LEN - 1, &start, e) != 0 ||
	    jsonx_str(body, "end", false, DATE_LEN - 1, &end, e) < 0 ||
	    jsonx_int(body, "phase", false, 1, 99, &phase, e) < 0)
		return -1;
	str_copy(d->insz, sizeof(d->insz), insz);
	str_copy(d->start, sizeof(d->start), start);
	str_copy(d->end, sizeof(d->end), end ? end : "");
	d->phase = (int)phase;
	return 0;
}

static json_t *dossier_json(const struct directory_dossier *d)
{
	char cap[8];
	snprintf(cap, sizeof(cap), "%03d", d->capacity % 1000);
	json_t *j = json_pack("{s:I,s:s,s:s,s:i,s:s}", "id", (json_int_t)d->id,
			      "insz", d->insz, "capacity", cap, "phase",
			      d->phase, "start", d->start);
	json_object_set_new(j, "end", d->end[0] ? json_string(d->end)
						: json_null());
	return j;
}

int api_dossier_create(struct http_request *req, struct http_response *res,
		       void *app)
{
	struct app *a = app;
	struct directory_dossier d;
	if (dossier_body(req->json, &d, &res->err) != 0)
		return -1;
	struct audit_actor by = api_actor(req);
	if (directory_integrate(a->audit, &by, req->who.institution_id,
				req->who.branch, &d, &res->err) != 0)
		return -1;
	return http_reply_json(res, 201, dossier_json(&d));
}

static int dossier_id(struct http_request *req, int64_t *id, struct error *e)
{
	char *end;
	long long v = strtoll(req->params[0], &end, 10);
	*id = 0; /* defined on the refusal too (no dossier has id 0) */
	if (*end || v <= 0 || strlen(req->params[0]) > 18)
		return err_set(e, ERR_NOT_FOUND, "unknown_dossier",
			       "you hold no dossier with this id");
	*id = v;
	return 0;
}

int api_dossier_close(struct http_request *req, struct http_response *res,
		      void *app)
{
	struct app *a = app;
	int64_t id;
	const char *end;
	struct directory_dossier d;
	if (dossier_id(req, &id, &res->err) != 0 ||
	    jsonx_str(req->json, "end", true, DATE_LEN - 1, &end, &res->err) != 0)
		return -1;
	struct audit_actor by = api_actor(req);
	if (directory_close(a->audit, &by, req->who.institution_id, id, end,
			    &d, &res->err) != 0)
		return -1;
	return http_reply_json(res, 200, dossier_json(&d));
}

int api_dossier_get(struct http_request *req, struct http_response *res,
		    void *app)
{
	struct app *a = app;
	int64_t id;
	struct directory_dossier d;
	if (dossier_id(req, &id, &res->err) != 0)
		return -1;
	if (directory_get(a->store, req->who.institution_id, id, &d) != 0)
		return err_set(&res->err, ERR_NOT_FOUND, "unknown_dossier",
			       "you hold no dossier with this id");
	return http_reply_json(res, 200, dossier_json(&d));
}
