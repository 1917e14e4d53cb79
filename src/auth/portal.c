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
 * cookie. A code is 256 random bits; only its hash is kept, next to the
 * session token, in memory for AUTH_HANDOFF_TTL_MS, and it is taken out
 * (and wiped) on its first use, successful or not. Memory is enough: a
 * code lives a minute, and one lost in a restart means presenting the eID
 * again. The login itself is the audited event (eid_login); the code only
 * hands its session over.
 *
 * A code is bound to the browser that started the login: the portal gave
 * it a random state in an HttpOnly cookie, only the state's hash went to
 * the eID host, and the code is taken only with the state itself. So an
 * attacker's own code, pushed into a victim's browser from a sibling
 * host's page, opens nothing (a login CSRF would sit the victim in the
 * attacker's account). And a certificate has at most
 * AUTH_HANDOFFS_PER_CERT codes in flight, so one citizen cannot fill the
 * table for everyone.
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"

struct auth_handoff {
	uint8_t code_hash[SHA256_LEN];
	uint8_t state_hash[SHA256_LEN]; /* of the browser's state cookie */
	uint8_t cert[SHA256_LEN];       /* the eID's fingerprint */
	char token[TOKEN_HEX_LEN];
	int64_t expires_ms; /* 0: a free slot */
};

void auth_portal_init(struct auth *a)
{
	static const char ctx[crypto_kdf_CONTEXTBYTES] = {'k', 'p', 'c', 's',
							  'r', 'f', '0', '1'};
	_Static_assert(crypto_auth_KEYBYTES >= crypto_kdf_BYTES_MIN &&
		       crypto_auth_KEYBYTES <= crypto_kdf_BYTES_MAX,
		       "a CSRF key is a KDF subkey");
	crypto_kdf_derive_from_key(a->csrf_key, sizeof(a->csrf_key), 1, ctx,
				   a->opt.master_key);
	pthread_mutex_init(&a->handoff_lock, NULL);
	a->handoffs = xcalloc(AUTH_HANDOFFS_MAX, sizeof(*a->handoffs));
}

void auth_portal_free(struct auth *a)
{
	secret_wipe(a->csrf_key, sizeof(a->csrf_key));
	secret_wipe(a->handoffs, AUTH_HANDOFFS_MAX * sizeof(*a->handoffs));
	free(a->handoffs);
	pthread_mutex_destroy(&a->handoff_lock);
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

static void slot_clear(struct auth_handoff *h)
{
	secret_wipe(h, sizeof(*h));
}

/* Clear the expired slots; count those of cert and find a free one.
 * Called with the lock held. */
static struct auth_handoff *scan(struct auth *a,
				 const uint8_t cert[SHA256_LEN], int *of_cert)
{
	struct auth_handoff *free_slot = NULL;
	int64_t now = time_now_ms();
	*of_cert = 0;
	for (size_t i = 0; i < AUTH_HANDOFFS_MAX; i++) {
		struct auth_handoff *h = &a->handoffs[i];
		if (h->expires_ms && h->expires_ms <= now)
			slot_clear(h);
		if (!h->expires_ms && !free_slot)
			free_slot = h;
		if (h->expires_ms && memcmp(h->cert, cert, SHA256_LEN) == 0)
			(*of_cert)++;
	}
	return free_slot;
}

static int no_room(int of_cert, struct error *e)
{
	if (of_cert >= AUTH_HANDOFFS_PER_CERT)
		return err_set(e, ERR_RATE_LIMITED, "rate_limited",
			       "this eID has logins in progress already: "
			       "finish one, or try again in a minute");
	return err_set(e, ERR_UNAVAILABLE, "handoff_busy",
		       "too many eID logins in progress; try again in a "
		       "minute");
}

int auth_handoff_room(struct auth *a, const uint8_t cert[SHA256_LEN],
		      struct error *e)
{
	int of_cert;
	pthread_mutex_lock(&a->handoff_lock);
	bool room = scan(a, cert, &of_cert) != NULL;
	pthread_mutex_unlock(&a->handoff_lock);
	return room && of_cert < AUTH_HANDOFFS_PER_CERT ? 0
							: no_room(of_cert, e);
}

int auth_handoff_issue(struct auth *a, const char *token,
		       const uint8_t cert[SHA256_LEN],
		       const uint8_t state_hash[SHA256_LEN],
		       char code[TOKEN_HEX_LEN], struct error *e)
{
	int of_cert;
	pthread_mutex_lock(&a->handoff_lock);
	struct auth_handoff *slot = scan(a, cert, &of_cert);
	if (slot && of_cert < AUTH_HANDOFFS_PER_CERT) {
		token_new(code, slot->code_hash);
		memcpy(slot->state_hash, state_hash, SHA256_LEN);
		memcpy(slot->cert, cert, SHA256_LEN);
		str_copy(slot->token, sizeof(slot->token), token);
		slot->expires_ms = time_now_ms() + AUTH_HANDOFF_TTL_MS;
	}
	pthread_mutex_unlock(&a->handoff_lock);
	return slot && of_cert < AUTH_HANDOFFS_PER_CERT ? 0
							: no_room(of_cert, e);
}

/* Take the slot of code's hash out of the table: its token into token
 * when the browser's state matches. Every slot is compared, in constant
 * time, so timing tells nothing. */
static bool handoff_take(struct auth *a, const uint8_t hash[SHA256_LEN],
			 const uint8_t state_hash[SHA256_LEN],
			 char token[TOKEN_HEX_LEN])
{
	bool found = false;
	int64_t now = time_now_ms();
	pthread_mutex_lock(&a->handoff_lock);
	for (size_t i = 0; i < AUTH_HANDOFFS_MAX; i++) {
		struct auth_handoff *h = &a->handoffs[i];
		if (!h->expires_ms || !ct_equal(h->code_hash, hash, SHA256_LEN))
			continue;
		found = h->expires_ms > now &&
			ct_equal(h->state_hash, state_hash, SHA256_LEN);
		if (found)
			str_copy(token, TOKEN_HEX_LEN, h->token);
		slot_clear(h);
	}
	pthread_mutex_unlock(&a->handoff_lock);
	return found;
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
	if (!handoff_take(a, hash, state_hash, token))
		return 1;
	/* The session may have ended in the minute since (a logout). */
	int rc = auth_session_check(a, token, s);
	if (rc != 0)
		secret_wipe(token, TOKEN_HEX_LEN);
	return rc;
}
