/* Shared between the files of src/auth only. */
#ifndef KP_AUTH_INTERNAL_H
#define KP_AUTH_INTERNAL_H

#include <pthread.h>

#include <sodium.h>

#include "auth/auth.h"

#define AUTH_KEY_TYPES_MAX 64

struct auth {
	struct store *store;
	struct auth_options opt;
	/* Verified against for unknown usernames: the same Argon2id work as
	 * for a known one, so timing tells nothing. */
	char dummy_hash[crypto_pwhash_STRBYTES];
	/* Attempts per username: guessing spread over many addresses still
	 * meets a limit before the lockout. */
	struct ratelimit *per_user;
	/* The key types and their levels (data/key_types.tsv). */
	struct {
		char code[32];
		int level;
	} types[AUTH_KEY_TYPES_MAX];
	int ntypes;
	/* Validated sessions (session_cache.c). */
	pthread_mutex_t cache_lock;
	uint64_t cache_gen;
	struct session_slot *cache;
};

/* The session cache (session_cache.c). Read the generation before reading
 * a session from the store, and put it back with that generation: a
 * change committed in between makes the put a no-op. Every change to an
 * existing session calls auth_cache_invalidate after its commit. */
void auth_cache_init(struct auth *a);
void auth_cache_free(struct auth *a);
uint64_t auth_cache_generation(struct auth *a);
bool auth_cache_get(struct auth *a, const uint8_t hash[SHA256_LEN],
		    int64_t now, struct auth_session *out, int64_t *seen);
void auth_cache_put(struct auth *a, const uint8_t hash[SHA256_LEN],
		    uint64_t gen, const struct auth_session *s, int64_t seen);
void auth_cache_invalidate(struct auth *a);

/* Count a failure of a key; true when it locked the key. */
bool auth_count_failure(struct auth *a, int64_t key_id);
/* Raise a session's level (step-up with the key type method). Returns 0,
 * or -1 with e. */
int auth_session_raise(struct auth *a, const char *token, int level,
		       const char *method, struct error *e);

#endif
