/* Rotating the audit signing key (audit_key_rotate, docs/AUDIT.md): the
 * log verifies across a rotation from either key, each old checkpoint
 * with its own key only; a log still holding the retired key signs
 * nothing; and verify refuses a forged hand-over, one that names a tree
 * the log does not have, a checkpoint of an unknown key, and one of a
 * retired key past its term. */
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

static struct ts_store ts;
static uint8_t old_pk[ED25519_PK_LEN], new_pk[ED25519_PK_LEN];
static uint8_t new_sk[ED25519_SK_LEN];

static int setup(void **state)
{
	(void)state;
	ed25519_keypair(new_pk, new_sk);
	if (ts_store_open(&ts, "keyrot") != 0)
		return -1;
	crypto_sign_ed25519_sk_to_pk(old_pk, ts.sk);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return ts_store_close(&ts);
}

static void append(int n)
{
	struct audit_event ev = audit_event_by(&ts_operator, "keyrot_test");
	struct error e;
	for (int i = 0; i < n; i++)
		assert_int_equal(audit_append(ts.log, &ev, NULL, &e), 0);
	assert_int_equal(audit_checkpoint_now(ts.log, &e), 0);
}

static int verify(const uint8_t pk[ED25519_PK_LEN], const char *problem)
{
	struct audit_verify_report rep;
	int rc = audit_verify(ts.s, pk, &rep);
	if (problem && !strstr(rep.problem, problem))
		fail_msg("verify said \"%s\", not \"%s\"", rep.problem, problem);
	return rc;
}

static void rotate(struct audit_handover *h)
{
	struct error e;
	assert_int_equal(audit_key_rotate(ts.log, &ts_operator, new_sk, h, &e),
			 0);
}

/* The checkpoint of tree_size as stored. */
static struct audit_checkpoint checkpoint_at(uint64_t tree_size)
{
	static const char sql[] = "SELECT " CHECKPOINT_COLUMNS
				  " FROM audit_checkpoint WHERE tree_size = ?1";
	struct audit_checkpoint cp;
	memset(&cp, 0, sizeof(cp));
	struct store_stmt *st = store_prepare(store_reader(ts.s), sql);
	store_bind_int(st, 1, (int64_t)tree_size);
	assert_int_equal(store_step(st), STORE_ROW);
	assert_int_equal(checkpoint_read_row(st, &cp), 0);
	store_done(st);
	return cp;
}

static void verifies_across_a_rotation(void **state)
{
	(void)state;
	append(300);
	struct audit_handover h;
	rotate(&h);
	assert_int_equal(h.key_id, 1);
	assert_int_equal(h.tree_size, 300);
	append(40);
	/* The auditor's old key follows the hand-over; the new key accepts
	 * the old checkpoints through it. */
	assert_int_equal(verify(old_pk, NULL), 0);
	assert_int_equal(verify(new_pk, NULL), 0);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(ts.s, old_pk, &rep), 0);
	assert_int_equal(rep.keys, 2);
	/* Each old checkpoint with its own key, and only with it. */
	struct audit_checkpoint before = checkpoint_at(300);
	assert_int_equal(before.key_id, 0);
	assert_true(checkpoint_verify(&before, old_pk));
	assert_false(checkpoint_verify(&before, new_pk));
	struct audit_checkpoint after = checkpoint_at(341);
	assert_int_equal(after.key_id, 1);
	assert_true(checkpoint_verify(&after, new_pk));
	assert_false(checkpoint_verify(&after, old_pk));
	/* The log now speaks with the new key. */
	uint8_t pk[ED25519_PK_LEN];
	audit_public_key(ts.log, pk);
	assert_memory_equal(pk, new_pk, sizeof(pk));
	/* A key that is none of the chain's anchors nothing. */
	uint8_t other[ED25519_PK_LEN], other_sk[ED25519_SK_LEN];
	ed25519_keypair(other, other_sk);
	assert_int_equal(verify(other, "none of the log's"), 1);
}

static void a_retired_key_signs_nothing(void **state)
{
	(void)state;
	append(3);
	struct audit_handover h;
	rotate(&h);
	/* Another node, still holding the old key (and no file to reload). */
	struct audit *b;
	struct error e;
	assert_int_equal(audit_open(ts.s, ts.sk, NULL, &b, &e), 0);
	assert_false(audit_key_current(b));
	assert_true(audit_key_current(ts.log));
	struct audit_event ev = audit_event_by(&ts_operator, "keyrot_test");
	assert_int_equal(audit_append(b, &ev, NULL, &e), 0);
	assert_int_equal(audit_checkpoint_now(b, &e), -1);
	char note[AUDIT_NOTE_MAX];
	assert_int_equal(audit_checkpoint_note(b, note, NULL), 0);
	/* And it cannot hand the log over again. */
	uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];
	ed25519_keypair(pk, sk);
	assert_int_equal(audit_key_rotate(b, &ts_operator, sk, &h, &e), -1);
	assert_string_equal(e.code, "audit_key_superseded");
	audit_close(b);
	append(1);
	assert_int_equal(verify(old_pk, NULL), 0);
}

/* Store a hand-over row as an attacker with the database would. */
static void put_handover(uint64_t id, uint64_t size, const char *ov,
			 const char *nv, const char *note)
{
	static const char sql[] =
		"INSERT INTO audit_key_handover (key_id, tree_size, old_vkey, "
		"new_vkey, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 0)";
	struct error e;
	struct store_conn *w = store_write_begin(ts.s, &e);
	assert_non_null(w);
	struct store_stmt *st = store_prepare(w, sql);
	store_bind_int(st, 1, (int64_t)id);
	store_bind_int(st, 2, (int64_t)size);
	store_bind_text(st, 3, ov);
	store_bind_text(st, 4, nv);
	store_bind_text(st, 5, note);
	assert_int_equal(store_write_end(ts.s, store_run(st, NULL, &e), &e), 0);
}

/* A hand-over statement for the checkpoint (size, root, time) from old_pk
 * to pk, signed by the secret keys s1 and s2, into note. */
static void statement(uint64_t size, const uint8_t root[SHA256_LEN],
		      const char *time, const uint8_t pk[ED25519_PK_LEN],
		      const uint8_t *s1,
		      const uint8_t *s2, char ov[AUDIT_VKEY_MAX],
		      char nv[AUDIT_VKEY_MAX], char *note)
{
	char text[1024], b64[64], n1[2048], n2[2048];
	const char *origin = AUDIT_ORIGIN_FALLBACK;
	audit_note_vkey(origin, old_pk, ov);
	audit_note_vkey(origin, pk, nv);
	sodium_bin2base64(b64, sizeof(b64), root, SHA256_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	int len = snprintf(text, sizeof(text),
			   "kruispunt-key-handover/v1\n%s\n%llu\n%s\n%s\n%s\n%s\n",
			   origin, (unsigned long long)size, b64, time, ov, nv);
	size_t a = audit_note_sign(text, (size_t)len, origin, s1, n1, sizeof(n1));
	size_t b = audit_note_sign(text, (size_t)len, origin, s2, n2, sizeof(n2));
	assert_true(a > 0 && b > 0);
	snprintf(note, 4096, "%.*s%s", (int)a, n1, n2 + len + 1);
}

static void a_forged_handover_is_refused(void **state)
{
	(void)state;
	append(5);
	struct audit_checkpoint cp = checkpoint_at(5);
	char ov[AUDIT_VKEY_MAX], nv[AUDIT_VKEY_MAX], note[4096];
	/* Someone with the database but not the old key: both signatures by
	 * the key they would like to hand the log to. */
	statement(5, cp.root, cp.timestamp, new_pk, new_sk, new_sk, ov, nv, note);
	put_handover(1, 5, ov, nv, note);
	assert_int_equal(verify(old_pk, "is forged"), 1);
}

static void a_foreign_handover_is_refused(void **state)
{
	(void)state;
	append(5);
	struct audit_checkpoint cp = checkpoint_at(5);
	char ov[AUDIT_VKEY_MAX], nv[AUDIT_VKEY_MAX], note[4096];
	/* Signed by both keys, but naming a tree this log never had. */
	uint8_t root[SHA256_LEN];
	memcpy(root, cp.root, SHA256_LEN);
	root[0] ^= 1;
	statement(5, root, cp.timestamp, new_pk, ts.sk, new_sk, ov, nv, note);
	put_handover(1, 5, ov, nv, note);
	assert_int_equal(verify(old_pk, "that this log does not have"), 1);
	/* ...or a checkpoint of this log's size and root, but not the one
	 * the old key signed (another time). */
	assert_int_equal(ts_exec(ts.s, ts_pg() ? "DROP TRIGGER audit_key_handover_kept ON audit_key_handover"
					       : "DROP TRIGGER audit_key_handover_kept"),
			 STORE_DONE);
	assert_int_equal(ts_exec(ts.s, "DELETE FROM audit_key_handover"), STORE_DONE);
	statement(5, cp.root, "2001-01-01T00:00:00Z", new_pk, ts.sk, new_sk, ov,
		  nv, note);
	put_handover(1, 5, ov, nv, note);
	assert_int_equal(verify(old_pk, "that this log does not have"), 1);
}

static void a_checkpoint_of_an_unknown_key_is_refused(void **state)
{
	(void)state;
	append(2);
	assert_int_equal(ts_exec(ts.s, "INSERT INTO audit_checkpoint (tree_size, "
				       "root, timestamp, signature, key_id) "
				       "SELECT tree_size + 100, root, timestamp, "
				       "signature, 7 FROM audit_checkpoint "
				       "WHERE tree_size = 2"),
			 STORE_DONE);
	append(100);
	assert_int_equal(verify(old_pk, "an unknown key"), 1);
}

static void a_retired_key_past_its_term_is_refused(void **state)
{
	(void)state;
	append(4);
	struct audit_handover h;
	rotate(&h);
	append(3);
	assert_int_equal(verify(old_pk, NULL), 0);
	/* The old secret key, stolen, signs a tree after its hand-over. */
	struct merkle_frontier f;
	struct error e;
	struct store_conn *w = store_write_begin(ts.s, &e);
	assert_non_null(w);
	assert_int_equal(frontier_load(w, 6, &f), 0);
	assert_int_equal(store_write_end(ts.s,
					 checkpoint_store(w, &f, ts.sk, 0, &e),
					 &e), 0);
	assert_int_equal(verify(old_pk, "outside its term"), 1);
}

/* The longest origin: the hand-over (text and two signature lines) still
 * fits its note, and verifies. */
static void the_longest_origin_rotates(void **state)
{
	(void)state;
	struct audit_options o;
	memset(&o, 0, sizeof(o));
	memset(o.origin, 'o', AUDIT_ORIGIN_MAX);
	struct error e;
	audit_close(ts.log);
	assert_int_equal(audit_open(ts.s, ts.sk, &o, &ts.log, &e), 0);
	append(2);
	struct audit_handover h;
	rotate(&h);
	assert_non_null(strstr(h.note, h.new_vkey));
	assert_int_equal(verify(old_pk, NULL), 0);
}

/* Re-sign the checkpoint of tree_size with sk under another time, as a
 * thief of a retired key with the database would. */
static void resign_checkpoint(uint64_t tree_size, const uint8_t *sk,
			      int64_t at_ms)
{
	static const char sql[] = "UPDATE audit_checkpoint SET timestamp = ?1, "
				  "signature = ?2 WHERE tree_size = ?3";
	struct audit_checkpoint cp = checkpoint_at(tree_size);
	time_format_rfc3339(at_ms / 1000, cp.timestamp);
	char text[AUDIT_CHECKPOINT_TEXT_MAX];
	size_t n = audit_checkpoint_text(&cp, text);
	crypto_sign_detached(cp.signature, NULL, (const uint8_t *)text, n, sk);
	assert_int_equal(ts_exec(ts.s, ts_pg() ? "DROP TRIGGER audit_checkpoint_immutable ON audit_checkpoint"
					       : "DROP TRIGGER audit_checkpoint_immutable"),
			 STORE_DONE);
	struct error e;
	struct store_conn *w = store_write_begin(ts.s, &e);
	assert_non_null(w);
	struct store_stmt *st = store_prepare(w, sql);
	store_bind_text(st, 1, cp.timestamp);
	store_bind_blob(st, 2, cp.signature, sizeof(cp.signature));
	store_bind_int(st, 3, (int64_t)tree_size);
	assert_int_equal(store_write_end(ts.s, store_run(st, NULL, &e), &e), 0);
	assert_true(checkpoint_verify(&cp, old_pk));
}

/* The hand-over names the old key's checkpoint by its time too: the
 * checkpoint replaced, by the old key itself, no longer carries it. */
static void a_handover_binds_its_checkpoint(void **state)
{
	(void)state;
	int64_t t0 = time_now_ms();
	clock_set_ms(t0);
	append(4);
	clock_set_ms(t0 + 60000);
	struct audit_handover h;
	rotate(&h);
	append(3);
	struct audit_checkpoint cp = checkpoint_at(h.tree_size);
	assert_string_equal(h.timestamp, cp.timestamp);
	assert_non_null(strstr(h.note, cp.timestamp));
	assert_int_equal(verify(new_pk, NULL), 0);
	/* Still in order between its neighbours: only the hand-over tells. */
	resign_checkpoint(h.tree_size, ts.sk, t0 + 30000);
	assert_int_equal(verify(old_pk, "that this log does not have"), 1);
	assert_int_equal(verify(new_pk, "that this log does not have"), 1);
}

/* The log's first hand-over may name its empty tree. */
static void an_empty_log_rotates(void **state)
{
	(void)state;
	struct audit_handover h;
	rotate(&h);
	assert_int_equal(h.tree_size, 0);
	append(2);
	assert_int_equal(verify(old_pk, NULL), 0);
	assert_int_equal(verify(new_pk, NULL), 0);
}

/* The hand-over is recorded but the new key's first checkpoint fails:
 * the rotation says so, distinctly, and the new key is the log's. */
static void a_recorded_rotation_whose_checkpoint_fails(void **state)
{
	(void)state;
	append(2);
	assert_int_equal(ts_exec(ts.s, ts_pg() ?
		"CREATE TRIGGER no_new_key BEFORE INSERT ON audit_checkpoint "
		"FOR EACH ROW WHEN (NEW.key_id = 1) "
		"EXECUTE FUNCTION kp_refuse('no checkpoint')" :
		"CREATE TRIGGER no_new_key BEFORE INSERT ON audit_checkpoint "
		"WHEN NEW.key_id = 1 BEGIN SELECT RAISE(ABORT, 'no'); END"),
		STORE_DONE);
	struct audit_handover h;
	struct error e;
	assert_int_equal(audit_key_rotate(ts.log, &ts_operator, new_sk, &h, &e),
			 AUDIT_ROTATE_PENDING);
	assert_int_equal(h.key_id, 1);
	uint8_t pk[ED25519_PK_LEN];
	audit_public_key(ts.log, pk);
	assert_memory_equal(pk, new_pk, sizeof(pk));
	struct audit_key_info keys[4];
	assert_int_equal(audit_keys_list(ts.s, keys, 4), 2);
	assert_string_equal(keys[1].vkey, h.new_vkey);
	assert_int_equal(keys[1].from_size, 2);
	assert_int_equal(ts_exec(ts.s, ts_pg() ? "DROP TRIGGER no_new_key ON audit_checkpoint"
					       : "DROP TRIGGER no_new_key"),
			 STORE_DONE);
	append(1);
	assert_int_equal(verify(new_pk, NULL), 0);
}

static int loads;
static int load_old_key(const void *ctx, uint8_t sk[ED25519_SK_LEN])
{
	(void)ctx;
	loads++;
	memcpy(sk, ts.sk, ED25519_SK_LEN);
	return 0;
}

/* A superseded node reads its key file at most once a second, however
 * often it is asked whether it is ready; it tells the key that signed a
 * checkpoint, not its own. */
static void a_superseded_node_reloads_its_key_sparingly(void **state)
{
	(void)state;
	append(1);
	struct audit_options o;
	memset(&o, 0, sizeof(o));
	o.key_load = load_old_key;
	struct audit *b;
	struct error e;
	assert_int_equal(audit_open(ts.s, ts.sk, &o, &b, &e), 0);
	struct audit_handover h;
	rotate(&h);
	loads = 0;
	for (int i = 0; i < 50; i++)
		assert_false(audit_key_current(b));
	assert_true(loads <= 1);
	uint8_t pk[ED25519_PK_LEN];
	assert_int_equal(audit_key_public(b, 1, pk), 0);
	assert_memory_equal(pk, new_pk, sizeof(pk));
	assert_int_equal(audit_key_public(b, 0, pk), 0);
	assert_memory_equal(pk, old_pk, sizeof(pk));
	assert_int_equal(audit_key_public(b, 2, pk), -1);
	audit_close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(verifies_across_a_rotation,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_retired_key_signs_nothing,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_forged_handover_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(a_foreign_handover_is_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			a_checkpoint_of_an_unknown_key_is_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			a_retired_key_past_its_term_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(a_handover_binds_its_checkpoint,
						setup, teardown),
		cmocka_unit_test_setup_teardown(an_empty_log_rotates, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			a_recorded_rotation_whose_checkpoint_fails, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			a_superseded_node_reloads_its_key_sparingly, setup,
			teardown),
		cmocka_unit_test_setup_teardown(the_longest_origin_rotates,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
