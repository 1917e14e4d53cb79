/* Mandates: the month arithmetic of their validity, the types as data,
 * what a grant refuses (too long, an ineligible holder, stale conditions,
 * another profile), revoking only one's own, statuses against the clock,
 * and a holder's listing of the mandates active today, one event per
 * mandator shown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/support.h"
#include "mandate/mandate.h"
#include "org/org.h"

static struct ts_store tmp;

#define BAKERY "0412345614"   /* an employer */
#define SECRETARIAT "0456789034" /* a social secretariat */
#define RECRUIT "0812345603"  /* a recruitment agency */
#define PLAIN "1023456797"    /* registered, no category */
#define UNKNOWN "0203201340"  /* valid, not in the register */
#define SARA "83061814038"    /* mandate_consult at the bakery */
#define JAN "85073003328"
#define ELS "78052216473"

static int setup(void **state)
{
	(void)state;
	struct error e;
	ts_clock_start(); /* 2026-03-01 */
	if (ts_store_open(&tmp, "mandate") != 0)
		return -1;
	const char *orgs[][2] = {{BAKERY, "employer"},
				 {SECRETARIAT, "social_secretariat"},
				 {RECRUIT, "recruitment_agency"},
				 {PLAIN, NULL}};
	for (size_t i = 0; i < KP_NELEM(orgs); i++)
		if (org_organisation_add(tmp.log, &ts_operator, orgs[i][0],
					 "Org", &e) != 0 ||
		    (orgs[i][1] &&
		     org_category_add(tmp.log, &ts_operator, orgs[i][0],
				      orgs[i][1], &e) != 0))
			return fprintf(stderr, "%s: %s\n", orgs[i][0], e.code),
			       -1;
	if (ts_person(tmp.log, SARA, "Vermeulen", "Sara", "1983-06-18", &e))
		return -1;
	struct org_role r = {.kbo = BAKERY, .insz = SARA,
			     .role = "mandate_consult",
			     .valid_until = "2027-01-31"};
	if (org_role_grant(tmp.log, &ts_operator, &r, &e) != 0)
		return fprintf(stderr, "role: %s\n", e.code), -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	clock_reset();
	return ts_store_close(&tmp);
}

static struct mandate_citizen citizen(const char *insz)
{
	struct mandate_citizen c;
	memset(&c, 0, sizeof(c));
	str_copy(c.insz, sizeof(c.insz), insz);
	str_copy(c.profile, sizeof(c.profile), "self");
	c.level = 400;
	c.channel = AUDIT_CHANNEL_API;
	return c;
}

static const char *version(void)
{
	static struct mandate_conditions c;
	struct error e;
	assert_int_equal(mandate_conditions_get("precontractual", NULL, &c,
						&e), 0);
	return c.version;
}

/* Grant data_set to holder until until (NULL: the longest): 0 with *m,
 * or -1 with *e. */
static int grant(const char *insz, const char *data_set, const char *holder,
		 const char *until, struct mandate *m, struct error *e)
{
	struct mandate_citizen c = citizen(insz);
	struct mandate_request r = {"precontractual", data_set, holder, until,
				    version()};
	return mandate_grant(tmp.log, &c, &r, m, e);
}

static void set_day(const char *date)
{
	clock_set_ms(ts_day(date) * 86400 * 1000 + 10 * 3600 * 1000);
}

static void date_is(struct date d, const char *want)
{
	char s[DATE_LEN];
	date_format(d, s);
	assert_string_equal(s, want);
}

static void test_months(void **state)
{
	(void)state;
	struct date d;
	assert_int_equal(date_parse("2026-01-15", &d), 0);
	date_is(date_add_months(d, 1), "2026-02-15");
	assert_int_equal(date_parse("2026-01-31", &d), 0);
	date_is(date_add_months(d, 1), "2026-02-28");
	assert_int_equal(date_parse("2028-01-31", &d), 0);
	date_is(date_add_months(d, 1), "2028-02-29"); /* a leap year */
	assert_int_equal(date_parse("2027-11-30", &d), 0);
	date_is(date_add_months(d, 3), "2028-02-29");
	assert_int_equal(date_parse("2100-11-30", &d), 0);
	date_is(date_add_months(d, 3), "2101-02-28");
	assert_int_equal(date_parse("2026-12-31", &d), 0);
	date_is(date_add_months(d, 1), "2027-01-31");
	assert_int_equal(date_parse("2026-10-31", &d), 0);
	date_is(date_add_months(d, 4), "2027-02-28");

	assert_int_equal(date_parse("2026-01-31", &d), 0);
	assert_int_equal(mandate_max_until("precontractual",
					   "flexi_eligibility", d, &d), 0);
	date_is(d, "2026-02-28");
	assert_int_equal(date_parse("2026-11-30", &d), 0);
	assert_int_equal(mandate_max_until("precontractual",
					   "student_contingent", d, &d), 0);
	date_is(d, "2027-02-28");
	assert_int_equal(mandate_max_until("precontractual", "pension", d,
					   &d), -1);
}

static void test_types_as_data(void **state)
{
	(void)state;
	int n;
	struct mandate_data_set *d = mandate_data_sets(&n);
	assert_int_equal(n, 2);
	assert_string_equal(d[0].code, "student_contingent");
	assert_int_equal(d[0].max_months, 3);
	assert_string_equal(d[1].code, "flexi_eligibility");
	assert_int_equal(d[1].max_months, 1);
	free(d);
	char c[8][MANDATE_CODE_LEN];
	assert_int_equal(mandate_holder_categories("precontractual", c, 8), 3);
	assert_string_equal(c[2], "potential_employer");
	assert_int_equal(mandate_holder_categories("other", c, 8), 0);

	/* One version, four translations of it. */
	struct mandate_conditions nl, x;
	struct error e;
	assert_int_equal(mandate_conditions_get("precontractual", "nl", &nl,
						&e), 0);
	assert_non_null(strstr(nl.text, "3 maanden"));
	const char *langs[] = {"fr", "de", "en"};
	for (size_t i = 0; i < KP_NELEM(langs); i++) {
		assert_int_equal(mandate_conditions_get("precontractual",
							langs[i], &x, &e), 0);
		assert_string_equal(x.version, nl.version);
		assert_string_not_equal(x.text, nl.text);
	}
	assert_int_equal(mandate_conditions_get("precontractual", "es", &x,
						&e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(mandate_conditions_get("other", "nl", &x, &e), -1);
	assert_string_equal(e.code, "unknown_mandate_type");
}

static void test_grant_validity(void **state)
{
	(void)state;
	struct mandate m;
	struct error e;
	set_day("2026-01-31");
	assert_int_equal(grant(JAN, "flexi_eligibility", BAKERY, NULL, &m, &e),
			 0);
	assert_string_equal(m.valid_from, "2026-01-31");
	assert_string_equal(m.valid_until, "2026-02-28");
	assert_string_equal(m.holder_category, "potential_employer");
	assert_int_equal(grant(JAN, "flexi_eligibility", BAKERY, "2026-03-01",
			       &m, &e), -1);
	assert_string_equal(e.code, "validity_too_long");
	assert_int_equal(grant(JAN, "student_contingent", BAKERY, "2026-04-30",
			       &m, &e), 0);
	assert_int_equal(grant(JAN, "student_contingent", BAKERY, "2026-05-01",
			       &m, &e), -1);
	assert_string_equal(e.code, "validity_too_long");
	assert_int_equal(grant(JAN, "student_contingent", BAKERY, "2026-01-30",
			       &m, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(grant(JAN, "student_contingent", BAKERY, "2026-02-10",
			       &m, &e), 0);
	assert_string_equal(m.valid_until, "2026-02-10");
	assert_int_equal(grant(JAN, "pension", BAKERY, NULL, &m, &e), -1);
	assert_string_equal(e.code, "invalid_field");

	struct audit_record *ev;
	int n = ts_events(tmp.log, "mandate_grant", &ev);
	assert_true(n >= 4);
	assert_string_equal(ev[0].subject, JAN);
	assert_string_equal(ev[0].user, JAN);
	assert_string_equal(ev[0].actor, "");
	assert_string_equal(ev[0].data_type, "flexi_eligibility");
	assert_non_null(strstr(ev[0].purpose, "to " BAKERY " until 2026-02-28"));
	assert_string_equal(ev[0].legal_basis, MANDATE_LEGAL_BASIS);
	assert_string_equal(ev[1].outcome, AUDIT_REFUSED);
	assert_string_equal(ev[1].reason, "validity_too_long");
	free(ev);
}

static void test_holder_eligible(void **state)
{
	(void)state;
	struct mandate m;
	struct error e;
	assert_int_equal(grant(JAN, "flexi_eligibility", UNKNOWN, NULL, &m,
			       &e), -1);
	assert_string_equal(e.code, "holder_not_eligible");
	assert_int_equal(e.kind, ERR_INVALID);
	assert_int_equal(grant(JAN, "flexi_eligibility", "0412345615", NULL,
			       &m, &e), -1);
	assert_string_equal(e.code, "invalid_kbo");
	const char *want[][2] = {{SECRETARIAT, "social_mandatary"},
				 {RECRUIT, "recruitment_agency"},
				 {BAKERY, "potential_employer"},
				 /* Point 5: any entity with an enterprise
				  * number is a potential employer. */
				 {PLAIN, "potential_employer"}};
	for (size_t i = 0; i < KP_NELEM(want); i++) {
		assert_int_equal(grant(JAN, "flexi_eligibility", want[i][0],
				       NULL, &m, &e), 0);
		assert_string_equal(m.holder_category, want[i][1]);
	}
}

static void test_refusals(void **state)
{
	(void)state;
	struct mandate m;
	struct error e;
	struct mandate_citizen c = citizen(JAN);
	struct mandate_request r = {"precontractual", "flexi_eligibility",
				    BAKERY, NULL, "0-old"};
	assert_int_equal(mandate_grant(tmp.log, &c, &r, &m, &e), -1);
	assert_string_equal(e.code, "conditions_changed");
	assert_int_equal(e.kind, ERR_CONFLICT);
	r.conditions_version = version();
	str_copy(c.profile, sizeof(c.profile), "child:" ELS);
	assert_int_equal(mandate_grant(tmp.log, &c, &r, &m, &e), -1);
	assert_string_equal(e.code, "self_profile_required");
	str_copy(c.profile, sizeof(c.profile), "self");
	c.level = 200;
	assert_int_equal(mandate_grant(tmp.log, &c, &r, &m, &e), -1);
	assert_string_equal(e.code, "insufficient_level");
	struct mandate *list;
	int n;
	assert_int_equal(mandate_list_own(tmp.s, &c, &list, &n, &e), -1);
	assert_int_equal(n, 0);
}

static void test_revoke_own_only(void **state)
{
	(void)state;
	struct mandate m;
	struct error e;
	assert_int_equal(grant(JAN, "flexi_eligibility", BAKERY, NULL, &m, &e),
			 0);
	struct mandate_citizen els = citizen(ELS), jan = citizen(JAN);
	assert_int_equal(mandate_revoke(tmp.log, &els, m.id, &e), -1);
	assert_string_equal(e.code, "unknown_mandate");
	assert_int_equal(mandate_revoke(tmp.log, &jan, m.id + 1000, &e), -1);
	assert_string_equal(e.code, "unknown_mandate");
	assert_int_equal(mandate_revoke(tmp.log, &jan, m.id, &e), 0);
	assert_int_equal(mandate_revoke(tmp.log, &jan, m.id, &e), 0);
	struct mandate *list;
	int n;
	assert_int_equal(mandate_list_own(tmp.s, &jan, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].status, "revoked");
	free(list);
	struct audit_record *ev;
	const char *const want[][3] = {{"mandate_revoke", AUDIT_REFUSED,
					"unknown_mandate"},
				       {"mandate_revoke", AUDIT_REFUSED,
					"unknown_mandate"},
				       {"mandate_revoke", AUDIT_GRANTED, ""}};
	n = ts_events(tmp.log, "mandate_revoke", &ev);
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	free(ev);
	/* Kept: a mandate is never deleted. */
	assert_int_equal(ts_exec(tmp.s, "DELETE FROM mandate"),
			 STORE_CONSTRAINT);
	assert_int_equal(ts_exec(tmp.s, "UPDATE mandate SET "
					"valid_until = '2099-01-01'"),
			 STORE_CONSTRAINT);
}

static void test_statuses(void **state)
{
	(void)state;
	struct mandate m;
	struct error e;
	set_day("2026-03-10");
	assert_int_equal(grant(JAN, "flexi_eligibility", BAKERY, NULL, &m, &e),
			 0);
	assert_string_equal(m.valid_until, "2026-04-10");
	struct mandate_citizen jan = citizen(JAN);
	struct mandate *list;
	int n;
	set_day("2026-04-10");
	assert_int_equal(mandate_list_own(tmp.s, &jan, &list, &n, &e), 0);
	assert_string_equal(list[0].status, "active"); /* its last day */
	free(list);
	set_day("2026-04-11");
	assert_int_equal(mandate_list_own(tmp.s, &jan, &list, &n, &e), 0);
	assert_string_equal(list[0].status, "expired");
	free(list);
	assert_int_equal(mandate_revoke(tmp.log, &jan, m.id, &e), -1);
	assert_string_equal(e.code, "mandate_expired");
}

static void test_holder_listing(void **state)
{
	(void)state;
	struct mandate m, gone;
	struct error e;
	set_day("2026-03-10");
	assert_int_equal(grant(JAN, "flexi_eligibility", BAKERY, "2026-03-12",
			       &m, &e), 0);
	assert_int_equal(grant(ELS, "student_contingent", BAKERY, NULL, &m,
			       &e), 0);
	assert_int_equal(grant(ELS, "flexi_eligibility", BAKERY, NULL, &gone,
			       &e), 0);
	assert_int_equal(grant(JAN, "student_contingent", SECRETARIAT, NULL,
			       &m, &e), 0);
	struct mandate_citizen els = citizen(ELS);
	assert_int_equal(mandate_revoke(tmp.log, &els, gone.id, &e), 0);
	set_day("2026-03-13");

	struct audit_actor sara = {AUDIT_CHANNEL_API, NULL, SARA, "self"};
	struct mandate *list;
	int n;
	assert_int_equal(mandate_list_held(tmp.log, &sara, 400, BAKERY, &list,
					   &n, &e), 0);
	assert_int_equal(n, 1); /* Jan's ended, Els's flexi revoked */
	assert_string_equal(list[0].mandator, ELS);
	assert_string_equal(list[0].data_set, "student_contingent");
	free(list);
	struct audit_record *ev;
	int k = ts_events(tmp.log, "mandate_list", &ev);
	assert_int_equal(k, 1);
	assert_string_equal(ev[0].subject, ELS);
	assert_string_equal(ev[0].actor, BAKERY);
	assert_string_equal(ev[0].user, SARA);
	free(ev);

	/* Not at an organisation where she holds the role; not below 400. */
	assert_int_equal(mandate_list_held(tmp.log, &sara, 400, SECRETARIAT,
					   &list, &n, &e), -1);
	assert_string_equal(e.code, "role_required");
	assert_int_equal(mandate_list_held(tmp.log, &sara, 200, BAKERY, &list,
					   &n, &e), -1);
	assert_string_equal(e.code, "insufficient_level");
}

/* A consultation answers one data set, under an active mandate only, for
 * a user with the role in a circle of trust; each refusal has its code,
 * and every consultation is an event about the mandator with a ticket. */
static void test_consultation(void **state)
{
	(void)state;
	struct mandate m;
	struct error e;
	set_day("2026-03-10");
	const struct audit_actor sara = {AUDIT_CHANNEL_API, BAKERY, SARA,
					 "org:" BAKERY};
	char ticket[UUID_LEN];
	json_t *d;
	assert_int_equal(mandate_consult(tmp.log, &sara, 400, JAN,
					 "student_contingent", ticket, &d, &e),
			 -1);
	assert_string_equal(e.code, "circle_of_trust_missing");
	assert_int_equal(org_circle_accept(tmp.log, &ts_operator, BAKERY,
					   "REG-1", &e), 0);
	assert_int_equal(mandate_consult(tmp.log, &sara, 300, JAN,
					 "student_contingent", ticket, &d, &e),
			 -1);
	assert_string_equal(e.code, "insufficient_level");
	assert_int_equal(mandate_consult(tmp.log, &sara, 400, JAN,
					 "student_contingent", ticket, &d, &e),
			 -1);
	assert_string_equal(e.code, "no_mandate");
	assert_int_equal(grant(JAN, "student_contingent", BAKERY, "2026-04-10",
			       &m, &e), 0);
	assert_int_equal(mandate_consult(tmp.log, &sara, 400, JAN,
					 "student_contingent", ticket, &d, &e),
			 0);
	/* No declarations: the whole contingent of 2026, and nothing else. */
	assert_int_equal(json_integer_value(json_object_get(d, "hours_left")),
			 650);
	assert_int_equal(json_object_size(d), 2);
	json_decref(d);
	assert_int_equal(strlen(ticket), 36);
	/* Past its last day the mandate opens nothing. */
	set_day("2026-04-11");
	assert_int_equal(mandate_consult(tmp.log, &sara, 400, JAN,
					 "student_contingent", ticket, &d, &e),
			 -1);
	assert_string_equal(e.code, "mandate_expired");
	struct mandate_citizen jan = citizen(JAN);
	assert_int_equal(grant(JAN, "student_contingent", BAKERY, NULL, &m,
			       &e), 0);
	assert_int_equal(mandate_revoke(tmp.log, &jan, m.id, &e), 0);
	assert_int_equal(mandate_consult(tmp.log, &sara, 400, JAN,
					 "student_contingent", ticket, &d, &e),
			 -1);
	assert_string_equal(e.code, "mandate_revoked");
	struct audit_record *ev;
	int n = ts_events(tmp.log, "mandate_consult", &ev);
	static const char *const want[][3] = {
		{"mandate_consult", "refused", "circle_of_trust_missing"},
		{"mandate_consult", "refused", "insufficient_level"},
		{"mandate_consult", "refused", "no_mandate"},
		{"mandate_consult", "granted", ""},
		{"mandate_consult", "refused", "mandate_expired"},
		{"mandate_consult", "refused", "mandate_revoked"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[3].subject, JAN);
	assert_string_equal(ev[3].actor, BAKERY);
	assert_string_equal(ev[3].user, SARA);
	assert_string_equal(ev[3].data_type, "student_contingent");
	assert_int_equal(strlen(ev[3].ticket), 36);
	free(ev);
}

/* The holder's own system on the network: its certificate stands for
 * the key (no level asked), the person it names needs the role, and the
 * event records both. */
static void test_consultation_network(void **state)
{
	(void)state;
	struct mandate m;
	struct error e;
	set_day("2026-03-10");
	assert_int_equal(org_circle_accept(tmp.log, &ts_operator, BAKERY,
					   "REG-1", &e), 0);
	assert_int_equal(grant(JAN, "student_contingent", BAKERY, NULL, &m,
			       &e), 0);
	const struct audit_actor nobody = {AUDIT_CHANNEL_NETWORK, BAKERY, NULL,
					   NULL};
	const struct audit_actor for_sara = {AUDIT_CHANNEL_NETWORK, BAKERY,
					     SARA, NULL};
	const struct audit_actor for_jan = {AUDIT_CHANNEL_NETWORK, BAKERY, JAN,
					    NULL};
	char ticket[UUID_LEN];
	json_t *d;
	assert_int_equal(mandate_consult(tmp.log, &nobody, 0, JAN,
					 "student_contingent", ticket, &d, &e),
			 -1);
	assert_string_equal(e.code, "on_behalf_of_required");
	assert_int_equal(mandate_consult(tmp.log, &for_jan, 0, JAN,
					 "student_contingent", ticket, &d, &e),
			 -1);
	assert_string_equal(e.code, "role_required");
	assert_int_equal(mandate_consult(tmp.log, &for_sara, 0, JAN,
					 "student_contingent", ticket, &d, &e),
			 0);
	assert_int_equal(json_integer_value(json_object_get(d, "hours_left")),
			 650);
	json_decref(d);
	/* The same level 0 in the API is refused: only the certificate
	 * stands for the key. */
	const struct audit_actor api = {AUDIT_CHANNEL_API, BAKERY, SARA,
					"org:" BAKERY};
	assert_int_equal(mandate_consult(tmp.log, &api, 0, JAN,
					 "student_contingent", ticket, &d, &e),
			 -1);
	assert_string_equal(e.code, "insufficient_level");
	struct audit_record *ev;
	int n = ts_events(tmp.log, "mandate_consult", &ev);
	static const char *const want[][3] = {
		{"mandate_consult", "refused", "on_behalf_of_required"},
		{"mandate_consult", "refused", "role_required"},
		{"mandate_consult", "granted", ""},
		{"mandate_consult", "refused", "insufficient_level"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[2].channel, AUDIT_CHANNEL_NETWORK);
	assert_string_equal(ev[2].actor, BAKERY);
	assert_string_equal(ev[2].user, SARA);
	assert_string_equal(ev[1].user, JAN);
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_months),
		cmocka_unit_test(test_types_as_data),
		cmocka_unit_test_setup_teardown(test_grant_validity, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_holder_eligible, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_revoke_own_only, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_statuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_consultation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_holder_listing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_consultation_network,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
