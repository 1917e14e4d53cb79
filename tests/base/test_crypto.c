/* Hashing, hex, tokens and UUIDv7 against known answers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "base/base.h"

static int setup(void **state)
{
	(void)state;
	return crypto_setup();
}

static void sha256_known_answer(void **state)
{
	(void)state;
	uint8_t h[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	sha256_digest("abc", 3, h);
	hex_encode(h, sizeof(h), hex);
	/* FIPS 180-2 example. */
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
}

static void hex_round_trip(void **state)
{
	(void)state;
	uint8_t in[4] = {0x00, 0xab, 0x7f, 0xff}, out[4];
	char hex[9];
	hex_encode(in, 4, hex);
	assert_string_equal(hex, "00ab7fff");
	assert_int_equal(hex_decode(hex, 8, out, 4), 0);
	assert_memory_equal(in, out, 4);
	assert_int_equal(hex_decode("00ab7ff", 7, out, 4), -1);
	assert_int_equal(hex_decode("00ab7fzz", 8, out, 4), -1);
	assert_int_equal(hex_decode("00AB7FFF", 8, out, 4), 0);
}

static void tokens_are_random_and_hashed(void **state)
{
	(void)state;
	char a[TOKEN_HEX_LEN], b[TOKEN_HEX_LEN];
	uint8_t ha[SHA256_LEN], hb[SHA256_LEN], check[SHA256_LEN];
	token_new(a, ha);
	token_new(b, hb);
	assert_int_equal(strlen(a), 64);
	assert_string_not_equal(a, b);
	sha256_digest(a, 64, check);
	assert_true(ct_equal(check, ha, SHA256_LEN));
	assert_false(ct_equal(ha, hb, SHA256_LEN));
}

static void uuid7_is_versioned_and_ordered(void **state)
{
	(void)state;
	char a[UUID_LEN], b[UUID_LEN];
	uuid7_new(a);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[14], '7');
	assert_true(strchr("89ab", a[19]) != NULL);
	assert_int_equal(a[8], '-');
	assert_int_equal(a[23], '-');
	/* Milliseconds, then a counter within the millisecond: a later
	 * UUID always sorts after an earlier one, even in the same
	 * millisecond (10,000 of them take about one). */
	for (int i = 0; i < 10000; i++) {
		uuid7_new(b);
		assert_true(strcmp(a, b) < 0);
		assert_int_equal(b[14], '7');
		memcpy(a, b, UUID_LEN);
	}
	assert_true(uuid_valid(a));
	assert_true(uuid_valid("01A204E7-C33A-77A3-9D3B-AC1FD1566B74"));
	assert_false(uuid_valid("01a204e7-c33a-77a3-9d3b-ac1fd1566b7"));
	assert_false(uuid_valid("01a204e7-c33a-77a3-9d3b-ac1fd1566b744"));
	assert_false(uuid_valid("01a204e7c33a-77a3-9d3b-ac1fd1566b74x"));
	assert_false(uuid_valid("01a204e7-c33a-77a3-9d3b-ac1fd1566b7g"));
	assert_false(uuid_valid(""));
}

static void wipe(void **state)
{
	(void)state;
	char s[8] = "secret!";
	secret_wipe(s, sizeof(s));
	for (size_t i = 0; i < sizeof(s); i++)
		assert_int_equal(s[i], 0);
	assert_true(rand_uniform(10) < 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sha256_known_answer),
		cmocka_unit_test(hex_round_trip),
		cmocka_unit_test(tokens_are_random_and_hashed),
		cmocka_unit_test(uuid7_is_versioned_and_ordered),
		cmocka_unit_test(wipe),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
