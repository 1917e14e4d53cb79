/* The employment authority: who may declare, what a declaration holds,
 * corrections and cancellations as new declarations, the student hours
 * left in a year and the flexi-job conditions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/support.h"
#include "employ/employ.h"
#include "org/org.h"
#include "registry/registry.h"

static struct ts_store tmp;

#define E1 "0412345614"
#define E2 "0555123476"
#define E3 "0777888134"
#define UNKNOWN_ORG "0203201340"
#define SEC "0666123447" /* a social secretariat, E1's from setup */
#define DECLARANT "80040202175"
#define STUDENT "99010909176"
#define RETIRED "50030101160"
#define FULL "81050303163"   /* 4/5 at E2 */
#define PART "82060404151"   /* 3/5 at E2 */
#define HALVES "83070505139" /* half-time at E2 and E3 */
#define SHORT "84080606127"  /* full-time for half a quarter, + 0.3 */

static int person(const char *insz, const char *pension)
{
	struct error e;
	struct registry_person p;
	memset(&p, 0, sizeof(p));
	str_copy(p.insz, sizeof(p.insz), insz);
	str_copy(p.last_name, sizeof(p.last_name), "Test");
	str_copy(p.first_names, sizeof(p.first_names), "Persoon");
	str_copy(p.nationality, sizeof(p.nationality), "BE");
	str_copy(p.country, sizeof(p.country), "BE");
	str_copy(p.language, sizeof(p.language), "nl");
	if (pension) {
		str_copy(p.pension_status, sizeof(p.pension_status),
			 REGISTRY_PENSION_RETIRED);
		str_copy(p.pension_since, sizeof(p.pension_since), pension);
	}
	return registry_add(tmp.log, &ts_operator, &p, &e);
}

static int employer(const char *kbo)
{
	struct error e;
	struct org_role r = {.insz = DECLARANT, .role = "employment_declarant",
			     .valid_until = "2026-06-30"};
	str_copy(r.kbo, sizeof(r.kbo), kbo);
	return org_organisation_add(tmp.log, &ts_operator, kbo, "Werkgever",
				    &e) ||
	       org_role_grant(tmp.log, &ts_operator, &r, &e);
}

static int setup(void **state)
{
	(void)state;
	ts_clock_start();
	if (ts_store_open(&tmp, "employ") != 0)
		return -1;
	const char *people[] = {DECLARANT, STUDENT, FULL, PART, HALVES, SHORT};
	for (size_t i = 0; i < KP_NELEM(people); i++)
		if (person(people[i], NULL) != 0)
			return -1;
	struct error e;
	struct org_affiliation f = {.employer = E1, .secretariat = SEC};
	return person(RETIRED, "2024-05-01") || employer(E1) ||
	       employer(E2) || employer(E3) || employer(SEC) ||
	       org_category_add(tmp.log, &ts_operator, SEC,
				"social_secretariat", &e) ||
	       org_affiliation_add(tmp.log, &ts_operator, &f, &e);
}

static int teardown(void **state)
{
	(void)state;
	clock_reset();
	return ts_store_close(&tmp);
}

static struct employ_declarant as(const char *kbo)
{
	struct employ_declarant by = {.insz = DECLARANT, .level = 400,
				      .channel = AUDIT_CHANNEL_PORTAL};
	snprintf(by.profile, sizeof(by.profile), "org:%s", kbo);
	return by;
}

/* Declare as DECLARANT for kbo; the new id, or -1 with *e. */
static int64_t declare(const char *kbo, const char *worker, const char *kind,
		       const char *start, const char *end, int hours,
		       int fraction, int64_t replaces, struct error *e)
{
	struct employ_declarant by = as(kbo);
	struct employ_declaration d = {.kind = employ_kind_parse(kind),
				       .hours = hours, .fraction = fraction,
				       .replaces = replaces};
	str_copy(d.employer, sizeof(d.employer), kbo);
	str_copy(d.worker, sizeof(d.worker), worker);
	str_copy(d.start, sizeof(d.start), start);
	str_copy(d.end, sizeof(d.end), end ? end : "");
	return employ_declare(tmp.log, &by, &d, e) == 0 ? d.id : -1;
}

static int64_t cancel(const char *kbo, const char *worker, int64_t id,
		      struct error *e)
{
	struct employ_declarant by = as(kbo);
	struct employ_declaration d = {.replaces = id, .cancelled = true};
	str_copy(d.employer, sizeof(d.employer), kbo);
	str_copy(d.worker, sizeof(d.worker), worker);
	return employ_declare(tmp.log, &by, &d, e) == 0 ? d.id : -1;
}

static void test_contingent_by_year(void **state)
{
	(void)state;
	struct error e;
	int h;
	assert_int_equal(employ_student_contingent(2022, &h, &e), 0);
	assert_int_equal(h, 475);
	assert_int_equal(employ_student_contingent(2023, &h, &e), 0);
	assert_int_equal(h, 600);
	assert_int_equal(employ_student_contingent(2024, &h, &e), 0);
	assert_int_equal(h, 600);
	assert_int_equal(employ_student_contingent(2025, &h, &e), 0);
	assert_int_equal(h, 650);
	assert_int_equal(employ_student_contingent(2016, &h, &e), -1);
	assert_string_equal(e.code, "no_contingent");
}

static void assert_hours_left(int year, int want)
{
	struct error e;
	int h;
	assert_int_equal(employ_student_hours_left(tmp.s, STUDENT, year, &h,
						   &e), 0);
	assert_int_equal(h, want);
}

static void test_student_hours_corrected_and_cancelled(void **state)
{
	(void)state;
	struct error e;
	int64_t a = declare(E1, STUDENT, "student", "2026-01-05",
			    "2026-03-31", 100, 0, 0, &e);
	int64_t b = declare(E2, STUDENT, "student", "2026-02-01",
			    "2026-02-28", 50, 0, 0, &e);
	assert_true(a > 0 && b > 0);
	/* Another year's hours do not count. */
	assert_true(declare(E1, STUDENT, "student", "2025-07-01",
			    "2025-08-31", 200, 0, 0, &e) > 0);
	assert_hours_left(2026, 650 - 150);
	/* A correction replaces the hours, it does not add to them. */
	int64_t a2 = declare(E1, STUDENT, "student", "2026-01-05",
			     "2026-03-31", 120, 0, a, &e);
	assert_true(a2 > 0);
	assert_hours_left(2026, 650 - 170);
	/* The old one was replaced: correcting it again is refused. */
	assert_int_equal(declare(E1, STUDENT, "student", "2026-01-05",
				 "2026-03-31", 10, 0, a, &e), -1);
	assert_string_equal(e.code, "already_replaced");
	/* Cancelling the correction takes the chain out. */
	int64_t c = cancel(E1, STUDENT, a2, &e);
	assert_true(c > 0);
	assert_hours_left(2026, 650 - 50);
	assert_int_equal(declare(E1, STUDENT, "student", "2026-01-05",
				 "2026-03-31", 10, 0, c, &e), -1);
	assert_string_equal(e.code, "declaration_cancelled");
	/* Another employer cannot correct E2's declaration. */
	assert_int_equal(declare(E1, STUDENT, "student", "2026-02-01",
				 "2026-02-28", 10, 0, b, &e), -1);
	assert_string_equal(e.code, "declaration_mismatch");
	assert_hours_left(2025, 650 - 200);
	assert_hours_left(2022, 475);
}

static void test_declaration_refused(void **state)
{
	(void)state;
	struct error e;
	struct {
		const char *kbo, *worker, *kind, *start, *end;
		int hours, fraction;
		const char *code;
	} bad[] = {
		{UNKNOWN_ORG, STUDENT, "ordinary", "2026-01-01", NULL, 0, 800,
		 "role_required"},
		{E1, "12345678901", "ordinary", "2026-01-01", NULL, 0, 800,
		 "invalid_insz"},
		{E1, "85073003328", "ordinary", "2026-01-01", NULL, 0, 800,
		 "unknown_worker"},
		{E1, FULL, "interim", "2026-01-01", NULL, 0, 800,
		 "invalid_field"},
		{E1, FULL, "ordinary", "2026-02-30", NULL, 0, 800,
		 "invalid_field"},
		{E1, FULL, "ordinary", "2026-02-01", "2026-01-31", 0, 800,
		 "invalid_field"},
		{E1, FULL, "ordinary", "2026-02-01", NULL, 0, 0,
		 "invalid_field"},
		{E1, FULL, "flexi", "2026-02-01", NULL, 0, 1001,
		 "invalid_field"},
		{E1, FULL, "flexi", "2026-02-01", NULL, 8, 500,
		 "invalid_field"},
		{E1, STUDENT, "student", "2026-02-01", NULL, 10, 0,
		 "invalid_field"},
		{E1, STUDENT, "student", "2026-12-01", "2027-01-31", 10, 0,
		 "invalid_field"},
		{E1, STUDENT, "student", "2026-02-01", "2026-02-01", 25, 0,
		 "invalid_field"},
		{E1, STUDENT, "student", "2026-02-01", "2026-02-02", 0, 0,
		 "invalid_field"},
	};
	for (size_t i = 0; i < KP_NELEM(bad); i++) {
		assert_int_equal(declare(bad[i].kbo, bad[i].worker,
					 bad[i].kind, bad[i].start,
					 bad[i].end, bad[i].hours,
					 bad[i].fraction, 0, &e),
				 -1);
		assert_string_equal(e.code, bad[i].code);
	}
	assert_int_equal(declare(E1, FULL, "ordinary", "2026-01-01", NULL, 0,
				 800, 999999, &e), -1);
	assert_string_equal(e.code, "unknown_declaration");
}

static void test_who_declares(void **state)
{
	(void)state;
	struct error e;
	struct employ_declaration d = {.employer = E1, .worker = STUDENT,
				       .kind = EMPLOY_ORDINARY,
				       .start = "2026-01-01", .fraction = 800};
	/* Acting for another organisation than the employer. */
	struct employ_declarant by = as(E2);
	assert_int_equal(employ_declare(tmp.log, &by, &d, &e), -1);
	assert_string_equal(e.code, "not_acting_for_employer");
	by = as(E1);
	by.level = 200;
	assert_int_equal(employ_declare(tmp.log, &by, &d, &e), -1);
	assert_string_equal(e.code, "insufficient_level");
	/* A person without the role at the employer. */
	by = as(E1);
	str_copy(by.insz, sizeof(by.insz), PART);
	assert_int_equal(employ_declare(tmp.log, &by, &d, &e), -1);
	assert_string_equal(e.code, "role_required");
	assert_string_equal(employ_refusal_role(tmp.s, &by, E1), "missing");
	/* The role expired. */
	clock_set_ms(TS_T0_MS + INT64_C(200) * 86400 * 1000);
	by = as(E1);
	assert_int_equal(employ_declare(tmp.log, &by, &d, &e), -1);
	assert_string_equal(e.code, "role_required");
	assert_string_equal(employ_refusal_role(tmp.s, &by, E1), "expired");
	ts_clock_start();
	assert_int_equal(employ_declare(tmp.log, &by, &d, &e), 0);
	/* Each attempt is recorded about the worker, refusals too. */
	struct audit_record *ev;
	int n = ts_events(tmp.log, "employment_declaration", &ev);
	static const char *const want[][3] = {
		{"employment_declaration", "refused", "not_acting_for_employer"},
		{"employment_declaration", "refused", "insufficient_level"},
		{"employment_declaration", "refused", "role_required"},
		{"employment_declaration", "refused", "role_required"},
		{"employment_declaration", "granted", ""},
	};
	assert_true(n >= 5);
	assert_true(ts_events_are(ev + n - 5, 5, want, KP_NELEM(want)));
	assert_string_equal(ev[n - 1].subject, STUDENT);
	free(ev);
}

/* A social secretariat's declarant declares for an affiliated employer,
 * as the secretariat; for no other, and not once the affiliation ended. */
static void test_secretariat_declares(void **state)
{
	(void)state;
	struct error e;
	struct employ_declaration d = {.employer = E1, .worker = STUDENT,
				       .kind = EMPLOY_STUDENT,
				       .start = "2026-07-01",
				       .end = "2026-07-31", .hours = 40};
	struct employ_declarant by = as(SEC);
	assert_int_equal(employ_declare(tmp.log, &by, &d, &e), 0);
	assert_string_equal(d.declared_via, SEC);
	assert_string_equal(d.declared_by, DECLARANT);
	struct audit_record *ev;
	int n = ts_events(tmp.log, "employment_declaration", &ev);
	assert_string_equal(ev[n - 1].actor, SEC);
	assert_string_equal(ev[n - 1].profile, "org:" SEC);
	free(ev);
	/* A correction by the secretariat is a declaration like any. */
	struct employ_declaration c = d;
	c.replaces = d.id;
	c.hours = 30;
	assert_int_equal(employ_declare(tmp.log, &by, &c, &e), 0);
	struct employ_declaration *l;
	assert_int_equal(employ_in_force(tmp.s, STUDENT, &l, &n, &e), 0);
	bool found = false;
	for (int i = 0; i < n; i++)
		if (l[i].id == c.id)
			found = strcmp(l[i].declared_via, SEC) == 0;
	free(l);
	assert_true(found);
	/* E2 is not the secretariat's client. */
	d.replaces = 0;
	str_copy(d.employer, sizeof(d.employer), E2);
	assert_true(ts_refusal_is("unaffiliated", employ_declare(tmp.log, &by,
						&d, &e), &e,
				  "not_acting_for_employer", NULL));
	/* Without the role at the secretariat. */
	str_copy(d.employer, sizeof(d.employer), E1);
	str_copy(by.insz, sizeof(by.insz), PART);
	assert_true(ts_refusal_is("no role", employ_declare(tmp.log, &by, &d,
							    &e), &e,
				  "role_required", NULL));
	assert_string_equal(employ_refusal_role(tmp.s, &by, E1), "missing");
	/* E3, an employer, is no secretariat of E1's. */
	by = as(E3);
	assert_true(ts_refusal_is("not a secretariat",
				  employ_declare(tmp.log, &by, &d, &e), &e,
				  "not_acting_for_employer", NULL));
	/* Once the affiliation ends, the secretariat declares no more. */
	struct org_affiliation *f;
	assert_int_equal(org_affiliations(tmp.s, E1, &f, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(org_affiliation_end(tmp.log, &ts_operator, E1,
					     f[0].id, NULL, &e), 0);
	free(f);
	by = as(SEC);
	assert_true(ts_refusal_is("ended", employ_declare(tmp.log, &by, &d,
							  &e), &e,
				  "not_acting_for_employer", NULL));
}

static void assert_flexi(const char *insz, const char *kbo, const char *date,
			 bool want, const char *reason)
{
	struct error e;
	bool ok;
	const char *why;
	assert_int_equal(employ_flexi_eligible(tmp.s, insz, kbo, date, &ok,
					       &why, &e), 0);
	assert_string_equal(why, reason);
	assert_int_equal(ok, want);
}

static void test_flexi(void **state)
{
	(void)state;
	struct error e;
	/* T = 2026 Q3; T-3 = 2025 Q4 (1 October to 31 December, 92 days). */
	const char *day = "2026-07-15";
	assert_flexi(RETIRED, E1, day, true, "pensioner");
	/* Not yet retired on that day. */
	assert_flexi(RETIRED, E1, "2024-04-30", false,
		     "insufficient_employment");
	assert_true(declare(E2, FULL, "ordinary", "2025-01-01", NULL, 0, 800,
			    0, &e) > 0);
	assert_flexi(FULL, E1, day, true, "employed_t3");
	/* Not with the employer of the 4/5 contract itself in T. */
	assert_flexi(FULL, E2, day, false, "main_employer");
	assert_true(declare(E2, PART, "ordinary", "2025-01-01", NULL, 0, 600,
			    0, &e) > 0);
	assert_flexi(PART, E1, day, false, "insufficient_employment");
	/* Flexi-jobs themselves do not count towards the 4/5. */
	assert_true(declare(E3, PART, "flexi", "2025-10-01", "2025-12-31", 0,
			    400, 0, &e) > 0);
	assert_flexi(PART, E1, day, false, "insufficient_employment");
	/* Two half-time contracts over the whole quarter: 1.0. */
	assert_true(declare(E2, HALVES, "ordinary", "2025-10-01",
			    "2025-12-31", 0, 500, 0, &e) > 0);
	assert_true(declare(E3, HALVES, "ordinary", "2025-09-01",
			    "2026-01-31", 0, 500, 0, &e) > 0);
	assert_flexi(HALVES, E1, day, true, "employed_t3");
	/* Full-time for 46 of the 92 days counts 0.5: with 0.3 over the
	 * whole quarter exactly 0.8; without it, too little. */
	int64_t half = declare(E2, SHORT, "ordinary", "2025-10-01",
			       "2025-11-15", 0, 1000, 0, &e);
	assert_true(half > 0);
	assert_flexi(SHORT, E1, day, false, "insufficient_employment");
	int64_t more = declare(E3, SHORT, "ordinary", "2025-10-01",
			       "2025-12-31", 0, 300, 0, &e);
	assert_true(more > 0);
	assert_flexi(SHORT, E1, day, true, "employed_t3");
	/* One day less of 0.3 and it falls short. */
	assert_true(declare(E3, SHORT, "ordinary", "2025-10-01",
			    "2025-12-30", 0, 300, more, &e) > 0);
	assert_flexi(SHORT, E1, day, false, "insufficient_employment");
	/* Before the first rule, nobody. */
	assert_flexi(FULL, E1, "2017-06-01", false, "no_rule");
	bool ok;
	const char *why;
	assert_int_equal(employ_flexi_eligible(tmp.s, "85073003328", E1, day,
					       &ok, &why, &e), -1);
	assert_string_equal(e.code, "unknown_person");
	assert_int_equal(employ_flexi_eligible(tmp.s, FULL, E1, "2026-13-01",
					       &ok, &why, &e), -1);
	assert_string_equal(e.code, "invalid_field");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_contingent_by_year),
		cmocka_unit_test(test_student_hours_corrected_and_cancelled),
		cmocka_unit_test(test_declaration_refused),
		cmocka_unit_test(test_who_declares),
		cmocka_unit_test(test_secretariat_declares),
		cmocka_unit_test(test_flexi),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
