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

#include "support/support.h"
#include "cli/modules.h"
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
	int n;
	struct registry_person p = person("85073003328", "Peeters", "Jan",
					  "1985-07-30", "M");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), 0);
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1);
	assert_string_equal(e.code, "person_exists");
	struct audit_record *ev;
	n = ts_events(tmp.log, "person_add", &ev);
	const char *const want[][3] = {
		{"person_add", "granted", ""},
		{"person_add", "refused", "person_exists"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[0].subject, "85073003328");
	assert_string_equal(ev[0].data_type, "identification");
	assert_string_equal(ev[0].channel, "cli");
	free(ev);
	struct registry_person got;
	assert_int_equal(registry_get(s, "85073003328", &got, &e), 0);
	assert_string_equal(got.register_, "RR");
	assert_string_equal(got.municipality, "Leuven");
	assert_int_equal(registry_get(s, "90031524651", &got, &e), 1);
	struct registry_person *found;
	assert_int_equal(registry_find(s, "PEETERS", "jan", "1985-07-30", &found,
				       &n, 10, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(found[0].insz, "85073003328");
	free(found);
	assert_int_equal(registry_find(s, "Peeters", "Jan", "1985-07-31", &found,
				       &n, 10, &e), 0);
	assert_int_equal(n, 0);
	free(found);
	/* As an officer types a foreign document's name: no accents, any
	 * case, one of the given names. */
	struct registry_person seb = person("83061814038",
					    "Müller-Lüdenscheid",
					    "Sébastien François", "1983-06-18",
					    "F");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &seb, &e), 0);
	static const char *const asked[][2] = {
		{"MULLER-LUDENSCHEID", "sebastien"},
		{"müller-lüdenscheid", "FRANCOIS"},
		{"Muller-Ludenscheid", "Sebastien Francois"}};
	for (size_t i = 0; i < KP_NELEM(asked); i++) {
		assert_int_equal(registry_find(s, asked[i][0], asked[i][1],
					       "1983-06-18", &found, &n, 10,
					       &e), 0);
		assert_int_equal(n, 1);
		assert_string_equal(found[0].insz, "83061814038");
		free(found);
	}
	/* Otherwise exactly: no prefixes, no other spelling. */
	static const char *const missed[][2] = {
		{"Muller", "Sebastien"}, {"Muller-Ludenscheid", "Seb"},
		{"Mueller-Luedenscheid", "Sebastien"}};
	for (size_t i = 0; i < KP_NELEM(missed); i++) {
		assert_int_equal(registry_find(s, missed[i][0], missed[i][1],
					       "1983-06-18", &found, &n, 10,
					       &e), 0);
		assert_int_equal(n, 0);
		free(found);
	}
}

static void bad_persons_are_refused(void **state)
{
	(void)state;
	struct error e;
	struct registry_person p = person("85073003329", "Peeters", "Jan",
					  "1985-07-30", "M");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1);
	assert_string_equal(e.code, "invalid_insz");
	p = person("85073003328", "Peeters", "Jan", "1985-07-31", "M");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1); /* date disagrees */
	p = person("85073003328", "Peeters", "Jan", "1985-07-30", "F");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1); /* sex disagrees */
	p = person("85073003328", "", "Jan", "1985-07-30", "M");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1);
	p = person("85073003328", "Pee\nters", "Jan", "1985-07-30", "M");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1);
	p = person("85073003328", "Peeters", "Jan", "1985-07-30", "M");
	str_copy(p.country, sizeof(p.country), "be");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1);
	p = person("85073003328", "Peeters", "Jan", "1985-07-30", "M");
	str_copy(p.language, sizeof(p.language), "xx");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1);
	struct registry_person got;
	assert_int_equal(registry_get(s, "85073003328", &got, &e), 1);
}

static void bis_numbers_are_assigned_once(void **state)
{
	(void)state;
	struct error e;
	char seen[10][INSZ_BUF];
	/* Ten men born the same day: ten persons, by their names. */
	static const char *const names[10] = {
		"Ahmed", "Karim", "Youssef", "Omar", "Bilal",
		"Hamza", "Mehdi", "Samir", "Nabil", "Rachid"};
	for (int i = 0; i < 10; i++) {
		struct registry_person p = person("", "Benali", names[i],
						  "1992-11-04", "M");
		assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p, NULL, &e), 0);
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
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p, NULL, &e), 0);
	struct insz z;
	assert_int_equal(insz_parse(p.insz, 11, &z), ID_OK);
	assert_int_equal(z.sex, SEX_UNKNOWN);
	assert_int_equal(z.birth_day, 0);
	p = person("", "Doe", "John", "", "");
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p, NULL, &e), 0);
	p = person("", "Doe", "John", "1999-02-30", "");
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p, NULL, &e), -1);
	/* Every sequence number for one date and sex taken: exhausted. */
	for (int i = 0; i < 499; i++) {
		char first[8] = {'A', 'n', (char)('a' + i / 26),
				 (char)('a' + i % 26), '\0'};
		p = person("", "Many", first, "2001-01-01", "F");
		assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p, NULL, &e), 0);
	}
	p = person("", "Many", "Zoe", "2001-01-01", "F");
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p, NULL, &e), -1);
	assert_string_equal(e.code, "bis_exhausted");
	assert_string_equal(p.insz, "");
	/* Each assignment is recorded about the number it gave, known only
	 * in the transaction that took it; a refusal names nobody. */
	struct audit_record *ev;
	int n = ts_events(tmp.log, "bis_assignment", &ev);
	assert_int_equal(n, 10 + 3 + 499 + 1);
	for (int i = 0; i < 10; i++) {
		assert_string_equal(ev[i].outcome, "granted");
		assert_string_equal(ev[i].subject, seen[i]);
	}
	assert_string_equal(ev[12].reason, "invalid_field");
	assert_string_equal(ev[12].subject, "");
	assert_string_equal(ev[n - 1].reason, "bis_exhausted");
	assert_string_equal(ev[n - 1].subject, "");
	free(ev);
}

/* As the National Register does, nobody is numbered twice: a request
 * that describes a registered person (names without case, birth date and
 * sex as given; either register) gets that person's number, recorded as
 * a "bis_match" about them; several matches are refused, not guessed. */
static void a_person_is_numbered_once(void **state)
{
	(void)state;
	struct error e;
	bool existing = true;
	struct registry_person p = person("", "Benali", "Ahmed", "1992-11-04",
					  "M");
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p,
					     &existing, &e), 0);
	assert_false(existing);
	char first[INSZ_BUF];
	str_copy(first, sizeof(first), p.insz);
	p = person("", "BENALI", "ahmed", "1992-11-04", "M");
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p,
					     &existing, &e), 0);
	assert_true(existing);
	assert_string_equal(p.insz, first);
	/* Another birth date or sex is another person. */
	p = person("", "Benali", "Ahmed", "1992-11-05", "M");
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p,
					     &existing, &e), 0);
	assert_false(existing);
	/* A person of the National Register gets no BIS number. */
	p = person("85073003328", "Peeters", "Jan", "1985-07-30", "M");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), 0);
	p = person("", "Peeters", "Jan", "1985-07-30", "M");
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p,
					     &existing, &e), 0);
	assert_true(existing);
	assert_string_equal(p.insz, "85073003328");
	/* Two registered persons alike: refused, nobody named. */
	p = person("85073000556", "Peeters", "Jan", "1985-07-30", "M");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), 0);
	p = person("", "Peeters", "Jan", "1985-07-30", "M");
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p,
					     &existing, &e), -1);
	assert_string_equal(e.code, "person_ambiguous");
	assert_false(existing);
	assert_string_equal(p.insz, "");
	struct audit_record *ev;
	int n = ts_events(tmp.log, "bis_match", &ev);
	assert_int_equal(n, 2);
	assert_string_equal(ev[0].subject, first);
	assert_string_equal(ev[1].subject, "85073003328");
	free(ev);
	n = ts_events(tmp.log, "bis_assignment", &ev);
	assert_int_equal(n, 3);
	assert_string_equal(ev[2].reason, "person_ambiguous");
	assert_string_equal(ev[2].subject, "");
	free(ev);
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

/* The first column of sql's one row for insz, on the test's reader:
 * its integer into *n or its text into out (when not NULL). */
static void mutation_row(const char *sql, const char *insz, int64_t *n,
			 char *out, size_t len)
{
	struct store_stmt *st = store_prepare(store_reader(tmp.s), sql);
	store_bind_text(st, 1, insz);
	if (out)
		out[0] = '\0';
	if (store_step(st) == STORE_ROW) {
		if (n)
			*n = store_col_int(st, 0);
		if (out && store_col_text(st, 0))
			str_copy(out, len, store_col_text(st, 0));
	}
	store_done(st);
}

static int count_mutations(const char *insz)
{
	int64_t n = -1;
	mutation_row("SELECT count(*) FROM person_mutation WHERE insz = ?1",
		     insz, &n, NULL, 0);
	return (int)n;
}

/* Every mutation above is recorded, granted ones with their ticket. */
static void mutations_recorded(const char *birth_ticket)
{
	struct audit_record *ev;
	int n = ts_events(tmp.log, "registry_mutation", &ev);
	const char *const want[][3] = {
		{"registry_mutation", "refused", "not_register_authority"},
		{"registry_mutation", "refused", "not_register_authority"},
		{"registry_mutation", "granted", ""},
		{"registry_mutation", "granted", ""},
		{"registry_mutation", "refused", "invalid_field"},
		{"registry_mutation", "granted", ""},
		{"registry_mutation", "refused", "person_deceased"},
		{"registry_mutation", "granted", ""},
		{"registry_mutation", "refused", "person_exists"},
		{"registry_mutation", "refused", "link_invalid"},
		{"registry_mutation", "refused", "unknown_person"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[0].subject, "85073003328");
	assert_string_equal(ev[0].ticket, "");
	assert_int_equal(strlen(ev[2].ticket), 36);
	assert_string_equal(ev[7].subject, "12090311839");
	assert_string_equal(ev[7].ticket, birth_ticket);
	assert_string_equal(ev[9].ticket, "");
	free(ev);
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
	assert_int_equal(registry_add(tmp.log, &ts_operator, &jan, &e), 0);
	assert_int_equal(registry_add(tmp.log, &ts_operator, &marie, &e), 0);

	struct registry_mutation m = mutation(MUTATION_ADDRESS, "2026-01-01");
	str_copy(m.person.street, sizeof(m.person.street), "Naamsestraat 22");
	str_copy(m.person.postal_code, sizeof(m.person.postal_code), "3000");
	str_copy(m.person.municipality, sizeof(m.person.municipality), "Leuven");
	/* Only the National Register changes an RR person. */
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m,
					 "health_insurance_fund", 7, ticket, &e), -1);
	assert_string_equal(e.code, "not_register_authority");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m, "crossroads_bank",
					 7, ticket, &e), -1);
	assert_int_equal(count_mutations("85073003328"), 0);
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m,
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
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m,
					 "national_register", 7, ticket, &e), 0);
	m = mutation(MUTATION_DEATH, "2099-01-01");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m,
					 "national_register", 7, ticket, &e), -1);
	m = mutation(MUTATION_DEATH, "2026-03-01");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m,
					 "national_register", 7, ticket, &e), 0);
	registry_get(s, "85073003328", &got, &e);
	assert_string_equal(got.deceased_on, "2026-03-01");
	assert_string_equal(got.first_names, "Jan Piet");
	m = mutation(MUTATION_NAME, "2026-04-01");
	str_copy(m.person.last_name, sizeof(m.person.last_name), "X");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m,
					 "national_register", 7, ticket, &e), -1);
	assert_string_equal(e.code, "person_deceased");
	assert_int_equal(count_mutations("85073003328"), 3);

	/* Birth: a new RR number, linked to its parents. */
	m = mutation(MUTATION_BIRTH, "2012-09-03");
	m.person = person("", "Peeters", "Lotte", "", "F");
	str_copy(m.parents[0], 12, "85073003328");
	str_copy(m.parents[1], 12, "90031524651");
	m.nparents = 2;
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "12090311839", &m,
					 "national_register", 7, ticket, &e), 0);
	assert_true(registry_is_parent(s, "90031524651", "12090311839"));
	assert_true(registry_is_parent(s, "85073003328", "12090311839"));
	assert_false(registry_is_parent(s, "12090311839", "85073003328"));
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "12090311839", &m,
					 "national_register", 7, ticket, &e), -1);
	assert_string_equal(e.code, "person_exists");
	char birth[UUID_LEN];
	str_copy(birth, sizeof(birth), ticket);
	/* A parent nobody knows: the whole birth is refused. */
	m = mutation(MUTATION_BIRTH, "2001-01-01");
	m.person = person("", "Janssens", "Lucas", "", "M");
	str_copy(m.parents[0], 12, "78052216473");
	m.nparents = 1;
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "01010100126", &m,
					 "national_register", 7, ticket, &e), -1);
	assert_int_equal(registry_get(s, "01010100126", &got, &e), 1);
	/* Unknown person. */
	m = mutation(MUTATION_DEATH, "2026-01-01");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "78052216473", &m,
					 "national_register", 7, ticket, &e), -1);
	assert_string_equal(e.code, "unknown_person");
	mutations_recorded(birth);
}

/* Item 3: the registers as they stood on a date, from the current row and
 * the mutations effective after it, undone newest first. */
static void as_of_a_date(void **state)
{
	(void)state;
	struct error e;
	char ticket[UUID_LEN];
	struct registry_person jan = person("85073003328", "Peeters", "Jan",
					    "1985-07-30", "M");
	struct registry_person marie = person("90031524651", "Dubois", "Marie",
					      "1990-03-15", "F");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &jan, &e), 0);
	assert_int_equal(registry_add(tmp.log, &ts_operator, &marie, &e), 0);
	struct registry_mutation m = mutation(MUTATION_ADDRESS, "2026-01-01");
	str_copy(m.person.street, sizeof(m.person.street), "Naamsestraat 22");
	str_copy(m.person.postal_code, sizeof(m.person.postal_code), "3000");
	str_copy(m.person.municipality, sizeof(m.person.municipality), "Leuven");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m,
					 "national_register", 7, ticket, &e), 0);
	m = mutation(MUTATION_ADDRESS, "2026-02-01");
	str_copy(m.person.street, sizeof(m.person.street), "Tiensestraat 1");
	str_copy(m.person.postal_code, sizeof(m.person.postal_code), "3000");
	str_copy(m.person.municipality, sizeof(m.person.municipality), "Leuven");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m,
					 "national_register", 7, ticket, &e), 0);
	m = mutation(MUTATION_DEATH, "2026-03-01");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "85073003328", &m,
					 "national_register", 7, ticket, &e), 0);
	struct registry_person got;
	assert_int_equal(registry_get_as_of(s, "85073003328", "2026-03-01", &got, &e), 0);
	assert_string_equal(got.deceased_on, "2026-03-01");
	assert_string_equal(got.street, "Tiensestraat 1");
	assert_int_equal(registry_get_as_of(s, "85073003328", "2026-02-15", &got, &e), 0);
	assert_string_equal(got.deceased_on, "");
	assert_string_equal(got.street, "Tiensestraat 1");
	assert_int_equal(registry_get_as_of(s, "85073003328", "2026-01-15", &got, &e), 0);
	assert_string_equal(got.street, "Naamsestraat 22");
	assert_int_equal(registry_get_as_of(s, "85073003328", "2025-12-31", &got, &e), 0);
	assert_string_equal(got.street, "Kerkstraat 1"); /* as added */
	assert_string_equal(got.last_name, "Peeters");
	/* Before a birth the registers knew nobody. */
	m = mutation(MUTATION_BIRTH, "2012-09-03");
	m.person = person("", "Peeters", "Lotte", "", "F");
	str_copy(m.parents[0], 12, "90031524651");
	m.nparents = 1;
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "12090311839", &m,
					 "national_register", 7, ticket, &e), 0);
	assert_int_equal(registry_get_as_of(s, "12090311839", "2012-09-03", &got, &e), 0);
	assert_int_equal(registry_get_as_of(s, "12090311839", "2012-09-02", &got, &e), 1);
	assert_int_equal(registry_get_as_of(s, "77010100141", "2026-01-01", &got, &e), 1);
}

/* The value of a column of person_mutation's newest row for insz. */
static char *last_mutation(const char *insz, const char *column)
{
	/* A literal per column: the store caches statements by their text's
	 * address. */
	static const char *const sql[][2] = {
		{"type", "SELECT type FROM person_mutation WHERE insz = ?1 "
			 "ORDER BY id DESC LIMIT 1"},
		{"before", "SELECT before FROM person_mutation WHERE insz = ?1 "
			   "ORDER BY id DESC LIMIT 1"},
		{"after", "SELECT after FROM person_mutation WHERE insz = ?1 "
			  "ORDER BY id DESC LIMIT 1"},
	};
	static char out[256];
	for (size_t i = 0; i < KP_NELEM(sql); i++)
		if (strcmp(sql[i][0], column) == 0)
			mutation_row(sql[i][1], insz, NULL, out, sizeof(out));
	return out;
}

static int pension_mutate(const char *status, const char *on,
			  const char *actor_type, struct error *e)
{
	char ticket[UUID_LEN];
	struct registry_mutation m = mutation(MUTATION_PENSION, on);
	str_copy(m.person.pension_status, sizeof(m.person.pension_status),
		 status);
	return registry_mutate(tmp.log, &ts_operator, "59010100151", &m,
			       actor_type, 7, ticket, e);
}

/* Whether a person is retired, and since when: stored as added, changed
 * only by a pension mutation of the register's authority, with its
 * history, and named as pension data in the log. */
static void pension_status(void **state)
{
	(void)state;
	struct error e;
	struct registry_person p = person("59010100151", "Maes", "Lieve",
					  "1959-01-01", "M");
	struct registry_person got;
	str_copy(p.pension_status, sizeof(p.pension_status), "pensioned");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	str_copy(p.pension_status, sizeof(p.pension_status), "");
	str_copy(p.pension_since, sizeof(p.pension_since), "2024-01-01");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), -1);
	assert_non_null(strstr(e.detail, "pension_since"));
	str_copy(p.pension_status, sizeof(p.pension_status), "none");
	str_copy(p.pension_since, sizeof(p.pension_since), "");
	assert_int_equal(registry_add(tmp.log, &ts_operator, &p, &e), 0);
	assert_int_equal(registry_get(s, "59010100151", &got, &e), 0);
	assert_string_equal(got.pension_status, "none");
	assert_string_equal(got.pension_since, "");

	/* Only the National Register changes it; a status is needed, and
	 * one that is a fact already. */
	assert_int_equal(pension_mutate("retired", "2024-02-01",
					"health_insurance_fund", &e), -1);
	assert_string_equal(e.code, "not_register_authority");
	assert_int_equal(pension_mutate("retired", "2024-02-01",
					"crossroads_bank", &e), -1);
	assert_int_equal(pension_mutate("", "2024-02-01", "national_register",
					&e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(pension_mutate("early", "2024-02-01",
					"national_register", &e), -1);
	assert_int_equal(pension_mutate("retired", "2099-01-01",
					"national_register", &e), -1);
	assert_non_null(strstr(e.detail, "pension"));
	assert_int_equal(count_mutations("59010100151"), 0);
	registry_get(s, "59010100151", &got, &e);
	assert_string_equal(got.pension_status, "none");

	assert_int_equal(pension_mutate("retired", "2024-02-01",
					"national_register", &e), 0);
	registry_get(s, "59010100151", &got, &e);
	assert_string_equal(got.pension_status, "retired");
	assert_string_equal(got.pension_since, "2024-02-01");
	assert_int_equal(got.version, 2);
	assert_string_equal(last_mutation("59010100151", "type"), "pension");
	assert_string_equal(last_mutation("59010100151", "before"),
			    "{\"pension_status\":\"none\","
			    "\"pension_since\":null}");
	assert_string_equal(last_mutation("59010100151", "after"),
			    "{\"pension_status\":\"retired\","
			    "\"pension_since\":\"2024-02-01\"}");
	/* As the registers stood: not yet retired the day before. */
	assert_int_equal(registry_get_as_of(s, "59010100151", "2024-01-31",
					    &got, &e), 0);
	assert_string_equal(got.pension_status, "none");
	assert_string_equal(got.pension_since, "");
	assert_int_equal(registry_get_as_of(s, "59010100151", "2024-02-01",
					    &got, &e), 0);
	assert_string_equal(got.pension_status, "retired");

	struct audit_record *ev;
	int n = ts_events(tmp.log, "registry_mutation", &ev);
	const char *const want[][3] = {
		{"registry_mutation", "refused", "not_register_authority"},
		{"registry_mutation", "refused", "not_register_authority"},
		{"registry_mutation", "refused", "invalid_field"},
		{"registry_mutation", "refused", "invalid_field"},
		{"registry_mutation", "refused", "invalid_field"},
		{"registry_mutation", "granted", ""},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	for (int i = 0; i < n; i++)
		assert_string_equal(ev[i].data_type, "pension_status");
	assert_int_equal(strlen(ev[5].ticket), 36);
	free(ev);
	/* A newborn is nobody's pensioner, whatever the birth carried. */
	char ticket[UUID_LEN];
	struct registry_mutation b = mutation(MUTATION_BIRTH, "2012-09-03");
	b.person = person("", "Maes", "Lotte", "", "F");
	str_copy(b.person.pension_status, sizeof(b.person.pension_status),
		 "retired");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, "12090311839",
					 &b, "national_register", 7, ticket,
					 &e), 0);
	assert_int_equal(registry_get(s, "12090311839", &got, &e), 0);
	assert_string_equal(got.pension_status, "");
}

/* Every module's migrations up to (not past) version, into schemas
 * (static storage: one database at a time). */
static size_t schemas_until(int version,
			    const struct store_schema *schemas[])
{
	static struct store_migration list[64];
	static struct store_schema each[16];
	size_t used = 0;
	assert_true(cli_nschemas <= KP_NELEM(each));
	for (size_t i = 0; i < cli_nschemas; i++) {
		each[i] = (struct store_schema){cli_schemas[i]->module,
						list + used, 0};
		for (size_t j = 0; j < cli_schemas[i]->n; j++)
			if (cli_schemas[i]->list[j].version <= version) {
				assert_true(used < KP_NELEM(list));
				list[used++] = cli_schemas[i]->list[j];
				each[i].n++;
			}
		schemas[i] = &each[i];
	}
	return cli_nschemas;
}

/* Migration 21 rebuilds person_mutation to let its CHECK take pension
 * mutations: the history a database had stays, with the ids the hub's
 * forwarder and the mailboxes name it by, and its index. */
static void pension_migration_keeps_the_history(void **state)
{
	(void)state;
	char path[256];
	struct error e;
	struct store *old;
	const struct store_schema *schemas[16];
	struct store_options opt = {.schemas = schemas};
	opt.nschemas = schemas_until(20, schemas);
	ts_db_location(&tmp.dir, "v20.db", path, sizeof(path));
	assert_int_equal(store_open(path, &opt, &old, &e), 0);
	assert_int_equal(store_schema_version(old), 20);
	assert_int_equal(ts_exec(old, "INSERT INTO person (insz, register, "
	       "last_name, first_names, version, updated_at) VALUES "
	       "('85073003328', 'RR', 'Peeters', 'Jan', 2, 0)"), STORE_DONE);
	assert_int_equal(ts_exec(old, "INSERT INTO person_mutation (id, insz, "
	       "type, ticket, effective_on, recorded_at, before, after) VALUES "
	       "(5, '85073003328', 'address', 't5', '2026-01-01', 0, '{}', "
	       "'{}'), (9, '85073003328', 'name', 't9', '2026-01-02', 0, "
	       "NULL, '{}')"), STORE_DONE);
	assert_int_equal(ts_exec(old, "INSERT INTO person_mutation (insz, "
	       "type, ticket, effective_on, recorded_at) VALUES ('85073003328', "
	       "'pension', 'tp', '2026-01-03', 0)"), STORE_CONSTRAINT);
	store_close(old);

	struct store *now;
	assert_int_equal(cli_store_open(path, NULL, &now, &e), 0);
	assert_int_equal(store_schema_version(now), cli_schema_latest());
	assert_int_equal(ts_int(now, "SELECT count(*) FROM person_mutation"), 2);
	assert_int_equal(ts_int(now, "SELECT count(*) FROM person_mutation "
	       "WHERE (id = 5 AND type = 'address' AND ticket = 't5') OR "
	       "(id = 9 AND type = 'name' AND ticket = 't9')"), 2);
	assert_int_equal(ts_int(now, ts_pg()
	       ? "SELECT count(*) FROM pg_indexes WHERE schemaname = "
		 "current_schema() AND indexname = 'person_mutation_by_person'"
	       : "SELECT count(*) FROM sqlite_schema WHERE name = "
		 "'person_mutation_by_person'"), 1);
	assert_int_equal(ts_int(now, "SELECT count(*) FROM person WHERE "
	       "pension_status IS NULL"), 1);
	assert_int_equal(ts_exec(now, "INSERT INTO person_mutation (insz, "
	       "type, ticket, effective_on, recorded_at) VALUES ('85073003328', "
	       "'pension', 'tp', '2026-01-03', 0)"), STORE_DONE);
	assert_int_equal(ts_exec(now, "INSERT INTO person_mutation (insz, "
	       "type, ticket, effective_on, recorded_at) VALUES ('85073003328', "
	       "'marriage', 'tm', '2026-01-03', 0)"), STORE_CONSTRAINT);
	/* The foreign key to person holds too. */
	assert_int_equal(ts_exec(now, "INSERT INTO person_mutation (insz, "
	       "type, ticket, effective_on, recorded_at) VALUES ('77010100141', "
	       "'pension', 'tx', '2026-01-03', 0)"), STORE_CONSTRAINT);
	store_close(now);
}

static void bis_persons_belong_to_the_crossroads_bank(void **state)
{
	(void)state;
	struct error e;
	char ticket[UUID_LEN];
	struct registry_person p = person("", "Benali", "Ahmed", "1992-11-04", "M");
	assert_int_equal(registry_assign_bis(tmp.log, &ts_operator, &p, NULL, &e), 0);
	struct registry_mutation m = mutation(MUTATION_ADDRESS, "2026-01-01");
	str_copy(m.person.street, sizeof(m.person.street), "Rue Neuve 1");
	str_copy(m.person.postal_code, sizeof(m.person.postal_code), "1000");
	str_copy(m.person.municipality, sizeof(m.person.municipality), "Brussel");
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, p.insz, &m, "national_register", 1,
					 ticket, &e), -1);
	assert_int_equal(registry_mutate(tmp.log, &ts_operator, p.insz, &m, "crossroads_bank", 1,
					 ticket, &e), 0);
}

/* A load is one transaction and one event, whatever its size; a load
 * with one bad person adds nobody. */
static void bulk_import_and_links(void **state)
{
	(void)state;
	struct error e;
	struct registry_person p[3] = {
		person("85073003328", "Peeters", "Jan", "1985-07-30", "M"),
		person("90031524651", "Dubois", "Marie", "1990-03-15", "F"),
		person("12090311839", "Peeters", "Lotte", "2012-09-03", "F"),
	};
	struct registry_person got;
	str_copy(p[2].language, sizeof(p[2].language), "xx");
	assert_int_equal(registry_import(tmp.log, &ts_operator, p, 3, &e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(registry_get(s, "85073003328", &got, &e), 1);
	str_copy(p[2].language, sizeof(p[2].language), "nl");
	assert_int_equal(registry_import(tmp.log, &ts_operator, p, 3, &e), 0);
	assert_int_equal(registry_get(s, "12090311839", &got, &e), 0);
	struct audit_record *ev;
	int n = ts_events(tmp.log, NULL, &ev);
	const char *const want[][3] = {
		{"registry_import", "refused", "invalid_field"},
		{"registry_import", "granted", ""},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	assert_string_equal(ev[1].purpose, "3 persons");
	assert_string_equal(ev[1].subject, "");
	free(ev);

	/* A parent link is about both persons. */
	assert_int_equal(registry_link_parent(tmp.log, &ts_operator,
					      "12090311839", "85073003328",
					      &e), 0);
	assert_int_equal(registry_link_parent(tmp.log, &ts_operator,
					      "12090311839", "12090311839",
					      &e), -1);
	assert_string_equal(e.code, "invalid_insz");
	assert_true(registry_is_parent(s, "85073003328", "12090311839"));
	n = ts_events(tmp.log, "parent_link", &ev);
	const char *const links[][3] = {
		{"parent_link", "granted", ""},
		{"parent_link", "granted", ""},
		{"parent_link", "refused", "invalid_insz"},
	};
	assert_true(ts_events_are(ev, n, links, KP_NELEM(links)));
	assert_string_equal(ev[0].subject, "12090311839");
	assert_string_equal(ev[1].subject, "85073003328");
	free(ev);
}

/* A parent link that cannot be true is refused and recorded so: the child
 * among the parent's ancestors, or a parent not born before the child. */
static void implausible_parent_links(void **state)
{
	(void)state;
	struct error e;
	/* Jan's birth date unknown, so only the cycle check can stop him. */
	struct registry_person p[3] = {
		person("85073003328", "Peeters", "Jan", "", "M"),
		person("90031524651", "Dubois", "Marie", "1990-03-15", "F"),
		person("12090311839", "Peeters", "Lotte", "2012-09-03", "F"),
	};
	assert_int_equal(registry_import(tmp.log, &ts_operator, p, 3, &e), 0);
	const char *jan = p[0].insz, *marie = p[1].insz, *lotte = p[2].insz;
	assert_int_equal(registry_link_parent(tmp.log, &ts_operator, lotte,
					      marie, &e), 0);
	/* Lotte, born 2012, cannot be the parent of Marie, born 1990. */
	assert_int_equal(registry_link_parent(tmp.log, &ts_operator, marie,
					      lotte, &e), -1);
	assert_string_equal(e.code, "link_implausible");
	assert_false(registry_is_parent(s, lotte, marie));
	/* Jan parent of Marie, then Lotte parent of Jan: a cycle. */
	assert_int_equal(registry_link_parent(tmp.log, &ts_operator, marie,
					      jan, &e), 0);
	assert_int_equal(registry_link_parent(tmp.log, &ts_operator, jan,
					      lotte, &e), -1);
	assert_string_equal(e.code, "link_implausible");
	assert_false(registry_is_parent(s, lotte, jan));
	struct audit_record *ev;
	int n = ts_events(tmp.log, "parent_link", &ev);
	const char *const want[][3] = {
		{"parent_link", "granted", ""},
		{"parent_link", "granted", ""},
		{"parent_link", "refused", "link_implausible"},
		{"parent_link", "refused", "link_implausible"},
		{"parent_link", "granted", ""},
		{"parent_link", "granted", ""},
		{"parent_link", "refused", "link_implausible"},
		{"parent_link", "refused", "link_implausible"},
	};
	assert_true(ts_events_are(ev, n, want, KP_NELEM(want)));
	free(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(add_and_find, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_persons_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_person_is_numbered_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(bis_numbers_are_assigned_once, setup, teardown),
		cmocka_unit_test_setup_teardown(mutations_by_the_authority, setup, teardown),
		cmocka_unit_test_setup_teardown(as_of_a_date, setup, teardown),
		cmocka_unit_test_setup_teardown(pension_status, setup, teardown),
		cmocka_unit_test_setup_teardown(pension_migration_keeps_the_history,
						setup, teardown),
		cmocka_unit_test_setup_teardown(bis_persons_belong_to_the_crossroads_bank, setup, teardown),
		cmocka_unit_test_setup_teardown(bulk_import_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(implausible_parent_links, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
