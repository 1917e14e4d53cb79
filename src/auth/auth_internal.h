/* Shared between the files of src/auth only. */
#ifndef KP_AUTH_INTERNAL_H
#define KP_AUTH_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <sodium.h>

#include "auth/auth.h"
#include "notify/notify.h"

#define AUTH_KEY_TYPES_MAX 64

struct auth {
	struct audit *log;   /* where every change records its events */
	struct store *store; /* audit_store(log) */
	struct auth_options opt;
	struct notify *notify; /* notices of keys added and removed, or NULL */
	/* Verified against for unknown usernames: the same Argon2id work as
	 * for a known one, so timing tells nothing. */
	char dummy_hash[crypto_pwhash_STRBYTES];
	/* Attempts per username: guessing spread over many addresses still
	 * meets a limit before the lockout. */
	struct ratelimit *per_user;
	/* Steps per activation (activation.c), keyed by its token's hash. */
	struct ratelimit *per_activation;
	/* Growing delays per canonical username (throttle.c). */
	struct auth_throttle *throttle;
	/* The key types and their levels (data/key_types.tsv). */
	struct {
		char code[32];
		int level;
	} types[AUTH_KEY_TYPES_MAX];
	int ntypes;
	int step_up_level; /* the highest level a step-up key reaches */
	/* Validated sessions (session_cache.c). */
	pthread_mutex_t cache_lock;
	uint64_t cache_gen;
	struct session_slot *cache;
	/* Other nodes' session changes (PostgreSQL): the cache is used only
	 * while they are heard. */
	struct store_listener *cache_listener;
	bool cache_live;
	/* Writes the windows of repeated failures (failures.c). */
	pthread_t sweeper;
	pthread_mutex_t sweep_mu;
	pthread_cond_t sweep_cond;
	bool sweeping, sweep_stop;
	/* When the sweeper last ran org_sweep (ms; 0: not yet). */
	int64_t org_swept_ms;
	/* The portal's cookie sessions (portal.c): the CSRF key (the eID
	 * handoff codes in flight are in the database). */
	uint8_t csrf_key[crypto_auth_KEYBYTES];
	/* auth_set_public_url's value (NULL: opt.public_url), and the one
	 * it replaced, both freed by auth_close. */
	_Atomic(char *) public_url_set;
	char *public_url_old;
	_Atomic(char *) eid_url_set; /* the same for auth_set_eid_url */
	char *eid_url_old;
};

/* Slots of the throttle's table: 24 bytes each, 1.5 MiB in all; past it
 * a name takes over a slot and starts afresh (throttle.c). */
#define AUTH_THROTTLE_SLOTS 65536

/* throttle.c. free_failures in a row cost nothing, then each attempt
 * waits twice as long, up to max_delay_s. */
struct auth_throttle *auth_throttle_new(int free_failures, int max_delay_s);
void auth_throttle_free(struct auth_throttle *t);
/* An attempt for user (canonical): 0 when it may go on, counted as a
 * failure until auth_throttle_success; otherwise the seconds to wait
 * (nothing counted). */
int auth_throttle_begin(struct auth_throttle *t, const char *user);
/* The seconds user must still wait, 0 when none; counts nothing. */
int auth_throttle_wait(struct auth_throttle *t, const char *user);
/* user's password was right: the count starts again. */
void auth_throttle_success(struct auth_throttle *t, const char *user);

/* The session cache (session_cache.c). Read the generation before reading
 * a session from the store, and put it back with that generation: a
 * change committed in between makes the put a no-op. Every change to an
 * existing session calls auth_cache_invalidate after its commit. */
void auth_cache_init(struct auth *a);
/* portal.c: the CSRF key (auth_open, auth_close). */
void auth_portal_init(struct auth *a);
void auth_portal_free(struct auth *a);
/* portal.c: remove the expired eID handoff codes (the sweeper's hourly
 * housekeeping; an issue removes them too). Returns 0, or -1 with e. */
int auth_handoff_purge(struct auth *a, struct error *e);
void auth_cache_free(struct auth *a);
uint64_t auth_cache_generation(struct auth *a);
bool auth_cache_get(struct auth *a, const uint8_t hash[SHA256_LEN],
		    int64_t now, struct auth_session *out, int64_t *seen);
void auth_cache_put(struct auth *a, const uint8_t hash[SHA256_LEN],
		    uint64_t gen, const struct auth_session *s, int64_t seen);
void auth_cache_invalidate(struct auth *a);

/* The event of a step in insz's authentication: by's channel,
 * organisation and profile ("self" when by names none); insz as subject
 * and as user unless by names another person or an operator acts (channel
 * cli); data type "authentication"; purpose the method, key type or
 * application. insz is left out when it is not a valid INSZ. Strings are
 * borrowed. */
struct audit_event auth_event(const struct audit_actor *by, const char *insz,
			      const char *action, const char *purpose);

/* Token text to its stored hash; false when it cannot be a token. */
bool auth_token_hash(const char *token, uint8_t hash[SHA256_LEN]);

/* In w's transaction: count a failure of an active or pending key, which
 * locks at max failures in a row; true when this one locked it. The
 * person is told of an active key's lock at their addresses (a key locks
 * once, so once). */
bool auth_count_failure(struct store_conn *w, const struct auth *a,
			int64_t key_id, int max);
/* A refusal whose writes are kept (a failure counted): ev marked as
 * action refused with code (ERR_UNAUTHENTICATED), or as "key_lock"
 * refused "key_locked" (ERR_LOCKED) when this failure locked the key;
 * refusal receives it for the caller. action is the event's own: a change
 * run again after a lost race decides afresh. */
void auth_refuse_kept(struct audit_event *ev, const char *action, bool locked,
		      const char *code, const char *detail,
		      struct error *refusal);

/* failures.c: repeated failures per key and window (docs/AUDIT.md). In
 * w's transaction, with the failure ev (refused, as written) of key_id:
 * open a window in which like failures are folded. */
void auth_failure_open(struct store_conn *w, const struct auth *a,
		       int64_t key_id, const struct audit_event *ev);
/* In w's transaction, with a success of key_id: its run of failures
 * ends, and its windows are written at the sweeper's next pass. */
void auth_failure_close(struct store_conn *w, int64_t key_id);
/* Fold the failure of key_id that failed describes, refused with code,
 * into its open window, counting it against the key when max > 0: true
 * when done, nothing to write; false when it must be written as an event
 * of its own (no open window; or it locks the key; or the store failed).
 * code is a literal. */
bool auth_failure_fold(struct auth *a, int64_t key_id,
		       const struct audit_event *failed, const char *code,
		       int max);

/* keys.c. Why a session at level may not add a key of key_type: NULL,
 * or bad filled (ERR_FORBIDDEN "insufficient_level"). */
const struct error *auth_level_refusal(struct auth *a, const char *key_type,
				       int level, struct error *bad);
/* In w's transaction: the notice that insz's key key_id (of key_type)
 * was added or removed, queued for each of the person's other addresses
 * (nothing when the service has no outbox). Returns 0, or -1 with e. */
int auth_key_notice(struct store_conn *w, const struct auth *a,
		    const char *insz, int64_t key_id, const char *key_type,
		    bool added, struct error *e);
/* In w's transaction: the notice that insz's key key_id (of key_type)
 * locked after too many failures, queued as auth_key_notice's. */
int auth_lock_notice(struct store_conn *w, const struct auth *a,
		     const char *insz, int64_t key_id, const char *key_type,
		     struct error *e);
/* After a commit that queued notices. */
void auth_notice_wake(const struct auth *a);
/* In w's transaction, for a key deactivated or locked: the sessions it
 * opened end, the sessions it stepped up fall back to the level of their
 * opening key. The caller invalidates the session cache after the commit.
 * Returns 0, or -1 with e. */
int auth_key_lost(struct store_conn *w, int64_t key_id, struct error *e);

/* auth.c. Whether u (canonical) is a username: 3-64 of a-z 0-9 . _ - @. */
bool auth_username_ok(const char *u);
/* password as an Argon2id string with the service's parameters, before
 * any transaction (it must not hold the writer). Returns 0, or -1 with e. */
int auth_password_hash(const struct auth *a, const char *password,
		       char hash[crypto_pwhash_STRBYTES], struct error *e);
/* Fill item (a struct auth_key) from a row of id, type, level, status,
 * created_at, last_used_at. */
void auth_read_key(struct store_stmt *st, void *item);

/* passwords.c. The username insz's account will have: their own when
 * they have an account and wanted is NULL or may not change it; else
 * wanted (canonical, valid, nobody else's). Returns 0, 1 with e the
 * refusal (ERR_INVALID "invalid_field", ERR_CONFLICT "username_taken"),
 * or -1 with e. */
int auth_username_choose(struct auth *a, const char *insz, const char *wanted,
			 bool may_change, char out[AUTH_USERNAME_MAX + 1],
			 struct error *e);

/* codes.c. The stored form of a one-time or activation code: BLAKE2b
 * keyed with the master key. */
void auth_code_digest(const struct auth *a, const char *code,
		      uint8_t out[crypto_generichash_BYTES]);

/* totp.c. A new TOTP secret sealed with the master key into sealed
 * (AUTH_TOTP_SEALED_MAX bytes, *sn used), and its otpauth:// URI and QR
 * code for an app labelled username (the caller frees both). Returns 0,
 * or -1 with e. */
#define AUTH_TOTP_SEALED_MAX 64
int auth_totp_new(const struct auth *a, const char *username,
		  uint8_t sealed[AUTH_TOTP_SEALED_MAX], size_t *sn, char **uri,
		  char **png_base64, struct error *e);
/* Check code now against a sealed secret; *counter receives its time
 * step. Returns 0 when valid, -1 otherwise. */
int auth_totp_sealed_check(const struct auth *a, const uint8_t *sealed,
			   size_t n, const char *code, int64_t *counter);

/* keys.c. In w's transaction: the message name_email or name_sms (by the
 * address's channel; notify_message, in the account's language) queued
 * to each of insz's addresses other than key_id's own (0: all of them).
 * Returns 0, or -1 with e. */
int auth_notice_message(struct store_conn *w, const struct auth *a,
			const char *insz, int64_t key_id, const char *name,
			const char *const (*vars)[2], size_t nvars,
			struct error *e);

/* The key type a step-up method uses ("totp" -> "totp_app"), or NULL. */
const char *auth_step_up_key(const char *method);

/* A code presented to a key: checked before the transaction (comparing
 * needs no database), and what the transaction writes. */
struct auth_proof {
	const struct auth *a;  /* set by auth_proof_commit */
	const char *action;    /* the event's, as given */
	int64_t key_id;
	bool valid;          /* the code matched */
	const char *wrong;   /* detail of the invalid_code refusal */
	/* valid: the statement that uses the code up (?1 use_id, ?2 use_num,
	 * ?3 now); when it changes no row the code was used meanwhile */
	const char *use_sql;
	int64_t use_id, use_num;
	bool activate;       /* then the pending key becomes active */
	bool raise;          /* then the session is raised: */
	uint8_t session[SHA256_LEN];
	int level;
	const char *method;  /* the key type recorded on the session */
	/* a confirmation (insz set): the notice of the new key, queued to
	 * insz's other addresses with the key's activation */
	const char *insz, *key_type;
	struct error refusal; /* a refusal whose writes were kept */
};

/* Make p's writes recorded with ev (audit_commit): granted when the code
 * was good; otherwise the failure counted (active and pending keys) and ev
 * refused "invalid_code", or "key_lock" "key_locked". Bumps the session
 * cache after a raise. Returns 0, or -1 with e (the refusal; or
 * audit_unavailable, nothing changed). */
int auth_proof_commit(struct auth *a, struct audit_event *ev,
		      struct auth_proof *p, struct error *e);

/* What code proves for insz's active key of a step-up: p filled (its
 * key, whether the code is good, how to use it up). Returns 0, 1 when the
 * person has no such active key, or -1 with e. */
int auth_code_proof(struct auth *a, const char *insz, const char *method,
		    const char *code, struct auth_proof *p, struct error *e);
int auth_totp_proof(struct auth *a, const char *insz, const char *code,
		    struct auth_proof *p, struct error *e);

/* Raise the session of token to level (a step-up with key type method,
 * its code checked by the caller), recorded with ev. Returns 0, or -1
 * with e. */
int auth_session_raise(struct auth *a, struct audit_event *ev,
		       const char *token, int level, const char *method,
		       struct error *e);

#endif
