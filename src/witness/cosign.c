/*
 * Cosignatures (c2sp.org/tlog-cosignature, the Ed25519 type): a note
 * signature line whose key ID is SHA-256(name || 0x0A || 0x04 || pk)[:4]
 * and whose signature is a big-endian u64 timestamp followed by the
 * Ed25519 signature of
 *
 *   cosignature/v1\n
 *   time <timestamp>\n
 *   <the checkpoint's text, with its final newline>
 *
 * The header line keeps a cosignature from ever passing as the log's own
 * signature, or as a signature of anything else the key signs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "witness/witness.h"

#define COSIG_LEN (4 + 8 + crypto_sign_BYTES)
/* "cosignature/v1\ntime " and 20 digits and a newline. */
#define HEADER_MAX 48

size_t witness_vkey(const char *name, const uint8_t pk[ED25519_PK_LEN],
		    char *out)
{
	return audit_note_vkey_typed(name, AUDIT_SIG_COSIGNATURE, pk, out);
}

/* The signed message's two header lines into out; returns their length. */
static size_t header(uint64_t ts, char out[HEADER_MAX])
{
	int n = snprintf(out, HEADER_MAX, "cosignature/v1\ntime %llu\n",
			 (unsigned long long)ts);
	return (size_t)n;
}

/* The signed message, header || text, in one buffer (caller frees):
 * libsodium's multi-part API is Ed25519ph, another signature. Returns
 * NULL for a text longer than any checkpoint a witness takes. */
static uint8_t *message(uint64_t ts, const char *text, size_t len,
			size_t *n)
{
	char h[HEADER_MAX];
	size_t hn = header(ts, h);
	if (len > WITNESS_BODY_MAX)
		return NULL;
	uint8_t *m = xmalloc(hn + len);
	memcpy(m, h, hn);
	memcpy(m + hn, text, len);
	*n = hn + len;
	return m;
}

size_t witness_cosign(const char *text, size_t len, const char *name,
		      const uint8_t sk[ED25519_SK_LEN], uint64_t ts,
		      char *out)
{
	uint8_t pk[ED25519_PK_LEN];
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	uint32_t id = audit_note_key_id_typed(name, AUDIT_SIG_COSIGNATURE, pk);
	uint8_t raw[COSIG_LEN];
	for (int i = 0; i < 4; i++)
		raw[i] = (uint8_t)(id >> (24 - 8 * i));
	for (int i = 0; i < 8; i++)
		raw[4 + i] = (uint8_t)(ts >> (56 - 8 * i));
	size_t mn;
	uint8_t *m = message(ts, text, len, &mn);
	if (!m || ts > INT64_MAX) {
		free(m);
		return 0;
	}
	crypto_sign_detached(raw + 12, NULL, m, mn, sk);
	free(m);
	char b64[sodium_base64_ENCODED_LEN(COSIG_LEN,
					   sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(out, WITNESS_COSIG_LINE_MAX, "\xe2\x80\x94 %s %s",
			 name, b64);
	return n > 0 && n < WITNESS_COSIG_LINE_MAX ? (size_t)n : 0;
}

bool witness_cosignature_verify(const struct audit_note_sig *sig,
				const char *text, size_t len,
				const char *name,
				const uint8_t pk[ED25519_PK_LEN], uint64_t *ts)
{
	if (strcmp(sig->name, name) != 0 || sig->sig_len != COSIG_LEN - 4 ||
	    sig->key_id != audit_note_key_id_typed(name, AUDIT_SIG_COSIGNATURE,
						   pk))
		return false;
	uint64_t t = 0;
	for (int i = 0; i < 8; i++)
		t = t << 8 | sig->sig[i];
	size_t mn;
	uint8_t *m = t <= INT64_MAX ? message(t, text, len, &mn) : NULL;
	bool ok = m && crypto_sign_verify_detached(sig->sig + 8, m, mn, pk) == 0;
	free(m);
	if (ok)
		*ts = t;
	return ok;
}
