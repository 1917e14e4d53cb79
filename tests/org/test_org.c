/* Organisations, institutions and certificate lookup. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "org/org.h"

static char dir[64];
static struct store *s;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/kp-org-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char path[128];
	snprintf(path, sizeof(path), "%s/org.db", dir);
	struct error e;
	return store_open(path, NULL, &s, &e);
}

static int teardown(void **state)
{
	(void)state;
	store_close(s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void institutions_and_certificates(void **state)
{
	(void)state;
	struct error e;
	int64_t id;
	uint8_t fp[SHA256_LEN], other[SHA256_LEN];
	memset(fp, 0xab, sizeof(fp));
	memset(other, 0xcd, sizeof(other));

	assert_int_equal(org_organisation_add(s, "0411.111.140", "Ziekenfonds",
					      &e), 0);
	assert_int_equal(org_organisation_add(s, "0411111140", "Again", &e), -1);
	assert_string_equal(e.code, "org_exists");
	assert_int_equal(org_organisation_add(s, "0411111141", "Bad", &e), -1);
	assert_string_equal(e.code, "invalid_kbo");

	assert_int_equal(org_institution_add(s, "0203201340", "x", "y", NULL,
					     &id, &e), -1);
	assert_string_equal(e.code, "org_unknown");
	assert_int_equal(org_institution_add(s, "0411111140",
					     "health_insurance_fund",
					     "health_insurance", NULL, &id, &e), 0);
	assert_true(id > 0);
	assert_int_equal(org_institution_add(s, "0411111140", "a", "b", NULL,
					     &id, &e), -1);
	assert_string_equal(e.code, "institution_exists");

	int64_t now = time_now();
	assert_int_equal(org_cert_add(s, id, fp, "CN=x", now - 10, now + 3600,
				      &e), 0);
	assert_int_equal(org_cert_add(s, id, fp, "CN=x", now, now, &e), -1);
	assert_string_equal(e.code, "certificate_exists");
	assert_int_equal(org_cert_add(s, 9999, other, "CN=y", now, now, &e), -1);

	struct org_institution inst;
	assert_int_equal(org_institution_by_cert(s, fp, now, &inst), 0);
	assert_string_equal(inst.kbo, "0411111140");
	assert_string_equal(inst.name, "Ziekenfonds");
	assert_string_equal(inst.actor_type, "health_insurance_fund");
	assert_int_equal(org_institution_by_cert(s, other, now, &inst), 1);
	/* Outside its validity a certificate identifies nobody. */
	assert_int_equal(org_institution_by_cert(s, fp, now + 7200, &inst), 1);
	assert_int_equal(org_institution_by_cert(s, fp, now - 3600, &inst), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(institutions_and_certificates,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
