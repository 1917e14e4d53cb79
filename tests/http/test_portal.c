/* The portal's paths: which static paths exist at all, which return
 * paths stay on the site, the origin CSRF compares against, and the
 * loaded set of files a request can reach (nothing else on disk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "http/http_internal.h"

static void static_paths(void **state)
{
	(void)state;
	static const char *const good[] = {
		"/", "/index.html", "/css/site.css", "/nl/", "/fr/index.html",
		"/js/app-1.2_min.js", "/a.b.c", "/favicon.ico",
	};
	static const char *const hostile[] = {
		"", "index.html", "/..", "/../etc/passwd", "/a/../b", "/./a",
		"/.git/config", "/.env", "/a/.hidden", "//index.html",
		"/a//b", "/a\\b", "/\\index.html", "/%2e%2e/x", "/a%2fb",
		"/index.html%00", "/a b", "/a\tb", "/a\r\nb", "/a?b", "/a#b",
		"/ä.html", "/a:b", "/~root", "/a;b", "/.", "/..%2f",
	};
	for (size_t i = 0; i < KP_NELEM(good); i++)
		assert_true(http_static_path_ok(good[i]));
	for (size_t i = 0; i < KP_NELEM(hostile); i++) {
		if (http_static_path_ok(hostile[i]))
			fail_msg("accepted hostile path %s", hostile[i]);
	}
	char big[LIMIT_STATIC_PATH + 2];
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[LIMIT_STATIC_PATH] = '\0';
	assert_true(http_static_path_ok(big));
	big[LIMIT_STATIC_PATH] = 'a';
	big[LIMIT_STATIC_PATH + 1] = '\0';
	assert_false(http_static_path_ok(big));
}

static void return_paths(void **state)
{
	(void)state;
	static const char *const good[] = {
		"/", "/mijn/gegevens", "/nl/?tab=keys&x=1", "/a#top",
		"/a%20b", "/login?return=/x",
	};
	static const char *const hostile[] = {
		"", "//evil.example", "///evil.example", "/\\evil.example",
		"\\\\evil.example", "https://evil.example", "evil.example",
		"javascript:alert(1)", "/%2f%2fevil.example", "/%2F/evil",
		"/%5cevil", "/a\r\nSet-Cookie: x=1", "/a\nb", "/a b",
		"/a\"onload=x", "/<script>", "/a'b", "/a`b", "/\x7f", "/\xc3\xa4",
		" /a", "\t/a",
	};
	for (size_t i = 0; i < KP_NELEM(good); i++) {
		assert_true(http_return_path_ok(good[i]));
		assert_string_equal(http_return_path(good[i]), good[i]);
	}
	for (size_t i = 0; i < KP_NELEM(hostile); i++) {
		if (http_return_path_ok(hostile[i]))
			fail_msg("accepted hostile return path %s", hostile[i]);
		assert_string_equal(http_return_path(hostile[i]), "/");
	}
	assert_string_equal(http_return_path(NULL), "/");
	char big[LIMIT_RETURN_PATH + 2];
	memset(big, 'a', sizeof(big));
	big[0] = '/';
	big[LIMIT_RETURN_PATH + 1] = '\0';
	assert_string_equal(http_return_path(big), "/");
}

static void origins_and_escapes(void **state)
{
	(void)state;
	char o[64];
	assert_int_equal(http_origin_of("https://portal.example:8443/x?y", o,
					sizeof(o)), 0);
	assert_string_equal(o, "https://portal.example:8443");
	assert_int_equal(http_origin_of("https://portal.example", o, sizeof(o)),
			 0);
	assert_string_equal(o, "https://portal.example");
	assert_int_equal(http_origin_of("https://portal.example:443/", o,
					sizeof(o)), 0);
	assert_string_equal(o, "https://portal.example");
	assert_int_equal(http_origin_of("http://127.0.0.1:80", o, sizeof(o)), 0);
	assert_string_equal(o, "http://127.0.0.1");
	assert_int_equal(http_origin_of("https://p.example:4430", o, sizeof(o)),
			 0);
	assert_string_equal(o, "https://p.example:4430");
	assert_int_equal(http_origin_of("portal.example", o, sizeof(o)), -1);
	assert_int_equal(http_origin_of("https://", o, sizeof(o)), -1);
	assert_int_equal(http_origin_of("https://a-very-long-host.example", o,
					8), -1);
	char *q = http_query_escape("/a b?c=d&e#f/%");
	assert_string_equal(q, "/a%20b%3Fc%3Dd%26e%23f/%25");
	free(q);
}

static char dir[64];

static void put(const char *rel, const char *text)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The loaded set is all a request can reach: dotfiles, symbolic links
 * (to a secret outside), unknown extensions and odd names are never
 * loaded, and lookups are exact. */
static void loaded_set(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kp-web.XXXXXX");
	assert_non_null(mkdtemp(dir));
	char p[256];
	snprintf(p, sizeof(p), "%s/nl", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/.git", dir);
	assert_int_equal(mkdir(p, 0700), 0);
	put("index.html", "<!DOCTYPE html>");
	put("nl/index.html", "nl");
	put("site.css", "a{}");
	put(".env", "SECRET");
	put(".git/config", "SECRET");
	put("notes.md", "SECRET");
	put("a b.html", "odd");
	put("secret.key.txt", "x");
	snprintf(p, sizeof(p), "%s/link.html", dir);
	assert_int_equal(symlink("/etc/passwd", p), 0);
	struct static_files *s;
	struct error e;
	assert_int_equal(static_load(dir, &s, &e), 0);
	assert_non_null(static_find(s, "/"));
	assert_non_null(static_find(s, "/index.html"));
	assert_non_null(static_find(s, "/nl/"));
	assert_non_null(static_find(s, "/nl/index.html"));
	assert_non_null(static_find(s, "/site.css"));
	assert_non_null(static_find(s, "/secret.key.txt"));
	static const char *const absent[] = {
		"/.env", "/.git/config", "/notes.md", "/a b.html", "/link.html",
		"/nl", "/NL/", "/index.htm", "/index.html/", "//index.html",
		"/nl/../index.html", "/site.css.", "/x/",
	};
	for (size_t i = 0; i < KP_NELEM(absent); i++)
		if (static_find(s, absent[i]))
			fail_msg("served %s", absent[i]);
	static_free(s);
	/* Past a file's bound the tree is refused, not served in part. */
	snprintf(p, sizeof(p), "%s/big.txt", dir);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	assert_int_equal(fseek(f, LIMIT_STATIC_FILE, SEEK_SET), 0);
	fputc('x', f);
	fclose(f);
	assert_int_equal(static_load(dir, &s, &e), -1);
	assert_string_equal(e.code, "config_invalid");
	/* No directory: no files, and / is no file. */
	assert_int_equal(static_load("/nonexistent/kp-web", &s, &e), 0);
	assert_null(static_find(s, "/"));
	static_free(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(static_paths),
		cmocka_unit_test(return_paths),
		cmocka_unit_test(origins_and_escapes),
		cmocka_unit_test(loaded_set),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
