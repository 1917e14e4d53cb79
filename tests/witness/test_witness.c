/* The witness (c2sp.org/tlog-witness) against a real audit log: it
 * cosigns the first checkpoint and consistent extensions, and refuses,
 * each with the specification's answer, an unknown log, a bad signature,
 * an old size beyond the checkpoint or not its own, a fork (same size,
 * another root) and a rewritten history (a proof that does not verify).
 * The cosignature is checked by hand against tlog-cosignature's format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "support/support.h"
#include "witness/witness.h"

static struct ts_store ts;
static struct store *wdb;
static struct witness *wit;
static uint8_t wpk[ED25519_PK_LEN], wsk[ED25519_SK_LEN];

#define WITNESS_NAME "witness.example/w1"

static void append_events(int n)
{
	struct audit_event ev = audit_event_by(&ts_operator, "witness_test");
	struct error e;
	for (int i = 0; i < n; i++)
		assert_int_equal(audit_append(ts.log, &ev, NULL, &e), 0);
	assert_int_equal(audit_checkpoint_now(ts.log, &e), 0);
}

static int setup(void **state)
{
	(void)state;
	struct error e;
	char path[256], vkey[AUDIT_VKEY_MAX];
	if (ts_store_open(&ts, "witness") != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/witness.db", ts.dir.path);
	ed25519_keypair(wpk, wsk);
	audit_vkey(ts.log, vkey);
	if (witness_db_open(path, &wdb, &e) != 0 ||
	    witness_name_set(wdb, WITNESS_NAME, &e) != 0 ||
	    witness_log_add(wdb, vkey, &e) != 0 ||
	    witness_open(wdb, wsk, &wit, &e) != 0)
		return -1;
	append_events(5);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	witness_close(wit);
	store_close(wdb);
	return ts_store_close(&ts);
}

/* "old <old>\n", the proof lines, "\n", the note. */
static size_t body_of(uint64_t old, const struct audit_proof *p,
		      const char *note, size_t nlen, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "old %llu\n",
				    (unsigned long long)old);
	for (int i = 0; p && i < p->n; i++) {
		sodium_bin2base64(out + n, cap - n, p->hash[i], SHA256_LEN,
				  sodium_base64_VARIANT_ORIGINAL);
		n += strlen(out + n);
		out[n++] = '\n';
	}
	out[n++] = '\n';
	assert_true(n + nlen < cap);
	memcpy(out + n, note, nlen);
	return n + nlen;
}

/* Submit the log's newest checkpoint with a proof from old. */
static enum witness_outcome submit_real(uint64_t old,
					struct witness_answer *ans)
{
	char note[AUDIT_NOTE_MAX], body[WITNESS_BODY_MAX];
	uint64_t size;
	size_t n = audit_checkpoint_note(ts.log, note, &size);
	struct audit_proof p = {.n = 0};
	struct error e;
	if (old > 0 && old < size)
		assert_int_equal(audit_proof_consistency(ts.s, audit_size(ts.log),
							 old, size, &p, &e), 0);
	size_t len = body_of(old, &p, note, n, body, sizeof(body));
	return witness_add_checkpoint(wit, body, len, ans);
}

/* A checkpoint note of (origin, size, root) signed with sk as origin. */
static size_t forged(const char *origin, uint64_t size, const uint8_t *root,
		     const uint8_t *sk, char *out)
{
	char text[512], b64[64];
	sodium_bin2base64(b64, sizeof(b64), root, SHA256_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(text, sizeof(text), "%s\n%llu\n%s\n", origin,
			 (unsigned long long)size, b64);
	return audit_note_sign(text, (size_t)n, origin, sk, out,
			       AUDIT_NOTE_MAX);
}

static enum witness_outcome submit_forged(uint64_t old,
					  const struct audit_proof *p,
					  const char *note, size_t nlen,
					  struct witness_answer *ans)
{
	char body[WITNESS_BODY_MAX];
	size_t len = body_of(old, p, note, nlen, body, sizeof(body));
	return witness_add_checkpoint(wit, body, len, ans);
}

static void the_first_checkpoint_is_cosigned_and_verifies(void **state)
{
	(void)state;
	struct witness_answer ans;
	assert_int_equal(submit_real(0, &ans), WITNESS_COSIGNED);
	/* By hand: "— name base64(key ID || u64 time || Ed25519)". */
	const char *prefix = "\xe2\x80\x94 " WITNESS_NAME " ";
	assert_memory_equal(ans.text, prefix, strlen(prefix));
	uint8_t raw[76];
	size_t rn;
	const char *b64 = ans.text + strlen(prefix);
	assert_int_equal(sodium_base642bin(raw, sizeof(raw), b64, strlen(b64),
					   NULL, &rn, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(rn, 76);
	uint8_t kid_in[64], h[SHA256_LEN];
	size_t kn = strlen(WITNESS_NAME);
	memcpy(kid_in, WITNESS_NAME "\n\x04", kn + 2);
	memcpy(kid_in + kn + 2, wpk, ED25519_PK_LEN);
	sha256_digest(kid_in, kn + 2 + ED25519_PK_LEN, h);
	assert_memory_equal(raw, h, 4);
	uint64_t ts_ = 0;
	for (int i = 0; i < 8; i++)
		ts_ = ts_ << 8 | raw[4 + i];
	char note[AUDIT_NOTE_MAX], msg[AUDIT_NOTE_MAX + 64];
	audit_checkpoint_note(ts.log, note, NULL);
	const char *blank = strstr(note, "\n\n");
	int mn = snprintf(msg, sizeof(msg), "cosignature/v1\ntime %llu\n%.*s",
			  (unsigned long long)ts_, (int)(blank - note + 1), note);
	assert_int_equal(crypto_sign_verify_detached(raw + 12,
						     (const uint8_t *)msg,
						     (unsigned long long)mn, wpk), 0);
	/* And through the module's own verifier, as the log side uses it. */
	struct audit_note_sig sig;
	uint64_t t2;
	assert_int_equal(audit_note_sig_parse(ans.text, strlen(ans.text), &sig),
			 0);
	assert_true(witness_cosignature_verify(&sig, note,
					       (size_t)(blank - note + 1),
					       WITNESS_NAME, wpk, &t2));
	assert_true(t2 == ts_);
	assert_false(witness_cosignature_verify(&sig, note,
						(size_t)(blank - note),
						WITNESS_NAME, wpk, &t2));
	/* The witness's vkey names the same key ID. */
	char vkey[AUDIT_VKEY_MAX];
	char name[AUDIT_ORIGIN_MAX + 1];
	uint8_t pk[ED25519_PK_LEN];
	assert_true(witness_vkey(WITNESS_NAME, wpk, vkey) > 0);
	assert_int_equal(audit_vkey_parse(vkey, AUDIT_SIG_COSIGNATURE, name,
					  pk), 0);
	assert_memory_equal(pk, wpk, ED25519_PK_LEN);
}

static void a_consistent_extension_is_cosigned(void **state)
{
	(void)state;
	struct witness_answer ans;
	assert_int_equal(submit_real(0, &ans), WITNESS_COSIGNED);
	append_events(7);
	assert_int_equal(submit_real(5, &ans), WITNESS_COSIGNED);
	append_events(300);
	assert_int_equal(submit_real(12, &ans), WITNESS_COSIGNED);
	/* The same checkpoint again: the same size and root, cosigned. */
	assert_int_equal(submit_real(312, &ans), WITNESS_COSIGNED);
}

static void an_old_size_not_its_own_gets_the_size(void **state)
{
	(void)state;
	struct witness_answer ans;
	assert_int_equal(submit_real(0, &ans), WITNESS_COSIGNED);
	append_events(3);
	assert_int_equal(submit_real(0, &ans), WITNESS_OLD_MISMATCH);
	assert_int_equal(ans.size, 5);
	assert_int_equal(submit_real(4, &ans), WITNESS_OLD_MISMATCH);
	assert_int_equal(ans.size, 5);
}

static void a_fork_is_refused(void **state)
{
	(void)state;
	struct witness_answer ans;
	assert_int_equal(submit_real(0, &ans), WITNESS_COSIGNED);
	uint8_t root[SHA256_LEN];
	memset(root, 0x42, sizeof(root));
	char note[AUDIT_NOTE_MAX];
	size_t n = forged(AUDIT_ORIGIN_FALLBACK, 5, root, ts.sk, note);
	assert_int_equal(submit_forged(5, NULL, note, n, &ans), WITNESS_FORK);
	/* Nothing changed: the real tree still extends what was cosigned. */
	append_events(2);
	assert_int_equal(submit_real(5, &ans), WITNESS_COSIGNED);
}

/* Size 0 is a size too: a second root for it is a fork. */
static void an_empty_fork_is_refused(void **state)
{
	(void)state;
	struct witness_answer ans;
	uint8_t root[SHA256_LEN];
	char note[AUDIT_NOTE_MAX];
	crypto_hash_sha256(root, NULL, 0);
	size_t n = forged(AUDIT_ORIGIN_FALLBACK, 0, root, ts.sk, note);
	assert_int_equal(submit_forged(0, NULL, note, n, &ans),
			 WITNESS_COSIGNED);
	assert_int_equal(submit_forged(0, NULL, note, n, &ans),
			 WITNESS_COSIGNED);
	memset(root, 0x42, sizeof(root));
	n = forged(AUDIT_ORIGIN_FALLBACK, 0, root, ts.sk, note);
	assert_int_equal(submit_forged(0, NULL, note, n, &ans), WITNESS_FORK);
}

static void a_rewritten_history_is_refused(void **state)
{
	(void)state;
	struct witness_answer ans;
	assert_int_equal(submit_real(0, &ans), WITNESS_COSIGNED);
	append_events(7);
	/* A real proof from 5 to 12, but a tree of 12 with another root. */
	struct audit_proof p;
	struct error e;
	assert_int_equal(audit_proof_consistency(ts.s, audit_size(ts.log), 5,
						 12, &p, &e), 0);
	uint8_t root[SHA256_LEN];
	memset(root, 0x17, sizeof(root));
	char note[AUDIT_NOTE_MAX];
	size_t n = forged(AUDIT_ORIGIN_FALLBACK, 12, root, ts.sk, note);
	assert_int_equal(submit_forged(5, &p, note, n, &ans),
			 WITNESS_BAD_PROOF);
	/* The recorded size stayed at 5. */
	assert_int_equal(submit_real(0, &ans), WITNESS_OLD_MISMATCH);
	assert_int_equal(ans.size, 5);
}

static void unknown_logs_bad_signatures_and_sizes(void **state)
{
	(void)state;
	struct witness_answer ans;
	uint8_t root[SHA256_LEN] = {0}, pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	char note[AUDIT_NOTE_MAX];
	size_t n = forged("other.example/log", 5, root, ts.sk, note);
	assert_int_equal(submit_forged(0, NULL, note, n, &ans),
			 WITNESS_UNKNOWN_LOG);
	ed25519_keypair(pk, sk);
	n = forged(AUDIT_ORIGIN_FALLBACK, 5, root, sk, note);
	assert_int_equal(submit_forged(0, NULL, note, n, &ans),
			 WITNESS_BAD_SIGNATURE);
	assert_int_equal(submit_real(9, &ans), WITNESS_OLD_TOO_LARGE);
	static const char *bad[] = {"", "old 0\n", "old 01\n\nx\n",
				    "old x\n\n", "new 0\n\n"};
	for (size_t i = 0; i < KP_NELEM(bad); i++)
		assert_int_equal(witness_add_checkpoint(wit, bad[i],
							strlen(bad[i]), &ans),
				 WITNESS_MALFORMED);
	/* A first checkpoint comes without a proof. */
	append_events(1);
	struct audit_proof p = {.n = 1};
	n = audit_checkpoint_note(ts.log, note, NULL);
	assert_int_equal(submit_forged(0, &p, note, n, &ans),
			 WITNESS_BAD_PROOF);
}

static void peers_parse(void **state)
{
	(void)state;
	struct witness_peer peers[4];
	size_t n;
	struct error e;
	char vkey[AUDIT_VKEY_MAX], spec[1024];
	witness_vkey(WITNESS_NAME, wpk, vkey);
	snprintf(spec, sizeof(spec), " %s https://w.example:8444/ ; ", vkey);
	assert_int_equal(witness_peers_parse(spec, peers, 4, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_string_equal(peers[0].name, WITNESS_NAME);
	assert_string_equal(peers[0].url, "https://w.example:8444");
	snprintf(spec, sizeof(spec), "%s http://w.example", vkey);
	assert_int_equal(witness_peers_parse(spec, peers, 4, &n, &e), -1);
	/* The log's own kind of key (0x01) is no witness key. */
	audit_vkey(ts.log, vkey);
	snprintf(spec, sizeof(spec), "%s https://w.example", vkey);
	assert_int_equal(witness_peers_parse(spec, peers, 4, &n, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(the_first_checkpoint_is_cosigned_and_verifies),
		T(a_consistent_extension_is_cosigned),
		T(an_old_size_not_its_own_gets_the_size),
		T(a_fork_is_refused),
		T(an_empty_fork_is_refused),
		T(a_rewritten_history_is_refused),
		T(unknown_logs_bad_signatures_and_sizes),
		T(peers_parse),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
