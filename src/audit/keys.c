/*
 * Rotating the audit signing key. A log's keys form a chain: the original
 * key (number 0), then the new key of each hand-over (1, 2, ...). A
 * hand-over is a C2SP signed note whose text is
 *
 *   kruispunt-key-handover/v1
 *   <origin>
 *   <tree size>
 *   <root hash, base64>
 *   <timestamp of the old key's checkpoint of that tree>
 *   <old verifier key>
 *   <new verifier key>
 *
 * signed by the old key and by the new key (two signature lines of the
 * same name, told apart by their key IDs). The tree named is the newest
 * checkpoint the old key signed: the old key's term ends there and the new
 * key's begins. Its timestamp binds the statement to that one signed
 * checkpoint (audit verify finds it, signed by the old key, at that size),
 * so that whoever replaces a hand-over must also replace the checkpoint
 * it names. The old key's signature is what lets a verifier who
 * trusts only the old key accept the new one; the new key's is what stops
 * anyone from handing the log over to a key they do not hold, and lets a
 * verifier who has only the new key accept the old checkpoints. Its first
 * line is no origin, so no checkpoint parser can take it for a checkpoint
 * the old key signed.
 *
 * The statements live in audit_key_handover (append-only). Every
 * checkpoint row says which key signed it (key_id), so an old checkpoint
 * keeps verifying with its own key, and only with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit_internal.h"

#define HANDOVER_MAGIC "kruispunt-key-handover/v1"
#define HANDOVER_LINES 7

static const char sql_newest[] =
	"SELECT key_id, new_vkey FROM audit_key_handover "
	"ORDER BY key_id DESC LIMIT 1";
static const char sql_put[] =
	"INSERT INTO audit_key_handover (key_id, tree_size, old_vkey, "
	"new_vkey, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_latest_cp[] =
	"SELECT " CHECKPOINT_COLUMNS " FROM audit_checkpoint "
	"ORDER BY tree_size DESC LIMIT 1";
static const char sql_all[] =
	"SELECT key_id, tree_size, old_vkey, new_vkey, note "
	"FROM audit_key_handover ORDER BY key_id";

int keys_newest(struct store_conn *c, uint64_t *key_id, char *new_vkey)
{
	struct store_stmt *st = store_prepare(c, sql_newest);
	enum store_rc step = store_step(st);
	int rc = 0;
	if (step == STORE_ROW) {
		const char *v = store_col_text(st, 1);
		*key_id = (uint64_t)store_col_int(st, 0);
		rc = v && str_copy(new_vkey, AUDIT_VKEY_MAX, v) ? 1 : -1;
	} else if (step != STORE_DONE) {
		rc = -1;
	}
	store_done(st);
	return rc;
}

/* The statement's text into out (AUDIT_HANDOVER_MAX bytes); its length,
 * 0 when it does not fit. */
static size_t handover_text(const char *origin, const struct audit_handover *h,
			    char *out)
{
	char root[sodium_base64_ENCODED_LEN(SHA256_LEN,
					    sodium_base64_VARIANT_ORIGINAL)];
	sodium_bin2base64(root, sizeof(root), h->root, SHA256_LEN,
			  sodium_base64_VARIANT_ORIGINAL);
	int n = snprintf(out, AUDIT_HANDOVER_MAX,
			 HANDOVER_MAGIC "\n%s\n%llu\n%s\n%s\n%s\n%s\n", origin,
			 (unsigned long long)h->tree_size, root, h->timestamp,
			 h->old_vkey, h->new_vkey);
	return n > 0 && n < AUDIT_HANDOVER_MAX ? (size_t)n : 0;
}

/* The lines of a statement's text, each copied into its own buffer. */
static int text_lines(const char *text, size_t len,
		      char lines[HANDOVER_LINES][AUDIT_VKEY_MAX])
{
	size_t at = 0;
	for (int i = 0; i < HANDOVER_LINES; i++) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : 0;
		if (!nl || n >= AUDIT_VKEY_MAX)
			return -1;
		memcpy(lines[i], text + at, n);
		lines[i][n] = '\0';
		at += n + 1;
	}
	return at == len ? 0 : -1;
}

/* Parse a statement's text into h (size, root, both vkeys) and origin
 * (AUDIT_ORIGIN_MAX + 1 bytes). Returns 0, or -1. */
static int handover_parse(const char *text, size_t len,
			  struct audit_handover *h, char *origin)
{
	char l[HANDOVER_LINES][AUDIT_VKEY_MAX];
	if (text_lines(text, len, l) != 0 || strcmp(l[0], HANDOVER_MAGIC) != 0 ||
	    !str_copy(origin, AUDIT_ORIGIN_MAX + 1, l[1]) || l[4][0] == '\0' ||
	    !str_copy(h->timestamp, sizeof(h->timestamp), l[4]))
		return -1;
	/* The checkpoint's own parser for size and root: the same rules. */
	char cp[3 * AUDIT_VKEY_MAX], name[AUDIT_ORIGIN_MAX + 1];
	int n = snprintf(cp, sizeof(cp), "%s\n%s\n%s\n", l[1], l[2], l[3]);
	if (n <= 0 || (size_t)n >= sizeof(cp) ||
	    audit_checkpoint_parse(cp, (size_t)n, name, &h->tree_size,
				   h->root) != 0)
		return -1;
	str_copy(h->old_vkey, sizeof(h->old_vkey), l[5]);
	str_copy(h->new_vkey, sizeof(h->new_vkey), l[6]);
	return 0;
}

/* ------------------------------------------------------------ rotating */

struct rotation {
	struct audit *a;
	const uint8_t *new_sk;
	struct audit_handover *h;
	char what[160]; /* the event's purpose */
};

static void read_cp(struct store_stmt *st, void *out)
{
	if (checkpoint_read_row(st, out) != 0)
		memset(out, 0, sizeof(struct audit_checkpoint));
}

/* Sign the statement with the old key (the log's) and the new one: the
 * note with both signature lines into h->note. */
static int sign_both(struct rotation *r, const char *text, size_t len,
		     struct error *e)
{
	char with_new[AUDIT_HANDOVER_MAX];
	size_t n = audit_sign_note(r->a, text, len, r->h->note,
				   sizeof(r->h->note));
	size_t m = audit_note_sign(text, len, audit_origin(r->a), r->new_sk,
				   with_new, sizeof(with_new));
	/* Both are the text, a blank line and one signature line. */
	size_t line = m > len + 1 ? m - len - 1 : 0;
	if (n == 0 || m == 0 || n + line >= sizeof(r->h->note))
		return err_set(e, ERR_INTERNAL, "audit_unavailable",
			       "the hand-over does not fit its note");
	memcpy(r->h->note + n, with_new + len + 1, line);
	r->h->note[n + line] = '\0';
	return 0;
}

static int rotate_change(struct store_conn *w, void *ctx,
			 struct audit_event *evs, size_t n, struct error *e)
{
	KP_UNUSED(n);
	struct rotation *r = ctx;
	struct audit_handover *h = r->h;
	uint64_t last = 0;
	char newest[AUDIT_VKEY_MAX];
	int have = keys_newest(w, &last, newest);
	if (have < 0)
		return store_fail(e, "the key chain cannot be read");
	audit_vkey(r->a, h->old_vkey);
	if (have == 1 && strcmp(newest, h->old_vkey) != 0)
		return err_set(e, ERR_CONFLICT, "audit_key_superseded",
			       "this log's signing key was already replaced "
			       "(key %llu): rotate from the newest key",
			       (unsigned long long)last);
	if (last + 1 >= AUDIT_KEYS_MAX)
		return err_set(e, ERR_CONFLICT, "audit_keys_full",
			       "the log has had %d signing keys", AUDIT_KEYS_MAX);
	struct audit_checkpoint cp;
	memset(&cp, 0, sizeof(cp));
	int got = store_one(store_prepare(w, sql_latest_cp), read_cp, &cp, e);
	if (got < 0)
		return -1;
	/* The statement names the old key's own newest checkpoint; verify
	 * finds it there, signed by that key, at that size. */
	if (got > 0 || cp.timestamp[0] == '\0' || cp.key_id != last)
		return err_set(e, ERR_CONFLICT, "audit_unavailable",
			       "the log's newest checkpoint is not signed by "
			       "its current key: try again once it is");
	h->key_id = last + 1;
	h->tree_size = cp.tree_size;
	memcpy(h->root, cp.root, SHA256_LEN);
	str_copy(h->timestamp, sizeof(h->timestamp), cp.timestamp);
	uint8_t pk[ED25519_PK_LEN];
	crypto_sign_ed25519_sk_to_pk(pk, r->new_sk);
	audit_note_vkey(audit_origin(r->a), pk, h->new_vkey);
	char text[AUDIT_HANDOVER_MAX];
	size_t len = handover_text(audit_origin(r->a), h, text);
	if (len == 0 || sign_both(r, text, len, e) != 0)
		return len ? -1 : err_set(e, ERR_INTERNAL, "audit_unavailable",
					  "the hand-over does not fit");
	snprintf(r->what, sizeof(r->what),
		 "signing key %llu takes over after tree size %llu",
		 (unsigned long long)h->key_id,
		 (unsigned long long)h->tree_size);
	evs[0].purpose = r->what;
	struct store_stmt *st = store_prepare(w, sql_put);
	store_bind_int(st, 1, (int64_t)h->key_id);
	store_bind_int(st, 2, (int64_t)h->tree_size);
	store_bind_text(st, 3, h->old_vkey);
	store_bind_text(st, 4, h->new_vkey);
	store_bind_text(st, 5, h->note);
	store_bind_int(st, 6, time_now_ms());
	return store_run(st, NULL, e);
}

/* After a commit that failed: did the hand-over land all the same (its
 * COMMIT answered, but the answer was lost)? 1 when the chain's newest key
 * is h's new key, 0 when it provably is not, -1 when it cannot be read. */
static int handover_landed(struct audit *a, const struct audit_handover *h)
{
	uint64_t id = 0;
	char newest[AUDIT_VKEY_MAX];
	struct store_conn *r = store_reader(audit_store(a));
	int have = r ? keys_newest(r, &id, newest) : -1;
	if (have < 0)
		return -1;
	return have == 1 && h->new_vkey[0] && strcmp(newest, h->new_vkey) == 0;
}

int audit_key_rotate(struct audit *a, const struct audit_actor *by,
		     const uint8_t new_sk[ED25519_SK_LEN],
		     struct audit_handover *out, struct error *e)
{
	memset(out, 0, sizeof(*out));
	if (!audit_key_current(a))
		return err_set(e, ERR_CONFLICT, "audit_key_superseded",
			       "this log's signing key was already replaced: "
			       "rotate from the newest key");
	/* The old key's term ends with the tree as it is now: signed by it
	 * first, so the hand-over can name that checkpoint. */
	if (audit_checkpoint_now(a, e) != 0)
		return -1;
	struct rotation r = {.a = a, .new_sk = new_sk, .h = out};
	struct audit_event ev = audit_event_by(by, "audit_key_rotate");
	ev.data_type = "audit_log";
	if (audit_commit(a, &ev, 1, rotate_change, &r, e) != 0) {
		int landed = handover_landed(a, out);
		if (landed <= 0)
			return landed == 0 ? -1 : AUDIT_ROTATE_UNKNOWN;
	}
	writer_key_set(a, new_sk, out->key_id);
	/* The rotation's own event, under the new key at once; a failure
	 * here leaves the hand-over recorded all the same. */
	return audit_checkpoint_now(a, e) == 0 ? 0 : AUDIT_ROTATE_PENDING;
}

bool audit_key_current(struct audit *a)
{
	struct store_conn *r = store_reader(audit_store(a));
	return r && writer_key_follow(a, r) >= 0;
}

/* ---------------------------------------------------------- verifying */

/* One row of audit_key_handover checked on its own: its note signed by
 * both keys it names, its columns those of the note. Fills h and the two
 * keys. Returns 0, or -1 with why in problem. */
static int check_row(struct store_stmt *st, struct audit_handover *h,
		     uint8_t old_pk[ED25519_PK_LEN],
		     uint8_t new_pk[ED25519_PK_LEN], char *problem, size_t cap)
{
	const char *note = store_col_text(st, 4);
	const char *ov = store_col_text(st, 2), *nv = store_col_text(st, 3);
	char origin[AUDIT_ORIGIN_MAX + 1], n1[AUDIT_ORIGIN_MAX + 1],
		n2[AUDIT_ORIGIN_MAX + 1];
	struct audit_note_sig sigs[4];
	size_t text_len, nsigs;
	h->key_id = (uint64_t)store_col_int(st, 0);
	if (!note || !ov || !nv ||
	    audit_note_parse(note, strlen(note), &text_len, sigs, 4, &nsigs) != 0 ||
	    handover_parse(note, text_len, h, origin) != 0 ||
	    audit_vkey_parse(h->old_vkey, AUDIT_SIG_ED25519, n1, old_pk) != 0 ||
	    audit_vkey_parse(h->new_vkey, AUDIT_SIG_ED25519, n2, new_pk) != 0 ||
	    strcmp(n1, origin) != 0 || strcmp(n2, origin) != 0) {
		snprintf(problem, cap, "key hand-over %llu is malformed",
			 (unsigned long long)h->key_id);
		return -1;
	}
	if (!audit_note_verify(note, text_len, sigs, nsigs, origin, old_pk) ||
	    !audit_note_verify(note, text_len, sigs, nsigs, origin, new_pk)) {
		snprintf(problem, cap, "key hand-over %llu is forged: it is not "
			 "signed by both the old and the new key it names",
			 (unsigned long long)h->key_id);
		return -1;
	}
	if ((uint64_t)store_col_int(st, 1) != h->tree_size ||
	    strcmp(ov, h->old_vkey) != 0 || strcmp(nv, h->new_vkey) != 0) {
		snprintf(problem, cap, "key hand-over %llu: its columns differ "
			 "from its signed statement",
			 (unsigned long long)h->key_id);
		return -1;
	}
	return 0;
}

/* Link hand-over h (the i-th, from 0) into ch, whose keys so far end with
 * the key it must hand over from. Returns 0, or -1 with problem. */
static int link_row(struct key_chain *ch, size_t i,
		    const struct audit_handover *h,
		    const uint8_t old_pk[ED25519_PK_LEN],
		    const uint8_t new_pk[ED25519_PK_LEN], char *problem,
		    size_t cap)
{
	if (h->key_id != i + 1 || i + 1 >= AUDIT_KEYS_MAX) {
		snprintf(problem, cap, "key hand-over %llu is out of sequence",
			 (unsigned long long)h->key_id);
		return -1;
	}
	if (i == 0)
		memcpy(ch->pk[0], old_pk, ED25519_PK_LEN);
	if (sodium_memcmp(ch->pk[i], old_pk, ED25519_PK_LEN) != 0 ||
	    sodium_memcmp(old_pk, new_pk, ED25519_PK_LEN) == 0 ||
	    (i > 0 && h->tree_size < ch->size[i])) {
		snprintf(problem, cap, "key hand-over %llu does not follow "
			 "from the key before it (another key, or an earlier "
			 "tree)", (unsigned long long)h->key_id);
		return -1;
	}
	memcpy(ch->pk[i + 1], new_pk, ED25519_PK_LEN);
	ch->size[i + 1] = h->tree_size;
	memcpy(ch->root[i + 1], h->root, SHA256_LEN);
	str_copy(ch->ts[i + 1], RFC3339_LEN, h->timestamp);
	ch->n = i + 2;
	return 0;
}

int keys_chain_load(struct store_conn *c, const uint8_t anchor[ED25519_PK_LEN],
		    struct key_chain *ch, char *problem, size_t cap)
{
	memset(ch, 0, sizeof(*ch));
	memcpy(ch->pk[0], anchor, ED25519_PK_LEN);
	ch->n = 1;
	struct store_stmt *st = store_prepare(c, sql_all);
	struct audit_handover h;
	uint8_t old_pk[ED25519_PK_LEN], new_pk[ED25519_PK_LEN];
	int rc = 0;
	enum store_rc step = STORE_DONE;
	for (size_t i = 0; rc == 0 && (step = store_step(st)) == STORE_ROW; i++)
		if (check_row(st, &h, old_pk, new_pk, problem, cap) != 0 ||
		    link_row(ch, i, &h, old_pk, new_pk, problem, cap) != 0)
			rc = 1;
	store_done(st);
	if (rc == 0 && step != STORE_DONE)
		return -1;
	for (size_t i = 0; rc == 0 && i < ch->n; i++)
		if (sodium_memcmp(ch->pk[i], anchor, ED25519_PK_LEN) == 0)
			return 0;
	if (rc == 0)
		snprintf(problem, cap, "the trusted public key is none of the "
			 "log's %zu signing keys: the chain of hand-overs does "
			 "not start from it", ch->n);
	return 1;
}

/* ------------------------------------------------------------ listing */

static const char sql_list[] =
	"SELECT key_id, tree_size, old_vkey, new_vkey FROM audit_key_handover "
	"ORDER BY key_id";

int audit_keys_list(struct store *s, struct audit_key_info *out, size_t max)
{
	struct store_conn *c = store_reader(s);
	if (!c)
		return -1;
	struct store_stmt *st = store_prepare(c, sql_list);
	size_t n = 0;
	enum store_rc step;
	while ((step = store_step(st)) == STORE_ROW && n + 1 < max) {
		const char *ov = store_col_text(st, 2), *nv = store_col_text(st, 3);
		if (n == 0) {
			out[0].key_id = 0;
			out[0].from_size = 0;
			str_copy(out[0].vkey, AUDIT_VKEY_MAX, ov ? ov : "");
			n = 1;
		}
		out[n].key_id = (uint64_t)store_col_int(st, 0);
		out[n].from_size = (uint64_t)store_col_int(st, 1);
		str_copy(out[n].vkey, AUDIT_VKEY_MAX, nv ? nv : "");
		n++;
	}
	store_done(st);
	return step == STORE_ROW || step == STORE_DONE ? (int)n : -1;
}

int audit_key_public(struct audit *a, uint64_t key_id,
		     uint8_t pk[ED25519_PK_LEN])
{
	struct audit_key_info *keys = xcalloc(AUDIT_KEYS_MAX, sizeof(*keys));
	int n = audit_keys_list(audit_store(a), keys, AUDIT_KEYS_MAX);
	char name[AUDIT_ORIGIN_MAX + 1];
	int rc = -1;
	if (n == 0 && key_id == 0) {
		audit_public_key(a, pk);
		rc = 0;
	} else if (n > 0 && key_id < (uint64_t)n) {
		rc = audit_vkey_parse(keys[key_id].vkey, AUDIT_SIG_ED25519, name,
				      pk);
	}
	free(keys);
	return rc;
}
