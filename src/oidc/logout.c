/*
 * RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). The
 * application sends the browser to /oidc/logout; as with a login, the
 * session cookie does not come along (SameSite=Strict), so the request is
 * checked, kept and bound to the browser, and the portal's page
 * /#/oidc/logout asks the person, ends the session with its own logout
 * (audited there) and then sends the browser to the application's
 * registered post-logout URI. A post_logout_redirect_uri is only ever
 * used when it is registered for the client the request names, by
 * client_id or by the ID token it presents as a hint, signed by us.
 */
#include <stdlib.h>
#include <string.h>

#include "oidc/oidc_internal.h"

static const char sql_done[] =
	"UPDATE oidc_request SET done_at = ?2 WHERE id_hash = ?1"
	" AND done_at IS NULL";

/* The audience of an ID token we signed (expired or not), or 1 when it is
 * not one: its signature must verify with one of our keys, found by kid. */
static int hint_client(struct oidc *o, const char *hint,
		       char aud[OIDC_CLIENT_ID_MAX + 1])
{
	cjose_err ce;
	cjose_jws_t *jws = strlen(hint) < 8192
				   ? cjose_jws_import(hint, strlen(hint), &ce)
				   : NULL;
	cjose_header_t *h = jws ? cjose_jws_get_protected(jws) : NULL;
	const char *kid = h ? cjose_header_get(h, CJOSE_HDR_KID, &ce) : NULL;
	const char *alg = h ? cjose_header_get(h, CJOSE_HDR_ALG, &ce) : NULL;
	bool ok = false;
	for (int i = 0; kid && alg && i < o->nkeys && !ok; i++)
		ok = strcmp(o->keys[i].kid, kid) == 0 &&
		     strcmp(o->keys[i].alg, alg) == 0 &&
		     cjose_jws_verify(jws, o->keys[i].jwk, &ce);
	uint8_t *plain = NULL;
	size_t n = 0;
	json_t *c = ok && cjose_jws_get_plaintext(jws, &plain, &n, &ce)
			    ? json_loadb((const char *)plain, n, 0, NULL)
			    : NULL;
	const char *a = json_string_value(json_object_get(c, "aud"));
	int rc = a && strlen(a) <= OIDC_CLIENT_ID_MAX ? 0 : 1;
	if (rc == 0)
		str_copy(aud, OIDC_CLIENT_ID_MAX + 1, a);
	json_decref(c);
	cjose_jws_release(jws);
	return rc;
}

/* Which client asks, and whether its post-logout URI is registered. */
static int logout_client(struct oidc *o, json_t *p, struct oidc_client *c,
			 struct error *e)
{
	const char *hint = oidc_param(p, "id_token_hint");
	const char *cid = oidc_param(p, "client_id");
	const char *uri = oidc_param(p, "post_logout_redirect_uri");
	char aud[OIDC_CLIENT_ID_MAX + 1] = "";
	memset(c, 0, sizeof(*c));
	if (hint && hint_client(o, hint, aud) != 0)
		return err_set(e, ERR_INVALID, "invalid_request",
			       "id_token_hint is not an ID token of ours");
	if (cid && aud[0] && strcmp(cid, aud) != 0)
		return err_set(e, ERR_INVALID, "invalid_request",
			       "client_id is not the hint's audience");
	const char *who = cid ? cid : aud[0] ? aud : NULL;
	int rc = who ? oidc_client_get(o, who, c, e) : 1;
	if (rc < 0)
		return -1;
	if (uri && (rc != 0 || !oidc_list_has(c->post_logout_uris, uri))) {
		oidc_client_clear(c);
		return err_set(e, ERR_INVALID, "invalid_redirect_uri",
			       "post_logout_redirect_uri is not one the "
			       "application registered");
	}
	return 0;
}

int oidc_logout(struct oidc *o, json_t *p, struct oidc_begin *out,
		struct error *e)
{
	memset(out, 0, sizeof(*out));
	struct oidc_client c;
	if (logout_client(o, p, &c, e) != 0)
		return -1;
	const char *state = oidc_param(p, "state");
	if (state && !text_plain(state, 512)) {
		oidc_client_clear(&c);
		return err_set(e, ERR_INVALID, "invalid_request",
			       "state is too long or not plain text");
	}
	json_t *kept = json_pack("{s:s,s:I}", "logout", "1", "created_at",
				 (json_int_t)time_now());
	const char *uri = oidc_param(p, "post_logout_redirect_uri");
	if (uri)
		json_object_set_new(kept, "post_logout_redirect_uri",
				    json_string(uri));
	if (uri && state)
		json_object_set_new(kept, "state", json_string(state));
	if (c.id[0])
		json_object_set_new(kept, "client_name", json_string(c.name));
	char id[OIDC_HANDLE_HEX];
	int rc = oidc_request_store(o, kept, c.id, id, out->binding, e);
	json_decref(kept);
	oidc_client_clear(&c);
	if (rc != 0)
		return -1;
	out->location = xasprintf("%s/#/oidc/logout?request=%s",
				  oidc_issuer(o), id);
	return 0;
}

json_t *oidc_logout_view(struct oidc *o, struct oidc_waiting *w)
{
	KP_UNUSED(o);
	json_t *v = json_pack("{s:s}", "kind", "logout");
	const char *name = oidc_param(w->params, "client_name");
	if (name)
		json_object_set_new(v, "client_name", json_string(name));
	json_decref(w->params);
	w->params = NULL;
	return v;
}

char *oidc_logout_done(struct oidc *o, const char *id, struct oidc_waiting *w,
		       struct error *e)
{
	uint8_t h[32];
	oidc_handle_hash(id, h);
	struct store_conn *c = store_write_begin(o->store, e);
	int rc = -1;
	if (c) {
		struct store_stmt *st = store_prepare(c, sql_done);
		store_bind_blob(st, 1, h, 32);
		store_bind_int(st, 2, time_now());
		rc = store_write_end(o->store, store_run(st, NULL, e), e);
	}
	const char *uri = oidc_param(w->params, "post_logout_redirect_uri");
	char *url = NULL;
	if (rc == 0 && uri) {
		const char *kv[] = {"state", oidc_param(w->params, "state")};
		url = oidc_back(uri, kv, KP_NELEM(kv));
	} else if (rc == 0)
		url = xasprintf("%s/#/", oidc_issuer(o));
	json_decref(w->params);
	w->params = NULL;
	return url;
}
