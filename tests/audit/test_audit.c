/* The audit log: canonical entries, the Merkle tree against an independent
 * RFC 9162 verifier written here, group commit under concurrency, recovery,
 * queries, tamper detection and retention. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit/audit_internal.h"
#include "support/support.h"
#include "cli/modules.h"

static struct ts_dir tmp;
static char path[512];
static uint8_t pk[ED25519_PK_LEN], sk[ED25519_SK_LEN];

static int setup(void **state)
{
	(void)state;
	if (ts_dir_make(&tmp, "audit") != 0)
		return -1;
	ts_db_location(&tmp, "audit.db", path, sizeof(path));
	crypto_sign_keypair(pk, sk);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return ts_dir_remove(&tmp);
}

static const char *subjects[] = {"85073003328", "12090311839", "90031524651"};

static struct audit_event event(int i)
{
	return (struct audit_event){
		.channel = AUDIT_CHANNEL_NETWORK,
		.actor = i % 2 ? "0411111140" : "0722222210",
		.user = i % 5 == 0 ? "78052216473" : NULL,
		.subject = subjects[i % 3],
		.action = "exchange",
		.data_type = "identification",
		.purpose = "health_insurance_rights",
		.legal_basis = "IVC/KSZG/26/071",
		.ticket = "01a204e7-c33a-77a3-9d3b-ac1fd1566b74",
		.outcome = i % 7 == 0 ? AUDIT_REFUSED : AUDIT_GRANTED,
		.reason = i % 7 == 0 ? "no_dossier" : NULL,
	};
}

/* ---- an independent RFC 9162 verifier (2.1.3.2 and 2.1.4.2) */

static void node(const uint8_t *l, const uint8_t *r, uint8_t *out)
{
	uint8_t buf[65];
	buf[0] = 1;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	crypto_hash_sha256(out, buf, 65);
}

static bool verify_inclusion(uint64_t index, uint64_t size, const uint8_t *leaf,
			     const struct audit_proof *p, const uint8_t *root)
{
	if (index >= size)
		return false;
	uint64_t fn = index, sn = size - 1;
	uint8_t r[32];
	memcpy(r, leaf, 32);
	for (int i = 0; i < p->n; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			node(p->hash[i], r, r);
			if (!(fn & 1))
				while (fn && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			node(r, p->hash[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(r, root, 32) == 0;
}

static bool verify_consistency(uint64_t first, uint64_t second,
			       const uint8_t *first_root,
			       const uint8_t *second_root,
			       const struct audit_proof *p)
{
	if (first == second)
		return p->n == 0 && memcmp(first_root, second_root, 32) == 0;
	uint8_t chain[AUDIT_PROOF_MAX + 1][32];
	int n = p->n, k = 0;
	if ((first & (first - 1)) == 0) /* a power of two: prepend the root */
		memcpy(chain[k++], first_root, 32);
	for (int i = 0; i < n; i++)
		memcpy(chain[k++], p->hash[i], 32);
	uint64_t fn = first - 1, sn = second - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	uint8_t fr[32], sr[32];
	memcpy(fr, chain[0], 32);
	memcpy(sr, chain[0], 32);
	for (int i = 1; i < k; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			node(chain[i], fr, fr);
			node(chain[i], sr, sr);
			if (!(fn & 1))
				while (fn && !(fn & 1)) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			node(sr, chain[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && memcmp(fr, first_root, 32) == 0 &&
	       memcmp(sr, second_root, 32) == 0;
}

/* Root of the first n stored leaves, recomputed from the rows. */
static void reference_root(struct store *s, uint64_t n, uint8_t out[32])
{
	static const char sql[] = "SELECT entry FROM audit_event ORDER BY seq";
	struct merkle_frontier f = {0};
	struct store_stmt *st = store_prepare(store_reader(s), sql);
	for (uint64_t i = 0; i < n && store_step(st) == STORE_ROW; i++) {
		uint8_t leaf[32];
		size_t len;
		const void *entry = store_col_blob(st, 0, &len);
		merkle_leaf(entry, len, leaf);
		frontier_push(&f, leaf, NULL, NULL);
	}
	store_done(st);
	frontier_root(&f, out);
}

static void entries_round_trip(void **state)
{
	(void)state;
	struct audit_event ev = event(0);
	struct error e;
	assert_int_equal(entry_validate(&ev, &e), 0);
	uint8_t nonce[AUDIT_NONCE_LEN] = {1, 2, 3};
	char buf[AUDIT_ENTRY_MAX];
	size_t n = entry_encode(&ev, 42, 1769860800123, nonce, buf);
	struct audit_record r;
	assert_int_equal(entry_decode(buf, n, &r), 0);
	assert_int_equal(r.seq, 42);
	assert_int_equal(r.at_ms, 1769860800123);
	assert_string_equal(r.at, "2026-01-31T12:00:00.123Z");
	assert_string_equal(r.subject, "85073003328");
	assert_string_equal(r.outcome, "refused");
	assert_string_equal(r.reason, "no_dossier");
	assert_string_equal(r.user, "78052216473");
	/* One byte more or less is no canonical entry. */
	assert_int_equal(entry_decode(buf, n - 1, &r), -1);
	buf[n] = 'x';
	assert_int_equal(entry_decode(buf, n + 1, &r), -1);
	/* Invalid events are refused before they reach the log. */
	ev.subject = "85073003329";
	assert_int_equal(entry_validate(&ev, &e), -1);
	ev = event(1);
	ev.channel = "fax";
	assert_int_equal(entry_validate(&ev, &e), -1);
	ev = event(1);
	ev.outcome = AUDIT_REFUSED; /* without a reason */
	assert_int_equal(entry_validate(&ev, &e), -1);
	ev = event(1);
	ev.purpose = "line\nbreak";
	assert_int_equal(entry_validate(&ev, &e), -1);
	ev = event(1);
	ev.subject = "85.07.30-033.28"; /* must be normalised */
	assert_int_equal(entry_validate(&ev, &e), -1);
}

/* An aggregate's count is the one optional line: written only from 2,
 * so every entry has one canonical form and old entries still decode. */
static void an_aggregate_counts(void **state)
{
	(void)state;
	struct audit_event ev = event(0);
	uint8_t nonce[AUDIT_NONCE_LEN] = {1, 2, 3};
	char buf[AUDIT_ENTRY_MAX], bad[AUDIT_ENTRY_MAX + 16];
	struct audit_record r;
	ev.count = 1;
	size_t n = entry_encode(&ev, 7, 1769860800123, nonce, buf);
	assert_null(memmem(buf, n, "count:", 6));
	assert_int_equal(entry_decode(buf, n, &r), 0);
	assert_int_equal(r.count, 1);
	ev.count = 17;
	n = entry_encode(&ev, 7, 1769860800123, nonce, buf);
	char *at = memmem(buf, n, "count:2:17\nnonce:", 17);
	assert_non_null(at);
	assert_int_equal(entry_decode(buf, n, &r), 0);
	assert_int_equal(r.count, 17);
	struct audit_event back;
	audit_record_event(&r, &back);
	assert_int_equal(back.count, 17);
	/* Other spellings of a count are not canonical. */
	static const char *const spellings[] = {"count:1:1\n", "count:2:07\n",
						"count:1:0\n", "count:0:\n"};
	size_t head = (size_t)(at - buf), tail = n - head - 11;
	for (size_t i = 0; i < KP_NELEM(spellings); i++) {
		size_t k = strlen(spellings[i]);
		memcpy(bad, buf, head);
		memcpy(bad + head, spellings[i], k);
		memcpy(bad + head + k, at + 11, tail);
		assert_int_equal(entry_decode(bad, head + k + tail, &r), -1);
	}
	struct error e;
	ev.count = AUDIT_COUNT_MAX + 1u;
	assert_int_equal(entry_validate(&ev, &e), -1);
}

struct appender {
	struct audit *a;
	int from, count;
	uint64_t *seqs;
};

static void *append_many(void *arg)
{
	struct appender *ap = arg;
	for (int i = 0; i < ap->count; i++) {
		struct audit_event ev = event(ap->from + i);
		struct error e;
		if (audit_append(ap->a, &ev, &ap->seqs[ap->from + i], &e) != 0)
			ap->seqs[ap->from + i] = UINT64_MAX;
	}
	return NULL;
}

static struct audit *open_log(struct store **s, int index_batch)
{
	struct error e;
	struct audit *a;
	assert_int_equal(cli_store_open(path, NULL, s, &e), 0);
	/* Checkpoints only when a test asks and at close: the periodic one
	 * runs on the real monotonic clock, and a loaded machine would add
	 * some to the counts the tests check. */
	struct audit_options o = {.index_batch = index_batch,
				  .checkpoint_interval_ms = 3600 * 1000};
	assert_int_equal(audit_open(*s, sk, &o, &a, &e), 0);
	return a;
}

/* Events 0..n-1 of event(), one by one. */
static void append_events(struct audit *a, int n)
{
	struct error e;
	for (int i = 0; i < n; i++) {
		struct audit_event ev = event(i);
		assert_int_equal(audit_append(a, &ev, NULL, &e), 0);
	}
}

/* 8 threads x 150 events: every event durable, each seq used once. */
static void concurrent_appends_and_proofs(void **state)
{
	(void)state;
	struct store *s;
	struct audit *a = open_log(&s, 100);
	enum { THREADS = 8, EACH = 150, TOTAL = THREADS * EACH };
	uint64_t seqs[TOTAL];
	pthread_t t[THREADS];
	struct appender ap[THREADS];
	for (int i = 0; i < THREADS; i++) {
		ap[i] = (struct appender){a, i * EACH, EACH, seqs};
		pthread_create(&t[i], NULL, append_many, &ap[i]);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(audit_size(a), TOTAL);
	char seen[TOTAL] = {0};
	for (int i = 0; i < TOTAL; i++) {
		assert_true(seqs[i] < TOTAL);
		assert_int_equal(seen[seqs[i]], 0);
		seen[seqs[i]] = 1;
	}
	struct error e;
	assert_int_equal(audit_checkpoint_now(a, &e), 0);
	struct audit_checkpoint cp;
	assert_int_equal(audit_checkpoint_latest(s, &cp), 0);
	assert_int_equal(cp.tree_size, TOTAL);
	assert_true(checkpoint_verify(&cp, pk));
	uint8_t root[32];
	reference_root(s, TOTAL, root);
	assert_memory_equal(root, cp.root, 32);

	/* Inclusion proofs, including across stored 256-leaf nodes. */
	uint64_t sizes[] = {1, 2, 3, 7, 8, 255, 256, 257, 511, 512, 513, 1000, TOTAL};
	for (size_t z = 0; z < KP_NELEM(sizes); z++) {
		uint64_t size = sizes[z];
		reference_root(s, size, root);
		for (uint64_t m = 0; m < size; m += size / 7 + 1) {
			uint8_t leaf[32];
			struct audit_proof p;
			assert_int_equal(audit_proof_inclusion(s, TOTAL, m, size,
							       leaf, &p, &e), 0);
			assert_true(verify_inclusion(m, size, leaf, &p, root));
			/* A wrong leaf does not verify. */
			leaf[0] ^= 1;
			assert_false(verify_inclusion(m, size, leaf, &p, root));
		}
	}
	/* Consistency proofs between many pairs of sizes. */
	for (size_t i = 0; i < KP_NELEM(sizes); i++) {
		for (size_t j = i; j < KP_NELEM(sizes); j++) {
			uint8_t r1[32], r2[32];
			reference_root(s, sizes[i], r1);
			reference_root(s, sizes[j], r2);
			struct audit_proof p;
			assert_int_equal(audit_proof_consistency(s, TOTAL, sizes[i],
								 sizes[j], &p, &e), 0);
			assert_true(verify_consistency(sizes[i], sizes[j], r1, r2, &p));
		}
	}
	uint8_t leaf[32];
	struct audit_proof p;
	assert_int_equal(audit_proof_inclusion(s, TOTAL, TOTAL, TOTAL, leaf, &p, &e), -1);
	assert_int_equal(audit_proof_inclusion(s, TOTAL, 0, TOTAL + 1, leaf, &p, &e), -1);
	assert_int_equal(audit_proof_consistency(s, TOTAL, 0, 5, &p, &e), -1);
	assert_int_equal(audit_proof_consistency(s, TOTAL, 6, 5, &p, &e), -1);

	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s, pk, &rep), 0);
	assert_int_equal(rep.events, TOTAL);
	audit_close(a);
	store_close(s);
}

static void recovery_continues_the_tree(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	struct audit *a = open_log(&s, 0);
	append_events(a, 300);
	audit_close(a); /* signs a final checkpoint */
	store_close(s);
	a = open_log(&s, 0);
	assert_int_equal(audit_size(a), 300);
	struct audit_checkpoint cp;
	assert_int_equal(audit_checkpoint_latest(s, &cp), 0);
	assert_int_equal(cp.tree_size, 300);
	for (int i = 300; i < 600; i++) {
		struct audit_event ev = event(i);
		uint64_t seq;
		assert_int_equal(audit_append(a, &ev, &seq, &e), 0);
		assert_int_equal(seq, (uint64_t)i);
	}
	assert_int_equal(audit_checkpoint_now(a, &e), 0);
	assert_int_equal(audit_checkpoint_latest(s, &cp), 0);
	uint8_t root[32];
	reference_root(s, 600, root);
	assert_memory_equal(root, cp.root, 32);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s, pk, &rep), 0);
	/* The empty tree's, the one at close (300), and 600. */
	assert_int_equal(rep.checkpoints, 3);
	audit_close(a);
	store_close(s);
}

static void queries(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	/* A small index batch: part indexed, part in the tail. */
	struct audit *a = open_log(&s, 64);
	for (int i = 0; i < 250; i++) {
		struct audit_event ev = event(i);
		assert_int_equal(audit_append(a, &ev, NULL, &e), 0);
	}
	struct audit_filter f = {.subject = "85073003328", .limit = 1000};
	struct audit_record *r;
	int n;
	bool more;
	uint64_t next;
	assert_int_equal(audit_query(a, &f, &r, &n, &more, &next, &e), 0);
	assert_int_equal(n, 84); /* i % 3 == 0 for i < 250 */
	assert_false(more);
	for (int i = 0; i < n; i++) {
		assert_string_equal(r[i].subject, "85073003328");
		assert_int_equal(r[i].seq % 3, 0);
		if (i)
			assert_true(r[i].seq > r[i - 1].seq);
	}
	free(r);
	/* Pages of 10 with the cursor visit the same 84 events. */
	f.limit = 10;
	int total = 0;
	uint64_t last = 0;
	do {
		assert_int_equal(audit_query(a, &f, &r, &n, &more, &next, &e), 0);
		for (int i = 0; i < n; i++) {
			assert_true(total == 0 || r[i].seq > last);
			last = r[i].seq;
		}
		total += n;
		free(r);
		f.after = next;
		f.has_after = true;
	} while (more);
	assert_int_equal(total, 84);
	/* Combined filters. */
	struct audit_filter g = {.actor = "0411111140", .outcome = AUDIT_REFUSED,
				 .limit = 1000};
	assert_int_equal(audit_query(a, &g, &r, &n, &more, &next, &e), 0);
	for (int i = 0; i < n; i++) {
		assert_string_equal(r[i].actor, "0411111140");
		assert_string_equal(r[i].outcome, "refused");
	}
	assert_int_equal(n, 18); /* odd multiples of 7 below 250 */
	free(r);
	struct audit_filter u = {.user = "78052216473", .limit = 1000};
	assert_int_equal(audit_query(a, &u, &r, &n, &more, &next, &e), 0);
	assert_int_equal(n, 50);
	free(r);
	/* A time range in the future holds nothing; one around now all. */
	int64_t now = time_now() * 1000;
	struct audit_filter t = {.from_ms = now + 60000, .limit = 1000};
	assert_int_equal(audit_query(a, &t, &r, &n, &more, &next, &e), 0);
	assert_int_equal(n, 0);
	free(r);
	t = (struct audit_filter){.from_ms = now - 60000, .to_ms = now + 60000,
				  .limit = 1000};
	assert_int_equal(audit_query(a, &t, &r, &n, &more, &next, &e), 0);
	assert_int_equal(n, 250);
	free(r);
	struct audit_filter bad = {.subject = "85073003329", .limit = 10};
	assert_int_equal(audit_query(a, &bad, &r, &n, &more, &next, &e), -1);
	bad = (struct audit_filter){.limit = 0};
	assert_int_equal(audit_query(a, &bad, &r, &n, &more, &next, &e), -1);
	audit_close(a);
	store_close(s);
}

/* Run each of the NULL-terminated sql on the database directly, as an
 * attacker with access to it would. */
static void tamper_all(const char *const *sql)
{
	for (; *sql; sql++)
		assert_int_equal(ts_exec_at(path, *sql), STORE_DONE);
}
#define SQLS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define tamper(...) tamper_all(SQLS(__VA_ARGS__))

/* The triggers that keep audit_event as it was written, in each
 * backend's words. */
#define DROP_GUARD                                                     \
	(ts_pg() ? "DROP TRIGGER audit_event_immutable ON audit_event"  \
		 : "DROP TRIGGER audit_event_immutable")
#define DROP_KEPT                                                      \
	(ts_pg() ? "DROP TRIGGER audit_event_kept ON audit_event"       \
		 : "DROP TRIGGER audit_event_kept")

/* A closed log of n events, then its triggers dropped, as an attacker
 * with the file would. */
static void fill_log(int n)
{
	struct store *s;
	struct error e;
	struct audit *a = open_log(&s, 0);
	for (int i = 0; i < n; i++) {
		struct audit_event ev = event(i);
		assert_int_equal(audit_append(a, &ev, NULL, &e), 0);
	}
	audit_close(a);
	store_close(s);
	tamper(DROP_GUARD, DROP_KEPT);
}

static struct audit_verify_report fill_and_verify_after(const char *const *sql)
{
	struct store *s;
	struct error e;
	fill_log(40);
	tamper_all(sql);
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s, pk, &rep), 1);
	store_close(s);
	return rep;
}

/* Rewrite event seq's entry with `from` replaced by `to`, and store its
 * correctly recomputed leaf too when leaf_too: a careful attacker. */
static void rewrite_entry(uint64_t seq, const char *from, const char *to,
			  bool leaf_too)
{
	static const char get[] = "SELECT entry FROM audit_event WHERE seq = ?1";
	static const char put[] = "UPDATE audit_event SET entry = ?1 "
				  "WHERE seq = ?2";
	static const char put_leaf[] = "UPDATE audit_event SET entry = ?1, "
				       "leaf = ?3 WHERE seq = ?2";
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct store_stmt *st = store_prepare(store_reader(s), get);
	store_bind_int(st, 1, (int64_t)seq);
	assert_int_equal(store_step(st), STORE_ROW);
	char entry[AUDIT_ENTRY_MAX];
	size_t n;
	const void *blob = store_col_blob(st, 0, &n);
	assert_true(n < sizeof(entry));
	memcpy(entry, blob, n);
	entry[n] = '\0';
	store_done(st);
	char *at = strstr(entry, from);
	assert_non_null(at);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(at, to, strlen(to));
	uint8_t leaf[32];
	merkle_leaf(entry, n, leaf);
	struct store_conn *w = store_write_begin(s, &e);
	assert_non_null(w);
	st = store_prepare(w, leaf_too ? put_leaf : put);
	store_bind_blob(st, 1, entry, n);
	store_bind_int(st, 2, (int64_t)seq);
	if (leaf_too)
		store_bind_blob(st, 3, leaf, sizeof(leaf));
	assert_int_equal(store_write_end(s, store_run(st, NULL, &e), &e), 0);
	store_close(s);
}

static void tampering_is_detected(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	/* Change a field inside an entry (the stored leaf stays). */
	fill_log(40);
	rewrite_entry(17, "health_insurance_rights", "health_insurance_right5",
		      false);
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s, pk, &rep), 1);
	store_close(s);
	assert_true(rep.has_bad_seq);
	assert_int_equal(rep.first_bad_seq, 17);
}

static void tampering_with_leaf_too(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	fill_log(40);
	rewrite_entry(22, "exchange", "exchang3", true);
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s, pk, &rep), 1);
	store_close(s);
	/* The leaf matches its entry; the signed root does not. The verifier
	 * names the first event the checkpoint could no longer vouch for. */
	assert_true(rep.has_bad_seq);
	assert_true(rep.first_bad_seq <= 22);
	assert_non_null(strstr(rep.problem, "signed checkpoint"));
}

static void deletion_is_detected(void **state)
{
	(void)state;
	struct audit_verify_report rep =
		fill_and_verify_after(SQLS("DELETE FROM audit_event WHERE seq = 9"));
	assert_int_equal(rep.first_bad_seq, 9);
}

static void deletion_at_the_end_is_detected(void **state)
{
	(void)state;
	struct audit_verify_report rep =
		fill_and_verify_after(
			SQLS("DELETE FROM audit_event WHERE seq >= 35"));
	assert_int_equal(rep.first_bad_seq, 35);
}

static void swapped_rows_are_detected(void **state)
{
	(void)state;
	struct audit_verify_report rep = fill_and_verify_after(
		SQLS("UPDATE audit_event SET seq = -1 WHERE seq = 5",
		     "UPDATE audit_event SET seq = 5 WHERE seq = 6",
		     "UPDATE audit_event SET seq = 6 WHERE seq = -1"));
	assert_int_equal(rep.first_bad_seq, 5);
}

/* Make every event 11 years old: the guard is lifted to age them and put
 * back as the migrations made it. */
static void age_events(void)
{
	static const char sqlite_guard[] = "SELECT sql FROM sqlite_master "
		"WHERE name = 'audit_event_immutable'";
	static const char pg_off[] = "ALTER TABLE audit_event DISABLE TRIGGER "
				     "audit_event_immutable";
	static const char pg_on[] = "ALTER TABLE audit_event ENABLE TRIGGER "
				    "audit_event_immutable";
	static const char age[] = "UPDATE audit_event SET at = ?1";
	struct store *s;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	char *guard = NULL;
	if (!ts_pg()) {
		struct store_stmt *st = store_prepare(store_reader(s),
						      sqlite_guard);
		assert_int_equal(store_step(st), STORE_ROW);
		guard = xstrdup(store_col_text(st, 0));
		store_done(st);
	}
	assert_int_equal(ts_exec(s, ts_pg() ? pg_off : DROP_GUARD), STORE_DONE);
	struct store_conn *w = store_write_begin(s, &e);
	assert_non_null(w);
	struct store_stmt *st = store_prepare(w, age);
	/* The guard judges age by the wall clock, not the test's. */
	store_bind_int(st, 1, ((int64_t)time(NULL) - 86400 * 4100) * 1000);
	assert_int_equal(store_write_end(s, store_run(st, NULL, &e), &e), 0);
	/* guard lives until store_close: the statement cache keys on it. */
	assert_int_equal(ts_exec(s, ts_pg() ? pg_on : guard), STORE_DONE);
	store_close(s);
	free(guard);
}

static void retention_guards_every_code_path(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	struct audit *a = open_log(&s, 0);
	struct audit_event ev = event(1);
	assert_int_equal(audit_append(a, &ev, NULL, &e), 0);
	audit_close(a);
	store_close(s);
	assert_int_equal(ts_exec_at(path, "DELETE FROM audit_event"),
			 STORE_CONSTRAINT);
	assert_int_equal(ts_exec_at(path, "UPDATE audit_event SET at = 0"),
			 STORE_CONSTRAINT);
	assert_int_equal(ts_exec_at(path, "DELETE FROM audit_checkpoint"),
			 STORE_CONSTRAINT);
	if (ts_pg()) {
		/* TRUNCATE fires no row trigger: it has its own refusal. */
		assert_int_equal(ts_exec_at(path, "TRUNCATE audit_event"),
				 STORE_CONSTRAINT);
		assert_int_equal(ts_exec_at(path, "TRUNCATE audit_node"),
				 STORE_CONSTRAINT);
		assert_int_equal(ts_exec_at(path, "TRUNCATE audit_checkpoint"),
				 STORE_CONSTRAINT);
		assert_int_equal(ts_exec_at(path, "TRUNCATE audit_cosignature"),
				 STORE_CONSTRAINT);
	}
	/* Within the retention period the entry stays. */
	assert_int_equal(ts_exec_at(path, "UPDATE audit_event SET entry = "
					  "substr(entry, 1, 0)"),
			 STORE_CONSTRAINT);
	/* Past it, the entry may go and nothing else: the row, its time and
	 * its leaf stay. */
	age_events();
	assert_int_equal(ts_exec_at(path, "UPDATE audit_event SET entry = "
					  "substr(entry, 1, 0), leaf = "
					  "substr(leaf, 1, 1)"),
			 STORE_CONSTRAINT);
	assert_int_equal(ts_exec_at(path, "UPDATE audit_event SET entry = "
					  "substr(entry, 1, 0)"),
			 STORE_DONE);
	assert_int_equal(ts_int_at(path, "SELECT count(*) FROM audit_event "
					 "WHERE length(entry) = 0"), 1);
	assert_int_equal(ts_exec_at(path, "DELETE FROM audit_event"),
			 STORE_CONSTRAINT);
}

/* Without its meta row the guard still holds ten years. */
static void purge_guard_without_meta(void **state)
{
	(void)state;
	struct store *s;
	struct audit *a = open_log(&s, 0);
	append_events(a, 3);
	audit_close(a);
	store_close(s);
	tamper("DELETE FROM meta WHERE key = 'audit_retention_days'");
	assert_int_equal(ts_exec_at(path, "UPDATE audit_event SET entry = "
					  "substr(entry, 1, 0)"),
			 STORE_CONSTRAINT);
}

/* Day d of the test calendar, at noon, in ms. */
static int64_t day_ms(const char *date)
{
	return ts_day(date) * 86400 * 1000 + 12 * 3600 * 1000;
}

static uint64_t count_rows(const char *sql)
{
	int64_t n = ts_int_at(path, sql);
	assert_true(n >= 0);
	return (uint64_t)n;
}

/* 300 events a day apart from 1 January 2013, then 20 in 2015: the
 * settable clock ages them (not before 2013: a subject born in 2012 would
 * not exist yet). */
static struct audit *old_log(struct store **s)
{
	struct error e;
	clock_set_ms(day_ms("2013-01-01"));
	struct audit *a = open_log(s, 50);
	for (int i = 0; i < 320; i++) {
		if (i == 300)
			clock_set_ms(day_ms("2015-03-01"));
		struct audit_event ev = event(i);
		assert_int_equal(audit_append(a, &ev, NULL, &e), 0);
		if (i == 150)
			assert_int_equal(audit_checkpoint_now(a, &e), 0);
		clock_advance_ms(86400 * 1000);
	}
	assert_int_equal(audit_checkpoint_now(a, &e), 0);
	return a;
}

static void purge_keeps_the_tree(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	struct audit *a = old_log(&s);
	struct audit_checkpoint cp;
	assert_int_equal(audit_checkpoint_latest(s, &cp), 0);
	uint8_t leaf[32], leaf_before[32];
	struct audit_proof p;
	assert_int_equal(audit_proof_inclusion(s, audit_size(a), 42, cp.tree_size,
					       leaf_before, &p, &e), 0);
	/* 3653 days after 1 June 2013: the events of January to May 2013
	 * have expired, 151 of them. */
	clock_set_ms(day_ms("2023-06-02"));
	struct audit_purge_report rep;
	assert_int_equal(audit_purge(a, &ts_operator, false, &rep, &e), 0);
	assert_int_equal(rep.events, 151);
	assert_int_equal(rep.first_seq, 0);
	assert_int_equal(rep.last_seq, 150);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_event "
				    "WHERE length(entry) = 0"), 0);
	assert_int_equal(audit_purge(a, &ts_operator, true, &rep, &e), 0);
	assert_int_equal(rep.events, 151);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_event "
				    "WHERE length(entry) = 0"), 151);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_by_subject "
				    "WHERE seq < 151"), 0);
	assert_true(count_rows("SELECT count(*) FROM audit_by_subject") > 0);
	/* The purge is an event of its own, naming what went. */
	struct audit_record *ev;
	int n = ts_events(a, "audit_purge", &ev);
	assert_int_equal(n, 1);
	assert_non_null(strstr(ev[0].purpose, "151 events (seq 0 to 150)"));
	free(ev);
	/* A second purge finds nothing more. */
	assert_int_equal(audit_purge(a, &ts_operator, true, &rep, &e), 0);
	assert_int_equal(rep.events, 0);
	/* The proofs are those of before: a purged leaf's, against the same
	 * signed root, and one of an event still whole. */
	assert_int_equal(audit_proof_inclusion(s, audit_size(a), 42, cp.tree_size,
					       leaf, &p, &e), 0);
	assert_memory_equal(leaf, leaf_before, 32);
	assert_true(verify_inclusion(42, cp.tree_size, leaf, &p, cp.root));
	assert_int_equal(audit_proof_inclusion(s, audit_size(a), 200, cp.tree_size,
					       leaf, &p, &e), 0);
	assert_true(verify_inclusion(200, cp.tree_size, leaf, &p, cp.root));
	/* The hash tile of the purged events is whole; their entry bundle is
	 * gone, and says so. */
	assert_int_equal(audit_checkpoint_now(a, &e), 0);
	struct audit_tile tile = {.level = 0, .index = 0, .width = 256};
	uint8_t *bytes;
	size_t len;
	assert_int_equal(audit_tile_hashes(s, &tile, &bytes, &len), 0);
	assert_int_equal(len, 256 * 32);
	free(bytes);
	tile.entries = true;
	assert_int_equal(audit_consult_entries(a, &ts_operator, &tile, &bytes,
					       &len, &e), -1);
	assert_string_equal(e.code, "entries_purged");
	tile.index = 1;
	tile.width = 320 - 256;
	assert_int_equal(audit_consult_entries(a, &ts_operator, &tile, &bytes,
					       &len, &e), 0);
	free(bytes);
	audit_close(a);
	struct audit_verify_report vr;
	assert_int_equal(audit_verify(s, pk, &vr), 0);
	assert_int_equal(vr.purged, 151);
	/* 320, the purge's own, and the two reads of entry bundles */
	assert_int_equal(vr.events, 323);
	store_close(s);
	clock_reset();
}

static size_t unb64(const char *line, size_t len, uint8_t *out, size_t cap)
{
	size_t n = 0;
	assert_int_equal(sodium_base642bin(out, cap, line, len, NULL, &n, NULL,
					   sodium_base64_VARIANT_ORIGINAL), 0);
	return n;
}

/* A person's receipt is a C2SP tlog-proof: the entry as extra, the index,
 * the path, and the signed note; it checks against the note's root. */
static void receipt_is_a_tlog_proof(void **state)
{
	(void)state;
	struct store *s;
	struct error e;
	struct audit *a = open_log(&s, 0);
	append_events(a, 300);
	assert_int_equal(audit_checkpoint_now(a, &e), 0);
	char *text;
	size_t n;
	/* Event 42 is about subjects[0]: only they get it. */
	assert_int_equal(audit_receipt(a, subjects[1], 42, &text, &n, &e), -1);
	assert_string_equal(e.code, "unknown_event");
	assert_int_equal(audit_receipt(a, subjects[0], 9999, &text, &n, &e), -1);
	assert_string_equal(e.code, "unknown_event");
	assert_int_equal(audit_receipt(a, subjects[0], 42, &text, &n, &e), 0);
	assert_int_equal(strlen(text), n);
	const char *l = text;
	assert_true(strncmp(l, "c2sp.org/tlog-proof@v1\nextra ", 29) == 0);
	l += 29;
	size_t ll = strcspn(l, "\n");
	uint8_t entry[AUDIT_ENTRY_MAX], leaf[32];
	size_t elen = unb64(l, ll, entry, sizeof(entry));
	merkle_leaf(entry, elen, leaf);
	struct audit_record rec;
	assert_int_equal(entry_decode(entry, elen, &rec), 0);
	assert_int_equal(rec.seq, 42);
	l += ll + 1;
	assert_true(strncmp(l, "index 42\n", 9) == 0);
	l += 9;
	struct audit_proof p = {0};
	while (*l != '\n') {
		ll = strcspn(l, "\n");
		assert_int_equal(unb64(l, ll, p.hash[p.n++], 32), 32);
		l += ll + 1;
	}
	l++; /* the note: origin, size, root */
	l += strcspn(l, "\n") + 1;
	assert_true(strncmp(l, "300\n", 4) == 0);
	l += 4;
	uint8_t root[32];
	assert_int_equal(unb64(l, strcspn(l, "\n"), root, 32), 32);
	assert_true(verify_inclusion(42, 300, leaf, &p, root));
	assert_non_null(strstr(l, "\n\n\xe2\x80\x94 ")); /* the signature */
	free(text);
	/* An event the newest checkpoint does not cover yet: ask again. */
	struct audit_event ev = event(300);
	assert_int_equal(audit_append(a, &ev, NULL, &e), 0);
	assert_int_equal(audit_receipt(a, subjects[0], 300, &text, &n, &e), -1);
	assert_string_equal(e.code, "not_yet_signed");
	audit_close(a);
	store_close(s);
}

/* old_log, then sql run on the file, then audit verify on date: the
 * report of a verification that must fail. */
static struct audit_verify_report old_log_tampered(const char *const *sql,
						   const char *date)
{
	struct store *s;
	struct audit *a = old_log(&s);
	audit_close(a);
	store_close(s);
	tamper_all(sql);
	clock_set_ms(day_ms(date));
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct audit_verify_report vr;
	assert_int_equal(audit_verify(s, pk, &vr), 1);
	store_close(s);
	clock_reset();
	return vr;
}

static void purge_within_retention_is_tampering(void **state)
{
	(void)state;
	/* An attacker empties a 2015 entry, bypassing the trigger: in 2023
	 * it is still within the retention period. */
	struct audit_verify_report vr = old_log_tampered(
		SQLS(DROP_GUARD, "UPDATE audit_event SET entry = "
				 "substr(entry, 1, 0) WHERE seq = 310"),
		"2023-06-02");
	assert_int_equal(vr.first_bad_seq, 310);
	assert_non_null(strstr(vr.problem, "within the retention period"));
}

/* The time column is not signed: emptying the first entries and giving
 * them an old time must not pass for a purge. Their age is the signed
 * checkpoint's that covers them. */
static void purge_is_judged_by_signed_checkpoints(void **state)
{
	(void)state;
	struct audit_verify_report vr = old_log_tampered(
		SQLS(DROP_GUARD, "UPDATE audit_event SET entry = "
				 "substr(entry, 1, 0), at = seq WHERE seq < 5"),
		"2022-01-01");
	assert_int_equal(vr.first_bad_seq, 0);
}

/* An intact entry's time column must be its entry's time: queries and
 * the purge read the column. */
static void time_column_is_checked(void **state)
{
	(void)state;
	struct audit_verify_report rep = fill_and_verify_after(
		SQLS("UPDATE audit_event SET at = at + 1 WHERE seq = 20"));
	assert_int_equal(rep.first_bad_seq, 20);
	assert_non_null(strstr(rep.problem, "time column"));
}

/* Two writers on one file, as a daemon and an operator's CLI: each sees
 * the other's events and numbers its own after them. */
static void another_process_appends(void **state)
{
	(void)state;
	struct store *s1, *s2;
	struct audit *a1, *a2;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s1, &e), 0);
	assert_int_equal(audit_open(s1, sk, NULL, &a1, &e), 0);
	assert_int_equal(cli_store_open(path, NULL, &s2, &e), 0);
	assert_int_equal(audit_open(s2, sk, NULL, &a2, &e), 0);
	uint64_t seq;
	for (int i = 0; i < 5; i++) {
		struct audit_event ev = event(i);
		assert_int_equal(audit_append(a1, &ev, &seq, &e), 0);
	}
	for (int i = 0; i < 7; i++) {
		struct audit_event ev = event(i);
		assert_int_equal(audit_append(a2, &ev, &seq, &e), 0);
		assert_int_equal(seq, (uint64_t)(5 + i));
	}
	struct audit_event ev = event(1);
	assert_int_equal(audit_append(a1, &ev, &seq, &e), 0);
	assert_int_equal(seq, 12);
	audit_close(a2);
	audit_close(a1);
	store_close(s2);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s1, pk, &rep), 0);
	assert_int_equal(rep.events, 13);
	store_close(s1);
}

/* ---- changes recorded with their events (audit_commit) */

struct change_ctx {
	const char *key;
	const char *value;
	const char *fill_subject; /* set on evs[0] by the change */
	int runs;
	bool refuse;
};

static const char sql_put[] = "INSERT INTO meta (key, value) VALUES (?1, ?2)";
static const char sql_get[] = "SELECT value FROM meta WHERE key = ?1";

static int put_change(struct store_conn *w, void *ctx, struct audit_event *evs,
		      size_t n, struct error *e)
{
	struct change_ctx *c = ctx;
	c->runs++;
	struct store_stmt *st = store_prepare(w, sql_put);
	store_bind_text(st, 1, c->key);
	store_bind_text(st, 2, c->value);
	enum store_rc rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE)
		return err_set(e, ERR_CONFLICT, "test_exists", "key exists");
	if (c->fill_subject)
		for (size_t i = 0; i < n; i++)
			evs[i].subject = c->fill_subject;
	if (c->refuse) /* after writing: the write must be undone */
		return err_set(e, ERR_FORBIDDEN, "test_refused", "no");
	return 0;
}

static bool meta_has(struct store *s, const char *key)
{
	struct store_stmt *st = store_prepare(store_reader(s), sql_get);
	store_bind_text(st, 1, key);
	bool found = store_step(st) == STORE_ROW;
	store_done(st);
	return found;
}

/* The events about subj, in order; the caller frees *out. */
static int events_of(struct audit *a, const char *subj,
		     struct audit_record **out)
{
	struct audit_filter f = {.subject = subj, .limit = 100};
	int n;
	bool more;
	uint64_t next;
	struct error e;
	assert_int_equal(audit_query(a, &f, out, &n, &more, &next, &e), 0);
	return n;
}

static void commit_makes_change_and_event_together(void **state)
{
	(void)state;
	struct store *s;
	struct audit *a;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	assert_int_equal(audit_open(s, sk, NULL, &a, &e), 0);

	/* Granted: the row and the event, the subject filled in by the
	 * change (as a newly assigned BIS number would be). */
	struct audit_event evs[2] = {event(1), event(2)};
	evs[0].subject = evs[1].subject = NULL;
	struct change_ctx c = {"k1", "v1", "90031524651", 0, false};
	assert_int_equal(audit_commit(a, evs, 2, put_change, &c, &e), 0);
	assert_true(meta_has(s, "k1"));
	struct audit_record *r;
	assert_int_equal(events_of(a, "90031524651", &r), 2);
	assert_string_equal(r[0].outcome, AUDIT_GRANTED);
	assert_int_equal(r[1].seq, r[0].seq + 1);
	free(r);

	/* Refused by the change after it wrote: nothing stays, the refusal
	 * is recorded with the change's code. */
	struct audit_event ev = event(3);
	c = (struct change_ctx){"k2", "v2", NULL, 0, true};
	assert_int_equal(audit_commit(a, &ev, 1, put_change, &c, &e), -1);
	assert_string_equal(e.code, "test_refused");
	assert_false(meta_has(s, "k2"));
	assert_int_equal(events_of(a, ev.subject, &r), 1);
	assert_string_equal(r[0].outcome, AUDIT_REFUSED);
	assert_string_equal(r[0].reason, "test_refused");
	free(r);

	/* A change that fails on a constraint: the same. */
	c = (struct change_ctx){"k1", "again", NULL, 0, false};
	ev = event(4);
	assert_int_equal(audit_commit(a, &ev, 1, put_change, &c, &e), -1);
	assert_string_equal(e.code, "test_exists");

	/* A change that describes its event wrongly (an identifier that is
	 * not one): undone, recorded as refused without identifiers. */
	c = (struct change_ctx){"k3", "v3", "123", 0, false};
	ev = event(0);
	assert_int_equal(audit_commit(a, &ev, 1, put_change, &c, &e), -1);
	assert_string_equal(e.code, "invalid_audit_event");
	assert_false(meta_has(s, "k3"));

	audit_close(a);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s, pk, &rep), 0);
	assert_int_equal(rep.events, 5);
	store_close(s);
}

/* Statements the writer connection has prepared so far. */
static uint64_t writer_prepared(struct store *s)
{
	struct error e;
	struct store_conn *w = store_write_begin(s, &e);
	assert_non_null(w);
	uint64_t n = store_conn_prepared(w);
	store_write_rollback(s);
	return n;
}

/* On PostgreSQL every statement is a round trip on the one writer that
 * all exchanges wait for: a group commit's events go in with one
 * statement, and an index batch with one per index, not one per row. */
static void a_batch_is_a_few_statements(void **state)
{
	(void)state;
	struct store *s;
	struct audit *a;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	struct audit_options o = {.index_batch = AUDIT_COMMIT_MAX};
	assert_int_equal(audit_open(s, sk, &o, &a, &e), 0);
	struct audit_event evs[AUDIT_COMMIT_MAX];
	int users = 0;
	for (int i = 0; i < AUDIT_COMMIT_MAX; i++) {
		evs[i] = event(i);
		users += evs[i].user != NULL;
	}
	uint64_t before = writer_prepared(s);
	assert_int_equal(audit_commit(a, evs, AUDIT_COMMIT_MAX,
				      audit_no_change, NULL, &e), 0);
	audit_close(a); /* the writer has indexed the batch, and stopped */
	uint64_t used = writer_prepared(s) - before;
	if (ts_pg())
		assert_true(used < 16);
	/* Every row is there, on both backends. */
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s, pk, &rep), 0);
	assert_int_equal(rep.events, AUDIT_COMMIT_MAX);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_by_subject"),
			 AUDIT_COMMIT_MAX);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_by_actor"),
			 AUDIT_COMMIT_MAX);
	assert_int_equal(count_rows("SELECT count(*) FROM audit_by_user"), users);
	store_close(s);
}

struct appender_arg {
	struct audit *a;
	int n;
};

static void *appender(void *arg)
{
	struct appender_arg *p = arg;
	for (int i = 0; i < p->n; i++) {
		struct audit_event ev = event(i);
		struct error e;
		assert_int_equal(audit_append(p->a, &ev, NULL, &e), 0);
	}
	return NULL;
}

/* Changes between plain appends from other threads, and after another
 * process appended (the transaction is rolled back whole and the change
 * run again): every change once, the log whole. */
static void commits_among_appends_and_other_writers(void **state)
{
	(void)state;
	struct store *s1, *s2;
	struct audit *a1, *a2;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s1, &e), 0);
	assert_int_equal(audit_open(s1, sk, NULL, &a1, &e), 0);
	assert_int_equal(cli_store_open(path, NULL, &s2, &e), 0);
	assert_int_equal(audit_open(s2, sk, NULL, &a2, &e), 0);
	pthread_t t[3];
	struct appender_arg arg = {a1, 200};
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, appender, &arg);
	char key[16];
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "c%d", i);
		struct audit_event evs[3] = {event(i), event(i + 1),
					     event(i + 2)};
		struct change_ctx c = {key, "v", NULL, 0, false};
		assert_int_equal(audit_commit(a1, evs, 3, put_change, &c, &e),
				 0);
		assert_true(c.runs >= 1);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	/* The other process moved the tail: a1's batch is numbered again
	 * (the stale tail is seen before any change runs). */
	struct audit_event ev = event(5);
	assert_int_equal(audit_append(a2, &ev, NULL, &e), 0);
	struct change_ctx c = {"late", "v", NULL, 0, false};
	assert_int_equal(audit_commit(a1, &ev, 1, put_change, &c, &e), 0);
	assert_int_equal(c.runs, 1);
	assert_true(meta_has(s1, "late"));
	audit_close(a2);
	audit_close(a1);
	store_close(s2);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s1, pk, &rep), 0);
	assert_int_equal(rep.events, 600 + 60 + 2);
	store_close(s1);
}

/* A refusal carries what the attacker sent: control characters, invalid
 * UTF-8, an overlong purpose are recorded escaped, not dropped. */
static void hostile_fields_are_escaped(void **state)
{
	(void)state;
	struct store *s;
	struct audit *a;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	assert_int_equal(audit_open(s, sk, NULL, &a, &e), 0);
	char long_purpose[600];
	memset(long_purpose, 'p', sizeof(long_purpose) - 1);
	long_purpose[sizeof(long_purpose) - 1] = '\0';
	struct audit_event ev = event(0);
	ev.purpose = "x\r\nforged: line\\\xff";
	ev.outcome = AUDIT_REFUSED;
	ev.reason = "invalid_field";
	assert_int_equal(audit_append(a, &ev, NULL, &e), 0);
	ev.purpose = long_purpose;
	assert_int_equal(audit_append(a, &ev, NULL, &e), 0);
	struct audit_record *r;
	assert_int_equal(events_of(a, ev.subject, &r), 2);
	assert_string_equal(r[0].purpose, "x\\x0d\\x0aforged: line\\x5c\\xff");
	assert_int_equal(strlen(r[1].purpose), AUDIT_FIELD_MAX);
	free(r);
	/* Identifiers are not free text: a bad one is still refused. */
	ev.subject = "85073003329";
	assert_int_equal(audit_append(a, &ev, NULL, &e), -1);
	audit_close(a);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s, pk, &rep), 0);
	store_close(s);
}

/* An auditor's query is itself recorded, before the answer; a filter
 * with an unknown outcome is refused, not silently ignored. */
static void consulting_the_log_is_recorded(void **state)
{
	(void)state;
	struct store *s;
	struct audit *a;
	struct error e;
	assert_int_equal(cli_store_open(path, NULL, &s, &e), 0);
	assert_int_equal(audit_open(s, sk, NULL, &a, &e), 0);
	struct audit_event ev = event(1);
	assert_int_equal(audit_append(a, &ev, NULL, &e), 0);
	struct audit_actor auditor = {AUDIT_CHANNEL_API, "0411111140",
				      "78052216473", "org:0411111140"};
	struct audit_filter f = {.subject = ev.subject, .limit = 10,
				 .outcome = "bogus"};
	struct audit_record *r;
	int n;
	bool more;
	uint64_t next;
	assert_int_equal(audit_consult(a, &auditor, &f, &r, &n, &more, &next,
				       &e), -1);
	assert_string_equal(e.code, "invalid_field");
	assert_int_equal(audit_size(a), 1);
	f.outcome = NULL;
	assert_int_equal(audit_consult(a, &auditor, &f, &r, &n, &more, &next,
				       &e), 0);
	/* The answer already holds the query's own event. */
	assert_int_equal(n, 2);
	assert_string_equal(r[1].action, "audit_query");
	assert_string_equal(r[1].user, "78052216473");
	assert_string_equal(r[1].data_type, "audit_log");
	free(r);
	audit_close(a);
	store_close(s);
}

/* Asynchronous appends: each callback once, after its event is durable;
 * and, when another process appended first, numbered again after its
 * events. */
struct async_count {
	pthread_mutex_t mu;
	int done, failed;
	uint64_t max_seq;
};

static void counted(void *ctx, int rc, uint64_t seq)
{
	struct async_count *c = ctx;
	pthread_mutex_lock(&c->mu);
	if (rc == 0) {
		c->done++;
		if (seq > c->max_seq)
			c->max_seq = seq;
	} else {
		c->failed++;
	}
	pthread_mutex_unlock(&c->mu);
}

static void wait_count(struct async_count *c, int n)
{
	for (int i = 0; i < 500; i++) {
		pthread_mutex_lock(&c->mu);
		int got = c->done + c->failed;
		pthread_mutex_unlock(&c->mu);
		if (got >= n)
			return;
		usleep(10000);
	}
}

static void async_appends(void **state)
{
	(void)state;
	struct store *s1, *s2;
	struct audit *a1, *a2;
	struct error e;
	struct async_count c = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
	assert_int_equal(cli_store_open(path, NULL, &s1, &e), 0);
	assert_int_equal(audit_open(s1, sk, NULL, &a1, &e), 0);
	for (int i = 0; i < 100; i++) {
		struct audit_event ev = event(i);
		assert_int_equal(audit_append_async(a1, &ev, counted, &c, &e), 0);
	}
	wait_count(&c, 100);
	assert_int_equal(c.done, 100);
	assert_int_equal(c.max_seq, 99);
	assert_int_equal(audit_size(a1), 100);
	struct audit_event bad = event(0);
	bad.action = NULL;
	assert_int_equal(audit_append_async(a1, &bad, counted, &c, &e), -1);
	/* Another writer moves the tail: the next async event is numbered
	 * after its events, not lost. */
	assert_int_equal(cli_store_open(path, NULL, &s2, &e), 0);
	assert_int_equal(audit_open(s2, sk, NULL, &a2, &e), 0);
	uint64_t seq;
	for (int i = 0; i < 3; i++) {
		struct audit_event ev = event(i);
		assert_int_equal(audit_append(a2, &ev, &seq, &e), 0);
	}
	struct audit_event ev = event(5);
	assert_int_equal(audit_append_async(a1, &ev, counted, &c, &e), 0);
	wait_count(&c, 101);
	assert_int_equal(c.done, 101);
	assert_int_equal(c.max_seq, 103);
	audit_close(a2);
	audit_close(a1);
	store_close(s2);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s1, pk, &rep), 0);
	assert_int_equal(rep.events, 104);
	store_close(s1);
}

static void slow_seal(void)
{
	usleep(100 * 1000);
}

struct async_burst {
	struct audit *a;
	struct async_count *c;
	int n;
};

static void *async_burst(void *arg)
{
	struct async_burst *b = arg;
	for (int i = 0; i < b->n; i++) {
		struct audit_event ev = event(i);
		struct error e;
		assert_int_equal(audit_append_async(b->a, &ev, counted, b->c, &e),
				 0);
	}
	return NULL;
}

/* Asynchronous appends while another process keeps appending: a batch
 * found stale is numbered again from each event's own entry, which its
 * appender may still be sealing. Every recorded event must be whole (an
 * entry read back too early was once recorded with every field empty). */
static void async_appends_race_another_writer(void **state)
{
	(void)state;
	struct store *s1, *s2;
	struct audit *a1, *a2;
	struct error e;
	struct async_count c = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};
	assert_int_equal(cli_store_open(path, NULL, &s1, &e), 0);
	assert_int_equal(audit_open(s1, sk, NULL, &a1, &e), 0);
	assert_int_equal(cli_store_open(path, NULL, &s2, &e), 0);
	assert_int_equal(audit_open(s2, sk, NULL, &a2, &e), 0);
	pthread_t t[4];
	struct async_burst b = {a1, &c, 300};
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, async_burst, &b);
	for (int i = 0; i < 60; i++) {
		struct audit_event ev = event(i);
		assert_int_equal(audit_append(a2, &ev, NULL, &e), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	wait_count(&c, 1200);
	/* The same, deterministically: a sealing appender that is slow while
	 * the other process moves the tail. */
	struct audit_event one = event(1);
	assert_int_equal(audit_append(a2, &one, NULL, &e), 0);
	int done = c.done;
	audit_test_before_seal(slow_seal);
	assert_int_equal(audit_append_async(a1, &one, counted, &c, &e), 0);
	audit_test_before_seal(NULL);
	wait_count(&c, 1201);
	assert_int_equal(c.done, done + 1); /* recorded, not given up */
	audit_close(a2);
	audit_close(a1);
	store_close(s2);
	struct audit_verify_report rep;
	assert_int_equal(audit_verify(s1, pk, &rep), 0);
	/* No entry names channel 0 (an event sealed unset). */
	static const char entries[] = "SELECT entry FROM audit_event";
	struct store_stmt *q = store_prepare(store_reader(s1), entries);
	int rows = 0;
	while (store_step(q) == STORE_ROW) {
		size_t len;
		const void *entry = store_col_blob(q, 0, &len);
		assert_null(memmem(entry, len, "channel:0:", 10));
		rows++;
	}
	store_done(q);
	assert_true(rows > 1200);
	store_close(s1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(entries_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(an_aggregate_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(async_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(async_appends_race_another_writer, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_appends_and_proofs, setup, teardown),
		cmocka_unit_test_setup_teardown(recovery_continues_the_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(queries, setup, teardown),
		cmocka_unit_test_setup_teardown(tampering_is_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(tampering_with_leaf_too, setup, teardown),
		cmocka_unit_test_setup_teardown(deletion_is_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(deletion_at_the_end_is_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(swapped_rows_are_detected, setup, teardown),
		cmocka_unit_test_setup_teardown(retention_guards_every_code_path, setup, teardown),
		cmocka_unit_test_setup_teardown(another_process_appends, setup, teardown),
		cmocka_unit_test_setup_teardown(commit_makes_change_and_event_together, setup, teardown),
		cmocka_unit_test_setup_teardown(commits_among_appends_and_other_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(a_batch_is_a_few_statements, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_fields_are_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(consulting_the_log_is_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(purge_keeps_the_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(receipt_is_a_tlog_proof, setup, teardown),
		cmocka_unit_test_setup_teardown(purge_is_judged_by_signed_checkpoints, setup, teardown),
		cmocka_unit_test_setup_teardown(time_column_is_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(purge_guard_without_meta, setup, teardown),
		cmocka_unit_test_setup_teardown(purge_within_retention_is_tampering, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
