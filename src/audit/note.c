/*
 * Checkpoints as C2SP signed notes (c2sp.org/signed-note,
 * c2sp.org/tlog-checkpoint), so that any tool of the transparency-log
 * world (Go's sumdb/note, the witnesses, tlog clients) can check the
 * audit log's root without knowing kruispunt's own checkpoint text.
 *
 * The note is made when asked for, from the newest stored checkpoint:
 * Ed25519 signatures are deterministic, so the same tree always gives the
 * same note, and no second signature needs storing. libsodium signs and
 * encodes; nothing here is cryptography of its own.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit_internal.h"

#define SIG_TYPE_ED25519 0x01
#define KEY_ID_LEN 4
/* "— " in UTF-8: U+2014 em dash, then a space. */
static const char sig_prefix[] = "\xe2\x80\x94 ";

bool audit_origin_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > AUDIT_ORIGIN_MAX)
		return false;
	for (const char *c = s; *c; c++)
		if (*c <= ' ' || *c > '~' || *c == '+')
			return false;
	return true;
}

int audit_origin_default(const char *public_url, char *out)
{
	const char *p = strstr(public_url, "://");
	p = p ? p + 3 : public_url;
	size_t n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	if (n > 0 && n + 4 <= AUDIT_ORIGIN_MAX) {
		snprintf(out, AUDIT_ORIGIN_MAX + 1, "%.*s/log", (int)n, p);
		if (audit_origin_valid(out))
			return 0;
	}
	str_copy(out, AUDIT_ORIGIN_MAX + 1, AUDIT_ORIGIN_FALLBACK);
	return -1;
}

uint32_t audit_note_key_id(const char *name, const uint8_t pk[ED25519_PK_LEN])
{
	static const uint8_t sep[2] = {'\n', SIG_TYPE_ED25519};
	uint8_t h[SHA256_LEN];
	crypto_hash_sha256_state st;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
	crypto_hash_sha256_update(&st, sep, sizeof(sep));
	crypto_hash_sha256_update(&st, pk, ED25519_PK_LEN);
	crypto_hash_sha256_final(&st, h);
	return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 |
	       (uint32_t)h[2] << 8 | h[3];
}

size_t audit_note_vkey(const char *name, const uint8_t pk[ED25519_PK_LEN],
		       char *out)
{
	uint8_t typed[1 + ED25519_PK_LEN] = {SIG_TYPE_ED25519};
	memcpy(typed + 1, pk, ED25519_PK_LEN);
	char b64[sodium_base64_ENCODED_LEN(sizeof(typed),
					   sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), typed, sizeof(typed),
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(out, AUDIT_VKEY_MAX, "%s+%08x+%s", name,
			 (unsigned)audit_note_key_id(name, pk), b64);
	return n > 0 && n < AUDIT_VKEY_MAX ? (size_t)n : 0;
}

size_t audit_note_sign(const char *text, size_t len, const char *name,
		       const uint8_t sk[ED25519_SK_LEN], char *out, size_t cap)
{
	uint8_t pk[ED25519_PK_LEN];
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	uint32_t id = audit_note_key_id(name, pk);
	uint8_t sig[KEY_ID_LEN + crypto_sign_BYTES] = {
		(uint8_t)(id >> 24), (uint8_t)(id >> 16), (uint8_t)(id >> 8),
		(uint8_t)id};
	crypto_sign_detached(sig + KEY_ID_LEN, NULL, (const uint8_t *)text, len,
			     sk);
	char b64[sodium_base64_ENCODED_LEN(sizeof(sig),
					   sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig),
			  sodium_base64_VARIANT_ORIGINAL);
	if (len == 0 || text[len - 1] != '\n' || len >= cap)
		return 0;
	memcpy(out, text, len);
	int n = snprintf(out + len, cap - len, "\n%s%s %s\n", sig_prefix, name,
			 b64);
	return n > 0 && (size_t)n < cap - len ? len + (size_t)n : 0;
}

/* The note text of a checkpoint: origin, size, base64 root, each a line. */
static size_t checkpoint_body(const char *origin,
			      const struct audit_checkpoint *cp, char *out,
			      size_t cap)
{
	char root[sodium_base64_ENCODED_LEN(SHA256_LEN,
					    sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(root, sizeof(root), cp->root, SHA256_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(out, cap, "%s\n%llu\n%s\n", origin,
			 (unsigned long long)cp->tree_size, root);
	return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

size_t audit_checkpoint_note(struct audit *a, char *out, uint64_t *size)
{
	struct audit_checkpoint cp;
	if (audit_checkpoint_latest(audit_store(a), &cp) != 0)
		return 0;
	char body[AUDIT_NOTE_MAX];
	size_t n = checkpoint_body(audit_origin(a), &cp, body, sizeof(body));
	if (size)
		*size = cp.tree_size;
	return n ? audit_sign_note(a, body, n, out, AUDIT_NOTE_MAX) : 0;
}

size_t audit_vkey(struct audit *a, char *out)
{
	uint8_t pk[ED25519_PK_LEN];
	audit_public_key(a, pk);
	return audit_note_vkey(audit_origin(a), pk, out);
}
