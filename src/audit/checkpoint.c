/*
 * Signed checkpoints: the tree size, the root hash and the time, signed
 * with Ed25519 over the canonical text (docs/AUDIT.md, docs/openapi.yaml):
 *
 *   kruispunt-checkpoint\n<tree_size>\n<root_hash hex>\n<timestamp>\n
 *
 * Anyone with the public key can check a root, and with consistency proofs
 * that every later root extends it.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/audit_internal.h"

static const char sql_put[] =
	"INSERT INTO audit_checkpoint (tree_size, root, timestamp, signature, "
	"key_id) "
	/* Another node, holding the same key, signed this size first. */
	"VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (tree_size) DO NOTHING";
static const char sql_latest[] =
	"SELECT " CHECKPOINT_COLUMNS " FROM audit_checkpoint "
	"ORDER BY tree_size DESC LIMIT 1";

size_t audit_checkpoint_text(const struct audit_checkpoint *cp, char *out)
{
	char root[2 * SHA256_LEN + 1];
	hex_encode(cp->root, SHA256_LEN, root);
	int n = snprintf(out, AUDIT_CHECKPOINT_TEXT_MAX,
			 "kruispunt-checkpoint\n%llu\n%s\n%s\n",
			 (unsigned long long)cp->tree_size, root,
			 cp->timestamp);
	return (size_t)n;
}

bool checkpoint_verify(const struct audit_checkpoint *cp,
		       const uint8_t pk[ED25519_PK_LEN])
{
	char text[AUDIT_CHECKPOINT_TEXT_MAX];
	size_t n = audit_checkpoint_text(cp, text);
	return crypto_sign_verify_detached(cp->signature, (const uint8_t *)text,
					   n, pk) == 0;
}

int checkpoint_store(struct store_conn *w, const struct merkle_frontier *f,
		     const uint8_t sk[ED25519_SK_LEN], uint64_t key_id,
		     struct error *e)
{
	struct audit_checkpoint cp = {.tree_size = f->size, .key_id = key_id};
	frontier_root(f, cp.root);
	time_format_rfc3339(time_now(), cp.timestamp);
	char text[AUDIT_CHECKPOINT_TEXT_MAX];
	size_t n = audit_checkpoint_text(&cp, text);
	crypto_sign_detached(cp.signature, NULL, (const uint8_t *)text, n, sk);
	struct store_stmt *st = store_prepare(w, sql_put);
	store_bind_int(st, 1, (int64_t)cp.tree_size);
	store_bind_blob(st, 2, cp.root, SHA256_LEN);
	store_bind_text(st, 3, cp.timestamp);
	store_bind_blob(st, 4, cp.signature, sizeof(cp.signature));
	store_bind_int(st, 5, (int64_t)cp.key_id);
	return store_run(st, NULL, e);
}

/* Fill cp from the current row of a checkpoint query. */
int checkpoint_read_row(struct store_stmt *st, struct audit_checkpoint *cp)
{
	size_t rn, sn;
	const void *root = store_col_blob(st, 1, &rn);
	const void *sig = store_col_blob(st, 3, &sn);
	const char *ts = store_col_text(st, 2);
	if (rn != SHA256_LEN || sn != sizeof(cp->signature) || !ts)
		return -1;
	cp->tree_size = (uint64_t)store_col_int(st, 0);
	cp->key_id = (uint64_t)store_col_int(st, 4);
	memcpy(cp->root, root, SHA256_LEN);
	memcpy(cp->signature, sig, sn);
	str_copy(cp->timestamp, sizeof(cp->timestamp), ts);
	return 0;
}

/* A checkpoint row, and whether it was well-formed (0) or not (-1). */
struct cp_row {
	struct audit_checkpoint *cp;
	int rc;
};

static void read_cp(struct store_stmt *st, void *row)
{
	struct cp_row *r = row;
	r->rc = checkpoint_read_row(st, r->cp);
}

int audit_checkpoint_latest(struct store *s, struct audit_checkpoint *out)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_latest);
	struct cp_row row = {out, 0};
	int rc = store_one(st, read_cp, &row, NULL);
	return rc == 0 ? row.rc : rc;
}
