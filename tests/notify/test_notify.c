/* The outbox: a message survives a missing mail server, its failure is
 * recorded and logged, and the retry delivers it once the server is up,
 * to a real SMTP process (examples/smtp_sink) over libcurl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify/notify.h"
#include "support/support.h"
#include "cli/modules.h"

static struct ts_dir tmp;
static char mail[96], db[512];

static int setup(void **state)
{
	(void)state;
	if (ts_dir_make(&tmp, "notify") != 0)
		return -1;
	ts_dir_file(&tmp, "mail", mail, sizeof(mail));
	ts_db_location(&tmp, "n.db", db, sizeof(db));
	return mkdir(mail, 0700);
}

static int teardown(void **state)
{
	(void)state;
	return ts_dir_remove(&tmp);
}

static int free_port(void)
{
	FILE *p = popen("python3 -c 'import socket; s=socket.socket(); "
			"s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'", "r");
	int port = 0;
	if (p && fscanf(p, "%d", &port) != 1)
		port = 0;
	if (p)
		pclose(p);
	return port;
}

/* A message the sink stored whole: it writes NNNNNN.eml.tmp and renames
 * it, so a name that merely contains ".eml" may be half a message. */
static bool is_eml(const char *name)
{
	size_t n = strlen(name);
	return n > 4 && strcmp(name + n - 4, ".eml") == 0;
}

static int files_in(const char *d)
{
	DIR *dd = opendir(d);
	int n = 0;
	struct dirent *e;
	while (dd && (e = readdir(dd)))
		n += is_eml(e->d_name);
	if (dd)
		closedir(dd);
	return n;
}

/* The first message the sink stored (the caller frees it). */
static char *first_mail(void)
{
	DIR *dd = opendir(mail);
	struct dirent *d = NULL;
	char path[512], *text = calloc(1, 8192);
	while (dd && (d = readdir(dd)) && !is_eml(d->d_name))
		;
	if (d) {
		snprintf(path, sizeof(path), "%s/%s", mail, d->d_name);
		FILE *f = fopen(path, "rb");
		if (f) {
			size_t n = fread(text, 1, 8191, f);
			text[n] = '\0';
			fclose(f);
		}
	}
	if (dd)
		closedir(dd);
	return text;
}

static void retried_until_delivered(void **state)
{
	(void)state;
	struct store *s;
	struct notify *n;
	struct error e;
	int port = free_port();
	assert_true(port > 0);
	/* The backoff runs on the test clock; the worker still wakes on the
	 * real one, so the waits below poll with a bound. */
	ts_clock_start();
	assert_int_equal(cli_store_open(db, NULL, &s, &e), 0);
	struct notify_options o = {0};
	snprintf(o.smtp_url, sizeof(o.smtp_url), "smtp://127.0.0.1:%d", port);
	str_copy(o.smtp_from, sizeof(o.smtp_from), "test@kruispunt.test");
	rand_bytes(o.master_key, sizeof(o.master_key));
	assert_int_equal(notify_open(s, &o, &n, &e), 0);
	assert_int_equal(notify_send(n, "sms", "+32470000000", "x", "y", &e), -1);
	assert_string_equal(e.code, "channel_unavailable");
	/* A French subject is a header's encoded word (the sink stores
	 * lines with LF only). */
	assert_int_equal(notify_send(n, "email", "jan@example.org",
				     "Votre clé", "Votre code est 123456.\nMerci.",
				     &e), 0);
	/* Nothing listens: the first attempt fails and is recorded. */
	for (int i = 0; i < 100 && ts_int(s, "SELECT attempts FROM outbox") < 1; i++)
		usleep(100000);
	assert_true(ts_int(s, "SELECT attempts FROM outbox") >= 1);
	assert_true(ts_int(s, "SELECT last_error IS NOT NULL FROM outbox") == 1);
	/* The body is sealed at rest: no code in the database. */
	static const char body[] = "SELECT body FROM outbox";
	struct store_stmt *st = store_prepare(store_reader(s), body);
	assert_int_equal(store_step(st), STORE_ROW);
	size_t len;
	const void *sealed = store_col_blob(st, 0, &len);
	assert_true(len > 0);
	assert_null(memmem(sealed, len, "123456", 6));
	store_done(st);
	/* Now the server comes up; the retry delivers. */
	char sink[512], portarg[16];
	snprintf(sink, sizeof(sink), "%s/smtp_sink", getenv("KP_BINARY_DIR"));
	snprintf(portarg, sizeof(portarg), "%d", port);
	pid_t pid = fork();
	if (pid == 0) {
		freopen("/dev/null", "w", stdout);
		execl(sink, sink, portarg, mail, (char *)NULL);
		_exit(127);
	}
	/* Each poll moves past any backoff (five minutes at most), so the
	 * retry is due at the worker's next wake, also if it tried once more
	 * before the sink was listening. */
	for (int i = 0; i < 100 && files_in(mail) == 0; i++) {
		clock_advance_ms(300 * 1000);
		usleep(100000);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	assert_int_equal(files_in(mail), 1);
	char *eml = first_mail();
	assert_non_null(strstr(eml, "\nSubject: =?UTF-8?B?Vm90cmUgY2zDqQ==?=\n"));
	assert_non_null(strstr(eml, "Votre code est 123456.\nMerci."));
	free(eml);
	/* The sink stores the message before it answers; the worker records
	 * the delivery once it has the answer. */
	for (int i = 0; i < 50 && ts_int(s, "SELECT sent_at IS NOT NULL FROM outbox") != 1; i++)
		usleep(100000);
	assert_true(ts_int(s, "SELECT sent_at IS NOT NULL FROM outbox") == 1);
	/* Delivered: the body is gone from the outbox. */
	assert_true(ts_int(s, "SELECT body IS NULL FROM outbox") == 1);
	notify_close(n);
	store_close(s);
	clock_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(retried_until_delivered, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
