/*
 * RFC 9162 section 2.1 over the stored log.
 *
 *   leaf = SHA-256(0x00 || entry)      node = SHA-256(0x01 || left || right)
 *   MTH(D[n]) splits at k, the largest power of two smaller than n.
 *
 * The writer keeps the frontier (the roots of the perfect subtrees along
 * the right edge) in memory and stores every completed perfect subtree of
 * at least 2^AUDIT_NODE_MIN_LEVEL leaves. Any range hash is then a few
 * stored nodes plus at most a block of leaves, so proofs for a log of
 * hundreds of millions of events cost a handful of reads.
 */
#include <string.h>

#include <sodium.h>

#include "audit/audit_internal.h"

#define BLOCK (1u << AUDIT_NODE_MIN_LEVEL)

void merkle_leaf(const void *entry, size_t n, uint8_t out[SHA256_LEN])
{
	crypto_hash_sha256_state st;
	static const uint8_t prefix = 0x00;
	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, &prefix, 1);
	crypto_hash_sha256_update(&st, entry, n);
	crypto_hash_sha256_final(&st, out);
}

void merkle_node(const uint8_t left[SHA256_LEN], const uint8_t right[SHA256_LEN],
		 uint8_t out[SHA256_LEN])
{
	uint8_t buf[1 + 2 * SHA256_LEN];
	buf[0] = 0x01;
	memcpy(buf + 1, left, SHA256_LEN);
	memcpy(buf + 1 + SHA256_LEN, right, SHA256_LEN);
	sha256_digest(buf, sizeof(buf), out);
}

void merkle_empty_root(uint8_t out[SHA256_LEN])
{
	sha256_digest("", 0, out);
}

uint64_t merkle_split(uint64_t n)
{
	uint64_t k = 1;
	while (k << 1 < n)
		k <<= 1;
	return k;
}

void frontier_push(struct merkle_frontier *f, const uint8_t leaf[SHA256_LEN],
		   merkle_complete_fn done, void *ctx)
{
	uint8_t h[SHA256_LEN];
	memcpy(h, leaf, SHA256_LEN);
	uint64_t n = f->size;
	int level = 0;
	while (n & (UINT64_C(1) << level)) {
		merkle_node(f->node[level], h, h);
		level++;
		if (done)
			done(ctx, level, n >> level, h);
	}
	memcpy(f->node[level], h, SHA256_LEN);
	f->size = n + 1;
}

void frontier_root(const struct merkle_frontier *f, uint8_t out[SHA256_LEN])
{
	bool have = false;
	for (int level = 0; level < 64; level++) {
		if (!(f->size & (UINT64_C(1) << level)))
			continue;
		if (have)
			merkle_node(f->node[level], out, out);
		else
			memcpy(out, f->node[level], SHA256_LEN);
		have = true;
	}
	if (!have)
		merkle_empty_root(out);
}

static const char sql_leaves[] =
	"SELECT seq, leaf FROM audit_event WHERE seq >= ?1 AND seq < ?2 "
	"ORDER BY seq";
static const char sql_node[] =
	"SELECT hash FROM audit_node WHERE level = ?1 AND idx = ?2";

int merkle_read_leaves(struct store_conn *c, uint64_t start, uint64_t end,
		       uint8_t (*out)[SHA256_LEN])
{
	struct store_stmt *st = store_prepare(c, sql_leaves);
	store_bind_int(st, 1, (int64_t)start);
	store_bind_int(st, 2, (int64_t)end);
	uint64_t want = start;
	while (store_step(st) == STORE_ROW) {
		size_t n;
		const void *leaf = store_col_blob(st, 1, &n);
		if ((uint64_t)store_col_int(st, 0) != want || n != SHA256_LEN)
			break;
		memcpy(out[want - start], leaf, SHA256_LEN);
		want++;
	}
	store_done(st);
	return want == end ? 0 : -1;
}

/* MTH over an in-memory array of leaf hashes. */
static void array_hash(uint8_t (*leaves)[SHA256_LEN], uint64_t n,
		       uint8_t out[SHA256_LEN])
{
	if (n == 1) {
		memcpy(out, leaves[0], SHA256_LEN);
		return;
	}
	uint64_t k = merkle_split(n);
	uint8_t l[SHA256_LEN], r[SHA256_LEN];
	array_hash(leaves, k, l);
	array_hash(leaves + k, n - k, r);
	merkle_node(l, r, out);
}

static int stored_node(struct store_conn *c, int level, uint64_t idx,
		       uint8_t out[SHA256_LEN])
{
	struct store_stmt *st = store_prepare(c, sql_node);
	store_bind_int(st, 1, level);
	store_bind_int(st, 2, (int64_t)idx);
	int rc = -1;
	if (store_step(st) == STORE_ROW) {
		size_t n;
		const void *h = store_col_blob(st, 0, &n);
		if (n == SHA256_LEN) {
			memcpy(out, h, SHA256_LEN);
			rc = 0;
		}
	}
	store_done(st);
	return rc;
}

static int level_of(uint64_t n)
{
	int level = 0;
	while ((UINT64_C(1) << level) < n)
		level++;
	return level;
}

/* Kept out of line: its 8 KiB array must not sit in every frame of the
 * recursion in merkle_range_hash. */
__attribute__((noinline)) static int block_hash(struct store_conn *c,
						uint64_t start, uint64_t end,
						uint8_t out[SHA256_LEN])
{
	uint8_t leaves[BLOCK][SHA256_LEN];
	if (merkle_read_leaves(c, start, end, leaves) != 0)
		return -1;
	array_hash(leaves, end - start, out);
	return 0;
}

int merkle_range_hash(struct store_conn *c, uint64_t start, uint64_t end,
		      uint8_t out[SHA256_LEN])
{
	uint64_t n = end - start;
	if (n == 0)
		return -1;
	/* A perfect subtree: n a power of two and start a multiple of it, so
	 * masks and shifts stand for % and / (and no divisor is in sight). */
	bool perfect = (n & (n - 1)) == 0 && (start & (n - 1)) == 0;
	int level = perfect ? level_of(n) : 0; /* level_of needs n <= 2^63 */
	if (perfect && n >= BLOCK &&
	    stored_node(c, level, start >> level, out) == 0)
		return 0;
	if (n <= BLOCK)
		return block_hash(c, start, end, out);
	uint64_t k = merkle_split(n);
	uint8_t l[SHA256_LEN], r[SHA256_LEN];
	if (merkle_range_hash(c, start, start + k, l) != 0 ||
	    merkle_range_hash(c, start + k, end, r) != 0)
		return -1;
	merkle_node(l, r, out);
	return 0;
}

int frontier_load(struct store_conn *c, uint64_t size,
		  struct merkle_frontier *f)
{
	memset(f, 0, sizeof(*f));
	f->size = size;
	uint64_t start = 0;
	for (int level = 63; level >= 0; level--) {
		if (!(size & (UINT64_C(1) << level)))
			continue;
		uint64_t len = UINT64_C(1) << level;
		if (merkle_range_hash(c, start, start + len, f->node[level]) != 0)
			return -1;
		start += len;
	}
	return 0;
}

/* RFC 9162 2.1.3.1, over [start, end), m the leaf's absolute index. */
static int inclusion_path(struct store_conn *c, uint64_t m, uint64_t start,
			  uint64_t end, struct audit_proof *p)
{
	uint64_t n = end - start;
	if (n == 1)
		return 0;
	uint64_t k = merkle_split(n);
	int rc = m < start + k ? inclusion_path(c, m, start, start + k, p)
			       : inclusion_path(c, m, start + k, end, p);
	if (rc != 0 || p->n == AUDIT_PROOF_MAX)
		return -1;
	return m < start + k ? merkle_range_hash(c, start + k, end, p->hash[p->n++])
			     : merkle_range_hash(c, start, start + k, p->hash[p->n++]);
}

/* RFC 9162 2.1.4.1 SUBPROOF(m, D[start:end], b). */
static int subproof(struct store_conn *c, uint64_t m, uint64_t start,
		    uint64_t end, bool b, struct audit_proof *p)
{
	uint64_t n = end - start;
	if (m == n) {
		if (b)
			return 0;
		if (p->n == AUDIT_PROOF_MAX)
			return -1;
		return merkle_range_hash(c, start, end, p->hash[p->n++]);
	}
	uint64_t k = merkle_split(n);
	int rc = m <= k ? subproof(c, m, start, start + k, b, p)
			: subproof(c, m - k, start + k, end, false, p);
	if (rc != 0 || p->n == AUDIT_PROOF_MAX)
		return -1;
	return m <= k ? merkle_range_hash(c, start + k, end, p->hash[p->n++])
		      : merkle_range_hash(c, start, start + k, p->hash[p->n++]);
}

int audit_proof_inclusion(struct store *s, uint64_t durable_size,
			  uint64_t seq, uint64_t tree_size,
			  uint8_t leaf[SHA256_LEN], struct audit_proof *out,
			  struct error *e)
{
	if (tree_size == 0 || tree_size > durable_size || seq >= tree_size)
		return err_set(e, ERR_INVALID, "invalid_proof_request",
			       "need seq < tree_size <= %llu",
			       (unsigned long long)durable_size);
	struct store_conn *c = store_reader(s);
	out->n = 0;
	if (!c || merkle_read_leaves(c, seq, seq + 1,
			      (uint8_t(*)[SHA256_LEN])leaf) != 0 ||
	    inclusion_path(c, seq, 0, tree_size, out) != 0)
		return store_fail(e, "the log could not be read");
	return 0;
}

int audit_proof_consistency(struct store *s, uint64_t durable_size,
			    uint64_t first, uint64_t second,
			    struct audit_proof *out, struct error *e)
{
	if (first == 0 || first > second || second > durable_size)
		return err_set(e, ERR_INVALID, "invalid_proof_request",
			       "need 0 < first <= second <= %llu",
			       (unsigned long long)durable_size);
	struct store_conn *c = store_reader(s);
	out->n = 0;
	if (first == second)
		return 0;
	if (!c || subproof(c, first, 0, second, true, out) != 0)
		return store_fail(e, "the log could not be read");
	return 0;
}

/* RFC 9162 2.1.4.2, step by step: fn and sn walk up from the last leaves
 * of both trees; fr rebuilds the old root, sr the new one. */
bool audit_consistency_verify(uint64_t first, uint64_t second,
			      const uint8_t root1[SHA256_LEN],
			      const uint8_t root2[SHA256_LEN],
			      const struct audit_proof *p)
{
	if (first == 0 || first > second || p->n < 0 || p->n > AUDIT_PROOF_MAX)
		return false;
	if (first == second)
		return p->n == 0 && sodium_memcmp(root1, root2, SHA256_LEN) == 0;
	if (p->n == 0)
		return false;
	/* A perfect old tree is its own first node; the proof omits it. */
	bool prepend = (first & (first - 1)) == 0;
	int i = prepend ? 0 : 1;
	const uint8_t *start = prepend ? root1 : p->hash[0];
	uint64_t fn = first - 1, sn = second - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	uint8_t fr[SHA256_LEN], sr[SHA256_LEN];
	memcpy(fr, start, SHA256_LEN);
	memcpy(sr, start, SHA256_LEN);
	for (; i < p->n; i++) {
		if (sn == 0)
			return false;
		if ((fn & 1) || fn == sn) {
			merkle_node(p->hash[i], fr, fr);
			merkle_node(p->hash[i], sr, sr);
			while (!(fn & 1) && fn != 0) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			merkle_node(sr, p->hash[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	return sn == 0 && sodium_memcmp(fr, root1, SHA256_LEN) == 0 &&
	       sodium_memcmp(sr, root2, SHA256_LEN) == 0;
}
