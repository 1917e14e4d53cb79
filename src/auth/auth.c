/*
 * Accounts, keys, passwords, sessions and the application catalogue.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "auth/auth_internal.h"
#include "org/org.h"
#include "registry/registry.h"

static const char sql_type_put[] =
	"INSERT INTO key_type (code, level, assurance, label) VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (code) DO UPDATE SET level = excluded.level,"
	" assurance = excluded.assurance, label = excluded.label";
static const char sql_app_put[] =
	"INSERT INTO app (id, portal, name, min_level) VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (id) DO UPDATE SET portal = excluded.portal,"
	" name = excluded.name, min_level = excluded.min_level";
static const char sql_type_all[] = "SELECT code, level FROM key_type";
static const char sql_account_add[] =
	"INSERT INTO account (insz, username, email, phone, language, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_key_add[] =
	"INSERT INTO credential (insz, type, status, secret, created_at) "
	"VALUES (?1, ?2, 'active', ?3, ?4)";
static const char sql_password_key[] =
	"SELECT c.id, c.insz, c.status, c.secret, c.failures FROM account a "
	"JOIN credential c ON c.insz = a.insz AND c.type = 'password' "
	"WHERE a.username = ?1 ORDER BY c.status = 'active' DESC, c.id DESC LIMIT 1";
static const char sql_key_used[] =
	"UPDATE credential SET failures = 0, last_used_at = ?2 WHERE id = ?1 "
	"AND status = 'active'";
static const char sql_session_add[] =
	"INSERT INTO session (token_hash, insz, level, key_id, key_type, "
	"profile, created_at, last_seen_at, expires_at) "
	"VALUES (?1, ?2, ?3, ?4, ?7, 'self', ?5, ?5, ?6)";
static const char sql_session_get[] =
	"SELECT insz, level, key_id, profile, last_seen_at, expires_at, "
	"coalesce(key_type, ''), coalesce(step_up, ''), "
	"coalesce(stepped_at, created_at) FROM session "
	"WHERE token_hash = ?1 AND ended_at IS NULL";
static const char sql_session_seen[] =
	"UPDATE session SET last_seen_at = ?2 WHERE token_hash = ?1";
static const char sql_session_profile[] =
	"UPDATE session SET profile = ?3 WHERE token_hash = ?1 AND ended_at IS NULL";
static const char sql_session_end[] =
	"UPDATE session SET ended_at = ?2 WHERE token_hash = ?1 AND ended_at IS NULL";
static const char sql_keys[] =
	"SELECT c.id, c.type, t.level, c.status, c.created_at, "
	"coalesce(c.last_used_at, 0) FROM credential c "
	"JOIN key_type t ON t.code = c.type WHERE c.insz = ?1 ORDER BY c.id";
static const char sql_key_state[] =
	"SELECT type, status FROM credential WHERE id = ?1 AND insz = ?2";
static const char sql_key_off[] =
	"UPDATE credential SET status = 'deactivated', changed_at = ?3 "
	"WHERE id = ?1 AND insz = ?2 AND status IN ('active', 'pending', 'locked')";
static const char sql_apps[] =
	"SELECT id, portal, name, min_level FROM app ORDER BY portal, min_level, id";
static const char sql_app[] =
	"SELECT id, portal, name, min_level FROM app WHERE id = ?1";

/* --------------------------------------------------------------- tables */

/* Split a TSV line into at most max fields in place. */
static int split_tsv(char *line, char **f, int max)
{
	int n = 0;
	for (char *p = line; n < max;) {
		f[n++] = p;
		char *tab = strchr(p, '\t');
		if (!tab)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	return n;
}

/* Feed every data row (no comment, no header) of an embedded table to
 * put(), inside one transaction. */
static int load_table(struct store *s, const char *tsv, const char *sql,
		      int (*put)(struct store_stmt *st, char **f, int n),
		      struct error *e)
{
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	char *copy = xstrdup(tsv), *save = NULL;
	int rc = 0;
	bool header = true;
	for (char *line = strtok_r(copy, "\n", &save); line && rc == 0;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		if (header) {
			header = false;
			continue;
		}
		char *f[8];
		struct store_stmt *st = store_prepare(w, sql);
		rc = put(st, f, split_tsv(line, f, 8));
		store_done(st);
	}
	free(copy);
	if (rc != 0) {
		store_write_rollback(s);
		return err_set(e, ERR_INTERNAL, "bad_table",
			       "an embedded domain table is malformed");
	}
	return store_write_commit(s, e);
}

static int put_key_type(struct store_stmt *st, char **f, int n)
{
	if (n < 4)
		return -1;
	store_bind_text(st, 1, f[0]);
	store_bind_int(st, 2, strtol(f[1], NULL, 10));
	store_bind_text(st, 3, f[2]);
	store_bind_text(st, 4, f[3]);
	return store_step(st) == STORE_DONE ? 0 : -1;
}

static int put_app(struct store_stmt *st, char **f, int n)
{
	if (n < 4)
		return -1;
	store_bind_text(st, 1, f[1]);
	store_bind_text(st, 2, f[0]);
	store_bind_text(st, 3, f[2]);
	store_bind_int(st, 4, strtol(f[3], NULL, 10));
	return store_step(st) == STORE_DONE ? 0 : -1;
}

/* Key types are read once: they come from the embedded table at start and
 * nothing changes them while the service runs. */
static int load_levels(struct auth *a, struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "cannot read the key types");
	struct store_stmt *st = store_prepare(r, sql_type_all);
	while (a->ntypes < AUTH_KEY_TYPES_MAX && store_step(st) == STORE_ROW) {
		str_copy(a->types[a->ntypes].code, sizeof(a->types[0].code),
			 store_col_text(st, 0));
		a->types[a->ntypes++].level = (int)store_col_int(st, 1);
	}
	store_done(st);
	return 0;
}

/* The keys a session can be stepped up with, and the method that names
 * each (the login answer's "step_up", docs/API.md "Authentication"). */
static const struct {
	const char *key_type, *method;
} step_ups[] = {
	{"totp_app", "totp"},
	{"email_code", "email_code"},
	{"sms_code", "sms_code"},
};

_Static_assert(KP_NELEM(step_ups) == AUTH_STEP_UP_METHODS_MAX,
	       "one method per step-up key type");

const char *auth_step_up_key(const char *method)
{
	for (size_t i = 0; i < KP_NELEM(step_ups); i++)
		if (strcmp(step_ups[i].method, method) == 0)
			return step_ups[i].key_type;
	return NULL;
}

/* From the table, so a step-up key type at another level moves it. */
static void find_step_up_level(struct auth *a)
{
	for (size_t i = 0; i < KP_NELEM(step_ups); i++) {
		int level = auth_key_level(a, step_ups[i].key_type);
		if (level > a->step_up_level)
			a->step_up_level = level;
	}
}

int auth_step_up_level(struct auth *a)
{
	return a->step_up_level;
}

int auth_step_up_methods(struct auth *a, const char *insz, int level,
			 const char *out[AUTH_STEP_UP_METHODS_MAX])
{
	struct auth_key *keys;
	int n, found = 0;
	struct error e;
	if (level >= a->step_up_level ||
	    auth_keys(a, insz, &keys, &n, &e) != 0)
		return 0;
	/* In the table's order, each method once however many keys. */
	for (size_t t = 0; t < KP_NELEM(step_ups); t++)
		for (int i = 0; i < n; i++)
			if (strcmp(keys[i].status, "active") == 0 &&
			    strcmp(keys[i].type, step_ups[t].key_type) == 0) {
				out[found++] = step_ups[t].method;
				break;
			}
	free(keys);
	return found;
}

/* A zero in the options is the named default (auth.h), so callers that
 * configure nothing (seeding, tests) still get the documented rules. */
static void options_defaults(struct auth_options *o)
{
	if (!o->code_ttl_s)
		o->code_ttl_s = AUTH_CODE_TTL_S;
	if (!o->totp_step_s)
		o->totp_step_s = AUTH_TOTP_STEP_S;
	if (!o->registration_code_ttl_s)
		o->registration_code_ttl_s = AUTH_REGISTRATION_CODE_TTL_S;
	if (!o->max_failures)
		o->max_failures = AUTH_MAX_FAILURES;
	if (!o->max_code_failures)
		o->max_code_failures = AUTH_MAX_CODE_FAILURES;
	if (!o->throttle_free)
		o->throttle_free = AUTH_THROTTLE_FREE;
	if (!o->throttle_max_s)
		o->throttle_max_s = AUTH_THROTTLE_MAX_S;
	if (!o->logins_per_minute)
		o->logins_per_minute = AUTH_LOGINS_PER_MINUTE;
	if (!o->code_sends_per_hour)
		o->code_sends_per_hour = AUTH_CODE_SENDS_PER_HOUR;
	if (!o->code_sends_per_day)
		o->code_sends_per_day = AUTH_CODE_SENDS_PER_DAY;
	if (!o->failure_window_s)
		o->failure_window_s = AUTH_FAILURE_WINDOW_S;
	if (!o->activation_ttl_s)
		o->activation_ttl_s = AUTH_ACTIVATION_TTL_S;
	if (!o->activation_max_failures)
		o->activation_max_failures = AUTH_ACTIVATION_MAX_FAILURES;
	if (!o->public_url[0])
		str_copy(o->public_url, sizeof(o->public_url), AUTH_PUBLIC_URL);
}

int auth_open(struct audit *log, const struct auth_options *opt,
	      struct auth **out, struct error *e)
{
	if (oath_init() != OATH_OK)
		return err_set(e, ERR_INTERNAL, "auth_failed",
			       "liboath cannot initialise");
	struct store *s = audit_store(log);
	struct auth *a = xcalloc(1, sizeof(*a));
	a->log = log;
	a->store = s;
	a->opt = *opt;
	options_defaults(&a->opt);
	if (a->opt.argon2_ops < crypto_pwhash_OPSLIMIT_MIN ||
	    a->opt.argon2_mem < crypto_pwhash_MEMLIMIT_MIN) {
		free(a);
		return err_set(e, ERR_INVALID, "config_invalid",
			       "Argon2id parameters below libsodium's minimum");
	}
	char dummy[32];
	rand_bytes(dummy, sizeof(dummy));
	if (crypto_pwhash_str_alg(a->dummy_hash, dummy, sizeof(dummy),
				  a->opt.argon2_ops, a->opt.argon2_mem,
				  crypto_pwhash_ALG_ARGON2ID13) != 0 ||
	    load_table(s, kp_data_key_types, sql_type_put, put_key_type, e) != 0 ||
	    load_table(s, kp_data_apps, sql_app_put, put_app, e) != 0 ||
	    load_levels(a, e) != 0) {
		free(a);
		return e->kind ? -1 : err_set(e, ERR_INTERNAL, "auth_failed",
					      "out of memory for Argon2id");
	}
	find_step_up_level(a);
	int per_minute = a->opt.logins_per_minute;
	a->per_user = ratelimit_new(per_minute / 60.0, per_minute, 65536);
	a->per_activation = ratelimit_new(
		AUTH_ACTIVATION_STEPS_PER_MINUTE / 60.0,
		AUTH_ACTIVATION_STEPS_PER_MINUTE, 65536);
	a->throttle = auth_throttle_new(a->opt.throttle_free,
					a->opt.throttle_max_s);
	auth_cache_init(a);
	auth_portal_init(a);
	pthread_mutex_init(&a->sweep_mu, NULL);
	pthread_cond_init(&a->sweep_cond, NULL);
	*out = a;
	return 0;
}

void auth_close(struct auth *a)
{
	if (!a)
		return;
	auth_sweeper_stop(a);
	pthread_mutex_destroy(&a->sweep_mu);
	pthread_cond_destroy(&a->sweep_cond);
	ratelimit_free(a->per_user);
	ratelimit_free(a->per_activation);
	auth_throttle_free(a->throttle);
	auth_cache_free(a);
	auth_portal_free(a);
	free(atomic_load(&a->public_url_set));
	free(a->public_url_old);
	free(atomic_load(&a->eid_url_set));
	free(a->eid_url_old);
	secret_wipe(a->opt.master_key, sizeof(a->opt.master_key));
	free(a);
}

int auth_key_level(struct auth *a, const char *key_type)
{
	for (int i = 0; i < a->ntypes; i++)
		if (strcmp(a->types[i].code, key_type) == 0)
			return a->types[i].level;
	return 0;
}

/* ------------------------------------------------------------- accounts */

void auth_username_canon(const char *in, char out[AUTH_USERNAME_MAX + 1])
{
	size_t i = 0;
	for (; in[i] && i < AUTH_USERNAME_MAX; i++)
		out[i] = in[i] >= 'A' && in[i] <= 'Z' ? (char)(in[i] + 32)
						      : in[i];
	out[i] = '\0';
}

bool auth_username_ok(const char *u)
{
	size_t n = strlen(u);
	if (n < 3 || n > AUTH_USERNAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = u[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-' || c == '@'))
			return false;
	}
	return true;
}

static const struct store_refusal account_exists = {
	ERR_CONFLICT, "account_exists", "this person or username has an account"};

/* An account and its password key, as audit_commit runs it. */
struct account_add {
	const struct auth_account *acc;
	const char *hash;
};

static int account_add_change(struct store_conn *w, void *ctx,
			      struct audit_event *evs, size_t n,
			      struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	const struct account_add *c = ctx;
	const struct auth_account *acc = c->acc;
	struct store_stmt *st = store_prepare(w, sql_account_add);
	store_bind_text(st, 1, acc->insz);
	store_bind_text(st, 2, acc->username);
	store_bind_text(st, 3, acc->email[0] ? acc->email : NULL);
	store_bind_text(st, 4, acc->phone[0] ? acc->phone : NULL);
	store_bind_text(st, 5, acc->language[0] ? acc->language : "nl");
	store_bind_int(st, 6, time_now());
	if (store_run(st, &account_exists, e) != 0)
		return -1;
	st = store_prepare(w, sql_key_add);
	store_bind_text(st, 1, acc->insz);
	store_bind_text(st, 2, "password");
	store_bind_blob(st, 3, c->hash, strlen(c->hash));
	store_bind_int(st, 4, time_now());
	return store_run(st, &account_exists, e);
}

/* Why acc and password cannot make an account: NULL, or bad filled. */
static const struct error *account_refusal(const struct auth_account *acc,
					   const char *password,
					   struct error *bad)
{
	size_t n = strlen(password);
	if (!insz_valid(acc->insz) || strlen(acc->insz) != 11)
		err_set(bad, ERR_INVALID, "invalid_insz",
			"not a valid INSZ (digits only)");
	else if (!auth_username_ok(acc->username))
		err_set(bad, ERR_INVALID, "invalid_field",
			"username: 3-64 of a-z 0-9 . _ - @");
	else if (n < 10 || n > AUTH_PASSWORD_MAX || !utf8_valid(password, n))
		err_set(bad, ERR_INVALID, "weak_password",
			"a password has 10 to 256 characters");
	else
		return NULL;
	return bad;
}

int auth_password_hash(const struct auth *a, const char *password,
		       char hash[crypto_pwhash_STRBYTES], struct error *e)
{
	/* Hashed before the transaction: Argon2id must not hold the log's
	 * writer. */
	if (crypto_pwhash_str_alg(hash, password, strlen(password),
				  a->opt.argon2_ops, a->opt.argon2_mem,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return err_set(e, ERR_INTERNAL, "auth_failed",
			       "the password could not be hashed");
	return 0;
}

int auth_account_create(struct auth *a, const struct audit_actor *by,
			const struct auth_account *acc, const char *password,
			struct error *e)
{
	struct audit_event ev = auth_event(by, acc->insz, "account_create",
					   "password");
	/* Stored in the form every login compares. */
	struct auth_account canon = *acc;
	auth_username_canon(acc->username, canon.username);
	acc = &canon;
	const struct error *bad = account_refusal(acc, password, e);
	if (bad)
		return audit_refused(a->log, &ev, bad);
	char hash[crypto_pwhash_STRBYTES];
	if (auth_password_hash(a, password, hash, e) != 0)
		return -1;
	struct account_add c = {acc, hash};
	return audit_commit(a->log, &ev, 1, account_add_change, &c, e);
}

/* --------------------------------------------------------------- sessions */

/* A session opened by a login: a new token's hash and, for a password, the
 * key marked used or its failure counted, as audit_commit runs it. */
struct login {
	const struct auth *a;
	int64_t key_id;       /* 0: an eID, no key row */
	bool match;           /* the password matched (always, for an eID) */
	const char *insz;
	int level;
	const char *key_type;
	uint8_t hash[SHA256_LEN];
	int64_t now;
	enum auth_failure why;
	struct error refusal; /* a wrong password, its count kept */
};

static int login_change(struct store_conn *w, void *ctx,
			struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct login *c = ctx;
	err_clear(&c->refusal);
	if (!c->match) {
		/* The count is the point of this refusal: it is kept. */
		bool locked = auth_count_failure(w, c->a, c->key_id,
						 c->a->opt.max_failures);
		c->why = locked ? AUTH_KEY_NOW_LOCKED : AUTH_BAD_PASSWORD;
		auth_refuse_kept(&evs[0], "login", locked,
				 "invalid_credentials",
				 "username or password is wrong", &c->refusal);
		if (!locked)
			auth_failure_open(w, c->a, c->key_id, &evs[0]);
		return 0;
	}
	struct store_stmt *st;
	if (c->key_id) {
		st = store_prepare(w, sql_key_used);
		store_bind_int(st, 1, c->key_id);
		store_bind_int(st, 2, c->now);
		if (store_run(st, NULL, e) != 0)
			return -1;
		if (store_changes(w) == 0) /* locked or deactivated meanwhile */
			return err_set(e, ERR_UNAUTHENTICATED,
				       "invalid_credentials",
				       "username or password is wrong");
		auth_failure_close(w, c->key_id);
	}
	st = store_prepare(w, sql_session_add);
	store_bind_blob(st, 1, c->hash, sizeof(c->hash));
	store_bind_text(st, 2, c->insz);
	store_bind_int(st, 3, c->level);
	store_bind_int(st, 4, c->key_id);
	store_bind_int(st, 5, c->now);
	store_bind_int(st, 6, c->now + c->a->opt.session_absolute_s);
	store_bind_text(st, 7, c->key_type);
	return store_run(st, NULL, e);
}

/* Make c's login recorded with ev: on success 0 with the token and the
 * session; -1 with e (the refusal, its count kept; or nothing changed). */
static int login_commit(struct auth *a, struct audit_event *ev,
			struct login *c, char token[TOKEN_HEX_LEN],
			struct auth_session *out, struct error *e)
{
	c->a = a;
	c->now = time_now();
	token_new(token, c->hash);
	int rc = audit_commit(a->log, ev, 1, login_change, c, e);
	/* A key that locked ended the sessions it opened. */
	if (c->why == AUTH_KEY_NOW_LOCKED)
		auth_cache_invalidate(a);
	if (rc == 0 && c->refusal.kind) {
		*e = c->refusal;
		rc = -1;
	}
	if (rc != 0) {
		/* A token that opens nothing is not handed out. */
		secret_wipe(token, TOKEN_HEX_LEN);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	str_copy(out->insz, sizeof(out->insz), c->insz);
	str_copy(out->profile, sizeof(out->profile), "self");
	out->level = c->level;
	out->key_id = c->key_id;
	str_copy(out->key_type, sizeof(out->key_type), c->key_type);
	out->expires_at = c->now + a->opt.session_absolute_s;
	out->auth_time = c->now;
	return 0;
}

/* A session row: the session, and when it was last seen. */
struct session_row {
	struct auth_session *s;
	int64_t seen;
};

static void read_session(struct store_stmt *st, void *row)
{
	struct session_row *r = row;
	struct auth_session *out = r->s;
	memset(out, 0, sizeof(*out));
	str_copy(out->insz, sizeof(out->insz), store_col_text(st, 0));
	out->level = (int)store_col_int(st, 1);
	out->key_id = store_col_int(st, 2);
	str_copy(out->profile, sizeof(out->profile), store_col_text(st, 3));
	r->seen = store_col_int(st, 4);
	out->expires_at = store_col_int(st, 5);
	str_copy(out->key_type, sizeof(out->key_type), store_col_text(st, 6));
	str_copy(out->step_up, sizeof(out->step_up), store_col_text(st, 7));
	out->auth_time = store_col_int(st, 8);
}

/* The session of a token hash from the store: 0, 1 when none, -1. */
static int session_read(struct auth *a, const uint8_t hash[SHA256_LEN],
			struct auth_session *out, int64_t *seen)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_session_get);
	store_bind_blob(st, 1, hash, SHA256_LEN);
	struct session_row row = {out, 0};
	int rc = store_one(st, read_session, &row, NULL);
	*seen = row.seen;
	return rc;
}

bool auth_session_live(struct auth *a, const uint8_t hash[SHA256_LEN])
{
	struct auth_session s;
	int64_t seen = 0, now = time_now();
	if (session_read(a, hash, &s, &seen) != 0)
		return false;
	return now < s.expires_at && now < seen + a->opt.session_idle_s;
}

int auth_session_check(struct auth *a, const char *token,
		       struct auth_session *out)
{
	uint8_t hash[SHA256_LEN];
	if (!auth_token_hash(token, hash))
		return 1;
	int64_t now = time_now(), seen = 0;
	if (auth_cache_get(a, hash, now, out, &seen))
		return now >= out->expires_at ||
		       now >= seen + a->opt.session_idle_s;
	uint64_t gen = auth_cache_generation(a);
	int rc = session_read(a, hash, out, &seen);
	if (rc != 0)
		return rc;
	if (now >= out->expires_at || now >= seen + a->opt.session_idle_s)
		return 1;
	/* The idle clock moves in steps of a minute: one write a minute per
	 * active session, not one per request. It is bookkeeping, not an
	 * event: nobody acted. */
	if (now - seen >= AUTH_SEEN_STEP_S) {
		/* Best effort: a session whose clock could not move is still
		 * valid, and the next request tries again. */
		struct error e;
		struct store_conn *w = store_write_begin(a->store, &e);
		if (w) {
			struct store_stmt *st = store_prepare(w, sql_session_seen);
			store_bind_blob(st, 1, hash, sizeof(hash));
			store_bind_int(st, 2, now);
			if (store_write_end(a->store, store_run(st, NULL, &e),
					    &e) == 0)
				seen = now;
		}
	}
	auth_cache_put(a, hash, gen, out, seen);
	return 0;
}

/* One UPDATE of a live session, as audit_commit runs it: ?1 its token
 * hash, ?2 num, ?3 text (when not NULL). A profile change records the
 * profile the session acts for from now on. */
struct session_update {
	const char *sql;
	uint8_t hash[SHA256_LEN];
	int64_t num;
	const char *text;
	const char *profile;
};

static int session_update_change(struct store_conn *w, void *ctx,
				 struct audit_event *evs, size_t n,
				 struct error *e)
{
	KP_UNUSED(n);
	const struct session_update *c = ctx;
	struct store_stmt *st = store_prepare(w, c->sql);
	store_bind_blob(st, 1, c->hash, sizeof(c->hash));
	store_bind_int(st, 2, c->num);
	if (c->text)
		store_bind_text(st, 3, c->text);
	if (store_run(st, NULL, e) != 0)
		return -1;
	if (store_changes(w) == 0)
		return err_set(e, ERR_UNAUTHENTICATED, "not_authenticated",
			       "the session has ended");
	if (c->profile)
		evs[0].profile = c->profile;
	return 0;
}

/* Make c's update recorded with ev, then bump the session cache: no
 * request may act on the session as it was. Returns 0, or -1 with e. */
static int session_update(struct auth *a, struct audit_event *ev,
			  struct session_update *c, struct error *e)
{
	int rc = audit_commit(a->log, ev, 1, session_update_change, c, e);
	auth_cache_invalidate(a);
	return rc;
}

/* A child may be represented until the day before its 18th birthday. */
static bool minor(const struct registry_person *child)
{
	struct date born;
	if (strlen(child->birth_date) != 10 ||
	    date_parse(child->birth_date, &born) != 0)
		return false;
	struct date adult = date_add_months(born, 18 * 12);
	return date_cmp(date_today(), adult) < 0;
}

/* Whom insz may act for: 0 with profile, or -1 with e. */
static int profile_of(struct auth *a, const char *insz, const char *child,
		      const char *kbo, char profile[32], struct error *e)
{
	struct registry_person p;
	char k[11];
	if (child) {
		if (!insz_valid(child) || !registry_is_parent(a->store, insz, child) ||
		    registry_get(a->store, child, &p, e) != 0 || !minor(&p) ||
		    p.deceased_on[0])
			return err_set(e, ERR_FORBIDDEN, "not_representative",
				       "you can act only for your own minor child");
		snprintf(profile, 32, "child:%s", child);
	} else if (kbo) {
		if (kbo_parse(kbo, strlen(kbo), k) != ID_OK ||
		    !org_any_role_valid(a->store, insz, k,
					date_to_days(date_today())))
			return err_set(e, ERR_FORBIDDEN, "not_representative",
				       "you hold no valid role at this "
				       "organisation");
		snprintf(profile, 32, "org:%s", k);
	} else {
		str_copy(profile, 32, "self");
	}
	return 0;
}

/* insz's minor, living children into the list l (from *n). */
static int child_profiles(struct auth *a, const char *insz,
			  struct auth_profile *l, int max, int *n,
			  struct error *e)
{
	char(*kids)[INSZ_BUF];
	int nk;
	if (registry_children(a->store, insz, &kids, &nk, e) != 0)
		return -1;
	for (int i = 0; i < nk && *n < max; i++) {
		struct registry_person p;
		if (registry_get(a->store, kids[i], &p, NULL) != 0 ||
		    !minor(&p) || p.deceased_on[0])
			continue;
		struct auth_profile *c = &l[(*n)++];
		str_copy(c->kind, sizeof(c->kind), "child");
		str_copy(c->insz, sizeof(c->insz), p.insz);
		snprintf(c->name, sizeof(c->name), "%s %s", p.first_names,
			 p.last_name);
	}
	free(kids);
	return 0;
}

/* The organisations where insz holds a role today, with those roles. */
static int org_profiles(struct auth *a, const char *insz,
			struct auth_profile *l, int max, int *n,
			struct error *e)
{
	struct org_role *r;
	int nr;
	if (org_roles_held(a->store, insz, date_to_days(date_today()), &r, &nr,
			   e) != 0)
		return -1;
	for (int i = 0; i < nr; i++) {
		struct auth_profile *o = *n ? &l[*n - 1] : NULL;
		if (!o || strcmp(o->kind, "organisation") != 0 ||
		    strcmp(o->kbo, r[i].kbo) != 0) {
			if (*n == max)
				break;
			o = &l[(*n)++];
			str_copy(o->kind, sizeof(o->kind), "organisation");
			str_copy(o->kbo, sizeof(o->kbo), r[i].kbo);
			if (org_name(a->store, r[i].kbo, o->name,
				     sizeof(o->name), NULL) != 0)
				str_copy(o->name, sizeof(o->name), r[i].kbo);
		}
		if (o->nroles < AUTH_PROFILE_ROLES)
			str_copy(o->roles[o->nroles++], sizeof(o->roles[0]),
				 r[i].role);
	}
	free(r);
	return 0;
}

int auth_profiles(struct auth *a, const char *insz, struct auth_profile **out,
		  int *n, struct error *e)
{
	enum { MAX = 1 + 64 + 64 };
	struct auth_profile *l = xcalloc(MAX, sizeof(*l));
	struct registry_person self;
	*n = 1;
	str_copy(l[0].kind, sizeof(l[0].kind), "self");
	str_copy(l[0].insz, sizeof(l[0].insz), insz);
	if (registry_get(a->store, insz, &self, NULL) == 0)
		snprintf(l[0].name, sizeof(l[0].name), "%s %s",
			 self.first_names, self.last_name);
	if (child_profiles(a, insz, l, MAX, n, e) != 0 ||
	    org_profiles(a, insz, l, MAX, n, e) != 0) {
		free(l);
		return -1;
	}
	*out = l;
	return 0;
}

int auth_choose_profile(struct auth *a, const struct audit_actor *by,
			const char *token, const char *insz,
			const char *child, const char *kbo, char profile[32],
			struct error *e)
{
	struct audit_event ev = auth_event(by, insz, "profile",
					   "representation");
	struct session_update c = {sql_session_profile, {0}, 0, profile,
				   profile};
	if (profile_of(a, insz, child, kbo, profile, e) != 0)
		return audit_refused(a->log, &ev, e);
	if (!auth_token_hash(token, c.hash)) {
		err_set(e, ERR_UNAUTHENTICATED, "not_authenticated",
			"no session");
		return audit_refused(a->log, &ev, e);
	}
	return session_update(a, &ev, &c, e);
}

int auth_logout(struct auth *a, const struct audit_actor *by,
		const char *token, struct error *e)
{
	struct session_update c = {sql_session_end, {0}, time_now(), NULL,
				   NULL};
	struct auth_session s;
	int64_t seen;
	/* Whose session it is, for the event: read past the cache, which
	 * may hold a session ended a moment ago. */
	if (!auth_token_hash(token, c.hash))
		return 1;
	int rc = session_read(a, c.hash, &s, &seen);
	if (rc != 0)
		return rc < 0 ? store_fail(e, "sessions cannot be read now") : 1;
	struct audit_event ev = auth_event(by, s.insz, "logout", s.key_type);
	return session_update(a, &ev, &c, e);
}

/* ------------------------------------------------------------------ login */

struct password_key {
	int64_t id;
	char insz[INSZ_BUF];
	char status[16];
	char hash[crypto_pwhash_STRBYTES];
	bool found;
};

static void read_password_key(struct store_stmt *st, void *key)
{
	struct password_key *k = key;
	size_t n;
	const void *h = store_col_blob(st, 3, &n);
	k->found = n < sizeof(k->hash);
	k->id = store_col_int(st, 0);
	str_copy(k->insz, sizeof(k->insz), store_col_text(st, 1));
	str_copy(k->status, sizeof(k->status), store_col_text(st, 2));
	if (k->found)
		memcpy(k->hash, h, n);
}

/* The password key of a username (k->found false when there is none).
 * Returns 0, or -1 with e set. */
static int find_password_key(struct auth *a, const char *username,
			     struct password_key *k, struct error *e)
{
	memset(k, 0, sizeof(*k));
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "accounts cannot be read now");
	struct store_stmt *st = store_prepare(r, sql_password_key);
	store_bind_text(st, 1, username);
	return store_one(st, read_password_key, k, e) < 0 ? -1 : 0;
}

/* What every refused password login tells the outside: an unknown user,
 * a wrong password and a locked key look the same (no enumeration). */
static int login_refused(struct error *e)
{
	return err_set(e, ERR_UNAUTHENTICATED, "invalid_credentials",
		       "username or password is wrong");
}

struct unusable {
	const struct auth *a;
	int64_t key_id;
};

/* The refusal's only write: the window its like ones fold into. */
static int unusable_change(struct store_conn *w, void *ctx,
			   struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	KP_UNUSED(e);
	struct unusable *u = ctx;
	auth_failure_open(w, u->a, u->key_id, &evs[0]);
	return 0;
}

/* A key that cannot open anything (locked, deactivated): recorded with
 * what it is (once per window, then counted), answered as any wrong
 * password. */
static int login_key_unusable(struct auth *a, const struct audit_event *ev,
			      const struct password_key *k,
			      enum auth_failure *why, struct error *e)
{
	struct audit_event r = *ev;
	r.outcome = AUDIT_REFUSED;
	r.reason = "invalid_credentials";
	*why = AUTH_NO_KEY;
	if (strcmp(k->status, "locked") == 0) {
		*why = AUTH_KEY_LOCKED;
		r.reason = "key_locked";
	}
	if (!auth_failure_fold(a, k->id, &r, r.reason, 0)) {
		struct unusable u = {a, k->id};
		struct error err;
		if (audit_commit(a->log, &r, 1, unusable_change, &u, &err) != 0)
			log_error("security: a refused login was not audited: "
				  "%s", err.detail);
	}
	return login_refused(e);
}

int auth_login_password(struct auth *a, const struct audit_actor *by,
			const char *username, const char *password,
			char token[TOKEN_HEX_LEN], struct auth_session *out,
			enum auth_failure *why, char insz[INSZ_BUF],
			struct error *e)
{
	struct password_key k;
	char user[AUTH_USERNAME_MAX + 1];
	insz[0] = '\0';
	*why = AUTH_OK;
	auth_username_canon(username, user);
	/* Before any work, known name or not: the delays must not tell
	 * which accounts exist. */
	if (!ratelimit_allow(a->per_user, user, strlen(user)) ||
	    auth_throttle_begin(a->throttle, user) > 0) {
		*why = AUTH_THROTTLED;
		return err_set(e, ERR_RATE_LIMITED, "rate_limited",
			       "too many attempts for this username; try "
			       "again later");
	}
	if (find_password_key(a, user, &k, e) != 0)
		return -1;
	/* Always one Argon2id verification, whatever the account, and before
	 * the transaction: it must not hold the log's writer. */
	bool usable = k.found && strcmp(k.status, "active") == 0;
	bool match = crypto_pwhash_str_verify(usable ? k.hash : a->dummy_hash,
					      password, strlen(password)) == 0;
	struct audit_event ev = auth_event(by, k.insz, "login", "password");
	if (!k.found) {
		/* Nobody to record it about: the caller logs it. */
		*why = AUTH_UNKNOWN_USER;
		return login_refused(e);
	}
	str_copy(insz, INSZ_BUF, k.insz);
	if (!usable)
		return login_key_unusable(a, &ev, &k, why, e);
	if (!match && auth_failure_fold(a, k.id, &ev, "invalid_credentials",
					a->opt.max_failures)) {
		*why = AUTH_BAD_PASSWORD;
		return login_refused(e);
	}
	struct login c = {.key_id = k.id, .match = match, .insz = k.insz,
			  .level = auth_key_level(a, "password"),
			  .key_type = "password",
			  .why = match ? AUTH_OK : AUTH_BAD_PASSWORD};
	int rc = login_commit(a, &ev, &c, token, out, e);
	*why = c.why;
	if (rc == 0)
		auth_throttle_success(a->throttle, user);
	else if (e->kind == ERR_LOCKED)
		login_refused(e); /* recorded as the lock it is */
	return rc;
}

int auth_login_retry_after(struct auth *a, const char *username)
{
	char user[AUTH_USERNAME_MAX + 1];
	auth_username_canon(username, user);
	int wait = auth_throttle_wait(a->throttle, user);
	/* Otherwise the per-minute bucket refused: it gives an attempt back
	 * every 60/n seconds. */
	int n = a->opt.logins_per_minute;
	return wait > 0 ? wait : (60 + n - 1) / n;
}

/* A login by a key that is no row of ours (an eID, a key another party
 * issued): nrn, already parsed as a register number, must name a living
 * person in the registers; then a session at the level of key_type.
 * Refusals carry `code` (recorded when the person is known). */
static int login_by_person(struct auth *a, struct audit_event *ev,
			   const char *nrn, const char *key_type,
			   const char *code, char token[TOKEN_HEX_LEN],
			   struct auth_session *out, struct error *e)
{
	/* A person's logins by such a key are bounded like a username's
	 * password logins: each opens a session and is an event. */
	char key[INSZ_BUF + 40];
	snprintf(key, sizeof(key), "%s:%s", key_type, nrn);
	if (!ratelimit_allow(a->per_user, key, strlen(key)))
		return err_set(e, ERR_RATE_LIMITED, "rate_limited",
			       "too many logins; try again in a minute");
	struct registry_person p;
	int rc = registry_get(a->store, nrn, &p, e);
	if (rc < 0)
		return -1; /* the register cannot be read: try again */
	if (rc != 0 || p.deceased_on[0]) {
		err_set(e, ERR_UNAUTHENTICATED, code,
			"the key's holder is not a registered, living person");
		return audit_refused(a->log, ev, e);
	}
	struct login c = {.match = true, .insz = nrn,
			  .level = auth_key_level(a, key_type),
			  .key_type = key_type};
	return login_commit(a, ev, &c, token, out, e);
}

int auth_login_certificate(struct auth *a, const struct audit_actor *by,
			   const char *serial_number,
			   char token[TOKEN_HEX_LEN], struct auth_session *out,
			   struct error *e)
{
	struct insz z;
	if (!serial_number ||
	    insz_parse(serial_number, strlen(serial_number), &z) != ID_OK ||
	    z.kind != INSZ_RR)
		return err_set(e, ERR_UNAUTHENTICATED, "certificate_rejected",
			       "the certificate carries no national register "
			       "number");
	/* An eID is a key in itself: no account is needed, but a living
	 * person in the National Register is. */
	struct audit_event ev = auth_event(by, z.digits, "login", "eid");
	return login_by_person(a, &ev, z.digits, "eid",
			       "certificate_rejected", token, out, e);
}

int auth_login_external(struct auth *a, const struct audit_actor *by,
			const char *nrn, const char *key_type,
			const char *provider, char token[TOKEN_HEX_LEN],
			struct auth_session *out, struct error *e)
{
	if (!key_type || auth_key_level(a, key_type) <= 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "unknown key type");
	struct insz z;
	if (!nrn || insz_parse(nrn, strlen(nrn), &z) != ID_OK)
		return err_set(e, ERR_UNAUTHENTICATED, "person_unknown",
			       "the provider named no valid national number");
	/* A BIS number is a person too: an external key (eIDAS) is how a
	 * person without a Belgian register number logs in. */
	struct audit_event ev = auth_event(by, z.digits, "login", key_type);
	ev.legal_basis = provider;
	return login_by_person(a, &ev, z.digits, key_type, "person_unknown",
			       token, out, e);
}

/* ------------------------------------------------------------------- keys */

void auth_read_key(struct store_stmt *st, void *item)
{
	struct auth_key *k = item;
	k->id = store_col_int(st, 0);
	str_copy(k->type, sizeof(k->type), store_col_text(st, 1));
	k->level = (int)store_col_int(st, 2);
	str_copy(k->status, sizeof(k->status), store_col_text(st, 3));
	k->created_at = store_col_int(st, 4);
	k->last_used_at = store_col_int(st, 5);
}

int auth_keys(struct auth *a, const char *insz, struct auth_key **out, int *n,
	      struct error *e)
{
	/* No keys on failure too: the outputs are never left undefined. */
	*out = NULL;
	*n = 0;
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "keys cannot be read now");
	struct store_stmt *st = store_prepare(r, sql_keys);
	store_bind_text(st, 1, insz);
	*out = store_collect(st, sizeof(**out), auth_read_key, n);
	return 0;
}

/* A key deactivated, its sessions ended or lowered and, when it was in
 * use, the person told, as audit_commit runs it. */
struct key_off {
	const struct auth *a;
	const char *insz;
	int64_t key_id;
	char type[32], status[16];
};

static void read_key_state(struct store_stmt *st, void *row)
{
	struct key_off *c = row;
	str_copy(c->type, sizeof(c->type), store_col_text(st, 0));
	str_copy(c->status, sizeof(c->status), store_col_text(st, 1));
}

static int key_off_change(struct store_conn *w, void *ctx,
			  struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct key_off *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_key_state);
	store_bind_int(st, 1, c->key_id);
	store_bind_text(st, 2, c->insz);
	if (store_one(st, read_key_state, c, e) < 0)
		return -1;
	st = store_prepare(w, sql_key_off);
	store_bind_int(st, 1, c->key_id);
	store_bind_text(st, 2, c->insz);
	store_bind_int(st, 3, time_now());
	if (store_run(st, NULL, e) != 0)
		return -1;
	if (store_changes(w) == 0)
		return err_set(e, ERR_NOT_FOUND, "unknown_key",
			       "you have no active key with this id");
	/* A key deactivated for loss or misuse opens nothing any more, not
	 * even the sessions it opened or raised. */
	if (auth_key_lost(w, c->key_id, e) != 0)
		return -1;
	/* A pending key never counted: its end is no news. */
	if (strcmp(c->status, "pending") == 0)
		return 0;
	return auth_key_notice(w, c->a, c->insz, c->key_id, c->type, false, e);
}

int auth_key_deactivate(struct auth *a, const struct audit_actor *by,
			const char *insz, int64_t key_id, struct error *e)
{
	struct audit_event ev = auth_event(by, insz, "key_deactivate",
					   "self_service");
	struct key_off c = {a, insz, key_id, "", ""};
	int rc = audit_commit(a->log, &ev, 1, key_off_change, &c, e);
	/* After the commit: the key's sessions are over, cached or not. */
	auth_cache_invalidate(a);
	if (rc == 0)
		auth_notice_wake(a);
	return rc;
}

/* ------------------------------------------------------------------- apps */

/* Fill item (a struct auth_app) from a row of sql_apps or sql_app. */
static void read_app(struct store_stmt *st, void *item)
{
	struct auth_app *app = item;
	str_copy(app->id, sizeof(app->id), store_col_text(st, 0));
	str_copy(app->portal, sizeof(app->portal), store_col_text(st, 1));
	str_copy(app->name, sizeof(app->name), store_col_text(st, 2));
	app->min_level = (int)store_col_int(st, 3);
}

int auth_apps(struct auth *a, struct auth_app **out, int *n, struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "the catalogue cannot be read now");
	struct store_stmt *st = store_prepare(r, sql_apps);
	*out = store_collect(st, sizeof(**out), read_app, n);
	return 0;
}

int auth_app(struct auth *a, const char *id, struct auth_app *out)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_app);
	store_bind_text(st, 1, id);
	return store_one(st, read_app, out, NULL);
}

int auth_app_enter(struct auth *a, const struct audit_actor *by,
		   const char *id, int level, struct auth_app *app,
		   struct error *e)
{
	int rc = auth_app(a, id, app);
	if (rc < 0)
		return store_fail(e, "the catalogue cannot be read now");
	struct audit_event ev = auth_event(by, by->user, "app_enter",
					   rc == 0 ? app->id : id);
	if (rc > 0) {
		err_set(e, ERR_NOT_FOUND, "unknown_app", "no such application");
		return audit_refused(a->log, &ev, e);
	}
	/* The level decides, never the kind of key: a key of the required
	 * level or higher suffices (seed 000). */
	if (level < app->min_level) {
		err_set(e, ERR_FORBIDDEN, "insufficient_level",
			"%s needs a key of level %d", app->name,
			app->min_level);
		return audit_refused(a->log, &ev, e);
	}
	/* Entering is a read: its event is durable before the answer. */
	return audit_append(a->log, &ev, NULL, e);
}
