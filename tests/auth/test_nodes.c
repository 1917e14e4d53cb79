/* Two nodes on one database. Each has its own cache of validated
 * sessions: a logout on one ends the session on the other at once (a
 * trigger's notification, heard by the other node's listener), however
 * warm its cache; only on PostgreSQL, as one SQLite file has one process.
 * And an eID login's handoff code issued by one node is taken by the
 * other, once however many take it at once, its bounds counted across
 * both; on both backends (two stores on one SQLite file stand in for two
 * nodes). */
#include <pthread.h>
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

/* A second node on tmp's database: its store and log, freed with
 * second_close. */
struct second {
	struct store *s;
	struct audit *log;
};

static void second_open(struct second *n)
{
	struct error e;
	assert_int_equal(cli_store_open(tmp.path, NULL, &n->s, &e), 0);
	assert_int_equal(audit_open(n->s, tmp.sk, NULL, &n->log, &e), 0);
}

static void second_close(struct second *n)
{
	audit_close(n->log);
	store_close(n->s);
}

/* An eID login on a and a code for it, bound to the state st: the code
 * in code. */
static void eid_login(struct auth *a, const uint8_t cert[SHA256_LEN],
		      const char st_hex[65], char code[TOKEN_HEX_LEN])
{
	const struct audit_actor citizen = {AUDIT_CHANNEL_API, NULL, NULL,
					    "self"};
	struct error e;
	struct auth_session ses;
	char token[TOKEN_HEX_LEN];
	uint8_t sh[SHA256_LEN];
	assert_int_equal(hex_decode(st_hex, 64, sh, SHA256_LEN), 0);
	assert_int_equal(auth_login_certificate(a, &citizen, JAN, token, &ses,
						&e), 0);
	assert_int_equal(auth_handoff_issue(a, token, cert, sh, code, &e), 0);
}

static void handoff_issued_on_one_node_taken_on_the_other(void **state)
{
	(void)state;
	struct error e;
	struct second n2;
	second_open(&n2);
	uint8_t master[32], cert[SHA256_LEN] = {7};
	rand_bytes(master, sizeof(master));
	struct auth *a = node(tmp.log, master), *b = node(n2.log, master);
	assert_int_equal(ts_person(tmp.log, JAN, "Peeters", "Jan", "", &e), 0);
	char st[TOKEN_HEX_LEN], st_hex[65], code[TOKEN_HEX_LEN];
	char token[TOKEN_HEX_LEN];
	struct auth_session ses;
	auth_eid_state_new(st, st_hex);

	eid_login(a, cert, st_hex, code);
	assert_int_equal(auth_handoff_take(b, code, st, token, &ses), 0);
	assert_string_equal(ses.insz, JAN);
	assert_int_equal(auth_session_check(a, token, &ses), 0);
	assert_int_equal(auth_handoff_take(a, code, st, token, &ses), 1);
	/* One eID's codes are counted across nodes: two on a, one on b,
	 * and neither has room for a fourth. */
	eid_login(a, cert, st_hex, code);
	eid_login(a, cert, st_hex, code);
	eid_login(b, cert, st_hex, code);
	assert_int_equal(auth_handoff_room(a, cert, &e), -1);
	assert_string_equal(e.code, "rate_limited");
	assert_int_equal(auth_handoff_room(b, cert, &e), -1);
	assert_string_equal(e.code, "rate_limited");
	/* b's code, taken on a. */
	assert_int_equal(auth_handoff_take(a, code, st, token, &ses), 0);
	assert_int_equal(auth_handoff_room(b, cert, &e), 0);

	auth_close(a);
	auth_close(b);
	second_close(&n2);
}

struct taker {
	struct auth *a;
	const char *code, *state;
	pthread_barrier_t *go;
	int rc;
};

static void *take_main(void *arg)
{
	struct taker *t = arg;
	char token[TOKEN_HEX_LEN];
	struct auth_session ses;
	pthread_barrier_wait(t->go);
	t->rc = auth_handoff_take(t->a, t->code, t->state, token, &ses);
	return NULL;
}

/* The same code taken on both nodes at once: one wins, the other gets
 * 1, again and again. */
static void handoff_taken_once_on_two_nodes_at_once(void **state)
{
	(void)state;
	struct error e;
	struct second n2;
	second_open(&n2);
	uint8_t master[32], cert[SHA256_LEN] = {8};
	rand_bytes(master, sizeof(master));
	struct auth *a = node(tmp.log, master), *b = node(n2.log, master);
	assert_int_equal(ts_person(tmp.log, JAN, "Peeters", "Jan", "", &e), 0);
	char st[TOKEN_HEX_LEN], st_hex[65], code[TOKEN_HEX_LEN];
	auth_eid_state_new(st, st_hex);
	for (int round = 0; round < 8; round++) {
		eid_login(round % 2 ? a : b, cert, st_hex, code);
		pthread_barrier_t go;
		pthread_barrier_init(&go, NULL, 2);
		struct taker t[2] = {{a, code, st, &go, -2},
				     {b, code, st, &go, -2}};
		pthread_t th[2];
		for (int i = 0; i < 2; i++)
			assert_int_equal(pthread_create(&th[i], NULL,
							take_main, &t[i]), 0);
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&go);
		assert_true((t[0].rc == 0 && t[1].rc == 1) ||
			    (t[0].rc == 1 && t[1].rc == 0));
	}
	auth_close(a);
	auth_close(b);
	second_close(&n2);
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
		cmocka_unit_test_setup_teardown(
			handoff_issued_on_one_node_taken_on_the_other, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			handoff_taken_once_on_two_nodes_at_once, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
