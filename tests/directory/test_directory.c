/* The reference directory: dossiers, the anti-fraud rule, phases, closing,
 * and the decision query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/support.h"
#include "directory/directory.h"
#include "org/org.h"
#include "registry/registry.h"

static struct ts_store tmp;
static struct store *s;
static int64_t fund_a, fund_b, allowances;

static void add_person(const char *insz, const char *birth)
{
	struct error e;
	assert_int_equal(ts_person(tmp.log, insz, "Test", "Person", birth, &e), 0);
}

static int setup(void **state)
{
	(void)state;
	struct error e;
	if (ts_store_open(&tmp, "directory") != 0)
		return -1;
	s = tmp.s;
	org_organisation_add(tmp.log, &ts_operator, "0411111140", "Fund A", &e);
	org_organisation_add(tmp.log, &ts_operator, "0422222291", "Fund B", &e);
	org_organisation_add(tmp.log, &ts_operator, "0722222210", "Allowances", &e);
	org_institution_add(tmp.log, &ts_operator, "0411111140", "health_insurance_fund",
			    "health_insurance", NULL, &fund_a, &e);
	org_institution_add(tmp.log, &ts_operator, "0422222291", "health_insurance_fund",
			    "health_insurance", NULL, &fund_b, &e);
	org_institution_add(tmp.log, &ts_operator, "0722222210", "family_allowance_fund",
			    "family_allowances", NULL, &allowances, &e);
	directory_capacity_add(tmp.log, &ts_operator, "health_insurance", 1, "insured holder", &e);
	directory_capacity_add(tmp.log, &ts_operator, "family_allowances", 1, "child", &e);
	add_person("85073003328", "1985-07-30");
	add_person("90031524651", "1990-03-15");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return ts_store_close(&tmp);
}

static struct directory_dossier dossier(const char *insz, int capacity,
					int phase, const char *start,
					const char *end)
{
	struct directory_dossier d;
	memset(&d, 0, sizeof(d));
	str_copy(d.insz, sizeof(d.insz), insz);
	d.capacity = capacity;
	d.phase = phase;
	str_copy(d.start, sizeof(d.start), start);
	str_copy(d.end, sizeof(d.end), end);
	return d;
}

static int64_t day(const char *s_)
{
	struct date d;
	assert_int_equal(date_parse(s_, &d), 0);
	return date_to_days(d);
}

static void capacity_codes(void **state)
{
	(void)state;
	assert_int_equal(directory_capacity_parse("000"), 0);
	assert_int_equal(directory_capacity_parse("001"), 1);
	assert_int_equal(directory_capacity_parse("900"), 900);
	assert_int_equal(directory_capacity_parse("902"), 902);
	assert_int_equal(directory_capacity_parse("901"), -1);
	assert_int_equal(directory_capacity_parse("903"), -1);
	assert_int_equal(directory_capacity_parse("1"), -1);
	assert_int_equal(directory_capacity_parse("0a1"), -1);
	assert_int_equal(directory_capacity_parse(NULL), -1);
	assert_true(directory_capacity_known(s, "health_insurance", 1));
	assert_true(directory_capacity_known(s, "anything", 0));
	assert_true(directory_capacity_known(s, "anything", 902));
	assert_false(directory_capacity_known(s, "health_insurance", 2));
}

static void integrate_and_decide(void **state)
{
	(void)state;
	struct error e;
	struct directory_dossier d = dossier("85073003328", 1, 2, "2025-01-01",
					     "2025-12-31");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d,
					     &e), 0);
	assert_true(d.id > 0);
	assert_int_equal(directory_decide(s, fund_a, "85073003328", 1,
					  day("2025-06-01"), 1), DIRECTORY_DOSSIER);
	assert_int_equal(directory_decide(s, fund_a, "85073003328", 1,
					  day("2025-12-31"), 2), DIRECTORY_DOSSIER);
	/* The real network's answer: integrated, but the phase is too low. */
	assert_int_equal(directory_decide(s, fund_a, "85073003328", 1,
					  day("2025-06-01"), 3),
			 DIRECTORY_PHASE_TOO_LOW);
	assert_int_equal(directory_decide(s, fund_a, "85073003328", 1,
					  day("2026-01-01"), 1),
			 DIRECTORY_NO_DOSSIER);
	assert_int_equal(directory_decide(s, fund_a, "85073003328", 0,
					  day("2025-06-01"), 1),
			 DIRECTORY_NO_DOSSIER);
	assert_int_equal(directory_decide(s, fund_b, "85073003328", 1,
					  day("2025-06-01"), 1),
			 DIRECTORY_NO_DOSSIER);
	struct directory_dossier got;
	assert_int_equal(directory_get(s, fund_a, d.id, &got), 0);
	assert_string_equal(got.insz, "85073003328");
	assert_string_equal(got.end, "2025-12-31");
	/* Another institution cannot see it. */
	assert_int_equal(directory_get(s, fund_b, d.id, &got), 1);
}

static void the_anti_fraud_rule(void **state)
{
	(void)state;
	struct error e;
	struct directory_dossier d = dossier("85073003328", 1, 1, "2025-01-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d,
					     &e), 0);
	/* Same person, same capacity, overlapping, same branch. */
	struct directory_dossier other = dossier("85073003328", 1, 1,
						 "2026-03-01", "2026-06-30");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_b, "health_insurance",
					     &other, &e), -1);
	assert_string_equal(e.code, "directory_conflict");
	assert_null(strstr(e.detail, "Fund A"));
	assert_null(strstr(e.detail, "0411111140"));
	/* Its own overlap is refused too, with its own code. */
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance",
					     &other, &e), -1);
	assert_string_equal(e.code, "dossier_overlap");
	/* Another capacity, another person, another branch: all fine. */
	other = dossier("85073003328", 0, 1, "2026-03-01", "2026-06-30");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_b, "health_insurance",
					     &other, &e), 0);
	other = dossier("90031524651", 1, 1, "2026-03-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_b, "health_insurance",
					     &other, &e), 0);
	other = dossier("85073003328", 1, 1, "2026-03-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, allowances, "family_allowances",
					     &other, &e), 0);
	/* After fund A closes, fund B may take over from the next day. */
	assert_int_equal(directory_close(tmp.log, &ts_operator, fund_a, d.id, "2026-02-28", NULL, &e), 0);
	other = dossier("85073003328", 1, 1, "2026-03-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_b, "health_insurance",
					     &other, &e), 0);
	other = dossier("85073003328", 1, 1, "2026-02-28", "2026-02-28");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_b, "health_insurance",
					     &other, &e), -1);
	assert_string_equal(e.code, "directory_conflict");
}

static void bad_dossiers_store_nothing(void **state)
{
	(void)state;
	struct error e;
	struct directory_dossier d = dossier("85073003329", 1, 1, "2025-01-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d, &e), -1);
	assert_string_equal(e.code, "invalid_insz");
	d = dossier("85073003328", 7, 1, "2025-01-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d, &e), -1);
	assert_string_equal(e.code, "unknown_capacity");
	d = dossier("85073003328", 1, 1, "2025-01-01", "2024-12-31");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d, &e), -1);
	assert_string_equal(e.code, "invalid_period");
	d = dossier("85073003328", 1, 1, "2025-02-30", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d, &e), -1);
	d = dossier("78052216473", 1, 1, "2025-01-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d, &e), -1);
	assert_string_equal(e.code, "unknown_person");
	d = dossier("85073003328", 1, 0, "2025-01-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d, &e), -1);
	assert_int_equal(directory_decide(s, fund_a, "85073003328", 1,
					  day("2025-06-01"), 1),
			 DIRECTORY_NO_DOSSIER);
	/* Each refusal is recorded with its code; a number that is no INSZ
	 * is left out of its event. */
	struct audit_record *ev;
	int n = ts_events(tmp.log, "dossier_integrate", &ev);
	const char *const want[][3] = {
		{"dossier_integrate", "refused", "invalid_insz"},
		{"dossier_integrate", "refused", "unknown_capacity"},
		{"dossier_integrate", "refused", "invalid_period"},
		{"dossier_integrate", "refused", "invalid_period"},
		{"dossier_integrate", "refused", "unknown_person"},
		{"dossier_integrate", "refused", "invalid_field"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[0].subject, "");
	assert_string_equal(ev[1].subject, "85073003328");
	assert_string_equal(ev[4].subject, "78052216473");
	assert_string_equal(ev[1].data_type, "reference_directory");
	free(ev);
}

static void closing(void **state)
{
	(void)state;
	struct error e;
	struct directory_dossier d = dossier("90031524651", 1, 1, "2025-01-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d, &e), 0);
	assert_int_equal(directory_close(tmp.log, &ts_operator, fund_b, d.id, "2025-06-30", NULL, &e), -1);
	assert_string_equal(e.code, "unknown_dossier");
	assert_int_equal(directory_close(tmp.log, &ts_operator, fund_a, d.id, "2024-06-30", NULL, &e), -1);
	assert_string_equal(e.code, "invalid_period");
	assert_int_equal(directory_close(tmp.log, &ts_operator, fund_a, d.id, "", NULL, &e), -1);
	assert_int_equal(directory_close(tmp.log, &ts_operator, fund_a, d.id, "2025-06-30", NULL, &e), 0);
	assert_int_equal(directory_close(tmp.log, &ts_operator, fund_a, d.id, "2025-07-30", NULL, &e), -1);
	assert_string_equal(e.code, "dossier_closed");
	assert_int_equal(directory_decide(s, fund_a, "90031524651", 1,
					  day("2025-07-01"), 1),
			 DIRECTORY_NO_DOSSIER);
	assert_int_equal(directory_decide(s, fund_a, "90031524651", 1,
					  day("2025-06-30"), 1),
			 DIRECTORY_DOSSIER);
	/* Recorded about the dossier's person, except when it is not the
	 * institution's (then nothing about it may show). */
	struct audit_record *ev;
	int n = ts_events(tmp.log, "dossier_close", &ev);
	const char *const want[][3] = {
		{"dossier_close", "refused", "unknown_dossier"},
		{"dossier_close", "refused", "invalid_period"},
		{"dossier_close", "refused", "invalid_period"},
		{"dossier_close", "granted", ""},
		{"dossier_close", "refused", "dossier_closed"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[0].subject, "");
	assert_string_equal(ev[3].subject, "90031524651");
	assert_string_equal(ev[3].purpose, "file_management");
	free(ev);
}

/* A load is one transaction and one event; a refused load adds nothing. */
static void bulk_import(void **state)
{
	(void)state;
	struct error e;
	struct directory_import_row rows[] = {
		{fund_a, "health_insurance", 85073003328, 1, 2,
		 day("2025-01-01"), -1},
		{fund_a, "health_insurance", 90031524651, 1, 1,
		 day("2025-01-01"), day("2025-12-31")},
	};
	struct directory_import_row bad[] = {
		{fund_b, "health_insurance", 90031524651, 0, 1,
		 day("2025-01-01"), -1},
		{fund_b, "health_insurance", 85073003328, 1, 1,
		 day("2025-06-01"), -1},
	};
	assert_int_equal(directory_import(tmp.log, &ts_operator, rows, 2, &e),
			 0);
	assert_int_equal(directory_import(tmp.log, &ts_operator, bad, 2, &e),
			 -1);
	assert_string_equal(e.code, "directory_conflict");
	assert_int_equal(directory_decide(s, fund_a, "85073003328", 1,
					  day("2025-06-01"), 2),
			 DIRECTORY_DOSSIER);
	/* The first row of the refused load was fine, and is not there. */
	assert_int_equal(directory_decide(s, fund_b, "90031524651", 0,
					  day("2025-06-01"), 1),
			 DIRECTORY_NO_DOSSIER);
	struct audit_record *ev;
	int n = ts_events(tmp.log, "directory_import", &ev);
	const char *const want[][3] = {
		{"directory_import", "granted", ""},
		{"directory_import", "refused", "directory_conflict"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[0].purpose, "2 dossiers");
	assert_string_equal(ev[0].subject, "");
	free(ev);
}

static void availability(void **state)
{
	(void)state;
	struct error e;
	assert_int_equal(directory_data_type_add(tmp.log, &ts_operator, "health_insurance_rights",
						 "health_insurance_fund",
						 "rights", &e), 0);
	assert_int_equal(directory_availability_add(tmp.log, &ts_operator, "health_insurance_fund", 1,
						    "health_insurance_rights",
						    &e), 0);
	assert_true(directory_available(s, "health_insurance_fund", 1,
					"health_insurance_rights"));
	assert_false(directory_available(s, "health_insurance_fund", 2,
					 "health_insurance_rights"));
	assert_false(directory_available(s, "family_allowance_fund", 1,
					 "health_insurance_rights"));
	assert_int_equal(directory_availability_add(tmp.log, &ts_operator, "x", 1, "nothing", &e), -1);
	assert_string_equal(e.code, "unknown_data_type");
	assert_int_equal(directory_availability_add(tmp.log, &ts_operator, "health_insurance_fund",
						    1, "health_insurance_rights",
						    &e), -1);
	assert_string_equal(e.code, "already_defined");
	char source[64];
	assert_int_equal(directory_data_type_source(s, "health_insurance_rights",
						    source, sizeof(source)), 0);
	assert_string_equal(source, "health_insurance_fund");
	assert_int_equal(directory_data_type_source(s, "nothing", source,
						    sizeof(source)), 1);
	struct audit_record *ev;
	int n = ts_events(tmp.log, "availability_add", &ev);
	const char *const want[][3] = {
		{"availability_add", "granted", ""},
		{"availability_add", "refused", "unknown_data_type"},
		{"availability_add", "refused", "already_defined"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[0].purpose,
			    "health_insurance_fund 001 health_insurance_rights");
	assert_string_equal(ev[0].profile, "operator");
	free(ev);
}

/* The hub's routing question, in one query: which institution of the
 * data type's source actor type holds a dossier on the person that day,
 * in a capacity in which that actor type keeps the data. */
static void the_authentic_source(void **state)
{
	(void)state;
	struct error e;
	int64_t other = 0, id = 0;
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator, "0733333361", "Allowances B",
					      &e), 0);
	assert_int_equal(org_institution_add(tmp.log, &ts_operator, "0733333361",
					     "family_allowance_fund",
					     "family_allowances", NULL, &other,
					     &e), 0);
	assert_true(other > allowances);
	assert_int_equal(directory_data_type_add(tmp.log, &ts_operator, "family_allowance",
						 "family_allowance_fund", "fa",
						 &e), 0);
	const char *who = "family_allowance_fund", *what = "family_allowance";
	int64_t on = day("2025-06-01");
	/* Nobody holds the person. */
	assert_int_equal(directory_source(s, "85073003328", on, who, what, &id), 1);
	/* A dossier of another actor type, and one in a capacity in which
	 * allowance funds keep nothing yet: still nobody. */
	struct directory_dossier d = dossier("85073003328", 1, 1, "2025-01-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, fund_a, "health_insurance", &d, &e), 0);
	d = dossier("85073003328", 0, 1, "2025-01-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, other, "family_allowances", &d, &e), 0);
	assert_int_equal(directory_source(s, "85073003328", on, who, what, &id), 1);
	assert_int_equal(directory_availability_add(tmp.log, &ts_operator, who, 0, what, &e), 0);
	assert_int_equal(directory_source(s, "85073003328", on, who, what, &id), 0);
	assert_int_equal(id, other);
	/* Not on a day its dossier does not cover, not for another person
	 * or another data type. */
	assert_int_equal(directory_source(s, "85073003328", day("2024-12-31"),
					  who, what, &id), 1);
	assert_int_equal(directory_source(s, "90031524651", on, who, what, &id), 1);
	assert_int_equal(directory_source(s, "85073003328", on, who,
					  "identification", &id), 1);
	/* Two holders: the lowest institution id answers, whatever the order
	 * the dossiers came in. */
	assert_int_equal(directory_availability_add(tmp.log, &ts_operator, who, 1, what, &e), 0);
	d = dossier("85073003328", 1, 1, "2025-01-01", "");
	assert_int_equal(directory_integrate(tmp.log, &ts_operator, allowances, "family_allowances",
					     &d, &e), 0);
	assert_int_equal(directory_source(s, "85073003328", on, who, what, &id), 0);
	assert_int_equal(id, allowances);
	assert_int_equal(directory_source(s, "85073003328", on,
					  "health_insurance_fund", what, &id), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(capacity_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(integrate_and_decide, setup, teardown),
		cmocka_unit_test_setup_teardown(the_anti_fraud_rule, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_dossiers_store_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(closing, setup, teardown),
		cmocka_unit_test_setup_teardown(availability, setup, teardown),
		cmocka_unit_test_setup_teardown(the_authentic_source, setup, teardown),
		cmocka_unit_test_setup_teardown(bulk_import, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
