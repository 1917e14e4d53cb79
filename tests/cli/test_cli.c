/* The command line's argument handling, on the built binary (src/cli is
 * not in kpcore): usage and exit code 2 for an unknown command, a missing
 * option or a number that is not one; --help on stdout with 0, for the
 * binary and for each command; serve without a usable configuration. */
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
		"serve", "serve --port 8443", "serve --config d/k.ini --port abc",
		"serve --config d/k.ini --port 70000",
		"serve --config d/k.ini stray", "config --bogus",
		"config stray", "version stray", "help bogus",
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

/* `kruispunt help COMMAND` and `kruispunt COMMAND --help` print the same
 * usage on stdout with 0, every option named. */
static void help_of_a_command(void **state)
{
	(void)state;
	static const struct {
		const char *args, *needle;
	} cases[] = {
		{"help serve", "--config FILE"},
		{"help serve", "--port N"},
		{"serve --help", "--port N"},
		{"serve -h", "--config FILE"},
		{"audit verify --help", "--public-key FILE"},
		{"help audit", "relative to the working directory"},
		{"org --help", "kruispunt org institution --data DIR"},
		{"org cert --help", "kruispunt org endpoint --data DIR"},
		{"help directory", "kruispunt directory availability"},
		{"authz add --help", "--min-phase N"},
		{"help gen", "--dossiers-per-person M"},
		{"demo --help", "--port N"},
		{"config --help", "KRUISPUNT_<SECTION>_<KEY>"},
		{"help init", "--data DIR"},
		{"help help", "kruispunt COMMAND --help"},
	};
	char out[4096], err[4096];
	for (size_t i = 0; i < KP_NELEM(cases); i++) {
		int rc = run(cases[i].args, out, sizeof(out), err, sizeof(err));
		if (rc != 0 || !strstr(out, cases[i].needle) ||
		    strncmp(out, "usage: kruispunt ", 17) != 0 || err[0])
			fail_msg("'%s' exited %d, no '%s' in: %s%s", cases[i].args,
				 rc, cases[i].needle, out, err);
	}
	char other[4096];
	run("help org", out, sizeof(out), err, sizeof(err));
	run("org --help", other, sizeof(other), err, sizeof(err));
	assert_string_equal(out, other);
}

/* The overview names every command and every subcommand. */
static void overview_lists_every_command(void **state)
{
	(void)state;
	static const char *lines[] = {
		"\n  init --data DIR", "\n  serve --config FILE [--port N]",
		"\n  demo --data DIR", "\n  audit verify|purge|vkey|key rotate --data DIR",
		"\n  org add|institution|cert|endpoint|grant|revoke|roles ",
		"\n  directory capacity|data-type|availability ",
		"\n  authz list|add ", "\n  gen --data DIR",
		"\n  config [--config FILE]", "\n  version",
		"\n  help [COMMAND]",
	};
	char out[4096], err[4096];
	assert_int_equal(run("--help", out, sizeof(out), err, sizeof(err)), 0);
	for (size_t i = 0; i < KP_NELEM(lines); i++)
		if (!strstr(out, lines[i]))
			fail_msg("--help has no '%s':\n%s", lines[i] + 1, out);
}

/* serve names what is missing and what to run instead. */
static void serve_without_configuration(void **state)
{
	(void)state;
	char out[4096], err[4096];
	assert_int_equal(run("serve", out, sizeof(out), err, sizeof(err)), 2);
	assert_non_null(strstr(err, "--config FILE is required"));
	assert_non_null(strstr(err, "kruispunt init --data DIR"));
	assert_int_equal(run("serve --config none.ini", out, sizeof(out), err,
			     sizeof(err)), 1);
	assert_non_null(strstr(err, "cannot read none.ini"));
	assert_non_null(strstr(err, "kruispunt init --data DIR"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(usage_errors_exit_2, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_command_is_named, setup, teardown),
		cmocka_unit_test_setup_teardown(help_and_version, setup, teardown),
		cmocka_unit_test_setup_teardown(help_of_a_command, setup, teardown),
		cmocka_unit_test_setup_teardown(overview_lists_every_command, setup, teardown),
		cmocka_unit_test_setup_teardown(serve_without_configuration, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
