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
	"VALUES (?1, ?2, ?5, ?3, ?4) RETURNING id";
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
static const char sql_key_by_id[] =
	"SELECT type, status FROM credential WHERE id = ?1 AND insz = ?2";
static const char sql_key_activate[] =
	"UPDATE credential SET status = 'active', failures = 0, changed_at = ?2 "
	"WHERE id = ?1 AND status = 'pending'";
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

/* An address goes into an SMTP envelope and a To: header, or to an SMS
 * gateway: refuse anything that could smuggle a second recipient or a
 * header. E-mail: one '@' between non-empty parts, printable ASCII without
 * spaces or <>,;"\()[]. Phone: E.164, '+' and 8 to 15 digits. */
bool auth_address_valid(const char *type, const char *address)
{
	size_t n = strlen(address);
	if (strcmp(type, "sms_code") == 0) {
		if (n < 9 || n > 16 || address[0] != '+')
			return false;
		for (size_t i = 1; i < n; i++)
			if (address[i] < '0' || address[i] > '9')
				return false;
		return true;
	}
	const char *at = strchr(address, '@');
	if (strcmp(type, "email_code") != 0 || n < 3 || n > 127 || !at ||
	    at == address || !at[1] || strchr(at + 1, '@'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (address[i] <= ' ' || address[i] > '~' ||
		    strchr("<>,;\"\\()[]", address[i]))
			return false;
	return true;
}

/* A key refers to its account. */
static const struct store_refusal no_account = {
	ERR_CONFLICT, "no_account", "the key needs an account"};

/* Insert a key on the held writer. Returns 0 with *id, or -1 with e. */
static int insert_key(struct store_conn *w, const char *insz,
		      const char *type, const char *status,
		      const char *address, int64_t *id, struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_key_add);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, type);
	store_bind_text(st, 3, address);
	store_bind_int(st, 4, time_now());
	store_bind_text(st, 5, status);
	return store_insert(st, id, &no_account, e) < 0 ? -1 : 0;
}

int auth_code_key_add(struct auth *a, const char *insz, const char *type,
		      const char *address, struct error *e)
{
	int64_t id;
	if (!auth_address_valid(type, address))
		return err_set(e, ERR_INVALID, "invalid_field",
			       "an e-mail or SMS key needs a valid address");
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	return store_write_end(a->store,
			       insert_key(w, insz, type, "active", address,
					  &id, e), e);
}

/* A key's id and, when to is not NULL, its address. */
struct key_row {
	int64_t *id;
	char *to;
	size_t tn;
};

static void read_key_row(struct store_stmt *st, void *row)
{
	struct key_row *k = row;
	*k->id = store_col_int(st, 0);
	if (k->to)
		str_copy(k->to, k->tn, store_col_text(st, 1));
}

/* The person's active key of this type and its address: 0, 1 when none,
 * -1 on a store failure. */
static int find_key(struct auth *a, const char *insz, const char *type,
		    int64_t *id, char *to, size_t tn)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_key);
	store_bind_text(st, 1, insz);
	store_bind_text(st, 2, type);
	struct key_row row = {id, to, tn};
	return store_one(st, read_key_row, &row, NULL);
}

/* In w's transaction: a new code for key unless CODE_SENDS went out in
 * the window. Returns 0 with the code, or -1 with e (code wiped). */
static int add_code(struct auth *a, struct store_conn *w, const char *insz,
		    int64_t key, char code[7], struct error *e)
{
	int64_t now = time_now();
	struct store_stmt *st = store_prepare(w, sql_recent);
	store_bind_int(st, 1, key);
	store_bind_int(st, 2, now - CODE_WINDOW_S);
	int64_t recent = 0;
	if (store_one(st, store_read_int, &recent, e) < 0)
		return -1;
	if (recent >= CODE_SENDS)
		return err_set(e, ERR_RATE_LIMITED, "rate_limited",
			       "too many codes sent; wait a few minutes");
	snprintf(code, 7, "%06u", rand_uniform(1000000));
	uint8_t hash[crypto_generichash_BYTES];
	code_hash(a, code, hash);
	st = store_prepare(w, sql_code_add);
	store_bind_text(st, 1, insz);
	store_bind_int(st, 2, key);
	store_bind_blob(st, 3, hash, sizeof(hash));
	store_bind_int(st, 4, now);
	store_bind_int(st, 5, now + CODE_TTL_S);
	if (store_run(st, NULL, e) != 0) {
		secret_wipe(code, 7);
		return -1;
	}
	return 0;
}

int auth_code_issue(struct auth *a, const char *insz, const char *method,
		    char code[7], char *to, size_t tn, struct error *e)
{
	int64_t key;
	if (!code_method(method) || find_key(a, insz, method, &key, to, tn) != 0)
		return err_set(e, ERR_INVALID, "invalid_field",
			       "you have no active %s key",
			       code_method(method) ? method : "such");
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	return store_write_end(a->store, add_code(a, w, insz, key, code, e), e);
}

int auth_code_key_enrol(struct auth *a, const char *insz, const char *type,
			const char *address, int64_t *id, char code[7],
			struct error *e)
{
	if (!code_method(type))
		return err_set(e, ERR_INVALID, "unsupported_key_type",
			       "type: totp, email_code or sms_code");
	if (!auth_address_valid(type, address))
		return err_set(e, ERR_INVALID, "invalid_field",
			       strcmp(type, "sms_code") == 0
				       ? "phone: +<country code><number>, "
					 "digits only"
				       : "email: a single plain address");
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	int rc = insert_key(w, insz, type, "pending", address, id, e);
	if (rc == 0)
		rc = add_code(a, w, insz, *id, code, e);
	return store_write_end(a->store, rc, e);
}

/* The newest live code of a key: its id and hash. */
struct code_row {
	int64_t id;
	bool found;
	uint8_t hash[crypto_generichash_BYTES];
};

static void read_code(struct store_stmt *st, void *row)
{
	struct code_row *c = row;
	size_t n;
	const void *h = store_col_blob(st, 1, &n);
	c->found = n == sizeof(c->hash);
	if (c->found)
		memcpy(c->hash, h, n);
	c->id = store_col_int(st, 0);
}

/* Check code against the newest live code of key and use it up. A wrong
 * code counts towards the key's lock. Returns 0, or -1 with e. */
static int verify_code(struct auth *a, int64_t key, const char *code,
		       struct error *e)
{
	uint8_t got[crypto_generichash_BYTES];
	struct code_row want = {0};
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "try again");
	struct store_stmt *st = store_prepare(r, sql_code_newest);
	store_bind_int(st, 1, key);
	store_bind_int(st, 2, time_now());
	if (store_one(st, read_code, &want, e) < 0)
		return -1;
	int64_t id = want.id;
	code_hash(a, code && strlen(code) == 6 ? code : "-", got);
	if (!want.found || !ct_equal(want.hash, got, sizeof(got))) {
		if (auth_count_failure(a, key))
			return err_set(e, ERR_LOCKED, "key_locked",
				       "too many failures: this key is now locked");
		return err_set(e, ERR_UNAUTHENTICATED, "invalid_code",
			       "the code is wrong, used or expired");
	}
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	st = store_prepare(w, sql_code_used);
	store_bind_int(st, 1, id);
	store_bind_int(st, 2, time_now());
	int rc = store_run(st, NULL, e);
	int64_t changed = store_changes(w);
	if (store_write_end(a->store, rc, e) != 0)
		return -1;
	return changed ? 0 : err_set(e, ERR_UNAUTHENTICATED, "invalid_code",
				     "the code was used already");
}

int auth_code_check(struct auth *a, const char *insz, const char *method,
		    const char *code, struct error *e)
{
	int64_t key;
	if (!code_method(method) || find_key(a, insz, method, &key, NULL, 0) != 0)
		return err_set(e, ERR_UNAUTHENTICATED, "invalid_code",
			       "you have no active %s key", method);
	return verify_code(a, key, code, e);
}

/* A key's type and status. */
struct type_row {
	char *type;   /* 32 bytes */
	char *status; /* 16 bytes */
};

static void read_type(struct store_stmt *st, void *row)
{
	struct type_row *t = row;
	str_copy(t->type, 32, store_col_text(st, 0));
	str_copy(t->status, 16, store_col_text(st, 1));
}

/* Type and status of one of insz's keys: 0, 1 when none, -1 with e. */
static int key_type(struct auth *a, const char *insz, int64_t id,
		    char type[32], char status[16], struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	if (!r)
		return store_fail(e, "try again");
	struct store_stmt *st = store_prepare(r, sql_key_by_id);
	store_bind_int(st, 1, id);
	store_bind_text(st, 2, insz);
	struct type_row row = {type, status};
	return store_one(st, read_type, &row, e);
}

int auth_key_confirm(struct auth *a, const char *insz, int64_t id,
		     const char *code, char type[32], struct error *e)
{
	char status[16];
	int rc = key_type(a, insz, id, type, status, e);
	if (rc != 0)
		return rc < 0 ? -1
			      : err_set(e, ERR_NOT_FOUND, "unknown_key",
					"you have no key with this id");
	if (strcmp(type, "totp_app") == 0)
		return auth_totp_confirm(a, insz, id, code, e);
	if (!code_method(type))
		return err_set(e, ERR_CONFLICT, "already_confirmed",
			       "this key needs no confirmation");
	if (strcmp(status, "pending") != 0)
		return err_set(e, ERR_CONFLICT, "already_confirmed",
			       "this key is not waiting for confirmation");
	if (verify_code(a, id, code, e) != 0)
		return -1;
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_key_activate);
	store_bind_int(st, 1, id);
	store_bind_int(st, 2, time_now());
	rc = store_run(st, NULL, e);
	int64_t changed = store_changes(w);
	if (store_write_end(a->store, rc, e) != 0)
		return -1;
	return changed ? 0 : err_set(e, ERR_CONFLICT, "already_confirmed",
				     "this key is not waiting for confirmation");
}
