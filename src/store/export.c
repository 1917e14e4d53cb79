/*
 * store_export: an installation's SQLite database moved into PostgreSQL
 * (`kruispunt export`), every table with every row, the audit log's
 * events, subtrees and checkpoints included, so that `audit verify` passes
 * on the copy.
 *
 * The target has been brought to the same schema version by its own
 * migrations, so it has every table; the tables are read from its
 * catalogue in the order they were created (a table only references
 * tables made before it) and filled with COPY, in one transaction under
 * the write lock.
 *
 * The one place where SQL text is put together at run time: COPY and the
 * source's SELECT name the tables and columns, which come from the
 * target's own catalogue (never from input) and are quoted by libpq's
 * PQescapeIdentifier; no value is ever in the text. Everything else that
 * walks the tables (emptying them, moving the identity sequences) runs
 * server-side in static PL/pgSQL, format('%I').
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "store/store.h"
#include "store/store_internal.h"

#define OID_BYTEA 17

struct column {
	char name[64];
	bool bytea;
};

/* A growing line of COPY text. */
struct line {
	char *p;
	size_t n, cap;
};

static void put(struct line *l, const void *s, size_t n)
{
	if (l->n + n + 1 > l->cap) {
		l->cap = (l->n + n + 1) * 2;
		l->p = xrealloc(l->p, l->cap);
	}
	memcpy(l->p + l->n, s, n);
	l->n += n;
}

/* Text in COPY's text format: a backslash, tab, newline or carriage
 * return escaped, everything else as it is. */
static void put_text(struct line *l, const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\"
				  : s[i] == '\t' ? "\\t"
				  : s[i] == '\n' ? "\\n"
				  : s[i] == '\r' ? "\\r"
						 : NULL;
		if (esc)
			put(l, esc, 2);
		else
			put(l, &s[i], 1);
	}
}

/* bytea's hex input (\x...), its backslash escaped for COPY. */
static void put_bytea(struct line *l, const unsigned char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	put(l, "\\\\x", 3);
	for (size_t i = 0; i < n; i++) {
		char two[2] = {hex[s[i] >> 4], hex[s[i] & 15]};
		put(l, two, 2);
	}
}

static void put_value(struct line *l, sqlite3_stmt *st, int i, bool bytea)
{
	int type = sqlite3_column_type(st, i);
	if (type == SQLITE_NULL) {
		put(l, "\\N", 2);
	} else if (bytea) {
		const void *b = sqlite3_column_blob(st, i);
		put_bytea(l, b, (size_t)sqlite3_column_bytes(st, i));
	} else if (type == SQLITE_INTEGER) {
		char num[24];
		int k = snprintf(num, sizeof(num), "%" PRId64,
				 (int64_t)sqlite3_column_int64(st, i));
		put(l, num, (size_t)k);
	} else if (type == SQLITE_FLOAT) {
		char num[32];
		int k = snprintf(num, sizeof(num), "%.17g",
				 sqlite3_column_double(st, i));
		put(l, num, (size_t)k);
	} else {
		const unsigned char *t = sqlite3_column_text(st, i);
		put_text(l, t, (size_t)sqlite3_column_bytes(st, i));
	}
}

static int pg_ok(PGconn *db, PGresult *r, ExecStatusType want,
		 const char *what, struct error *e)
{
	bool ok = PQresultStatus(r) == want;
	if (!ok) {
		log_error("export: %s: %s", what, PQerrorMessage(db));
		err_set(e, ERR_UNAVAILABLE, "export_failed", "%s failed: %s",
			what, PQresultErrorMessage(r));
	}
	PQclear(r);
	return ok ? 0 : -1;
}

/* The columns of table oid, in order. Returns how many (at most max), or
 * -1 with e set. */
static int columns(PGconn *db, const char *oid, struct column *c, int max,
		   struct error *e)
{
	const char *vals[] = {oid};
	PGresult *r = PQexecParams(
		db,
		"SELECT attname, atttypid FROM pg_attribute WHERE attrelid = "
		"$1::oid AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
		1, NULL, vals, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) > max) {
		PQclear(r);
		return err_set(e, ERR_INTERNAL, "export_failed",
			       "the target's columns cannot be read");
	}
	int n = PQntuples(r);
	for (int i = 0; i < n; i++) {
		str_copy(c[i].name, sizeof(c[i].name), PQgetvalue(r, i, 0));
		c[i].bytea = strtol(PQgetvalue(r, i, 1), NULL, 10) == OID_BYTEA;
	}
	PQclear(r);
	return n;
}

/* name as a quoted identifier into l (libpq's quoting, which SQLite's
 * double-quoted identifiers share). */
static void put_ident(struct line *l, PGconn *db, const char *name)
{
	char *q = PQescapeIdentifier(db, name, strlen(name));
	if (!q) {
		log_error("out of memory quoting an identifier");
		abort();
	}
	put(l, q, strlen(q));
	PQfreemem(q);
}

/* The NUL after l's text (not counted in l->n). */
static const char *line_text(struct line *l)
{
	put(l, "", 1);
	l->n--;
	return l->p;
}

/* `"a", "b", ...` of c into l. */
static void put_names(struct line *l, PGconn *db, const struct column *c,
		      int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			put(l, ", ", 2);
		put_ident(l, db, c[i].name);
	}
}

/* Stream every row of the source's table into the target's COPY. */
static int copy_rows(sqlite3 *src, PGconn *db, const char *table,
		     const struct column *c, int n, int64_t *rows,
		     struct error *e)
{
	struct line l = {0};
	put(&l, "SELECT ", 7);
	put_names(&l, db, c, n);
	put(&l, " FROM ", 6);
	put_ident(&l, db, table);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(src, line_text(&l), -1, &st, NULL) ==
				 SQLITE_OK
			 ? 0
			 : err_set(e, ERR_INVALID, "export_failed",
				   "the source has no table %s like the "
				   "target's: %s", table, sqlite3_errmsg(src));
	int step = SQLITE_DONE;
	while (rc == 0 && (step = sqlite3_step(st)) == SQLITE_ROW) {
		l.n = 0;
		for (int i = 0; i < n; i++) {
			if (i)
				put(&l, "\t", 1);
			put_value(&l, st, i, c[i].bytea);
		}
		put(&l, "\n", 1);
		if (PQputCopyData(db, l.p, (int)l.n) != 1)
			rc = err_set(e, ERR_UNAVAILABLE, "export_failed",
				     "writing %s failed", table);
		(*rows)++;
	}
	/* A read that ended before the last row (a damaged file, an I/O
	 * error) is a failure, not a shorter table. */
	if (rc == 0 && step != SQLITE_DONE)
		rc = err_set(e, ERR_UNAVAILABLE, "export_failed",
			     "reading %s failed: %s", table, sqlite3_errmsg(src));
	sqlite3_finalize(st);
	free(l.p);
	if (PQputCopyEnd(db, rc == 0 ? NULL : "export failed") != 1 && rc == 0)
		rc = err_set(e, ERR_UNAVAILABLE, "export_failed",
			     "writing %s failed", table);
	PGresult *r;
	while ((r = PQgetResult(db))) {
		if (pg_ok(db, r, PGRES_COMMAND_OK, table, rc ? NULL : e) != 0)
			rc = -1;
	}
	return rc;
}

/* Copy the source's table into the target's. */
static int copy_table(sqlite3 *src, PGconn *db, const char *oid,
		      const char *table, int64_t *rows, struct error *e)
{
	struct column c[64];
	int n = columns(db, oid, c, 64, e);
	if (n <= 0)
		return n < 0 ? -1 : 0;
	struct line l = {0};
	put(&l, "COPY ", 5);
	put_ident(&l, db, table);
	put(&l, " (", 2);
	put_names(&l, db, c, n);
	put(&l, ") FROM STDIN", 12);
	int rc = pg_ok(db, PQexec(db, line_text(&l)), PGRES_COPY_IN, table, e);
	free(l.p);
	return rc == 0 ? copy_rows(src, db, table, c, n, rows, e) : -1;
}

/* The tables of the target's schema but schema_migrations, as PL/pgSQL's
 * loop reads them. */
#define TABLES                                                              \
	"SELECT c.relname, c.oid FROM pg_class c WHERE c.relkind = 'r' "    \
	"AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname " \
	"= current_schema()) AND c.relname <> 'schema_migrations' "

/* The rows the target's migrations put there (key types, the retention
 * setting) go: the source has its own. Newest tables first, for their
 * references. */
static const char sql_empty[] =
	"DO $$ DECLARE t record; BEGIN FOR t IN " TABLES "ORDER BY c.oid DESC "
	"LOOP EXECUTE format('DELETE FROM %I', t.relname); END LOOP; END $$";

/* Identity columns start after the ids copied in. */
static const char sql_identities[] =
	"DO $$ DECLARE t record; BEGIN FOR t IN SELECT c.relname, a.attname "
	"FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
	"WHERE a.attidentity <> '' AND c.relnamespace = (SELECT oid FROM "
	"pg_namespace WHERE nspname = current_schema()) LOOP EXECUTE "
	"format('SELECT setval(pg_get_serial_sequence(%L, %L), (SELECT "
	"coalesce(max(%I), 0) + 1 FROM %I), false)', quote_ident(t.relname), "
	"t.attname, t.attname, t.relname); END LOOP; END $$";

static const char sql_tables[] = TABLES "ORDER BY c.oid";

static int copy_all(sqlite3 *src, PGconn *db, struct store_export *rep,
		    struct error *e)
{
	if (pg_ok(db, PQexec(db, sql_empty), PGRES_COMMAND_OK, "emptying", e) !=
	    0)
		return -1;
	PGresult *r = PQexec(db, sql_tables);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		return err_set(e, ERR_UNAVAILABLE, "export_failed",
			       "the target's tables cannot be read");
	}
	int rc = 0;
	for (int i = 0; i < PQntuples(r) && rc == 0; i++) {
		int64_t rows = 0;
		rc = copy_table(src, db, PQgetvalue(r, i, 1),
				PQgetvalue(r, i, 0), &rows, e);
		rep->tables++;
		rep->rows += rows;
	}
	PQclear(r);
	return rc == 0 ? pg_ok(db, PQexec(db, sql_identities), PGRES_COMMAND_OK,
			       "identity columns", e)
		       : -1;
}

/* The source's schema version, or -1. */
static int source_version(sqlite3 *src)
{
	sqlite3_stmt *st = NULL;
	int v = -1;
	if (sqlite3_prepare_v2(src, "SELECT coalesce(max(version), 0) FROM "
				    "schema_migrations", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int target_empty(PGconn *db, struct error *e)
{
	PGresult *r = PQexec(db, "SELECT count(*) FROM audit_event");
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	bool empty = ok && strcmp(PQgetvalue(r, 0, 0), "0") == 0;
	PQclear(r);
	if (!ok)
		return err_set(e, ERR_UNAVAILABLE, "export_failed",
			       "the target cannot be read");
	return empty ? 0
		     : err_set(e, ERR_INVALID, "export_target_in_use",
			       "the target database already has an audit log: "
			       "export only into a new, empty database");
}

int store_export(const char *sqlite_path, struct store *dst,
		 struct store_export *rep, struct error *e)
{
	memset(rep, 0, sizeof(*rep));
	if (store_backend_of(dst) != STORE_POSTGRESQL)
		return err_set(e, ERR_INVALID, "export_failed",
			       "the target must be a PostgreSQL database");
	sqlite3 *src = NULL;
	if (sqlite3_open_v2(sqlite_path, &src, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(src);
		return err_set(e, ERR_INVALID, "export_failed",
			       "cannot open %s", sqlite_path);
	}
	int rc = -1;
	struct store_conn *w = NULL;
	/* One snapshot of the source, whatever a daemon on it does. */
	if (sqlite3_exec(src, "BEGIN", NULL, NULL, NULL) != SQLITE_OK) {
		err_set(e, ERR_UNAVAILABLE, "export_failed",
			"cannot read %s", sqlite_path);
		goto done;
	}
	rep->version = source_version(src);
	if (rep->version != store_schema_version(dst)) {
		err_set(e, ERR_INVALID, "export_schema_differs",
			"the source's schema is %d, the target's %d: run "
			"kruispunt migrate on the source first", rep->version,
			store_schema_version(dst));
		goto done;
	}
	w = store_write_begin(dst, e);
	if (!w)
		goto done;
	PGconn *db = store_pg_conn(w);
	rc = target_empty(db, e) == 0 && copy_all(src, db, rep, e) == 0
		     ? 0
		     : -1;
	rc = store_write_end(dst, rc, e);
done:
	sqlite3_close(src);
	return rc;
}
