/*
 * One-time codes by e-mail or SMS (seed 002: login codes valid 10
 * minutes, the configuration's code_ttl_s): six random digits, kept only as a hash keyed with the master
 * key, single use, at most CODE_SENDS per CODE_WINDOW_S per key. src/notify
 * delivers them; this file never sees an address book, only the key's.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth/auth_internal.h"

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
/* Codes sent in a window (?2: since) to one account (?1 its INSZ) or one
 * destination (?1 an address, whatever account holds it): their number
 * and the oldest, from which the wait is computed. */
static const char sql_sent_to_account[] =
	"SELECT count(*), coalesce(min(created_at), 0) FROM one_time_code "
	"WHERE insz = ?1 AND created_at > ?2";
static const char sql_sent_to_address[] =
	"SELECT count(*), coalesce(min(o.created_at), 0) FROM one_time_code o "
	"JOIN credential c ON c.id = o.key_id "
	"WHERE c.address = ?1 AND o.created_at > ?2";
static const char sql_key_address[] =
	"SELECT coalesce(address, '') FROM credential WHERE id = ?1";
static const char sql_code_add[] =
	"INSERT INTO one_time_code (insz, key_id, code_hash, created_at, "
	"expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_code_newest[] =
	"SELECT id, code_hash FROM one_time_code WHERE key_id = ?1 AND "
	"used_at IS NULL AND expires_at > ?2 ORDER BY id DESC LIMIT 1";
static const char sql_key_by_id[] =
	"SELECT type, status FROM credential WHERE id = ?1 AND insz = ?2";
/* As struct auth_proof runs it: ?1 the code, ?3 now (?2, a TOTP's
 * counter, means nothing here). */
static const char sql_code_used[] =
	"UPDATE one_time_code SET used_at = ?3 WHERE id = ?1 AND used_at IS NULL";

void auth_code_digest(const struct auth *a, const char *code,
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

/* An e-mail or SMS key and, for an enrolment, its first code, as
 * audit_commit runs it. */
struct key_add {
	const struct auth *a;
	const char *insz, *type, *status, *address;
	bool with_code;
	int64_t id;
	char code[7];
};

static int add_code(const struct auth *a, struct store_conn *w,
		    const char *insz, int64_t key, char code[7],
		    struct error *e);

static int key_add_change(struct store_conn *w, void *ctx,
			  struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(evs);
	KP_UNUSED(n);
	struct key_add *c = ctx;
	struct store_stmt *st = store_prepare(w, sql_key_add);
	store_bind_text(st, 1, c->insz);
	store_bind_text(st, 2, c->type);
	store_bind_text(st, 3, c->address);
	store_bind_int(st, 4, time_now());
	store_bind_text(st, 5, c->status);
	if (store_insert(st, &c->id, &no_account, e) < 0)
		return -1;
	return c->with_code ? add_code(c->a, w, c->insz, c->id, c->code, e) : 0;
}

int auth_code_key_add(struct auth *a, const struct audit_actor *by,
		      const char *insz, const char *type, const char *address,
		      struct error *e)
{
	struct audit_event ev = auth_event(by, insz, "key_create", type);
	if (!code_method(type) || !auth_address_valid(type, address)) {
		err_set(e, ERR_INVALID, "invalid_field",
			"an e-mail or SMS key needs a valid address");
		return audit_refused(a->log, &ev, e);
	}
	struct key_add c = {a, insz, type, "active", address, false, 0, ""};
	return audit_commit(a->log, &ev, 1, key_add_change, &c, e);
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

struct sent {
	int64_t n, oldest;
};

static void read_sent(struct store_stmt *st, void *row)
{
	struct sent *r = row;
	r->n = store_col_int(st, 0);
	r->oldest = store_col_int(st, 1);
}

/* In w's (or a reader's) transaction: the seconds until sql's subject (who) may be sent
 * another code, 0 when now, past max codes in the last window seconds;
 * -1 with e on a store failure. */
static int64_t send_wait(struct store_conn *w, const char *sql,
			 const char *who, int64_t window, int max,
			 struct error *e)
{
	int64_t now = time_now();
	struct sent r = {0, 0};
	struct store_stmt *st = store_prepare(w, sql);
	store_bind_text(st, 1, who);
	store_bind_int(st, 2, now - window);
	if (store_one(st, read_sent, &r, e) < 0)
		return -1;
	/* The oldest code in the window leaves it first. */
	return r.n < max ? 0 : r.oldest + window - now;
}

/* A key's address, into 128 bytes. */
static void read_address(struct store_stmt *st, void *out)
{
	str_copy(out, 128, store_col_text(st, 0));
}

/* The longest wait, in seconds, any sending limit puts on a code for
 * insz at address (0: none; -1 with e on a store failure): the account's
 * and the address's hourly and daily limits, and, with key_window, the
 * per-key window as the address's key sees it. */
static int64_t longest_wait(const struct auth *a, struct store_conn *c,
			    const char *insz, const char *address,
			    bool key_window, struct error *e)
{
	const struct {
		const char *sql, *who;
		int64_t window;
		int max;
	} limits[] = {
		{sql_sent_to_account, insz, 3600, a->opt.code_sends_per_hour},
		{sql_sent_to_account, insz, 86400, a->opt.code_sends_per_day},
		{sql_sent_to_address, address, 3600, a->opt.code_sends_per_hour},
		{sql_sent_to_address, address, 86400, a->opt.code_sends_per_day},
		{sql_sent_to_address, address, CODE_WINDOW_S, CODE_SENDS},
	};
	size_t n = KP_NELEM(limits) - (key_window ? 0 : 1);
	int64_t most = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t wait = send_wait(c, limits[i].sql, limits[i].who,
					 limits[i].window, limits[i].max, e);
		if (wait < 0)
			return -1;
		if (wait > most)
			most = wait;
	}
	return most;
}

/* In w's transaction: why no code may go to key's account or address now
 * (ERR_RATE_LIMITED, the wait in the detail), so that nobody bombs a
 * person's phone or mailbox, nor someone else's through their own
 * account. Returns 0 when one may, or -1 with e. */
static int send_allowed(const struct auth *a, struct store_conn *w,
			const char *insz, int64_t key, struct error *e)
{
	char to[128] = "";
	struct store_stmt *st = store_prepare(w, sql_key_address);
	store_bind_int(st, 1, key);
	if (store_one(st, read_address, to, e) < 0)
		return -1;
	int64_t wait = longest_wait(a, w, insz, to, false, e);
	if (wait < 0)
		return -1;
	if (wait > 0)
		return err_set(e, ERR_RATE_LIMITED, "rate_limited",
			       "too many codes sent; try again in %lld "
			       "seconds", (long long)wait);
	return 0;
}

int auth_code_retry_after(struct auth *a, const char *insz,
			  const char *address)
{
	struct error e;
	struct store_conn *r = store_reader(a->store);
	int64_t wait = r ? longest_wait(a, r, insz, address, true, &e) : 0;
	return wait > 1 ? (int)wait : 1; /* a 429 never says "now" */
}

/* In w's transaction: a new code for key unless CODE_SENDS went out in
 * the window, or the account's or address's hourly or daily limit is
 * reached. Returns 0 with the code, or -1 with e (code wiped). */
static int add_code(const struct auth *a, struct store_conn *w,
		    const char *insz, int64_t key, char code[7],
		    struct error *e)
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
	if (send_allowed(a, w, insz, key, e) != 0)
		return -1;
	snprintf(code, 7, "%06u", rand_uniform(1000000));
	uint8_t hash[crypto_generichash_BYTES];
	auth_code_digest(a, code, hash);
	st = store_prepare(w, sql_code_add);
	store_bind_text(st, 1, insz);
	store_bind_int(st, 2, key);
	store_bind_blob(st, 3, hash, sizeof(hash));
	store_bind_int(st, 4, now);
	store_bind_int(st, 5, now + a->opt.code_ttl_s);
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

/* Why an e-mail or SMS key of type at address cannot be enrolled: NULL,
 * or bad filled. */
static const struct error *enrol_refusal(const char *type,
					 const char *address,
					 struct error *bad)
{
	if (!code_method(type))
		err_set(bad, ERR_INVALID, "unsupported_key_type",
			"type: totp, email_code or sms_code");
	else if (!auth_address_valid(type, address))
		err_set(bad, ERR_INVALID, "invalid_field",
			strcmp(type, "sms_code") == 0
				? "phone: +<country code><number>, digits only"
				: "email: a single plain address");
	else
		return NULL;
	return bad;
}

int auth_code_key_enrol(struct auth *a, const struct audit_actor *by,
			const char *insz, int level, const char *type,
			const char *address, int64_t *id, char code[7],
			struct error *e)
{
	struct audit_event ev = auth_event(by, insz, "key_create", type);
	const struct error *bad = enrol_refusal(type, address, e);
	if (!bad)
		bad = auth_level_refusal(a, type, level, e);
	if (bad)
		return audit_refused(a->log, &ev, bad);
	struct key_add c = {a, insz, type, "pending", address, true, 0, ""};
	int rc = audit_commit(a->log, &ev, 1, key_add_change, &c, e);
	if (rc == 0) {
		*id = c.id;
		memcpy(code, c.code, sizeof(c.code));
	}
	secret_wipe(c.code, sizeof(c.code));
	return rc;
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

/* Check code against the newest live code of key: p says whether it
 * matched and, if so, how to use it up (a wrong one counts towards the
 * key's lock when p is committed). Returns 0, or -1 with e. */
static int code_proof(struct auth *a, int64_t key, const char *code,
		      struct auth_proof *p, struct error *e)
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
	auth_code_digest(a, code && strlen(code) == 6 ? code : "-", got);
	p->key_id = key;
	p->valid = want.found && ct_equal(want.hash, got, sizeof(got));
	p->wrong = "the code is wrong, used or expired";
	p->use_sql = sql_code_used;
	p->use_id = want.id;
	return 0;
}

int auth_code_proof(struct auth *a, const char *insz, const char *method,
		    const char *code, struct auth_proof *p, struct error *e)
{
	int64_t key;
	int rc = code_method(method) ? find_key(a, insz, method, &key, NULL, 0)
				     : 1;
	if (rc != 0)
		return rc < 0 ? store_fail(e, "try again") : 1;
	return code_proof(a, key, code, p, e);
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

int auth_key_confirm(struct auth *a, const struct audit_actor *by,
		     const char *insz, int level, int64_t id,
		     const char *code, char type[32], struct error *e)
{
	char status[16];
	str_copy(type, 32, "unknown");
	int rc = key_type(a, insz, id, type, status, e);
	struct audit_event ev = auth_event(by, insz, "key_confirm", type);
	if (rc < 0)
		return -1;
	if (rc > 0) {
		err_set(e, ERR_NOT_FOUND, "unknown_key",
			"you have no key with this id");
		return audit_refused(a->log, &ev, e);
	}
	if (strcmp(status, "locked") == 0) {
		/* Guessed at: a new key is enrolled, this one never counts. */
		err_set(e, ERR_LOCKED, "key_locked",
			"too many wrong codes: enrol the key again");
		return audit_refused(a->log, &ev, e);
	}
	if (strcmp(type, "totp_app") == 0)
		return auth_totp_confirm(a, by, insz, level, id, code, e);
	if (auth_level_refusal(a, type, level, e))
		return audit_refused(a->log, &ev, e);
	if (!code_method(type) || strcmp(status, "pending") != 0) {
		err_set(e, ERR_CONFLICT, "already_confirmed",
			"this key is not waiting for confirmation");
		return audit_refused(a->log, &ev, e);
	}
	/* The code used up and the key activated, in one transaction. */
	struct auth_proof p = {.activate = true, .insz = insz,
			       .key_type = type};
	if (code_proof(a, id, code, &p, e) != 0)
		return -1;
	return auth_proof_commit(a, &ev, &p, e);
}
