/* The demo population uses only valid identifiers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "demo/demo.h"

static void every_identifier_is_valid(void **state)
{
	(void)state;
	assert_int_equal(demo_check_data(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_identifier_is_valid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
