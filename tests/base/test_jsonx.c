/* Bounded JSON parsing, typed fields and problem rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

static json_t *parse(const char *s, struct error *e)
{
	return jsonx_parse(s, strlen(s), e);
}

static void valid_json(void **state)
{
	(void)state;
	struct error e;
	json_t *j = parse("{\"a\":1,\"b\":\"x\"}", &e);
	assert_non_null(j);
	json_decref(j);
}

static void malformed_json(void **state)
{
	(void)state;
	struct error e;
	assert_null(parse("{\"a\":", &e));
	assert_int_equal(e.kind, ERR_MALFORMED);
	assert_string_equal(e.code, "malformed_json");
	assert_null(parse("", &e));
	assert_null(parse("{\"a\":1}{", &e));
	/* Duplicate keys are refused: two parsers could read two values. */
	assert_null(parse("{\"a\":1,\"a\":2}", &e));
	/* An embedded NUL would let C code see a shorter string. */
	assert_null(parse("{\"a\":\"x\\u0000y\"}", &e));
}

static void depth_is_bounded(void **state)
{
	(void)state;
	struct error e;
	char deep[200];
	int n = LIMIT_JSON_DEPTH + 1;
	memset(deep, '[', (size_t)n);
	memset(deep + n, ']', (size_t)n);
	deep[2 * n] = '\0';
	assert_null(parse(deep, &e));
	assert_string_equal(e.code, "malformed_json");
	/* Exactly at the limit is fine. */
	deep[LIMIT_JSON_DEPTH] = '\0';
	memset(deep, '[', LIMIT_JSON_DEPTH);
	memset(deep + LIMIT_JSON_DEPTH, ']', LIMIT_JSON_DEPTH);
	deep[2 * LIMIT_JSON_DEPTH] = '\0';
	json_t *j = parse(deep, &e);
	assert_non_null(j);
	json_decref(j);
	/* Brackets inside strings do not count. */
	j = parse("{\"a\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[\"}", &e);
	assert_non_null(j);
	json_decref(j);
}

static void typed_fields(void **state)
{
	(void)state;
	struct error e;
	json_t *j = parse("{\"s\":\"abc\",\"n\":42,\"b\":true,\"z\":null}",
			  &e);
	const char *s;
	int64_t n;
	bool b;
	assert_int_equal(jsonx_str(j, "s", true, 10, &s, &e), 0);
	assert_string_equal(s, "abc");
	assert_int_equal(jsonx_str(j, "s", true, 2, &s, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(jsonx_str(j, "n", true, 10, &s, &e), -1);
	assert_int_equal(jsonx_str(j, "missing", true, 10, &s, &e), -1);
	assert_non_null(strstr(e.detail, "missing"));
	assert_int_equal(jsonx_str(j, "missing", false, 10, &s, &e), 1);
	assert_int_equal(jsonx_str(j, "z", false, 10, &s, &e), 1);
	assert_int_equal(jsonx_int(j, "n", true, 0, 100, &n, &e), 0);
	assert_int_equal(n, 42);
	assert_int_equal(jsonx_int(j, "n", true, 0, 10, &n, &e), -1);
	assert_int_equal(jsonx_int(j, "s", true, 0, 10, &n, &e), -1);
	assert_int_equal(jsonx_bool(j, "b", true, &b, &e), 0);
	assert_true(b);
	assert_int_equal(jsonx_bool(j, "n", true, &b, &e), -1);
	json_decref(j);
	/* Text fields are plain text: a CR/LF (a forged log or mail line), a
	 * tab or an escape are refused, non-ASCII letters are not. */
	j = parse("{\"crlf\":\"a\\r\\nb\",\"tab\":\"a\\tb\","
		  "\"esc\":\"\\u001b[2J\",\"del\":\"\\u007f\","
		  "\"ok\":\"Fran\u00e7oise\"}", &e);
	assert_non_null(j);
	const char *bad[] = {"crlf", "tab", "esc", "del"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(jsonx_str(j, bad[i], true, 64, &s, &e), -1);
		assert_string_equal(e.code, "invalid_field");
	}
	assert_int_equal(jsonx_str(j, "ok", true, 64, &s, &e), 0);
	json_decref(j);
}

static void problem_document(void **state)
{
	(void)state;
	struct error e;
	err_set(&e, ERR_FORBIDDEN, "insufficient_level", "level %d needed", 400);
	json_t *extra = json_pack("{s:i,s:i}", "required", 400, "current", 200);
	char *doc = problem_render(403, "Forbidden", &e, "/api/v1/apps/x/enter",
				   extra);
	json_decref(extra);
	struct error pe;
	json_t *p = parse(doc, &pe);
	assert_non_null(p);
	assert_int_equal(json_integer_value(json_object_get(p, "status")), 403);
	assert_string_equal(json_string_value(json_object_get(p, "code")),
			    "insufficient_level");
	assert_string_equal(json_string_value(json_object_get(p, "title")),
			    "Forbidden");
	assert_string_equal(json_string_value(json_object_get(p, "detail")),
			    "level 400 needed");
	assert_int_equal(json_integer_value(json_object_get(p, "required")), 400);
	json_decref(p);
	free(doc);
	/* Invalid UTF-8 in a detail does not produce invalid JSON. */
	err_set(&e, ERR_INVALID, "invalid_field", "bad \xff byte");
	doc = problem_render(422, "Unprocessable Content", &e, NULL, NULL);
	p = parse(doc, &pe);
	assert_non_null(p);
	json_decref(p);
	free(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_json),
		cmocka_unit_test(malformed_json),
		cmocka_unit_test(depth_is_bounded),
		cmocka_unit_test(typed_fields),
		cmocka_unit_test(problem_document),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
