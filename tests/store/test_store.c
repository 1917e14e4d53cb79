/* The store: migrations, the single writer, per-thread readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"
#include "support/support.h"
#include "cli/modules.h"

static struct ts_dir tmp;
static char path[512];

static int setup(void **state)
{
	(void)state;
	if (ts_dir_make(&tmp, "store") != 0)
		return -1;
	ts_db_location(&tmp, "test.db", path, sizeof(path));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return ts_dir_remove(&tmp);
}

static const char sql_put[] = "INSERT INTO meta (key, value) VALUES (?1, ?2)";
static const char sql_get[] = "SELECT value FROM meta WHERE key = ?1";

static void migrations_apply_once(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	assert_int_equal(store_schema_version(s), cli_schema_latest());
	assert_true(store_ping(s));
	store_close(s);
	/* Reopening applies nothing and keeps the version. */
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	assert_int_equal(store_schema_version(s), cli_schema_latest());
	store_close(s);
}

static void newer_schema_is_refused(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	store_close(s);
	assert_int_equal(ts_exec_at(path, "INSERT INTO schema_migrations "
					  "VALUES (9999, 'future', 0)"),
			 STORE_DONE);
	assert_int_equal(cli_store_open(path, NULL, &s, &e), -1);
	assert_string_equal(e.code, "store_too_new");
}

/* Two modules taking one number, or a number left out (a module missing
 * from the list), is refused before anything is applied. */
static void repeated_or_missing_numbers_are_refused(void **state)
{
	(void)state;
	static const struct store_migration one[] = {
		{1, "a", "CREATE TABLE a (x INTEGER);",
		 "CREATE TABLE a (x BIGINT);"}};
	static const struct store_migration three[] = {
		{3, "c", "CREATE TABLE c (x INTEGER);",
		 "CREATE TABLE c (x BIGINT);"}};
	static const struct store_schema a = {"a", one, 1}, b = {"b", one, 1},
					 c = {"c", three, 1};
	const struct store_schema *repeated[] = {&a, &b}, *gap[] = {&a, &c};
	struct store_options o = {.schemas = repeated, .nschemas = 2};
	struct store *s;
	struct error e;
	assert_int_equal(store_open(path, &o, &s, &e), -1);
	assert_string_equal(e.code, "store_schema_invalid");
	o.schemas = gap;
	assert_int_equal(store_open(path, &o, &s, &e), -1);
	assert_string_equal(e.code, "store_schema_invalid");
	o.nschemas = 1;
	assert_int_equal(store_open(path, &o, &s, &e), 0);
	assert_int_equal(store_schema_version(s), 1);
	store_close(s);
}

static void write_commit_and_rollback(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);

	struct store_conn *w = store_write_begin(s, &e);
	struct store_stmt *st = store_prepare(w, sql_put);
	store_bind_text(st, 1, "a");
	store_bind_text(st, 2, "1");
	assert_int_equal(store_step(st), STORE_DONE);
	store_done(st);
	assert_int_equal(store_write_commit(s, &e), 0);

	w = store_write_begin(s, &e);
	st = store_prepare(w, sql_put);
	store_bind_text(st, 1, "b");
	store_bind_text(st, 2, "2");
	assert_int_equal(store_step(st), STORE_DONE);
	store_done(st);
	store_write_rollback(s);

	/* The same key twice is a constraint, not an error. */
	w = store_write_begin(s, &e);
	st = store_prepare(w, sql_put);
	store_bind_text(st, 1, "a");
	store_bind_text(st, 2, "again");
	assert_int_equal(store_step(st), STORE_CONSTRAINT);
	store_done(st);
	store_write_rollback(s);

	struct store_conn *r = store_reader(s);
	st = store_prepare(r, sql_get);
	assert_ptr_equal(st, store_prepare(r, sql_get)); /* cached */
	store_bind_text(st, 1, "a");
	assert_int_equal(store_step(st), STORE_ROW);
	assert_string_equal(store_col_text(st, 0), "1");
	store_done(st);
	store_bind_text(st, 1, "b");
	assert_int_equal(store_step(st), STORE_DONE);
	store_done(st);

	/* The reader cannot write. */
	st = store_prepare(r, sql_put);
	store_bind_text(st, 1, "c");
	store_bind_text(st, 2, "3");
	assert_int_equal(store_step(st), STORE_ERROR);
	store_done(st);
	store_close(s);
}

static void *reader_thread(void *arg)
{
	struct store *s = arg;
	return store_reader(s);
}

static void one_reader_per_thread(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct store_conn *mine = store_reader(s);
	assert_ptr_equal(mine, store_reader(s));
	pthread_t t;
	void *theirs;
	pthread_create(&t, NULL, reader_thread, s);
	pthread_join(t, &theirs);
	assert_non_null(theirs);
	assert_ptr_not_equal(mine, theirs);
	store_close(s);
	/* A new store on this thread gets a new reader, not the closed one. */
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	assert_true(store_ping(s));
	store_close(s);
}

/* A statement on this thread's reader: how it went (never a crash). */
static enum store_rc select_one(struct store *s)
{
	static const char sql[] = "SELECT 1";
	struct store_conn *c = store_reader(s);
	assert_non_null(c);
	struct store_stmt *st = store_prepare(c, sql);
	enum store_rc rc = store_step(st);
	store_done(st);
	return rc;
}

static void *select_one_thread(void *arg)
{
	return (void *)(intptr_t)select_one(arg);
}

/* While the server cannot be reached (a failover), a reader is still a
 * connection whose statements fail, and it reconnects on a later use:
 * the modules pass store_reader straight to store_prepare, and every node
 * of the failover test (tests/ha) once crashed on a NULL reader. A role
 * of this test's own is refused logins, which no other test notices. */
static void a_reader_outlives_an_unreachable_server(void **state)
{
	(void)state;
	if (!ts_pg())
		skip();
	static char create[96], nologin[96], login[96], drop[96], cut[192];
	char role[32], url[600];
	snprintf(role, sizeof(role), "kp_flaky_%ld", (long)getpid());
	snprintf(create, sizeof(create), "CREATE ROLE %s LOGIN SUPERUSER", role);
	snprintf(nologin, sizeof(nologin), "ALTER ROLE %s NOLOGIN", role);
	snprintf(login, sizeof(login), "ALTER ROLE %s LOGIN", role);
	snprintf(drop, sizeof(drop), "DROP ROLE %s", role);
	snprintf(cut, sizeof(cut), "SELECT count(pg_terminate_backend(pid)) "
		 "FROM pg_stat_activity WHERE usename = '%s'", role);
	const char *at = strstr(path, "postgres@");
	assert_non_null(at);
	snprintf(url, sizeof(url), "%.*s%s@%s", (int)(at - path), path, role,
		 at + strlen("postgres@"));
	struct store *admin, *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &admin, &e), 0);
	assert_int_equal(ts_exec(admin, create), STORE_DONE);
	assert_int_equal(cli_store_open(url, NULL, &s, &e), 0);
	assert_int_equal(select_one(s), STORE_ROW);
	assert_int_equal(ts_exec(admin, nologin), STORE_DONE);
	assert_true(ts_int(admin, cut) > 0);
	assert_int_equal(select_one(s), STORE_ERROR);
	assert_int_equal(select_one(s), STORE_ERROR);
	assert_false(store_ping(s));
	pthread_t t;
	void *rc;
	pthread_create(&t, NULL, select_one_thread, s);
	pthread_join(t, &rc);
	assert_int_equal((intptr_t)rc, STORE_ERROR);
	assert_int_equal(ts_exec(admin, login), STORE_DONE);
	assert_int_equal(select_one(s), STORE_ROW);
	store_close(s);
	assert_int_equal(ts_exec(admin, drop), STORE_DONE);
	store_close(admin);
}

static void read_text(struct store_stmt *st, void *out)
{
	snprintf(out, 16, "%s", store_col_text(st, 0));
}

/* store_one: a row, none, or the store's error; store_run and
 * store_insert: a constraint becomes the caller's error, anything else
 * the store's. */
static void one_row_and_run(void **state)
{
	(void)state;
	static const char sql_bad[] =
		"SELECT value FROM meta WHERE key = ?1 AND abs(?2) > 0";
	static const char sql_ids[] =
		"INSERT INTO schema_migrations (version, name, applied_at) "
		"SELECT ?1, 'test', 0 WHERE ?2 = 1 RETURNING version";
	static const struct store_refusal exists = {ERR_CONFLICT, "key_exists",
						    "already there"};
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct store_conn *w = store_write_begin(s, &e);
	struct store_stmt *st = store_prepare(w, sql_put);
	store_bind_text(st, 1, "a");
	store_bind_text(st, 2, "1");
	assert_int_equal(store_run(st, &exists, &e), 0);
	assert_int_equal(store_write_end(s, 0, &e), 0);
	/* Each refusal in a transaction of its own: on PostgreSQL a failed
	 * statement ends its transaction's usefulness. */
	w = store_write_begin(s, &e);
	st = store_prepare(w, sql_put);
	store_bind_text(st, 1, "a");
	store_bind_text(st, 2, "2");
	assert_int_equal(store_run(st, &exists, &e), -1);
	assert_string_equal(e.code, "key_exists");
	store_write_rollback(s);
	w = store_write_begin(s, &e);
	st = store_prepare(w, sql_put);
	store_bind_text(st, 1, "a");
	store_bind_text(st, 2, "2");
	assert_int_equal(store_run(st, NULL, &e), -1);
	assert_string_equal(e.code, "store_unavailable");
	store_write_rollback(s);
	int64_t id = 0;
	w = store_write_begin(s, &e);
	st = store_prepare(w, sql_ids);
	store_bind_int(st, 1, 10000);
	store_bind_int(st, 2, 1);
	assert_int_equal(store_insert(st, &id, NULL, &e), 0);
	assert_int_equal(id, 10000);
	store_bind_int(st, 1, 10001);
	store_bind_int(st, 2, 0);
	assert_int_equal(store_insert(st, &id, NULL, &e), 1);
	store_write_rollback(s);

	w = store_write_begin(s, &e);
	st = store_prepare(w, sql_put);
	store_bind_text(st, 1, "k");
	store_bind_text(st, 2, "v");
	assert_int_equal(store_run(st, NULL, &e), 0);
	assert_int_equal(store_write_end(s, 0, &e), 0);
	char got[16] = "";
	st = store_prepare(store_reader(s), sql_get);
	store_bind_text(st, 1, "k");
	assert_int_equal(store_one(st, read_text, got, &e), 0);
	assert_string_equal(got, "v");
	store_bind_text(st, 1, "none");
	assert_int_equal(store_one(st, read_text, got, &e), 1);
	/* abs() of the smallest integer overflows: a runtime error. */
	st = store_prepare(store_reader(s), sql_bad);
	store_bind_text(st, 1, "k");
	store_bind_int(st, 2, INT64_MIN);
	assert_int_equal(store_one(st, NULL, NULL, &e), -1);
	assert_string_equal(e.code, "store_unavailable");
	assert_int_equal(e.kind, ERR_UNAVAILABLE);
	store_close(s);
}

static int64_t elapsed_ms(const struct timespec *since)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* An operator's command holds the write lock (here a second store in a
 * write transaction: SQLite's BEGIN IMMEDIATE, PostgreSQL's advisory
 * lock): the writer waits for the busy timeout, then fails cleanly, and
 * works again once the lock is released. */
static void write_begin_fails_when_locked(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	struct store_options opt = {.busy_timeout_ms = 200};
	assert_int_equal(cli_store_open(path, &opt, &s, &e), 0);
	struct store *other;
	assert_int_equal(cli_store_open(path, NULL, &other, &e), 0);
	assert_non_null(store_write_begin(other, &e));

	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err_clear(&e);
	assert_null(store_write_begin(s, &e));
	assert_true(elapsed_ms(&t0) >= 150);
	assert_int_equal(e.kind, ERR_UNAVAILABLE);
	assert_string_equal(e.code, "store_unavailable");
	/* The writer was released: trying again waits and fails again
	 * rather than deadlocking. */
	assert_null(store_write_begin(s, &e));

	store_write_rollback(other);
	store_close(other);
	struct store_conn *w = store_write_begin(s, &e);
	assert_non_null(w);
	struct store_stmt *st = store_prepare(w, sql_put);
	store_bind_text(st, 1, "after");
	store_bind_text(st, 2, "unlock");
	assert_int_equal(store_write_end(s, store_run(st, NULL, &e), &e), 0);
	store_close(s);
}

/* One holder of a lease among the processes on a database; the lease
 * passes on when its holder goes. One SQLite process always holds it. */
static void a_lease_has_one_holder(void **state)
{
	(void)state;
	struct store *a, *b;
	struct error e;
	/* Advisory locks are the database's, shared by every test's schema:
	 * a name no module uses (the hub tests' forwarder takes its own). */
	assert_int_equal(cli_store_open(path, NULL, &a, &e), 0);
	assert_int_equal(cli_store_open(path, NULL, &b, &e), 0);
	assert_true(store_lease(a, "test_store_lease"));
	assert_true(store_lease(a, "test_store_lease")); /* still held */
	assert_int_equal(store_lease(b, "test_store_lease"), !ts_pg());
	assert_true(store_lease(b, "another"));
	store_lease_release(a, "test_store_lease");
	assert_true(store_lease(b, "test_store_lease"));
	assert_int_equal(store_lease(a, "test_store_lease"), !ts_pg());
	store_close(b); /* its session ends: its leases are free */
	/* once its server process has exited, a moment after the close */
	bool taken = false;
	for (int i = 0; i < 100 && !(taken = store_lease(a, "test_store_lease")); i++)
		usleep(20000);
	assert_true(taken);
	store_close(a);
}

/* A thread past store.max_readers cannot read, and says so; it never
 * gets a NULL connection to crash on. */
static void a_thread_past_the_cap_fails_its_reads(void **state)
{
	(void)state;
	if (!ts_pg())
		skip(); /* SQLite has no cap */
	struct store_options o = {.max_readers = 1};
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, &o, &s, &e), 0);
	assert_int_equal(select_one(s), STORE_ROW);
	pthread_t t;
	void *rc;
	pthread_create(&t, NULL, select_one_thread, s);
	pthread_join(t, &rc);
	assert_int_equal((intptr_t)rc, STORE_ERROR);
	assert_int_equal(select_one(s), STORE_ROW);
	store_close(s);
}

/* A question mark in a comment is not a parameter: on PostgreSQL the
 * statement is rewritten to $N parameters, and a comment's '?' once
 * stopped the daemon (an unnumbered parameter aborts). */
static void comments_hold_no_parameters(void **state)
{
	(void)state;
	static const char sql[] = "SELECT ?1 /* doubled? twice? */ * 2 "
				  "-- what? \n + ?2";
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct store_stmt *st = store_prepare(store_reader(s), sql);
	store_bind_int(st, 1, 20);
	store_bind_int(st, 2, 2);
	int64_t v = 0;
	assert_int_equal(store_one(st, store_read_int, &v, &e), 0);
	assert_int_equal(v, 42);
	store_close(s);
}

/* A TCP relay to the scratch cluster that can stall: it stops moving
 * bytes but keeps both connections open, and its kernel still
 * acknowledges what arrives, so the client sees no error, no reset and no
 * unacknowledged data — a hung proxy or a half-open path, which neither
 * keepalives nor tcp_user_timeout notice. */
struct relay {
	int listener, port, target;
	atomic_bool stalled, stop;
	pthread_t thread, pumps[16];
	int npumps;
};

struct pump {
	struct relay *r;
	int a, b;
};

static void *relay_pump(void *arg)
{
	struct pump *p = arg;
	char buf[16384];
	while (!atomic_load(&p->r->stop)) {
		struct pollfd f[2] = {{p->a, POLLIN, 0}, {p->b, POLLIN, 0}};
		if (atomic_load(&p->r->stalled) || poll(f, 2, 50) <= 0) {
			usleep(20000);
			continue;
		}
		for (int i = 0; i < 2; i++) {
			if (!f[i].revents)
				continue;
			ssize_t n = read(f[i].fd, buf, sizeof(buf));
			if (n <= 0 || write(f[1 - i].fd, buf, (size_t)n) != n)
				goto out;
		}
	}
out:
	close(p->a);
	close(p->b);
	free(p);
	return NULL;
}

/* Each client connection relayed by a pump thread of its own. */
static void *relay_main(void *arg)
{
	struct relay *r = arg;
	while (!atomic_load(&r->stop) && r->npumps < 16) {
		struct pollfd f = {r->listener, POLLIN, 0};
		if (poll(&f, 1, 50) <= 0)
			continue;
		struct pump *p = malloc(sizeof(*p));
		p->r = r;
		p->a = accept(r->listener, NULL, NULL);
		p->b = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in to = {
			.sin_family = AF_INET,
			.sin_port = htons((uint16_t)r->target),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		if (connect(p->b, (struct sockaddr *)&to, sizeof(to)) != 0)
			abort();
		pthread_create(&r->pumps[r->npumps++], NULL, relay_pump, p);
	}
	for (int i = 0; i < r->npumps; i++)
		pthread_join(r->pumps[i], NULL);
	return NULL;
}

static void relay_start(struct relay *r, int target)
{
	struct sockaddr_in at = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(at);
	r->target = target;
	r->listener = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(r->listener, (struct sockaddr *)&at, len), 0);
	assert_int_equal(listen(r->listener, 4), 0);
	getsockname(r->listener, (struct sockaddr *)&at, &len);
	r->port = ntohs(at.sin_port);
	assert_int_equal(pthread_create(&r->thread, NULL, relay_main, r), 0);
}

static atomic_int heard_lost, heard_connected;

static void count_heard(void *arg, enum store_heard what)
{
	(void)arg;
	if (what == STORE_HEARD_LOST)
		atomic_fetch_add(&heard_lost, 1);
	else if (what == STORE_HEARD_CONNECTED)
		atomic_fetch_add(&heard_connected, 1);
}

/* Milliseconds until *flag is set, or -1 after limit_ms. */
static int ms_until(atomic_int *flag, int limit_ms)
{
	for (int ms = 0; ms < limit_ms; ms += 50) {
		if (atomic_load(flag))
			return ms;
		usleep(50000);
	}
	return -1;
}

/* The session caches of all nodes trust their listener: one whose path
 * to the database stalls must say so within seconds (it once waited on a
 * ping that never came back), so that a logout on another node is not
 * missed for long. */
static void a_stalled_listener_says_so(void **state)
{
	(void)state;
	if (!ts_pg())
		skip(); /* SQLite hears nothing: one process owns the file */
	const char *port_at = strstr(path, "127.0.0.1:");
	assert_non_null(port_at);
	struct relay r = {0};
	relay_start(&r, (int)strtol(port_at + strlen("127.0.0.1:"), NULL, 10));
	char url[sizeof(path)];
	int head = (int)(port_at - path) + (int)strlen("127.0.0.1:");
	const char *tail = strchr(path + head, '/');
	snprintf(url, sizeof(url), "%.*s%d%s", head, path, r.port, tail);
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	/* the store's own connections go straight; its listener's relayed */
	struct store *via;
	assert_int_equal(cli_store_open(url, NULL, &via, &e), 0);
	atomic_store(&heard_lost, 0);
	atomic_store(&heard_connected, 0);
	struct store_listener *l =
		store_listen(via, "test_stall", count_heard, NULL);
	assert_non_null(l);
	assert_true(ms_until(&heard_connected, 5000) >= 0);
	atomic_store(&r.stalled, true);
	int ms = ms_until(&heard_lost, 6000);
	print_message("stall noticed after %d ms\n", ms);
	assert_true(ms >= 0);
	/* the relay first: the listener's reconnection then fails at once */
	atomic_store(&r.stop, true);
	pthread_join(r.thread, NULL);
	close(r.listener);
	store_unlisten(l);
	store_close(via);
	store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(migrations_apply_once, setup, teardown),
		cmocka_unit_test_setup_teardown(newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(repeated_or_missing_numbers_are_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(write_commit_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(a_lease_has_one_holder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_thread_past_the_cap_fails_its_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(one_reader_per_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(one_row_and_run, setup, teardown),
		cmocka_unit_test_setup_teardown(comments_hold_no_parameters, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_stalled_listener_says_so, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_reader_outlives_an_unreachable_server, setup, teardown),
		cmocka_unit_test_setup_teardown(write_begin_fails_when_locked, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
