/*
 * Thin wrappers over libsodium, so that the rest of the code never calls a
 * primitive with the wrong length and every secret compare is constant-time.
 */
#include <ctype.h>
#include <stdatomic.h>
#include <string.h>

#include <sodium.h>

#include "base/base.h"

int crypto_setup(void)
{
	return sodium_init() < 0 ? -1 : 0;
}

void rand_bytes(void *buf, size_t n)
{
	randombytes_buf(buf, n);
}

uint32_t rand_uniform(uint32_t upper)
{
	return randombytes_uniform(upper);
}

void sha256_digest(const void *data, size_t n, uint8_t out[SHA256_LEN])
{
	crypto_hash_sha256(out, data, n);
}

void hex_encode(const uint8_t *in, size_t n, char *out)
{
	sodium_bin2hex(out, n * 2 + 1, in, n);
}

int hex_decode(const char *in, size_t inlen, uint8_t *out, size_t outlen)
{
	size_t got = 0;
	const char *end = NULL;
	if (inlen != outlen * 2)
		return -1;
	if (sodium_hex2bin(out, outlen, in, inlen, NULL, &got, &end) != 0 ||
	    got != outlen || end != in + inlen)
		return -1;
	return 0;
}

bool ct_equal(const void *a, const void *b, size_t n)
{
	return sodium_memcmp(a, b, n) == 0;
}

void secret_wipe(void *p, size_t n)
{
	sodium_memzero(p, n);
}

void ed25519_keypair(uint8_t pk[ED25519_PK_LEN], uint8_t sk[ED25519_SK_LEN])
{
	crypto_sign_keypair(pk, sk);
}

/* A ChaCha20 stream per thread, keyed once from the OS, with a fresh nonce
 * per call. A getrandom() system call per request costs more than the
 * rest of a /healthz answer. */
void rand_stream(void *out, size_t n)
{
	static _Thread_local struct {
		bool seeded;
		uint64_t counter;
		uint8_t key[crypto_stream_chacha20_KEYBYTES];
	} st;
	if (!st.seeded) {
		randombytes_buf(st.key, sizeof(st.key));
		st.seeded = true;
	}
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];
	memcpy(nonce, &st.counter, sizeof(nonce));
	st.counter++;
	crypto_stream_chacha20(out, n, nonce, st.key);
}

/* The last (milliseconds << 12 | counter) handed out: tickets made in the
 * same millisecond count up in rand_a (RFC 9562 section 6.2, method 1),
 * so a process's UUIDv7s are strictly ordered, not just by millisecond. */
static _Atomic uint64_t uuid7_last;

void uuid7_new(char out[UUID_LEN])
{
	/* The domain clock: a ticket's time agrees with its audit entry's,
	 * also under a test clock; the counter keeps them ordered if the
	 * clock is set back. */
	uint64_t now = (uint64_t)time_now_ms() << 12;
	uint64_t last = atomic_load(&uuid7_last), t;
	do
		t = now > last ? now : last + 1;
	while (!atomic_compare_exchange_weak(&uuid7_last, &last, t));
	uint64_t ms = t >> 12;
	uint8_t b[16];
	rand_stream(b, sizeof(b));
	for (int i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	b[6] = (uint8_t)(0x70 | ((t >> 8) & 0x0f)); /* version 7, counter */
	b[7] = (uint8_t)(t & 0xff);
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3f)); /* variant 10 */
	char hex[33];
	hex_encode(b, sizeof(b), hex);
	memcpy(out, hex, 8);
	out[8] = '-';
	memcpy(out + 9, hex + 8, 4);
	out[13] = '-';
	memcpy(out + 14, hex + 12, 4);
	out[18] = '-';
	memcpy(out + 19, hex + 16, 4);
	out[23] = '-';
	memcpy(out + 24, hex + 20, 12);
	out[36] = '\0';
}

void token_new(char out_hex[TOKEN_HEX_LEN], uint8_t hash[SHA256_LEN])
{
	uint8_t raw[32];
	rand_bytes(raw, sizeof(raw));
	hex_encode(raw, sizeof(raw), out_hex);
	secret_wipe(raw, sizeof(raw));
	sha256_digest(out_hex, TOKEN_HEX_LEN - 1, hash);
}

bool uuid_valid(const char *s)
{
	for (int i = 0; i < UUID_LEN - 1; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !isxdigit((unsigned char)s[i]))
			return false;
	}
	return s[UUID_LEN - 1] == '\0';
}
