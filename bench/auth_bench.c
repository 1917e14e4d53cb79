/*
 * bench/auth_bench: what a login costs against its floor, one Argon2id
 * verification at the configured parameters (OWASP: 19 MiB, 2 passes),
 * measured in the same run.
 *
 *   password login          auth_login_password: key lookup, Argon2id,
 *                           session written durably
 *   password + TOTP         the same plus the step-up: TOTP check and the
 *                           session raised to 400 (measured as its work: a
 *                           key yields only a few fresh codes per 30 s)
 *
 * Both record their events in the audit log, as the service does.
 *
 * usage: auth_bench DIR [LOGINS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <liboath/oath.h>
#include <sodium.h>

#include "auth/auth_internal.h"
#include "registry/registry.h"
#include "cli/modules.h"

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int n = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 40;
	char db[1024];
	snprintf(db, sizeof(db), "%s/auth_bench.db", argv[1]);
	remove(db);
	log_set_level(LV_WARN);
	crypto_setup();
	struct store *s;
	struct audit *log = NULL;
	struct auth *a;
	/* The bench's person is added as the operator would, recorded in a
	 * log of its own. */
	const struct audit_actor op = {AUDIT_CHANNEL_CLI, NULL, NULL,
				       "operator"};
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	ed25519_keypair(pk, sk);
	struct error e;
	static const struct audit_actor by = {AUDIT_CHANNEL_API, NULL, NULL,
					      "self"};
	struct auth_options o = {.argon2_ops = 2, .argon2_mem = 19456 * 1024,
				 .max_failures = 5, .session_absolute_s = 3600,
				 .session_idle_s = 600,
				 .logins_per_minute = 1000000};
	rand_bytes(o.master_key, sizeof(o.master_key));
	struct registry_person p = {.insz = "85073003328", .last_name = "P",
				    .first_names = "J"};
	struct auth_account acc = {.insz = "85073003328", .username = "bench"};
	if (cli_store_open(db, NULL, &s, &e) != 0 ||
	    audit_open(s, sk, NULL, &log, &e) != 0 ||
	    auth_open(log, &o, &a, &e) != 0 ||
	    registry_add(log, &op, &p, &e) != 0 ||
	    auth_account_create(a, &by, &acc, "correct horse battery",
				&e) != 0) {
		fprintf(stderr, "auth_bench: %s\n", e.detail);
		return 1;
	}
	/* Baseline: the bare hash a login cannot avoid. */
	char hash[crypto_pwhash_STRBYTES];
	if (crypto_pwhash_str_alg(hash, "correct horse battery", 21,
				  o.argon2_ops, o.argon2_mem,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return 1;
	uint64_t t0 = time_mono_ns();
	for (int i = 0; i < n; i++)
		if (crypto_pwhash_str_verify(hash, "correct horse battery", 21) != 0)
			return 1;
	double base = (double)(time_mono_ns() - t0) / 1e9 / n;

	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses;
	enum auth_failure why;
	t0 = time_mono_ns();
	for (int i = 0; i < n; i++)
		if (auth_login_password(a, &by, "bench", "correct horse battery",
					token, &ses, &why, insz, &e) != 0)
			return 1;
	double login = (double)(time_mono_ns() - t0) / 1e9 / n;

	const uint8_t *secret = (const uint8_t *)"12345678901234567890";
	char code[7];
	uint64_t counter;
	t0 = time_mono_ns();
	for (int i = 0; i < n; i++) {
		if (auth_login_password(a, &by, "bench", "correct horse battery",
					token, &ses, &why, insz, &e) != 0)
			return 1;
		struct audit_event ev = auth_event(&by, ses.insz, "step_up",
						   "totp");
		int64_t now = time_now();
		oath_totp_generate((const char *)secret, 20, (time_t)now, 30, 0,
				   6, code);
		if (auth_totp_check(secret, 20, code, now, &counter) != 0 ||
		    auth_session_raise(a, &ev, token, 400, "totp_app", &e) != 0)
			return 1;
	}
	double totp = (double)(time_mono_ns() - t0) / 1e9 / n;
	printf("baseline  one Argon2id verification (19 MiB, 2 passes)   %.1f ms  "
	       "(%.1f/s per core)\n", base * 1e3, 1 / base);
	printf("auth      password login                              %.1f ms  "
	       "ratio %.2f   (target <= 1.20)\n", login * 1e3, login / base);
	printf("auth      password + TOTP step-up                     %.1f ms  "
	       "ratio %.2f   (target <= 1.20)\n", totp * 1e3, totp / base);
	auth_close(a);
	audit_close(log);
	store_close(s);
	remove(db);
	return 0;
}
