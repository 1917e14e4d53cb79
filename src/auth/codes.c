/*
 * One-time codes by e-mail or SMS (seed 002: login codes valid 10
 * minutes): six random digits, kept only as a hash keyed with the master
 * key, single use, at most CODE_SENDS per CODE_WINDOW_S per key. src/notify
 * delivers them; this file never sees an address book, only the key's.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth_internal.h"

#define CODE_TTL_S 600
#define CODE_SENDS 5
#define CODE_WINDOW_S 600

static const char sql_key_add[] =
	"INSERT INTO credential (insz, type, status, address, created_at) "
	"VALUES (?1, ?2, 'active', ?3, ?4)";
static const char sql_key[] =
	"SELECT id, address FROM credential WHERE insz = ?1 AND type = ?2 "
	"AND status = 'active' ORDER BY id DESC LIMIT 1";
static const char sql_recent[] =
	"SELECT count(*) FROM one_time_code WHERE key_id = ?1 AND created_at > ?2";
static const char sql_code_add[] =
	"INSERT INTO one_time_code (insz, key_id, code_hash, created_at, "
	"expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_code_newest[] =
	"SELECT id, code_hash FROM one_time_code WHERE key_id = ?1 AND "
	"used_at IS NULL AND expires_at > ?2 ORDER BY id DESC LIMIT 1";
static const char sql_code_used[] =
	"UPDATE one_time_code SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL";

static void code_hash(const struct auth *a, const char *code,
		      uint8_t out[crypto_generichash_BYTES])
{
	crypto_generichash(out, crypto_generichash_BYTES, (const uint8_t *)code,
			   strlen(code), a->opt.master_key,
			   sizeof(a->opt.master_key));
}

static bool code_method(const char *m)
{
	return strcmp(m, "email_code") == 0 || strcmp(m, "sms_code") == 0;
}

int auth_code_key_add(struct auth *a, const char *insz, const char *type,
		      const char *address, struct error *e)
{
	if (!code_method(type) || !address[0] || strlen(address) > 127)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "an e-mail or SMS key needs its address");
	struct store_conn *w = store_write_begin(a->store);
	struct store_stmt *st = store_prepare(w, sql_key_add);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, type);
	store_bind_text(st, 3, address);
	store_bind_int(st, 4, time_now());
	enum store_rc rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE) {
		store_write_rollback(a->store);
		return err_set(e, ERR_CONFLICT, "no_account",
			       "the key needs an account");
	}
	return store_write_commit(a->store, e);
}

/* The person's active key of this type and its address. */
static int find_key(struct auth *a, const char *insz, const char *type,
		    int64_t *id, char *to, size_t tn)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_key);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, type);
	enum store_rc rc = store_step(st);
	if (rc == STORE_ROW) {
		*id = store_col_int(st, 0);
		if (to)
			str_copy(to, tn, store_col_text(st, 1));
	}
	store_done(st);
	return rc == STORE_ROW ? 0 : rc == STORE_DONE ? 1 : -1;
}

int auth_code_issue(struct auth *a, const char *insz, const char *method,
		    char code[7], char *to, size_t tn, struct error *e)
{
	int64_t key;
	if (!code_method(method) || find_key(a, insz, method, &key, to, tn) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "you have no active %s key",
			       code_method(method) ? method : "such");
	snprintf(code, 7, "%06u", rand_uniform(1000000));
	uint8_t hash[crypto_generichash_BYTES];
	code_hash(a, code, hash);
	int64_t now = time_now();
	struct store_conn *w = store_write_begin(a->store);
	struct store_stmt *st = store_prepare(w, sql_recent);
	store_bind_int(st, 1, key);
	store_bind_int(st, 2, now - CODE_WINDOW_S);
	int64_t recent = store_step(st) == STORE_ROW ? store_col_int(st, 0) : 0;
	store_done(st);
	if (recent >= CODE_SENDS) {
		store_write_rollback(a->store);
		secret_wipe(code, 7);
		return err_set(e, ERR_RATE_LIMITED, "rate_limited",
			       "too many codes sent; wait a few minutes");
	}
	st = store_prepare(w, sql_code_add);
	store_bind_text(st, 1, insz);
	store_bind_int(st, 2, key);
	store_bind_blob(st, 3, hash, sizeof(hash));
	store_bind_int(st, 4, now);
	store_bind_int(st, 5, now + CODE_TTL_S);
	store_step(st);
	store_done(st);
	return store_write_commit(a->store, e);
}

int auth_code_check(struct auth *a, const char *insz, const char *method,
		    const char *code, struct error *e)
{
	int64_t key, id = 0;
	if (!code_method(method) || find_key(a, insz, method, &key, NULL, 0) != 0)
		return err_set(e, ERR_UNAUTHENTICATED, "invalid_code",
			       "you have no active %s key", method);
	uint8_t want[crypto_generichash_BYTES], got[crypto_generichash_BYTES];
	bool found = false;
	struct store_conn *r = store_reader(a->store);
	struct store_stmt *st = store_prepare(r, sql_code_newest);
	store_bind_int(st, 1, key);
	store_bind_int(st, 2, time_now());
	if (store_step(st) == STORE_ROW) {
		size_t n;
		const void *h = store_col_blob(st, 1, &n);
		found = n == sizeof(want);
		if (found)
			memcpy(want, h, n);
		id = store_col_int(st, 0);
	}
	store_done(st);
	code_hash(a, code && strlen(code) == 6 ? code : "-", got);
	if (!found || !ct_equal(want, got, sizeof(got))) {
		if (auth_count_failure(a, key))
			return err_set(e, ERR_LOCKED, "key_locked",
				       "too many failures: this key is now locked");
		return err_set(e, ERR_UNAUTHENTICATED, "invalid_code",
			       "the code is wrong, used or expired");
	}
	struct store_conn *w = store_write_begin(a->store);
	st = store_prepare(w, sql_code_used);
	store_bind_int(st, 1, id);
	store_bind_int(st, 2, time_now());
	store_step(st);
	int64_t changed = store_changes(w);
	store_done(st);
	if (store_write_commit(a->store, e) != 0 || changed == 0)
		return err_set(e, ERR_UNAUTHENTICATED, "invalid_code",
			       "the code was used already");
	return 0;
}
