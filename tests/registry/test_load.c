/* Loading the registers from an operator's file: the line parser (every
 * refusal with its code), the initial load (one event per person, the
 * same data twice changes nothing, other data is refused) and daily
 * changes as mutations by the register's authority. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/support.h"
#include "registry/registry.h"

static struct ts_store tmp;

static int setup(void **state)
{
	(void)state;
	return ts_store_open(&tmp, "registry-load");
}

static int teardown(void **state)
{
	(void)state;
	return ts_store_close(&tmp);
}

#define JAN "\"insz\":\"85073003328\",\"last_name\":\"Peeters\"," \
	    "\"first_names\":\"Jan\""

static int parse(const char *line, struct registry_line *l, struct error *e)
{
	return registry_line_parse(line, strlen(line), l, e);
}

/* Refused with code, and the detail (when not NULL) says so. */
static void refused(const char *line, const char *code, const char *detail)
{
	struct registry_line l;
	struct error e;
	err_clear(&e);
	assert_true(ts_refusal_is(line, parse(line, &l, &e), &e, code, detail));
}

static void a_whole_line(void **state)
{
	(void)state;
	struct registry_line l;
	struct error e;
	const char *line =
		"{\"insz\":\"85.07.30-033.28\",\"register\":\"RR\","
		"\"last_name\":\"Peeters\",\"first_names\":\"Jan Karel\","
		"\"birth_date\":\"1985-07-30\",\"birth_place\":\"Leuven\","
		"\"sex\":\"M\",\"nationality\":\"BE\",\"address\":{\"street\":"
		"\"Kerkstraat 1\",\"postal_code\":\"3000\",\"municipality\":"
		"\"Leuven\",\"country\":\"BE\"},\"language\":\"nl\","
		"\"parents\":[\"59010100151\"],\"deceased_on\":null,"
		"\"pension_status\":\"retired\","
		"\"pension_since\":\"2025-08-01\","
		"\"effective_on\":\"2026-02-01\"}";
	assert_int_equal(parse(line, &l, &e), 0);
	assert_string_equal(l.person.insz, "85073003328");
	assert_string_equal(l.person.register_, "RR");
	assert_string_equal(l.person.first_names, "Jan Karel");
	assert_string_equal(l.person.municipality, "Leuven");
	assert_int_equal(l.nparents, 1);
	assert_string_equal(l.parents[0], "59010100151");
	assert_string_equal(l.effective_on, "2026-02-01");
	assert_string_equal(l.person.pension_status, "retired");
	assert_string_equal(l.person.pension_since, "2025-08-01");
	/* The least a line holds; a partial birth date; a BIS number. */
	assert_int_equal(parse("{" JAN "}", &l, &e), 0);
	assert_string_equal(l.person.pension_status, ""); /* unknown */
	assert_int_equal(parse("{" JAN ",\"pension_status\":\"none\"}", &l,
			       &e), 0);
	assert_string_equal(l.person.pension_since, "");
	assert_int_equal(parse("{" JAN ",\"birth_date\":\"1985-07\"}", &l, &e), 0);
	assert_int_equal(parse("{\"insz\":\"85473000149\",\"last_name\":\"X\","
			       "\"first_names\":\"Y\"}", &l, &e), 0);
	assert_string_equal(l.person.register_, "BIS");
}

static void every_refusal(void **state)
{
	(void)state;
	char longline[REGISTRY_LINE_MAX + 40];
	memset(longline, ' ', sizeof(longline) - 1);
	longline[0] = '{';
	memcpy(longline + 1, JAN, strlen(JAN));
	longline[sizeof(longline) - 2] = '}';
	longline[sizeof(longline) - 1] = '\0';
	refused(longline, "line_too_long", "4096");
	refused("{" JAN ",\"x\":1", "malformed_json", "column");
	refused("[1,2]", "malformed_json", "object");
	refused("{" JAN ",\"last_name\":\"Maes\"}", "malformed_json", NULL);
	refused("{\"insz\":\"85073003328\",\t\"last_name\":\"P\"}",
		"control_character", NULL);
	refused("{" JAN ",\"birth_place\":\"Leu\\u001bven\"}",
		"control_character", NULL);
	refused("{" JAN ",\"pension_state\":\"retired\"}", "unknown_field",
		"pension_state");
	refused("{" JAN ",\"pension_status\":\"early\"}", "invalid_field",
		"pension_status");
	refused("{" JAN ",\"pension_status\":\"retired1\"}", "invalid_field",
		"pension_status");
	refused("{" JAN ",\"pension_status\":true}", "invalid_field",
		"pension_status");
	refused("{" JAN ",\"pension_since\":\"2025-08-01\"}",
		"invalid_field", "pension_since");
	refused("{" JAN ",\"pension_status\":\"retired\","
		"\"pension_since\":\"2025-08\"}", "invalid_field",
		"pension_since");
	refused("{" JAN ",\"address\":{\"city\":\"Gent\"}}", "unknown_field",
		"city");
	refused("{" JAN ",\"\\u00e9\\u00e9\":1}", "unknown_field", NULL);
	refused("{\"last_name\":\"P\",\"first_names\":\"J\"}", "invalid_field",
		"insz");
	refused("{\"insz\":\"85073003329\",\"last_name\":\"P\","
		"\"first_names\":\"J\"}", "invalid_insz", "check");
	refused("{\"insz\":\"8507300332\",\"last_name\":\"P\","
		"\"first_names\":\"J\"}", "invalid_insz", NULL);
	refused("{\"insz\":85073003328,\"last_name\":\"P\","
		"\"first_names\":\"J\"}", "invalid_field", "insz");
	refused("{" JAN ",\"register\":\"BIS\"}", "invalid_field", "register");
	refused("{\"insz\":\"85073003328\",\"first_names\":\"J\"}",
		"invalid_field", "last_name");
	refused("{" JAN ",\"birth_date\":\"1985-02-30\"}", "invalid_field",
		"birth_date");
	refused("{" JAN ",\"birth_date\":\"1986-07-30\"}", "invalid_field",
		"INSZ");
	refused("{" JAN ",\"sex\":\"F\"}", "invalid_field", "sex");
	refused("{" JAN ",\"nationality\":\"be\"}", "invalid_field",
		"nationality");
	refused("{" JAN ",\"language\":\"xx\"}", "invalid_field", "language");
	refused("{" JAN ",\"deceased_on\":\"yesterday\"}", "invalid_field",
		"deceased_on");
	refused("{" JAN ",\"effective_on\":\"2026-13-01\"}", "invalid_field",
		"effective_on");
	refused("{" JAN ",\"address\":\"Kerkstraat 1\"}", "invalid_field",
		"address");
	refused("{" JAN ",\"address\":{\"postal_code\":\"12345678901\"}}",
		"invalid_field", "postal_code");
	refused("{" JAN ",\"parents\":\"59010100151\"}", "invalid_field",
		"parents");
	refused("{" JAN ",\"parents\":[\"1\",\"2\",\"3\"]}", "invalid_field",
		"parents");
	refused("{" JAN ",\"parents\":[\"59010100152\"]}", "invalid_insz",
		"parent");
	refused("{" JAN ",\"parents\":[\"85073003328\"]}", "invalid_field",
		"parents");
	refused("{" JAN ",\"parents\":[\"59010100151\",\"59010100151\"]}",
		"invalid_field", "parents");
	refused("{" JAN ",\"parents\":[7]}", "invalid_insz", NULL);
}

static struct registry_line line_of(const char *json)
{
	struct registry_line l;
	struct error e;
	if (parse(json, &l, &e) != 0)
		fail_msg("%s: %s", json, e.detail);
	return l;
}

static void initial_load(void **state)
{
	(void)state;
	struct registry_line l[4] = {
		line_of("{" JAN ",\"address\":{\"street\":\"Kerkstraat 1\"}}"),
		line_of("{\"insz\":\"90031524651\",\"last_name\":\"Dubois\","
			"\"first_names\":\"Marie\",\"pension_status\":"
			"\"retired\",\"pension_since\":\"2025-08-01\"}"),
		line_of("{" JAN ",\"address\":{\"street\":\"Andere 2\"}}"),
		line_of("{\"insz\":\"90031524552\",\"last_name\":\"D\","
			"\"first_names\":\"M\"}"),
	};
	enum registry_outcome out[4];
	struct error e;
	assert_int_equal(registry_load(tmp.log, &ts_operator, l, 2, out, &e), 0);
	assert_int_equal(out[0], REGISTRY_INSERTED);
	assert_int_equal(out[1], REGISTRY_INSERTED);
	struct audit_record *ev;
	int n = ts_events(tmp.log, "person_add", &ev);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].subject, "85073003328");
	assert_string_equal(ev[1].subject, "90031524651");
	free(ev);
	/* Again, with the same person, another version of him, and one new. */
	assert_int_equal(registry_load(tmp.log, &ts_operator, l, 4, out, &e), 0);
	assert_int_equal(out[0], REGISTRY_UNCHANGED);
	assert_int_equal(out[1], REGISTRY_UNCHANGED);
	assert_int_equal(out[2], REGISTRY_REFUSED);
	assert_int_equal(out[3], REGISTRY_INSERTED);
	n = ts_events(tmp.log, "person_add", &ev);
	const char *const want[][3] = {
		{"person_add", "granted", ""},
		{"person_add", "granted", ""},
		{"person_add", "refused", "person_exists"},
		{"person_add", "granted", ""},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	free(ev);
	struct registry_person p;
	assert_int_equal(registry_get(tmp.s, "85073003328", &p, &e), 0);
	assert_string_equal(p.street, "Kerkstraat 1");
	assert_string_equal(p.pension_status, "");
	assert_int_equal(registry_get(tmp.s, "90031524651", &p, &e), 0);
	assert_string_equal(p.pension_status, "retired");
	assert_string_equal(p.pension_since, "2025-08-01");
	/* Loaded again with another status: other data, refused. */
	l[1] = line_of("{\"insz\":\"90031524651\",\"last_name\":\"Dubois\","
		       "\"first_names\":\"Marie\",\"pension_status\":"
		       "\"none\"}");
	assert_int_equal(registry_load(tmp.log, &ts_operator, l + 1, 1, out,
				       &e), 0);
	assert_int_equal(out[0], REGISTRY_REFUSED);
}

static void twice_in_one_load(void **state)
{
	(void)state;
	struct registry_line l[2] = {
		line_of("{" JAN "}"),
		line_of("{" JAN ",\"birth_place\":\"Gent\"}"),
	};
	enum registry_outcome out[2];
	struct error e;
	assert_int_equal(registry_load(tmp.log, &ts_operator, l, 2, out, &e), 0);
	assert_int_equal(out[0], REGISTRY_INSERTED);
	assert_int_equal(out[1], REGISTRY_REFUSED);
	struct audit_record *ev;
	int n = ts_events(tmp.log, "person_add", &ev);
	const char *const want[][3] = {
		{"person_add", "granted", ""},
		{"person_add", "refused", "person_exists"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	free(ev);
}

static void daily_changes(void **state)
{
	(void)state;
	struct error e;
	enum registry_outcome o;
	struct registry_line l = line_of(
		"{" JAN ",\"birth_date\":\"1985-07-30\",\"address\":{\"street\":"
		"\"Kerkstraat 1\",\"postal_code\":\"3000\",\"municipality\":"
		"\"Leuven\"}}");
	const char *rr = registry_authority("RR");
	assert_int_equal(registry_upsert(tmp.log, &ts_operator, &l, rr, 7, &o,
					 &e), 0);
	assert_int_equal(o, REGISTRY_INSERTED);
	assert_int_equal(registry_upsert(tmp.log, &ts_operator, &l, rr, 7, &o,
					 &e), 0);
	assert_int_equal(o, REGISTRY_UNCHANGED);
	/* A move and a new name: two mutations, each with its ticket. */
	l = line_of("{\"insz\":\"85073003328\",\"last_name\":\"Peeters-Maes\","
		    "\"first_names\":\"Jan\",\"address\":{\"street\":"
		    "\"Naamsestraat 22\",\"postal_code\":\"3000\","
		    "\"municipality\":\"Leuven\"},\"effective_on\":\"2026-02-01\"}");
	assert_int_equal(registry_upsert(tmp.log, &ts_operator, &l, rr, 7, &o,
					 &e), 0);
	assert_int_equal(o, REGISTRY_UPDATED);
	struct registry_person p;
	assert_int_equal(registry_get(tmp.s, "85073003328", &p, &e), 0);
	assert_string_equal(p.street, "Naamsestraat 22");
	assert_string_equal(p.last_name, "Peeters-Maes");
	assert_int_equal(registry_get_as_of(tmp.s, "85073003328", "2026-01-31",
					    &p, &e), 0);
	assert_string_equal(p.street, "Kerkstraat 1");
	struct audit_record *ev;
	int n = ts_events(tmp.log, "registry_mutation", &ev);
	assert_int_equal(n, 2);
	assert_true(ev[0].ticket[0] && ev[1].ticket[0]);
	free(ev);
	/* What no mutation changes is refused before anything changes. */
	l = line_of("{\"insz\":\"85073003328\",\"last_name\":\"Other\","
		    "\"first_names\":\"Jan\",\"birth_place\":\"Gent\"}");
	assert_int_equal(registry_upsert(tmp.log, &ts_operator, &l, rr, 7, &o,
					 &e), -1);
	assert_string_equal(e.code, "unchangeable_field");
	assert_int_equal(registry_get(tmp.s, "85073003328", &p, &e), 0);
	assert_string_equal(p.last_name, "Peeters-Maes");
	/* Only the register's authority changes a person. */
	l = line_of("{\"insz\":\"85073003328\",\"last_name\":\"Other\","
		    "\"first_names\":\"Jan\"}");
	assert_int_equal(registry_upsert(tmp.log, &ts_operator, &l,
					 "health_insurance", 7, &o, &e), -1);
	assert_string_equal(e.code, "not_register_authority");
	/* Retired: a pension mutation, effective on the since date, with
	 * the data type it discloses; the same status again is no change. */
	l = line_of("{\"insz\":\"85073003328\",\"last_name\":"
		    "\"Peeters-Maes\",\"first_names\":\"Jan\","
		    "\"pension_status\":\"retired\","
		    "\"pension_since\":\"2026-02-05\"}");
	assert_int_equal(registry_upsert(tmp.log, &ts_operator, &l, rr, 7, &o,
					 &e), 0);
	assert_int_equal(o, REGISTRY_UPDATED);
	assert_int_equal(registry_upsert(tmp.log, &ts_operator, &l, rr, 7, &o,
					 &e), 0);
	assert_int_equal(o, REGISTRY_UNCHANGED);
	assert_int_equal(registry_get(tmp.s, "85073003328", &p, &e), 0);
	assert_string_equal(p.pension_status, "retired");
	assert_string_equal(p.pension_since, "2026-02-05");
	assert_int_equal(registry_get_as_of(tmp.s, "85073003328", "2026-02-04",
					    &p, &e), 0);
	assert_string_equal(p.pension_status, "");
	n = ts_events(tmp.log, "registry_mutation", &ev);
	assert_int_equal(n, 4); /* move, name, the refused name, pension */
	assert_string_equal(ev[3].data_type, "pension_status");
	assert_string_equal(ev[0].data_type, "identification");
	free(ev);
	/* A death: the last change of a person. */
	l = line_of("{\"insz\":\"85073003328\",\"last_name\":"
		    "\"Peeters-Maes\",\"first_names\":\"Jan\","
		    "\"deceased_on\":\"2026-02-10\"}");
	assert_int_equal(registry_upsert(tmp.log, &ts_operator, &l, rr, 7, &o,
					 &e), 0);
	assert_int_equal(o, REGISTRY_UPDATED);
	assert_int_equal(registry_get(tmp.s, "85073003328", &p, &e), 0);
	assert_string_equal(p.deceased_on, "2026-02-10");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_whole_line),
		cmocka_unit_test(every_refusal),
		cmocka_unit_test_setup_teardown(initial_load, setup, teardown),
		cmocka_unit_test_setup_teardown(twice_in_one_load, setup, teardown),
		cmocka_unit_test_setup_teardown(daily_changes, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
