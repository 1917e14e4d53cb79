/* Two nodes on one PostgreSQL database, each with its own cache of
 * validated sessions: a logout on one ends the session on the other at
 * once (a trigger's notification, heard by the other node's listener),
 * however warm its cache. Only on PostgreSQL: one SQLite file has one
 * process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "support/support.h"
#include "auth/auth.h"
#include "auth/auth_internal.h" /* whether a node's cache is live */
#include "cli/modules.h"

#define JAN "85073003328"

static struct ts_store tmp;

static void sleep_ms(long ms)
{
	struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&t, NULL);
}

static bool cache_live(struct auth *a)
{
	pthread_mutex_lock(&a->cache_lock);
	bool live = a->cache_live;
	pthread_mutex_unlock(&a->cache_lock);
	return live;
}

static struct auth *node(struct audit *log, const uint8_t *master)
{
	struct auth_options o = {.argon2_ops = crypto_pwhash_OPSLIMIT_MIN,
				 .argon2_mem = crypto_pwhash_MEMLIMIT_MIN,
				 .session_absolute_s = 3600,
				 .session_idle_s = 600};
	memcpy(o.master_key, master, sizeof(o.master_key));
	struct auth *a;
	struct error e;
	assert_int_equal(auth_open(log, &o, &a, &e), 0);
	/* Listening takes a connection of its own: give it a moment. */
	for (int i = 0; i < 100 && !cache_live(a); i++)
		sleep_ms(20);
	assert_true(cache_live(a));
	return a;
}

static void logout_on_one_node_ends_it_on_the_other(void **state)
{
	(void)state;
	if (!ts_pg())
		skip();
	struct error e;
	struct store *s2;
	struct audit *log2;
	assert_int_equal(cli_store_open(tmp.path, NULL, &s2, &e), 0);
	assert_int_equal(audit_open(s2, tmp.sk, NULL, &log2, &e), 0);
	uint8_t master[32];
	rand_bytes(master, sizeof(master));
	struct auth *a = node(tmp.log, master), *b = node(log2, master);

	assert_int_equal(ts_person(tmp.log, JAN, "Peeters", "Jan", "", &e), 0);
	struct auth_account acc = {0};
	str_copy(acc.insz, sizeof(acc.insz), JAN);
	str_copy(acc.username, sizeof(acc.username), "jan");
	assert_int_equal(auth_account_create(a, &ts_operator, &acc,
					     "correct horse", &e), 0);
	const struct audit_actor citizen = {AUDIT_CHANNEL_API, NULL, NULL,
					    "self"};
	char token[TOKEN_HEX_LEN], insz[INSZ_BUF];
	struct auth_session ses;
	enum auth_failure why;
	assert_int_equal(auth_login_password(a, &citizen, "jan",
					     "correct horse", token, &ses,
					     &why, insz, &e), 0);
	/* Node B validates the session twice: the second time from its
	 * cache. */
	assert_int_equal(auth_session_check(b, token, &ses), 0);
	assert_int_equal(auth_session_check(b, token, &ses), 0);

	assert_int_equal(auth_logout(a, &citizen, token, &e), 0);
	/* The notification travels at its commit: milliseconds. */
	int rc = 0;
	for (int i = 0; i < 100 && rc == 0; i++) {
		rc = auth_session_check(b, token, &ses);
		if (rc == 0)
			sleep_ms(10);
	}
	assert_int_equal(rc, 1);

	auth_close(a);
	auth_close(b);
	audit_close(log2);
	store_close(s2);
}

static int setup(void **state)
{
	(void)state;
	ts_clock_start();
	return ts_store_open(&tmp, "nodes");
}

static int teardown(void **state)
{
	(void)state;
	clock_reset();
	return ts_store_close(&tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			logout_on_one_node_ends_it_on_the_other, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
