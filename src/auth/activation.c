/*
 * Activation by a registration office (seeds 002 and 003). The office
 * identifies a person without an eID and issues an activation: a code on
 * paper, handed over, and a link by e-mail, queued with the activation in
 * one commit. Only their keyed hashes are stored. At home the person opens
 * the link and types the code (start), chooses a username, a password and
 * a key (credentials), and confirms the key with a registration code or
 * the app's first code (complete); only then does anything change for
 * their keys. A wrong code counts towards the activation's lock; every
 * step is recorded about the person.
 *
 * Why a keyed BLAKE2b and not Argon2id for the paper code: it has 99
 * bits, so no hash, however fast, helps a guesser, and the master key
 * makes a stolen database worth nothing for it; a slow hash would only
 * hand strangers a way to make the server work.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth_internal.h"
#include "org/org.h"

/* The 31 letters and digits nobody misreads: no 0, O, 1, I, L. */
static const char code_alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
#define CODE_GROUP 5

static const char sql_add[] =
	"INSERT INTO activation (insz, email, phone, language, "
	"identification_id, office, code_hash, link_hash, created_at, "
	"expires_at, status) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
	"'issued') RETURNING id";
/* The keys completing an activation deactivates: those linked to its
 * e-mail address on any account (seed 002) and the person's own, which
 * the new credentials replace (an office visit is the recovery path). */
/* A new activation, or a completed one, ends the person's others still
 * open: an old letter or link (lost, stolen, sent to a mistyped address)
 * must not undo the keys the person has since made. ?2: the one kept. */
static const char sql_revoke_others[] =
	"UPDATE activation SET status = 'revoked', step_hash = NULL, "
	"password_hash = NULL, key_secret = NULL, reg_code_hash = NULL "
	"WHERE insz = ?1 AND id <> ?2 AND status IN ('issued', 'started')";
static const char sql_linked[] =
	"SELECT c.id, c.type, t.level, c.status, c.created_at, "
	"coalesce(c.last_used_at, 0), c.insz FROM credential c "
	"JOIN key_type t ON t.code = c.type WHERE c.status IN ('active', "
	"'pending', 'locked') AND (lower(c.address) = lower(?1) OR "
	"c.insz = ?2) ORDER BY c.id";
#define ROW_COLUMNS                                                        \
	"SELECT id, insz, email, coalesce(phone, ''), language, status, "   \
	"expires_at, coalesce(step_expires_at, 0), code_hash, "             \
	"coalesce(username, ''), coalesce(password_hash, ''), "             \
	"coalesce(key_type, ''), key_secret, reg_code_hash, "               \
	"coalesce(reg_code_expires_at, 0), sends FROM activation "
static const char sql_by_link[] = ROW_COLUMNS "WHERE link_hash = ?1";
static const char sql_by_step[] = ROW_COLUMNS "WHERE step_hash = ?1";
static const char sql_fail[] =
	"UPDATE activation SET failures = failures + 1, status = CASE WHEN "
	"failures + 1 >= ?2 THEN 'locked' ELSE status END WHERE id = ?1 AND "
	"status IN ('issued', 'started') RETURNING status";
static const char sql_expire[] =
	"UPDATE activation SET status = 'expired' WHERE id = ?1 AND "
	"status IN ('issued', 'started')";
static const char sql_start[] =
	"UPDATE activation SET status = 'started', step_hash = ?2, "
	"step_expires_at = ?3 WHERE id = ?1 AND status IN ('issued', 'started')";
static const char sql_choose[] =
	"UPDATE activation SET username = ?2, password_hash = ?3, "
	"key_type = ?4, key_secret = ?5 WHERE id = ?1 AND status = 'started'";
static const char sql_new_code[] =
	"UPDATE activation SET reg_code_hash = ?2, reg_code_expires_at = ?3, "
	"sends = sends + 1 WHERE id = ?1 AND status = 'started' AND sends < ?4";

/* ------------------------------------------------------------- issuing */

/* A fresh paper code, "XXXXX-XXXXX-XXXXX-XXXXX". */
static void code_new(char out[AUTH_ACTIVATION_CODE_BUF])
{
	size_t k = 0;
	for (int i = 0; i < AUTH_ACTIVATION_CODE_LEN; i++) {
		if (i && i % CODE_GROUP == 0)
			out[k++] = '-';
		out[k++] = code_alphabet[rand_uniform(sizeof(code_alphabet) - 1)];
	}
	out[k] = '\0';
}

/* A typed code in its one form: upper case, without dashes or spaces.
 * false when it cannot be a paper code. */
static bool code_canon(const char *in, char out[AUTH_ACTIVATION_CODE_BUF])
{
	size_t k = 0;
	for (const char *p = in; *p; p++) {
		char c = *p >= 'a' && *p <= 'z' ? (char)(*p - 32) : *p;
		if (c == '-' || c == ' ')
			continue;
		if (k == AUTH_ACTIVATION_CODE_LEN || !strchr(code_alphabet, c))
			return false;
		out[k++] = c;
	}
	out[k] = '\0';
	return k == AUTH_ACTIVATION_CODE_LEN;
}

static void paper_digest(const struct auth *a, const char *code,
			 uint8_t out[crypto_generichash_BYTES])
{
	char canon[AUTH_ACTIVATION_CODE_BUF];
	auth_code_digest(a, code_canon(code, canon) ? canon : "-", out);
	secret_wipe(canon, sizeof(canon));
}

/* An activation, its link queued, as audit_commit runs it. */
struct issue {
	const struct auth *a;
	const struct auth_activation_request *req;
	uint8_t code_hash[crypto_generichash_BYTES];
	uint8_t link_hash[SHA256_LEN];
	char link[TOKEN_HEX_LEN];
	char office[256]; /* its name, as the person's notice names it */
	int64_t now, id;
};

static int link_queue(struct store_conn *w, const struct issue *c,
		      struct error *e)
{
	const struct auth *a = c->a;
	char expires[RFC3339_LEN];
	time_format_rfc3339(c->now + a->opt.activation_ttl_s, expires);
	/* The portal's page, in the fragment: a fragment never reaches a
	 * server's log nor another site's Referer. */
	char *link = xasprintf("%s/#/activate?token=%s", auth_public_url(a),
			       c->link);
	const char *const vars[][2] = {{"link", link}, {"expires_at", expires}};
	char *subject = NULL, *body = NULL;
	int rc = notify_message("activation_link", c->req->language, vars,
				KP_NELEM(vars), &subject, &body, e);
	if (rc == 0 && a->notify)
		rc = notify_queue(a->notify, w, "email", c->req->email,
				  subject, body, e);
	secret_wipe(link, strlen(link));
	if (body)
		secret_wipe(body, strlen(body));
	free(link);
	free(subject);
	free(body);
	return rc;
}

static const struct store_refusal identification_used = {
	ERR_CONFLICT, "identification_used",
	"this identification led to an activation already: identify the "
	"person again for a new one"};

static int revoke_others(struct store_conn *w, const char *insz, int64_t id,
			 struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_revoke_others);
	store_bind_text(st, 1, insz);
	store_bind_int(st, 2, id);
	return store_run(st, NULL, e);
}

static int issue_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct issue *c = ctx;
	const struct auth_activation_request *r = c->req;
	struct store_stmt *st = store_prepare(w, sql_add);
	store_bind_text(st, 1, r->insz);
	store_bind_text(st, 2, r->email);
	store_bind_text(st, 3, r->phone && r->phone[0] ? r->phone : NULL);
	store_bind_text(st, 4, r->language);
	store_bind_int(st, 5, r->identification_id);
	store_bind_text(st, 6, r->office ? r->office : "");
	store_bind_blob(st, 7, c->code_hash, sizeof(c->code_hash));
	store_bind_blob(st, 8, c->link_hash, sizeof(c->link_hash));
	store_bind_int(st, 9, c->now);
	store_bind_int(st, 10, c->now + c->a->opt.activation_ttl_s);
	if (store_insert(st, &c->id, &identification_used, e) < 0)
		return -1;
	if (revoke_others(w, r->insz, c->id, e) != 0 ||
	    link_queue(w, c, e) != 0)
		return -1;
	/* The person's own addresses hear of it at once: an activation in
	 * their name that they did not ask for is theirs to stop. */
	const char *const vars[][2] = {{"office", c->office}};
	return auth_notice_message(w, c->a, r->insz, 0, "activation_issued",
				   vars, KP_NELEM(vars), e);
}

static bool language_ok(const char *l)
{
	return l && (strcmp(l, "nl") == 0 || strcmp(l, "fr") == 0 ||
		     strcmp(l, "de") == 0 || strcmp(l, "en") == 0);
}

/* Why req cannot be issued: NULL, or bad filled. */
static const struct error *
issue_refusal(const struct auth_activation_request *req, struct error *bad)
{
	if (!req->insz || !insz_valid(req->insz) || strlen(req->insz) != 11)
		err_set(bad, ERR_INVALID, "invalid_insz",
			"not a valid INSZ (digits only)");
	else if (!req->email || !auth_address_valid("email_code", req->email))
		err_set(bad, ERR_INVALID, "invalid_field",
			"email: a single plain address");
	else if (req->phone && req->phone[0] &&
		 !auth_address_valid("sms_code", req->phone))
		err_set(bad, ERR_INVALID, "invalid_field",
			"phone: +<country code><number>, digits only");
	else if (!language_ok(req->language))
		err_set(bad, ERR_INVALID, "invalid_field",
			"language: nl, fr, de or en");
	else
		return NULL;
	return bad;
}

/* The keys completing an activation of insz at email would deactivate
 * now (caller frees *out); owners (when not NULL) receives each key's
 * holder, allocated alike. Returns 0, or -1 with e. */
static int linked_keys(struct auth *a, const char *email, const char *insz,
		       struct auth_key **out, int *n, int *others,
		       struct error *e);

int auth_activation_issue(struct auth *a, const struct audit_actor *by,
			  const struct auth_activation_request *req,
			  struct auth_activation_issued *out, struct error *e)
{
	memset(out, 0, sizeof(*out));
	struct audit_event ev = auth_event(by, req->insz, "activation_issue",
					   "registration_office");
	const struct error *bad = issue_refusal(req, e);
	if (bad)
		return audit_refused(a->log, &ev, bad);
	struct issue c = {.a = a, .req = req, .now = time_now()};
	str_copy(c.office, sizeof(c.office), "kruispunt");
	if (req->office && req->office[0] &&
	    org_name(a->store, req->office, c.office, sizeof(c.office),
		     NULL) != 0)
		str_copy(c.office, sizeof(c.office), req->office);
	code_new(out->code);
	paper_digest(a, out->code, c.code_hash);
	token_new(c.link, c.link_hash);
	int rc = audit_commit(a->log, &ev, 1, issue_change, &c, e);
	secret_wipe(c.link, sizeof(c.link));
	if (rc == 0 && linked_keys(a, req->email, req->insz,
				   &out->keys_to_deactivate, &out->nkeys,
				   &out->others, e) != 0)
		rc = -1; /* issued; the caller may ask again */
	if (rc != 0) {
		secret_wipe(out->code, sizeof(out->code));
		return -1;
	}
	auth_notice_wake(a);
	out->id = c.id;
	out->expires_at = c.now + a->opt.activation_ttl_s;
	return 0;
}

/* A linked key and its holder. */
struct linked {
	struct auth_key k;
	char insz[INSZ_BUF];
};

static void read_linked(struct store_stmt *st, void *item)
{
	struct linked *l = item;
	auth_read_key(st, &l->k);
	str_copy(l->insz, sizeof(l->insz), store_col_text(st, 6));
}

/* In c (a reader or w): the keys linked, with their holders (caller
 * frees). */
static struct linked *linked_read(struct store_conn *c, const char *email,
				  const char *insz, int *n)
{
	struct store_stmt *st = store_prepare(c, sql_linked);
	store_bind_text(st, 1, email);
	store_bind_text(st, 2, insz);
	return store_collect(st, sizeof(struct linked), read_linked, n);
}

static int linked_keys(struct auth *a, const char *email, const char *insz,
		       struct auth_key **out, int *n, int *others,
		       struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "keys cannot be read now");
	int all;
	struct linked *l = linked_read(r, email, insz, &all);
	*out = all ? xcalloc((size_t)all, sizeof(**out)) : NULL;
	*n = 0;
	*others = 0;
	/* The person's own keys first, then strangers' keys linked to the
	 * address, which the office sees only as such (no officer learns
	 * who holds keys at an address by typing it). */
	for (int i = 0; i < all; i++)
		if (strcmp(l[i].insz, insz) == 0)
			(*out)[(*n)++] = l[i].k;
	for (int i = 0; i < all; i++)
		if (strcmp(l[i].insz, insz) != 0) {
			(*out)[(*n)++] = l[i].k;
			(*others)++;
		}
	free(l);
	return 0;
}

/* ---------------------------------------------------------- the steps */

/* An activation as stored. */
struct act {
	int64_t id;
	char insz[INSZ_BUF];
	char email[128], phone[32], language[3], status[16];
	int64_t expires_at, step_expires_at, code_expires_at, sends;
	uint8_t code_hash[crypto_generichash_BYTES];
	uint8_t reg_hash[crypto_generichash_BYTES];
	bool has_reg;
	char username[AUTH_USERNAME_MAX + 1];
	char password_hash[crypto_pwhash_STRBYTES];
	char key_type[16];
	uint8_t secret[AUTH_TOTP_SEALED_MAX];
	size_t secret_len;
};

/* A blob column into out (n bytes) when it has that size: whether so. */
static bool blob_col(struct store_stmt *st, int col, void *out, size_t n)
{
	size_t got;
	const void *b = store_col_blob(st, col, &got);
	if (!b || got != n)
		return false;
	memcpy(out, b, n);
	return true;
}

static void read_act(struct store_stmt *st, void *row)
{
	struct act *r = row;
	r->id = store_col_int(st, 0);
	str_copy(r->insz, sizeof(r->insz), store_col_text(st, 1));
	str_copy(r->email, sizeof(r->email), store_col_text(st, 2));
	str_copy(r->phone, sizeof(r->phone), store_col_text(st, 3));
	str_copy(r->language, sizeof(r->language), store_col_text(st, 4));
	str_copy(r->status, sizeof(r->status), store_col_text(st, 5));
	r->expires_at = store_col_int(st, 6);
	r->step_expires_at = store_col_int(st, 7);
	blob_col(st, 8, r->code_hash, sizeof(r->code_hash));
	str_copy(r->username, sizeof(r->username), store_col_text(st, 9));
	str_copy(r->password_hash, sizeof(r->password_hash),
		 store_col_text(st, 10));
	str_copy(r->key_type, sizeof(r->key_type), store_col_text(st, 11));
	size_t n;
	const void *s = store_col_blob(st, 12, &n);
	r->secret_len = s && n <= sizeof(r->secret) ? n : 0;
	if (r->secret_len)
		memcpy(r->secret, s, n);
	r->has_reg = blob_col(st, 13, r->reg_hash, sizeof(r->reg_hash));
	r->code_expires_at = store_col_int(st, 14);
	r->sends = store_col_int(st, 15);
}

static void act_wipe(struct act *r)
{
	secret_wipe(r, sizeof(*r));
}

static int invalid_activation(struct error *e)
{
	return err_set(e, ERR_UNAUTHENTICATED, "invalid_activation",
		       "the activation link or code is not valid");
}

/* The activation sql (by link or by step) finds for token, after the
 * per-activation rate limit. Returns 0 with r, or -1 with e: unknown
 * (invalid_activation), rate_limited, or the store's error. */
static int act_find(struct auth *a, const char *sql, const char *token,
		    struct act *r, struct error *e)
{
	uint8_t hash[SHA256_LEN];
	memset(r, 0, sizeof(*r));
	if (!auth_token_hash(token, hash))
		return invalid_activation(e);
	if (!ratelimit_allow(a->per_activation, hash, sizeof(hash)))
		return err_set(e, ERR_RATE_LIMITED, "rate_limited",
			       "too many attempts for this activation; try "
			       "again later");
	struct store_conn *c = store_reader(a->store);
	if (!c)
		return store_fail(e, "activations cannot be read now");
	struct store_stmt *st = store_prepare(c, sql);
	store_bind_blob(st, 1, hash, sizeof(hash));
	int rc = store_one(st, read_act, r, e);
	if (rc < 0)
		return -1;
	return rc > 0 ? invalid_activation(e) : 0;
}

int auth_activation_retry_after(struct auth *a)
{
	KP_UNUSED(a);
	return (60 + AUTH_ACTIVATION_STEPS_PER_MINUTE - 1) /
	       AUTH_ACTIVATION_STEPS_PER_MINUTE;
}

/* A refusal whose write is kept (a failure counted, an expiry marked),
 * as audit_commit runs it. */
struct kept {
	const struct auth *a;
	const char *sql;
	int64_t id;
	bool locked;
};

static int kept_change(struct store_conn *w, void *ctx,
		       struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct kept *k = ctx;
	struct store_stmt *st = store_prepare(w, k->sql);
	store_bind_int(st, 1, k->id);
	if (k->sql == sql_expire)
		return store_run(st, NULL, e);
	store_bind_int(st, 2, k->a->opt.activation_max_failures);
	enum store_rc rc = store_step(st);
	k->locked = rc == STORE_ROW &&
		    strcmp(store_col_text(st, 0), "locked") == 0;
	store_done(st);
	return rc == STORE_ROW || rc == STORE_DONE
		       ? 0 : store_fail(e, "the activation cannot be changed");
}

/* Record ev refused with refusal, keeping sql's write on activation id:
 * a wrong code counted (the refusal becomes "activation_locked" when it
 * locked the activation and locked_too) or the expiry marked. Returns -1
 * with e. */
static int refuse_kept(struct auth *a, struct audit_event *ev, int64_t id,
		       const char *sql, bool locked_too,
		       const struct error *refusal, struct error *e)
{
	struct kept k = {a, sql, id, false};
	struct error r = *refusal;
	ev->outcome = AUDIT_REFUSED;
	ev->reason = r.code;
	if (audit_commit(a->log, ev, 1, kept_change, &k, e) != 0)
		return -1;
	if (k.locked && locked_too)
		err_set(&r, ERR_LOCKED, "activation_locked",
			"too many wrong codes: the registration office issues "
			"a new activation");
	*e = r;
	return -1;
}

/* Why r cannot take a step now (NULL: it can), started says whether the
 * step needs a started activation (and a live activation_id). A refusal
 * of an activation past its end marks it expired. */
static int act_usable(struct auth *a, struct audit_event *ev,
		      const struct act *r, bool started, struct error *e)
{
	int64_t now = time_now();
	bool live = strcmp(r->status, "issued") == 0 ||
		    strcmp(r->status, "started") == 0;
	if (strcmp(r->status, "expired") == 0 || (live && now >= r->expires_at)) {
		struct error gone;
		err_set(&gone, ERR_GONE, "activation_expired",
			"this activation has expired: the registration office "
			"issues a new one");
		return live ? refuse_kept(a, ev, r->id, sql_expire, false,
					  &gone, e)
			    : audit_refused(a->log, ev, &gone);
	}
	if (started && strcmp(r->status, "locked") == 0) {
		/* The person has shown the paper code: they may know. */
		err_set(e, ERR_LOCKED, "activation_locked",
			"too many wrong codes: the registration office issues "
			"a new activation");
		return audit_refused(a->log, ev, e);
	}
	if (!live || (started && (strcmp(r->status, "started") != 0 ||
				  now >= r->step_expires_at))) {
		invalid_activation(e);
		return audit_refused(a->log, ev, e);
	}
	return 0;
}

/* One UPDATE of a live activation, as audit_commit runs it: ?1 its id,
 * ?2 a token's hash, ?3 a time. */
struct activation_step {
	const char *sql;
	int64_t id;
	const uint8_t *hash;
	int64_t until;
};

static int step_change(struct store_conn *w, void *ctx,
		       struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	const struct activation_step *c = ctx;
	struct store_stmt *st = store_prepare(w, c->sql);
	store_bind_int(st, 1, c->id);
	store_bind_blob(st, 2, c->hash, SHA256_LEN);
	store_bind_int(st, 3, c->until);
	if (store_run(st, NULL, e) != 0)
		return -1;
	/* Locked or completed by a request a moment earlier. */
	return store_changes(w) ? 0 : invalid_activation(e);
}

static int activation_step(struct auth *a, struct audit_event *ev,
			   struct activation_step *c, struct error *e)
{
	return audit_commit(a->log, ev, 1, step_change, c, e);
}

int auth_activation_start(struct auth *a, const struct audit_actor *by,
			  const char *link_token, const char *code,
			  char activation_id[TOKEN_HEX_LEN], struct error *e)
{
	struct act r;
	if (act_find(a, sql_by_link, link_token, &r, e) != 0)
		return -1; /* nobody known to record it about */
	struct audit_event ev = auth_event(by, r.insz, "activation_start",
					   "registration_office");
	uint8_t got[crypto_generichash_BYTES];
	paper_digest(a, code ? code : "", got);
	bool match = ct_equal(got, r.code_hash, sizeof(got));
	int rc = act_usable(a, &ev, &r, false, e);
	if (rc == 0 && !match) {
		struct error wrong;
		invalid_activation(&wrong);
		rc = refuse_kept(a, &ev, r.id, sql_fail, false, &wrong, e);
	}
	if (rc == 0) {
		uint8_t step[SHA256_LEN];
		token_new(activation_id, step);
		struct activation_step c = {sql_start, r.id, step,
					    time_now() + AUTH_ACTIVATION_STEP_S};
		rc = activation_step(a, &ev, &c, e);
		if (rc != 0)
			secret_wipe(activation_id, TOKEN_HEX_LEN);
	}
	act_wipe(&r);
	return rc;
}

/* ------------------------------------------------------- credentials */

/* The key type a choice names ("totp" -> "totp_app"), or NULL. */
static const char *chosen_type(const char *key)
{
	return key ? auth_step_up_key(key) : NULL;
}

/* In w's transaction: a fresh registration code for r's chosen key
 * type, queued to the address the office took, unless the activation
 * sent AUTH_ACTIVATION_SENDS already. Returns 0, or -1 with e. */
static int code_send(struct store_conn *w, const struct auth *a,
		     const struct act *r, const char *type, struct error *e)
{
	char code[7], minutes[16];
	uint8_t hash[crypto_generichash_BYTES];
	snprintf(code, sizeof(code), "%06u", rand_uniform(1000000));
	snprintf(minutes, sizeof(minutes), "%d",
		 a->opt.registration_code_ttl_s / 60);
	auth_code_digest(a, code, hash);
	struct store_stmt *st = store_prepare(w, sql_new_code);
	store_bind_int(st, 1, r->id);
	store_bind_blob(st, 2, hash, sizeof(hash));
	store_bind_int(st, 3, time_now() + a->opt.registration_code_ttl_s);
	store_bind_int(st, 4, AUTH_ACTIVATION_SENDS);
	int rc = store_run(st, NULL, e);
	if (rc == 0 && store_changes(w) == 0)
		rc = err_set(e, ERR_CONFLICT, "resend_limit",
			     "no more codes for this activation: the "
			     "registration office issues a new one");
	bool sms = strcmp(type, "sms_code") == 0;
	const char *const vars[][2] = {{"code", code}, {"minutes", minutes}};
	char *subject = NULL, *body = NULL;
	if (rc == 0)
		rc = notify_message(sms ? "registration_code_sms"
					: "registration_code_email",
				    r->language, vars, KP_NELEM(vars), &subject,
				    &body, e);
	if (rc == 0 && a->notify)
		rc = notify_queue(a->notify, w, sms ? "sms" : "email",
				  sms ? r->phone : r->email, subject, body, e);
	secret_wipe(code, sizeof(code));
	if (body)
		secret_wipe(body, strlen(body));
	free(subject);
	free(body);
	return rc;
}

/* The choice kept with the activation, as audit_commit runs it. */
struct choice {
	const struct auth *a;
	const struct act *r;
	const char *username, *hash, *type;
	const uint8_t *secret;
	size_t sn;
};

static int choice_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	const struct choice *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_choose);
	store_bind_int(st, 1, c->r->id);
	store_bind_text(st, 2, c->username);
	store_bind_text(st, 3, c->hash);
	store_bind_text(st, 4, c->type);
	if (c->sn)
		store_bind_blob(st, 5, c->secret, c->sn);
	if (store_run(st, NULL, e) != 0)
		return -1;
	if (store_changes(w) == 0)
		return invalid_activation(e);
	if (strcmp(c->type, "totp_app") == 0)
		return 0;
	return code_send(w, c->a, c->r, c->type, e);
}

/* Why the key choice cannot be made for r: NULL, or bad filled. */
static const struct error *key_refusal(const struct act *r, const char *type,
				       struct error *bad)
{
	if (!type)
		err_set(bad, ERR_INVALID, "unsupported_key_type",
			"key: email_code, sms_code or totp");
	else if (strcmp(type, "sms_code") == 0 && !r->phone[0])
		err_set(bad, ERR_INVALID, "invalid_field",
			"no phone number was given at the registration "
			"office: choose email_code or totp");
	else
		return NULL;
	return bad;
}

/* What the person chose, checked and hashed; *done when refused (the
 * refusal recorded), e set. Returns 0 or -1. */
static int choice_make(struct auth *a, struct audit_event *ev,
		       const struct act *r,
		       const struct auth_activation_credentials *c,
		       struct auth_activation_choice *out, char *hash,
		       struct error *e)
{
	const char *type = chosen_type(c->key);
	int rc = auth_username_choose(a, r->insz, c->username, false,
				      out->username, e);
	if (rc < 0)
		return -1;
	const struct error *bad = rc > 0 ? e : key_refusal(r, type, e);
	if (!bad)
		bad = auth_password_refusal(a, r->insz, out->username,
					    c->password ? c->password : "", e);
	if (bad)
		return audit_refused(a->log, ev, bad);
	return auth_password_hash(a, c->password, hash, e);
}

int auth_activation_credentials(struct auth *a, const struct audit_actor *by,
				const char *activation_id,
				const struct auth_activation_credentials *c,
				struct auth_activation_choice *out,
				struct error *e)
{
	memset(out, 0, sizeof(*out));
	struct act r;
	if (act_find(a, sql_by_step, activation_id, &r, e) != 0)
		return -1;
	const char *type = chosen_type(c->key);
	struct audit_event ev = auth_event(by, r.insz, "activation_credentials",
					   type ? type : "unknown");
	char hash[crypto_pwhash_STRBYTES];
	uint8_t sealed[AUTH_TOTP_SEALED_MAX];
	struct choice ch = {a, &r, out->username, hash, type, sealed, 0};
	int rc = act_usable(a, &ev, &r, true, e);
	if (rc == 0)
		rc = choice_make(a, &ev, &r, c, out, hash, e);
	if (rc == 0 && strcmp(type, "totp_app") == 0)
		rc = auth_totp_new(a, out->username, sealed, &ch.sn,
				   &out->otpauth_uri, &out->qr_png_base64, e);
	if (rc == 0)
		rc = audit_commit(a->log, &ev, 1, choice_change, &ch, e);
	if (rc == 0 && type && strcmp(type, "totp_app") != 0) {
		bool sms = strcmp(type, "sms_code") == 0;
		str_copy(out->sent_to, sizeof(out->sent_to),
			 sms ? r.phone : r.email);
		auth_notice_wake(a);
	}
	if (rc != 0) {
		free(out->otpauth_uri);
		free(out->qr_png_base64);
		out->otpauth_uri = out->qr_png_base64 = NULL;
	}
	secret_wipe(hash, sizeof(hash));
	secret_wipe(sealed, sizeof(sealed));
	act_wipe(&r);
	return rc;
}

/* A new registration code, as audit_commit runs it. */
static int resend_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	const struct choice *c = ctx;
	return code_send(w, c->a, c->r, c->type, e);
}

int auth_activation_resend(struct auth *a, const struct audit_actor *by,
			   const char *activation_id, char sent_to[128],
			   struct error *e)
{
	struct act r;
	sent_to[0] = '\0';
	if (act_find(a, sql_by_step, activation_id, &r, e) != 0)
		return -1;
	struct audit_event ev = auth_event(by, r.insz, "activation_resend",
					   r.key_type[0] ? r.key_type
							 : "unknown");
	int rc = act_usable(a, &ev, &r, true, e);
	if (rc == 0 && (!r.key_type[0] || strcmp(r.key_type, "totp_app") == 0)) {
		err_set(e, ERR_CONFLICT, "no_code_key",
			"no registration code to send: choose an e-mail or "
			"SMS key first");
		rc = audit_refused(a->log, &ev, e);
	}
	struct choice c = {.a = a, .r = &r, .type = r.key_type};
	if (rc == 0)
		rc = audit_commit(a->log, &ev, 1, resend_change, &c, e);
	if (rc == 0) {
		bool sms = strcmp(r.key_type, "sms_code") == 0;
		str_copy(sent_to, 128, sms ? r.phone : r.email);
		auth_notice_wake(a);
	}
	act_wipe(&r);
	return rc;
}

/* ---------------------------------------------------------- completion */

static const char sql_account_put[] =
	"INSERT INTO account (insz, username, email, phone, language, "
	"created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (insz) DO "
	"UPDATE SET email = excluded.email, phone = coalesce(excluded.phone, "
	"account.phone), language = excluded.language";
static const char sql_password_add[] =
	"INSERT INTO credential (insz, type, status, secret, created_at) "
	"VALUES (?1, 'password', 'active', ?2, ?3)";
static const char sql_key_add[] =
	"INSERT INTO credential (insz, type, status, secret, address, "
	"created_at, last_counter) VALUES (?1, ?2, 'active', ?3, ?4, ?5, ?6)";
static const char sql_key_off[] =
	"UPDATE credential SET status = 'deactivated', changed_at = ?2 "
	"WHERE id = ?1 AND status IN ('active', 'pending', 'locked')";
static const char sql_done[] =
	"UPDATE activation SET status = 'completed', completed_at = ?2, "
	"password_hash = NULL, key_secret = NULL, reg_code_hash = NULL, "
	"step_hash = NULL WHERE id = ?1 AND status = 'started'";

static const struct store_refusal username_taken = {
	ERR_CONFLICT, "username_taken", "this username is taken: choose another"};

/* The activation completed, as audit_commit runs it. */
struct completion {
	const struct auth *a;
	const struct act *r;
	struct linked *old;
	int nold;
	int64_t counter; /* the TOTP code's time step, or -1 */
};

/* In w's transaction: the linked keys deactivated, their sessions ended
 * and their holders told (a pending key never counted: no news). */
static int old_keys_off(struct store_conn *w, const struct completion *c,
			struct error *e)
{
	for (int i = 0; i < c->nold; i++) {
		const struct auth_key *k = &c->old[i].k;
		struct store_stmt *st = store_prepare(w, sql_key_off);
		store_bind_int(st, 1, k->id);
		store_bind_int(st, 2, time_now());
		if (store_run(st, NULL, e) != 0)
			return -1;
		if (store_changes(w) == 0)
			continue; /* gone meanwhile */
		if (auth_key_lost(w, k->id, e) != 0 ||
		    (strcmp(k->status, "pending") != 0 &&
		     auth_key_notice(w, c->a, c->old[i].insz, k->id, k->type,
				     false, e) != 0))
			return -1;
	}
	return 0;
}

/* In w's transaction: the account and its two new keys. */
static int new_keys(struct store_conn *w, const struct completion *c,
		    struct error *e)
{
	const struct act *r = c->r;
	int64_t now = time_now();
	struct store_stmt *st = store_prepare(w, sql_account_put);
	store_bind_text(st, 1, r->insz);
	store_bind_text(st, 2, r->username);
	store_bind_text(st, 3, r->email);
	store_bind_text(st, 4, r->phone[0] ? r->phone : NULL);
	store_bind_text(st, 5, r->language);
	store_bind_int(st, 6, now);
	if (store_run(st, &username_taken, e) != 0)
		return -1;
	st = store_prepare(w, sql_password_add);
	store_bind_text(st, 1, r->insz);
	store_bind_blob(st, 2, r->password_hash, strlen(r->password_hash));
	store_bind_int(st, 3, now);
	if (store_run(st, NULL, e) != 0)
		return -1;
	bool totp = strcmp(r->key_type, "totp_app") == 0;
	st = store_prepare(w, sql_key_add);
	store_bind_text(st, 1, r->insz);
	store_bind_text(st, 2, r->key_type);
	if (totp)
		store_bind_blob(st, 3, r->secret, r->secret_len);
	else
		store_bind_text(st, 4, strcmp(r->key_type, "sms_code") == 0
					       ? r->phone : r->email);
	store_bind_int(st, 5, now);
	store_bind_int(st, 6, c->counter);
	return store_run(st, NULL, e);
}

static int complete_change(struct store_conn *w, void *ctx,
			   struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	const struct completion *c = ctx;
	if (old_keys_off(w, c, e) != 0 || new_keys(w, c, e) != 0 ||
	    revoke_others(w, c->r->insz, c->r->id, e) != 0)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_done);
	store_bind_int(st, 1, c->r->id);
	store_bind_int(st, 2, time_now());
	if (store_run(st, NULL, e) != 0)
		return -1;
	/* Completed by a request a moment earlier: the code is used. */
	return store_changes(w) ? 0 : invalid_activation(e);
}

/* Whether code confirms r's chosen key now; *counter receives a TOTP
 * code's time step (-1 for a registration code). */
static bool code_good(const struct auth *a, const struct act *r,
		      const char *code, int64_t *counter)
{
	*counter = -1;
	if (strcmp(r->key_type, "totp_app") == 0)
		return auth_totp_sealed_check(a, r->secret, r->secret_len,
					      code, counter) == 0;
	uint8_t got[crypto_generichash_BYTES];
	auth_code_digest(a, code && strlen(code) == 6 ? code : "-", got);
	return r->has_reg && time_now() < r->code_expires_at &&
	       ct_equal(got, r->reg_hash, sizeof(got));
}

/* The events of a completion: evs[0] about the person, then one
 * "key_deactivate" about every other holder of a linked key, acted by
 * the person. Returns their number. */
static size_t completion_events(const struct audit_actor *by,
				const struct completion *c,
				struct audit_event *evs, size_t max)
{
	size_t n = 1;
	for (int i = 0; i < c->nold && n < max; i++) {
		const char *holder = c->old[i].insz;
		bool seen = strcmp(holder, c->r->insz) == 0;
		for (size_t j = 1; j < n && !seen; j++)
			seen = strcmp(evs[j].subject, holder) == 0;
		if (seen)
			continue;
		evs[n] = auth_event(by, holder, "key_deactivate", "activation");
		evs[n++].user = evs[0].user;
	}
	return n;
}

/* c's completion recorded with ev (and the other holders' events).
 * Returns 0, or -1 with e. */
static int complete_commit(struct auth *a, const struct audit_actor *by,
			   struct audit_event *ev, struct completion *c,
			   struct error *e)
{
	struct store_conn *rd = store_reader(a->store);
	if (!rd)
		return store_fail(e, "keys cannot be read now");
	/* Computed again now: keys may have come or gone since the issue. */
	c->old = linked_read(rd, c->r->email, c->r->insz, &c->nold);
	struct audit_event evs[AUDIT_COMMIT_MAX + 1];
	evs[0] = *ev;
	size_t n = completion_events(by, c, evs, KP_NELEM(evs));
	if (n > AUDIT_COMMIT_MAX) {
		/* Every deactivation is recorded, or none is made. */
		free(c->old);
		struct error bad;
		err_set(&bad, ERR_CONFLICT, "too_many_holders",
			"this address is linked to keys of too many persons: "
			"the registration office must sort it out");
		*e = bad;
		return audit_refused(a->log, ev, &bad);
	}
	int rc = audit_commit(a->log, evs, n, complete_change, c, e);
	auth_cache_invalidate(a); /* the old keys' sessions are over */
	if (rc == 0)
		auth_notice_wake(a);
	free(c->old);
	return rc;
}

int auth_activation_complete(struct auth *a, const struct audit_actor *by,
			     const char *activation_id, const char *code,
			     struct error *e)
{
	struct act r;
	if (act_find(a, sql_by_step, activation_id, &r, e) != 0)
		return -1;
	struct audit_event ev = auth_event(by, r.insz, "activation_complete",
					   r.key_type[0] ? r.key_type
							 : "unknown");
	struct completion c = {.a = a, .r = &r};
	int rc = act_usable(a, &ev, &r, true, e);
	if (rc == 0 && !r.password_hash[0]) {
		err_set(e, ERR_CONFLICT, "no_credentials",
			"choose a username, a password and a key first");
		rc = audit_refused(a->log, &ev, e);
	}
	if (rc == 0 && !code_good(a, &r, code, &c.counter)) {
		struct error wrong;
		err_set(&wrong, ERR_UNAUTHENTICATED, "invalid_code",
			"the code is wrong, used or expired");
		rc = refuse_kept(a, &ev, r.id, sql_fail, true, &wrong, e);
	}
	if (rc == 0)
		rc = complete_commit(a, by, &ev, &c, e);
	act_wipe(&r);
	return rc;
}

const char *auth_public_url(const struct auth *a)
{
	const char *set = atomic_load(&a->public_url_set);
	return set ? set : a->opt.public_url;
}

const char *auth_eid_url(const struct auth *a)
{
	const char *set = atomic_load(&a->eid_url_set);
	return set ? set : a->opt.eid_url;
}

void auth_set_eid_url(struct auth *a, const char *url)
{
	char *old = atomic_exchange(&a->eid_url_set, xstrdup(url));
	/* A reader may still hold it: freed with the service. */
	if (old)
		a->eid_url_old = old;
}

void auth_set_public_url(struct auth *a, const char *url)
{
	char *old = atomic_exchange(&a->public_url_set, xstrdup(url));
	/* A reader may still hold it: freed with the service. */
	if (old)
		a->public_url_old = old;
}
