/* Accounts, password login with lockout, sessions and their lifetimes,
 * certificate login, keys, and the key types and applications as data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth/auth.h"
#include "registry/registry.h"

static char dir[64];
static struct store *s;
static struct auth *a;

static int setup(void **state)
{
	(void)state;
	struct error e;
	char path[128];
	snprintf(dir, sizeof(dir), "/tmp/kp-auth-XXXXXX");
	if (crypto_setup() != 0 || !mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/a.db", dir);
	if (store_open(path, NULL, &s, &e) != 0)
		return -1;
	/* The smallest Argon2id libsodium allows: the tests check logic,
	 * bench/auth measures cost. */
	struct auth_options o = {crypto_pwhash_OPSLIMIT_MIN,
				 crypto_pwhash_MEMLIMIT_MIN, 3, 3600, 2};
	if (auth_open(s, &o, &a, &e) != 0)
		return -1;
	struct registry_person p;
	memset(&p, 0, sizeof(p));
	str_copy(p.insz, sizeof(p.insz), "85073003328");
	str_copy(p.last_name, sizeof(p.last_name), "Peeters");
	str_copy(p.first_names, sizeof(p.first_names), "Jan");
	return registry_add(s, &p, &e);
}

static int teardown(void **state)
{
	(void)state;
	auth_close(a);
	store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static struct auth_account account(const char *insz, const char *user)
{
	struct auth_account acc;
	memset(&acc, 0, sizeof(acc));
	str_copy(acc.insz, sizeof(acc.insz), insz);
	str_copy(acc.username, sizeof(acc.username), user);
	return acc;
}

static void levels_are_data(void **state)
{
	(void)state;
	assert_int_equal(auth_key_level(a, "password"), 200);
	assert_int_equal(auth_key_level(a, "totp_app"), 400);
	assert_int_equal(auth_key_level(a, "eid"), 500);
	/* Types the service has no code for yet count at their level. */
	assert_int_equal(auth_key_level(a, "itsme_pin"), 450);
	assert_int_equal(auth_key_level(a, "mygov_pin"), 490);
	assert_int_equal(auth_key_level(a, "carrier_pigeon"), 0);
	struct auth_app *apps;
	int n;
	struct error e;
	assert_int_equal(auth_apps(a, &apps, &n, &e), 0);
	assert_int_equal(n, 59);
	free(apps);
	struct auth_app app;
	assert_int_equal(auth_app(a, "mypension", &app), 0);
	assert_int_equal(app.min_level, 400);
	assert_int_equal(auth_app(a, "nothing", &app), 1);
}

static void accounts(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &acc, "short", &e), -1);
	assert_string_equal(e.code, "weak_password");
	acc = account("85073003328", "Jan Peeters");
	assert_int_equal(auth_account_create(a, &acc, "long enough pw", &e), -1);
	acc = account("85073003329", "jan.peeters");
	assert_int_equal(auth_account_create(a, &acc, "long enough pw", &e), -1);
	acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &acc, "long enough pw", &e), 0);
	assert_int_equal(auth_account_create(a, &acc, "long enough pw", &e), -1);
	assert_string_equal(e.code, "account_exists");
	acc = account("90031524651", "JAN.PEETERS"); /* usernames ignore case */
	assert_int_equal(auth_account_create(a, &acc, "long enough pw", &e), -1);
}

static void password_login_and_lockout(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &acc, "correct horse", &e), 0);
	char token[TOKEN_HEX_LEN], insz[12];
	struct auth_session ses, check;
	enum auth_failure why;
	assert_int_equal(auth_login_password(a, "jan.peeters", "correct horse",
					     token, &ses, &why, insz, &e), 0);
	assert_int_equal(ses.level, 200);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	assert_string_equal(check.insz, "85073003328");
	/* Unknown user and wrong password: the same answer. */
	assert_int_equal(auth_login_password(a, "nobody", "correct horse", token,
					     &ses, &why, insz, &e), -1);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(why, AUTH_UNKNOWN_USER);
	assert_int_equal(auth_login_password(a, "jan.peeters", "wrong", token,
					     &ses, &why, insz, &e), -1);
	assert_string_equal(e.code, "invalid_credentials");
	assert_int_equal(why, AUTH_BAD_PASSWORD);
	/* A success resets the count; three failures in a row lock. */
	assert_int_equal(auth_login_password(a, "jan.peeters", "correct horse",
					     token, &ses, &why, insz, &e), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(auth_login_password(a, "jan.peeters", "wrong",
						     token, &ses, &why, insz,
						     &e), -1);
	assert_int_equal(auth_login_password(a, "jan.peeters", "wrong", token,
					     &ses, &why, insz, &e), -1);
	assert_string_equal(e.code, "key_locked");
	assert_int_equal(why, AUTH_KEY_NOW_LOCKED);
	/* Locked means locked, even with the right password. */
	assert_int_equal(auth_login_password(a, "jan.peeters", "correct horse",
					     token, &ses, &why, insz, &e), -1);
	assert_string_equal(e.code, "key_locked");
	assert_string_equal(insz, "85073003328");
	struct auth_key *keys;
	int n;
	assert_int_equal(auth_keys(a, "85073003328", &keys, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(keys[0].status, "locked");
	free(keys);
}

static void sessions_end(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &acc, "correct horse", &e), 0);
	char token[TOKEN_HEX_LEN], insz[12];
	struct auth_session ses, check;
	enum auth_failure why;
	assert_int_equal(auth_login_password(a, "jan.peeters", "correct horse",
					     token, &ses, &why, insz, &e), 0);
	assert_int_equal(auth_session_check(a, "not-a-token", &check), 1);
	char other[TOKEN_HEX_LEN];
	memcpy(other, token, TOKEN_HEX_LEN);
	other[0] = other[0] == 'a' ? 'b' : 'a';
	assert_int_equal(auth_session_check(a, other, &check), 1);
	assert_int_equal(auth_logout(a, token), 0);
	assert_int_equal(auth_session_check(a, token, &check), 1);
	/* Idle for longer than the idle lifetime (2 s here): over. */
	assert_int_equal(auth_login_password(a, "jan.peeters", "correct horse",
					     token, &ses, &why, insz, &e), 0);
	assert_int_equal(auth_session_check(a, token, &check), 0);
	sleep(3);
	assert_int_equal(auth_session_check(a, token, &check), 1);
}

static void certificate_login(void **state)
{
	(void)state;
	struct error e;
	char token[TOKEN_HEX_LEN];
	struct auth_session ses;
	assert_int_equal(auth_login_certificate(a, "85073003328", token, &ses,
						&e), 0);
	assert_int_equal(ses.level, 500);
	/* Not in the National Register, a BIS number, or no number. */
	assert_int_equal(auth_login_certificate(a, "90031524651", token, &ses,
						&e), -1);
	assert_string_equal(e.code, "certificate_rejected");
	assert_int_equal(auth_login_certificate(a, "85473003317", token, &ses,
						&e), -1);
	assert_int_equal(auth_login_certificate(a, "", token, &ses, &e), -1);
}

static void deactivated_keys_open_nothing(void **state)
{
	(void)state;
	struct error e;
	struct auth_account acc = account("85073003328", "jan.peeters");
	assert_int_equal(auth_account_create(a, &acc, "correct horse", &e), 0);
	struct auth_key *keys;
	int n;
	assert_int_equal(auth_keys(a, "85073003328", &keys, &n, &e), 0);
	int64_t id = keys[0].id;
	free(keys);
	assert_int_equal(auth_key_deactivate(a, "90031524651", id, &e), -1);
	assert_int_equal(auth_key_deactivate(a, "85073003328", id, &e), 0);
	assert_int_equal(auth_key_deactivate(a, "85073003328", id, &e), -1);
	char token[TOKEN_HEX_LEN], insz[12];
	struct auth_session ses;
	enum auth_failure why;
	assert_int_equal(auth_login_password(a, "jan.peeters", "correct horse",
					     token, &ses, &why, insz, &e), -1);
	assert_int_equal(why, AUTH_NO_KEY);
	assert_string_equal(e.code, "invalid_credentials");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(levels_are_data, setup, teardown),
		cmocka_unit_test_setup_teardown(accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(password_login_and_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(sessions_end, setup, teardown),
		cmocka_unit_test_setup_teardown(certificate_login, setup, teardown),
		cmocka_unit_test_setup_teardown(deactivated_keys_open_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
