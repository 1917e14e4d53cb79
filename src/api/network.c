/* Network API endpoints that concern the calling institution itself. */
#include <string.h>

#include "api/api.h"
#include "org/org.h"

int api_resolve_institution(void *app, const uint8_t fp[SHA256_LEN],
			    struct http_principal *who, struct error *e)
{
	struct app *a = app;
	struct org_institution inst;
	int rc = org_by_cert(a->store, fp, time_now(), &inst);
	if (rc < 0)
		return store_fail(e, "cannot look up the certificate now");
	if (rc != 0)
		return rc;
	who->institution_id = inst.id;
	str_copy(who->kbo, sizeof(who->kbo), inst.kbo);
	str_copy(who->name, sizeof(who->name), inst.name);
	str_copy(who->actor_type, sizeof(who->actor_type), inst.actor_type);
	str_copy(who->branch, sizeof(who->branch), inst.branch);
	return 0;
}

/* Who the network believes the caller is: lets an integrator check its
 * certificate set-up before it sends personal data. */
int api_network_whoami(struct http_request *req, struct http_response *res,
		       void *app)
{
	KP_UNUSED(app);
	char fp[2 * SHA256_LEN + 1];
	hex_encode(req->cert->fingerprint, SHA256_LEN, fp);
	json_t *cert = json_pack("{s:s}", "fingerprint_sha256", fp);
	if (req->cert->subject[0])
		json_object_set_new(cert, "subject",
				    json_string(req->cert->subject));
	if (req->cert->not_after) {
		char when[RFC3339_LEN];
		time_format_rfc3339(req->cert->not_after, when);
		json_object_set_new(cert, "not_after", json_string(when));
	}
	return http_reply_json(res, 200,
			       json_pack("{s:s,s:s,s:s,s:s,s:o}",
					 "kbo", req->who.kbo,
					 "name", req->who.name,
					 "actor_type", req->who.actor_type,
					 "branch", req->who.branch,
					 "certificate", cert));
}

struct audit_actor api_actor(const struct http_request *req)
{
	if (req->who.kind == AUTH_INSTITUTION ||
	    req->who.kind == AUTH_ORGANISATION)
		return (struct audit_actor){
			AUDIT_CHANNEL_NETWORK, req->who.kbo,
			req->who.on_behalf_of[0] ? req->who.on_behalf_of : NULL,
			NULL};
	return (struct audit_actor){
		AUDIT_CHANNEL_API, NULL,
		req->who.insz[0] ? req->who.insz : NULL,
		req->who.profile[0] ? req->who.profile : "self"};
}

int api_resolve_session(void *app, const char *token,
			struct http_principal *who, struct error *e)
{
	struct app *a = app;
	struct auth_session s;
	int rc = auth_session_check(a->auth, token, &s);
	if (rc < 0)
		return store_fail(e, "sessions cannot be checked now");
	if (rc != 0)
		return rc;
	str_copy(who->insz, sizeof(who->insz), s.insz);
	str_copy(who->profile, sizeof(who->profile), s.profile);
	who->level = s.level;
	who->expires_at = s.expires_at;
	return 0;
}

void api_csrf(void *app, const char *token, char *out)
{
	struct app *a = app;
	auth_csrf(a->auth, token, out);
}

const char *api_public_url(void *app)
{
	struct app *a = app;
	return auth_public_url(a->auth);
}

/* The organisation a role is checked at: the route's {kbo}, or the one the
 * session acts for ("org:<kbo>"). NULL when held, else the reason
 * (org_role_reason). */
const char *api_has_role(void *app, struct http_request *req,
			 const char *role)
{
	struct app *a = app;
	const char *kbo = NULL;
	if (req->route && strstr(req->route->pattern, "{kbo}") && req->nparams)
		kbo = req->params[0];
	else if (strncmp(req->who.profile, "org:", 4) == 0)
		kbo = req->who.profile + 4;
	if (!kbo)
		return org_role_reason(ORG_ROLE_MISSING);
	return org_role_reason(org_role_state(a->store, req->who.insz, kbo,
					      role, date_to_days(date_today())));
}
