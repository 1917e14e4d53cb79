/*
 * auth: the federal authentication service (seeds 000 and 002). A person
 * has an account and digital keys; every key type has a FAS level (data:
 * data/key_types.tsv); a session carries the level of the key used; every
 * application declares the minimum level it needs (data/apps.tsv), so "a
 * key of the required level or higher suffices" and "a new key type is
 * usable at once at its level" hold by construction.
 *
 * Secrets: passwords as Argon2id hashes (parameters in config), session
 * tokens as the SHA-256 of 256-bit random values; nothing secret is
 * logged. A key that fails N times in a row locks; a locked key is
 * replaced, never unlocked (seed 000 art. 5).
 *
 * Every change records its event in the audit log in the transaction of
 * the change (audit_commit, docs/ARCHITECTURE.md "Auditing"): who acts
 * comes from the caller (struct audit_actor), the person concerned is the
 * event's subject and, unless an operator acts, its user; data type
 * "authentication". When the event cannot be written nothing changed and
 * the call fails with ERR_UNAVAILABLE "audit_unavailable". Refusals are
 * recorded too, with their code.
 */
#ifndef KP_AUTH_H
#define KP_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "audit/audit.h"
#include "base/base.h"
#include "store/store.h"

/* The domain tables, embedded from data/ at build time. */
extern const char kp_data_key_types[];
extern const char kp_data_apps[];

#define AUTH_USERNAME_MAX 64
#define AUTH_PASSWORD_MAX 256

/* Validated sessions kept in memory (session_cache.c): slots, about 100
 * bytes each; past it the oldest in a slot is replaced. */
#define LIMIT_SESSION_CACHE     8192
/* TOTP keys (active or pending) a person may hold: a step-up compares
 * the code with each active one, so their number bounds its work. Five
 * apps is more than anyone carries. */
#define LIMIT_TOTP_KEYS         5

struct notify;

struct auth_options {
	uint64_t argon2_ops;       /* passes (OWASP: 2) */
	size_t argon2_mem;         /* bytes (OWASP: 19 MiB) */
	int max_failures;          /* consecutive failures that lock a
				    * password key; 0: AUTH_MAX_FAILURES */
	int max_code_failures;     /* ... a one-time code key (TOTP, e-mail,
				    * SMS); 0: AUTH_MAX_CODE_FAILURES */
	int throttle_free;         /* password failures in a row before the
				    * delays; 0: AUTH_THROTTLE_FREE */
	int throttle_max_s;        /* the longest delay; 0: AUTH_THROTTLE_MAX_S */
	int code_sends_per_hour;   /* codes to one account or address; 0: */
	int code_sends_per_day;    /* AUTH_CODE_SENDS_PER_HOUR / _DAY */
	int session_absolute_s;    /* a session ends this long after login */
	int session_idle_s;        /* ... or this long after its last use */
	uint8_t master_key[32];    /* seals TOTP secrets at rest */
	int logins_per_minute;     /* per username; 0: AUTH_LOGINS_PER_MINUTE */
	/* Time limits (auth_config.c); 0: the default there. */
	int code_ttl_s;              /* e-mail and SMS codes: 600 */
	int totp_step_s;             /* TOTP time step: 30 */
	int registration_code_ttl_s; /* registration codes: 300 */
	/* Like failures of one key within this long are one event with
	 * their count (docs/AUDIT.md); 0: AUTH_FAILURE_WINDOW_S. */
	int failure_window_s;
	int activation_ttl_s;        /* 0: AUTH_ACTIVATION_TTL_S */
	int activation_max_failures; /* 0: AUTH_ACTIVATION_MAX_FAILURES */
	/* Where citizens reach the portal: the activation link starts
	 * with it; "": AUTH_PUBLIC_URL. */
	char public_url[256];
	char eid_url[256];
};

/* The defaults of the time limits (seed 002 §3.1: a registration code
 * lives 5 minutes; login codes 10 minutes; RFC 6238's 30 s step). */
#define AUTH_CODE_TTL_S 600
#define AUTH_TOTP_STEP_S 30
#define AUTH_REGISTRATION_CODE_TTL_S 300
/* NIST SP 800-63B §5.2.2 allows up to 100 failures in a row; with the
 * growing delays 50 takes a guesser days, never a stranger's minute. */
#define AUTH_MAX_FAILURES 50
/* A six-digit code has 10^6 values: a few guesses and the key locks. */
#define AUTH_MAX_CODE_FAILURES 5
/* Mistypes that cost nothing; then 1 s, 2 s, 4 s ... up to 15 minutes. */
#define AUTH_THROTTLE_FREE 5
#define AUTH_THROTTLE_MAX_S 900
/* Codes to one account, and to one address whatever account asks: a
 * person logs in a few times a day; more is someone bombing them. */
#define AUTH_CODE_SENDS_PER_HOUR 10
#define AUTH_CODE_SENDS_PER_DAY 30
/* A quarter of an hour: a guessing run is one line in a person's log. */
#define AUTH_FAILURE_WINDOW_S 900
/* The portal's address, for links in messages, when none is configured. */
#define AUTH_PUBLIC_URL "https://localhost:8443"

struct auth;

/* Start the service on the audit log's store (audit_store(log)), where it
 * records its events: loads the key types and the application catalogue
 * from the embedded tables, and prepares the dummy hash that makes unknown
 * usernames cost as much as known ones. log must outlive the service.
 * Returns 0 and *out (auth_close), or -1 with e. */
int auth_open(struct audit *log, const struct auth_options *opt,
	      struct auth **out, struct error *e);
/* Stops the sweeper when it runs (writing every open window), then frees
 * the service. */
void auth_close(struct auth *a);

/* Repeated authentication failures of a key in a window are one event
 * with their count (docs/AUDIT.md). The daemon starts the thread that
 * writes the windows once ended (every few seconds; those a crash left
 * at its first pass); auth_sweeper_stop (and auth_close) stops it and
 * writes the windows still open. The same thread runs org_sweep at its
 * first pass and then hourly (records past their keeping). Returns 0, or
 * -1 with e. */
int auth_sweeper_start(struct auth *a, struct error *e);
void auth_sweeper_stop(struct auth *a);
/* Write the windows that ended (all: every window) as events. Returns the
 * number of events written, or -1 with e. For the sweeper and tests. */
int auth_failures_flush(struct auth *a, bool all, struct error *e);
/* Queue the notices of keys added and removed in n's outbox, in the
 * transaction of the change, from now on; NULL: none (seeding, tests
 * that need none). Call before requests arrive: it is not synchronised.
 * n must outlive its use here (set NULL before closing it). */
void auth_set_notify(struct auth *a, struct notify *n);

/* The FAS level of a key type, or 0 when the type is unknown. */
int auth_key_level(struct auth *a, const char *key_type);
/* The level a session needs to add a key of type (the API's names:
 * "totp", "email_code", "sms_code"): the key's own level, so a key never
 * raises the session that adds it (seed 000 art. 5). 0 when unknown. */
int auth_enrol_level(struct auth *a, const char *type);
/* How long an e-mail or SMS code is valid, in seconds (configuration). */
int auth_code_ttl(struct auth *a);
/* How long a registration code is valid, in seconds (configuration). */
int auth_registration_code_ttl(struct auth *a);

/* ----------------------------------------------------------- accounts */

struct auth_account {
	char insz[INSZ_BUF];
	char username[AUTH_USERNAME_MAX + 1];
	char email[128];
	char phone[32];
	char language[3];
};

/* A language code ("nl", "fr", "de", "en") and its NUL. */
#define AUTH_LANGUAGE_BUF 3

/* The language insz's account chose for its messages, or "en" when there
 * is no such account (or the store cannot tell). */
void auth_account_language(struct auth *a, const char *insz,
			   char lang[AUTH_LANGUAGE_BUF]);
/* The e-mail address insz's account registered, or "" (none, or the
 * store cannot tell). */
void auth_account_email(struct auth *a, const char *insz, char out[128]);

/* Create an account with a password key (level 200), by `by`, recorded
 * as "account_create" (purpose "password"). The password is hashed with
 * Argon2id and wiped by the caller. Returns 0, or -1 with e, the refusal
 * recorded (ERR_INVALID "invalid_insz" / "invalid_field" /
 * "weak_password", ERR_CONFLICT "account_exists"). */
int auth_account_create(struct auth *a, const struct audit_actor *by,
			const struct auth_account *acc, const char *password,
			struct error *e);

/* --------------------------------------------------------------- login */

/* What a login or session check yields. */
struct auth_session {
	char insz[INSZ_BUF];
	int level;
	char profile[32]; /* "self", "child:<insz>", "org:<kbo>" */
	int64_t key_id;
	char key_type[32]; /* the key that opened the session */
	char step_up[32];  /* the key type of its step-up, or "" */
	int64_t expires_at;
	/* When the person last authenticated in it (seconds): the login, or
	 * the last step-up. */
	int64_t auth_time;
};

/* A username in the one form it is compared in everywhere (lookup, rate
 * limits, throttle): ASCII letters in lower case, so `Marie`, `MARIE` and
 * `marie` are one user. out has AUTH_USERNAME_MAX + 1 bytes; a longer
 * name is cut, and then matches no account. */
void auth_username_canon(const char *in, char out[AUTH_USERNAME_MAX + 1]);

/* Why a login failed (for the audit log; the client learns less). */
enum auth_failure {
	AUTH_OK = 0,
	AUTH_UNKNOWN_USER,
	AUTH_BAD_PASSWORD,
	AUTH_KEY_LOCKED,     /* was locked already */
	AUTH_KEY_NOW_LOCKED, /* this failure locked it */
	AUTH_NO_KEY,         /* no active key of that kind */
	AUTH_THROTTLED,      /* too many attempts for the username */
};

/* Password login by `by` (its channel and profile; the person is found
 * by its canonical username). On success returns 0 with a new session
 * token (hex, for the client only) and the session: the key marked used,
 * the session and "login" granted (purpose "password") in one
 * transaction. Otherwise -1 with e: ERR_RATE_LIMITED "rate_limited" past
 * the attempts a username may make per minute or while its growing delay
 * runs (checked before any work; auth_login_retry_after says how long);
 * ERR_UNAUTHENTICATED "invalid_credentials": the same answer for an
 * unknown user, a wrong password and a locked key, in the same time, so
 * nobody learns from outside which accounts exist or are locked. A wrong
 * password counts towards the lock and is recorded with the count as
 * "login" refused "invalid_credentials", or "key_lock" refused
 * "key_locked" when it locked the key; a locked or deactivated key is
 * recorded as "login" refused. Neither a rate-limited attempt nor an
 * unknown username is recorded: no person is known to record it about
 * (the caller logs it). *why says what really happened and *insz (when
 * known) whose key it was. */
int auth_login_password(struct auth *a, const struct audit_actor *by,
			const char *username, const char *password,
			char token[TOKEN_HEX_LEN], struct auth_session *out,
			enum auth_failure *why, char insz[INSZ_BUF],
			struct error *e);
/* After a "rate_limited" login: the whole seconds before username may try
 * again (at least 1), for Retry-After. */
int auth_login_retry_after(struct auth *a, const char *username);

/* Certificate login by `by`: the caller verified the chain, validity and
 * CRL; the subject serialNumber is the national register number. Level of
 * the "eid" key type; the session and "login" (purpose "eid") in one
 * transaction. Returns 0 or -1 with e (ERR_UNAUTHENTICATED
 * "certificate_rejected": recorded when the number names a person, who
 * is not a living one in the National Register). */
int auth_login_certificate(struct auth *a, const struct audit_actor *by,
			   const char *serial_number,
			   char token[TOKEN_HEX_LEN], struct auth_session *out,
			   struct error *e);

/* Login by a key another party issued and vouches for (seed 000 art. 11:
 * itsme, MyGov.be, an eIDAS key), after the caller (src/federation)
 * verified that party's signed statement: nrn is the national number it
 * names, key_type the type registered for that party (its level), and
 * provider the party's id (recorded as the event's legal basis, so the
 * person's access log says which provider vouched). Like an eID, the key
 * is a key in itself: no kruispunt account is needed, but a living person
 * in the registers is. The session and "login" (purpose key_type) in one
 * transaction. Returns 0, or -1 with e (ERR_INVALID "invalid_field" for
 * an unknown key type; ERR_RATE_LIMITED "rate_limited";
 * ERR_UNAUTHENTICATED "person_unknown", recorded when the number is a
 * valid one but names no living person in the registers). */
int auth_login_external(struct auth *a, const struct audit_actor *by,
			const char *nrn, const char *key_type,
			const char *provider, char token[TOKEN_HEX_LEN],
			struct auth_session *out, struct error *e);

/* Secrets kept at rest under the master key (libsodium secretbox, a
 * random nonce each time): TOTP secrets, and the client secrets of
 * external providers (src/federation). A sealed secret is
 * AUTH_SEAL_OVERHEAD bytes longer than the secret. */
#define AUTH_SEAL_OVERHEAD 40
/* Seal in[n] into out (n + AUTH_SEAL_OVERHEAD bytes); returns its length. */
size_t auth_seal(const struct auth *a, const uint8_t *in, size_t n,
		 uint8_t *out);
/* Open sealed in[n] into out (at most cap bytes): the secret's length, or
 * -1 when it was not sealed under this master key or does not fit. The
 * caller wipes out after use. */
int auth_unseal(const struct auth *a, const uint8_t *in, size_t n,
		uint8_t *out, size_t cap);

/* The session of a token: 0 and out when valid; 1 when unknown, ended or
 * expired (absolutely or idle); -1 on a store failure. Refreshes its idle
 * time (at most once a minute, to spare the writer). */
int auth_session_check(struct auth *a, const char *token,
		       struct auth_session *out);
/* Whether the session whose token has SHA-256 hash is live (not ended,
 * not expired, not idle), without refreshing it: what a token issued in
 * it (an OpenID Connect access token) lives by. */
bool auth_session_live(struct auth *a, const uint8_t hash[SHA256_LEN]);

/* The portal's cookie sessions (portal.c, docs/SECURITY.md). */

/* The CSRF value of a session token: 64 hex digits of a MAC under a key
 * derived from the master key, which the portal's state-changing requests
 * carry in a header. */
#define AUTH_CSRF_HEX 65
void auth_csrf(struct auth *a, const char *token, char out[AUTH_CSRF_HEX]);

/* An eID login's one-time code, for the browser to carry from the eID
 * listener's host to the portal's: a minute, one use, bound to the
 * browser's state (auth_eid_state_new) and to the eID. Kept in the
 * database (as hashes), so any node takes a code another issued. Codes
 * in flight at once are bounded, and so are one eID's, counted across
 * nodes (a flood of logins cannot grow the table, nor one citizen keep
 * everyone else out). */
#define AUTH_HANDOFF_TTL_MS (60 * 1000)
#define AUTH_HANDOFFS_MAX 4096
#define AUTH_HANDOFFS_PER_CERT 3
/* A new state for a browser starting an eID login: the value for its
 * HttpOnly cookie (64 hex digits) and its SHA-256 in hex, which goes to
 * the eID host. */
void auth_eid_state_new(char state[TOKEN_HEX_LEN], char hash_hex[65]);
/* Whether a code could be issued now for the eID of fingerprint cert:
 * checked before the login opens a session. Returns 0, or -1 with e (429
 * rate_limited: this eID has AUTH_HANDOFFS_PER_CERT in flight; 503
 * handoff_busy: AUTH_HANDOFFS_MAX are; or the store's error). */
int auth_handoff_room(struct auth *a, const uint8_t cert[SHA256_LEN],
		      struct error *e);
/* A new code (64 hex digits) for the session of token, bound to cert and
 * to the browser's state_hash (its SHA-256, 32 bytes). The caller wipes
 * token after: the take gives the session a new one, and token then
 * opens nothing. Returns 0, or -1 with e as auth_handoff_room (the
 * bounds checked again inside the write). */
int auth_handoff_issue(struct auth *a, const char *token,
		       const uint8_t cert[SHA256_LEN],
		       const uint8_t state_hash[SHA256_LEN],
		       char code[TOKEN_HEX_LEN], struct error *e);
/* Take code with the browser's state (its cookie), on any node: 0 with
 * a new token of its session (the one given at issue no longer opens
 * it) and s, the code gone; 1 when it is unknown, used, expired or of
 * another browser (nothing changed), or its session ended (the code is
 * gone); -1 on a store failure. Of two takes at once, one wins. */
int auth_handoff_take(struct auth *a, const char *code, const char *state,
		      char token[TOKEN_HEX_LEN], struct auth_session *s);
/* Where the eID listener is reached (auth.eid_url, or the listener's
 * own address when that is empty): the portal sends browsers there. */
const char *auth_eid_url(const struct auth *a);
void auth_set_eid_url(struct auth *a, const char *url);
/* Where citizens reach the service, from now on (the demo learns its
 * port only once it listens). Call before the first request that needs
 * it; the old value stays valid until auth_close. */
void auth_set_public_url(struct auth *a, const char *url);

/* End the session of token, by `by`, recorded as "logout" (purpose the
 * key type that opened it) about the session's person. Returns 0 when it
 * ended; 1 when there was no live session (nothing to end, nothing
 * recorded); -1 with e (audit_unavailable: the session lives on). */
int auth_logout(struct auth *a, const struct audit_actor *by,
		const char *token, struct error *e);

/* A profile a person may choose: themselves, a minor child (parent link
 * in the registers), or an organisation where they hold a role today,
 * with those roles. */
#define AUTH_PROFILE_ROLES 8
struct auth_profile {
	char kind[16];    /* "self", "child", "organisation" */
	char insz[INSZ_BUF]; /* self, child */
	char kbo[11];        /* organisation */
	char name[256];
	char roles[AUTH_PROFILE_ROLES][32];
	int nroles;
};

/* The profiles insz may choose (auth_choose_profile takes each), self
 * first. Fills *out (the caller frees it) and *n. Returns 0, or -1 with
 * e. */
int auth_profiles(struct auth *a, const char *insz, struct auth_profile **out,
		  int *n, struct error *e);

/* Choose on whose behalf the session acts (seed 002: "log in as citizen,
 * or choose your child"): as NULL = oneself; child = a minor child of the
 * person (parent link in the registers; refused from the 18th birthday);
 * kbo = an organisation where the person holds a valid role. Recorded as
 * "profile" (purpose "representation"), granted under the new profile.
 * On success profile receives "self", "child:<insz>" or "org:<kbo>".
 * Returns 0, or -1 with e, the refusal recorded (ERR_FORBIDDEN
 * "not_representative", ERR_UNAUTHENTICATED "not_authenticated"). */
int auth_choose_profile(struct auth *a, const struct audit_actor *by,
			const char *token, const char *insz,
			const char *child, const char *kbo, char profile[32],
			struct error *e);

/* ----------------------------------------------------------------- keys */

struct auth_key {
	int64_t id;
	char type[32];
	int level;
	char status[16]; /* pending, active, locked, deactivated */
	int64_t created_at, last_used_at;
};

/* A person's keys (caller frees). Returns 0, or -1 with e, *out NULL
 * and *n 0. */
int auth_keys(struct auth *a, const char *insz, struct auth_key **out,
	      int *n, struct error *e);

/* Deactivate one of a person's keys at once (loss, suspected misuse):
 * the sessions it opened end, the sessions it stepped up fall back to the
 * level of the key that opened them, and when it was active (or locked) a
 * notice goes to the person's other addresses, all with the event
 * "key_deactivate" (purpose "self_service") in one transaction. The same
 * happens to the sessions of a key that locks. Returns 0, or -1 with e,
 * the refusal recorded (ERR_NOT_FOUND "unknown_key"). */
int auth_key_deactivate(struct auth *a, const struct audit_actor *by,
			const char *insz, int64_t key_id, struct error *e);

/* ----------------------------------------------------------------- TOTP */

/* Enrol a TOTP key for insz (pending until confirmed) by a session at
 * level, recorded as "key_create" (purpose "totp_app"). Returns 0 with
 * its id, the otpauth:// URI (its label names the service and the
 * username, never the national register number) and the QR code of that
 * URI as base64 PNG; the caller frees uri and png_base64. Or -1 with e,
 * the refusal recorded (ERR_FORBIDDEN "insufficient_level" when level is
 * below the key's: a key cannot raise the session that adds it;
 * ERR_CONFLICT "no_account", or "too_many_keys" past LIMIT_TOTP_KEYS). */
int auth_totp_enrol(struct auth *a, const struct audit_actor *by,
		    const char *insz, int level, int64_t *id, char **uri,
		    char **png_base64, struct error *e);
/* Give insz an active TOTP key with this secret (n <= 20 bytes), as
 * seeding does: no enrolment, no confirmation; recorded as "key_create"
 * by `by` (the operator). Returns 0, or -1 with e (recorded). */
int auth_totp_key_add(struct auth *a, const struct audit_actor *by,
		      const char *insz, const uint8_t *secret, size_t n,
		      struct error *e);
/* Confirm a pending TOTP key with its first code, by a session at level,
 * recorded as "key_confirm" (purpose "totp_app"), the notice of the new
 * key to the person's addresses queued with it. Returns 0, or -1 with e,
 * the refusal recorded (ERR_FORBIDDEN "insufficient_level": the session
 * fell below the key's level since the enrolment; ERR_UNAUTHENTICATED
 * "invalid_code", ERR_CONFLICT "already_confirmed", ERR_NOT_FOUND
 * "unknown_key"). */
int auth_totp_confirm(struct auth *a, const struct audit_actor *by,
		      const char *insz, int level, int64_t id,
		      const char *code, struct error *e);
/* Step the session of token up with a second factor of insz's (method
 * "totp", "email_code" or "sms_code"; with several active TOTP keys a
 * code of any of them): the code used up and the session
 * raised to the key's level, with "step_up" granted (purpose the method),
 * in one transaction. Returns 0 and *level, or -1 with e, recorded as
 * "step_up" refused (ERR_INVALID "invalid_field", ERR_UNAUTHENTICATED
 * "invalid_code": a wrong code counts towards the key's lock, the count
 * kept) or "key_lock" refused (ERR_LOCKED "key_locked": this failure
 * locked the key). */
int auth_step_up(struct auth *a, const struct audit_actor *by,
		 const char *token, const char *insz, const char *method,
		 const char *code, int *level, struct error *e);

/* The level from which no step-up is offered: the highest a step-up key
 * reaches (data/key_types.tsv). */
int auth_step_up_level(struct auth *a);
#define AUTH_STEP_UP_METHODS_MAX 3
/* The step-up methods insz's active keys offer a session at level: none
 * from auth_step_up_level up. out receives static names ("totp",
 * "email_code", "sms_code"), each once; returns how many (0 also when the
 * keys cannot be read: a login stands without the offer). */
int auth_step_up_methods(struct auth *a, const char *insz, int level,
			 const char *out[AUTH_STEP_UP_METHODS_MAX]);
/* ------------------------------------------------ e-mail and SMS codes */

/* Whether address suits a key of type: an e-mail address for
 * "email_code" (one plain address, nothing a header could be smuggled
 * in), an E.164 number for "sms_code". */
bool auth_address_valid(const char *type, const char *address);
/* Give a person an active "email_code" or "sms_code" key at address, as
 * seeding does (no confirmation); recorded as "key_create" (purpose the
 * type) by `by` (the operator). Returns 0, or -1 with e (recorded). */
int auth_code_key_add(struct auth *a, const struct audit_actor *by,
		      const char *insz, const char *type, const char *address,
		      struct error *e);
/* Enrol an "email_code" or "sms_code" key by a session at level:
 * pending, with a first code (returned for the caller to deliver to
 * address, then wipe) that proves the address is the person's; recorded
 * as "key_create" (purpose the type). Returns 0 with *id, or -1 with e,
 * the refusal recorded (ERR_INVALID "unsupported_key_type" /
 * "invalid_field", ERR_FORBIDDEN "insufficient_level" when level is below
 * the key's, ERR_CONFLICT "no_account", ERR_RATE_LIMITED). */
int auth_code_key_enrol(struct auth *a, const struct audit_actor *by,
			const char *insz, int level, const char *type,
			const char *address, int64_t *id, char code[7],
			struct error *e);
/* Confirm one of insz's pending keys, whatever its type, with its code
 * (TOTP: the app's current code; e-mail/SMS: the code sent, used up with
 * the activation); recorded as "key_confirm" (purpose the key's type, or
 * "unknown"), with the notice "a key was added" queued to the person's
 * other addresses in the same transaction. A session below the key's
 * level is refused ERR_FORBIDDEN "insufficient_level", as at the
 * enrolment: it may have been lowered since. type receives the key's type. Returns 0, or -1 with e, the
 * refusal recorded (ERR_NOT_FOUND "unknown_key", ERR_CONFLICT
 * "already_confirmed", ERR_UNAUTHENTICATED "invalid_code": counted, and
 * max_code_failures in a row lock the pending key, ERR_LOCKED
 * "key_locked", which then never confirms). */
int auth_key_confirm(struct auth *a, const struct audit_actor *by,
		     const char *insz, int level, int64_t id,
		     const char *code, char type[32], struct error *e);
/* A fresh one-time code for a step-up by method ("email_code" or
 * "sms_code"): returns 0 with the 6 digits (for the caller to deliver, then
 * wipe) and the key's address in to; or -1 with e (ERR_INVALID when the
 * person has no such key, ERR_RATE_LIMITED after 5 codes in 10 minutes). */
int auth_code_issue(struct auth *a, const char *insz, const char *method,
		    char code[7], char *to, size_t tn, struct error *e);

/* After a "rate_limited" enrolment or code for insz at address: the
 * whole seconds before one may go again (at least 1), for Retry-After. */
int auth_code_retry_after(struct auth *a, const char *insz,
			  const char *address);

/* RFC 6238 check of a 6-digit code at time now (one step either way);
 * counter receives the code's time step. Returns 0 when valid. */
int auth_totp_check(const uint8_t *secret, size_t n, const char *code,
		    int64_t now, uint64_t *counter);

/* ----------------------------------------------------------------- apps */

struct auth_app {
	char id[64];
	char portal[32];
	char name[128];
	int min_level;
};

/* The catalogue (caller frees). */
int auth_apps(struct auth *a, struct auth_app **out, int *n, struct error *e);
/* One application. Returns 0, 1 when unknown, -1 on a store failure. */
int auth_app(struct auth *a, const char *id, struct auth_app *out);
/* Enter application id with a session at level, as by->user (a read, not
 * a change: the event is durable before the answer). The level decides,
 * never the kind of key: a key of the required level or higher suffices
 * (seed 000). Recorded as "app_enter" (purpose the application). Returns
 * 0 with *app, or -1 with e: ERR_NOT_FOUND "unknown_app" or ERR_FORBIDDEN
 * "insufficient_level" (*app says the level required), both recorded;
 * ERR_UNAVAILABLE when the catalogue or the log is. */
int auth_app_enter(struct auth *a, const struct audit_actor *by,
		   const char *id, int level, struct auth_app *app,
		   struct error *e);

/* ------------------------------------------- activation (registration) */

/* Seeds 002 and 003: a person without an eID is identified at a local
 * registration office, which hands out an activation code on paper while
 * an activation link goes to their e-mail address; at home they enter the
 * code, choose a username, a password and a key, and confirm the key with
 * a registration code. The office (src/lra) asks for an activation here;
 * the citizen's steps are auth_activation_start/_credentials/_complete. */

/* Paper codes: AUTH_ACTIVATION_CODE_LEN characters from the 31 letters
 * and digits without look-alikes (no 0, O, 1, I, L), in four groups of
 * five for typing ("K7QH3-MXP9T-ZCWR4-D8NEA"): 20 * log2(31) = 99 bits,
 * so the code cannot be guessed, only read off the letter. Typed in any
 * case, with or without the dashes and spaces. */
#define AUTH_ACTIVATION_CODE_LEN 20
#define AUTH_ACTIVATION_CODE_BUF 32

/* What the office asks for. Strings are borrowed. */
struct auth_activation_request {
	const char *insz;          /* the identified person */
	const char *email;         /* validated: the link goes there */
	const char *phone;         /* optional ("" or NULL) */
	const char *language;      /* nl, fr, de, en */
	int64_t identification_id; /* the office's record it rests on */
	const char *office;        /* the registration office (KBO) */
};

/* What the office gets back: the code for the letter (shown once, stored
 * hashed), when it ends, and what completing the activation will
 * deactivate (keys_to_deactivate, allocated: the caller frees it): the
 * person's own keys, which the new credentials replace, then the last
 * `others` of them, other persons' keys linked to the e-mail address
 * (seed 002), which the office is shown only as such. */
struct auth_activation_issued {
	int64_t id;
	char code[AUTH_ACTIVATION_CODE_BUF];
	int64_t expires_at;
	struct auth_key *keys_to_deactivate;
	int nkeys;
	int others; /* the last ones: other persons' keys at the address */
};

/* Issue an activation for req (by: the officer acting for the office),
 * queue the activation link to req->email through the outbox, tell the
 * person's existing addresses that an activation was issued in their
 * name, end their other activations still open, and record it
 * ("activation_issue" about req->insz), all in one commit. Returns 0 with
 * *out, or -1 with e (ERR_INVALID "invalid_field" for a bad address or
 * language; ERR_CONFLICT "identification_used" when req's identification
 * led to an activation already; ERR_UNAVAILABLE when nothing could be
 * recorded). */
/* Where citizens reach the service (auth.public_url): the activation
 * link's base, and what a letter tells them to open. Static for a's
 * lifetime. */
const char *auth_public_url(const struct auth *a);

int auth_activation_issue(struct auth *a, const struct audit_actor *by,
			  const struct auth_activation_request *req,
			  struct auth_activation_issued *out, struct error *e);

/* The citizen's steps, each rate limited per activation (the HTTP gate
 * limits strangers per address) and recorded about the person.
 *
 * Start: the link's token and the paper code open the activation and
 * give activation_id (hex, TOKEN_HEX_LEN), a fresh token valid
 * AUTH_ACTIVATION_STEP_S that names it in the next steps (never its row
 * id). Returns 0, or -1 with e: ERR_UNAUTHENTICATED "invalid_activation"
 * alike for an unknown token, a wrong code, a locked or completed
 * activation (a wrong code counts: activation_max_failures lock it);
 * ERR_GONE "activation_expired"; ERR_RATE_LIMITED "rate_limited"
 * (auth_activation_retry_after). */
int auth_activation_start(struct auth *a, const struct audit_actor *by,
			  const char *link_token, const char *code,
			  char activation_id[TOKEN_HEX_LEN], struct error *e);

/* The credentials the person chooses. Strings are borrowed. */
struct auth_activation_credentials {
	const char *username; /* ignored when the person has an account */
	const char *password;
	const char *key;      /* "email_code", "sms_code" or "totp" */
};

/* What choosing them gives back: the username the account will have
 * (the person's own when they have one), and for "totp" the otpauth://
 * URI and its QR code (base64 PNG), both allocated (the caller frees);
 * for e-mail and SMS the address the registration code went to (the
 * caller masks it before showing it). */
struct auth_activation_choice {
	char username[AUTH_USERNAME_MAX + 1];
	char *otpauth_uri, *qr_png_base64;
	char sent_to[128];
};

/* Credentials: username (auth_password_refusal's and username rules,
 * unique), password and key, kept with the activation until it
 * completes; for an e-mail or SMS key a registration code
 * (registration_code_ttl_s) is queued to the address the office took, in
 * the same transaction. Choosing again replaces the choice. Returns 0
 * with *out, or -1 with e: ERR_UNAUTHENTICATED "invalid_activation"
 * (unknown or ended activation_id), ERR_INVALID "invalid_field" /
 * "weak_password" / "unsupported_key_type", ERR_CONFLICT
 * "username_taken", ERR_GONE "activation_expired", ERR_RATE_LIMITED. */
int auth_activation_credentials(struct auth *a, const struct audit_actor *by,
				const char *activation_id,
				const struct auth_activation_credentials *c,
				struct auth_activation_choice *out,
				struct error *e);

/* A new registration code for the chosen e-mail or SMS key, at most
 * AUTH_ACTIVATION_SENDS codes per activation in all (ERR_CONFLICT
 * "resend_limit": the office issues a new activation). sent_to receives
 * the masked address. Returns 0, or -1 with e (as above; ERR_CONFLICT
 * "no_code_key" when the choice is a TOTP app or not made). */
int auth_activation_resend(struct auth *a, const struct audit_actor *by,
			   const char *activation_id, char sent_to[128],
			   struct error *e);

/* Complete with the registration code (or the app's first TOTP code): in
 * one commit the account is created (or its password replaced), the
 * password key and the chosen key become active, the keys linked to the
 * activation's e-mail address and the person's own earlier keys are
 * deactivated (their sessions end, their holders are told), and the
 * activation is completed; "activation_complete" about the person, and a
 * "key_deactivate" about every other holder. Returns 0, or -1 with e:
 * ERR_UNAUTHENTICATED "invalid_code" (counted towards the activation's
 * lock; a code is used once), ERR_LOCKED "activation_locked",
 * ERR_CONFLICT "no_credentials", ERR_GONE "activation_expired". */
int auth_activation_complete(struct auth *a, const struct audit_actor *by,
			     const char *activation_id, const char *code,
			     struct error *e);

/* After a "rate_limited" activation step: whole seconds to wait (>= 1). */
int auth_activation_retry_after(struct auth *a);

/* Codes one activation may send (the first one included). */
#define AUTH_ACTIVATION_SENDS 5
/* How long an activation_id names the activation after the start: long
 * enough to choose credentials and install an app, short enough that a
 * forgotten browser tab is no open door. */
#define AUTH_ACTIVATION_STEP_S 1800
/* Attempts per activation (start, credentials, resend, complete) per
 * minute: a person types, a script hammers. */
#define AUTH_ACTIVATION_STEPS_PER_MINUTE 10
/* Seed 002/003 say nothing of the letter's life: two weeks covers a
 * person who reads their mail once a week, and bounds a lost letter. */
#define AUTH_ACTIVATION_TTL_S 1209600 /* 14 days */
/* Paper code and registration code failures that lock an activation:
 * the paper code has 99 bits, the registration code 6 digits; 10 wrong
 * guesses give a guesser 10 in a million, a person room to mistype. */
#define AUTH_ACTIVATION_MAX_FAILURES 10

/* ------------------------------------------- passwords (self-service) */

/* Why password is refused for the person insz with username (NULL: no
 * refusal): shorter than AUTH_PASSWORD_MIN or longer than
 * AUTH_PASSWORD_MAX, a dictionary word (libpwquality, cracklib), or
 * containing the username or one of the person's names from the
 * registers. No composition rules (NIST SP 800-63B 5.1.1.2). bad receives
 * ERR_INVALID "weak_password" with the reason. */
#define AUTH_PASSWORD_MIN 12
const struct error *auth_password_refusal(struct auth *a, const char *insz,
					  const char *username,
					  const char *password,
					  struct error *bad);

/* eID self-service: a session at level (the "eid" key's level needed)
 * creates or replaces insz's username and password: the old password
 * key deactivated and its sessions ended, the new one active, a notice
 * queued to the person's addresses, recorded as "credentials_set" (all
 * one commit). username may be NULL to keep the account's (required
 * when there is none). username_out receives the account's username.
 * Returns 0, or -1 with e, the refusal recorded (ERR_FORBIDDEN
 * "insufficient_level", ERR_INVALID "invalid_field" / "weak_password",
 * ERR_CONFLICT "username_taken"). */
int auth_credentials_set(struct auth *a, const struct audit_actor *by,
			 const char *insz, int level, const char *username,
			 const char *password,
			 char username_out[AUTH_USERNAME_MAX + 1],
			 struct error *e);

/* ------------------------------------------------------------- schema */

/* The module's tables, as migrations (auth_schema.c): src/cli hands them
 * to store_open with every other module's. */
extern const struct store_schema auth_schema;

/* ------------------------------------------------------------- config */

/* Login attempts per username per minute, past which 429. */
#define AUTH_LOGINS_PER_MINUTE 10
/* A session's last use is recorded in steps of this many seconds (one
 * write per step per active session, not one per request), so it can lag
 * the real last use by up to a step. */
#define AUTH_SEEN_STEP_S 60
/* The shortest session_idle_s the configuration takes: two steps, so a
 * session in use, whose recorded last use lags, still has a step of idle
 * time left; any shorter and it could end under an active user. */
#define AUTH_IDLE_MIN_S (2 * AUTH_SEEN_STEP_S)

/* [auth], as the operator writes it (auth_config.c); src/cli turns it
 * into auth_options. */
struct auth_config {
	int argon2_ops;
	int argon2_mem_kib;
	int max_failures;
	int max_code_failures;
	int throttle_free;
	int throttle_max_s;
	int code_sends_per_hour;
	int code_sends_per_day;
	int session_absolute_s;
	int session_idle_s;
	int logins_per_minute;
	int code_ttl_s;
	int totp_step_s;
	int registration_code_ttl_s;
	int failure_window_s;
	int activation_ttl_s;
	int activation_max_failures;
	char public_url[256];
	char eid_url[256];
};
extern const struct config_key auth_config_keys[];
extern const size_t auth_config_nkeys;

#endif
