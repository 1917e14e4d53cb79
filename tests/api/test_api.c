/* src/api's translation to HTTP: every error kind has its status (one
 * mapping, src/http/status.c), a problem document is RFC 9457 JSON with
 * its stable code, and query numbers are refused unless whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "http/http.h"

static void every_kind_has_its_status(void **state)
{
	(void)state;
	static const struct {
		enum err_kind kind;
		int status;
	} want[] = {
		{ERR_NONE, 200},          {ERR_MALFORMED, 400},
		{ERR_UNAUTHENTICATED, 401}, {ERR_FORBIDDEN, 403},
		{ERR_NOT_FOUND, 404},     {ERR_METHOD, 405},
		{ERR_CONFLICT, 409},      {ERR_GONE, 410},
		{ERR_TOO_LARGE, 413},     {ERR_INVALID, 422},
		{ERR_LOCKED, 423},        {ERR_RATE_LIMITED, 429},
		{ERR_INTERNAL, 500},      {ERR_UPSTREAM, 502},
		{ERR_UNAVAILABLE, 503},   {ERR_TIMEOUT, 504},
	};
	/* The table covers the enum: a new kind must be added here too. */
	assert_int_equal(KP_NELEM(want), ERR_TIMEOUT + 1);
	for (size_t i = 0; i < KP_NELEM(want); i++) {
		int st = http_status_for(want[i].kind);
		assert_int_equal(st, want[i].status);
		assert_string_not_equal(http_status_title(st), "Error");
	}
	/* A kind from nowhere is a server error, never a success. */
	assert_int_equal(http_status_for((enum err_kind)99), 500);
	assert_string_equal(http_status_title(299), "Error");
}

static json_t *problem(int status, const struct error *e, json_t *extra)
{
	char *text = problem_render(status, http_status_title(status), e,
				    "/v1/x", extra);
	json_error_t je;
	json_t *j = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(j);
	free(text);
	return j;
}

static void problems_are_rfc9457(void **state)
{
	(void)state;
	struct error e;
	err_set(&e, ERR_FORBIDDEN, "insufficient_level", "level %d needed", 400);
	json_t *extra = json_pack("{s:i,s:i}", "required", 400, "current", 200);
	json_t *j = problem(http_status_for(e.kind), &e, extra);
	json_decref(extra);
	assert_string_equal(json_string_value(json_object_get(j, "type")),
			    "about:blank");
	assert_string_equal(json_string_value(json_object_get(j, "title")),
			    "Forbidden");
	assert_int_equal(json_integer_value(json_object_get(j, "status")), 403);
	assert_string_equal(json_string_value(json_object_get(j, "code")),
			    "insufficient_level");
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
			    "level 400 needed");
	assert_string_equal(json_string_value(json_object_get(j, "instance")),
			    "/v1/x");
	assert_int_equal(json_integer_value(json_object_get(j, "required")), 400);
	json_decref(j);
	/* No detail: the title stands in; no code: "error". Invalid UTF-8 in
	 * a detail never breaks the document. */
	struct error bare = {.kind = ERR_INTERNAL};
	j = problem(500, &bare, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
			    "Internal Server Error");
	assert_string_equal(json_string_value(json_object_get(j, "code")), "error");
	json_decref(j);
	err_set(&e, ERR_INVALID, "invalid_field", "bad \xff\xfe name");
	j = problem(422, &e, NULL);
	assert_string_equal(json_string_value(json_object_get(j, "detail")),
			    "Unprocessable Content");
	json_decref(j);
}

static void query_numbers(void **state)
{
	(void)state;
	struct error e;
	uint64_t v = 7;
	assert_int_equal(api_parse_u64("42", "seq", true, &v, &e), 0);
	assert_int_equal(v, 42);
	/* At most 19 digits: every such number fits, no overflow to test. */
	assert_int_equal(api_parse_u64("9999999999999999999", "seq", true, &v,
				       &e), 0);
	assert_true(v == UINT64_C(9999999999999999999));
	assert_int_equal(api_parse_u64(NULL, "seq", false, &v, &e), 1);
	assert_int_equal(api_parse_u64(NULL, "seq", true, &v, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(http_status_for(e.kind), 422);
	static const char *bad[] = {"", "-1", "+1", "1x", " 1", "0x10",
				    "18446744073709551615", "00000000000000000001"};
	for (size_t i = 0; i < KP_NELEM(bad); i++) {
		assert_int_equal(api_parse_u64(bad[i], "seq", true, &v, &e), -1);
		assert_non_null(strstr(e.detail, "'seq'"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_kind_has_its_status),
		cmocka_unit_test(problems_are_rfc9457),
		cmocka_unit_test(query_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
