/*
 * Witnesses' cosignatures of the log's checkpoints (c2sp.org/tlog-
 * cosignature): the lines the witnesses returned, kept for ever beside the
 * checkpoints they sign, and served after the log's own signature line
 * of the checkpoint note. Verifying them is the caller's part (the
 * pusher of src/witness checks each against its witness's key before it
 * stores it); this file only keeps and reads them.
 */
#include <string.h>

#include "audit/audit_internal.h"

static const char sql_add[] =
	"INSERT INTO audit_cosignature (tree_size, witness, line, received_at)"
	" VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
/* One line per witness: the first it gave for this size (a witness asked
 * again gives another timestamp, and one cosignature says enough). */
static const char sql_lines[] =
	"SELECT c.line FROM audit_cosignature c WHERE c.tree_size = ?1"
	" AND NOT EXISTS (SELECT 1 FROM audit_cosignature d"
	"  WHERE d.tree_size = c.tree_size AND d.witness = c.witness"
	"  AND (d.received_at < c.received_at OR (d.received_at ="
	"   c.received_at AND d.line < c.line)))"
	" ORDER BY c.witness LIMIT ?2";
static const char sql_size[] =
	"SELECT coalesce(max(tree_size), 0) FROM audit_cosignature"
	" WHERE witness = ?1";

int audit_cosignature_add(struct store *s, uint64_t tree_size,
			  const char *witness, const char *line,
			  struct error *e)
{
	struct store_conn *w = store_write_begin(s, e);
	if (!w)
		return -1;
	struct store_stmt *st = store_prepare(w, sql_add);
	store_bind_int(st, 1, (int64_t)tree_size);
	store_bind_text(st, 2, witness);
	store_bind_text(st, 3, line);
	store_bind_int(st, 4, time_now_ms());
	return store_write_end(s, store_run(st, NULL, e), e);
}

int audit_cosigned_size(struct store *s, const char *witness, uint64_t *size)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return -1;
	struct store_stmt *st = store_prepare(r, sql_size);
	store_bind_text(st, 1, witness);
	int64_t n = 0;
	if (store_one(st, store_read_int, &n, NULL) < 0)
		return -1;
	*size = (uint64_t)n;
	return 0;
}

size_t cosignatures_append(struct store *s, uint64_t tree_size, char *note,
			   size_t len, size_t cap)
{
	struct store_conn *r = store_reader(s);
	if (!r)
		return len;
	struct store_stmt *st = store_prepare(r, sql_lines);
	store_bind_int(st, 1, (int64_t)tree_size);
	store_bind_int(st, 2, AUDIT_COSIGNERS_MAX);
	while (store_step(st) == STORE_ROW) {
		const char *line = store_col_text(st, 0);
		size_t n = line ? strlen(line) : 0;
		if (n == 0 || len + n + 1 >= cap)
			continue;
		memcpy(note + len, line, n);
		note[len + n] = '\n';
		len += n + 1;
		note[len] = '\0';
	}
	store_done(st);
	return len;
}
