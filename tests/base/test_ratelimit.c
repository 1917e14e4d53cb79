/* Token buckets: burst, refill, keys kept apart. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"

static void buckets(void **state)
{
	(void)state;
	struct ratelimit *r = ratelimit_new(2.0, 3.0, 64);
	for (int i = 0; i < 3; i++)
		assert_true(ratelimit_allow(r, "10.0.0.1", 8));
	assert_false(ratelimit_allow(r, "10.0.0.1", 8));
	/* Another key has its own bucket. */
	assert_true(ratelimit_allow(r, "10.0.0.2", 8));
	/* Two tokens a second: after 0.6 s, one more. */
	usleep(600000);
	assert_true(ratelimit_allow(r, "10.0.0.1", 8));
	assert_false(ratelimit_allow(r, "10.0.0.1", 8));
	ratelimit_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(buckets)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
