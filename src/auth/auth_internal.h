/* Shared between the files of src/auth only. */
#ifndef KP_AUTH_INTERNAL_H
#define KP_AUTH_INTERNAL_H

#include <sodium.h>

#include "auth/auth.h"

struct auth {
	struct store *store;
	struct auth_options opt;
	/* Verified against for unknown usernames: the same Argon2id work as
	 * for a known one, so timing tells nothing. */
	char dummy_hash[crypto_pwhash_STRBYTES];
	/* Attempts per username: guessing spread over many addresses still
	 * meets a limit before the lockout. */
	struct ratelimit *per_user;
};

/* Count a failure of a key; true when it locked the key. */
bool auth_count_failure(struct auth *a, int64_t key_id);
/* Raise a session's level (step-up). Returns 0, or -1 with e. */
int auth_session_raise(struct auth *a, const char *token, int level,
		       struct error *e);

#endif
