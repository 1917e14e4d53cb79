/*
 * The witness side of c2sp.org/tlog-witness: follow logs, check each
 * checkpoint a log submits against the one cosigned before, cosign.
 *
 * The order of the checks is the specification's, because each has its
 * own answer: unknown origin (404), no signature of the log's key (403),
 * old size beyond the checkpoint (400), old size not the one cosigned
 * (409 with that size), a proof that does not verify (422), the same
 * size with another root (409). Reading the log's state, checking and
 * recording the new state happen in one write transaction: two
 * submissions racing cannot leave the older one recorded last.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "witness/witness.h"

struct witness {
	struct store *store;
	char name[AUDIT_ORIGIN_MAX + 1];
	uint8_t sk[ED25519_SK_LEN];
};

static const char sql_name_get[] = "SELECT name FROM witness_self";
static const char sql_name_put[] =
	"INSERT INTO witness_self (one, name) VALUES (1, ?1)"
	" ON CONFLICT DO NOTHING";
static const char sql_log_put[] =
	"INSERT INTO witness_log (origin, vkey, updated_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (origin) DO UPDATE SET vkey = excluded.vkey";
static const char sql_log_get[] =
	"SELECT vkey, size, root FROM witness_log WHERE origin = ?1";
static const char sql_log_set[] =
	"UPDATE witness_log SET size = ?2, root = ?3, updated_at = ?4"
	" WHERE origin = ?1";

static void read_name(struct store_stmt *st, void *out)
{
	str_copy(out, AUDIT_ORIGIN_MAX + 1, store_col_text(st, 0));
}

int witness_name_set(struct store *s, const char *name, struct error *e)
{
	if (!audit_origin_valid(name))
		return err_set(e, ERR_INVALID, "invalid_name",
			       "a witness name is 1 to %d printable characters, "
			       "no space, no '+'", AUDIT_ORIGIN_MAX);
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_name_put);
	store_bind_text(st, 1, name);
	int rc = store_run(st, NULL, e);
	char have[AUDIT_ORIGIN_MAX + 1] = "";
	if (rc == 0 && store_one(store_prepare(w, sql_name_get), read_name,
				 have, e) != 0)
		rc = -1;
	if (rc == 0 && strcmp(have, name) != 0)
		rc = err_set(e, ERR_CONFLICT, "witness_named",
			     "this witness is named %s already", have);
	return store_write_end(s, rc, e);
}

int witness_log_add(struct store *s, const char *vkey, struct error *e)
{
	char origin[AUDIT_ORIGIN_MAX + 1];
	uint8_t pk[ED25519_PK_LEN];
	if (audit_vkey_parse(vkey, AUDIT_SIG_ED25519, origin, pk) != 0)
		return err_set(e, ERR_INVALID, "invalid_vkey",
			       "not an Ed25519 signed-note verifier key "
			       "(<origin>+<key ID>+<base64>)");
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_log_put);
	store_bind_text(st, 1, origin);
	store_bind_text(st, 2, vkey);
	store_bind_int(st, 3, time_now_ms());
	return store_write_end(s, store_run(st, NULL, e), e);
}

int witness_open(struct store *s, const uint8_t sk[ED25519_SK_LEN],
		 struct witness **out, struct error *e)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return store_fail(e, "the witness database cannot be read");
	struct witness *w = xmalloc(sizeof(*w));
	memset(w, 0, sizeof(*w));
	int rc = store_one(store_prepare(r, sql_name_get), read_name, w->name,
			   e);
	if (rc != 0) {
		free(w);
		return rc < 0 ? -1
			      : err_set(e, ERR_INVALID, "witness_unnamed",
					"the witness has no name: run "
					"`kruispunt witness init`");
	}
	w->store = s;
	memcpy(w->sk, sk, ED25519_SK_LEN);
	*out = w;
	return 0;
}

void witness_close(struct witness *w)
{
	if (!w)
		return;
	secret_wipe(w->sk, sizeof(w->sk));
	free(w);
}

const char *witness_name(const struct witness *w)
{
	return w->name;
}

/* ------------------------------------------------------ add-checkpoint */

/* An add-checkpoint body, taken apart. */
struct submission {
	uint64_t old;
	struct audit_proof proof;
	const char *note; /* the checkpoint note */
	size_t note_len;
	size_t text_len; /* its text, before the signatures */
	struct audit_note_sig sigs[WITNESS_NOTE_SIGS_MAX];
	size_t nsigs;
	char origin[AUDIT_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[SHA256_LEN];
};

/* "old <size>\n": decimal, no leading zeros. Returns the bytes read, or
 * 0. */
static size_t old_line(const char *b, size_t len, uint64_t *old)
{
	const char *nl = memchr(b, '\n', len);
	if (!nl || nl - b < 5 || memcmp(b, "old ", 4) != 0)
		return 0;
	const char *d = b + 4;
	size_t n = (size_t)(nl - d);
	if (n > 19 || (n > 1 && d[0] == '0'))
		return 0;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (d[i] < '0' || d[i] > '9')
			return 0;
		v = v * 10 + (uint64_t)(d[i] - '0');
	}
	*old = v;
	return (size_t)(nl - b) + 1;
}

/* The proof lines up to the blank line. Returns the bytes read, or 0. */
static size_t proof_lines(const char *b, size_t len, struct audit_proof *p)
{
	size_t off = 0;
	p->n = 0;
	for (;;) {
		const char *nl = memchr(b + off, '\n', len - off);
		if (!nl)
			return 0;
		size_t n = (size_t)(nl - (b + off));
		if (n == 0)
			return off + 1;
		size_t got;
		const char *end;
		if (p->n == WITNESS_PROOF_LINES_MAX ||
		    sodium_base642bin(p->hash[p->n], SHA256_LEN, b + off, n,
				      NULL, &got, &end,
				      sodium_base64_VARIANT_ORIGINAL) != 0 ||
		    got != SHA256_LEN || end != nl)
			return 0;
		p->n++;
		off += n + 1;
	}
}

static int submission_parse(const char *body, size_t len,
			    struct submission *s)
{
	size_t a = old_line(body, len, &s->old);
	size_t b = a ? proof_lines(body + a, len - a, &s->proof) : 0;
	if (!b)
		return -1;
	s->note = body + a + b;
	s->note_len = len - a - b;
	if (audit_note_parse(s->note, s->note_len, &s->text_len, s->sigs,
			     WITNESS_NOTE_SIGS_MAX, &s->nsigs) != 0)
		return -1;
	return audit_checkpoint_parse(s->note, s->text_len, s->origin,
				      &s->size, s->root);
}

/* The state of a followed log, as read in the transaction. */
struct log_state {
	char vkey[AUDIT_VKEY_MAX];
	uint64_t size;
	uint8_t root[SHA256_LEN];
	bool has_root;
};

static void read_state(struct store_stmt *st, void *out)
{
	struct log_state *ls = out;
	size_t n;
	const void *root = store_col_blob(st, 2, &n);
	str_copy(ls->vkey, sizeof(ls->vkey), store_col_text(st, 0));
	ls->size = (uint64_t)store_col_int(st, 1);
	ls->has_root = root && n == SHA256_LEN;
	if (ls->has_root)
		memcpy(ls->root, root, SHA256_LEN);
}

/* The checks of tlog-witness, in its order, against the recorded state. */
static enum witness_outcome check(const struct submission *s,
				  const struct log_state *ls,
				  struct witness_answer *ans)
{
	char name[AUDIT_ORIGIN_MAX + 1];
	uint8_t pk[ED25519_PK_LEN];
	if (audit_vkey_parse(ls->vkey, AUDIT_SIG_ED25519, name, pk) != 0 ||
	    !audit_note_verify(s->note, s->text_len, s->sigs, s->nsigs, name,
			       pk))
		return WITNESS_BAD_SIGNATURE;
	if (s->old > s->size)
		return WITNESS_OLD_TOO_LARGE;
	if (s->old != ls->size) {
		ans->size = ls->size;
		return WITNESS_OLD_MISMATCH;
	}
	/* The same size again: the same root, or a fork (size 0 too: the
	 * empty tree has one root). */
	if (s->old == s->size && ls->has_root)
		return sodium_memcmp(s->root, ls->root, SHA256_LEN) != 0
			       ? WITNESS_FORK
		       : s->proof.n == 0 ? WITNESS_COSIGNED
					 : WITNESS_BAD_PROOF;
	if (s->old == 0 || !ls->has_root)
		return s->proof.n == 0 ? WITNESS_COSIGNED : WITNESS_BAD_PROOF;
	return audit_consistency_verify(s->old, s->size, ls->root, s->root,
					&s->proof)
		       ? WITNESS_COSIGNED
		       : WITNESS_BAD_PROOF;
}

/* Read, check and (when it passes) record, in one write transaction. */
static enum witness_outcome check_and_record(struct witness *w,
					     const struct submission *s,
					     struct witness_answer *ans)
{
	struct error e;
	struct store_conn *c = store_write_begin(w->store, &e);
	if (!c) {
		str_copy(ans->detail, sizeof(ans->detail), e.detail);
		return WITNESS_FAILED;
	}
	struct store_stmt *st = store_prepare(c, sql_log_get);
	store_bind_text(st, 1, s->origin);
	struct log_state ls = {.size = 0};
	int rc = store_one(st, read_state, &ls, &e);
	enum witness_outcome out = rc < 0   ? WITNESS_FAILED
				   : rc > 0 ? WITNESS_UNKNOWN_LOG
					    : check(s, &ls, ans);
	if (out == WITNESS_COSIGNED) {
		st = store_prepare(c, sql_log_set);
		store_bind_text(st, 1, s->origin);
		store_bind_int(st, 2, (int64_t)s->size);
		store_bind_blob(st, 3, s->root, SHA256_LEN);
		store_bind_int(st, 4, time_now_ms());
		rc = store_run(st, NULL, &e);
	}
	if (store_write_end(w->store, out == WITNESS_COSIGNED ? rc : -1, &e) !=
		    0 &&
	    out == WITNESS_COSIGNED)
		out = WITNESS_FAILED;
	if (out == WITNESS_FAILED)
		str_copy(ans->detail, sizeof(ans->detail), e.detail);
	return out;
}

static const char *const refusal[] = {
	[WITNESS_MALFORMED] = "the body is no add-checkpoint request",
	[WITNESS_UNKNOWN_LOG] = "no log of this origin is followed",
	[WITNESS_BAD_SIGNATURE] = "no valid signature of the log's key",
	[WITNESS_OLD_TOO_LARGE] = "the old size exceeds the checkpoint's",
	[WITNESS_OLD_MISMATCH] = "the old size is not the size cosigned",
	[WITNESS_BAD_PROOF] = "the consistency proof does not verify",
	[WITNESS_FORK] = "a different root for the size cosigned",
};

enum witness_outcome witness_add_checkpoint(struct witness *w,
					    const char *body, size_t len,
					    struct witness_answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	struct submission *s = xmalloc(sizeof(*s));
	memset(s, 0, sizeof(*s));
	enum witness_outcome out = len > WITNESS_BODY_MAX ||
					   submission_parse(body, len, s) != 0
				   ? WITNESS_MALFORMED
				   : check_and_record(w, s, ans);
	if (out == WITNESS_COSIGNED &&
	    witness_cosign(s->note, s->text_len, w->name, w->sk,
			   (uint64_t)time_now(), ans->text) == 0)
		out = WITNESS_FAILED;
	if (out == WITNESS_FORK || out == WITNESS_BAD_PROOF)
		log_warn("security: witness: log %s showed %s at size %llu",
			 s->origin, out == WITNESS_FORK ? "a fork" :
			 "an inconsistent tree", (unsigned long long)s->size);
	if (out != WITNESS_COSIGNED && out != WITNESS_FAILED)
		str_copy(ans->detail, sizeof(ans->detail), refusal[out]);
	free(s);
	return out;
}
