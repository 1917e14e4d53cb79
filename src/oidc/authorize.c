/*
 * The authorization request (OpenID Connect Core 3.1.2, RFC 6749 4.1,
 * RFC 7636): checked, kept while the person logs in on the portal, and
 * answered with a one-time code. Only the authorization code flow, only
 * with PKCE S256, only the query response mode: the smallest set an
 * off-the-shelf client needs, and none of the flows that put tokens in a
 * URL.
 */
#include <stdlib.h>
#include <curl/curl.h>
#include <string.h>

#include "oidc/oidc_internal.h"

static const char sql_request_add[] =
	"INSERT INTO oidc_request (id_hash, binding_hash, client, params,"
	" expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_request_count[] =
	"SELECT count(*) FROM oidc_request";
static const char sql_request_get[] =
	"SELECT binding_hash, client, params FROM oidc_request"
	" WHERE id_hash = ?1 AND done_at IS NULL AND expires_at > ?2";
static const char sql_request_done[] =
	"UPDATE oidc_request SET done_at = ?2 WHERE id_hash = ?1"
	" AND done_at IS NULL";
static const char sql_code_add[] =
	"INSERT INTO oidc_code (code_hash, client, redirect_uri, challenge,"
	" scope, nonce, claims, insz, profile, level, amr, auth_time,"
	" session_hash, expires_at) VALUES"
	" (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

void oidc_begin_free(struct oidc_begin *b)
{
	free(b->location);
	b->location = NULL;
}

const char *oidc_param(json_t *p, const char *k)
{
	const char *v = json_string_value(json_object_get(p, k));
	return v && *v ? v : NULL; /* empty is absent (RFC 6749 3.1) */
}

/* A value as a URL query carries it, percent-encoded by libcurl (RFC
 * 3986's unreserved characters kept; caller frees). */
static char *escape(const char *v)
{
	char *c = curl_easy_escape(NULL, v, 0);
	char *out = xstrdup(c ? c : "");
	curl_free(c);
	return out;
}

/* The redirect back to the client: its URI, then ours (query). */
char *oidc_back(const char *uri, const char *const *kv, size_t n)
{
	struct buf b;
	buf_init(&b, 8192);
	buf_puts(&b, uri);
	char sep = strchr(uri, '?') ? '&' : '?';
	for (size_t i = 0; i + 1 < n; i += 2) {
		if (!kv[i + 1])
			continue;
		char *v = escape(kv[i + 1]);
		buf_printf(&b, "%c%s=%s", sep, kv[i], v);
		free(v);
		sep = '&';
	}
	return buf_take(&b, NULL);
}

static char *error_back(struct oidc *o, const char *uri, const char *state,
			const char *error, const char *why)
{
	const char *kv[] = {"error", error, "error_description", why,
			    "state", state, "iss", oidc_issuer(o)};
	return oidc_back(uri, kv, KP_NELEM(kv));
}

/* The lowest level an acr value list names ("urn:...:Level400 ..."), or
 * 0 when it names none we know. */
static int acr_min(const char *list)
{
	int best = 0;
	size_t plen = strlen(OIDC_ACR_PREFIX);
	for (const char *p = list; p && *p;) {
		while (*p == ' ')
			p++;
		size_t k = strcspn(p, " ");
		if (k == plen + 3 && strncmp(p, OIDC_ACR_PREFIX, plen) == 0) {
			int v = (p[plen] - '0') * 100 + (p[plen + 1] - '0') * 10 +
				(p[plen + 2] - '0');
			if (v >= 100 && v <= 500 && (best == 0 || v < best))
				best = v;
		}
		p += k;
	}
	return best;
}

/* The acr the claims parameter asks for (id_token.acr value or values). */
static int claims_acr(const char *claims, bool *bad)
{
	if (!claims)
		return 0;
	json_t *j = strlen(claims) <= 2048 ? json_loads(claims, 0, NULL)
					   : NULL;
	if (!json_is_object(j)) {
		*bad = true;
		json_decref(j);
		return 0;
	}
	json_t *acr = json_object_get(json_object_get(j, "id_token"), "acr");
	int best = acr_min(json_string_value(json_object_get(acr, "value")));
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(acr, "values"), i, v) {
		int l = acr_min(json_string_value(v));
		if (l && (best == 0 || l < best))
			best = l;
	}
	json_decref(j);
	return best;
}

static bool challenge_ok(const char *c)
{
	return c && strlen(c) == 43 &&
	       strspn(c, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789-_") == 43;
}

static bool prompt_ok(const char *p)
{
	if (!p)
		return true;
	bool none = oidc_list_has(p, "none");
	int words = 0;
	for (const char *q = p; *q;) {
		while (*q == ' ')
			q++;
		size_t k = strcspn(q, " ");
		if (k) {
			words++;
			if (!((k == 4 && !strncmp(q, "none", 4)) ||
			      (k == 5 && !strncmp(q, "login", 5)) ||
			      (k == 7 && !strncmp(q, "consent", 7)) ||
			      (k == 14 && !strncmp(q, "select_account", 14))))
				return false;
		}
		q += k;
	}
	return !(none && words > 1);
}

static const char *ui_locale(const char *list)
{
	static const char *const ok[] = {"nl", "fr", "de", "en"};
	for (const char *p = list; p && *p;) {
		while (*p == ' ')
			p++;
		for (size_t i = 0; i < KP_NELEM(ok); i++)
			if (strncmp(p, ok[i], 2) == 0 &&
			    (p[2] == ' ' || p[2] == '-' || p[2] == '\0'))
				return ok[i];
		p += strcspn(p, " ");
	}
	return NULL;
}

/* Every parameter but the client and the redirect: the first problem as
 * an OAuth error code (and why), or NULL when the request is sound. */
static const char *request_problem(struct oidc *o, json_t *p,
				   const struct oidc_client *c,
				   const char **why, int *level)
{
	const char *scope = oidc_param(p, "scope");
	const char *mode = oidc_param(p, "response_mode");
	const char *max_age = oidc_param(p, "max_age");
	bool bad_claims = false;
	int asked = acr_min(oidc_param(p, "acr_values"));
	int claimed = claims_acr(oidc_param(p, "claims"), &bad_claims);
	struct auth_app app;
	*level = c->min_level;
	/* The catalogue is the authority: when it cannot say, no login. */
	if (c->app[0] && auth_app(o->auth, c->app, &app) != 0) {
		*why = "the application's catalogue entry cannot be read";
		return "server_error";
	}
	if (c->app[0] && app.min_level > *level)
		*level = app.min_level;
	/* A client may ask for more than its minimum, never for less. */
	if (asked > *level)
		*level = asked;
	if (claimed > *level)
		*level = claimed;
	const char *checks[][3] = {
		{oidc_param(p, "request") ? "" : NULL, "request_not_supported",
		 "request objects are not supported"},
		{oidc_param(p, "request_uri") ? "" : NULL,
		 "request_uri_not_supported", "request_uri is not supported"},
		{strcmp(oidc_param(p, "response_type") ? oidc_param(p, "response_type")
						  : "",
			"code")
			 ? ""
			 : NULL,
		 "unsupported_response_type", "only response_type=code"},
		{mode && strcmp(mode, "query") ? "" : NULL, "invalid_request",
		 "only response_mode=query"},
		{!scope || !oidc_list_has(scope, "openid") ? "" : NULL,
		 "invalid_scope", "scope must include openid"},
		{!challenge_ok(oidc_param(p, "code_challenge")) ? "" : NULL,
		 "invalid_request",
		 "PKCE is required: code_challenge (S256, 43 characters)"},
		{strcmp(oidc_param(p, "code_challenge_method")
				? oidc_param(p, "code_challenge_method")
				: "",
			"S256")
			 ? ""
			 : NULL,
		 "invalid_request", "code_challenge_method must be S256"},
		{!prompt_ok(oidc_param(p, "prompt")) ? "" : NULL, "invalid_request",
		 "prompt: none alone, or login, consent, select_account"},
		{max_age && (strlen(max_age) > 9 ||
			     strspn(max_age, "0123456789") != strlen(max_age))
			 ? ""
			 : NULL,
		 "invalid_request", "max_age: seconds"},
		{bad_claims ? "" : NULL, "invalid_request",
		 "claims: a JSON object"},
	};
	for (size_t i = 0; i < KP_NELEM(checks); i++)
		if (checks[i][0]) {
			*why = checks[i][2];
			return checks[i][1];
		}
	static const char *const texts[] = {"state", "nonce", "login_hint",
					    "ui_locales", "acr_values"};
	for (size_t i = 0; i < KP_NELEM(texts); i++) {
		const char *v = oidc_param(p, texts[i]);
		if (v && !text_plain(v, 512)) {
			*why = "a parameter is too long or not plain text";
			return "invalid_request";
		}
	}
	for (const char *q = scope; *q;) {
		while (*q == ' ')
			q++;
		size_t k = strcspn(q, " ");
		char word[32];
		if (k && k < sizeof(word)) {
			memcpy(word, q, k);
			word[k] = '\0';
			if (!oidc_list_has(c->scopes, word) &&
			    (!strcmp(word, "egovnrn") || !strcmp(word, "email") ||
			     !strcmp(word, "profile"))) {
				*why = "a scope this client is not registered "
				       "for";
				return "invalid_scope";
			}
		}
		q += k;
	}
	return NULL;
}

/* Only the scopes we know and the client may have: others are ignored
 * (OpenID Connect Core 3.1.2.1). */
static void scope_kept(const char *asked, const struct oidc_client *c,
		       char out[128])
{
	static const char *const known[] = {"openid", "profile", "email",
					    "egovnrn"};
	out[0] = '\0';
	for (size_t i = 0; i < KP_NELEM(known); i++)
		if (oidc_list_has(asked, known[i]) &&
		    oidc_list_has(c->scopes, known[i])) {
			oidc_list_add(out, 128, known[i]);
		}
}

static json_t *request_kept(json_t *p, const struct oidc_client *c, int level)
{
	char scope[128];
	scope_kept(oidc_param(p, "scope"), c, scope);
	json_t *k = json_pack("{s:s,s:s,s:s,s:s,s:i,s:I}", "client_id", c->id,
			      "redirect_uri", oidc_param(p, "redirect_uri"), "scope",
			      scope, "code_challenge",
			      oidc_param(p, "code_challenge"), "level", level,
			      "created_at", (json_int_t)time_now());
	static const char *const opt[] = {"state", "nonce", "prompt",
					  "max_age", "login_hint"};
	for (size_t i = 0; i < KP_NELEM(opt); i++)
		if (oidc_param(p, opt[i]))
			json_object_set_new(k, opt[i],
					    json_string(oidc_param(p, opt[i])));
	const char *loc = ui_locale(oidc_param(p, "ui_locales"));
	if (loc)
		json_object_set_new(k, "ui_locale", json_string(loc));
	return k;
}

int oidc_request_store(struct oidc *o, json_t *kept, const char *client,
			 char id[OIDC_HANDLE_HEX],
			 char binding[OIDC_HANDLE_HEX], struct error *e)
{
	uint8_t idh[32], bh[32];
	oidc_handle_new(id);
	oidc_handle_new(binding);
	oidc_handle_hash(id, idh);
	oidc_handle_hash(binding, bh);
	char *text = json_dumps(kept, JSON_COMPACT);
	struct store_conn *w = store_write_begin(o->store, e);
	if (!w) {
		free(text);
		return -1;
	}
	oidc_sweep(o, w);
	struct store_stmt *st = store_prepare(w, sql_request_count);
	int64_t waiting = 0;
	if (store_one(st, store_read_int, &waiting, e) < 0) {
		store_write_rollback(o->store);
		free(text);
		return -1;
	}
	if (waiting >= OIDC_REQUESTS_MAX) {
		store_write_rollback(o->store);
		free(text);
		return err_set(e, ERR_UNAVAILABLE, "busy",
			       "too many logins are waiting; try again in a "
			       "few minutes");
	}
	st = store_prepare(w, sql_request_add);
	store_bind_blob(st, 1, idh, 32);
	store_bind_blob(st, 2, bh, 32);
	store_bind_text(st, 3, client);
	store_bind_text(st, 4, text);
	store_bind_int(st, 5, time_now() + o->cfg.request_ttl_s);
	int rc = store_run(st, NULL, e);
	free(text);
	return store_write_end(o->store, rc, e);
}

int oidc_authorize(struct oidc *o, json_t *p, struct oidc_begin *out,
		   struct error *e)
{
	memset(out, 0, sizeof(*out));
	struct oidc_client c;
	const char *uri = oidc_param(p, "redirect_uri");
	int rc = oidc_client_get(o, oidc_param(p, "client_id"), &c, e);
	if (rc < 0)
		return -1;
	/* Until the redirect URI is known to be the client's, nothing goes
	 * back to it: an attacker's URI would receive the answer. A 400, as
	 * the contract says: OAuth's bad request, not a form's field. */
	if (rc > 0)
		return err_set(e, ERR_MALFORMED, "invalid_client",
			       "this application is not registered here");
	bool uri_ok = uri && oidc_list_has(c.redirect_uris, uri);
	if (!uri_ok) {
		oidc_client_clear(&c);
		return err_set(e, ERR_MALFORMED, "invalid_redirect_uri",
			       "redirect_uri is not one this application "
			       "registered");
	}
	const char *why = NULL;
	int level = 0;
	const char *problem = request_problem(o, p, &c, &why, &level);
	if (problem) {
		out->location = error_back(o, uri, oidc_param(p, "state"), problem,
					   why);
		oidc_client_clear(&c);
		return 0;
	}
	json_t *kept = request_kept(p, &c, level);
	char id[OIDC_HANDLE_HEX];
	rc = oidc_request_store(o, kept, c.id, id, out->binding, e);
	json_decref(kept);
	oidc_client_clear(&c);
	if (rc != 0)
		return -1;
	out->location = xasprintf("%s/#/oidc?request=%s", oidc_issuer(o), id);
	return 0;
}

/* ------------------------------------------------ the waiting request */

static void read_waiting(struct store_stmt *st, void *out)
{
	struct oidc_waiting *w = out;
	size_t n = 0;
	const void *b = store_col_blob(st, 0, &n);
	if (b && n == 32)
		memcpy(w->binding, b, 32);
	str_copy(w->client, sizeof(w->client), store_col_text(st, 1));
	w->params = json_loads(store_col_text(st, 2), 0, NULL);
}

/* The request id names, if this browser's binding matches. Returns 0
 * with *w (free w->params), or -1 with e (unknown_request). */
int oidc_waiting_get(struct oidc *o, const char *id, const char *binding,
		       struct oidc_waiting *w, struct error *e)
{
	memset(w, 0, sizeof(*w));
	uint8_t idh[32], bh[32];
	bool shaped = id && binding && strlen(id) == 64 && strlen(binding) == 64;
	int rc = 1;
	if (shaped) {
		oidc_handle_hash(id, idh);
		oidc_handle_hash(binding, bh);
		struct store_stmt *st =
			store_prepare(store_reader(o->store), sql_request_get);
		store_bind_blob(st, 1, idh, 32);
		store_bind_int(st, 2, time_now());
		rc = store_one(st, read_waiting, w, e);
		if (rc < 0)
			return -1;
	}
	if (rc == 0 && w->params && ct_equal(w->binding, bh, 32))
		return 0;
	json_decref(w->params);
	w->params = NULL;
	return err_set(e, ERR_NOT_FOUND, "unknown_request",
		       "this login request is unknown, ended or expired: go "
		       "back to the application and start again");
}

static int64_t num(json_t *p, const char *k)
{
	const char *v = oidc_param(p, k);
	return v ? strtoll(v, NULL, 10) : -1;
}

/* What the session still lacks for the request: NULL when it suffices. */
static const char *lacking(json_t *p, const struct auth_session *s)
{
	if (!s)
		return "login";
	int64_t max_age = num(p, "max_age");
	int64_t created = json_integer_value(json_object_get(p, "created_at"));
	const char *prompt = oidc_param(p, "prompt");
	if (max_age >= 0 && time_now() - s->auth_time > max_age)
		return "login";
	if (prompt && oidc_list_has(prompt, "login") && s->auth_time < created)
		return "login";
	int level = (int)json_integer_value(json_object_get(p, "level"));
	if (s->level < level)
		return level > 400 ? "eid" : "step_up";
	return NULL;
}

json_t *oidc_request_view(struct oidc *o, const char *id, const char *binding,
			  const struct auth_session *s, struct error *e)
{
	struct oidc_waiting w;
	if (oidc_waiting_get(o, id, binding, &w, e) != 0)
		return NULL;
	if (oidc_param(w.params, "logout"))
		return oidc_logout_view(o, &w);
	struct oidc_client c;
	if (oidc_client_get(o, w.client, &c, e) != 0) {
		json_decref(w.params);
		return err_set(e, ERR_NOT_FOUND, "unknown_request",
			       "this application is no longer registered"),
		       NULL;
	}
	const char *next = lacking(w.params, s);
	json_t *v = json_pack("{s:s,s:s,s:i,s:s,s:s}", "client_id", c.id,
			      "client_name", c.name, "level",
			      (int)json_integer_value(
				      json_object_get(w.params, "level")),
			      "scope", oidc_param(w.params, "scope"), "next",
			      next ? next : "ready");
	static const char *const opt[] = {"prompt", "login_hint", "ui_locale"};
	for (size_t i = 0; i < KP_NELEM(opt); i++)
		if (oidc_param(w.params, opt[i]))
			json_object_set_new(v, opt[i],
					    json_string(oidc_param(w.params,
							      opt[i])));
	if (num(w.params, "max_age") >= 0)
		json_object_set_new(v, "max_age",
				    json_integer(num(w.params, "max_age")));
	json_object_set(v, "created_at",
			json_object_get(w.params, "created_at"));
	oidc_client_clear(&c);
	json_decref(w.params);
	return v;
}

/* ------------------------------------------------------ the answer */

/* The keys that made the session, as RFC 8176 names their methods. */
static void amr_of(const struct auth_session *s, char out[64])
{
	const char *types[] = {s->key_type, s->step_up};
	out[0] = '\0';
	int n = 0;
	for (int i = 0; i < 2; i++) {
		const char *t = types[i], *m = NULL;
		if (!t[0])
			continue;
		if (!strcmp(t, "password"))
			m = "pwd";
		else if (!strcmp(t, "totp_app") || !strcmp(t, "email_code"))
			m = "otp";
		else if (!strcmp(t, "sms_code"))
			m = "sms";
		else if (!strcmp(t, "eid"))
			m = "sc pin";
		else
			m = "swk";
		if (!oidc_list_has(out, m)) {
			oidc_list_add(out, 64, m);
			n++;
		}
	}
	if (n > 1)
		oidc_list_add(out, 64, "mfa");
}

struct answer {
	struct oidc *o;
	uint8_t id_hash[32];
	uint8_t code_hash[32];
	uint8_t session_hash[32];
	json_t *p;
	const struct auth_session *s;
	bool deny;
};

static int answer_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct answer *a = ctx;
	struct store_stmt *st = store_prepare(w, sql_request_done);
	store_bind_blob(st, 1, a->id_hash, 32);
	store_bind_int(st, 2, time_now());
	if (store_run(st, NULL, e) != 0)
		return -1;
	if (store_changes(w) == 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_request",
			       "this login request was answered already");
	if (a->deny)
		return 0;
	char amr[64];
	amr_of(a->s, amr);
	st = store_prepare(w, sql_code_add);
	store_bind_blob(st, 1, a->code_hash, 32);
	const char *t[] = {"client_id", "redirect_uri", "code_challenge",
			   "scope", "nonce"};
	for (int i = 0; i < 5; i++)
		if (oidc_param(a->p, t[i]))
			store_bind_text(st, i + 2, oidc_param(a->p, t[i]));
	store_bind_text(st, 7, a->s->insz);
	store_bind_text(st, 8, a->s->profile);
	store_bind_int(st, 9, a->s->level);
	store_bind_text(st, 10, amr);
	store_bind_int(st, 11, a->s->auth_time);
	store_bind_blob(st, 12, a->session_hash, 32);
	store_bind_int(st, 13, time_now() + a->o->cfg.code_ttl_s);
	return store_run(st, NULL, e);
}

char *oidc_request_continue(struct oidc *o, const struct audit_actor *by,
			    const char *id, const char *binding,
			    const char *token, const struct auth_session *s,
			    bool deny, struct error *e)
{
	struct oidc_waiting w;
	if (oidc_waiting_get(o, id, binding, &w, e) != 0)
		return NULL;
	/* A logout request is answered once the portal ended the session. */
	if (oidc_param(w.params, "logout"))
		return oidc_logout_done(o, id, &w, e);
	/* prompt=none: never a page, so never a "no" from the person: the
	 * answer is the code, or why there is none (login_required). */
	bool silent = oidc_param(w.params, "prompt") &&
		      oidc_list_has(oidc_param(w.params, "prompt"), "none");
	deny = deny && !silent;
	const char *lack = deny ? NULL : lacking(w.params, s);
	if (lack && !silent) {
		int level = (int)json_integer_value(
			json_object_get(w.params, "level"));
		bool login = strcmp(lack, "login") == 0;
		struct error bad;
		if (login)
			err_set(&bad, ERR_FORBIDDEN, "login_required",
				"log in again first");
		else
			err_set(&bad, ERR_FORBIDDEN, "insufficient_level",
				"the application needs level %d", level);
		struct audit_event ev = audit_event_by(by, "oidc_authorize");
		ev.subject = s ? audit_subject(s->insz) : NULL;
		ev.purpose = w.client;
		audit_refused(o->log, &ev, &bad);
		json_decref(w.params);
		*e = bad;
		return NULL;
	}
	struct answer a = {o, {0}, {0}, {0}, w.params, s, deny || lack != NULL};
	oidc_handle_hash(id, a.id_hash);
	char code[OIDC_HANDLE_HEX] = "";
	if (!a.deny) {
		oidc_handle_new(code);
		oidc_handle_hash(code, a.code_hash);
		oidc_handle_hash(token, a.session_hash);
	}
	struct audit_event ev = audit_event_by(
		by, a.deny ? "oidc_refuse" : "oidc_authorize");
	ev.subject = s ? audit_subject(s->insz) : NULL;
	ev.purpose = w.client;
	ev.data_type = oidc_param(w.params, "scope");
	char *url = NULL;
	if (audit_commit(o->log, &ev, 1, answer_change, &a, e) == 0) {
		const char *uri = oidc_param(w.params, "redirect_uri");
		const char *state = oidc_param(w.params, "state");
		if (!a.deny) {
			const char *kv[] = {"code", code, "state", state, "iss",
					    oidc_issuer(o)};
			url = oidc_back(uri, kv, KP_NELEM(kv));
		} else
			url = error_back(o, uri, state,
					 lack ? (strcmp(lack, "login")
							 ? "interaction_required"
							 : "login_required")
					      : "access_denied",
					 lack ? "the person must log in first"
					      : "the person said no");
	}
	secret_wipe(code, sizeof(code));
	json_decref(w.params);
	return url;
}
