/*
 * store: database access for every module. Modules never see SQLite; they
 * see connections, prepared statements, binds, steps and columns, which the
 * later PostgreSQL backend implements too.
 *
 * Concurrency model (docs/ARCHITECTURE.md, "Threads and the store"):
 *   - each thread that reads gets its own read connection, opened lazily on
 *     first use and owned by the store (store_reader);
 *   - all writes go through one connection, serialised by a mutex
 *     (store_write_begin ... store_write_commit / store_write_rollback);
 *   - SQLite runs in WAL mode, so readers never block the writer.
 *
 * SQL text is always a string literal in the calling module, with numbered
 * parameters ?1, ?2 ... (the PostgreSQL backend rewrites them to $1, $2 when
 * it prepares, a purely lexical step). SQL is never built from input: values
 * reach the database only through the bind functions. Statements are
 * prepared once per connection and cached by the address of their text.
 *
 * Two backends (docs/STORE.md): SQLite, embedded, the default; PostgreSQL
 * through libpq, for several nodes on a replicated database. The SQL the
 * modules write runs on both: bigint-sized integers, no SQLite-only
 * functions, identifiers that neither reserves (or double-quoted), and
 * every bare column of an aggregate query grouped. Only migrations differ:
 * each carries its SQLite and its PostgreSQL text.
 */
#ifndef KP_STORE_H
#define KP_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* Prepared statements cached per connection. SQL is always a literal, so
 * passing it is a programming error (abort), never an attacker's doing.
 * The one writer connection runs every module's writes: its cache holds
 * them all (about 140 literals in src/ today), with room to grow. */
#define LIMIT_STMT_CACHE        256

struct store;
struct store_conn;
struct store_stmt;

enum store_rc {
	STORE_ROW = 1,     /* a row is ready to read */
	STORE_DONE = 2,    /* statement finished */
	STORE_CONSTRAINT = 3, /* a UNIQUE / CHECK / FOREIGN KEY said no */
	STORE_ERROR = 4,   /* anything else; logged by the store */
};

/* One schema change: its number, a name, and the SQL that makes it. A
 * module lists its own (src/org/org_schema.c); the numbers are global, so
 * the migrations of all modules make one ordered list 1, 2, ... N. A
 * released migration is history: databases recorded it by number, so its
 * number and SQL never change. */
struct store_migration {
	int version;
	const char *name;
	const char *sql;    /* SQLite */
	const char *sql_pg; /* PostgreSQL; NULL: not ported (refused there) */
};

enum store_backend {
	STORE_SQLITE,
	STORE_POSTGRESQL,
};

/* What store_open does with a database behind the binary's schema. */
enum store_migrate_mode {
	STORE_MIGRATE_APPLY, /* apply the missing migrations */
	STORE_MIGRATE_CHECK, /* refuse (store_migrate_needed): an operator
			      * runs `kruispunt migrate` first */
	STORE_MIGRATE_FRESH, /* apply only to a database without a schema
			      * yet (store_not_fresh): a new target */
};

/* A module's migrations (in any order; store_open sorts them). */
struct store_schema {
	const char *module;
	const struct store_migration *list;
	size_t n;
};

struct store_options {
	/* How long a connection waits for a lock another process holds
	 * (0: STORE_BUSY_TIMEOUT_MS). */
	int busy_timeout_ms;
	/* Readers map up to this many bytes of the file (0: they read with
	 * pread). Worth it only for read-mostly use: SQLite drops a reader's
	 * whole mapping whenever another connection wrote, and the daemon's
	 * audit log writes all the time (docs/benchmarks.md, hub). */
	int64_t mmap_bytes;
	/* The modules' schemas (src/cli knows which modules there are; the
	 * store knows none). store_open brings the database to the newest
	 * migration among them. None: only schema_migrations. */
	const struct store_schema *const *schemas;
	size_t nschemas;
	enum store_migrate_mode migrate;
	/* PostgreSQL: the password, when the operator gave one in a file
	 * (never in the URL); NULL lets libpq look (PGPASSWORD, ~/.pgpass). */
	const char *password;
	/* PostgreSQL: the most read connections the store opens, one per
	 * reading thread (0: no cap; the daemon's threads are a fixed
	 * number, docs/ARCHITECTURE.md). A thread past the cap cannot read:
	 * a cap below the threads is the operator's mistake. */
	int max_readers;
};

/* The store's error, the one every module returns when the database fails
 * it: ERR_UNAVAILABLE (503), code "store_unavailable", and what as the
 * detail. what names the work that could not be done ("the register
 * cannot be read now"), never SQL or a value: the detail reaches clients.
 * e may be NULL. Returns -1, so that `return store_fail(e, ...)` reads as
 * the failure it is. */
static inline int store_fail(struct error *e, const char *what)
{
	/* Inline for the same reason as err_set: callers see the -1. */
	return err_set(e, ERR_UNAVAILABLE, "store_unavailable", "%s", what);
}

/* Open the database at location and bring its schema to the newest
 * version of opt's schemas: every migration the database has not
 * recorded, in number order, each in its own transaction (or, with
 * STORE_MIGRATE_CHECK, refuse when one is missing). location is a
 * PostgreSQL URL (postgresql://... or postgres://..., without a password)
 * or else the path of a SQLite file, created if needed. Schemas whose
 * numbers repeat or leave a gap are a programming error (-1,
 * store_schema_invalid). Returns 0 and *out, which the caller releases
 * with store_close; or -1 with e set. */
int store_open(const char *location, const struct store_options *opt,
	       struct store **out, struct error *e);
/* True when location names a PostgreSQL database (store_open). */
bool store_location_is_pg(const char *location);
enum store_backend store_backend_of(struct store *s);
/* Close every connection. No thread may use the store any more. */
void store_close(struct store *s);

/* Schema version now applied (the number of the last migration). */
int store_schema_version(struct store *s);
/* Newest schema version among schemas (0 when there are none). */
int store_schema_latest(const struct store_schema *const *schemas,
			size_t n);

/* True when a read on this thread's connection succeeds (readiness). */
bool store_ping(struct store *s);

/* What this node reaches (readiness): the database it can write (a SQLite
 * file, a PostgreSQL primary), a PostgreSQL standby (read-only: after a
 * failover, until the proxy in front sends the connection to the new
 * primary), or nothing. */
enum store_role {
	STORE_ROLE_PRIMARY,
	STORE_ROLE_STANDBY,
	STORE_ROLE_UNREACHABLE,
};
enum store_role store_role(struct store *s);
/* "primary", "standby" or "unreachable". */
const char *store_role_name(enum store_role r);

/* This thread's read connection, owned by the store. Read-only: a write
 * through it fails. */
struct store_conn *store_reader(struct store *s);
/* One read transaction around several queries on this thread's reader:
 * they see one snapshot, and pay once for SQLite's check of the WAL (after
 * another connection wrote, every new read transaction starts with an
 * empty page cache). Returns 0, or -1 (then the queries run each in its
 * own transaction, as without). Pair every 0 with store_read_end. */
int store_read_begin(struct store *s);
void store_read_end(struct store *s);

/* Take the single writer: locks it and begins an IMMEDIATE transaction.
 * Exactly one of commit, rollback or store_write_end must follow, on the
 * same thread. Returns NULL with e set (the store's error, the writer
 * released) when the transaction cannot begin: another process (an
 * operator's command beside the daemon) held the database's write lock for
 * longer than store_options.busy_timeout_ms, or the database failed. */
struct store_conn *store_write_begin(struct store *s, struct error *e);
/* Commit (durable: synchronous=FULL) and release the writer. Returns 0, or
 * -1 with e set (the transaction is then rolled back). */
int store_write_commit(struct store *s, struct error *e);
void store_write_rollback(struct store *s);
/* Whether the last write failed because the database was away (a lost
 * connection, a server shutting down, a standby after a failover) rather
 * than refused: the same write may succeed on a later try, once the
 * connection, started anew, reaches the new primary. When its COMMIT was
 * what failed, it may also have been applied: the caller must be able to
 * tell (the audit log compares its first entry). SQLite: never. */
bool store_write_retryable(struct store *s);

/* End a write by its outcome: commit when rc is 0, roll back otherwise.
 * Returns rc, or the commit's -1 (e set) when rc was 0 and the commit
 * failed. */
int store_write_end(struct store *s, int rc, struct error *e);

/* A prepared statement for sql on connection c, owned by c and reused on
 * later calls with the same sql pointer. Bad SQL is a programming error and
 * aborts. Call store_done when finished with it. */
struct store_stmt *store_prepare(struct store_conn *c, const char *sql);
/* How many times a statement was prepared on c (each execution prepares;
 * on PostgreSQL each is at least a round trip): what a test counts to see
 * how much a piece of work asks of the database. Only c's owner reads it. */
uint64_t store_conn_prepared(const struct store_conn *c);

void store_bind_int(struct store_stmt *st, int idx, int64_t v);
void store_bind_text(struct store_stmt *st, int idx, const char *v);
void store_bind_textn(struct store_stmt *st, int idx, const char *v,
		      size_t n);
void store_bind_blob(struct store_stmt *st, int idx, const void *v,
		     size_t n);
void store_bind_null(struct store_stmt *st, int idx);

enum store_rc store_step(struct store_stmt *st);

/* Column values of the current row; text and blobs are borrowed and valid
 * until the next step or store_done. */
int64_t store_col_int(struct store_stmt *st, int col);
const char *store_col_text(struct store_stmt *st, int col);
const void *store_col_blob(struct store_stmt *st, int col, size_t *n);
bool store_col_null(struct store_stmt *st, int col);

/* Step st to the end, reading each row with read() into a new array of
 * elements of size bytes. Returns the array (the caller frees it; never
 * NULL) and *n; st is reset (store_done) afterwards. */
void *store_collect(struct store_stmt *st, size_t size,
		    void (*read)(struct store_stmt *st, void *element), int *n);

/* At most one row: step st once and, when it gives a row, fill out with
 * read(st, out) (read may be NULL: the row's existence is the answer).
 * st is reset (store_done) in every case. Returns 0 when there was a row,
 * 1 when there was none, or -1 with e set (store_fail) on a failure. */
int store_one(struct store_stmt *st,
	      void (*read)(struct store_stmt *st, void *out), void *out,
	      struct error *e);

/* A reader for store_one: the row's first column, an integer, into out (an
 * int64_t). */
void store_read_int(struct store_stmt *st, void *out);

/* What a constraint's refusal (UNIQUE, CHECK, FOREIGN KEY) means to the
 * module that wrote: the error it returns instead of the store's. */
struct store_refusal {
	enum err_kind kind;
	const char *code; /* a literal, as for err_set */
	const char *detail;
};

/* Run a write statement (INSERT, UPDATE, DELETE) and reset it. Returns 0;
 * or -1 with e set: *refused when a constraint said no and refused is not
 * NULL, the store's error otherwise. */
int store_run(struct store_stmt *st, const struct store_refusal *refused,
	      struct error *e);
/* Run an `INSERT ... RETURNING id` and reset it, as store_run; *id
 * receives the new row's id (id may be NULL). Returns 0; 1 when no row was
 * inserted (an INSERT ... SELECT that found nothing, or ON CONFLICT DO
 * NOTHING); or -1 with e set. */
int store_insert(struct store_stmt *st, int64_t *id,
		 const struct store_refusal *refused, struct error *e);

/* Reset the statement and clear its bindings for the next use. */
void store_done(struct store_stmt *st);

/* --------------------------------------------------- across processes */

/* What a listener hears: a notification on its channel; or that it lost
 * the database (notifications may be missed until it is back: trust
 * nothing cached); or that it is connected again (anything may have
 * changed meanwhile). */
enum store_heard {
	STORE_HEARD_NOTIFY,
	STORE_HEARD_LOST,
	STORE_HEARD_CONNECTED,
};
struct store_listener;

/* Call heard(arg, what) for every notification on channel (a literal of
 * letters and '_') that any process sends on this database, from a
 * thread of the store's. PostgreSQL: LISTEN on a connection of its own,
 * reconnecting with backoff (a trigger sends with pg_notify, at its
 * transaction's commit). SQLite: one process owns the database, nothing
 * is ever heard, and NULL is returned. Returns the listener (stop it with
 * store_unlisten before arg goes away), or NULL. */
struct store_listener *store_listen(struct store *s, const char *channel,
				    void (*heard)(void *arg,
						  enum store_heard what),
				    void *arg);
/* Stop and free l (NULL is allowed); heard is not called after. */
void store_unlisten(struct store_listener *l);

/* Background work that must run in one process at a time among all that
 * share the database (the mutation forwarder, a batch job): whether this
 * process holds the lease called name, taking it when it is free. A lease
 * is held until store_lease_release, or until the process dies or loses
 * the database, when another process may take it (PostgreSQL: a session
 * advisory lock on a connection of the store's, which is checked alive at
 * each call). SQLite: one process owns the database, always true. Work
 * done under a lease must still check, inside its write, that nobody did
 * it meanwhile: the holder may not yet know that it lost the lease. */
bool store_lease(struct store *s, const char *name);
void store_lease_release(struct store *s, const char *name);

/* Rows changed by the last write on c. */
int64_t store_changes(struct store_conn *c);

/* A consistent copy of the whole database at path (as store_open takes
 * it, with opt's busy timeout; opt may be NULL) into dest_path, taken
 * while other connections (the daemon, in another process) keep writing:
 * the copy is one read snapshot (SQLite: VACUUM INTO on a connection of
 * its own; for PostgreSQL, see store_snapshot_export below). dest_path
 * must not exist or be an empty file. Returns 0, or -1 with e set (the store's error); a partial file may then remain at
 * dest_path, which the caller removes. */
int store_snapshot(const char *path, const struct store_options *opt,
		   const char *dest_path, struct error *e);

/* PostgreSQL's snapshot identifiers ("00000003-0000001B-1") are short. */
#define STORE_SNAPSHOT_ID_MAX 64

/* A PostgreSQL store's consistent snapshot for a backup: begins this
 * thread's read transaction (REPEATABLE READ, READ ONLY, store_read_begin)
 * and exports its snapshot, whose identifier (into id) another session, a
 * pg_dump --snapshot, can adopt to see exactly the same data. *schema
 * receives the schema version that snapshot holds. Every read this thread
 * makes on s until store_read_end sees the same snapshot, which stays
 * valid until then. Returns 0 (end with store_read_end), or -1 with e set
 * (nothing to end; a SQLite store is refused). */
int store_snapshot_export(struct store *s, char id[STORE_SNAPSHOT_ID_MAX],
			  int *schema, struct error *e);

/* Whether the PostgreSQL database at url (password may be NULL) may take
 * a restore: it holds nothing outside the system schemas (no relation,
 * function, type, schema other than public, event trigger; a restore's
 * target must be new, or it would mix two installations), and, unless
 * allow_privileged, url's role is no superuser and cannot become one, nor
 * has CREATEROLE, BYPASSRLS or the predefined roles that reach the
 * server's files and programs (pg_restore runs the archive's SQL as that
 * role). Returns 0 when it may; -1 with e set otherwise
 * (store_role_privileged, store_not_empty, or the store's error when it
 * cannot be reached). */
int store_pg_check_target(const char *url, const char *password,
			  bool allow_privileged, struct error *e);

/* -------------------------------------------------------------- export */

struct store_export {
	int version;  /* the schema version both are at */
	int tables;   /* tables copied */
	int64_t rows; /* rows copied */
};

/* Copy every row of every table of the SQLite database at sqlite_path
 * (read in one snapshot, even while a daemon writes it) into dst, a
 * PostgreSQL store at the same schema version whose audit log is empty,
 * in one transaction: all or nothing (export.c). Returns 0 and *rep, or
 * -1 with e set. */
int store_export(const char *sqlite_path, struct store *dst,
		 struct store_export *rep, struct error *e);

/* ------------------------------------------------------------- config */

/* How long a connection waits for a lock another process holds: an
 * operator's command beside the daemon holds it briefly. */
#define STORE_BUSY_TIMEOUT_MS 5000

/* [store]: the backend; SQLite's database file (relative to the data
 * directory) and busy timeout; PostgreSQL's URL, password file and read
 * connections (store_config.c). */
struct store_config {
	enum store_backend backend;
	char database[LIMIT_PATH];
	int busy_timeout_ms;
	char url[LIMIT_PATH];
	char password_file[LIMIT_PATH];
	int max_readers;
};
extern const struct config_key store_config_keys[];
extern const size_t store_config_nkeys;

#endif
