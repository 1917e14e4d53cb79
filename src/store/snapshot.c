/*
 * store_snapshot: a consistent copy of the database while the daemon
 * writes to it (`kruispunt backup`).
 *
 * SQLite's VACUUM INTO reads the database inside one read transaction, so
 * the copy is the snapshot that transaction sees: in WAL mode the daemon's
 * writer carries on meanwhile (a reader never blocks it) and nothing it
 * commits later reaches the copy. The copy is also compact (free pages
 * dropped) and one file, without a -wal beside it.
 *
 * The copy runs on a connection of its own, opened read-write but never
 * writing the database: SQLite (3.40) opens VACUUM INTO's output with the
 * connection's flags, so the store's read-only readers cannot make it,
 * and the writer always works inside a transaction, where VACUUM is
 * refused. This file therefore needs nothing of store.c's internals; it
 * takes the path and options store_open takes.
 *
 * PostgreSQL needs no copy on disk: store_snapshot_export opens one
 * repeatable-read transaction and exports its snapshot, which pg_dump
 * adopts (--snapshot) while the backup reads the newest checkpoint in the
 * same transaction (src/backup/pg.c).
 */
#include <sqlite3.h>

#include "store/store.h"

int store_snapshot(const char *path, const struct store_options *opt,
		   const char *dest_path, struct error *e)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	/* No CREATE: a missing database is an error, not a new empty one. */
	int rc = sqlite3_open_v2(path, &db,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, opt && opt->busy_timeout_ms
						 ? opt->busy_timeout_ms
						 : STORE_BUSY_TIMEOUT_MS);
		rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL);
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, dest_path, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		struct log_line l;
		log_begin(&l, LV_ERROR, __func__, "database copy failed");
		log_str(&l, "sqlite", db ? sqlite3_errmsg(db) : "no connection");
		log_end(&l);
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
	return rc == SQLITE_DONE ? 0
				 : store_fail(e, "the database cannot be copied now");
}

/* Read with the public interface only: the export is plain SQL on this
 * thread's reader, inside the transaction store_read_begin opened. */
static void read_snapshot_id(struct store_stmt *st, void *out)
{
	const char *id = store_col_text(st, 0);
	str_copy(out, STORE_SNAPSHOT_ID_MAX, id ? id : "");
}

int store_snapshot_export(struct store *s, char id[STORE_SNAPSHOT_ID_MAX],
			  int *schema, struct error *e)
{
	static const char sql_export[] = "SELECT pg_export_snapshot()";
	static const char sql_schema[] =
		"SELECT coalesce(max(version), 0) FROM schema_migrations";
	if (store_backend_of(s) != STORE_POSTGRESQL)
		return err_set(e, ERR_INVALID, "store_backend",
			       "only a PostgreSQL snapshot can be exported");
	if (store_read_begin(s) != 0)
		return store_fail(e, "the database cannot be read now");
	struct store_conn *r = store_reader(s);
	int64_t version = 0;
	id[0] = '\0';
	if (store_one(store_prepare(r, sql_export), read_snapshot_id, id, e) !=
		    0 ||
	    store_one(store_prepare(r, sql_schema), store_read_int, &version,
		      e) != 0 ||
	    !id[0]) {
		store_read_end(s);
		return store_fail(e, "the database's snapshot cannot be "
				     "exported now");
	}
	*schema = (int)version;
	return 0;
}
