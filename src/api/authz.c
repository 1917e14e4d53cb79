/* Authorizations: public to read; published by the operator, the
 * Crossroads Bank itself (its institution certificate on the network
 * listener; sessions with an operator role come later). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "authz/authz.h"
#include "directory/directory.h"

static json_t *authorization_json(const struct authz_authorization *a)
{
	char cap[8];
	snprintf(cap, sizeof(cap), "%03d", a->capacity % 1000);
	json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:i}", "reference",
			      a->reference, "requester_actor_type",
			      a->requester_actor_type, "capacity", cap,
			      "data_type", a->data_type, "purpose", a->purpose,
			      "valid_from", a->valid_from, "min_phase",
			      a->min_phase);
	json_object_set_new(j, "valid_until", a->valid_until[0]
						      ? json_string(a->valid_until)
						      : json_null());
	return j;
}

int api_authz_list(struct http_request *req, struct http_response *res,
		   void *app)
{
	KP_UNUSED(req);
	struct app *a = app;
	struct authz_authorization *list;
	int n;
	if (authz_list(a->store, &list, &n, &res->err) != 0)
		return -1;
	json_t *arr = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(arr, authorization_json(&list[i]));
	free(list);
	return http_reply_json(res, 200, arr);
}

/* Copy a required string member. */
static int need(json_t *body, const char *key, char *dst, size_t n,
		bool required, struct error *e)
{
	const char *v = "";
	int rc = jsonx_str(body, key, required, n - 1, &v, e);
	if (rc < 0)
		return -1;
	str_copy(dst, n, rc == 0 ? v : "");
	return 0;
}

int api_authz_create(struct http_request *req, struct http_response *res,
		     void *app)
{
	struct app *a = app;
	if (strcmp(req->who.actor_type, "crossroads_bank") != 0)
		return err_set(&res->err, ERR_FORBIDDEN, "operator_only",
			       "only the Crossroads Bank publishes "
			       "authorizations");
	struct authz_authorization z;
	memset(&z, 0, sizeof(z));
	const char *cap = NULL;
	int64_t phase = 1;
	json_t *b = req->json;
#define NEED(k, r) need(b, #k, z.k, sizeof(z.k), r, &res->err)
	if (NEED(reference, true) || NEED(requester_actor_type, true) ||
	    NEED(data_type, true) || NEED(purpose, true) ||
	    NEED(valid_from, true) || NEED(valid_until, false) ||
	    jsonx_str(b, "capacity", true, 3, &cap, &res->err) != 0 ||
	    jsonx_int(b, "min_phase", false, 1, 99, &phase, &res->err) < 0)
		return -1;
#undef NEED
	z.capacity = directory_capacity_parse(cap);
	z.min_phase = (int)phase;
	if (z.capacity < 0)
		return err_set(&res->err, ERR_INVALID, "unknown_capacity",
			       "capacity is a code 000-900 or 902");
	struct audit_actor by = api_actor(req);
	if (authz_add(a->audit, &by, &z, &res->err) != 0)
		return -1;
	return http_reply_json(res, 201, authorization_json(&z));
}
