/* Organisations, institutions and certificate lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/support.h"
#include "org/org.h"

static struct ts_store tmp;
static struct store *s;

static int setup(void **state)
{
	(void)state;
	if (ts_store_open(&tmp, "org") != 0)
		return -1;
	s = tmp.s;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return ts_store_close(&tmp);
}

static void institutions_and_certificates(void **state)
{
	(void)state;
	struct error e;
	int64_t id;
	uint8_t fp[SHA256_LEN], other[SHA256_LEN];
	memset(fp, 0xab, sizeof(fp));
	memset(other, 0xcd, sizeof(other));

	assert_int_equal(org_organisation_add(tmp.log, &ts_operator, "0411.111.140", "Ziekenfonds",
					      &e), 0);
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator, "0411111140", "Again", &e), -1);
	assert_string_equal(e.code, "org_exists");
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator, "0411111141", "Bad", &e), -1);
	assert_string_equal(e.code, "invalid_kbo");

	assert_int_equal(org_institution_add(tmp.log, &ts_operator, "0203201340", "x", "y", NULL,
					     &id, &e), -1);
	assert_string_equal(e.code, "org_unknown");
	assert_int_equal(org_institution_add(tmp.log, &ts_operator, "0411111140",
					     "health_insurance_fund",
					     "health_insurance", NULL, &id, &e), 0);
	assert_true(id > 0);
	assert_int_equal(org_institution_add(tmp.log, &ts_operator, "0411111140", "a", "b", NULL,
					     &id, &e), -1);
	assert_string_equal(e.code, "institution_exists");

	int64_t now = time_now();
	assert_int_equal(org_cert_add(tmp.log, &ts_operator, "0411111140", fp, "CN=x", now - 10, now + 3600,
				      &e), 0);
	assert_int_equal(org_cert_add(tmp.log, &ts_operator, "0411111140", fp, "CN=x", now, now, &e), -1);
	assert_string_equal(e.code, "certificate_exists");
	assert_int_equal(org_cert_add(tmp.log, &ts_operator, "0422222291", other, "CN=y", now, now, &e), -1);
	assert_string_equal(e.code, "org_unknown");
	assert_int_equal(org_cert_add(tmp.log, &ts_operator, "0422222290", other, "CN=y", now, now, &e), -1);
	assert_string_equal(e.code, "invalid_kbo");

	struct org_institution inst;
	assert_int_equal(org_by_cert(s, fp, now, &inst), 0);
	assert_string_equal(inst.kbo, "0411111140");
	assert_string_equal(inst.name, "Ziekenfonds");
	assert_string_equal(inst.actor_type, "health_insurance_fund");
	assert_int_equal(org_by_cert(s, other, now, &inst), 1);
	/* Outside its validity a certificate identifies nobody. */
	assert_int_equal(org_by_cert(s, fp, now + 7200, &inst), 1);
	assert_int_equal(org_by_cert(s, fp, now - 3600, &inst), 1);

	/* An organisation that is no institution (a mandate holder) is
	 * identified too, as no institution: id 0, no actor type. */
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator, "0412345614", "Bakkerij", &e), 0);
	assert_int_equal(org_cert_add(tmp.log, &ts_operator, "0412345614", other, "CN=b", now - 10,
				      now + 3600, &e), 0);
	assert_int_equal(org_by_cert(s, other, now, &inst), 0);
	assert_int_equal(inst.id, 0);
	assert_string_equal(inst.kbo, "0412345614");
	assert_string_equal(inst.name, "Bakkerij");
	assert_string_equal(inst.actor_type, "");
	/* A fingerprint names one organisation. */
	assert_int_equal(org_cert_add(tmp.log, &ts_operator, "0411111140", other, "CN=b", now - 10,
				      now + 3600, &e), -1);
	assert_string_equal(e.code, "certificate_exists");
}

static struct org_role role(const char *insz, const char *name,
			    const char *from, const char *until)
{
	struct org_role r;
	memset(&r, 0, sizeof(r));
	str_copy(r.kbo, sizeof(r.kbo), "0207521107");
	str_copy(r.insz, sizeof(r.insz), insz);
	str_copy(r.role, sizeof(r.role), name);
	str_copy(r.valid_from, sizeof(r.valid_from), from);
	str_copy(r.valid_until, sizeof(r.valid_until), until);
	str_copy(r.granted_by, sizeof(r.granted_by), "operator");
	return r;
}

static int64_t day(const char *t)
{
	struct date d;
	date_parse(t, &d);
	return date_to_days(d);
}

static void categories_and_roles(void **state)
{
	(void)state;
	struct error e;
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator, "0207521107", "Gemeente", &e), 0);
	assert_int_equal(org_category_add(tmp.log, &ts_operator, "0207521107", "municipality", &e), 0);
	assert_true(org_has_category(s, "0207521107", "municipality"));
	assert_false(org_has_category(s, "0207521107", "employer"));
	assert_int_equal(org_category_add(tmp.log, &ts_operator, "0207521107", "bakery", &e), -1);
	assert_string_equal(e.code, "invalid_category");

	struct org_role r = role("78052216473", "lra_officer", "2026-01-01",
				 "2026-12-31");
	/* Only a person the registers know can hold a role. */
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &r, &e), -1);
	assert_string_equal(e.code, "unknown_person");
	assert_int_equal(ts_person(tmp.log, "78052216473", "Janssens", "An", "",
				   &e), 0);
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &r, &e), 0);
	assert_string_equal(r.granted_by, "operator");
	assert_true(r.id > 0);
	const char *who = "78052216473", *kbo = "0207521107";
	assert_true(org_role_valid(s, who, kbo, "lra_officer", day("2026-06-01")));
	assert_true(org_role_valid(s, who, kbo, "lra_officer", day("2026-12-31")));
	/* Past valid_until the role counts as absent. */
	assert_false(org_role_valid(s, who, kbo, "lra_officer", day("2027-01-01")));
	assert_false(org_role_valid(s, who, kbo, "lra_officer", day("2025-12-31")));
	assert_false(org_role_valid(s, who, kbo, "access_manager", day("2026-06-01")));
	assert_false(org_role_valid(s, who, "0411111140", "lra_officer",
				    day("2026-06-01")));

	struct org_role bad = role("78052216473", "king", "2026-01-01", "2026-12-31");
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &bad, &e), -1);
	assert_string_equal(e.code, "invalid_role");
	bad = role("78052216474", "lra_officer", "2026-01-01", "2026-12-31");
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &bad, &e), -1);
	assert_string_equal(e.code, "invalid_insz");
	bad = role("78052216473", "lra_officer", "2026-01-01", "");
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &bad, &e), -1);
	assert_string_equal(e.code, "invalid_period");
	bad = role("78052216473", "lra_officer", "2026-01-01", "2025-01-01");
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &bad, &e), -1);
	bad = role("78052216473", "lra_officer", "2026-01-01", "2026-12-31");
	str_copy(bad.kbo, sizeof(bad.kbo), "0203201340");
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &bad, &e), -1);
	assert_string_equal(e.code, "org_unknown");

	struct org_role revoked;
	assert_int_equal(org_role_revoke(tmp.log, &ts_operator, "0411111140",
					 r.id, NULL, &e), -1);
	assert_string_equal(e.code, "unknown_role_assignment");
	assert_int_equal(org_role_revoke(tmp.log, &ts_operator, kbo, r.id, &revoked,
					 &e), 0);
	assert_string_equal(revoked.insz, "78052216473");
	assert_false(org_role_valid(s, who, kbo, "lra_officer", day("2026-06-01")));
	assert_int_equal(org_role_revoke(tmp.log, &ts_operator, kbo, r.id, NULL, &e), -1);
	assert_string_equal(e.code, "already_revoked");
	struct org_role *list;
	int n;
	assert_int_equal(org_roles(s, kbo, &list, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_true(list[0].revoked);
	free(list);

	/* Every change and every refusal about the person is in the log,
	 * in order: the refused grant, the person's registration, the
	 * grant, two refused grants that name them (invalid role and
	 * period), the revocation, the refused second revocation. */
	struct audit_filter f = {.subject = who, .limit = 100};
	struct audit_record *ev;
	bool more;
	uint64_t next;
	assert_int_equal(audit_query(tmp.log, &f, &ev, &n, &more, &next, &e), 0);
	const char *want[][3] = {
		{"role_grant", "refused", "unknown_person"},
		{"person_add", "granted", ""},
		{"role_grant", "granted", ""},
		{"role_grant", "refused", "invalid_role"},
		{"role_grant", "refused", "invalid_period"},
		{"role_grant", "refused", "invalid_period"},
		{"role_grant", "refused", "org_unknown"},
		{"role_revoke", "granted", ""},
		{"role_revoke", "refused", "already_revoked"},
	};
	assert_int_equal(n, (int)KP_NELEM(want));
	for (int i = 0; i < n; i++) {
		assert_string_equal(ev[i].action, want[i][0]);
		assert_string_equal(ev[i].outcome, want[i][1]);
		assert_string_equal(ev[i].reason, want[i][2]);
		assert_string_equal(ev[i].channel, "cli");
	}
	assert_string_equal(ev[2].purpose, "lra_officer");
	assert_string_equal(ev[2].actor, kbo);
	free(ev);
}

/* A refused request changes nothing: a circle-of-trust reference with a
 * control character is refused, stored nowhere, and recorded escaped. */
static void refused_changes_leave_nothing(void **state)
{
	(void)state;
	struct error e;
	const char *kbo = "0207521107";
	struct audit_actor manager = {AUDIT_CHANNEL_API, NULL, "78052216473",
				      "self"};
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator, kbo,
					      "Gemeente", &e), 0);
	assert_int_equal(org_circle_accept(tmp.log, &manager, kbo,
					   "REG-1\r\nforged", &e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_false(org_in_circle(s, kbo));
	assert_int_equal(org_circle_accept(tmp.log, &manager, kbo, "REG-1",
					   &e), 0);
	assert_true(org_in_circle(s, kbo));
	struct audit_filter f = {.user = "78052216473", .limit = 10};
	struct audit_record *ev;
	int n;
	bool more;
	uint64_t next;
	assert_int_equal(audit_query(tmp.log, &f, &ev, &n, &more, &next, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].outcome, "refused");
	assert_string_equal(ev[0].purpose, "REG-1\\x0d\\x0aforged");
	assert_string_equal(ev[1].outcome, "granted");
	assert_string_equal(ev[1].actor, kbo);
	free(ev);
}

/* The registration reads back as recorded, and each read is an event
 * naming who read; before any, a read answers 1 and is recorded too. */
static void circle_reads_back(void **state)
{
	(void)state;
	struct error e;
	struct org_circle c;
	const char *kbo = "0412345614";
	struct audit_actor manager = {AUDIT_CHANNEL_API, NULL, "83061814038",
				      "self"};
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator, kbo,
					      "Bakkerij", &e), 0);
	assert_int_equal(org_circle_get(tmp.log, &manager, kbo, &c, &e), 1);
	assert_int_equal(org_circle_accept(tmp.log, &manager, kbo, "VWR-7",
					   &e), 0);
	assert_int_equal(org_circle_get(tmp.log, &manager, kbo, &c, &e), 0);
	assert_string_equal(c.kbo, kbo);
	assert_string_equal(c.register_ref, "VWR-7");
	assert_string_equal(c.accepted_by, "83061814038");
	assert_true(c.accepted_at > 0);
	struct audit_filter f = {.user = "83061814038", .limit = 10};
	struct audit_record *ev;
	int n;
	bool more;
	uint64_t next;
	assert_int_equal(audit_query(tmp.log, &f, &ev, &n, &more, &next, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(ev[0].action, "circle_of_trust_read");
	assert_string_equal(ev[2].action, "circle_of_trust_read");
	assert_string_equal(ev[2].outcome, "granted");
	free(ev);
}

/* Item 8: a role has a bounded validity; an access manager cannot give
 * themselves more than their own; renewal is its own change; a refusal
 * names why (missing, expired, revoked). On the test clock. */
static void roles_are_bounded_and_renewed(void **state)
{
	(void)state;
	struct error e;
	ts_clock_start(); /* 2026-03-01 */
	const char *kbo = "0207521107", *am = "78052216473", *off = "85073003328";
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator, kbo, "Gemeente", &e), 0);
	assert_int_equal(ts_person(tmp.log, am, "Janssens", "An", "", &e), 0);
	assert_int_equal(ts_person(tmp.log, off, "Peeters", "Jan", "", &e), 0);
	/* At most a year, even for the operator. */
	struct org_role r = role(am, "access_manager", "2026-03-01", "2027-03-02");
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &r, &e), -1);
	assert_string_equal(e.code, "validity_too_long");
	r = role(am, "access_manager", "2026-03-01", "2026-09-01");
	assert_int_equal(org_role_grant(tmp.log, &ts_operator, &r, &e), 0);
	/* The maximum is configuration. */
	org_configure(&(struct org_config){.role_max_months = 3});
	struct org_role o = role(off, "lra_officer", "2026-03-01", "2026-07-01");
	const struct audit_actor by = {AUDIT_CHANNEL_PORTAL, kbo, am, "org:0207521107"};
	assert_int_equal(org_role_grant(tmp.log, &by, &o, &e), -1);
	assert_string_equal(e.code, "validity_too_long");
	org_configure(&(struct org_config){0});
	assert_int_equal(org_role_grant(tmp.log, &by, &o, &e), 0);
	/* Not to herself past the end of her own role. */
	struct org_role self = role(am, "lra_officer", "2026-03-01", "2026-12-01");
	assert_int_equal(org_role_grant(tmp.log, &by, &self, &e), -1);
	assert_string_equal(e.code, "beyond_own_role");
	self = role(am, "lra_officer", "2026-03-01", "2026-09-01");
	assert_int_equal(org_role_grant(tmp.log, &by, &self, &e), 0);
	struct org_role out;
	assert_int_equal(org_role_renew(tmp.log, &by, kbo, r.id, "2027-03-01", &out, &e), -1);
	assert_string_equal(e.code, "beyond_own_role");

	/* Renewing: within a year from today, never into the past. */
	assert_int_equal(org_role_renew(tmp.log, &by, kbo, o.id, "2027-03-02", &out, &e), -1);
	assert_string_equal(e.code, "validity_too_long");
	assert_int_equal(org_role_renew(tmp.log, &by, kbo, o.id, "2026-02-01", &out, &e), -1);
	assert_string_equal(e.code, "invalid_period");
	assert_int_equal(org_role_renew(tmp.log, &by, kbo, 9999, "2026-12-01", &out, &e), -1);
	assert_string_equal(e.code, "unknown_role_assignment");
	assert_int_equal(org_role_state(s, off, kbo, "lra_officer", day("2026-08-01")),
			 ORG_ROLE_EXPIRED);
	assert_int_equal(org_role_renew(tmp.log, &by, kbo, o.id, "2026-12-01", &out, &e), 0);
	assert_string_equal(out.valid_until, "2026-12-01");
	assert_int_equal(org_role_state(s, off, kbo, "lra_officer", day("2026-08-01")),
			 ORG_ROLE_HELD);

	/* One vocabulary for why a role is not held. */
	assert_int_equal(org_role_state(s, off, kbo, "auditor", day("2026-08-01")),
			 ORG_ROLE_MISSING);
	assert_string_equal(org_role_reason(ORG_ROLE_MISSING), "missing");
	assert_int_equal(org_role_state(s, off, kbo, "lra_officer", day("2026-12-02")),
			 ORG_ROLE_EXPIRED);
	assert_string_equal(org_role_reason(ORG_ROLE_EXPIRED), "expired");
	assert_int_equal(org_role_revoke(tmp.log, &by, kbo, o.id, NULL, &e), 0);
	assert_int_equal(org_role_state(s, off, kbo, "lra_officer", day("2026-08-01")),
			 ORG_ROLE_REVOKED);
	assert_string_equal(org_role_reason(ORG_ROLE_REVOKED), "revoked");
	assert_int_equal(org_role_renew(tmp.log, &by, kbo, o.id, "2026-12-01", &out, &e), -1);
	assert_string_equal(e.code, "already_revoked");
	clock_reset();
}

/* The known actor types are the institutions' own: none before the
 * first, each once and in order, cut short when they do not fit. */
static void actor_types_are_the_institutions(void **state)
{
	(void)state;
	struct error e;
	char out[64];
	assert_int_equal(org_actor_type_known(s, "health_insurance_fund"), 1);
	assert_int_equal(org_actor_types(s, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	assert_true(ts_institution(tmp.log, "0422222291", "health_insurance_fund",
				   "health_insurance", &e) > 0);
	assert_true(ts_institution(tmp.log, "0411111140", "health_insurance_fund",
				   "health_insurance", &e) > 0);
	assert_true(ts_institution(tmp.log, "0722222210", "family_allowance_fund",
				   "family_allowances", &e) > 0);
	assert_int_equal(org_actor_type_known(s, "health_insurance_fund"), 0);
	assert_int_equal(org_actor_type_known(s, "health_insurance"), 1);
	assert_int_equal(org_actor_types(s, out, sizeof(out)), 0);
	assert_string_equal(out, "family_allowance_fund, health_insurance_fund");
	assert_int_equal(org_actor_types(s, out, 30), 0);
	assert_string_equal(out, "family_allowance_fund, ...");
	assert_int_equal(org_actor_types(s, out, 8), 0);
	assert_string_equal(out, "...");
}

/* The bakery, on the test clock's first day, with one internal-control
 * record of 27 February 2026 (into c). */
static void bakery_with_control(struct org_control *c)
{
	struct error e;
	ts_clock_start();
	assert_int_equal(org_organisation_add(tmp.log, &ts_operator,
					      "0412345614", "Bakkerij", &e),
			 0);
	*c = (struct org_control){.kbo = "0412345614",
				  .checked_on = "2026-02-27",
				  .what = "mandate consultations of February",
				  .finding = "all under an active mandate"};
	assert_int_equal(org_control_add(tmp.log, &ts_operator, c, &e), 0);
}

/* The internal control: recorded and read back, refused when malformed
 * (recorded too), and gone two years on, its removal in the next record's
 * event. */
static void internal_control_is_kept_two_years(void **state)
{
	(void)state;
	struct error e;
	struct org_control c;
	bakery_with_control(&c);
	struct org_control bad = c;
	str_copy(bad.checked_on, sizeof(bad.checked_on), "2026-03-02");
	assert_int_equal(org_control_add(tmp.log, &ts_operator, &bad, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	struct org_control *l;
	int n;
	assert_int_equal(org_controls(s, "0412345614", &l, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].finding, "all under an active mandate");
	assert_string_equal(l[0].checked_by, "operator");
	free(l);
	/* Two years and a day later: not shown, and removed by the next. */
	clock_advance_ms((int64_t)(ORG_CONTROL_KEEP_DAYS + 1) * 86400 * 1000);
	assert_int_equal(org_controls(s, "0412345614", &l, &n, &e), 0);
	assert_int_equal(n, 0);
	free(l);
	str_copy(c.checked_on, sizeof(c.checked_on), "2028-03-01");
	assert_int_equal(org_control_add(tmp.log, &ts_operator, &c, &e), 0);
	struct audit_record *ev;
	int k = ts_events(tmp.log, "internal_control_add", &ev);
	static const char *const want[][3] = {
		{"internal_control_add", "granted", ""},
		{"internal_control_add", "refused", "invalid_field"},
		{"internal_control_add", "granted", ""},
	};
	assert_true(ts_events_are(ev, k, want, KP_NELEM(want)));
	assert_string_equal(ev[2].purpose,
			    "1 older than the keeping removed");
	free(ev);
	clock_reset();
}

/* Rows of internal_control, purged or not (org_controls hides those
 * past their keeping either way). */
static int64_t control_rows(void)
{
	int64_t n = -1;
	struct store_stmt *st = store_prepare(
		store_reader(s), "SELECT count(*) FROM internal_control");
	assert_int_equal(store_one(st, store_read_int, &n, NULL), 0);
	return n;
}

/* The daemon's sweep removes a record past its keeping with no new record
 * written, keeps a younger one, and records the removal once. */
static void internal_control_is_swept(void **state)
{
	(void)state;
	struct error e;
	struct org_control c;
	bakery_with_control(&c);
	clock_advance_ms(INT64_C(400) * 86400 * 1000);
	str_copy(c.checked_on, sizeof(c.checked_on), "2027-04-01");
	assert_int_equal(org_control_add(tmp.log, &ts_operator, &c, &e), 0);
	assert_int_equal(org_sweep(tmp.log, &e), 0);
	assert_int_equal(control_rows(), 2);
	/* The first is now past its keeping, the second 332 days old. */
	clock_advance_ms(INT64_C(332) * 86400 * 1000);
	assert_int_equal(org_sweep(tmp.log, &e), 1);
	assert_int_equal(control_rows(), 1);
	assert_int_equal(org_sweep(tmp.log, &e), 0);
	struct audit_record *ev;
	int k = ts_events(tmp.log, "internal_control_purge", &ev);
	assert_int_equal(k, 1);
	assert_string_equal(ev[0].purpose, "1 older than the keeping removed");
	assert_string_equal(ev[0].channel, AUDIT_CHANNEL_CLI);
	free(ev);
	struct org_control *l;
	int n;
	assert_int_equal(org_controls(s, "0412345614", &l, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(l[0].checked_on, "2027-04-01");
	free(l);
	clock_reset();
}

#define EMPLOYER "0412345614"
#define SECRETARIAT "0456789034"
#define OTHER_SEC "0666123447"
#define PLAIN_ORG "0555123476"

static void affiliation_world(void)
{
	struct error e;
	const char *orgs[] = {EMPLOYER, SECRETARIAT, OTHER_SEC, PLAIN_ORG};
	for (size_t i = 0; i < KP_NELEM(orgs); i++)
		assert_int_equal(org_organisation_add(tmp.log, &ts_operator,
						      orgs[i], "Org", &e),
				 0);
	assert_int_equal(org_category_add(tmp.log, &ts_operator, SECRETARIAT,
					  "social_secretariat", &e),
			 0);
	assert_int_equal(org_category_add(tmp.log, &ts_operator, OTHER_SEC,
					  "social_secretariat", &e),
			 0);
}

static int affiliate(const char *employer, const char *sec, const char *from,
		     const char *until, struct org_affiliation *out,
		     struct error *e)
{
	struct org_affiliation f;
	memset(&f, 0, sizeof(f));
	str_copy(f.employer, sizeof(f.employer), employer);
	str_copy(f.secretariat, sizeof(f.secretariat), sec);
	str_copy(f.valid_from, sizeof(f.valid_from), from);
	str_copy(f.valid_until, sizeof(f.valid_until), until);
	int rc = org_affiliation_add(tmp.log, &ts_operator, &f, e);
	if (out)
		*out = f;
	return rc;
}

/* An employer's social secretariat: a registered one with the category,
 * one at a time, ended by hand and kept; refusals change nothing and are
 * recorded. */
static void one_social_secretariat_at_a_time(void **state)
{
	(void)state;
	struct error e;
	struct org_affiliation f, g;
	ts_clock_start();
	affiliation_world();
	static const struct {
		const char *employer, *sec, *from, *until, *code;
	} bad[] = {
		{EMPLOYER, "0456789035", "", "", "invalid_kbo"},
		{EMPLOYER, PLAIN_ORG, "", "", "not_a_social_secretariat"},
		{EMPLOYER, "0203201340", "", "", "not_a_social_secretariat"},
		{SECRETARIAT, SECRETARIAT, "", "", "invalid_field"},
		{EMPLOYER, SECRETARIAT, "2026-02-28", "", "invalid_period"},
		{EMPLOYER, SECRETARIAT, "2026-04-01", "2026-03-31",
		 "invalid_period"},
		{EMPLOYER, SECRETARIAT, "2026-13-01", "", "invalid_period"},
	};
	for (size_t i = 0; i < KP_NELEM(bad); i++)
		assert_true(ts_refusal_is(
			bad[i].code,
			affiliate(bad[i].employer, bad[i].sec, bad[i].from,
				  bad[i].until, NULL, &e),
			&e, bad[i].code, NULL));
	assert_int_equal(affiliate(EMPLOYER, SECRETARIAT, "", "", &f, &e), 0);
	assert_string_equal(f.valid_from, "2026-03-01");
	assert_string_equal(f.created_by, "operator");
	int64_t today = ts_day("2026-03-01");
	assert_string_equal(org_affiliation_status(&f, today), "active");
	assert_true(org_secretariat_acts_for(s, SECRETARIAT, EMPLOYER, today));
	assert_false(org_secretariat_acts_for(s, OTHER_SEC, EMPLOYER, today));
	assert_false(org_secretariat_acts_for(s, EMPLOYER, SECRETARIAT, today));
	/* A second one, even starting later, waits for the first's end. */
	assert_true(ts_refusal_is("overlap", affiliate(EMPLOYER, OTHER_SEC,
						       "2027-01-01", "", NULL,
						       &e),
				  &e, "already_affiliated", NULL));
	assert_true(ts_refusal_is("unknown id",
				  org_affiliation_end(tmp.log, &ts_operator,
						      PLAIN_ORG, f.id, NULL,
						      &e),
				  &e, "unknown_affiliation", NULL));
	assert_int_equal(org_affiliation_end(tmp.log, &ts_operator, EMPLOYER,
					     f.id, &g, &e), 0);
	assert_string_equal(org_affiliation_status(&g, today), "revoked");
	assert_false(org_secretariat_acts_for(s, SECRETARIAT, EMPLOYER, today));
	assert_true(ts_refusal_is("twice", org_affiliation_end(
						   tmp.log, &ts_operator,
						   EMPLOYER, f.id, NULL, &e),
				  &e, "already_ended", NULL));
	/* Then the other, for a period: active only within it. */
	assert_int_equal(affiliate(EMPLOYER, OTHER_SEC, "2026-04-01",
				   "2026-12-31", &g, &e), 0);
	assert_string_equal(org_affiliation_status(&g, today), "future");
	assert_false(org_secretariat_acts_for(s, OTHER_SEC, EMPLOYER, today));
	assert_true(org_secretariat_acts_for(s, OTHER_SEC, EMPLOYER,
					     ts_day("2026-12-31")));
	assert_false(org_secretariat_acts_for(s, OTHER_SEC, EMPLOYER,
					      ts_day("2027-01-01")));
	assert_int_equal(affiliate(EMPLOYER, SECRETARIAT, "2027-01-01", "",
				   NULL, &e), 0);
	struct org_affiliation *l;
	int n;
	assert_int_equal(org_affiliations(s, EMPLOYER, &l, &n, &e), 0);
	assert_int_equal(n, 3);
	assert_string_equal(l[2].secretariat, SECRETARIAT);
	assert_true(l[2].revoked_at > 0);
	assert_string_equal(l[2].revoked_by, "operator");
	free(l);
	struct audit_record *ev;
	int k = ts_events(tmp.log, "social_secretariat_affiliate", &ev);
	assert_int_equal(k, (int)KP_NELEM(bad) + 4);
	assert_string_equal(ev[k - 1].outcome, "granted");
	assert_string_equal(ev[k - 1].purpose, SECRETARIAT);
	assert_string_equal(ev[k - 1].actor, EMPLOYER);
	free(ev);
	clock_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			internal_control_is_kept_two_years, setup, teardown),
		cmocka_unit_test_setup_teardown(internal_control_is_swept,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			one_social_secretariat_at_a_time, setup, teardown),
		cmocka_unit_test_setup_teardown(actor_types_are_the_institutions,
						setup, teardown),
		cmocka_unit_test_setup_teardown(institutions_and_certificates,
						setup, teardown),
		cmocka_unit_test_setup_teardown(roles_are_bounded_and_renewed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(categories_and_roles, setup,
						teardown),
		cmocka_unit_test_setup_teardown(refused_changes_leave_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(circle_reads_back, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
