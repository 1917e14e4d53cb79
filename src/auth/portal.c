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
 */
#include <stdlib.h>
#include <string.h>

#include "auth/auth_internal.h"

struct auth_handoff {
	uint8_t code_hash[SHA256_LEN];
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

int auth_handoff_issue(struct auth *a, const char *token,
		       char code[TOKEN_HEX_LEN], struct error *e)
{
	uint8_t hash[SHA256_LEN];
	int64_t now = time_now_ms();
	struct auth_handoff *free_slot = NULL;
	pthread_mutex_lock(&a->handoff_lock);
	for (size_t i = 0; i < AUTH_HANDOFFS_MAX; i++) {
		struct auth_handoff *h = &a->handoffs[i];
		if (h->expires_ms && h->expires_ms <= now)
			slot_clear(h);
		if (!h->expires_ms && !free_slot)
			free_slot = h;
	}
	if (free_slot) {
		token_new(code, hash);
		memcpy(free_slot->code_hash, hash, sizeof(hash));
		str_copy(free_slot->token, sizeof(free_slot->token), token);
		free_slot->expires_ms = now + AUTH_HANDOFF_TTL_MS;
	}
	pthread_mutex_unlock(&a->handoff_lock);
	if (!free_slot)
		return err_set(e, ERR_UNAVAILABLE, "handoff_busy",
			       "too many eID logins in progress; try again "
			       "in a minute");
	return 0;
}

/* Take the slot of code's hash out of the table: its token into token.
 * Every slot is compared, in constant time, so timing tells nothing. */
static bool handoff_take(struct auth *a, const uint8_t hash[SHA256_LEN],
			 char token[TOKEN_HEX_LEN])
{
	bool found = false;
	int64_t now = time_now_ms();
	pthread_mutex_lock(&a->handoff_lock);
	for (size_t i = 0; i < AUTH_HANDOFFS_MAX; i++) {
		struct auth_handoff *h = &a->handoffs[i];
		if (!h->expires_ms || !ct_equal(h->code_hash, hash, SHA256_LEN))
			continue;
		found = h->expires_ms > now;
		if (found)
			str_copy(token, TOKEN_HEX_LEN, h->token);
		slot_clear(h);
	}
	pthread_mutex_unlock(&a->handoff_lock);
	return found;
}

int auth_handoff_take(struct auth *a, const char *code,
		      char token[TOKEN_HEX_LEN], struct auth_session *s)
{
	uint8_t hash[SHA256_LEN];
	if (strlen(code) != TOKEN_HEX_LEN - 1)
		return 1;
	sha256_digest(code, TOKEN_HEX_LEN - 1, hash);
	if (!handoff_take(a, hash, token))
		return 1;
	/* The session may have ended in the minute since (a logout). */
	int rc = auth_session_check(a, token, s);
	if (rc != 0)
		secret_wipe(token, TOKEN_HEX_LEN);
	return rc;
}
