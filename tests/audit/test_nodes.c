/* Several nodes on one database (docs/STORE.md): each node's audit log
 * appends from threads of its own at the same time as the others', and the
 * log stays one total order and one tree that audit_verify accepts, with
 * every append acknowledged exactly once in it. On SQLite the "nodes" are
 * two handles on one file, as two processes would be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit/audit.h"
#include "cli/modules.h"
#include "support/support.h"

#define NODES 2
#define THREADS 3   /* appending threads per node */
#define APPENDS 150 /* per thread */

static struct ts_store tmp;

struct worker {
	struct audit *log;
	int node, thread;
	int ok, failed;
};

static void *append_many(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < APPENDS; i++) {
		char ticket[48];
		snprintf(ticket, sizeof(ticket), "node%d-thread%d-%04d",
			 w->node, w->thread, i);
		struct audit_event ev = {
			.channel = AUDIT_CHANNEL_NETWORK,
			.actor = "0411111140",
			.subject = "85073003328",
			.action = "exchange",
			.data_type = "identification",
			.purpose = "health_insurance_rights",
			.ticket = ticket,
			.outcome = AUDIT_GRANTED,
		};
		struct error e;
		if (audit_append(w->log, &ev, NULL, &e) == 0)
			w->ok++;
		else
			w->failed++;
	}
	return NULL;
}

/* Every ticket acknowledged is in the log exactly once. */
static void each_ticket_once(int total)
{
	struct audit_record *ev;
	int n = ts_events(tmp.log, "exchange", &ev);
	assert_int_equal(n, total);
	char **seen = calloc((size_t)n, sizeof(*seen));
	for (int i = 0; i < n; i++)
		seen[i] = ev[i].ticket;
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			assert_string_not_equal(seen[i], seen[j]);
	free(seen);
	free(ev);
}

static void nodes_append_into_one_log(void **state)
{
	(void)state;
	struct store *s[NODES] = {tmp.s};
	struct audit *log[NODES] = {tmp.log};
	struct error e;
	for (int k = 1; k < NODES; k++) {
		assert_int_equal(cli_store_open(tmp.path, NULL, &s[k], &e), 0);
		assert_int_equal(audit_open(s[k], tmp.sk, NULL, &log[k], &e),
				 0);
	}
	struct worker w[NODES * THREADS];
	pthread_t t[NODES * THREADS];
	for (int i = 0; i < NODES * THREADS; i++) {
		w[i] = (struct worker){log[i % NODES], i % NODES, i / NODES, 0,
				       0};
		assert_int_equal(pthread_create(&t[i], NULL, append_many, &w[i]),
				 0);
	}
	int ok = 0, failed = 0;
	for (int i = 0; i < NODES * THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
		failed += w[i].failed;
	}
	/* Contention is no reason to refuse an event. */
	assert_int_equal(failed, 0);
	assert_int_equal(ok, NODES * THREADS * APPENDS);
	for (int k = 1; k < NODES; k++) {
		audit_close(log[k]);
		store_close(s[k]);
	}
	/* The first node learns the others' events at its next write. */
	struct audit_event last = {.channel = AUDIT_CHANNEL_CLI,
				   .action = "audit_check",
				   .outcome = AUDIT_GRANTED};
	if (audit_append(tmp.log, &last, NULL, &e) != 0)
		fail_msg("%s: %s", e.code, e.detail);
	each_ticket_once(ok);
	uint8_t pk[ED25519_PK_LEN];
	memcpy(pk, tmp.sk + 32, sizeof(pk)); /* libsodium keeps it there */
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(tmp.s, pk, &rep), 0);
	assert_int_equal(rep.events, (uint64_t)ok + 1);
	assert_true(rep.checkpoints >= 1);
}

/* The database drops every connection of the nodes' (as a failover does)
 * while they append: the appends wait and go through; none is refused,
 * none written twice. PostgreSQL only: a SQLite file does not go away. */
static void appends_ride_through_lost_connections(void **state)
{
	(void)state;
	if (!ts_pg())
		skip();
	struct worker w[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){tmp.log, 0, i, 0, 0};
		assert_int_equal(pthread_create(&t[i], NULL, append_many, &w[i]),
				 0);
	}
	/* Again and again while they append. */
	int64_t killed = 0;
	for (;;) {
		int busy = 0;
		for (int i = 0; i < THREADS; i++)
			busy += __atomic_load_n(&w[i].ok, __ATOMIC_RELAXED) +
					__atomic_load_n(&w[i].failed,
							__ATOMIC_RELAXED) <
				APPENDS;
		if (!busy)
			break;
		/* This process's connections only (ts_db_location names
		 * them): other tests share the cluster. */
		killed += ts_int(tmp.s, "SELECT count(pg_terminate_backend(pid)) "
					"FROM pg_stat_activity WHERE pid <> "
					"pg_backend_pid() AND application_name "
					"= current_setting('application_name')");
		usleep(30000);
	}
	assert_true(killed > 0);
	int ok = 0, failed = 0;
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += w[i].ok;
		failed += w[i].failed;
	}
	assert_int_equal(failed, 0);
	assert_int_equal(ok, THREADS * APPENDS);
	each_ticket_once(ok);
	uint8_t pk[ED25519_PK_LEN];
	memcpy(pk, tmp.sk + 32, sizeof(pk));
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(tmp.s, pk, &rep), 0);
}

static int setup(void **state)
{
	(void)state;
	return ts_store_open(&tmp, "nodes");
}

static int teardown(void **state)
{
	(void)state;
	return ts_store_close(&tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(nodes_append_into_one_log,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			appends_ride_through_lost_connections, setup,
			teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
