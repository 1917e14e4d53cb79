/* Names as an officer compares them: text_fold. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

static void folds_case_accents_and_ligatures(void **state)
{
	(void)state;
	static const char *const pairs[][2] = {
		{"Peeters", "peeters"},
		{"Sébastien François", "sebastien francois"},
		{"MÜLLER-LÜDENSCHEID", "muller-ludenscheid"},
		{"Ægidius Œuvray", "aegidius oeuvray"},
		{"Łukasz Żółć", "lukasz zolc"},
		{"Straße", "strasse"},
		{"Ĳsbrand", "ijsbrand"},
		{"Ελένη", "Ελένη"}, /* not Latin: kept */
		{"", ""},
	};
	char out[64];
	for (size_t i = 0; i < KP_NELEM(pairs); i++) {
		assert_true(text_fold(pairs[i][0], out, sizeof(out)));
		assert_string_equal(out, pairs[i][1]);
	}
}

static void refuses_what_it_cannot_fold(void **state)
{
	(void)state;
	char out[8];
	assert_false(text_fold("\xc3\x28", out, sizeof(out))); /* bad UTF-8 */
	assert_false(text_fold("abcdefgh", out, sizeof(out))); /* too long */
	assert_true(text_fold("abcdefg", out, sizeof(out)));
	assert_false(text_fold("abcdef\xc3\x86", out, sizeof(out))); /* ae */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(folds_case_accents_and_ligatures),
		cmocka_unit_test(refuses_what_it_cannot_fold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
