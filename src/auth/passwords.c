/*
 * Passwords a person chooses (activation, eID self-service) and the eID
 * self-service that sets them. NIST SP 800-63B 5.1.1.2: at least
 * AUTH_PASSWORD_MIN characters, no composition rules, but never a
 * dictionary word nor something as guessable as the person's own names or
 * username. libpwquality does the checking (cracklib's dictionary, its
 * user and bad-word checks); the names come from the registers.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <pwquality.h>

#include "auth/auth_internal.h"
#include "registry/registry.h"

static const char sql_username_owner[] =
	"SELECT insz FROM account WHERE username = ?1";
static const char sql_own_username[] =
	"SELECT username FROM account WHERE insz = ?1";
static const char sql_account_add[] =
	"INSERT INTO account (insz, username, language, created_at) "
	"VALUES (?1, ?2, ?3, ?4) ON CONFLICT (insz) DO UPDATE SET "
	"username = excluded.username";
static const char sql_passwords[] =
	"SELECT id FROM credential WHERE insz = ?1 AND type = 'password' AND "
	"status IN ('active', 'pending', 'locked')";
static const char sql_key_off[] =
	"UPDATE credential SET status = 'deactivated', changed_at = ?2 "
	"WHERE id = ?1";
static const char sql_password_add[] =
	"INSERT INTO credential (insz, type, status, secret, created_at) "
	"VALUES (?1, 'password', 'active', ?2, ?3)";

/* cracklib keeps state between calls: one check at a time. */
static pthread_mutex_t quality_mu = PTHREAD_MUTEX_INITIALIZER;

/* The person's names as lower-case words of 3 letters or more, with the
 * username, space-separated for libpwquality's bad words (out: n bytes). */
static void bad_words(struct auth *a, const char *insz, const char *username,
		      char *out, size_t n)
{
	struct registry_person p;
	struct error e;
	char names[3 * (REGISTRY_NAME_MAX + 1) + AUTH_USERNAME_MAX + 1] = "";
	if (registry_get(a->store, insz, &p, &e) == 0)
		snprintf(names, sizeof(names), "%s %s", p.last_name,
			 p.first_names);
	size_t k = 0, w = 0;
	for (const char *c = names;; c++) {
		bool letter = *c && !strchr(" -'.,", *c);
		if (letter && k + 1 < n) {
			out[k++] = *c >= 'A' && *c <= 'Z' ? (char)(*c + 32) : *c;
			w++;
			continue;
		}
		if (w > 0 && w < 3)
			k -= w; /* too short to be telling */
		else if (w >= 3 && k + 1 < n)
			out[k++] = ' ';
		w = 0;
		if (!*c)
			break;
	}
	out[k] = '\0';
	if (username && strlen(username) >= 3)
		str_copy(out + k, n - k, username);
}

/* libpwquality's verdict on password: 0, or its error with its reason in
 * why (n bytes). */
static int quality(const char *password, const char *user, const char *words,
		   char *why, size_t n)
{
	pwquality_settings_t *q = pwquality_default_settings();
	if (!q) {
		str_copy(why, n, "the password cannot be checked now");
		return PWQ_ERROR_MEM_ALLOC;
	}
	/* Length alone, no classes nor credits (NIST SP 800-63B). */
	static const int off[] = {PWQ_SETTING_DIG_CREDIT, PWQ_SETTING_UP_CREDIT,
				  PWQ_SETTING_LOW_CREDIT, PWQ_SETTING_OTH_CREDIT,
				  PWQ_SETTING_MIN_CLASS, PWQ_SETTING_MAX_REPEAT,
				  PWQ_SETTING_MAX_CLASS_REPEAT,
				  PWQ_SETTING_MAX_SEQUENCE,
				  PWQ_SETTING_GECOS_CHECK};
	for (size_t i = 0; i < KP_NELEM(off); i++)
		pwquality_set_int_value(q, off[i], 0);
	pwquality_set_int_value(q, PWQ_SETTING_MIN_LENGTH, AUTH_PASSWORD_MIN);
	pwquality_set_int_value(q, PWQ_SETTING_DICT_CHECK, 1);
	pwquality_set_int_value(q, PWQ_SETTING_USER_CHECK, 1);
	if (words[0])
		pwquality_set_str_value(q, PWQ_SETTING_BAD_WORDS, words);
	void *aux = NULL;
	pthread_mutex_lock(&quality_mu);
	int rc = pwquality_check(q, password, NULL, user, &aux);
	pthread_mutex_unlock(&quality_mu);
	if (rc < 0)
		str_copy(why, n, pwquality_strerror(NULL, 0, rc, aux));
	pwquality_free_settings(q);
	return rc < 0 ? rc : 0;
}

const struct error *auth_password_refusal(struct auth *a, const char *insz,
					  const char *username,
					  const char *password,
					  struct error *bad)
{
	size_t n = strlen(password);
	char words[512], why[PWQ_MAX_ERROR_MESSAGE_LEN];
	if (n < AUTH_PASSWORD_MIN || n > AUTH_PASSWORD_MAX ||
	    !utf8_valid(password, n)) {
		err_set(bad, ERR_INVALID, "weak_password",
			"a password has %d to %d characters; a few words "
			"make a good one", AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
		return bad;
	}
	bad_words(a, insz, username, words, sizeof(words));
	if (quality(password, username, words, why, sizeof(why)) == 0)
		return NULL;
	err_set(bad, ERR_INVALID, "weak_password",
		"too easy to guess (%s): not a dictionary word, your name or "
		"your username", why);
	return bad;
}

static void read_text_64(struct store_stmt *st, void *out)
{
	str_copy(out, AUTH_USERNAME_MAX + 1, store_col_text(st, 0));
}

/* Whether name (canonical) is free for insz: 0, 1 with e (taken), -1. */
static int username_free(struct store_conn *r, const char *insz,
			 const char *name, struct error *e)
{
	char owner[AUTH_USERNAME_MAX + 1] = "";
	struct store_stmt *st = store_prepare(r, sql_username_owner);
	store_bind_text(st, 1, name);
	int rc = store_one(st, read_text_64, owner, e);
	if (rc < 0)
		return -1;
	if (rc == 0 && strcmp(owner, insz) != 0) {
		err_set(e, ERR_CONFLICT, "username_taken",
			"this username is taken: choose another");
		return 1;
	}
	return 0;
}

int auth_username_choose(struct auth *a, const char *insz, const char *wanted,
			 bool may_change, char out[AUTH_USERNAME_MAX + 1],
			 struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "accounts cannot be read now");
	struct store_stmt *st = store_prepare(r, sql_own_username);
	store_bind_text(st, 1, insz);
	int rc = store_one(st, read_text_64, out, e);
	if (rc < 0 || (rc == 0 && (!wanted || !may_change)))
		return rc; /* a person keeps their username */
	auth_username_canon(wanted ? wanted : "", out);
	if (!wanted || strlen(wanted) > AUTH_USERNAME_MAX ||
	    !auth_username_ok(out)) {
		err_set(e, ERR_INVALID, "invalid_field",
			"username: 3 to 64 of a-z 0-9 . _ - @ (compared in "
			"lower case)");
		return 1;
	}
	return username_free(r, insz, out, e);
}

/* New credentials, as audit_commit runs it. */
struct credentials {
	const struct auth *a;
	const char *insz, *username, *hash;
};

/* In w's transaction: insz's password keys deactivated and their
 * sessions ended. Returns 0, or -1 with e. */
static int passwords_off(struct store_conn *w, const char *insz,
			 struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_passwords);
	store_bind_text(st, 1, insz);
	int n = 0;
	int64_t *ids = store_collect(st, sizeof(int64_t), store_read_int, &n);
	int rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		st = store_prepare(w, sql_key_off);
		store_bind_int(st, 1, ids[i]);
		store_bind_int(st, 2, time_now());
		rc = store_run(st, NULL, e);
		if (rc == 0)
			rc = auth_key_lost(w, ids[i], e);
	}
	free(ids);
	return rc;
}

static const struct store_refusal username_taken = {
	ERR_CONFLICT, "username_taken", "this username is taken: choose another"};

static int credentials_change(struct store_conn *w, void *ctx,
			      struct audit_event *evs, size_t n,
			      struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	const struct credentials *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_account_add);
	store_bind_text(st, 1, c->insz);
	store_bind_text(st, 2, c->username);
	store_bind_text(st, 3, "nl");
	store_bind_int(st, 4, time_now());
	if (store_run(st, &username_taken, e) != 0 ||
	    passwords_off(w, c->insz, e) != 0)
		return -1;
	st = store_prepare(w, sql_password_add);
	store_bind_text(st, 1, c->insz);
	store_bind_blob(st, 2, c->hash, strlen(c->hash));
	store_bind_int(st, 3, time_now());
	if (store_run(st, NULL, e) != 0)
		return -1;
	return auth_notice_message(w, c->a, c->insz, 0, "credentials_changed",
				   NULL, 0, e);
}

int auth_credentials_set(struct auth *a, const struct audit_actor *by,
			 const char *insz, int level, const char *username,
			 const char *password,
			 char username_out[AUTH_USERNAME_MAX + 1],
			 struct error *e)
{
	struct audit_event ev = auth_event(by, insz, "credentials_set", "eid");
	const struct error *bad = auth_level_refusal(a, "eid", level, e);
	int rc = bad ? 1 : auth_username_choose(a, insz, username, true,
						username_out, e);
	if (rc < 0)
		return -1;
	if (!bad && rc == 0)
		bad = auth_password_refusal(a, insz, username_out, password, e);
	if (bad || rc > 0)
		return audit_refused(a->log, &ev, e);
	char hash[crypto_pwhash_STRBYTES];
	if (auth_password_hash(a, password, hash, e) != 0)
		return -1;
	struct credentials c = {a, insz, username_out, hash};
	rc = audit_commit(a->log, &ev, 1, credentials_change, &c, e);
	/* After the commit: the old password's sessions are over. */
	auth_cache_invalidate(a);
	if (rc == 0)
		auth_notice_wake(a);
	secret_wipe(hash, sizeof(hash));
	return rc;
}
