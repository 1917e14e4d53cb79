/*
 * audit: the tamper-evident log of every access to personal data (seeds
 * 001, 003, 004): who (organisation and natural person), when, how
 * (channel), which data (data type) about whom (subject), why (purpose,
 * legal basis), with which ticket, and whether it was granted or refused.
 *
 * Events are leaves of a Merkle tree hashed as in RFC 9162 section 2.1; the
 * tree's root is signed (Ed25519) into checkpoints every second when there
 * are new events and at shutdown. Anyone with the public key can check that
 * an event is in the log (inclusion proof) and that the log only grew
 * (consistency proof). docs/AUDIT.md describes the canonical entry format
 * byte for byte.
 *
 * audit_append returns only once the event is durable on disk. Concurrent
 * appends share one transaction and one fsync (group commit by a single
 * writer thread); the tree is never recomputed: the writer keeps its right
 * edge (the compact frontier) in memory.
 */
#ifndef KP_AUDIT_H
#define KP_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "base/base.h"
#include "store/store.h"

/* Ways a person's data is reached. */
#define AUDIT_CHANNEL_API "api"
#define AUDIT_CHANNEL_PORTAL "portal"
#define AUDIT_CHANNEL_BATCH "batch"
#define AUDIT_CHANNEL_NETWORK "network"
#define AUDIT_CHANNEL_CLI "cli" /* an operator's command on the host */

#define AUDIT_GRANTED "granted"
#define AUDIT_REFUSED "refused"

/* One event, as the caller describes it. Strings are borrowed; NULL or ""
 * means "not applicable". Free-text fields (profile, action, data_type,
 * purpose, legal_basis, ticket, reason) that are too long or not plain
 * UTF-8 text are recorded escaped ("\\xHH" per hostile byte) and cut at
 * AUDIT_FIELD_MAX bytes, never refused: a hostile request is recorded as
 * what it was. Identifiers (actor, user, subject) must be valid, digits
 * only. */
struct audit_event {
	const char *channel;     /* AUDIT_CHANNEL_* */
	const char *actor;       /* acting organisation (KBO) */
	const char *user;        /* acting natural person (INSZ) */
	const char *profile;     /* on whose behalf: "self", "child:<insz>",
				    "org:<kbo>" */
	const char *subject;     /* the person whose data (INSZ) */
	const char *action;      /* "exchange", "login", "role_grant", ... */
	const char *data_type;
	const char *purpose;
	const char *legal_basis; /* authorization reference */
	const char *ticket;
	const char *outcome;     /* AUDIT_GRANTED / AUDIT_REFUSED */
	const char *reason;      /* stable code of a refusal */
	/* How many like events this one stands for: 0 or 1, itself alone; n
	 * > 1, an aggregate (failed authentications of one key in one
	 * window, src/auth), whose other fields are those of each. */
	uint32_t count;
};

#define AUDIT_COUNT_MAX 1000000000

/* One text field of an audit event (purpose, legal basis, ...). */
#define AUDIT_FIELD_MAX 256

/* Who acts, as a domain operation records it in its events: the HTTP
 * layer translates its principal into this, the CLI names the operator.
 * Strings are borrowed. */
struct audit_actor {
	const char *channel; /* AUDIT_CHANNEL_* */
	const char *actor;   /* acting organisation (KBO), or NULL */
	const char *user;    /* acting natural person (INSZ), or NULL */
	const char *profile; /* "self", "child:<insz>", "org:<kbo>",
				"operator", or NULL */
};

/* An event by who: the actor's fields filled in, outcome granted. */
struct audit_event audit_event_by(const struct audit_actor *who,
				  const char *action);

/* insz when it is a valid INSZ given as digits, else NULL: what an event
 * may name as its subject (identifiers are left out when invalid). */
const char *audit_subject(const char *insz);

/* An event as stored: the fields above, decoded from the canonical entry,
 * plus its place in the log. */
struct audit_record {
	uint64_t seq;
	int64_t at_ms;
	char at[32]; /* RFC 3339 with milliseconds */
	char channel[16];
	char actor[AUDIT_FIELD_MAX + 1];
	char user[16];
	char profile[AUDIT_FIELD_MAX + 1];
	char subject[16];
	char action[AUDIT_FIELD_MAX + 1];
	char data_type[AUDIT_FIELD_MAX + 1];
	char purpose[AUDIT_FIELD_MAX + 1];
	char legal_basis[AUDIT_FIELD_MAX + 1];
	char ticket[AUDIT_FIELD_MAX + 1];
	char outcome[16];
	char reason[AUDIT_FIELD_MAX + 1];
	uint32_t count; /* 1, or the events an aggregate stands for */
};

/* The log's defaults, for a zero field of audit_options and for the
 * [audit] keys alike. Seeds 001 and 003: logs are kept at least ten
 * years, so the retention is never less. */
#define AUDIT_CHECKPOINT_INTERVAL_MS 1000
#define AUDIT_INDEX_BATCH 50000
#define AUDIT_RETENTION_DAYS 3653

/* The log's name in its signed notes (C2SP tlog-checkpoint's origin line
 * and the signing key's name): printable ASCII without spaces or '+'. */
#define AUDIT_ORIGIN_MAX 128
/* The origin of a log opened without one (tests, tools): src/cli derives
 * the real default from the public URL (audit_origin_default). */
#define AUDIT_ORIGIN_FALLBACK "localhost/log"

/* Also the [audit] configuration (audit_config.c fills it). */
struct audit_options {
	int checkpoint_interval_ms; /* 0: AUDIT_CHECKPOINT_INTERVAL_MS */
	int index_batch;            /* per batch; 0: AUDIT_INDEX_BATCH */
	int retention_days;         /* 0: AUDIT_RETENTION_DAYS */
	char origin[AUDIT_ORIGIN_MAX + 1]; /* "": AUDIT_ORIGIN_FALLBACK */
	/* Reads the signing key again (keys/audit-signing.key), so that a
	 * running log takes over a key that a rotation installed (by
	 * another process, or on another node once its file is replaced).
	 * Returns 0 with sk, or -1. NULL: a superseded log stays so. Not a
	 * configuration key. */
	int (*key_load)(const void *ctx, uint8_t sk[ED25519_SK_LEN]);
	const void *key_load_ctx;
};

struct audit;

/* Start the log on an open store. sk is the Ed25519 secret key that signs
 * checkpoints (copied, wiped on close). Recovers the frontier from the
 * database. Returns 0 and *out (release with audit_close), or -1 with e
 * (ERR_INVALID "invalid_origin" for an origin audit_origin_valid refuses). */
int audit_open(struct store *s, const uint8_t sk[ED25519_SK_LEN],
	       const struct audit_options *opt, struct audit **out,
	       struct error *e);
/* Stop the writer after the last queued append, sign a final checkpoint
 * and free everything. */
void audit_close(struct audit *a);

/* Append an event and wait until it is durable. Returns 0 and (when seq is
 * not NULL) its sequence number, or -1 with e (ERR_INVALID for a bad
 * field, ERR_UNAVAILABLE when the disk refused). */
int audit_append(struct audit *a, const struct audit_event *ev, uint64_t *seq,
		 struct error *e);

/* Called once an asynchronous append is durable (rc 0, with its seq) or
 * failed (rc -1), on the log's own thread: be quick, do not append. */
typedef void (*audit_done_fn)(void *ctx, int rc, uint64_t seq);
/* Append without waiting: ev is encoded (and may be freed) before this
 * returns; done(ctx, ...) follows once the event is durable. A server
 * suspends the request meanwhile instead of blocking a thread. Returns 0,
 * or -1 with e (an invalid event, or the log stopping: done is then not
 * called). */
int audit_append_async(struct audit *a, const struct audit_event *ev,
		       audit_done_fn done, void *ctx, struct error *e);

/* ------------------------------------------------ changes with events */

/* A change of state that must be recorded with its events. It runs on the
 * log's writer thread, inside the transaction that writes the events, on
 * the writer connection w: so the change and its events become durable
 * together, or neither does. It may fill in fields of evs that only the
 * change knows (a newly assigned number); strings it points them at must
 * live in ctx. It must not wait for anything and must finish its
 * statements (store_done). Returns 0, or -1 with e set: its writes are
 * then undone and its events recorded as refused with e's code. It may be
 * run more than once (when another process appended to the log first, the
 * whole transaction is rolled back and run again), so it keeps no state
 * outside the database and ctx. */
typedef int (*audit_change_fn)(struct store_conn *w, void *ctx,
			       struct audit_event *evs, size_t n,
			       struct error *e);

#define AUDIT_COMMIT_MAX 64 /* events one change may be recorded with */

/* The one way a domain operation changes state (docs/ARCHITECTURE.md,
 * "Auditing"): run change and record evs[0..n) in one transaction, and
 * wait until both are durable. Returns 0 when the change was made; -1 with
 * the change's own error when it refused (nothing changed; the refusal is
 * recorded); -1 with ERR_UNAVAILABLE "audit_unavailable" when the events
 * could not be made durable (nothing changed). evs are borrowed, and may
 * be modified by change. */
int audit_commit(struct audit *a, struct audit_event *evs, size_t n,
		 audit_change_fn change, void *ctx, struct error *e);

/* A change that changes nothing, for an operation whose events are all
 * there is to commit (a search, a listing of personal data): they are
 * then durable, in one group, before the answer leaves. */
int audit_no_change(struct store_conn *w, void *ctx, struct audit_event *evs,
		    size_t n, struct error *e);
/* The shape of a domain operation recorded with one event: when refusal
 * is not NULL (the request was refused before any change was tried), ev
 * is recorded refused with it (audit_refused) and -1 returned with
 * e = *refusal; otherwise audit_commit(a, ev, 1, change, ctx, e). */
int audit_change(struct audit *a, struct audit_event *ev,
		 audit_change_fn change, void *ctx,
		 const struct error *refusal, struct error *e);

/* Record ev as refused with refusal's code (a request refused before any
 * change was tried) and wait until it is durable. Returns -1 always, with
 * *refusal untouched: the request stays refused with its own answer; an
 * event that cannot be recorded is logged as a security problem. */
int audit_refused(struct audit *a, const struct audit_event *ev,
		  const struct error *refusal);

/* The store the log writes to (and a domain operation changes). */
struct store *audit_store(struct audit *a);

/* Number of durable events (the tree size). */
uint64_t audit_size(struct audit *a);

/* ---------------------------------------------------------- checkpoints */

struct audit_checkpoint {
	uint64_t tree_size;
	uint8_t root[SHA256_LEN];
	char timestamp[RFC3339_LEN];
	uint8_t signature[64];
	/* The key that signed it: 0 the original, n the new key of the n-th
	 * hand-over (audit_key_rotate). */
	uint64_t key_id;
};

/* The newest signed checkpoint. Returns 0, 1 when none exists yet, -1 on a
 * store failure. */
int audit_checkpoint_latest(struct store *s, struct audit_checkpoint *out);
/* Sign a checkpoint now if there are unsigned events (tests, shutdown). */
int audit_checkpoint_now(struct audit *a, struct error *e);
/* The canonical text a checkpoint signature covers (docs/AUDIT.md):
 * "kruispunt-checkpoint\n<size>\n<root hex>\n<timestamp>\n". out must hold
 * AUDIT_CHECKPOINT_TEXT_MAX bytes; returns the length. */
#define AUDIT_CHECKPOINT_TEXT_MAX 160
size_t audit_checkpoint_text(const struct audit_checkpoint *cp, char *out);
/* The public key that verifies checkpoints. */
void audit_public_key(struct audit *a, uint8_t pk[ED25519_PK_LEN]);

/* ------------------------------------- signed notes (c2sp.org/signed-note) */

/* Cosignatures a checkpoint note carries at most (one per witness). */
#define AUDIT_COSIGNERS_MAX 8
/* One signature line: "— ", a key name, a space, base64 of at most a key
 * ID, a timestamp and a 64-byte signature, a newline. */
#define AUDIT_SIG_LINE_MAX (AUDIT_ORIGIN_MAX + 128)
/* A checkpoint as a C2SP signed note: "<origin>\n<size>\n<base64 root>\n",
 * a blank line, the log's signature line and the cosignatures. */
#define AUDIT_NOTE_MAX                                                        \
	(3 * AUDIT_ORIGIN_MAX + 256 + AUDIT_COSIGNERS_MAX * AUDIT_SIG_LINE_MAX)
/* signed-note's signature types: the log's Ed25519 key (0x01), a
 * witness's Ed25519 cosignature key (0x04, c2sp.org/tlog-cosignature). */
#define AUDIT_SIG_ED25519 0x01
#define AUDIT_SIG_COSIGNATURE 0x04
/* "<name>+<key ID, 8 hex>+<base64(0x01 || public key)>". */
#define AUDIT_VKEY_MAX (AUDIT_ORIGIN_MAX + 64)

/* Is s usable as origin and key name: 1..AUDIT_ORIGIN_MAX bytes of
 * printable ASCII, no space, no '+' (signed-note forbids both in names). */
bool audit_origin_valid(const char *s);
/* The default origin of a log served under public_url: the URL without
 * its scheme and trailing slashes, plus "/log" (tlog-tiles: the origin is
 * the log's URL prefix without the scheme), e.g. "example.org/log" for
 * "https://example.org". out holds AUDIT_ORIGIN_MAX + 1 bytes; returns 0,
 * or -1 when the result is no valid origin (out then holds the
 * fallback). */
int audit_origin_default(const char *public_url, char *out);
/* signed-note's key ID of an Ed25519 key: the first four bytes, big
 * endian, of SHA-256(name || 0x0A || 0x01 || pk). */
uint32_t audit_note_key_id(const char *name, const uint8_t pk[ED25519_PK_LEN]);
/* The verifier key of (name, pk) into out (AUDIT_VKEY_MAX bytes). Returns
 * its length. */
size_t audit_note_vkey(const char *name, const uint8_t pk[ED25519_PK_LEN],
		       char *out);
/* Sign the note text (text[0..len), which must end in a newline) as name
 * with the Ed25519 secret key sk: out gets the text, a blank line and the
 * signature line "— <name> <base64(key ID || signature)>\n". Returns the
 * length, or 0 when it does not fit in cap. */
size_t audit_note_sign(const char *text, size_t len, const char *name,
		       const uint8_t sk[ED25519_SK_LEN], char *out, size_t cap);
/* The newest checkpoint as a signed note by the log's key and origin
 * (c2sp.org/tlog-checkpoint) followed by the witnesses' cosignatures
 * stored for its tree size, into out (AUDIT_NOTE_MAX bytes), its tree
 * size in *size when size is not NULL. Returns the length, or 0 when no
 * checkpoint can be read. */
size_t audit_checkpoint_note(struct audit *a, char *out, uint64_t *size);
/* The key ID of an Ed25519 key of signature type `type`:
 * SHA-256(name || 0x0A || type || pk)[:4], big endian. */
uint32_t audit_note_key_id_typed(const char *name, uint8_t type,
				 const uint8_t pk[ED25519_PK_LEN]);
/* The verifier key of (name, pk) for signature type `type` (a witness's
 * cosignatures: AUDIT_SIG_COSIGNATURE) into out (AUDIT_VKEY_MAX bytes).
 * Returns its length (0: too long). */
size_t audit_note_vkey_typed(const char *name, uint8_t type,
			     const uint8_t pk[ED25519_PK_LEN], char *out);
/* Parse a verifier key "<name>+<8 hex key ID>+<base64(type || pk)>" of
 * signature type `type`: the name must be audit_origin_valid and the key
 * ID must match. Returns 0 with name (AUDIT_ORIGIN_MAX + 1 bytes) and pk,
 * or -1. */
int audit_vkey_parse(const char *vkey, uint8_t type, char *name,
		     uint8_t pk[ED25519_PK_LEN]);
/* A signature line of a note, decoded. */
struct audit_note_sig {
	char name[AUDIT_ORIGIN_MAX + 1];
	uint32_t key_id;
	uint8_t sig[80]; /* what follows the key ID */
	size_t sig_len;
};
/* One signature line line[0..n), without its newline. Returns 0 with
 * out, or -1. */
int audit_note_sig_parse(const char *line, size_t n,
			 struct audit_note_sig *out);
/* Split a signed note into its text (note[0..*text_len), ending in a
 * newline) and its signature lines (after the blank line): each must be
 * "— <name> <base64>\n" with at least a key ID in the base64. Fills
 * sigs[0..*n) with at most max of them; well-formed lines beyond max, or
 * too long to hold here (another algorithm's), are ignored, as signed-note
 * asks of unknown keys. Returns 0, or -1 for a malformed note (no blank
 * line, a bad line, control characters or invalid UTF-8, no signature it
 * could hold). */
int audit_note_parse(const char *note, size_t len, size_t *text_len,
		     struct audit_note_sig *sigs, size_t max, size_t *n);
/* Does one of sigs[0..n) verify text[0..len) as an Ed25519 (0x01)
 * signature of (name, pk)? Lines of other keys are ignored. */
bool audit_note_verify(const char *text, size_t len,
		       const struct audit_note_sig *sigs, size_t n,
		       const char *name, const uint8_t pk[ED25519_PK_LEN]);
/* A checkpoint note's text (c2sp.org/tlog-checkpoint): the origin line,
 * the tree size in decimal without leading zeros, the root hash in
 * base64, then any extension lines. Returns 0 with origin
 * (AUDIT_ORIGIN_MAX + 1 bytes), *size and root, or -1. */
int audit_checkpoint_parse(const char *text, size_t len, char *origin,
			   uint64_t *size, uint8_t root[SHA256_LEN]);
/* Store a witness's cosignature line ("— <witness> <base64>", without its
 * newline) of the checkpoint of tree_size. Append-only; storing the same
 * line twice is no error. Returns 0, or -1 with e. */
int audit_cosignature_add(struct store *s, uint64_t tree_size,
			  const char *witness, const char *line,
			  struct error *e);
/* The largest tree size witness cosigned (0 when none) into *size.
 * Returns 0, or -1 when the store cannot be read. */
int audit_cosigned_size(struct store *s, const char *witness,
			uint64_t *size);
/* The log's origin (its name in signed notes); lives as long as a. */
const char *audit_origin(struct audit *a);
/* The log's verifier key (its origin and public key) into out
 * (AUDIT_VKEY_MAX bytes); returns the length. */
size_t audit_vkey(struct audit *a, char *out);

/* ------------------------------------------------ rotating the signing key */

/* Keys one log's chain may hold: a rotation a year for two centuries, and
 * a bound on what `audit verify` keeps in memory. */
#define AUDIT_KEYS_MAX 256
/* A hand-over statement: its text and two signature lines. */
#define AUDIT_HANDOVER_MAX (2 * AUDIT_VKEY_MAX + 3 * AUDIT_ORIGIN_MAX + 512)

/* One hand-over from a signing key to the next (docs/AUDIT.md). */
struct audit_handover {
	uint64_t key_id;    /* the new key's number: 1 for the first */
	uint64_t tree_size; /* the newest checkpoint the old key signed */
	uint8_t root[SHA256_LEN];
	char timestamp[RFC3339_LEN]; /* that checkpoint's */
	char old_vkey[AUDIT_VKEY_MAX];
	char new_vkey[AUDIT_VKEY_MAX];
	char note[AUDIT_HANDOVER_MAX]; /* the signed statement */
};

/* audit_key_rotate's answers past -1: the hand-over is recorded but the
 * new key's first checkpoint is not signed yet (PENDING); its commit was
 * tried and failed, and whether it landed cannot be read (UNKNOWN). */
#define AUDIT_ROTATE_PENDING 1
#define AUDIT_ROTATE_UNKNOWN 2

/* Hand the log over from its signing key to new_sk: the current tree is
 * signed with the old key, then a statement naming the origin, that
 * checkpoint's size, root and timestamp and both verifier keys, signed by
 * the old key and by the new one, is stored (audit_key_handover) with an
 * event "audit_key_rotate" by by, in one transaction; from then on the log
 * signs with new_sk (copied) and every other holder of the old key stops
 * signing. Returns 0 with *out; AUDIT_ROTATE_PENDING with *out and e (the
 * hand-over is recorded: new_sk is the log's key from now on, whatever
 * else failed); AUDIT_ROTATE_UNKNOWN with e (the commit was tried, and the
 * chain cannot be read back: new_sk may be the log's key); or -1 with e,
 * and nothing recorded: ERR_CONFLICT "audit_key_superseded" when this
 * log's key is not the newest, "audit_keys_full" past AUDIT_KEYS_MAX,
 * "audit_unavailable". */
int audit_key_rotate(struct audit *a, const struct audit_actor *by,
		     const uint8_t new_sk[ED25519_SK_LEN],
		     struct audit_handover *out, struct error *e);
/* One key of a log's chain as the database records it. */
struct audit_key_info {
	uint64_t key_id;    /* 0: the original key */
	uint64_t from_size; /* the tree its term began after (0 for key 0) */
	char vkey[AUDIT_VKEY_MAX];
};
/* The signing keys the hand-overs on s name, key 0 first, at most max into
 * out, unchecked (audit_verify checks them): for an operator to compare a
 * key file with. Returns how many (0 when the key was never rotated), or
 * -1 when s cannot be read. */
int audit_keys_list(struct store *s, struct audit_key_info *out, size_t max);
/* The public key of key key_id of a's chain (the key a checkpoint row
 * names): from the hand-overs, or a's own key when it was never rotated.
 * Returns 0, or -1 when there is no such key or it cannot be read. */
int audit_key_public(struct audit *a, uint64_t key_id,
		     uint8_t pk[ED25519_PK_LEN]);
/* Is the log's key the newest of the chain stored in the database? A log
 * whose key a rotation elsewhere superseded signs no checkpoint and no
 * note until it holds the new key (its key_load is tried first). */
bool audit_key_current(struct audit *a);

/* ---------------------------------------------- tiles (c2sp.org/tlog-tiles) */

/* A tile: a level of hashes (0: leaf hashes; L: roots of the perfect
 * subtrees of 256^L leaves), or the entry bundle of level 0's leaves. */
struct audit_tile {
	bool entries;   /* an entry bundle, not hashes */
	int level;      /* 0..63; 0 for entries */
	uint64_t index; /* the N-th tile of its level */
	int width;      /* 1..256 */
};

/* Parse the path of a tile below ".../tile/": "<L>/<N>[.p/<W>]" or
 * "entries/<N>[.p/<W>]", N in 3-digit groups all but the last prefixed
 * "x" ("x001/x234/067"), no leading zeros in L and W, W in 1..255.
 * Returns 0, or -1 for anything else. */
int audit_tile_parse(const char *path, struct audit_tile *t);
/* The bytes of a hash tile in the tree of the newest checkpoint: width
 * hashes of 32 bytes. Returns 0 with *out (caller frees with free()) and
 * *n; 1 when the tile is not in that tree (beyond its size, or a level
 * the tree does not reach); -1 when the log cannot be read. */
int audit_tile_hashes(struct store *s, const struct audit_tile *t,
		      uint8_t **out, size_t *n);
/* An auditor's read of an entry bundle (the canonical entries of a level
 * 0 tile, each a big-endian uint16 length and its bytes): once the read
 * is a durable event ("audit_entries", data type audit_log, by "by"), the
 * bundle is read from the tree of the newest checkpoint. Returns 0 with
 * *out (caller frees with free()) and *n; 1 when the bundle is not in
 * that tree; -1 with e ("audit_unavailable", store failures; ERR_GONE
 * "entries_purged" when the retention removed an entry of the bundle). */
int audit_consult_entries(struct audit *a, const struct audit_actor *by,
			  const struct audit_tile *t, uint8_t **out, size_t *n,
			  struct error *e);

/* ------------------------------------------ what a person keeps (receipt) */

/* One stored event as its bytes: the canonical entry and its leaf hash. */
struct audit_entry {
	uint64_t seq;
	uint8_t *entry; /* malloc'd: the caller frees it */
	size_t n;
	uint8_t leaf[SHA256_LEN];
};

/* Event seq's entry and leaf, when it is about subject (subject NULL: any
 * event). Returns 0 with *out (free out->entry), or -1 with e: ERR_NOT_FOUND
 * "unknown_event" (none, about someone else, or purged), store failures. */
int audit_entry_of(struct store *s, uint64_t seq, const char *subject,
		   struct audit_entry *out, struct error *e);

/* The proof subject keeps that event seq, about them, is in the log
 * (c2sp.org/tlog-proof@v1): `extra` the canonical entry, the index, the
 * inclusion path to the newest checkpoint and that checkpoint's signed
 * note, verbatim as /log/checkpoint serves it. Returns 0 with *out (a
 * NUL-terminated text the caller frees) and *n, or -1 with e: those of
 * audit_entry_of; ERR_CONFLICT "not_yet_signed" (younger than the newest
 * checkpoint: ask again in a second). */
int audit_receipt(struct audit *a, const char *subject, uint64_t seq,
		  char **out, size_t *n, struct error *e);

/* --------------------------------------------------------------- proofs */

#define AUDIT_PROOF_MAX 64 /* hashes: enough for 2^64 leaves */

struct audit_proof {
	int n;
	uint8_t hash[AUDIT_PROOF_MAX][SHA256_LEN];
};

/* RFC 9162 inclusion proof of leaf seq in the tree of tree_size leaves,
 * with the leaf hash. tree_size must not exceed the durable size. Returns
 * 0, or -1 with e (ERR_INVALID "invalid_proof_request" for bad numbers). */
int audit_proof_inclusion(struct store *s, uint64_t durable_size,
			  uint64_t seq, uint64_t tree_size,
			  uint8_t leaf[SHA256_LEN], struct audit_proof *out,
			  struct error *e);
/* RFC 9162 consistency proof between trees of first and second leaves
 * (0 < first <= second <= durable size). */
int audit_proof_consistency(struct store *s, uint64_t durable_size,
			    uint64_t first, uint64_t second,
			    struct audit_proof *out, struct error *e);
/* Verify a consistency proof (RFC 9162 section 2.1.4.2) that the tree of
 * `second` leaves with root root2 extends the tree of `first` leaves with
 * root root1 (0 < first <= second). Pure: for witnesses and clients. */
bool audit_consistency_verify(uint64_t first, uint64_t second,
			      const uint8_t root1[SHA256_LEN],
			      const uint8_t root2[SHA256_LEN],
			      const struct audit_proof *p);

/* -------------------------------------------------------------- queries */

struct audit_filter {
	const char *subject; /* INSZ, or NULL */
	const char *actor;   /* KBO, or NULL */
	const char *user;    /* INSZ, or NULL */
	int64_t from_ms;     /* inclusive; 0: no bound */
	int64_t to_ms;       /* exclusive; 0: no bound */
	const char *outcome; /* AUDIT_GRANTED, AUDIT_REFUSED, or NULL */
	const char *ticket;  /* an exchange's ticket, or NULL */
	uint64_t after;      /* cursor: only seq > after (use with has_after) */
	bool has_after;
	int limit;           /* 1..AUDIT_QUERY_MAX */
};

/* Events one audit query returns. */
#define AUDIT_QUERY_MAX 1000

/* A query reads at most this many events per page, so that a filter that
 * matches rarely cannot make one request scan ten years; a page that stops
 * there may be short or empty and still have more after it. */
#define AUDIT_SCAN_MAX 200000

/* Events matching every given filter, oldest first. Fills out (caller
 * frees with free()) and *n. When *more is true, the next page starts
 * after *next (pass it as f->after). Returns 0, or -1 with e. */
int audit_query(struct audit *a, const struct audit_filter *f,
		struct audit_record **out, int *n, bool *more, uint64_t *next,
		struct error *e);

/* An auditor's query (by acts for the organisation that may audit): as
 * audit_query, once the query itself is a durable event ("audit_query",
 * data type audit_log, the filter's subject). Returns 0, or -1 with e
 * (ERR_INVALID for a bad filter, "audit_unavailable"). */
int audit_consult(struct audit *a, const struct audit_actor *by,
		  const struct audit_filter *f, struct audit_record **out,
		  int *n, bool *more, uint64_t *next, struct error *e);

/* --------------------------------------------------------------- verify */

struct audit_verify_report {
	uint64_t events;        /* events read */
	uint64_t checkpoints;   /* checkpoints verified */
	uint64_t unsigned_tail; /* events after the newest checkpoint */
	uint64_t purged;        /* events whose entry the retention removed */
	uint64_t keys;          /* signing keys in the chain (1: never rotated) */
	/* Key i of the chain and the tree size its term began after (0 for
	 * key 0); key i's term ends where key i + 1's begins, the newest
	 * key's at the log's end. */
	uint8_t key_pk[AUDIT_KEYS_MAX][ED25519_PK_LEN];
	uint64_t key_from[AUDIT_KEYS_MAX];
	uint64_t first_bad_seq; /* when failed: the first event found bad */
	bool has_bad_seq;
	char problem[LIMIT_ERROR_DETAIL];
};

/* Recompute every leaf and the whole tree from the database, check every
 * checkpoint signature and the consistency of consecutive checkpoints.
 * pk is the trust anchor: one key of the chain of hand-overs (each signed
 * by both its keys, each naming a tree the log has), through which every
 * other key is accepted; each checkpoint is checked with the key that
 * signed it, within that key's term. Returns 0 when intact, 1 when not
 * (report says where), -1 when the database cannot be read. Shares the
 * entry decoder and the tree code with the writer (docs/DESIGN.md, habit
 * 12). */
int audit_verify(struct store *s, const uint8_t pk[ED25519_PK_LEN],
		 struct audit_verify_report *report);

/* ------------------------------------------------------------- retention */

struct audit_purge_report {
	int64_t before_ms;  /* events recorded before this have expired */
	uint64_t boundary;  /* the first event kept whole */
	uint64_t events;    /* entries removed (or, in a dry run, to remove) */
	uint64_t first_seq, last_seq; /* their range, when events > 0 */
};

/* Remove the entries of the events older than the retention period
 * (audit_options.retention_days, at least ten years), keeping each
 * event's row, time and leaf hash, so the tree, every checkpoint and
 * every proof about the remaining events still verify; their rows in the
 * query indexes go too. With apply false, only report what would go.
 * The purge is itself an event ("audit_purge", by by, naming the range),
 * in the same transaction. Returns 0 and *rep, or -1 with e. */
int audit_purge(struct audit *a, const struct audit_actor *by, bool apply,
		struct audit_purge_report *rep, struct error *e);

/* ------------------------------------------------------------- schema */

/* The module's tables, as migrations (audit_schema.c): src/cli hands them
 * to store_open with every other module's. */
extern const struct store_schema audit_schema;

/* ------------------------------------------------------------- config */

/* The [audit] keys, over struct audit_options (audit_config.c). */
extern const struct config_key audit_config_keys[];
extern const size_t audit_config_nkeys;

#endif
