/* INSZ and KBO rules. Reference numbers were computed independently (the
 * mod-97 rule by hand) and include numbers that look right but fail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

static enum id_status parse(const char *s, struct insz *out)
{
	return insz_parse(s, strlen(s), out);
}

static void rr_before_2000(void **state)
{
	(void)state;
	struct insz z;
	assert_int_equal(parse("85073003328", &z), ID_OK);
	assert_string_equal(z.digits, "85073003328");
	assert_int_equal(z.kind, INSZ_RR);
	assert_int_equal(z.birth_year, 1985);
	assert_int_equal(z.birth_month, 7);
	assert_int_equal(z.birth_day, 30);
	assert_int_equal(z.sequence, 33);
	assert_int_equal(z.sex, SEX_MALE); /* odd sequence */
	assert_int_equal(parse("84041211754", &z), ID_OK);
	assert_int_equal(z.sequence, 117);
}

static void rr_from_2000_uses_prefix_2(void **state)
{
	(void)state;
	struct insz z;
	assert_int_equal(parse("12090311839", &z), ID_OK);
	assert_int_equal(z.birth_year, 2012);
	assert_int_equal(z.sex, SEX_FEMALE); /* 118 is even */
	assert_int_equal(parse("01010100126", &z), ID_OK);
	assert_int_equal(z.birth_year, 2001);
	/* 29 Feb 2000 exists (2000 is a leap year) ... */
	assert_int_equal(parse("00022900541", &z), ID_OK);
	assert_int_equal(z.birth_year, 2000);
	/* ... 29 Feb 1900 does not: the register writes such a day when a
	 * day's counter ran out, so the number is valid, its day unknown. */
	assert_int_equal(parse("00022900512", &z), ID_OK);
	assert_int_equal(z.birth_year, 1900);
	assert_int_equal(z.birth_month, 2);
	assert_int_equal(z.birth_day, 0);
}

static void formatted_input_is_normalised(void **state)
{
	(void)state;
	struct insz z;
	assert_int_equal(parse("85.07.30-033.28", &z), ID_OK);
	assert_string_equal(z.digits, "85073003328");
	assert_int_equal(parse("85 07 30 033 28", &z), ID_OK);
	assert_int_equal(parse("850730-033-28", &z), ID_OK);
	assert_int_equal(parse(" 85073003328", &z), ID_OK);
}

static void looks_right_but_fails_the_check(void **state)
{
	(void)state;
	/* The example in the citizen guide (seed 002) is illustrative only. */
	assert_int_equal(parse("82010734251", NULL), ID_BAD_CHECKSUM);
	assert_int_equal(parse("85073003329", NULL), ID_BAD_CHECKSUM);
	/* Check digits valid only for a birth in 2085: the 20xx form counts
	 * only for a year that has begun. */
	assert_int_equal(parse("85073003357", NULL), ID_BAD_CHECKSUM);
	assert_int_equal(parse("12090311838", NULL), ID_BAD_CHECKSUM);
	/* Two digits swapped keep the length, lose the check. */
	assert_int_equal(parse("85070303328", NULL), ID_BAD_CHECKSUM);
}

static void malformed_input(void **state)
{
	(void)state;
	assert_int_equal(parse("", NULL), ID_EMPTY);
	assert_int_equal(parse("...", NULL), ID_EMPTY);
	assert_int_equal(parse("8507300332", NULL), ID_BAD_LENGTH);
	assert_int_equal(parse("850730033280", NULL), ID_BAD_LENGTH);
	assert_int_equal(parse("85O73003328", NULL), ID_BAD_CHAR);
	assert_int_equal(parse("85073003328;", NULL), ID_BAD_CHAR);
	assert_int_equal(parse("85.07.30.033.28.........................", NULL),
			 ID_TOO_LONG);
	assert_int_equal(insz_parse(NULL, 0, NULL), ID_EMPTY);
	/* An embedded NUL is not a separator. */
	assert_int_equal(insz_parse("8507300\0" "3328", 12, NULL), ID_BAD_CHAR);
}

static void bad_dates_and_sequences(void **state)
{
	(void)state;
	char n[INSZ_BUF];
	/* Compose numbers with valid check digits around bad fields by hand:
	 * month 13 (9 digits 851330033). */
	assert_int_equal(parse("85133003370", NULL), ID_BAD_DATE);
	/* Month 15 is neither RR (<=12) nor BIS (20-32, 40-52). */
	assert_int_equal(parse("85153003384", NULL), ID_BAD_DATE);
	/* 31 April: a day past the month's end marks an exhausted counter,
	 * the day is unknown (IT000). */
	struct insz z;
	assert_int_equal(parse("85043103374", &z), ID_OK);
	assert_int_equal(z.birth_month, 4);
	assert_int_equal(z.birth_day, 0);
	/* Counters 000 and 999 are issued too. */
	assert_int_equal(parse("85073000061", NULL), ID_OK);
	assert_int_equal(parse("85073099932", NULL), ID_OK);
	/* A birth date in the future cannot be in a register. */
	assert_int_equal(insz_compose(INSZ_RR, 2099, 1, 1, true, 1, n),
			 ID_BAD_DATE);
}

static void bis_numbers(void **state)
{
	(void)state;
	struct insz z;
	/* +40: sex known. */
	assert_int_equal(parse("85473003317", &z), ID_OK);
	assert_int_equal(z.kind, INSZ_BIS);
	assert_int_equal(z.birth_month, 7);
	assert_int_equal(z.sex, SEX_MALE);
	/* +20: sex unknown, whatever the sequence parity. */
	assert_int_equal(parse("85273003371", &z), ID_OK);
	assert_int_equal(z.kind, INSZ_BIS);
	assert_int_equal(z.birth_month, 7);
	assert_int_equal(z.sex, SEX_UNKNOWN);
	/* Unknown birth date: month 00 (+40 / +20), day 00. */
	assert_int_equal(parse("00400000185", &z), ID_OK);
	assert_int_equal(z.birth_month, 0);
	assert_int_equal(z.birth_day, 0);
	assert_int_equal(parse("00200000241", &z), ID_OK);
	assert_int_equal(z.sex, SEX_UNKNOWN);
}

/* python-stdnum 2.2's own test vectors for stdnum.be.nn and stdnum.be.bis
 * (module docstrings and tests/test_be_nn.doctest, test_be_bis.doctest),
 * the reference most integrators validate with: an INSZ is valid exactly
 * when one of the two accepts it. year, month, day 0: not known; sex 'M',
 * 'F' or '?'. */
static const struct {
	const char *number;
	enum id_status status;
	int year, month, day;
	char sex;
} stdnum_vectors[] = {
	/* stdnum.be.nn */
	{"85.07.30-033 28", ID_OK, 1985, 7, 30, 'M'},
	{"85 07 30 033 28", ID_OK, 1985, 7, 30, 'M'},
	{"17 07 30 033 84", ID_OK, 2017, 7, 30, 'M'},
	{"12345678901", ID_BAD_CHECKSUM, 0, 0, 0, 0},
	{"00000100166", ID_OK, 0, 0, 0, 'M'},  /* fictitious 1900-00-01 */
	{"00000100195", ID_OK, 0, 0, 0, 'M'},  /* fictitious 2000-00-01 */
	{"00000000128", ID_OK, 2000, 0, 0, 'M'}, /* only the year known */
	{"00010000135", ID_OK, 2000, 1, 0, 'M'}, /* year and month known */
	{"85073500107", ID_OK, 1985, 7, 0, 'M'}, /* day 35: unknown day */
	{"85133000105", ID_BAD_DATE, 0, 0, 0, 0}, /* month 13 */
	{"75.06.08-980.09", ID_OK, 1975, 6, 8, 'F'},
	/* stdnum.be.bis */
	{"98.47.28-997.65", ID_OK, 1998, 7, 28, 'M'},
	{"01 49 07 001 85", ID_OK, 2001, 9, 7, 'M'},
	{"75.46.08-980.95", ID_OK, 1975, 6, 8, 'F'},
	{"00400100155", ID_OK, 0, 0, 0, 'M'},  /* fictitious 1900-00-01 */
	{"00200100112", ID_OK, 0, 0, 0, '?'},  /* ... and sex unknown */
	{"00400100184", ID_OK, 0, 0, 0, 'M'},  /* fictitious 2000-00-01 */
	{"00200100141", ID_OK, 0, 0, 0, '?'},
	{"00400000117", ID_OK, 2000, 0, 0, 'M'},
	{"00200000171", ID_OK, 2000, 0, 0, '?'},
	{"00410000124", ID_OK, 2000, 1, 0, 'M'},
	{"00210000178", ID_OK, 2000, 1, 0, '?'},
	{"85473500193", ID_OK, 1985, 7, 0, 'M'},
	{"85273500150", ID_OK, 1985, 7, 0, '?'},
	{"75.26.08-980.52", ID_OK, 1975, 6, 8, '?'},
	{"85533000191", ID_BAD_DATE, 0, 0, 0, 0}, /* month 53 */
	{"85333000148", ID_BAD_DATE, 0, 0, 0, 0}, /* month 33 */
};

static void python_stdnum_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(stdnum_vectors) / sizeof(stdnum_vectors[0]);
	     i++) {
		struct insz z;
		enum id_status st = parse(stdnum_vectors[i].number, &z);
		if (st != stdnum_vectors[i].status)
			fail_msg("%s: status %d, expected %d",
				 stdnum_vectors[i].number, st,
				 stdnum_vectors[i].status);
		if (st != ID_OK)
			continue;
		char sex = z.sex == SEX_MALE ? 'M' : z.sex == SEX_FEMALE ? 'F'
									: '?';
		if (z.birth_year != stdnum_vectors[i].year ||
		    z.birth_month != stdnum_vectors[i].month ||
		    z.birth_day != stdnum_vectors[i].day ||
		    sex != stdnum_vectors[i].sex)
			fail_msg("%s: %04d-%02d-%02d %c", stdnum_vectors[i].number,
				 z.birth_year, z.birth_month, z.birth_day, sex);
	}
}

static void compose_round_trips(void **state)
{
	(void)state;
	char n[INSZ_BUF];
	struct insz z;
	assert_int_equal(insz_compose(INSZ_RR, 1985, 7, 30, true, 33, n), ID_OK);
	assert_string_equal(n, "85073003328");
	assert_int_equal(insz_compose(INSZ_BIS, 1985, 7, 30, true, 33, n), ID_OK);
	assert_string_equal(n, "85473003317");
	assert_int_equal(insz_compose(INSZ_BIS, 1985, 7, 30, false, 33, n), ID_OK);
	assert_string_equal(n, "85273003371");
	assert_int_equal(insz_compose(INSZ_RR, 2012, 9, 3, true, 118, n), ID_OK);
	assert_string_equal(n, "12090311839");
	/* Every day of a leap year, both sexes, round-trips through parse. */
	for (int m = 1; m <= 12; m++) {
		for (int d = 1; d <= date_days_in_month(2004, m); d++) {
			for (int seq = 997; seq <= 998; seq++) {
				assert_int_equal(insz_compose(INSZ_BIS, 2004, m, d,
							      true, seq, n), ID_OK);
				assert_int_equal(parse(n, &z), ID_OK);
				assert_int_equal(z.birth_year, 2004);
				assert_int_equal(z.birth_month, m);
				assert_int_equal(z.birth_day, d);
				assert_int_equal(z.sex, seq % 2 ? SEX_MALE : SEX_FEMALE);
			}
		}
	}
	assert_int_equal(insz_compose(INSZ_RR, 1985, 2, 30, true, 1, n), ID_BAD_DATE);
	assert_int_equal(insz_compose(INSZ_RR, 1985, 0, 3, true, 1, n), ID_BAD_DATE);
	assert_int_equal(insz_compose(INSZ_RR, 1985, 1, 1, true, 0, n), ID_BAD_SEQUENCE);
	assert_int_equal(insz_compose(INSZ_RR, 1985, 1, 1, true, 999, n), ID_BAD_SEQUENCE);
}

static void kbo_numbers(void **state)
{
	(void)state;
	char k[11];
	assert_int_equal(kbo_parse("0203201340", 10, k), ID_OK);
	assert_string_equal(k, "0203201340");
	const char *f = "0203.201.340";
	assert_int_equal(kbo_parse(f, strlen(f), k), ID_OK);
	assert_string_equal(k, "0203201340");
	f = "BE 0403.170.701";
	assert_int_equal(kbo_parse(f, strlen(f), k), ID_OK);
	assert_string_equal(k, "0403170701");
	f = "be0202239951";
	assert_int_equal(kbo_parse(f, strlen(f), k), ID_OK);
	/* Numbers starting with 1 exist since September 2023. */
	assert_true(kbo_valid("1001234592"));
	/* Looks right, fails the check. */
	assert_false(kbo_valid("0203201341"));
	assert_false(kbo_valid("1001234567"));
	assert_int_equal(kbo_parse("0203201314", 10, NULL), ID_BAD_CHECKSUM);
	/* A first digit other than 0 or 1 is refused before the check
	 * (2203201382 has valid check digits). */
	assert_int_equal(kbo_parse("2203201382", 10, NULL), ID_BAD_PREFIX);
	assert_int_equal(kbo_parse("203201340", 9, NULL), ID_BAD_LENGTH);
	assert_int_equal(kbo_parse("0203 201 34O", 12, NULL), ID_BAD_CHAR);
	assert_int_equal(kbo_parse("BE", 2, NULL), ID_EMPTY);
	assert_int_equal(kbo_parse("XE0203201340", 12, NULL), ID_BAD_CHAR);
}

static void status_codes_are_stable(void **state)
{
	(void)state;
	assert_string_equal(id_status_code(ID_BAD_CHECKSUM), "bad_checksum");
	assert_string_equal(id_status_code(ID_BAD_DATE), "bad_date");
	assert_string_equal(id_status_code((enum id_status)99), "invalid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rr_before_2000),
		cmocka_unit_test(python_stdnum_vectors),
		cmocka_unit_test(rr_from_2000_uses_prefix_2),
		cmocka_unit_test(formatted_input_is_normalised),
		cmocka_unit_test(looks_right_but_fails_the_check),
		cmocka_unit_test(malformed_input),
		cmocka_unit_test(bad_dates_and_sequences),
		cmocka_unit_test(bis_numbers),
		cmocka_unit_test(compose_round_trips),
		cmocka_unit_test(kbo_numbers),
		cmocka_unit_test(status_codes_are_stable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
