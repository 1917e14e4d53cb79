/* The command line's argument handling, on the built binary (src/cli is
 * not in kpcore): usage and exit code 2 for an unknown command, a missing
 * option or a number that is not one; --help on stdout with 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "support/support.h"

static struct ts_dir tmp;

static int setup(void **state)
{
	(void)state;
	return ts_dir_make(&tmp, "cli");
}

static int teardown(void **state)
{
	(void)state;
	return ts_dir_remove(&tmp);
}

/* Run kruispunt with args (a shell-safe string of ours) in the scratch
 * directory; its exit code, and what it wrote to stdout / stderr. */
static int run(const char *args, char *out, size_t on, char *err, size_t en)
{
	char cmd[1024], of[128], ef[128];
	ts_dir_file(&tmp, "out", of, sizeof(of));
	ts_dir_file(&tmp, "err", ef, sizeof(ef));
	snprintf(cmd, sizeof(cmd), "cd %s && %s/kruispunt %s >%s 2>%s", tmp.path,
		 getenv("KP_BINARY_DIR"), args, of, ef);
	int st = system(cmd);
	const char *files[] = {of, ef};
	char *bufs[] = {out, err};
	size_t sizes[] = {on, en};
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");
		size_t n = f ? fread(bufs[i], 1, sizes[i] - 1, f) : 0;
		bufs[i][n] = '\0';
		if (f)
			fclose(f);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void usage_errors_exit_2(void **state)
{
	(void)state;
	static const char *refused[] = {
		"", "bogus", "init", "gen --data d", "gen --data d --persons",
		"gen --data d --persons abc", "gen --data d --persons 12x",
		"gen --data d --persons 0", "gen --data d --persons 5 --seed -1",
		"gen --data d --persons 5 --dossiers-per-person 11",
		"org", "org frob --data d", "audit", "audit verify",
		"directory", "authz", "authz frob",
		"authz add --data d --min-phase two",
		"org revoke --data d --kbo 0411111140 --id 3x",
	};
	char out[4096], err[4096];
	for (size_t i = 0; i < KP_NELEM(refused); i++) {
		int rc = run(refused[i], out, sizeof(out), err, sizeof(err));
		if (rc != 2)
			fail_msg("'%s' exited %d: %s", refused[i], rc, err);
		assert_non_null(strstr(err, "usage: kruispunt"));
		assert_string_equal(out, "");
	}
	/* Refused before anything was written. */
	char d[128];
	struct stat st;
	ts_dir_file(&tmp, "d", d, sizeof(d));
	assert_int_equal(stat(d, &st), -1);
}

static void unknown_command_is_named(void **state)
{
	(void)state;
	char out[4096], err[4096];
	assert_int_equal(run("frobnicate", out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "unknown command 'frobnicate'"));
}

static void help_and_version(void **state)
{
	(void)state;
	char out[4096], err[4096];
	assert_int_equal(run("--help", out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "usage: kruispunt COMMAND"));
	assert_int_equal(run("help", out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "usage: kruispunt COMMAND"));
	assert_int_equal(run("version", out, sizeof(out), err, sizeof(err)), 0);
	assert_non_null(strstr(out, "kruispunt " KP_VERSION));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(usage_errors_exit_2, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_command_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(help_and_version, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
