/* Organisations from an operator's file: the line parser (every refusal
 * with its code) and org_upsert (new, unchanged, changed, and what an
 * import does not change). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/support.h"
#include "org/org.h"

static struct ts_store tmp;

static int setup(void **state)
{
	(void)state;
	return ts_store_open(&tmp, "org-line");
}

static int teardown(void **state)
{
	(void)state;
	return ts_store_close(&tmp);
}

#define ORG "\"kbo\":\"0412345614\",\"name\":\"Bakkerij\""
#define FP "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static int parse(const char *line, struct org_line *l, struct error *e)
{
	return org_line_parse(line, strlen(line), l, e);
}

static void refused(const char *line, const char *code, const char *detail)
{
	struct org_line l;
	struct error e;
	err_clear(&e);
	assert_true(ts_refusal_is(line, parse(line, &l, &e), &e, code, detail));
}

static void lines(void **state)
{
	(void)state;
	struct org_line l;
	struct error e;
	assert_int_equal(parse("{\"kbo\":\"BE 0412.345.614\",\"name\":\"B\","
			       "\"categories\":[\"employer\"],\"actor_type\":"
			       "\"health_insurance\",\"branch\":\"health_insurance\","
			       "\"endpoint\":\"https://x.example/\",\"certificate\":"
			       "{\"sha256\":\"" FP "\",\"subject\":\"CN=x\","
			       "\"not_before\":\"2026-01-01T00:00:00Z\","
			       "\"not_after\":\"2027-01-01T00:00:00Z\"}}", &l, &e), 0);
	assert_string_equal(l.kbo, "0412345614");
	assert_int_equal(l.ncategories, 1);
	assert_true(l.has_cert);
	assert_int_equal(l.cert_sha256[1], 0x11);
	refused("{" ORG ",", "malformed_json", "column");
	refused("{" ORG ",\"x\":\"\x01\"}", "control_character", NULL);
	refused("{" ORG ",\"owner\":\"me\"}", "unknown_field", "owner");
	refused("{" ORG ",\"certificate\":{\"sha1\":\"00\"}}", "unknown_field",
		"sha1");
	refused("{\"kbo\":\"0412345615\",\"name\":\"B\"}", "invalid_kbo", "check");
	refused("{\"name\":\"B\"}", "invalid_field", "kbo");
	refused("{\"kbo\":\"0412345614\"}", "invalid_field", "name");
	refused("{\"kbo\":\"0412345614\",\"name\":\"\"}", "invalid_field", "name");
	refused("{" ORG ",\"categories\":\"employer\"}", "invalid_field",
		"categories");
	refused("{" ORG ",\"categories\":[1]}", "invalid_field", "category");
	refused("{" ORG ",\"actor_type\":\"x\"}", "invalid_field", "branch");
	refused("{" ORG ",\"endpoint\":\"https://x\"}", "invalid_field",
		"institution");
	refused("{" ORG ",\"actor_type\":\"a\",\"branch\":\"b\",\"certificate\":"
		"{\"sha256\":\"zz\",\"not_before\":\"2026-01-01T00:00:00Z\","
		"\"not_after\":\"2027-01-01T00:00:00Z\"}}", "invalid_field",
		"sha256");
	refused("{" ORG ",\"actor_type\":\"a\",\"branch\":\"b\",\"certificate\":"
		"{\"sha256\":\"" FP "\",\"not_before\":\"2027-01-01T00:00:00Z\","
		"\"not_after\":\"2026-01-01T00:00:00Z\"}}", "invalid_field",
		"not_after");
	refused("{" ORG ",\"actor_type\":\"a\",\"branch\":\"b\",\"certificate\":"
		"{\"sha256\":\"" FP "\",\"not_before\":\"soon\","
		"\"not_after\":\"2026-01-01T00:00:00Z\"}}", "invalid_field",
		"not_before");
}

static struct org_line line_of(const char *json)
{
	struct org_line l;
	struct error e;
	if (parse(json, &l, &e) != 0)
		fail_msg("%s: %s", json, e.detail);
	return l;
}

static void upsert(void **state)
{
	(void)state;
	struct error e;
	enum org_outcome o;
	struct org_line l = line_of("{" ORG ",\"categories\":[\"employer\"]}");
	assert_int_equal(org_upsert(tmp.log, &ts_operator, &l, &o, &e), 0);
	assert_int_equal(o, ORG_INSERTED);
	assert_int_equal(org_upsert(tmp.log, &ts_operator, &l, &o, &e), 0);
	assert_int_equal(o, ORG_UNCHANGED);
	l = line_of("{" ORG ",\"categories\":[\"employer\",\"institution\"],"
		    "\"actor_type\":\"health_insurance\",\"branch\":"
		    "\"health_insurance\",\"certificate\":{\"sha256\":\"" FP "\","
		    "\"not_before\":\"2026-01-01T00:00:00Z\","
		    "\"not_after\":\"2027-01-01T00:00:00Z\"}}");
	assert_int_equal(org_upsert(tmp.log, &ts_operator, &l, &o, &e), 0);
	assert_int_equal(o, ORG_UPDATED);
	assert_true(org_has_category(tmp.s, "0412345614", "institution"));
	struct org_institution inst;
	assert_int_equal(org_institution_by_kbo(tmp.s, "0412345614", &inst), 0);
	assert_string_equal(inst.actor_type, "health_insurance");
	assert_int_equal(org_institution_of_type(tmp.s, "health_insurance",
						 &inst), 0);
	assert_int_equal(org_institution_of_type(tmp.s, "national_register",
						 &inst), 1);
	assert_int_equal(org_upsert(tmp.log, &ts_operator, &l, &o, &e), 0);
	assert_int_equal(o, ORG_UNCHANGED);
	l = line_of("{\"kbo\":\"0412345614\",\"name\":\"Other name\"}");
	assert_int_equal(org_upsert(tmp.log, &ts_operator, &l, &o, &e), -1);
	assert_string_equal(e.code, "unchangeable_field");
	l = line_of("{" ORG ",\"actor_type\":\"pensions\",\"branch\":"
		    "\"health_insurance\"}");
	assert_int_equal(org_upsert(tmp.log, &ts_operator, &l, &o, &e), -1);
	assert_string_equal(e.code, "unchangeable_field");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines),
		cmocka_unit_test_setup_teardown(upsert, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
