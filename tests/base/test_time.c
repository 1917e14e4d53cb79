/* Calendar arithmetic, RFC 3339 and the settable clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "base/base.h"

static struct date D(int y, int m, int d)
{
	return (struct date){y, m, d};
}

static void assert_date(struct date got, int y, int m, int d)
{
	assert_int_equal(got.y, y);
	assert_int_equal(got.m, m);
	assert_int_equal(got.d, d);
}

static void month_arithmetic_clamps_to_end_of_month(void **state)
{
	(void)state;
	assert_date(date_add_months(D(2025, 1, 31), 1), 2025, 2, 28);
	assert_date(date_add_months(D(2024, 1, 31), 1), 2024, 2, 29);
	assert_date(date_add_months(D(2024, 3, 31), 1), 2024, 4, 30);
	assert_date(date_add_months(D(2024, 11, 30), 3), 2025, 2, 28);
	assert_date(date_add_months(D(2024, 12, 15), 1), 2025, 1, 15);
	assert_date(date_add_months(D(2025, 3, 31), -1), 2025, 2, 28);
	assert_date(date_add_months(D(2025, 1, 15), -13), 2023, 12, 15);
	assert_date(date_add_months(D(2000, 2, 29), 12), 2001, 2, 28);
	assert_date(date_add_months(D(2025, 5, 10), 0), 2025, 5, 10);
}

static void days_round_trip(void **state)
{
	(void)state;
	assert_int_equal(date_to_days(D(1970, 1, 1)), 0);
	assert_int_equal(date_to_days(D(2000, 3, 1)), 11017);
	assert_int_equal(date_to_days(D(1969, 12, 31)), -1);
	for (int64_t z = -600000; z < 800000; z += 37) {
		struct date d = date_from_days(z);
		assert_true(date_valid(d.y, d.m, d.d));
		assert_int_equal(date_to_days(d), z);
	}
}

static void leap_years(void **state)
{
	(void)state;
	assert_int_equal(date_days_in_month(2000, 2), 29);
	assert_int_equal(date_days_in_month(1900, 2), 28);
	assert_int_equal(date_days_in_month(2024, 2), 29);
	assert_int_equal(date_days_in_month(2023, 2), 28);
	assert_int_equal(date_days_in_month(2023, 13), 0);
	assert_false(date_valid(2023, 2, 29));
	assert_false(date_valid(2023, 0, 1));
	assert_false(date_valid(2023, 4, 31));
}

static void date_text(void **state)
{
	(void)state;
	struct date d;
	char s[DATE_LEN];
	assert_int_equal(date_parse("2026-01-31", &d), 0);
	assert_date(d, 2026, 1, 31);
	date_format(d, s);
	assert_string_equal(s, "2026-01-31");
	assert_int_equal(date_parse("2026-02-30", &d), -1);
	assert_int_equal(date_parse("2026-1-31", &d), -1);
	assert_int_equal(date_parse("2026-01-31T", &d), -1);
	assert_int_equal(date_parse("20260131", &d), -1);
	assert_int_equal(date_parse("", &d), -1);
	assert_int_equal(date_parse(NULL, &d), -1);
	assert_int_equal(date_cmp(D(2026, 1, 31), D(2026, 2, 1)), -1);
	assert_int_equal(date_cmp(D(2026, 2, 1), D(2026, 2, 1)), 0);
}

static void rfc3339(void **state)
{
	(void)state;
	char s[RFC3339_LEN];
	int64_t t;
	time_format_rfc3339(0, s);
	assert_string_equal(s, "1970-01-01T00:00:00Z");
	time_format_rfc3339(1769860800, s);
	assert_string_equal(s, "2026-01-31T12:00:00Z");
	assert_int_equal(time_parse_rfc3339("2026-01-31T12:00:00Z", &t), 0);
	assert_int_equal(t, 1769860800);
	assert_int_equal(time_parse_rfc3339("2026-01-31T13:30:00+01:30", &t), 0);
	assert_int_equal(t, 1769860800);
	assert_int_equal(time_parse_rfc3339("2026-01-31T12:00:00.123456Z", &t), 0);
	assert_int_equal(t, 1769860800);
	assert_int_equal(time_parse_rfc3339("2026-01-31 12:00:00Z", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-01-31T12:00:00", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-01-31T24:00:00Z", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-01-31T12:00:00Zjunk", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-02-31T12:00:00Z", &t), -1);
	assert_int_equal(time_parse_rfc3339("2026-01-31T12:00:00.Z", &t), -1);
	/* Now formats and parses back (on a set clock: "today" read a moment
	 * later cannot fall on the next day). */
	clock_set_ms(INT64_C(1769860799999));
	int64_t now = time_now();
	assert_int_equal(now, 1769860799);
	time_format_rfc3339(now, s);
	assert_int_equal(time_parse_rfc3339(s, &t), 0);
	assert_int_equal(t, now);
	struct date today = date_today();
	assert_int_equal(date_cmp(today, date_from_time(now)), 0);
	clock_reset();
}

/* The test clock: every reading follows it while set, the real clock
 * comes back when reset. */
static void settable_clock(void **state)
{
	(void)state;
	clock_set_ms(INT64_C(1769903999500)); /* 2026-01-31T23:59:59.500Z */
	assert_int_equal(time_now_ms(), INT64_C(1769903999500));
	assert_int_equal(time_now(), 1769903999);
	assert_int_equal(time_tick_ns(), UINT64_C(1769903999500) * 1000000u);
	char d[DATE_LEN];
	date_format(date_today(), d);
	assert_string_equal(d, "2026-01-31");
	/* It stands still until moved. */
	assert_int_equal(time_now_ms(), INT64_C(1769903999500));
	clock_advance_ms(500);
	assert_int_equal(time_now(), 1769904000);
	date_format(date_today(), d);
	assert_string_equal(d, "2026-02-01");
	clock_reset();
	/* Real again: past the time this test was written, and moving. */
	assert_true(time_now() > 1769904000);
	/* Unset, an advance starts from the real time. */
	int64_t before = time_now_ms();
	clock_advance_ms(86400 * 1000);
	assert_true(time_now_ms() >= before + 86400 * 1000);
	clock_reset();
}

/* Condition-variable deadlines are on the real clock, normalised. */
static void deadlines(void **state)
{
	(void)state;
	clock_set_ms(0);
	struct timespec t;
	time_deadline(&t, 1999);
	assert_true(t.tv_sec > 1769904000);
	assert_true(t.tv_nsec >= 0 && t.tv_nsec < 1000000000L);
	clock_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(month_arithmetic_clamps_to_end_of_month),
		cmocka_unit_test(days_round_trip),
		cmocka_unit_test(leap_years),
		cmocka_unit_test(date_text),
		cmocka_unit_test(rfc3339),
		cmocka_unit_test(settable_clock),
		cmocka_unit_test(deadlines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
