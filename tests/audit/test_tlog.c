/* The log as C2SP signed notes and tlog-tiles: signed-note's known answer
 * (Go's sumdb/note test key), the checkpoint note, the tile-path grammar,
 * and tiles and entry bundles against the tree code of merkle.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit/audit_internal.h"
#include "support/support.h"

/* golang.org/x/mod/sumdb/note's example (note_test.go, and c2sp.org's
 * signed-note): the signer key is "PRIVATE+KEY+PeterNeumann+c74f20a3+"
 * followed by base64(0x01 || Ed25519 seed). */
#define PETER_SEED_B64 "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PETER_VKEY                                                           \
	"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PETER_TEXT                                                           \
	"If you think cryptography is the answer to your problem,\n"         \
	"then you don't know what your problem is.\n"
#define PETER_NOTE                                                           \
	PETER_TEXT "\n"                                                      \
		   "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupL" \
		   "Lr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

static void signed_note_known_answer(void **state)
{
	(void)state;
	assert_int_equal(sodium_init() >= 0, 1);
	uint8_t typed[33], pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	size_t n;
	assert_int_equal(sodium_base642bin(typed, sizeof(typed), PETER_SEED_B64,
					   strlen(PETER_SEED_B64), NULL, &n,
					   NULL, sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(n, 33);
	assert_int_equal(typed[0], 0x01);
	crypto_sign_seed_keypair(pk, sk, typed + 1);

	char vkey[AUDIT_VKEY_MAX];
	assert_int_equal(audit_note_vkey("PeterNeumann", pk, vkey),
			 strlen(PETER_VKEY));
	assert_string_equal(vkey, PETER_VKEY);
	assert_int_equal(audit_note_key_id("PeterNeumann", pk), 0xc74f20a3u);

	char note[512];
	n = audit_note_sign(PETER_TEXT, strlen(PETER_TEXT), "PeterNeumann", sk,
			    note, sizeof(note));
	assert_int_equal(n, strlen(PETER_NOTE));
	assert_memory_equal(note, PETER_NOTE, n);
	/* A text without its final newline is no note text. */
	assert_int_equal(audit_note_sign("x", 1, "PeterNeumann", sk, note,
					 sizeof(note)), 0);
	/* Too small a buffer is refused, never cut. */
	assert_int_equal(audit_note_sign(PETER_TEXT, strlen(PETER_TEXT),
					 "PeterNeumann", sk, note, n), 0);

	/* Parsed back and verified; a longer signature of another kind (an
	 * ML-DSA cosigner's) beside it is ignored, not a reason to refuse. */
	char big[8192];
	size_t len = (size_t)snprintf(big, sizeof(big), "%s\xe2\x80\x94 pq.example ",
				      PETER_NOTE);
	for (int i = 0; i < 3000; i++)
		big[len++] = "ABCD"[i % 4];
	big[len++] = '\n';
	struct audit_note_sig sigs[4];
	size_t text_len, nsigs;
	assert_int_equal(audit_note_parse(big, len, &text_len, sigs, 4, &nsigs),
			 0);
	assert_int_equal(nsigs, 1);
	assert_true(audit_note_verify(big, text_len, sigs, nsigs,
				      "PeterNeumann", pk));
	/* A line that is no signature line, or a control character in
	 * the text, makes no note. */
	big[len - 2] = '!';
	assert_int_equal(audit_note_parse(big, len, &text_len, sigs, 4, &nsigs),
			 -1);
	memcpy(big, PETER_NOTE, strlen(PETER_NOTE));
	big[3] = '\t';
	assert_int_equal(audit_note_parse(big, strlen(PETER_NOTE), &text_len,
					  sigs, 4, &nsigs), -1);
}

static void origins(void **state)
{
	(void)state;
	char o[AUDIT_ORIGIN_MAX + 1];
	assert_int_equal(audit_origin_default("https://example.org", o), 0);
	assert_string_equal(o, "example.org/log");
	assert_int_equal(audit_origin_default("https://localhost:8443/kp//", o),
			 0);
	assert_string_equal(o, "localhost:8443/kp/log");
	assert_int_equal(audit_origin_default("https://a b", o), -1);
	assert_string_equal(o, AUDIT_ORIGIN_FALLBACK);
	assert_true(audit_origin_valid("example.org/log"));
	assert_false(audit_origin_valid(""));
	assert_false(audit_origin_valid("a+b"));
	assert_false(audit_origin_valid("a b"));
	assert_false(audit_origin_valid("a\nb"));
	assert_false(audit_origin_valid("caf\xc3\xa9"));
}

static void tile_paths(void **state)
{
	(void)state;
	struct audit_tile t;
	assert_int_equal(audit_tile_parse("0/000", &t), 0);
	assert_false(t.entries);
	assert_int_equal(t.level, 0);
	assert_int_equal(t.index, 0);
	assert_int_equal(t.width, 256);
	assert_int_equal(audit_tile_parse("1/x001/x234/067.p/8", &t), 0);
	assert_int_equal(t.level, 1);
	assert_int_equal(t.index, 1234067);
	assert_int_equal(t.width, 8);
	assert_int_equal(audit_tile_parse("entries/x001/234.p/255", &t), 0);
	assert_true(t.entries);
	assert_int_equal(t.index, 1234);
	assert_int_equal(t.width, 255);
	assert_int_equal(audit_tile_parse("63/x018/x446/x744/x073/x709/x551/615",
					  &t), 0);
	assert_true(t.index == UINT64_MAX);

	static const char *bad[] = {
		"", "0", "0/", "/000", "00/000", "01/000", "64/000", "-1/000",
		"0/00", "0/0000", "0/x000", "0/x001", "0/x001/", "0/001/002",
		"0/x000/001", "0/x01/002", "0/xx01/002", "0/000.p", "0/000.p/",
		"0/000.p/0", "0/000.p/256", "0/000.p/08", "0/000.p/1/", "0/000.q/1",
		"0/000p/1", "0/000.p/1x", "entries", "entries/", "entry/000",
		"entries/x000/001", "0/x018/x446/x744/x073/x709/x551/616",
		"0/x001/x001/x001/x001/x001/x001/x001/000", "0/+12", "0/ 12",
		"0/1e2", "1000/000", "0/000/", "0//000",
	};
	for (size_t i = 0; i < KP_NELEM(bad); i++)
		if (audit_tile_parse(bad[i], &t) == 0)
			fail_msg("accepted \"%s\"", bad[i]);
}

static struct ts_store ts;

static int setup(void **state)
{
	(void)state;
	return ts_store_open(&ts, "tlog");
}

static int teardown(void **state)
{
	(void)state;
	return ts_store_close(&ts);
}

#define EVENTS (2 * 256 + 37)

static void append_events(int n)
{
	struct audit_event ev = audit_event_by(&ts_operator, "tlog_test");
	struct error e;
	for (int i = 0; i < n; i++)
		assert_int_equal(audit_append(ts.log, &ev, NULL, &e), 0);
	assert_int_equal(audit_checkpoint_now(ts.log, &e), 0);
}

/* Tile (level, index, width) as bytes; asserts it exists. */
static uint8_t *tile(int level, uint64_t index, int width)
{
	struct audit_tile t = {.level = level, .index = index, .width = width};
	uint8_t *b;
	size_t n;
	assert_int_equal(audit_tile_hashes(ts.s, &t, &b, &n), 0);
	assert_int_equal(n, (size_t)width * SHA256_LEN);
	return b;
}

static bool tile_exists(int level, uint64_t index, int width)
{
	struct audit_tile t = {.level = level, .index = index, .width = width};
	uint8_t *b;
	size_t n;
	int rc = audit_tile_hashes(ts.s, &t, &b, &n);
	assert_true(rc >= 0);
	if (rc == 0)
		free(b);
	return rc == 0;
}

static void tiles_match_the_tree(void **state)
{
	(void)state;
	struct audit_checkpoint cp;
	assert_int_equal(audit_checkpoint_latest(ts.s, &cp), 0);
	uint64_t base = cp.tree_size; /* the builders' own events, if any */
	assert_true(base < 256);
	append_events(EVENTS - (int)base);
	assert_int_equal(audit_checkpoint_latest(ts.s, &cp), 0);
	assert_int_equal(cp.tree_size, EVENTS);

	struct store_conn *c = store_reader(ts.s);
	uint8_t h[SHA256_LEN];
	/* Level 0: the leaf hashes; level 1: roots of 256-leaf subtrees. */
	for (uint64_t i = 0; i < 3; i++) {
		int w = i < 2 ? 256 : 37;
		uint8_t *b = tile(0, i, w), leaves[1][SHA256_LEN];
		for (int j = 0; j < w; j++) {
			uint64_t seq = i * 256 + (uint64_t)j;
			assert_int_equal(merkle_read_leaves(c, seq, seq + 1,
							    leaves), 0);
			assert_memory_equal(b + j * SHA256_LEN, leaves[0],
					    SHA256_LEN);
		}
		free(b);
	}
	uint8_t *l1 = tile(1, 0, 2);
	for (uint64_t i = 0; i < 2; i++) {
		assert_int_equal(merkle_range_hash(c, i * 256, (i + 1) * 256, h),
				 0);
		assert_memory_equal(l1 + i * SHA256_LEN, h, SHA256_LEN);
	}
	/* The signed root from tiles alone: MTH splits at 512, then 32 + 4
	 * + 1 leaves of the partial tile. */
	uint8_t *l0 = tile(0, 2, 37), left[SHA256_LEN], root[SHA256_LEN];
	merkle_node(l1, l1 + SHA256_LEN, left);
	assert_int_equal(merkle_range_hash(c, 512, EVENTS, h), 0);
	merkle_node(left, h, root);
	assert_memory_equal(root, cp.root, SHA256_LEN);
	free(l0);
	free(l1);

	/* Nothing beyond the signed tree. */
	assert_false(tile_exists(0, 2, 38));
	assert_false(tile_exists(0, 2, 256));
	assert_false(tile_exists(0, 3, 1));
	assert_false(tile_exists(1, 0, 3));
	assert_false(tile_exists(1, 0, 256));
	assert_false(tile_exists(2, 0, 1));
	assert_false(tile_exists(63, 0, 1));
	assert_true(tile_exists(0, 2, 1));
}

static void entry_bundles_hash_to_the_tiles(void **state)
{
	(void)state;
	append_events(300);
	struct audit_tile t = {.entries = true, .index = 1, .width = 44};
	struct audit_checkpoint cp;
	assert_int_equal(audit_checkpoint_latest(ts.s, &cp), 0);
	t.width = (int)(cp.tree_size - 256);
	uint8_t *b, *hashes = tile(0, 1, t.width);
	size_t n;
	struct error e;
	assert_int_equal(audit_consult_entries(ts.log, &ts_operator, &t, &b, &n,
					       &e), 0);
	size_t off = 0;
	for (int i = 0; i < t.width; i++) {
		assert_true(off + 2 <= n);
		size_t len = (size_t)b[off] << 8 | b[off + 1];
		assert_true(off + 2 + len <= n);
		uint8_t leaf[SHA256_LEN];
		merkle_leaf(b + off + 2, len, leaf);
		assert_memory_equal(leaf, hashes + i * SHA256_LEN, SHA256_LEN);
		off += 2 + len;
	}
	assert_int_equal(off, n);
	free(b);
	free(hashes);
	/* The read is an event; a bundle beyond the tree is not there. */
	assert_int_equal(audit_size(ts.log), cp.tree_size + 1);
	t.width++;
	assert_int_equal(audit_consult_entries(ts.log, &ts_operator, &t, &b, &n,
					       &e), 1);
}

static void checkpoint_note(void **state)
{
	(void)state;
	append_events(3);
	char note[AUDIT_NOTE_MAX], vkey[AUDIT_VKEY_MAX];
	uint64_t size;
	size_t n = audit_checkpoint_note(ts.log, note, &size);
	assert_true(n > 0);
	note[n] = '\0';
	struct audit_checkpoint cp;
	assert_int_equal(audit_checkpoint_latest(ts.s, &cp), 0);
	assert_int_equal(size, cp.tree_size);
	char root[64], body[AUDIT_NOTE_MAX];
	sodium_bin2base64(root, sizeof(root), cp.root, SHA256_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	int blen = snprintf(body, sizeof(body), "%s\n%llu\n%s\n",
			    AUDIT_ORIGIN_FALLBACK,
			    (unsigned long long)cp.tree_size, root);
	assert_memory_equal(note, body, (size_t)blen);
	/* The signature line: em dash, the origin, key ID || signature. */
	const char *line = note + blen;
	char prefix[AUDIT_ORIGIN_MAX + 8];
	snprintf(prefix, sizeof(prefix), "\n\xe2\x80\x94 %s ",
		 AUDIT_ORIGIN_FALLBACK);
	assert_int_equal(strncmp(line, prefix, strlen(prefix)), 0);
	const char *b64 = line + strlen(prefix);
	uint8_t sig[68];
	size_t slen;
	assert_int_equal(sodium_base642bin(sig, sizeof(sig), b64,
					   strlen(b64) - 1, NULL, &slen, NULL,
					   sodium_base64_VARIANT_ORIGINAL),
			 0);
	assert_int_equal(slen, 68);
	uint8_t pk[ED25519_PK_LEN];
	audit_public_key(ts.log, pk);
	uint32_t id = audit_note_key_id(AUDIT_ORIGIN_FALLBACK, pk);
	assert_int_equal((uint32_t)sig[0] << 24 | (uint32_t)sig[1] << 16 |
			 (uint32_t)sig[2] << 8 | sig[3], id);
	assert_int_equal(crypto_sign_verify_detached(sig + 4,
						     (const uint8_t *)body,
						     (unsigned long long)blen, pk),
			 0);
	size_t vlen = audit_vkey(ts.log, vkey);
	assert_int_equal(vlen, strlen(vkey));
	assert_int_equal(strncmp(vkey, AUDIT_ORIGIN_FALLBACK "+", 14), 0);
}

static void a_bad_origin_is_refused(void **state)
{
	(void)state;
	struct audit_options o = {.origin = "has space"};
	struct audit *a;
	struct error e;
	assert_int_equal(audit_open(ts.s, ts.sk, &o, &a, &e), -1);
	assert_string_equal(e.code, "invalid_origin");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(signed_note_known_answer),
		cmocka_unit_test(origins),
		cmocka_unit_test(tile_paths),
		cmocka_unit_test_setup_teardown(tiles_match_the_tree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(entry_bundles_hash_to_the_tiles,
						setup, teardown),
		cmocka_unit_test_setup_teardown(checkpoint_note, setup, teardown),
		cmocka_unit_test_setup_teardown(a_bad_origin_is_refused, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
