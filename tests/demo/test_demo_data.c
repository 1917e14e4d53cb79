/* The demo population uses only valid identifiers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#include "demo/demo.h"
#include "support/support.h"
#include "directory/directory.h"
#include "registry/registry.h"
#include "cli/modules.h"

static void every_identifier_is_valid(void **state)
{
	(void)state;
	assert_int_equal(demo_check_data(), 0);
}

/* Generate into a fresh database (a file or a schema of its own in dir),
 * its location into path; returns a checksum of the dossiers. */
static long long generate(const struct ts_dir *dir, char *path, size_t n,
			  uint64_t persons, int per)
{
	struct store *s;
	struct audit *log;
	struct error e;
	struct demo_gen_stats st;
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	ed25519_keypair(pk, sk);
	ts_db_location(dir, "gen.db", path, n);
	remove(path);
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	assert_int_equal(audit_open(s, sk, NULL, &log, &e), 0);
	assert_int_equal(demo_generate(log, persons, per, 42, &st, &e), 0);
	assert_int_equal(st.persons, persons);
	assert_int_equal(st.dossiers, persons * (uint64_t)per);
	audit_close(log);
	long long sum = ts_int(s, "SELECT coalesce(sum(insz % 1000003 * "
			       "institution_id + start_day * capacity), 0) "
			       "FROM dossier");
	store_close(s);
	return sum;
}

static void generated_data_is_valid_and_deterministic(void **state)
{
	(void)state;
	/* A directory of its own: two test runs at once must not share a
	 * database file. */
	struct ts_dir dir;
	assert_int_equal(ts_dir_make(&dir, "gen"), 0);
	char path[512];
	long long a = generate(&dir, path, sizeof(path), 3000, 4);
	/* Every generated person is a valid, registered RR number. */
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct registry_person p;
	assert_int_equal(registry_get(s, "00010100129", &p, &e), 1); /* invalid */
	char n[INSZ_BUF];
	insz_compose(INSZ_RR, 2000, 1, 1, true, 1, n);
	assert_int_equal(registry_get(s, n, &p, &e), 0);
	store_close(s);
	long long b = generate(&dir, path, sizeof(path), 3000, 4);
	assert_true(a == b); /* same seed, same data */
	assert_int_equal(ts_dir_remove(&dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_identifier_is_valid),
		cmocka_unit_test(generated_data_is_valid_and_deterministic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
