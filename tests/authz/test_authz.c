/* Authorizations: publishing them, and the decision with its precise
 * reasons. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/support.h"
#include "authz/authz.h"
#include "directory/directory.h"

static struct ts_store tmp;
static struct store *s;

static int setup(void **state)
{
	(void)state;
	struct error e;
	if (ts_store_open(&tmp, "authz") != 0)
		return -1;
	s = tmp.s;
	/* The requester actor type is known by its institution, which comes
	 * first (the demo's health insurance fund). */
	if (ts_institution(tmp.log, "0411111140", "health_insurance_fund",
			   "health_insurance", &e) < 0)
		return -1;
	directory_data_type_add(tmp.log, &ts_operator, "identification",
				"national_register", "identification data",
				&e);
	directory_data_type_add(tmp.log, &ts_operator, "family_allowance",
				"family_allowance_fund", "allowances", &e);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return ts_store_close(&tmp);
}

static struct authz_authorization authorization(const char *ref,
						const char *actor, int capacity,
						const char *type,
						const char *purpose,
						const char *from,
						const char *until, int phase)
{
	struct authz_authorization a;
	memset(&a, 0, sizeof(a));
	str_copy(a.reference, sizeof(a.reference), ref);
	str_copy(a.requester_actor_type, sizeof(a.requester_actor_type), actor);
	a.capacity = capacity;
	str_copy(a.data_type, sizeof(a.data_type), type);
	str_copy(a.purpose, sizeof(a.purpose), purpose);
	str_copy(a.valid_from, sizeof(a.valid_from), from);
	str_copy(a.valid_until, sizeof(a.valid_until), until);
	a.min_phase = phase;
	return a;
}

static int64_t day(const char *t)
{
	struct date d;
	date_parse(t, &d);
	return date_to_days(d);
}

static void decisions_name_the_reason(void **state)
{
	(void)state;
	struct error e;
	struct authz_authorization a = authorization(
		"IVC/KSZG/26/071", "health_insurance_fund", 1, "identification",
		"health_insurance_rights", "2025-01-01", "2027-12-31", 2);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), 0);
	struct authz_authorization got;
	assert_int_equal(authz_decide(s, "health_insurance_fund", 1,
				      "identification", "health_insurance_rights",
				      day("2026-06-01"), &got), AUTHZ_GRANTED);
	assert_string_equal(got.reference, "IVC/KSZG/26/071");
	assert_int_equal(got.min_phase, 2);
	assert_int_equal(authz_decide(s, "health_insurance_fund", 1,
				      "family_allowance", "health_insurance_rights",
				      day("2026-06-01"), NULL), AUTHZ_NO_DATA_TYPE);
	assert_int_equal(authz_decide(s, "family_allowance_fund", 1,
				      "identification", "health_insurance_rights",
				      day("2026-06-01"), NULL), AUTHZ_NO_DATA_TYPE);
	assert_int_equal(authz_decide(s, "health_insurance_fund", 2,
				      "identification", "health_insurance_rights",
				      day("2026-06-01"), NULL), AUTHZ_NO_CAPACITY);
	assert_int_equal(authz_decide(s, "health_insurance_fund", 1,
				      "identification", "marketing",
				      day("2026-06-01"), NULL), AUTHZ_NO_PURPOSE);
	assert_int_equal(authz_decide(s, "health_insurance_fund", 1,
				      "identification", "health_insurance_rights",
				      day("2028-01-01"), NULL), AUTHZ_NOT_VALID);
	assert_int_equal(authz_decide(s, "health_insurance_fund", 1,
				      "identification", "health_insurance_rights",
				      day("2024-12-31"), NULL), AUTHZ_NOT_VALID);
	assert_string_equal(authz_answer_code(AUTHZ_NO_DATA_TYPE), "not_authorized");
	assert_string_equal(authz_answer_code(AUTHZ_NOT_VALID),
			    "authorization_not_valid");
	/* A second, open-ended authorization grants where the first
	 * expired: the best answer wins. */
	a = authorization("IVC/KSZG/27/101", "health_insurance_fund", 1,
			  "identification", "health_insurance_rights",
			  "2028-01-01", "", 1);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), 0);
	assert_int_equal(authz_decide(s, "health_insurance_fund", 1,
				      "identification", "health_insurance_rights",
				      day("2030-01-01"), &got), AUTHZ_GRANTED);
	assert_string_equal(got.reference, "IVC/KSZG/27/101");
	assert_string_equal(got.valid_until, "");
	struct authz_authorization *list;
	int n;
	assert_int_equal(authz_list(s, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].reference, "IVC/KSZG/26/071");
	assert_string_equal(list[0].valid_until, "2027-12-31");
	free(list);
}

static void bad_authorizations(void **state)
{
	(void)state;
	struct error e;
	struct authz_authorization a = authorization(
		"IVC/1", "health_insurance_fund", 1, "unknown_type", "p",
		"2025-01-01", "", 1);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), -1);
	assert_string_equal(e.code, "unknown_data_type");
	a = authorization("IVC/1", "health_insurance_fund", 1, "identification",
			  "p", "2025-01-01", "2024-01-01", 1);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), -1);
	assert_string_equal(e.code, "invalid_period");
	a = authorization("IVC/1", "health_insurance_fund", 901,
			  "identification", "p", "2025-01-01", "", 1);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), -1);
	assert_string_equal(e.code, "unknown_capacity");
	a = authorization("IVC 1", "health_insurance_fund", 1, "identification",
			  "p", "2025-01-01", "", 1);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), -1);
	a = authorization("IVC/1", "Health Fund", 1, "identification", "p",
			  "2025-01-01", "", 1);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), -1);
	a = authorization("IVC/1", "health_insurance_fund", 1, "identification",
			  "p", "2025-01-01", "", 1);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), 0);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), -1);
	assert_string_equal(e.code, "authorization_exists");

	/* Every attempt is recorded, by the operator; only the one granted
	 * left a row. */
	struct audit_record *ev;
	int n = ts_events(tmp.log, "authorization_add", &ev);
	const char *const want[][3] = {
		{"authorization_add", "refused", "unknown_data_type"},
		{"authorization_add", "refused", "invalid_period"},
		{"authorization_add", "refused", "unknown_capacity"},
		{"authorization_add", "refused", "invalid_field"},
		{"authorization_add", "refused", "invalid_field"},
		{"authorization_add", "granted", ""},
		{"authorization_add", "refused", "authorization_exists"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[5].channel, "cli");
	assert_string_equal(ev[5].profile, "operator");
	assert_string_equal(ev[5].legal_basis, "IVC/1");
	/* A refused reference is recorded as it was given. */
	assert_string_equal(ev[3].purpose, "IVC 1");
	free(ev);
	struct authz_authorization *list;
	assert_int_equal(authz_list(s, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	free(list);
}

/* An actor type no institution has is refused, named with the known
 * ones, recorded, and stores nothing; once an institution of that type is
 * registered, the same deliberation is published. */
static void unknown_actor_types(void **state)
{
	(void)state;
	struct error e;
	assert_int_equal(ts_deliberation(tmp.log, "IVC/KSZG/26/300",
					 "health_insurence_fund", 1,
					 "identification", "p", "2025-01-01", 1,
					 &e), -1);
	assert_int_equal(e.kind, ERR_INVALID);
	assert_string_equal(e.code, "unknown_actor_type");
	assert_non_null(strstr(e.detail, "known: health_insurance_fund)"));
	struct authz_authorization a = authorization(
		"IVC/KSZG/26/301", "public_social_welfare_centre", 1,
		"identification", "p", "2025-01-01", "", 1);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), -1);
	assert_string_equal(e.code, "unknown_actor_type");
	struct authz_authorization *list;
	int n;
	assert_int_equal(authz_list(s, &list, &n, &e), 0);
	assert_int_equal(n, 0);
	free(list);

	assert_true(ts_institution(tmp.log, "0212312313",
				   "public_social_welfare_centre",
				   "social_assistance", &e) > 0);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), 0);
	assert_int_equal(authz_decide(s, "public_social_welfare_centre", 1,
				      "identification", "p",
				      day("2026-01-01"), NULL), AUTHZ_GRANTED);
	a = authorization("IVC/KSZG/26/300", "health_insurence_fund", 1,
			  "identification", "p", "2025-01-01", "", 1);
	assert_int_equal(authz_add(tmp.log, &ts_operator, &a, &e), -1);
	assert_non_null(strstr(e.detail, "health_insurance_fund, "
					 "public_social_welfare_centre"));

	struct audit_record *ev;
	n = ts_events(tmp.log, "authorization_add", &ev);
	const char *const want[][3] = {
		{"authorization_add", "refused", "unknown_actor_type"},
		{"authorization_add", "refused", "unknown_actor_type"},
		{"authorization_add", "granted", ""},
		{"authorization_add", "refused", "unknown_actor_type"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	free(ev);
	assert_int_equal(authz_list(s, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].reference, "IVC/KSZG/26/301");
	free(list);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(decisions_name_the_reason, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_authorizations, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_actor_types, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
