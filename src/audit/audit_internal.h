/* Shared between the files of src/audit only. */
#ifndef KP_AUDIT_INTERNAL_H
#define KP_AUDIT_INTERNAL_H

#include "audit/audit.h"

/* ---- entry.c: the canonical serialisation (docs/AUDIT.md) */

#define AUDIT_ENTRY_MAX 4096
#define AUDIT_NONCE_LEN 16

/* Check an event's fields. Returns 0, or -1 with e (ERR_INVALID). */
int entry_validate(const struct audit_event *ev, struct error *e);
/* Room for the escaped copies of an event's free-text fields. */
struct audit_escaped {
	char text[7][AUDIT_FIELD_MAX + 1];
};
/* out = in, with every free-text field that is not plain text (too long,
 * control characters, invalid UTF-8) replaced by an escaped copy in buf:
 * refusals are recorded with the hostile bytes they carried, never
 * dropped. Identifiers (subject, user, actor) and the channel and outcome
 * are not free text: entry_validate still refuses them. */
void entry_escape(const struct audit_event *in, struct audit_event *out,
		  struct audit_escaped *buf);
/* Encode into out (AUDIT_ENTRY_MAX bytes); returns the length. ev must
 * have passed entry_validate. */
size_t entry_encode(const struct audit_event *ev, uint64_t seq, int64_t at_ms,
		    const uint8_t nonce[AUDIT_NONCE_LEN], char *out);
/* Decode; returns 0, or -1 when the bytes are not a canonical entry. */
int entry_decode(const void *entry, size_t n, struct audit_record *out);
/* The event a decoded record holds (pointing into r). */
void audit_record_event(const struct audit_record *r, struct audit_event *ev);

/* ---- merkle.c: RFC 9162 section 2.1 */

/* Perfect subtrees of at least 2^AUDIT_NODE_MIN_LEVEL leaves are stored in
 * audit_node; smaller ones are hashed from the leaves when needed. */
#define AUDIT_NODE_MIN_LEVEL 8

void merkle_leaf(const void *entry, size_t n, uint8_t out[SHA256_LEN]);
void merkle_node(const uint8_t left[SHA256_LEN], const uint8_t right[SHA256_LEN],
		 uint8_t out[SHA256_LEN]);
void merkle_empty_root(uint8_t out[SHA256_LEN]);

/* The right edge of the tree: the roots of its perfect subtrees, one per
 * set bit of size. */
struct merkle_frontier {
	uint64_t size;
	uint8_t node[64][SHA256_LEN];
};

/* Called for every perfect subtree a push completes (level >= 1). */
typedef void (*merkle_complete_fn)(void *ctx, int level, uint64_t index,
				   const uint8_t hash[SHA256_LEN]);
void frontier_push(struct merkle_frontier *f, const uint8_t leaf[SHA256_LEN],
		   merkle_complete_fn done, void *ctx);
void frontier_root(const struct merkle_frontier *f, uint8_t out[SHA256_LEN]);
/* Rebuild the frontier of a tree of `size` leaves from the store. */
int frontier_load(struct store_conn *c, uint64_t size,
		  struct merkle_frontier *f);

/* The leaf hashes of [start, end) (at most 256 of them) into out.
 * Returns 0, or -1 when one is missing or the store fails. */
int merkle_read_leaves(struct store_conn *c, uint64_t start, uint64_t end,
		       uint8_t (*out)[SHA256_LEN]);

/* MTH(D[start:end]) from the store (stored nodes + leaves). */
int merkle_range_hash(struct store_conn *c, uint64_t start, uint64_t end,
		      uint8_t out[SHA256_LEN]);

/* Largest power of two strictly smaller than n (n > 1). */
uint64_t merkle_split(uint64_t n);

/* ---- writer.c */

/* For tests: fn runs in audit_append_async after the event is queued and
 * before it is sealed (NULL: nothing), to make that window wide. */
void audit_test_before_seal(void (*fn)(void));

/* audit_note_sign with the log's key and origin: the secret key never
 * leaves writer.c. */
size_t audit_sign_note(struct audit *a, const char *text, size_t len,
		       char *out, size_t cap);

/* Events [0, n) are in the query indexes. */
uint64_t audit_indexed(struct audit *a);
/* The retention period in days (audit_options.retention_days). */
int audit_retention_days(struct audit *a);
/* The purge's cut-off for a retention of days (never less than
 * AUDIT_RETENTION_DAYS), in ms: what a checkpoint signed before it
 * covers may be purged (purge.c, verify.c). */
int64_t audit_purge_before_ms(int64_t days);

/* ---- cosignature.c */

/* Append to note[0..len) the stored cosignature lines of tree_size, one
 * per witness, as many as fit in cap. Returns the new length. */
size_t cosignatures_append(struct store *s, uint64_t tree_size, char *note,
			   size_t len, size_t cap);

/* ---- checkpoint.c */

/* Signed checkpoint of the frontier at this instant by the key key_id
 * (its number in the chain of hand-overs, 0 the original key), stored with
 * the writer already held. */
int checkpoint_store(struct store_conn *w, const struct merkle_frontier *f,
		     const uint8_t sk[ED25519_SK_LEN], uint64_t key_id,
		     struct error *e);
bool checkpoint_verify(const struct audit_checkpoint *cp,
		       const uint8_t pk[ED25519_PK_LEN]);
/* What checkpoint_read_row reads, in its order. */
#define CHECKPOINT_COLUMNS "tree_size, root, timestamp, signature, key_id"
/* Columns CHECKPOINT_COLUMNS of the current row. */
int checkpoint_read_row(struct store_stmt *st, struct audit_checkpoint *cp);

/* ---- keys.c: the chain of signing keys (docs/AUDIT.md, "Rotating the
 * signing key") */

/* The newest hand-over on c: 1 with *key_id and new_vkey (AUDIT_VKEY_MAX
 * bytes), 0 when the key was never rotated, -1 when c cannot be read. */
int keys_newest(struct store_conn *c, uint64_t *key_id, char *new_vkey);

/* The chain as `audit verify` checked it: key i's public key, and for
 * i >= 1 the checkpoint of key i - 1 (size, root, timestamp) after which
 * its term began. */
struct key_chain {
	size_t n;
	uint8_t pk[AUDIT_KEYS_MAX][ED25519_PK_LEN];
	uint64_t size[AUDIT_KEYS_MAX];
	uint8_t root[AUDIT_KEYS_MAX][SHA256_LEN];
	char ts[AUDIT_KEYS_MAX][RFC3339_LEN];
};
/* Read and check every hand-over on c: each signed by both keys it
 * names, each from the key the previous one handed over to, and anchor
 * one of the keys (without hand-overs, anchor is the only key). Returns
 * 0 with *ch, 1 with why in problem (cap bytes), -1 when c cannot be
 * read. */
int keys_chain_load(struct store_conn *c, const uint8_t anchor[ED25519_PK_LEN],
		    struct key_chain *ch, char *problem, size_t cap);

/* ---- writer.c: the key this log signs with */

/* Make sk (key key_id of the chain) the log's signing key. */
void writer_key_set(struct audit *a, const uint8_t sk[ED25519_SK_LEN],
		    uint64_t key_id);
/* Is the log's key the newest of the chain on c? Follows a rotation made
 * elsewhere by reloading the key (audit_options.key_load) when it can.
 * Returns the key's number (>= 0), -1 when another key has taken over,
 * -2 when c cannot be read. */
int64_t writer_key_follow(struct audit *a, struct store_conn *c);
/* Sign text[0..len) as a note into out (cap bytes), under the key lock,
 * only when the log's key is the chain's newest and its number is at
 * least min_key_id (the key that signed the tree named). Returns the
 * note's length, 0 when the key may not sign it. */
size_t writer_sign_current(struct audit *a, uint64_t min_key_id,
			   const char *text, size_t len, char *out, size_t cap);

/* ---- rows.c: the writer's inserts, one statement per batch on
 * PostgreSQL */

struct audit_rows {
	struct store_conn *w;
	bool pg;
	size_t n;          /* events collected, not yet inserted */
	struct buf col[4]; /* PostgreSQL: one array literal per column */
};

/* One query index's key and event. */
struct audit_index_row {
	char key[INSZ_BUF]; /* an INSZ, or an actor's shorter KBO number */
	uint64_t seq;
};

/* Start collecting rows for the writer connection w of s; rows_end
 * releases what was collected (inserted or not). */
void rows_begin(struct audit_rows *r, struct store *s, struct store_conn *w);
void rows_end(struct audit_rows *r);
/* Insert an event (SQLite: now; PostgreSQL: at rows_flush, with the
 * others collected). Returns 0, or -1. */
int rows_event(struct audit_rows *r, uint64_t seq, int64_t at_ms,
	       const void *entry, size_t len, const uint8_t leaf[SHA256_LEN]);
/* Insert the events collected so far. Returns 0, or -1. */
int rows_flush(struct audit_rows *r);
/* Insert n index rows: sql_one (?1 key, ?2 seq) per row on SQLite, sql_pg
 * (?1 text[] of keys, ?2 bigint[] of seqs) once on PostgreSQL. Returns 0,
 * or -1. */
int rows_index(struct audit_rows *r, const char *sql_one, const char *sql_pg,
	       const struct audit_index_row *rows, size_t n);

#endif
