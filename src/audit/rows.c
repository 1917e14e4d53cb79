/*
 * The writer's rows: a batch's events and the query indexes' keys.
 *
 * On SQLite a row is a function call, so each goes in by itself. On
 * PostgreSQL each row would be a round trip to another process, on the one
 * writer thread that every exchange waits for: a batch's events go in as
 * one statement (arrays unnested server-side), and so does each index's
 * batch of keys (docs/benchmarks.md, "Where the time goes on PostgreSQL").
 * Either way the rows and their order are the same, so the log, its
 * triggers and the lost-commit check see no difference.
 */
#include <stdio.h>
#include <string.h>

#include "audit/audit_internal.h"

/* The arrays of one statement are text; a batch is at most the events
 * queued in one group commit (64 KiB of hex at most per entry). */
#define ROWS_TEXT_MAX ((size_t)1 << 30)

static const char sql_event[] =
	"INSERT INTO audit_event (seq, at, entry, leaf) VALUES (?1, ?2, ?3, ?4)";
static const char sql_events_pg[] =
	"INSERT INTO audit_event (seq, at, entry, leaf) "
	"SELECT s, a, decode(e, 'hex'), decode(l, 'hex') "
	"FROM unnest(?1::bigint[], ?2::bigint[], ?3::text[], ?4::text[]) "
	"AS t(s, a, e, l)";

void rows_begin(struct audit_rows *r, struct store *s, struct store_conn *w)
{
	memset(r, 0, sizeof(*r));
	r->w = w;
	r->pg = store_backend_of(s) == STORE_POSTGRESQL;
	for (int i = 0; i < 4; i++)
		buf_init(&r->col[i], ROWS_TEXT_MAX);
}

void rows_end(struct audit_rows *r)
{
	for (int i = 0; i < 4; i++)
		buf_free(&r->col[i]);
}

/* Append one element to an array literal: "{" before the first. */
static int elem(struct buf *b, bool first, const char *text)
{
	return buf_puts(b, first ? "{" : ",") | buf_puts(b, text);
}

static int elem_hex(struct buf *b, bool first, const void *v, size_t n)
{
	char hex[2 * AUDIT_ENTRY_MAX + 1];
	hex_encode(v, n, hex);
	return elem(b, first, hex);
}

static int elem_int(struct buf *b, bool first, int64_t v)
{
	char num[24];
	snprintf(num, sizeof(num), "%lld", (long long)v);
	return elem(b, first, num);
}

int rows_event(struct audit_rows *r, uint64_t seq, int64_t at_ms,
	       const void *entry, size_t len, const uint8_t leaf[SHA256_LEN])
{
	if (r->pg) {
		bool first = r->n == 0;
		r->n++;
		return elem_int(&r->col[0], first, (int64_t)seq) |
		       elem_int(&r->col[1], first, at_ms) |
		       elem_hex(&r->col[2], first, entry, len) |
		       elem_hex(&r->col[3], first, leaf, SHA256_LEN);
	}
	struct store_stmt *st = store_prepare(r->w, sql_event);
	store_bind_int(st, 1, (int64_t)seq);
	store_bind_int(st, 2, at_ms);
	store_bind_blob(st, 3, entry, len);
	store_bind_blob(st, 4, leaf, SHA256_LEN);
	enum store_rc rc = store_step(st);
	store_done(st);
	return rc == STORE_DONE ? 0 : -1;
}

/* Run sql with the collected arrays as its parameters 1..ncols. */
static int run_arrays(struct audit_rows *r, const char *sql, int ncols)
{
	struct store_stmt *st = store_prepare(r->w, sql);
	for (int i = 0; i < ncols; i++) {
		buf_puts(&r->col[i], "}");
		store_bind_textn(st, i + 1, r->col[i].p, r->col[i].len);
	}
	enum store_rc rc = store_step(st);
	store_done(st);
	for (int i = 0; i < ncols; i++)
		r->col[i].len = 0;
	r->n = 0;
	return rc == STORE_DONE ? 0 : -1;
}

int rows_flush(struct audit_rows *r)
{
	if (!r->pg || r->n == 0)
		return 0;
	return run_arrays(r, sql_events_pg, 4);
}

/* An index key as an array element, quoted: keys are numbers today, but
 * nothing here should depend on that. */
static int elem_key(struct buf *b, bool first, const char *key)
{
	int rc = buf_puts(b, first ? "{\"" : ",\"");
	for (const char *c = key; *c; c++) {
		if (*c == '"' || *c == '\\')
			rc |= buf_puts(b, "\\");
		rc |= buf_append(b, c, 1);
	}
	return rc | buf_puts(b, "\"");
}

int rows_index(struct audit_rows *r, const char *sql_one, const char *sql_pg,
	       const struct audit_index_row *rows, size_t n)
{
	if (n == 0)
		return 0;
	if (!r->pg) {
		struct store_stmt *st = store_prepare(r->w, sql_one);
		for (size_t i = 0; i < n; i++) {
			store_bind_text(st, 1, rows[i].key);
			store_bind_int(st, 2, (int64_t)rows[i].seq);
			enum store_rc rc = store_step(st);
			store_done(st);
			if (rc != STORE_DONE)
				return -1;
		}
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		rc |= elem_key(&r->col[0], i == 0, rows[i].key) |
		      elem_int(&r->col[1], i == 0, (int64_t)rows[i].seq);
	return rc != 0 ? -1 : run_arrays(r, sql_pg, 2);
}
