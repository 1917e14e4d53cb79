/* The registers: persons, lookups, parent links, BIS assignment and
 * mutations by the register's authority. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "support/support.h"
#include "registry/registry.h"

static struct ts_store tmp;
static struct store *s;

static int setup(void **state)
{
	(void)state;
	if (ts_store_open(&tmp, "registry") != 0)
		return -1;
	s = tmp.s;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return ts_store_close(&tmp);
}

static struct registry_person person(const char *insz, const char *last,
				     const char *first, const char *birth,
				     const char *sex)
{
	struct registry_person p;
	memset(&p, 0, sizeof(p));
	str_copy(p.insz, sizeof(p.insz), insz);
	str_copy(p.last_name, sizeof(p.last_name), last);
	str_copy(p.first_names, sizeof(p.first_names), first);
	str_copy(p.birth_date, sizeof(p.birth_date), birth);
	str_copy(p.sex, sizeof(p.sex), sex);
	str_copy(p.street, sizeof(p.street), "Kerkstraat 1");
	str_copy(p.postal_code, sizeof(p.postal_code), "3000");
	str_copy(p.municipality, sizeof(p.municipality), "Leuven");
	str_copy(p.country, sizeof(p.country), "BE");
	str_copy(p.nationality, sizeof(p.nationality), "BE");
	str_copy(p.language, sizeof(p.language), "nl");
	return p;
}

static void add_and_find(void **state)
{
	(void)state;
	struct error e;
	struct registry_person p = person("85073003328", "Peeters", "Jan",
					  "1985-07-30", "M");
	assert_int_equal(registry_add(s, &p, &e), 0);
	assert_int_equal(registry_add(s, &p, &e), -1);
	assert_string_equal(e.code, "person_exists");
	struct registry_person got;
	assert_int_equal(registry_get(s, "85073003328", &got, &e), 0);
	assert_string_equal(got.register_, "RR");
	assert_string_equal(got.municipality, "Leuven");
	assert_int_equal(registry_get(s, "90031524651", &got, &e), 1);
	struct registry_person *found;
	int n;
	assert_int_equal(registry_find(s, "PEETERS", "jan", "1985-07-30", &found,
				       &n, 10, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(found[0].insz, "85073003328");
	free(found);
	assert_int_equal(registry_find(s, "Peeters", "Jan", "1985-07-31", &found,
				       &n, 10, &e), 0);
	assert_int_equal(n, 0);
	free(found);
}

static void bad_persons_are_refused(void **state)
{
	(void)state;
	struct error e;
	struct registry_person p = person("85073003329", "Peeters", "Jan",
					  "1985-07-30", "M");
	assert_int_equal(registry_add(s, &p, &e), -1);
	assert_string_equal(e.code, "invalid_insz");
	p = person("85073003328", "Peeters", "Jan", "1985-07-31", "M");
	assert_int_equal(registry_add(s, &p, &e), -1); /* date disagrees */
	p = person("85073003328", "Peeters", "Jan", "1985-07-30", "F");
	assert_int_equal(registry_add(s, &p, &e), -1); /* sex disagrees */
	p = person("85073003328", "", "Jan", "1985-07-30", "M");
	assert_int_equal(registry_add(s, &p, &e), -1);
	p = person("85073003328", "Pee\nters", "Jan", "1985-07-30", "M");
	assert_int_equal(registry_add(s, &p, &e), -1);
	p = person("85073003328", "Peeters", "Jan", "1985-07-30", "M");
	str_copy(p.country, sizeof(p.country), "be");
	assert_int_equal(registry_add(s, &p, &e), -1);
	p = person("85073003328", "Peeters", "Jan", "1985-07-30", "M");
	str_copy(p.language, sizeof(p.language), "xx");
	assert_int_equal(registry_add(s, &p, &e), -1);
	struct registry_person got;
	assert_int_equal(registry_get(s, "85073003328", &got, &e), 1);
}

static void bis_numbers_are_assigned_once(void **state)
{
	(void)state;
	struct error e;
	char seen[10][INSZ_BUF];
	for (int i = 0; i < 10; i++) {
		struct registry_person p = person("", "Benali", "Ahmed",
						  "1992-11-04", "M");
		assert_int_equal(registry_assign_bis(s, &p, &e), 0);
		struct insz z;
		assert_int_equal(insz_parse(p.insz, 11, &z), ID_OK);
		assert_int_equal(z.kind, INSZ_BIS);
		assert_int_equal(z.sex, SEX_MALE);
		assert_int_equal(z.birth_month, 11);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(seen[j], p.insz);
		str_copy(seen[i], 12, p.insz);
	}
	/* Unknown sex and partly unknown birth date. */
	struct registry_person p = person("", "Mbeki", "Noah", "1999-04", "");
	assert_int_equal(registry_assign_bis(s, &p, &e), 0);
	struct insz z;
	assert_int_equal(insz_parse(p.insz, 11, &z), ID_OK);
	assert_int_equal(z.sex, SEX_UNKNOWN);
	assert_int_equal(z.birth_day, 0);
	p = person("", "Doe", "John", "", "");
	assert_int_equal(registry_assign_bis(s, &p, &e), 0);
	p = person("", "Doe", "John", "1999-02-30", "");
	assert_int_equal(registry_assign_bis(s, &p, &e), -1);
	/* Every sequence number for one date and sex taken: exhausted. */
	for (int i = 0; i < 499; i++) {
		p = person("", "Many", "Women", "2001-01-01", "F");
		assert_int_equal(registry_assign_bis(s, &p, &e), 0);
	}
	p = person("", "Many", "Women", "2001-01-01", "F");
	assert_int_equal(registry_assign_bis(s, &p, &e), -1);
	assert_string_equal(e.code, "bis_exhausted");
}

static struct registry_mutation mutation(enum registry_mutation_type t,
					 const char *on)
{
	struct registry_mutation m;
	memset(&m, 0, sizeof(m));
	m.type = t;
	str_copy(m.effective_on, sizeof(m.effective_on), on);
	return m;
}

static int count_mutations(const char *insz)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	sqlite3_open(tmp.path, &db);
	sqlite3_prepare_v2(db, "SELECT count(*) FROM person_mutation "
			       "WHERE insz = ?1", -1, &st, NULL);
	sqlite3_bind_text(st, 1, insz, -1, SQLITE_STATIC);
	sqlite3_step(st);
	int n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void mutations_by_the_authority(void **state)
{
	(void)state;
	struct error e;
	char ticket[UUID_LEN];
	struct registry_person jan = person("85073003328", "Peeters", "Jan",
					    "1985-07-30", "M");
	struct registry_person marie = person("90031524651", "Dubois", "Marie",
					      "1990-03-15", "F");
	assert_int_equal(registry_add(s, &jan, &e), 0);
	assert_int_equal(registry_add(s, &marie, &e), 0);

	struct registry_mutation m = mutation(MUTATION_ADDRESS, "2026-01-01");
	str_copy(m.person.street, sizeof(m.person.street), "Naamsestraat 22");
	str_copy(m.person.postal_code, sizeof(m.person.postal_code), "3000");
	str_copy(m.person.municipality, sizeof(m.person.municipality), "Leuven");
	/* Only the National Register changes an RR person. */
	assert_int_equal(registry_mutate(s, "85073003328", &m,
					 "health_insurance_fund", 7, ticket, &e), -1);
	assert_string_equal(e.code, "not_register_authority");
	assert_int_equal(registry_mutate(s, "85073003328", &m, "crossroads_bank",
					 7, ticket, &e), -1);
	assert_int_equal(count_mutations("85073003328"), 0);
	assert_int_equal(registry_mutate(s, "85073003328", &m,
					 "national_register", 7, ticket, &e), 0);
	assert_int_equal(strlen(ticket), 36);
	struct registry_person got;
	registry_get(s, "85073003328", &got, &e);
	assert_string_equal(got.street, "Naamsestraat 22");
	assert_int_equal(got.version, 2);
	assert_int_equal(count_mutations("85073003328"), 1);

	/* Name change, then death; a dead person changes no more. */
	m = mutation(MUTATION_NAME, "2026-02-01");
	str_copy(m.person.first_names, sizeof(m.person.first_names), "Jan Piet");
	assert_int_equal(registry_mutate(s, "85073003328", &m,
					 "national_register", 7, ticket, &e), 0);
	m = mutation(MUTATION_DEATH, "2099-01-01");
	assert_int_equal(registry_mutate(s, "85073003328", &m,
					 "national_register", 7, ticket, &e), -1);
	m = mutation(MUTATION_DEATH, "2026-03-01");
	assert_int_equal(registry_mutate(s, "85073003328", &m,
					 "national_register", 7, ticket, &e), 0);
	registry_get(s, "85073003328", &got, &e);
	assert_string_equal(got.deceased_on, "2026-03-01");
	assert_string_equal(got.first_names, "Jan Piet");
	m = mutation(MUTATION_NAME, "2026-04-01");
	str_copy(m.person.last_name, sizeof(m.person.last_name), "X");
	assert_int_equal(registry_mutate(s, "85073003328", &m,
					 "national_register", 7, ticket, &e), -1);
	assert_string_equal(e.code, "person_deceased");
	assert_int_equal(count_mutations("85073003328"), 3);

	/* Birth: a new RR number, linked to its parents. */
	m = mutation(MUTATION_BIRTH, "2012-09-03");
	m.person = person("", "Peeters", "Lotte", "", "F");
	str_copy(m.parents[0], 12, "85073003328");
	str_copy(m.parents[1], 12, "90031524651");
	m.nparents = 2;
	assert_int_equal(registry_mutate(s, "12090311839", &m,
					 "national_register", 7, ticket, &e), 0);
	assert_true(registry_is_parent(s, "90031524651", "12090311839"));
	assert_true(registry_is_parent(s, "85073003328", "12090311839"));
	assert_false(registry_is_parent(s, "12090311839", "85073003328"));
	assert_int_equal(registry_mutate(s, "12090311839", &m,
					 "national_register", 7, ticket, &e), -1);
	assert_string_equal(e.code, "person_exists");
	/* A parent nobody knows: the whole birth is refused. */
	m = mutation(MUTATION_BIRTH, "2001-01-01");
	m.person = person("", "Janssens", "Lucas", "", "M");
	str_copy(m.parents[0], 12, "78052216473");
	m.nparents = 1;
	assert_int_equal(registry_mutate(s, "01010100126", &m,
					 "national_register", 7, ticket, &e), -1);
	assert_int_equal(registry_get(s, "01010100126", &got, &e), 1);
	/* Unknown person. */
	m = mutation(MUTATION_DEATH, "2026-01-01");
	assert_int_equal(registry_mutate(s, "78052216473", &m,
					 "national_register", 7, ticket, &e), -1);
	assert_string_equal(e.code, "unknown_person");
}

static void bis_persons_belong_to_the_crossroads_bank(void **state)
{
	(void)state;
	struct error e;
	char ticket[UUID_LEN];
	struct registry_person p = person("", "Benali", "Ahmed", "1992-11-04", "M");
	assert_int_equal(registry_assign_bis(s, &p, &e), 0);
	struct registry_mutation m = mutation(MUTATION_ADDRESS, "2026-01-01");
	str_copy(m.person.street, sizeof(m.person.street), "Rue Neuve 1");
	str_copy(m.person.postal_code, sizeof(m.person.postal_code), "1000");
	str_copy(m.person.municipality, sizeof(m.person.municipality), "Brussel");
	assert_int_equal(registry_mutate(s, p.insz, &m, "national_register", 1,
					 ticket, &e), -1);
	assert_int_equal(registry_mutate(s, p.insz, &m, "crossroads_bank", 1,
					 ticket, &e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(add_and_find, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_persons_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(bis_numbers_are_assigned_once, setup, teardown),
		cmocka_unit_test_setup_teardown(mutations_by_the_authority, setup, teardown),
		cmocka_unit_test_setup_teardown(bis_persons_belong_to_the_crossroads_bank, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
