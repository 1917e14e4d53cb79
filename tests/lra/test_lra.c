/* The registration office: who may act as an officer, the conditions they
 * accept once, the search and its events, identification records, and
 * which identifications lead to an activation code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "support/support.h"
#include "auth/auth.h"
#include "lra/lra.h"
#include "org/org.h"
#include "registry/registry.h"

static struct ts_store tmp;
static struct auth *au;

#define OFFICE "0207446574"   /* a municipality */
#define OTHER "0203201340"    /* an employer, no registration office */
#define OFFICER "78052216473" /* Els Wouters */
#define JAN "85073003328"

static int setup(void **state)
{
	(void)state;
	struct error e;
	ts_clock_start();
	if (ts_store_open(&tmp, "lra") != 0)
		return -1;
	/* A registration code of 2 minutes: the letter must say so. */
	struct auth_options o = {.argon2_ops = crypto_pwhash_OPSLIMIT_MIN,
				 .argon2_mem = crypto_pwhash_MEMLIMIT_MIN,
				 .registration_code_ttl_s = 120};
	rand_bytes(o.master_key, sizeof(o.master_key));
	if (auth_open(tmp.log, &o, &au, &e) != 0 ||
	    ts_person(tmp.log, OFFICER, "Wouters", "Els", "1978-05-22", &e) ||
	    ts_person(tmp.log, JAN, "Peeters", "Jan", "1985-07-30", &e) ||
	    org_organisation_add(tmp.log, &ts_operator, OFFICE, "Gemeente",
				 &e) ||
	    org_category_add(tmp.log, &ts_operator, OFFICE, "municipality",
			     &e) ||
	    org_organisation_add(tmp.log, &ts_operator, OTHER, "Werkgever",
				 &e))
		return -1;
	struct org_role r = {.kbo = OFFICE, .insz = OFFICER,
			     .role = "lra_officer",
			     .valid_until = "2026-06-30"};
	return org_role_grant(tmp.log, &ts_operator, &r, &e);
}

static int teardown(void **state)
{
	(void)state;
	auth_close(au);
	clock_reset();
	return ts_store_close(&tmp);
}

static struct lra_officer officer(const char *office, int level)
{
	struct lra_officer o;
	memset(&o, 0, sizeof(o));
	str_copy(o.insz, sizeof(o.insz), OFFICER);
	str_copy(o.office, sizeof(o.office), office);
	snprintf(o.profile, sizeof(o.profile), "org:%s", office);
	o.level = level;
	o.channel = AUDIT_CHANNEL_API;
	return o;
}

/* The employer made a registration office too, the officer its officer. */
static void second_office(void)
{
	struct error e;
	assert_int_equal(org_category_add(tmp.log, &ts_operator, OTHER,
					  "registration_office", &e), 0);
	struct org_role r = {.kbo = OTHER, .insz = OFFICER,
			     .role = "lra_officer",
			     .valid_until = "2026-06-30"};
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &r, &e), 0);
}

static void accept(const struct lra_officer *o)
{
	struct lra_conditions c;
	struct error e;
	assert_int_equal(lra_conditions_get(tmp.log, o, &c, &e),
			 0);
	assert_int_equal(lra_conditions_accept(tmp.log, o, c.version, &e), 0);
}

/* Only an eID session, for a registration office, with a valid role. */
static void who_may_act(void **state)
{
	(void)state;
	struct store *s = audit_store(tmp.log);
	struct error e;
	struct lra_officer o = officer(OFFICE, 400);
	assert_int_equal(lra_officer_check(s, &o, false, &e), -1);
	assert_string_equal(e.code, "insufficient_level");
	o = officer(OTHER, 500);
	assert_int_equal(lra_officer_check(s, &o, false, &e), -1);
	assert_string_equal(e.code, "not_a_registration_office");
	o = officer("", 500);
	assert_int_equal(lra_officer_check(s, &o, false, &e), -1);
	assert_string_equal(e.code, "role_required");
	o = officer(OFFICE, 500);
	assert_int_equal(lra_officer_check(s, &o, false, &e), 0);
	/* The conditions come first. */
	assert_int_equal(lra_officer_check(s, &o, true, &e), -1);
	assert_string_equal(e.code, "conditions_not_accepted");
	accept(&o);
	assert_int_equal(lra_officer_check(s, &o, true, &e), 0);
	/* A role ends: expired, and said so. */
	clock_set_ms(TS_T0_MS + 200LL * 86400 * 1000);
	assert_int_equal(lra_officer_check(s, &o, true, &e), -1);
	assert_string_equal(e.code, "role_required");
	assert_string_equal(lra_refusal_role(s, &o), "expired");
	/* An operator's office of another kind works once marked. */
	clock_set_ms(TS_T0_MS);
	second_office();
	o = officer(OTHER, 500);
	assert_int_equal(lra_officer_check(s, &o, true, &e), 0);
}

/* Accepted once, with the text and version and the date; a stale version
 * is refused. */
static void conditions_once(void **state)
{
	(void)state;
	struct error e;
	struct lra_officer o = officer(OFFICE, 500);
	struct lra_conditions c;
	assert_int_equal(lra_conditions_get(tmp.log, &o, &c, &e),
			 0);
	assert_false(c.accepted);
	assert_non_null(strstr(c.text, "tien jaar"));
	assert_int_equal(lra_conditions_accept(tmp.log, &o, "0-old", &e), -1);
	assert_string_equal(e.code, "conditions_changed");
	accept(&o);
	assert_int_equal(lra_conditions_get(tmp.log, &o, &c, &e),
			 0);
	assert_true(c.accepted);
	assert_int_equal(c.accepted_at, TS_T0_MS / 1000);
	struct audit_record *ev;
	int n = ts_events(tmp.log, "lra_conditions_accept", &ev);
	static const char *const want[][3] = {
		{"lra_conditions_accept", "refused", "conditions_changed"},
		{"lra_conditions_accept", "granted", ""},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[1].actor, OFFICE);
	assert_string_equal(ev[1].user, OFFICER);
	free(ev);
}

/* Every person returned is an event about them; a refused search names
 * nobody; more than twenty is refused. */
static void search_is_recorded(void **state)
{
	(void)state;
	struct error e;
	struct lra_officer o = officer(OFFICE, 500);
	struct registry_person *p;
	int n;
	struct lra_query q = {.purpose = "activation code", .insz = JAN};
	assert_int_equal(lra_search(tmp.log, &o, &q, &p, &n, &e), -1);
	assert_string_equal(e.code, "conditions_not_accepted");
	accept(&o);
	assert_int_equal(lra_search(tmp.log, &o, &q, &p, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(p[0].last_name, "Peeters");
	free(p);
	q = (struct lra_query){.purpose = "activation code",
			       .last_name = "PEETERS", .first_name = "jan",
			       .birth_date = "1985-07-30"};
	assert_int_equal(lra_search(tmp.log, &o, &q, &p, &n, &e), 0);
	assert_int_equal(n, 1);
	free(p);
	q.purpose = "";
	assert_int_equal(lra_search(tmp.log, &o, &q, &p, &n, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	/* Twenty-one namesakes born the same day: refine the search. */
	for (int seq = 1; seq <= 41; seq += 2) {
		char insz[INSZ_BUF];
		long long base = 10101000LL + seq; /* 010101 SSS */
		snprintf(insz, sizeof(insz), "%09lld%02lld", base,
			 97 - (2000000000LL + base) % 97);
		assert_int_equal(ts_person(tmp.log, insz, "Janssens", "Lucas",
					   "2001-01-01", &e), 0);
	}
	q = (struct lra_query){.purpose = "activation code",
			       .last_name = "Janssens", .first_name = "Lucas",
			       .birth_date = "2001-01-01"};
	assert_int_equal(lra_search(tmp.log, &o, &q, &p, &n, &e), -1);
	assert_string_equal(e.code, "too_many_matches");
	struct audit_record *ev;
	int k = ts_events(tmp.log, "lra_search", &ev);
	static const char *const want[][3] = {
		{"lra_search", "refused", "conditions_not_accepted"},
		{"lra_search", "granted", ""},
		{"lra_search", "granted", ""},
		{"lra_search", "refused", "invalid_field"},
		{"lra_search", "refused", "too_many_matches"},
	};
	assert_true(ts_events_are(ev, k, want, KP_NELEM(want)));
	assert_string_equal(ev[1].subject, JAN);
	assert_string_equal(ev[1].purpose, "activation code");
	assert_string_equal(ev[0].subject, "");
	free(ev);
}

static struct lra_identification checked(void)
{
	return (struct lra_identification){
		.insz = JAN, .purpose = "activation code",
		.document = LRA_DOC_PASSPORT, .document_number = "EP1234567",
		.document_valid_until = "2030-01-01",
		.issuing_country = "PL", .photo_compared = true,
		.document_genuine = true, .document_not_expired = true,
		.person_present = true};
}

/* Every identification is kept; only a complete one is identified, and
 * only that one, at this office and the same day, gets a code. */
static void identification_and_code(void **state)
{
	(void)state;
	struct error e;
	struct lra_officer o = officer(OFFICE, 500);
	accept(&o);
	struct lra_identification in = checked();
	int64_t good, bad;
	bool ok;
	assert_int_equal(lra_identify(tmp.log, &o, &in, &good, &ok, &e), 0);
	assert_true(ok);
	in.photo_compared = false;
	assert_int_equal(lra_identify(tmp.log, &o, &in, &bad, &ok, &e), 0);
	assert_false(ok);
	in = checked();
	in.document_valid_until = "2026-02-28"; /* before the clock's day */
	int64_t expired;
	assert_int_equal(lra_identify(tmp.log, &o, &in, &expired, &ok, &e), 0);
	assert_false(ok);
	in = checked();
	in.issuing_country = "pl";
	assert_int_equal(lra_identify(tmp.log, &o, &in, &bad, &ok, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	in = checked();
	in.insz = "90031524651"; /* valid, unknown */
	assert_int_equal(lra_identify(tmp.log, &o, &in, &bad, &ok, &e), -1);
	assert_string_equal(e.code, "unknown_person");
	struct auth_activation_issued out;
	assert_int_equal(lra_activation(tmp.log, au, &o, expired,
					"jan@example.org", NULL, "nl", &out,
					NULL, &e), -1);
	assert_string_equal(e.code, "not_identified");
	struct lra_officer elsewhere = officer(OTHER, 500);
	second_office();
	assert_int_equal(lra_activation(tmp.log, au, &elsewhere, good,
					"jan@example.org", NULL, "nl", &out,
					NULL, &e), -1);
	assert_string_equal(e.code, "unknown_identification");
	/* The good one: a code, and the letter that carries it. */
	char *letter = NULL;
	assert_int_equal(lra_activation(tmp.log, au, &o, good,
					"jan@example.org", NULL, "nl", &out,
					&letter, &e), 0);
	assert_non_null(strstr(letter, out.code));
	assert_non_null(strstr(letter, "Jan Peeters"));
	assert_non_null(strstr(letter, "Gemeente"));
	assert_non_null(strstr(letter, "@page"));
	assert_non_null(strstr(letter, "slechts 2 minuten geldig"));
	assert_null(strstr(letter, "{{"));
	free(letter);
	free(out.keys_to_deactivate);
	/* One identification, one activation: a new one needs the person
	 * at the desk again. */
	assert_int_equal(lra_activation(tmp.log, au, &o, good,
					"jan@example.org", NULL, "nl", &out,
					NULL, &e), -1);
	assert_string_equal(e.code, "identification_used");
	int64_t again;
	in = checked();
	assert_int_equal(lra_identify(tmp.log, &o, &in, &again, &ok, &e), 0);
	clock_advance_ms((int64_t)LRA_IDENTIFICATION_VALID_S * 1000);
	assert_int_equal(lra_activation(tmp.log, au, &o, again,
					"jan@example.org", NULL, "nl", &out,
					NULL, &e), -1);
	assert_string_equal(e.code, "identification_stale");
	struct audit_record *ev;
	int n = ts_events(tmp.log, NULL, &ev);
	int ids = 0, failed = 0;
	for (int i = 0; i < n; i++) {
		ids += strcmp(ev[i].action, "lra_identification") == 0 &&
		       strcmp(ev[i].outcome, "granted") == 0;
		failed += strcmp(ev[i].action, "lra_identification_failed") ==
			  0;
	}
	assert_int_equal(ids, 2);
	assert_int_equal(failed, 2);
	free(ev);
}

/* An officer never identifies themselves, and a deceased person is
 * nobody to give a code to. */
static void who_may_be_identified(void **state)
{
	(void)state;
	struct error e;
	struct lra_officer o = officer(OFFICE, 500);
	accept(&o);
	struct lra_identification in = checked();
	in.insz = OFFICER;
	int64_t id;
	bool ok;
	assert_int_equal(lra_identify(tmp.log, &o, &in, &id, &ok, &e), -1);
	assert_string_equal(e.code, "own_identification");
	struct registry_person dead = {.insz = "90031524651",
				       .last_name = "Dubois",
				       .first_names = "Marie",
				       .birth_date = "1990-03-15", .sex = "F",
				       .deceased_on = "2025-12-01"};
	assert_int_equal(registry_add(tmp.log, &ts_operator, &dead, &e), 0);
	in = checked();
	in.insz = "90031524651";
	assert_int_equal(lra_identify(tmp.log, &o, &in, &id, &ok, &e), -1);
	assert_string_equal(e.code, "person_deceased");
	struct audit_record *ev;
	int n = ts_events(tmp.log, "lra_identification", &ev);
	static const char *const want[][3] = {
		{"lra_identification", "refused", "own_identification"},
		{"lra_identification", "refused", "person_deceased"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(who_may_act, setup, teardown),
		cmocka_unit_test_setup_teardown(conditions_once, setup,
						teardown),
		cmocka_unit_test_setup_teardown(search_is_recorded, setup,
						teardown),
		cmocka_unit_test_setup_teardown(identification_and_code, setup,
						teardown),
		cmocka_unit_test_setup_teardown(who_may_be_identified, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
