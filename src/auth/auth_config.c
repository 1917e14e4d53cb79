/* Authentication's configuration keys (auth.h). */
#include "auth/auth.h"

#define AUTH_KEY(key, field, def, min, max, help)                           \
	{"auth", key, CONFIG_INT, CONFIG_FIELD(struct auth_config, field), \
	 def, min, max, NULL, help}

const struct config_key auth_config_keys[] = {
	/* OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane. */
	AUTH_KEY("argon2_ops", argon2_ops, "2", 1, 10, "Argon2id passes"),
	AUTH_KEY("argon2_mem_kib", argon2_mem_kib, "19456", 8, 1048576,
		 "Argon2id memory in KiB (19 MiB)"),
	/* NIST SP 800-63B §5.2.2: at most 100 failures in a row; the
	 * growing delays keep 50 out of a stranger's reach. */
	AUTH_KEY("max_failures", max_failures, KP_XSTR(AUTH_MAX_FAILURES), 1,
		 100, "consecutive wrong passwords that lock a password key"),
	AUTH_KEY("max_code_failures", max_code_failures,
		 KP_XSTR(AUTH_MAX_CODE_FAILURES), 1, 20,
		 "consecutive wrong codes that lock a TOTP, e-mail or SMS key"),
	AUTH_KEY("throttle_free", throttle_free, KP_XSTR(AUTH_THROTTLE_FREE),
		 1, 20, "wrong passwords in a row per username before the "
		 "delays (1 s, doubling; 429 with Retry-After)"),
	AUTH_KEY("throttle_max_s", throttle_max_s,
		 KP_XSTR(AUTH_THROTTLE_MAX_S), 1, 86400,
		 "the longest delay between password attempts per username"),
	AUTH_KEY("session_absolute_s", session_absolute_s, "28800", 1, 604800,
		 "a session ends this long after login"),
	AUTH_KEY("session_idle_s", session_idle_s, "1800", AUTH_IDLE_MIN_S,
		 86400, "a session ends this long after its last use "
		 "(its last use is recorded by the minute)"),
	AUTH_KEY("logins_per_minute", logins_per_minute,
		 KP_XSTR(AUTH_LOGINS_PER_MINUTE), 1, 100000,
		 "login attempts per username per minute (429)"),
	AUTH_KEY("code_sends_per_hour", code_sends_per_hour,
		 KP_XSTR(AUTH_CODE_SENDS_PER_HOUR), 1, 1000,
		 "e-mail and SMS codes per account and per address per hour "
		 "(429)"),
	AUTH_KEY("code_sends_per_day", code_sends_per_day,
		 KP_XSTR(AUTH_CODE_SENDS_PER_DAY), 1, 10000,
		 "e-mail and SMS codes per account and per address per day "
		 "(429)"),
	AUTH_KEY("failure_window_s", failure_window_s,
		 KP_XSTR(AUTH_FAILURE_WINDOW_S), 10, 86400,
		 "repeated failures of one key within this long are one "
		 "audit event with their count"),
	/* Seed 002: login codes by e-mail and SMS are valid 10 minutes. */
	AUTH_KEY("code_ttl_s", code_ttl_s, KP_XSTR(AUTH_CODE_TTL_S), 60, 3600,
		 "an e-mail or SMS code is valid this long"),
	/* RFC 6238's recommended step; authenticator apps assume it. */
	AUTH_KEY("totp_step_s", totp_step_s, KP_XSTR(AUTH_TOTP_STEP_S), 15, 120,
		 "TOTP time step"),
	/* Seed 002 §3.1: a registration code lives 5 minutes. Read by the
	 * registration-office (LRA) activation that issues these codes, a
	 * later issue; configured now so the operator's file stays valid. */
	AUTH_KEY("registration_code_ttl_s", registration_code_ttl_s,
		 KP_XSTR(AUTH_REGISTRATION_CODE_TTL_S), 60, 3600,
		 "a registration code is valid this long"),
	/* Seeds 002 and 003 give no life for the letter: two weeks. */
	AUTH_KEY("activation_ttl_s", activation_ttl_s,
		 KP_XSTR(AUTH_ACTIVATION_TTL_S), 1, 90 * 86400,
		 "an activation (paper code and e-mailed link) is valid this "
		 "long"),
	AUTH_KEY("activation_max_failures", activation_max_failures,
		 KP_XSTR(AUTH_ACTIVATION_MAX_FAILURES), 1, 100,
		 "wrong paper or registration codes that lock an activation"),
	{"auth", "public_url", CONFIG_STR,
	 CONFIG_FIELD(struct auth_config, public_url), AUTH_PUBLIC_URL, 0, 0,
	 NULL, "where citizens reach the portal: activation links start "
	 "with it"},
	{"auth", "eid_url", CONFIG_STR,
	 CONFIG_FIELD(struct auth_config, eid_url), "", 0, 0, NULL,
	 "where browsers reach the eID listener (its own host in "
	 "production, e.g. https://eid.example.be); empty: its address and "
	 "port"},
};
const size_t auth_config_nkeys = KP_NELEM(auth_config_keys);
