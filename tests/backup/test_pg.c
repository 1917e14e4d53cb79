/* What a PostgreSQL backup adds to the archive (src/backup): the restored
 * configuration pointed at the new database, the child processes that run
 * pg_dump and pg_restore (their password in their environment only, one
 * error line), and the encrypted spool the dump passes through. The
 * archive end to end on PostgreSQL is tests/e2e/test_backup.sh
 * (e2e_test_backup_pg). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "backup/backup_internal.h"
#include "support/support.h"

#define URL "postgresql://kp@db.example:5432/kp"

static int setup(void **state)
{
	(void)state;
	return crypto_setup();
}

/* Each of want is in text (yes) or none is (no). */
static void lines(const char *text, const char *const *want, size_t n,
		  bool yes)
{
	for (size_t i = 0; i < n; i++)
		if ((strstr(text, want[i]) != NULL) != yes)
			fail_msg("%s %s in:\n%s", yes ? "missing" : "unexpected",
				 want[i], text);
}

static void ini_replaces_store_keys(void **state)
{
	(void)state;
	const char in[] = "[server]\nurl = keep-me\n\n[store]\n"
			  "; sqlite | postgresql\nbackend = sqlite\n"
			  "database = kruispunt.db\nurl = postgresql://old/x\n"
			  "password_file =\n; readers\n\n; per node\n"
			  "max_readers = 4\n[log]\nlevel = info";
	static const char *const kept[] = {
		"[server]\nurl = keep-me\n",
		"[store]\n; set by kruispunt restore\nbackend = postgresql\n"
		"url = " URL "\npassword_file = /etc/kp/pw\n",
		"database = kruispunt.db\n",
		"; readers\n\n; per node\nmax_readers = 4\n[log]\nlevel = info\n"};
	/* The comment above a replaced key explained the old value. */
	static const char *const gone[] = {"; sqlite | postgresql",
					   "backend = sqlite",
					   "postgresql://old",
					   "password_file =\n"};
	char *out = backup_ini_point_to(in, strlen(in), URL, "/etc/kp/pw");
	lines(out, kept, sizeof(kept) / sizeof(kept[0]), true);
	lines(out, gone, sizeof(gone) / sizeof(gone[0]), false);
	free(out);
}

static void ini_without_store_gets_one(void **state)
{
	(void)state;
	const char in[] = "[server]\nport = 8443\n";
	char *out = backup_ini_point_to(in, strlen(in), URL, NULL);
	assert_string_equal(out, "[server]\nport = 8443\n\n[store]\n"
				 "; set by kruispunt restore\n"
				 "backend = postgresql\nurl = " URL "\n");
	free(out);
	out = backup_ini_point_to("", 0, URL, NULL);
	assert_non_null(strstr(out, "[store]\n"));
	free(out);
}

/* Everything the child wrote to its stdout, read from t. */
static size_t drain(struct backup_tool *t, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;
	while (got + 1 < n && (r = read(t->fd, buf + got, n - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
	return got;
}

static void tool_password_only_in_child_env(void **state)
{
	(void)state;
	setenv("PGPASSWORD", "from-the-parent", 1);
	const char *argv[] = {"sh", "-c", "printf '%s' \"$PGPASSWORD\"; "
					  "printf ' %s' \"$0\" \"$@\"",
			      "arg", NULL};
	struct backup_tool t;
	struct error e;
	char out[256];
	assert_int_equal(backup_tool_start(&t, argv, false, "s3cret", &e), 0);
	drain(&t, out, sizeof(out));
	assert_int_equal(backup_tool_wait(&t, &e), 0);
	/* The child saw the given password, not the parent's, and it was no
	 * argument. */
	assert_string_equal(out, "s3cret arg");
	assert_string_equal(getenv("PGPASSWORD"), "from-the-parent");
	/* Without one, the operator's own, with which this process's libpq
	 * connected: the child must connect as the parent did. */
	assert_int_equal(backup_tool_start(&t, argv, false, NULL, &e), 0);
	drain(&t, out, sizeof(out));
	assert_int_equal(backup_tool_wait(&t, &e), 0);
	assert_string_equal(out, "from-the-parent arg");
	unsetenv("PGPASSWORD");
}

static void tool_failure_is_one_line(void **state)
{
	(void)state;
	const char *argv[] = {
		"sh", "-c",
		"echo 'pg_dump: warning: noise' >&2; printf 'pg_dump: error: "
		"server version: 17.2; pg_dump version: 15.8\\033[0m\\n"
		"pg_dump: detail: more\\n' >&2; exit 1",
		NULL};
	struct backup_tool t;
	struct error e;
	char out[16];
	assert_int_equal(backup_tool_start(&t, argv, false, NULL, &e), 0);
	drain(&t, out, sizeof(out));
	assert_int_equal(backup_tool_wait(&t, &e), -1);
	assert_string_equal(e.code, "backup_tool_failed");
	assert_string_equal(e.detail, "sh failed: pg_dump: error: server "
				      "version: 17.2; pg_dump version: "
				      "15.8[0m");
}

static void tool_missing(void **state)
{
	(void)state;
	const char *argv[] = {"kp-no-such-tool", NULL};
	struct backup_tool t;
	struct error e;
	assert_int_equal(backup_tool_start(&t, argv, false, NULL, &e), -1);
	assert_string_equal(e.code, "backup_tool_missing");
	assert_non_null(strstr(e.detail, "kp-no-such-tool is not installed"));
}

static void tool_feed_and_kill(void **state)
{
	(void)state;
	struct ts_dir d;
	char path[LIMIT_PATH], cmd[LIMIT_PATH + 16];
	assert_int_equal(ts_dir_make(&d, "backup_pg"), 0);
	ts_dir_file(&d, "fed", path, sizeof(path));
	snprintf(cmd, sizeof(cmd), "cat > %s", path);
	const char *argv[] = {"sh", "-c", cmd, NULL};
	struct backup_tool t;
	struct error e;
	assert_int_equal(backup_tool_start(&t, argv, true, NULL, &e), 0);
	assert_int_equal(write(t.fd, "dump", 4), 4);
	assert_int_equal(backup_tool_wait(&t, &e), 0);
	char got[8] = "";
	int fd = open(path, O_RDONLY);
	assert_int_equal(read(fd, got, sizeof(got)), 4);
	close(fd);
	assert_memory_equal(got, "dump", 4);
	/* A child stopped halfway is waited for: no zombie, no fd left. */
	const char *sleeper[] = {"sleep", "30", NULL};
	assert_int_equal(backup_tool_start(&t, sleeper, true, NULL, &e), 0);
	backup_tool_kill(&t);
	assert_int_equal(t.pid, -1);
	ts_dir_remove(&d);
}

/* The target's URL and password file each become one line of the restored
 * configuration: a control character in either is refused before anything
 * is read, written or connected to. */
static void restore_target_control_characters(void **state)
{
	(void)state;
	struct ts_dir d;
	char data[LIMIT_PATH];
	assert_int_equal(ts_dir_make(&d, "backup_ctl"), 0);
	ts_dir_file(&d, "restored", data, sizeof(data));
	struct backup_secret sec = {0};
	struct backup_manifest m;
	struct error e;
	struct backup_pg_target bad_url = {
		.url = URL "\n[server]\nport = 1", .password_file = NULL};
	assert_int_equal(backup_restore_to("/nonexistent.kpb", &sec, data, 99,
					   &bad_url, &m, &e),
			 -1);
	assert_string_equal(e.code, "store_url_invalid");
	assert_non_null(strstr(e.detail, "control character"));
	struct backup_pg_target bad_file = {.url = URL,
					    .password_file = "/etc/kp/pw\rx"};
	assert_int_equal(backup_restore_to("/nonexistent.kpb", &sec, data, 99,
					   &bad_file, &m, &e),
			 -1);
	assert_string_equal(e.code, "store_password_file");
	assert_int_equal(access(data, F_OK), -1);
	assert_int_equal(rmdir(d.path), 0);
}

/* The spool gives back what went in, and keeps none of it in the clear. */
static void spool_round_trip(void **state)
{
	(void)state;
	struct ts_dir d;
	assert_int_equal(ts_dir_make(&d, "backup_spool"), 0);
	size_t n = 3 * BACKUP_CHUNK + 77;
	uint8_t *in = malloc(n), *buf = malloc(BACKUP_CHUNK), *back = malloc(n);
	for (size_t i = 0; i < n; i++)
		in[i] = (uint8_t)(i * 7 + i / 251);
	struct error e;
	struct backup_spool *sp = backup_spool_open(d.path, &e);
	assert_non_null(sp);
	/* Odd pieces, as a pipe gives them. */
	for (size_t off = 0, k = 1000; off < n; off += k, k = k * 3 % 70001 + 1)
		assert_int_equal(backup_spool_write(sp, in + off,
						    off + k > n ? n - off : k,
						    &e),
				 0);
	uint64_t size;
	uint8_t sha[SHA256_LEN], want[SHA256_LEN];
	assert_int_equal(backup_spool_finish(sp, &size, sha, &e), 0);
	assert_int_equal(size, n);
	crypto_hash_sha256(want, in, n);
	assert_memory_equal(sha, want, SHA256_LEN);
	size_t got = 0;
	long r;
	while ((r = backup_spool_read(sp, buf, &e)) > 0) {
		assert_true(got + (size_t)r <= n);
		memcpy(back + got, buf, (size_t)r);
		got += (size_t)r;
	}
	assert_int_equal(r, 0);
	assert_int_equal(got, n);
	assert_memory_equal(back, in, n);
	/* Unlinked from the start: the directory is empty (rmdir says so). */
	assert_int_equal(rmdir(d.path), 0);
	backup_spool_free(sp);
	free(in);
	free(buf);
	free(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ini_replaces_store_keys),
		cmocka_unit_test(ini_without_store_gets_one),
		cmocka_unit_test(tool_password_only_in_child_env),
		cmocka_unit_test(tool_failure_is_one_line),
		cmocka_unit_test(tool_missing),
		cmocka_unit_test(tool_feed_and_kill),
		cmocka_unit_test(spool_round_trip),
		cmocka_unit_test(restore_target_control_characters),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
