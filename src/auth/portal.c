/*
 * What the portal's cookie sessions need from authentication: the CSRF
 * value of a session, and the one-time codes that carry an eID login from
 * the eID listener's host to the portal's.
 *
 * The CSRF value is a MAC of the session token (HMAC-SHA-512-256,
 * libsodium's crypto_auth) under a key derived from the master key: the
 * server can recompute it for any request, a page of another site cannot
 * make it without the token, and no table holds it.
 *
 * A handoff code exists because cookies do not cross hosts: the eID
 * listener (another host in production) opens the session, and the
 * browser carries a code to the portal's host, which swaps it for the
 * cookie. A code is 256 random bits, kept for AUTH_HANDOFF_TTL_MS in the
 * database (table eid_handoff), so that the browser may come back to any
 * node of several sharing one PostgreSQL. The login itself is the
 * audited event (eid_login); the code only hands its session over.
 *
 * Nothing in that table opens a session, nor would with the master key:
 * it holds the SHA-256 of the code, of the browser's state, of the eID's
 * certificate and of the session's provisional token. That token, made
 * by the login, is wiped on the eID host as soon as the code is issued
 * and never reaches a browser; the take gives the session a new token
 * (the row's hash replaced in the session table, in the take's
 * transaction) and returns that one. Keeping the login's token sealed
 * under the master key instead would leave, in the database and in its
 * backups and replicas, what opens a session for hours to whoever also
 * holds the key; rekeying leaves nothing to open. The provisional token
 * cannot be in any node's session cache: nobody ever presented it.
 *
 * The take is one conditional DELETE ... RETURNING on the code's hash,
 * the state's hash and the expiry, in a write transaction: of two takes
 * on two nodes only one gets the row, and a take that matches no row
 * (unknown, used, expired, another browser's state) changes nothing. A
 * lookup by the code's hash tells by its timing nothing of the code.
 *
 * A code is bound to the browser that started the login: the portal gave
 * it a random state in an HttpOnly cookie, only the state's hash went to
 * the eID host, and the code is taken only with the state itself. So an
 * attacker's own code, pushed into a victim's browser from a sibling
 * host's page, opens nothing (a login CSRF would sit the victim in the
 * attacker's account). And a certificate has at most
 * AUTH_HANDOFFS_PER_CERT codes in flight, and all eIDs together
 * AUTH_HANDOFFS_MAX, counted in the database inside the issuing write (so
 * across nodes), so one citizen cannot fill the table for everyone.
 * Expired rows go at each issue and with the hourly housekeeping.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"

static const char sql_purge[] =
	"DELETE FROM eid_handoff WHERE expires_at <= ?1";
static const char sql_count[] =
	"SELECT COUNT(*), COUNT(CASE WHEN cert = ?1 THEN 1 END)"
	" FROM eid_handoff WHERE expires_at > ?2";
static const char sql_put[] =
	"INSERT INTO eid_handoff (code_hash, state_hash, cert, session_hash,"
	" expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sql_take[] =
	"DELETE FROM eid_handoff WHERE code_hash = ?1 AND state_hash = ?2"
	" AND expires_at > ?3 RETURNING session_hash";
static const char sql_rekey[] =
	"UPDATE session SET token_hash = ?1 WHERE token_hash = ?2"
	" AND ended_at IS NULL";

void auth_portal_init(struct auth *a)
{
	static const char ctx[crypto_kdf_CONTEXTBYTES] = {'k', 'p', 'c', 's',
							  'r', 'f', '0', '1'};
	_Static_assert(crypto_auth_KEYBYTES >= crypto_kdf_BYTES_MIN &&
		       crypto_auth_KEYBYTES <= crypto_kdf_BYTES_MAX,
		       "a CSRF key is a KDF subkey");
	crypto_kdf_derive_from_key(a->csrf_key, sizeof(a->csrf_key), 1, ctx,
				   a->opt.master_key);
}

void auth_portal_free(struct auth *a)
{
	secret_wipe(a->csrf_key, sizeof(a->csrf_key));
}

void auth_csrf(struct auth *a, const char *token, char out[AUTH_CSRF_HEX])
{
	uint8_t mac[crypto_auth_BYTES];
	_Static_assert(2 * crypto_auth_BYTES + 1 == AUTH_CSRF_HEX,
		       "the CSRF value is the whole MAC in hex");
	crypto_auth(mac, (const uint8_t *)token, strlen(token), a->csrf_key);
	hex_encode(mac, sizeof(mac), out);
	secret_wipe(mac, sizeof(mac));
}

/* Codes in flight: in all (total) and of cert. */
struct handoff_count {
	int64_t total, of_cert;
};

static void read_count(struct store_stmt *st, void *out)
{
	struct handoff_count *c = out;
	c->total = store_col_int(st, 0);
	c->of_cert = store_col_int(st, 1);
}

/* The codes in flight on connection c, now; 0 or -1 with e. */
static int count(struct store_conn *c, const uint8_t cert[SHA256_LEN],
		 int64_t now, struct handoff_count *out, struct error *e)
{
	struct store_stmt *st = store_prepare(c, sql_count);
	store_bind_blob(st, 1, cert, SHA256_LEN);
	store_bind_int(st, 2, now);
	*out = (struct handoff_count){0, 0};
	return store_one(st, read_count, out, e) < 0 ? -1 : 0;
}

/* 0 when n leaves room for one more code; -1 with e otherwise. */
static int room(const struct handoff_count *n, struct error *e)
{
	if (n->of_cert >= AUTH_HANDOFFS_PER_CERT)
		return err_set(e, ERR_RATE_LIMITED, "rate_limited",
			       "this eID has logins in progress already: "
			       "finish one, or try again in a minute");
	if (n->total >= AUTH_HANDOFFS_MAX)
		return err_set(e, ERR_UNAVAILABLE, "handoff_busy",
			       "too many eID logins in progress; try again "
			       "in a minute");
	return 0;
}

int auth_handoff_room(struct auth *a, const uint8_t cert[SHA256_LEN],
		      struct error *e)
{
	struct store_conn *r = store_reader(a->store);
	struct handoff_count n;
	if (!r)
		return store_fail(e, "eID logins cannot be counted now");
	if (count(r, cert, time_now_ms(), &n, e) != 0)
		return -1;
	return room(&n, e);
}

/* In w's transaction: the expired codes removed. */
static int purge(struct store_conn *w, int64_t now, struct error *e)
{
	struct store_stmt *st = store_prepare(w, sql_purge);
	store_bind_int(st, 1, now);
	return store_run(st, NULL, e);
}

/* In w's transaction: a new code, when the bounds leave room. */
static int put(struct store_conn *w, const uint8_t session[SHA256_LEN],
	       const uint8_t cert[SHA256_LEN],
	       const uint8_t state_hash[SHA256_LEN], char code[TOKEN_HEX_LEN],
	       struct error *e)
{
	int64_t now = time_now_ms();
	struct handoff_count n;
	uint8_t hash[SHA256_LEN];
	if (purge(w, now, e) != 0 || count(w, cert, now, &n, e) != 0 ||
	    room(&n, e) != 0)
		return -1;
	token_new(code, hash);
	struct store_stmt *st = store_prepare(w, sql_put);
	store_bind_blob(st, 1, hash, SHA256_LEN);
	store_bind_blob(st, 2, state_hash, SHA256_LEN);
	store_bind_blob(st, 3, cert, SHA256_LEN);
	store_bind_blob(st, 4, session, SHA256_LEN);
	store_bind_int(st, 5, now + AUTH_HANDOFF_TTL_MS);
	return store_run(st, NULL, e);
}

int auth_handoff_issue(struct auth *a, const char *token,
		       const uint8_t cert[SHA256_LEN],
		       const uint8_t state_hash[SHA256_LEN],
		       char code[TOKEN_HEX_LEN], struct error *e)
{
	uint8_t session[SHA256_LEN];
	if (!auth_token_hash(token, session))
		return err_set(e, ERR_INVALID, "invalid_token",
			       "a handoff code needs a session token");
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	int rc = put(w, session, cert, state_hash, code, e);
	rc = store_write_end(a->store, rc, e);
	if (rc != 0) /* a code that hands nothing over is not handed out */
		secret_wipe(code, TOKEN_HEX_LEN);
	return rc;
}

int auth_handoff_purge(struct auth *a, struct error *e)
{
	struct store_conn *w = store_write_begin(a->store, e);
	if (!w)
		return -1;
	return store_write_end(a->store, purge(w, time_now_ms(), e), e);
}

static void read_hash(struct store_stmt *st, void *out)
{
	size_t n;
	const void *h = store_col_blob(st, 0, &n);
	if (h && n == SHA256_LEN)
		memcpy(out, h, SHA256_LEN);
}

/* Spend the code of hash, when it is in time and of state_hash, and give
 * its session a new token, in one transaction: 0 with token; 1 when no
 * code matched (nothing changed); -1 on a store failure. The session may
 * have ended meanwhile: then the code is spent and token opens nothing. */
static int handoff_take(struct auth *a, const uint8_t hash[SHA256_LEN],
			const uint8_t state_hash[SHA256_LEN],
			char token[TOKEN_HEX_LEN])
{
	struct error e;
	struct store_conn *w = store_write_begin(a->store, &e);
	if (!w)
		return -1;
	uint8_t old[SHA256_LEN] = {0}, fresh[SHA256_LEN];
	struct store_stmt *st = store_prepare(w, sql_take);
	store_bind_blob(st, 1, hash, SHA256_LEN);
	store_bind_blob(st, 2, state_hash, SHA256_LEN);
	store_bind_int(st, 3, time_now_ms());
	int rc = store_one(st, read_hash, old, &e);
	if (rc != 0) {
		store_write_rollback(a->store);
		return rc;
	}
	token_new(token, fresh);
	st = store_prepare(w, sql_rekey);
	store_bind_blob(st, 1, fresh, SHA256_LEN);
	store_bind_blob(st, 2, old, SHA256_LEN);
	rc = store_write_end(a->store, store_run(st, NULL, &e), &e);
	if (rc != 0)
		secret_wipe(token, TOKEN_HEX_LEN);
	return rc;
}

void auth_eid_state_new(char state[TOKEN_HEX_LEN], char hash_hex[65])
{
	uint8_t hash[SHA256_LEN];
	token_new(state, hash);
	hex_encode(hash, SHA256_LEN, hash_hex);
}

int auth_handoff_take(struct auth *a, const char *code, const char *state,
		      char token[TOKEN_HEX_LEN], struct auth_session *s)
{
	uint8_t hash[SHA256_LEN], state_hash[SHA256_LEN];
	if (strlen(code) != TOKEN_HEX_LEN - 1 || !state ||
	    strlen(state) != TOKEN_HEX_LEN - 1)
		return 1;
	sha256_digest(code, TOKEN_HEX_LEN - 1, hash);
	sha256_digest(state, TOKEN_HEX_LEN - 1, state_hash);
	int rc = handoff_take(a, hash, state_hash, token);
	if (rc != 0)
		return rc;
	/* The session may have ended in the minute since (a logout). */
	rc = auth_session_check(a, token, s);
	if (rc != 0)
		secret_wipe(token, TOKEN_HEX_LEN);
	return rc;
}
