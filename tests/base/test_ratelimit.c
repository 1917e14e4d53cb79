/* Token buckets: burst, refill, keys kept apart, all on the test clock
 * (a real sleep would count tokens that a slow, sanitized run earned in
 * the meantime). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "base/base.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */

static void buckets(void **state)
{
	(void)state;
	clock_set_ms(T0);
	struct ratelimit *r = ratelimit_new(2.0, 3.0, 64);
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_allow(r, "10.0.0.1", 8));
	assert_false(ratelimit_allow(r, "10.0.0.1", 8));
	/* Another key has its own bucket. */
	assert_true(ratelimit_allow(r, "10.0.0.2", 8));
	/* Two tokens a second: half a token after 250 ms, one after 500. */
	clock_advance_ms(250);
	assert_false(ratelimit_allow(r, "10.0.0.1", 8));
	clock_advance_ms(250);
	assert_true(ratelimit_allow(r, "10.0.0.1", 8));
	assert_false(ratelimit_allow(r, "10.0.0.1", 8));
	ratelimit_free(r);
	clock_reset();
}

/* A bucket fills up to its burst and no further, however long it rests. */
static void refill_stops_at_burst(void **state)
{
	(void)state;
	clock_set_ms(T0);
	struct ratelimit *r = ratelimit_new(2.0, 3.0, 64);
	assert_true(ratelimit_allow(r, "k", 1));
	clock_advance_ms(3600 * 1000);
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_allow(r, "k", 1));
	assert_false(ratelimit_allow(r, "k", 1));
	ratelimit_free(r);
	clock_reset();
}

/* A clock set back earns nothing (no unsigned wrap to a full bucket), and
 * time counts again from there. */
static void clock_back_earns_nothing(void **state)
{
	(void)state;
	clock_set_ms(T0);
	struct ratelimit *r = ratelimit_new(1.0, 1.0, 64);
	assert_true(ratelimit_allow(r, "k", 1));
	clock_set_ms(T0 - 60 * 1000);
	assert_false(ratelimit_allow(r, "k", 1));
	clock_advance_ms(1000);
	assert_true(ratelimit_allow(r, "k", 1));
	ratelimit_free(r);
	clock_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(buckets),
		cmocka_unit_test(refill_stops_at_burst),
		cmocka_unit_test(clock_back_earns_nothing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
