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
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit_internal.h"

#define SIG_TYPE_ED25519 AUDIT_SIG_ED25519
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
	return audit_note_key_id_typed(name, SIG_TYPE_ED25519, pk);
}

uint32_t audit_note_key_id_typed(const char *name, uint8_t type,
				 const uint8_t pk[ED25519_PK_LEN])
{
	const uint8_t sep[2] = {'\n', type};
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

size_t audit_note_vkey_typed(const char *name, uint8_t type,
			     const uint8_t pk[ED25519_PK_LEN], char *out)
{
	uint8_t typed[1 + ED25519_PK_LEN] = {type};
	memcpy(typed + 1, pk, ED25519_PK_LEN);
	char b64[sodium_base64_ENCODED_LEN(sizeof(typed),
					   sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(b64, sizeof(b64), typed, sizeof(typed),
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(out, AUDIT_VKEY_MAX, "%s+%08x+%s", name,
			 (unsigned)audit_note_key_id_typed(name, type, pk), b64);
	return n > 0 && n < AUDIT_VKEY_MAX ? (size_t)n : 0;
}

size_t audit_note_vkey(const char *name, const uint8_t pk[ED25519_PK_LEN],
		       char *out)
{
	return audit_note_vkey_typed(name, SIG_TYPE_ED25519, pk, out);
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
	/* A node whose key a rotation retired must not sign the log's newer
	 * trees with it: clients that still trust the old key would take
	 * its word past the end of its term. The checkpoint is read first:
	 * a hand-over committed after that read names this tree or a later
	 * one, so the tree is within the term of any key still newest now. */
	if (audit_checkpoint_latest(audit_store(a), &cp) != 0)
		return 0;
	char body[AUDIT_NOTE_MAX];
	size_t n = checkpoint_body(audit_origin(a), &cp, body, sizeof(body));
	if (size)
		*size = cp.tree_size;
	n = n ? writer_sign_current(a, cp.key_id, body, n, out, AUDIT_NOTE_MAX)
	      : 0;
	return n ? cosignatures_append(audit_store(a), cp.tree_size, out, n,
				       AUDIT_NOTE_MAX)
		 : 0;
}

size_t audit_vkey(struct audit *a, char *out)
{
	uint8_t pk[ED25519_PK_LEN];
	audit_public_key(a, pk);
	return audit_note_vkey(audit_origin(a), pk, out);
}

/* ------------------------------------------------------------ verifying */

/* Decode standard base64 s[0..n) into out (at most cap bytes). Returns the
 * length, or -1 for anything but canonical, padded base64. */
static long b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	size_t len;
	const char *end;
	if (n == 0 || sodium_base642bin(out, cap, s, n, NULL, &len, &end,
					sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != s + n)
		return -1;
	return (long)len;
}

int audit_vkey_parse(const char *vkey, uint8_t type, char *name,
		     uint8_t pk[ED25519_PK_LEN])
{
	const char *p1 = strchr(vkey, '+');
	const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
	if (!p1 || !p2 || p1 == vkey || p2 - p1 != 9 ||
	    (size_t)(p1 - vkey) > AUDIT_ORIGIN_MAX)
		return -1;
	memcpy(name, vkey, (size_t)(p1 - vkey));
	name[p1 - vkey] = '\0';
	uint8_t id[4], typed[1 + ED25519_PK_LEN + 1];
	if (!audit_origin_valid(name) || hex_decode(p1 + 1, 8, id, 4) != 0 ||
	    b64_decode(p2 + 1, strlen(p2 + 1), typed, sizeof(typed)) !=
		    1 + ED25519_PK_LEN ||
	    typed[0] != type)
		return -1;
	memcpy(pk, typed + 1, ED25519_PK_LEN);
	uint32_t want = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 |
			(uint32_t)id[2] << 8 | id[3];
	return audit_note_key_id_typed(name, type, pk) == want ? 0 : -1;
}

int audit_note_sig_parse(const char *line, size_t n,
			 struct audit_note_sig *out)
{
	size_t plen = sizeof(sig_prefix) - 1;
	if (n <= plen || memcmp(line, sig_prefix, plen) != 0)
		return -1;
	const char *name = line + plen;
	const char *sp = memchr(name, ' ', n - plen);
	if (!sp || (size_t)(sp - name) > AUDIT_ORIGIN_MAX)
		return -1;
	memcpy(out->name, name, (size_t)(sp - name));
	out->name[sp - name] = '\0';
	uint8_t raw[4 + sizeof(out->sig)];
	long len = b64_decode(sp + 1, (size_t)(line + n - sp - 1), raw,
			      sizeof(raw));
	if (!audit_origin_valid(out->name) || len < 4)
		return -1;
	out->key_id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
		      (uint32_t)raw[2] << 8 | raw[3];
	out->sig_len = (size_t)len - 4;
	memcpy(out->sig, raw + 4, out->sig_len);
	return 0;
}

/* The start of the last "\n\n" in note[0..len), or NULL. */
static const char *last_blank_line(const char *note, size_t len)
{
	for (size_t i = len; i >= 2; i--)
		if (note[i - 2] == '\n' && note[i - 1] == '\n')
			return note + i - 2;
	return NULL;
}

/* A signature line this code cannot hold (another algorithm's longer
 * signature, an ML-DSA cosignature): well-formed, so ignored rather than
 * refused, as signed-note asks of unknown keys. */
static bool foreign_sig_line(const char *line, size_t n)
{
	size_t plen = sizeof(sig_prefix) - 1;
	if (n <= plen || memcmp(line, sig_prefix, plen) != 0)
		return false;
	const char *sp = memchr(line + plen, ' ', n - plen);
	if (!sp || sp == line + plen)
		return false;
	for (const char *c = sp + 1; c < line + n; c++)
		if (!isalnum((unsigned char)*c) && *c != '+' && *c != '/' &&
		    *c != '=')
			return false;
	return sp + 1 < line + n;
}

/* signed-note: UTF-8, and no control character but the newline. */
static bool note_text_valid(const char *note, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)note[i] < 0x20 && note[i] != '\n') ||
		    note[i] == 0x7f)
			return false;
	return utf8_valid(note, len);
}

int audit_note_parse(const char *note, size_t len, size_t *text_len,
		     struct audit_note_sig *sigs, size_t max, size_t *n)
{
	const char *blank = last_blank_line(note, len);
	if (!blank || note[len - 1] != '\n' || !note_text_valid(note, len))
		return -1;
	*text_len = (size_t)(blank - note) + 1;
	*n = 0;
	const char *p = blank + 2, *end = note + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ln = (size_t)(nl - p);
		if (*n < max && audit_note_sig_parse(p, ln, &sigs[*n]) == 0)
			(*n)++;
		else if (!foreign_sig_line(p, ln))
			return -1;
		p = nl + 1;
	}
	return *n > 0 ? 0 : -1;
}

bool audit_note_verify(const char *text, size_t len,
		       const struct audit_note_sig *sigs, size_t n,
		       const char *name, const uint8_t pk[ED25519_PK_LEN])
{
	uint32_t id = audit_note_key_id_typed(name, SIG_TYPE_ED25519, pk);
	for (size_t i = 0; i < n; i++)
		if (sigs[i].key_id == id && strcmp(sigs[i].name, name) == 0 &&
		    sigs[i].sig_len == crypto_sign_BYTES &&
		    crypto_sign_verify_detached(sigs[i].sig,
						(const uint8_t *)text, len,
						pk) == 0)
			return true;
	return false;
}

/* A tree size line: decimal, no leading zeros, at most 2^63 - 1. */
static int size_parse(const char *s, size_t n, uint64_t *out)
{
	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

int audit_checkpoint_parse(const char *text, size_t len, char *origin,
			   uint64_t *size, uint8_t root[SHA256_LEN])
{
	const char *line[3], *end = text + len;
	size_t n[3];
	const char *p = text;
	for (int i = 0; i < 3; i++) {
		const char *nl = p < end ? memchr(p, '\n', (size_t)(end - p))
					 : NULL;
		if (!nl)
			return -1;
		line[i] = p;
		n[i] = (size_t)(nl - p);
		p = nl + 1;
	}
	if (n[0] == 0 || n[0] > AUDIT_ORIGIN_MAX)
		return -1;
	memcpy(origin, line[0], n[0]);
	origin[n[0]] = '\0';
	if (!audit_origin_valid(origin) || size_parse(line[1], n[1], size) != 0)
		return -1;
	uint8_t buf[SHA256_LEN + 1];
	if (b64_decode(line[2], n[2], buf, sizeof(buf)) != SHA256_LEN)
		return -1;
	memcpy(root, buf, SHA256_LEN);
	return 0;
}
