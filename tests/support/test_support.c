/* tests/support itself: the world it builds is what the other tests take
 * for granted, and the scratch store leaves nothing behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "support/support.h"

#include "authz/authz.h"
#include "directory/directory.h"
#include "org/org.h"
#include "registry/registry.h"

static void world(void **state)
{
	(void)state;
	struct ts_store t;
	struct ts_world w;
	struct error e;
	ts_clock_start();
	assert_int_equal(ts_store_open(&t, "support"), 0);
	assert_int_equal(ts_world_build(t.log, &w, &e), 0);
	assert_true(registry_is_parent(t.s, w.parent, w.child));
	struct org_institution inst;
	assert_int_equal(org_by_cert(t.s, w.fund_fp, time_now(),
						 &inst), 0);
	assert_int_equal(inst.id, w.fund);
	assert_true(w.dossier > 0);
	/* The same world twice is a conflict, not a second copy. */
	assert_int_equal(ts_world_build(t.log, &w, &e), -1);
	assert_int_equal(e.kind, ERR_CONFLICT);
	struct ts_dir d = t.dir;
	assert_int_equal(ts_store_close(&t), 0);
	struct stat st;
	assert_int_equal(stat(d.path, &st), -1);
	clock_reset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(world)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
