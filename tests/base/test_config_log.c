/* Configuration precedence (default < file < environment), strictness, and
 * the escaping of log values. The keys are every module's, as src/cli
 * hands them to base (cli/modules.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"
#include "cli/modules.h"

static char path[64];

static void write_config(const char *text)
{
	snprintf(path, sizeof(path), "/tmp/kp-config-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void defaults(void **state)
{
	(void)state;
	struct cli_config c;
	struct error e;
	assert_int_equal(cli_config_load(NULL, &c, &e), 0);
	assert_int_equal(c.http.public_listener.port, 8443);
	assert_int_equal(c.http.network_listener.port, 8444);
	assert_string_equal(c.http.public_listener.address, "127.0.0.1");
	assert_int_equal(c.http.network_listener.client_cert, CLIENT_CERT_REQUIRED);
	assert_int_equal(c.http.public_listener.client_cert, CLIENT_CERT_NONE);
	assert_true(c.http.public_listener.tls);
	assert_false(c.http.network_listener.behind_proxy);
}

static void file_then_environment(void **state)
{
	(void)state;
	struct cli_config c;
	struct error e;
	write_config("[server]\ndata_dir = /srv/kp\n"
		     "[network]\nport = 9444\nbehind_proxy = yes\n"
		     "proxy_addresses = 127.0.0.1, ::1\n"
		     "client_cert = optional\n");
	setenv("KRUISPUNT_NETWORK_PORT", "9555", 1);
	assert_int_equal(cli_config_load(path, &c, &e), 0);
	unsetenv("KRUISPUNT_NETWORK_PORT");
	unlink(path);
	assert_string_equal(c.base.data_dir, "/srv/kp");
	assert_int_equal(c.http.network_listener.port, 9555);
	assert_true(c.http.network_listener.behind_proxy);
	assert_int_equal(c.http.network_listener.client_cert, CLIENT_CERT_OPTIONAL);
	char p[LIMIT_PATH];
	assert_int_equal(config_path(c.base.data_dir, "pki/ca.pem", p, sizeof(p)), 0);
	assert_string_equal(p, "/srv/kp/pki/ca.pem");
	assert_int_equal(config_path(c.base.data_dir, "/etc/ca.pem", p, sizeof(p)), 0);
	assert_string_equal(p, "/etc/ca.pem");
}

static void bad_values_are_refused(void **state)
{
	(void)state;
	struct cli_config c;
	struct error e;
	write_config("[network]\nprot = 9444\n");
	assert_int_equal(cli_config_load(path, &c, &e), -1);
	assert_non_null(strstr(e.detail, "network.prot"));
	unlink(path);
	write_config("[network]\nport = 70000\n");
	assert_int_equal(cli_config_load(path, &c, &e), -1);
	unlink(path);
	write_config("[public]\ntls = maybe\n");
	assert_int_equal(cli_config_load(path, &c, &e), -1);
	unlink(path);
	setenv("KRUISPUNT_SERVER_LOG_LEVEL", "loud", 1);
	assert_int_equal(cli_config_load(NULL, &c, &e), -1);
	unsetenv("KRUISPUNT_SERVER_LOG_LEVEL");
	assert_int_equal(cli_config_load("/nonexistent/kp.ini", &c, &e), -1);
	/* An idle limit shorter than two of the steps a session's last use is
	 * recorded in could end a session in use. */
	setenv("KRUISPUNT_AUTH_SESSION_IDLE_S", "59", 1);
	assert_int_equal(cli_config_load(NULL, &c, &e), -1);
	assert_non_null(strstr(e.detail, "auth.session_idle_s must be a number "
					 "from 120"));
	setenv("KRUISPUNT_AUTH_SESSION_IDLE_S", "119", 1);
	assert_int_equal(cli_config_load(NULL, &c, &e), -1);
	setenv("KRUISPUNT_AUTH_SESSION_IDLE_S", "120", 1);
	assert_int_equal(cli_config_load(NULL, &c, &e), 0);
	assert_int_equal(c.auth.session_idle_s, 120);
	unsetenv("KRUISPUNT_AUTH_SESSION_IDLE_S");
}

/* The demo's way: its own settings, then only the environment on top,
 * which changes what it names and nothing else. */
static void environment_over_settings(void **state)
{
	(void)state;
	struct cli_config c;
	struct error e;
	cli_config_defaults(&c);
	c.http.network_listener.port = 9444;
	c.oidc.code_ttl_s = 60;
	setenv("KRUISPUNT_OIDC_CODE_TTL_S", "10", 1);
	assert_int_equal(cli_config_env(&c, &e), 0);
	assert_int_equal(c.oidc.code_ttl_s, 10);
	assert_int_equal(c.http.network_listener.port, 9444);
	setenv("KRUISPUNT_OIDC_CODE_TTL_S", "9", 1);
	assert_int_equal(cli_config_env(&c, &e), -1);
	assert_non_null(strstr(e.detail, "oidc.code_ttl_s"));
	unsetenv("KRUISPUNT_OIDC_CODE_TTL_S");
}

static void describe_lists_every_key(void **state)
{
	(void)state;
	struct cli_config c;
	cli_config_defaults(&c);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	cli_config_describe(&c, f);
	fclose(f);
	assert_non_null(strstr(text, "[network]"));
	assert_non_null(strstr(text, "KRUISPUNT_NETWORK_PROXY_CERT_HEADER"));
	assert_non_null(strstr(text, "port = 8444"));
	free(text);
}

static void log_values_are_escaped(void **state)
{
	(void)state;
	struct log_line l;
	log_set_level(LV_DEBUG);
	log_begin(&l, LV_INFO, "fn", "msg");
	log_str(&l, "evil", "a\"b\\c\nd\x01\xff");
	struct error e;
	/* The line so far plus a closing brace must be valid JSON. */
	l.buf[l.len] = '}';
	json_t *j = jsonx_parse(l.buf, l.len + 1, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "evil")),
			    "a\"b\\c\nd\x01\xef\xbf\xbd");
	json_decref(j);
	/* A NUL becomes U+FFFD: many log stores refuse \u0000 (found by
	 * fuzz_json, corpus file crash-nul-in-log-value). */
	log_begin(&l, LV_INFO, "fn", "msg");
	log_strn(&l, "nul", "a\0b", 3);
	l.buf[l.len] = '}';
	j = jsonx_parse(l.buf, l.len + 1, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "nul")),
			    "a\xef\xbf\xbd" "b");
	json_decref(j);
	/* Overlong forms, surrogates and code points past U+10FFFF are not
	 * UTF-8 (found by fuzz_json, corpus file crash-2). */
	log_begin(&l, LV_INFO, "fn", "msg");
	log_str(&l, "overlong", "\xf0\x83\x83\x83\xe0\x80\xaf");
	log_str(&l, "surrogate", "\xed\xa0\x80");
	log_str(&l, "too_high", "\xf4\x90\x80\x80");
	log_str(&l, "ok", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	l.buf[l.len] = '}';
	j = jsonx_parse(l.buf, l.len + 1, &e);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "ok")),
			    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	json_decref(j);
	/* Values are cut: a hostile header cannot flood the log. */
	char big[LIMIT_LOG_VALUE * 4];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_begin(&l, LV_INFO, "fn", "msg");
	log_str(&l, "big", big);
	assert_true(l.len < LIMIT_LOG_VALUE + 128);
	/* Below the level nothing is built. */
	log_set_level(LV_WARN);
	log_begin(&l, LV_INFO, "fn", "msg");
	assert_true(l.off);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(file_then_environment),
		cmocka_unit_test(bad_values_are_refused),
		cmocka_unit_test(environment_over_settings),
		cmocka_unit_test(describe_lists_every_key),
		cmocka_unit_test(log_values_are_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
