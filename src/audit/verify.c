/*
 * `kruispunt audit verify`: recompute every leaf from its stored entry and
 * the whole tree from the leaves, compare every stored subtree node, and
 * check every checkpoint: its signature, and its root against the tree of
 * its size. All checkpoints are roots of prefixes of the one recomputed
 * tree, so consecutive checkpoints are consistent exactly when each
 * matches. Uses the writer's own decoder and tree code.
 *
 * An event whose entry the retention removed (audit_purge) keeps its leaf
 * hash: the tree is checked from it as from any other, and it is counted.
 * Only an event older than the retention period may have been purged, and
 * its age is taken from the first checkpoint that covers it (signed), not
 * from its own time column (unsigned): an empty entry that checkpoint does
 * not place before the cut-off is a removal, reported as tampering.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit_internal.h"

static const char sql_events[] =
	"SELECT seq, entry, leaf, at FROM audit_event ORDER BY seq";
static const char sql_retention[] =
	"SELECT CAST(value AS INTEGER) FROM meta "
	"WHERE key = 'audit_retention_days'";
static const char sql_checkpoints[] =
	"SELECT " CHECKPOINT_COLUMNS " FROM audit_checkpoint "
	"ORDER BY tree_size";
static const char sql_node[] =
	"SELECT hash FROM audit_node WHERE level = ?1 AND idx = ?2";

struct verifier {
	struct store_conn *c;
	struct key_chain *keys; /* checked: every key, from the anchor */
	size_t next_handover;   /* the first hand-over whose tree is ahead */
	struct audit_verify_report *rep;
	struct store_stmt *cps;     /* cursor over checkpoints */
	bool cp_ready;              /* cps holds an unprocessed row */
	uint64_t last_cp_size;
	char last_cp_time[RFC3339_LEN];
	bool failed;
	char purge_before[RFC3339_LEN]; /* covered by a checkpoint before */
	uint64_t bad_node_level, bad_node_idx;
	bool bad_node;
};

KP_PRINTF(4, 5)
static int fail(struct verifier *v, uint64_t seq, bool has_seq,
		const char *fmt, ...)
{
	va_list ap;
	v->failed = true;
	v->rep->has_bad_seq = has_seq;
	v->rep->first_bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->rep->problem, sizeof(v->rep->problem), fmt, ap);
	va_end(ap);
	return 1;
}

static void check_node(void *ctx, int level, uint64_t index,
		       const uint8_t hash[SHA256_LEN])
{
	struct verifier *v = ctx;
	if (level < AUDIT_NODE_MIN_LEVEL || v->bad_node)
		return;
	struct store_stmt *st = store_prepare(v->c, sql_node);
	store_bind_int(st, 1, level);
	store_bind_int(st, 2, (int64_t)index);
	size_t n = 0;
	const void *stored = store_step(st) == STORE_ROW
			     ? store_col_blob(st, 0, &n) : NULL;
	if (!stored || n != SHA256_LEN || memcmp(stored, hash, SHA256_LEN)) {
		v->bad_node = true;
		v->bad_node_level = (uint64_t)level;
		v->bad_node_idx = index;
	}
	store_done(st);
}

/* A hand-over names the checkpoint where one key's term ends: the log
 * must have it, signed by that key, with the hand-over's root and time,
 * or the hand-over belongs to another log (or to a rewritten one). cp is
 * a checkpoint whose signature and root are checked already. */
static int check_handover(struct verifier *v, const struct audit_checkpoint *cp)
{
	const struct key_chain *k = v->keys;
	size_t i = v->next_handover;
	if (i >= k->n || k->size[i] > cp->tree_size)
		return 0;
	if (k->size[i] < cp->tree_size || cp->key_id != i - 1 ||
	    memcmp(cp->root, k->root[i], SHA256_LEN) != 0 ||
	    strcmp(cp->timestamp, k->ts[i]) != 0)
		return fail(v, 0, false, "key hand-over %zu names a checkpoint "
			    "of %llu events by key %zu that this log does not "
			    "have", i, (unsigned long long)k->size[i], i - 1);
	v->next_handover++;
	return 0;
}

/* The checkpoint's signature by the key it names, within that key's term
 * (from the tree its hand-over named to the tree of the next one). */
static int check_signer(struct verifier *v, const struct audit_checkpoint *cp,
			const char *what)
{
	const struct key_chain *k = v->keys;
	uint64_t id = cp->key_id, bad = cp->tree_size ? cp->tree_size - 1 : 0;
	if (id >= k->n)
		return fail(v, bad, false, "checkpoint %s is signed by key %llu, "
			    "which no hand-over introduced (an unknown key)",
			    what, (unsigned long long)id);
	if (cp->tree_size < k->size[id] ||
	    (id + 1 < k->n && cp->tree_size > k->size[id + 1]))
		return fail(v, bad, false, "checkpoint %s is signed by key %llu "
			    "outside its term: that key was handed over",
			    what, (unsigned long long)id);
	if (!checkpoint_verify(cp, k->pk[id]))
		return fail(v, bad, false, "the signature of checkpoint %s is "
			    "invalid (key %llu)", what, (unsigned long long)id);
	return 0;
}

/* Check every checkpoint whose size the tree has now reached. */
static int check_checkpoints(struct verifier *v, const struct merkle_frontier *f)
{
	struct audit_checkpoint cp;
	while (v->cp_ready) {
		if (checkpoint_read_row(v->cps, &cp) != 0)
			return fail(v, 0, false, "%s", "a checkpoint row is malformed");
		if (cp.tree_size > f->size)
			return 0;
		char what[64];
		snprintf(what, sizeof(what), "%llu", (unsigned long long)cp.tree_size);
		if (cp.tree_size < f->size)
			return fail(v, 0, false, "checkpoint of %s events is out of order", what);
		if (check_signer(v, &cp, what) != 0)
			return 1;
		uint8_t root[SHA256_LEN];
		frontier_root(f, root);
		if (memcmp(root, cp.root, SHA256_LEN) != 0)
			return fail(v, v->last_cp_size, true,
				    "the tree of %s events does not match its signed "
				    "checkpoint: an event since the previous checkpoint "
				    "was altered", what);
		if (strcmp(cp.timestamp, v->last_cp_time) < 0)
			return fail(v, 0, false, "checkpoint %s is older than its predecessor", what);
		if (check_handover(v, &cp) != 0)
			return 1;
		v->rep->checkpoints++;
		v->last_cp_size = cp.tree_size;
		str_copy(v->last_cp_time, sizeof(v->last_cp_time), cp.timestamp);
		v->cp_ready = store_step(v->cps) == STORE_ROW;
	}
	return 0;
}

/* The leaf of one event row, checked against its entry; a purged entry
 * (empty, and old enough) stands on its stored leaf. Returns 0 with leaf
 * and *at_ms, or fail()'s 1. */
static int event_leaf(struct verifier *v, struct store_stmt *st, uint64_t seq,
		      uint8_t leaf[SHA256_LEN], int64_t *at_ms)
{
	size_t n, ln;
	const void *entry = store_col_blob(st, 1, &n);
	const void *stored_leaf = store_col_blob(st, 2, &ln);
	struct audit_record rec;
	if (ln != SHA256_LEN)
		return fail(v, seq, true, "%s", "its leaf hash is damaged");
	if (n == 0) {
		/* The checkpoint cursor stands on the first checkpoint
		 * larger than seq: the one that covers this event. */
		struct audit_checkpoint cp;
		*at_ms = store_col_int(st, 3);
		if (!v->cp_ready || checkpoint_read_row(v->cps, &cp) != 0 ||
		    strcmp(cp.timestamp, v->purge_before) >= 0)
			return fail(v, seq, true, "%s",
				    "entry removed within the retention "
				    "period");
		memcpy(leaf, stored_leaf, SHA256_LEN);
		v->rep->purged++;
		return 0;
	}
	if (entry_decode(entry, n, &rec) != 0 || rec.seq != seq)
		return fail(v, seq, true, "%s",
			    "entry is not canonical or carries another sequence "
			    "number (altered, or rows swapped)");
	merkle_leaf(entry, n, leaf);
	if (memcmp(leaf, stored_leaf, SHA256_LEN) != 0)
		return fail(v, seq, true, "%s", "entry altered: its hash changed");
	if (store_col_int(st, 3) != rec.at_ms)
		return fail(v, seq, true, "%s",
			    "its time column differs from its entry's time");
	*at_ms = rec.at_ms;
	return 0;
}

/* One event row: in sequence, decodable, its own seq, its leaf. */
static int check_event(struct verifier *v, struct store_stmt *st,
		       struct merkle_frontier *f, int64_t *last_at)
{
	uint64_t seq = (uint64_t)store_col_int(st, 0);
	uint8_t leaf[SHA256_LEN];
	int64_t at_ms = 0;
	if (seq != f->size)
		return fail(v, f->size, true, "%s",
			    seq > f->size ? "event missing (deleted)"
					  : "event out of sequence");
	if (event_leaf(v, st, seq, leaf, &at_ms) != 0)
		return 1;
	if (at_ms < *last_at)
		return fail(v, seq, true, "%s", "time runs backwards (rows swapped)");
	*last_at = at_ms;
	frontier_push(f, leaf, check_node, v);
	if (v->bad_node) {
		char what[64];
		snprintf(what, sizeof(what), "level %llu index %llu",
			 (unsigned long long)v->bad_node_level,
			 (unsigned long long)v->bad_node_idx);
		return fail(v, (v->bad_node_idx << v->bad_node_level), true,
			    "stored tree node %s does not match the events", what);
	}
	v->rep->events++;
	return check_checkpoints(v, f);
}

/* What a checkpoint signed before may have been purged: the retention
 * the log recorded (never less than ten years), from now. */
static void purge_before(struct store_conn *c, char out[RFC3339_LEN])
{
	int64_t days = AUDIT_RETENTION_DAYS;
	struct store_stmt *st = store_prepare(c, sql_retention);
	if (store_step(st) == STORE_ROW)
		days = store_col_int(st, 0);
	store_done(st);
	time_format_rfc3339(audit_purge_before_ms(days) / 1000, out);
}

/* The chain's keys and their terms, for the auditor to see where the
 * chain ends. */
static void report_keys(const struct key_chain *k,
			struct audit_verify_report *rep)
{
	for (size_t i = 0; i < k->n; i++) {
		memcpy(rep->key_pk[i], k->pk[i], ED25519_PK_LEN);
		rep->key_from[i] = i ? k->size[i] : 0;
	}
}

int audit_verify(struct store *s, const uint8_t pk[ED25519_PK_LEN],
		 struct audit_verify_report *rep)
{
	memset(rep, 0, sizeof(*rep));
	struct verifier v = {.rep = rep, .next_handover = 1};
	v.c = store_reader(s);
	if (!v.c)
		return -1;
	v.keys = xcalloc(1, sizeof(*v.keys));
	int chain = keys_chain_load(v.c, pk, v.keys, rep->problem,
				    sizeof(rep->problem));
	rep->keys = v.keys->n;
	if (chain != 0) {
		report_keys(v.keys, rep);
		free(v.keys);
		return chain;
	}
	purge_before(v.c, v.purge_before);
	v.cps = store_prepare(v.c, sql_checkpoints);
	v.cp_ready = store_step(v.cps) == STORE_ROW;
	struct merkle_frontier f;
	memset(&f, 0, sizeof(f));
	int64_t last_at = 0;
	struct store_stmt *st = store_prepare(v.c, sql_events);
	int rc = check_checkpoints(&v, &f); /* the empty tree's, if any */
	while (rc == 0 && store_step(st) == STORE_ROW)
		rc = check_event(&v, st, &f, &last_at);
	store_done(st);
	if (rc == 0)
		rc = check_checkpoints(&v, &f);
	if (rc == 0 && v.cp_ready)
		fail(&v, f.size, true, "%s",
		     "a checkpoint covers events that no longer exist "
		     "(deleted at the end of the log)");
	if (!v.failed && v.next_handover < v.keys->n)
		fail(&v, 0, false, "key hand-over %zu names a checkpoint of "
		     "%llu events by key %zu that this log does not have",
		     v.next_handover,
		     (unsigned long long)v.keys->size[v.next_handover],
		     v.next_handover - 1);
	report_keys(v.keys, rep);
	free(v.keys);
	store_done(v.cps);
	rep->unsigned_tail = f.size - v.last_cp_size;
	return v.failed ? 1 : 0;
}
