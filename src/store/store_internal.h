/*
 * Shared between the files of src/store only: the backends' table of
 * operations. store.c holds what is the same for every backend (the
 * helpers built on step and the columns, migrations' bookkeeping) and
 * calls the backend through the ops every store, connection and statement
 * carries as its first member; store_sqlite.c and store_pg.c implement
 * them.
 */
#ifndef KP_STORE_INTERNAL_H
#define KP_STORE_INTERNAL_H

#include "store/store.h"

struct store_ops {
	enum store_backend backend;
	void (*close)(struct store *s);
	enum store_role (*role)(struct store *s);
	struct store_conn *(*reader)(struct store *s);
	int (*read_begin)(struct store *s);
	void (*read_end)(struct store *s);
	struct store_conn *(*write_begin)(struct store *s, struct error *e);
	int (*write_commit)(struct store *s, struct error *e);
	void (*write_rollback)(struct store *s);
	struct store_conn *(*writer)(struct store *s);
	bool (*retryable)(struct store *s); /* NULL: never */
	/* Begin the transaction a migration runs in, holding whatever keeps
	 * a second process from migrating at the same time. */
	int (*migration_begin)(struct store_conn *c);
	int (*exec)(struct store_conn *c, const char *sql);
	struct store_stmt *(*prepare)(struct store_conn *c, const char *sql);
	void (*bind_int)(struct store_stmt *st, int idx, int64_t v);
	void (*bind_textn)(struct store_stmt *st, int idx, const char *v,
			   size_t n);
	void (*bind_blob)(struct store_stmt *st, int idx, const void *v,
			  size_t n);
	void (*bind_null)(struct store_stmt *st, int idx);
	enum store_rc (*step)(struct store_stmt *st);
	int64_t (*col_int)(struct store_stmt *st, int col);
	const char *(*col_text)(struct store_stmt *st, int col);
	const void *(*col_blob)(struct store_stmt *st, int col, size_t *n);
	bool (*col_null)(struct store_stmt *st, int col);
	void (*done)(struct store_stmt *st);
	int64_t (*changes)(struct store_conn *c);
	bool (*lease)(struct store *s, const char *name, bool take);
	struct store_listener *(*listen)(struct store *s, const char *channel,
					 void (*heard)(void *arg,
						       enum store_heard what),
					 void *arg);
};

/* The libpq connection (a PGconn *) of a PostgreSQL store's connection c,
 * for export.c; this header does not include libpq's. */
void *store_pg_conn_raw(struct store_conn *c);
#define store_pg_conn(c) ((PGconn *)store_pg_conn_raw(c))

/* store_unlisten of the PostgreSQL backend (only it makes listeners). */
void store_pg_unlisten(struct store_listener *l);

/* The first member of each backend's store, connection and statement. */
struct store {
	const struct store_ops *ops;
};
struct store_conn {
	const struct store_ops *ops;
	uint64_t prepared; /* store_prepare calls (store_conn_prepared) */
};
struct store_stmt {
	const struct store_ops *ops;
};

/* The backends' constructors: open the database, nothing more (store_open
 * migrates). Each returns 0 and *out (closed with store_close) or -1 with
 * e set. */
int store_sqlite_open(const char *path, const struct store_options *opt,
		      struct store **out, struct error *e);
int store_pg_open(const char *url, const struct store_options *opt,
		  struct store **out, struct error *e);
/* After migrating: what the SQLite backend sets up on its writer and
 * starts (its WAL checkpointer). */
void store_sqlite_ready(struct store *s);

/* Run static SQL (no parameters; several statements are allowed).
 * Returns 0, or -1 (logged). */
int store_exec(struct store_conn *c, const char *sql);
/* Apply every migration of opt's schemas newer than the database's
 * version. */
int store_migrate(struct store_conn *writer, const struct store_options *opt,
		  struct error *e);
int store_migration_current(struct store_conn *c);

#endif
