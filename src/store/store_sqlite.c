/*
 * The SQLite backend of src/store. One writer connection behind a mutex, one
 * read connection per thread, WAL so that readers and the writer proceed
 * together, synchronous=FULL so that a committed transaction survives a
 * crash or power loss.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_internal.h"

struct lite_stmt {
	struct store_stmt base;
	sqlite3_stmt *st;
	const char *sql;
	struct lite_conn *conn;
};

struct lite_conn {
	struct store_conn base;
	sqlite3 *db;
	struct lite_stmt cache[LIMIT_STMT_CACHE];
	int ncache;
	struct lite_conn *next; /* in the store's list of readers */
};

struct lite {
	struct store base;
	char *path;
	uint64_t id;
	int busy_timeout_ms;
	int64_t mmap_bytes;
	pthread_mutex_t write_lock;
	struct lite_conn *writer;
	pthread_mutex_t readers_lock;
	struct lite_conn *readers;
	/* WAL checkpointing, off the writer's path. */
	pthread_t checkpointer;
	bool checkpointer_running;
	bool stopping;
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_cond;
};

static const struct store_ops lite_ops;

static struct lite *LS(struct store *s)
{
	return (struct lite *)s;
}
static struct lite_conn *LC(struct store_conn *c)
{
	return (struct lite_conn *)c;
}
static struct lite_stmt *LT(struct store_stmt *st)
{
	return (struct lite_stmt *)st;
}

/* Which store this thread's reader belongs to. Stores carry a process-wide
 * unique id, so a new store at a freed store's address never inherits a
 * closed connection. */
static _Thread_local struct {
	uint64_t store_id;
	struct lite_conn *conn;
} tl_reader;

static _Atomic uint64_t next_store_id = 1;

static void log_sqlite(const char *fn, sqlite3 *db, const char *what)
{
	struct log_line l;
	log_begin(&l, LV_ERROR, fn, what);
	log_str(&l, "sqlite", db ? sqlite3_errmsg(db) : "no connection");
	log_int(&l, "code", db ? sqlite3_extended_errcode(db) : 0);
	log_end(&l);
}

static int lite_exec(struct store_conn *c, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(LC(c)->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		struct log_line l;
		log_begin(&l, LV_ERROR, __func__, "sql failed");
		log_str(&l, "sqlite", msg);
		log_end(&l);
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* The database file grows in steps of STORE_CHUNK bytes. A reader that
 * maps the file (store_options.mmap_bytes; the daemon's readers do not)
 * must remap it (munmap, mmap, a TLB shootdown on every core) each time
 * it finds the file larger; with page-by-page growth and a busy audit log
 * that was a remap per request (docs/DESIGN.md, pitfall 4). */
#define STORE_CHUNK (64 * 1024 * 1024)

static void grow_in_chunks(sqlite3 *db)
{
	int chunk = STORE_CHUNK;
	sqlite3_file_control(db, "main", SQLITE_FCNTL_CHUNK_SIZE, &chunk);
}

static int conn_configure(struct lite *s, struct lite_conn *c, bool read_only)
{
	sqlite3_busy_timeout(c->db, s->busy_timeout_ms);
	sqlite3_extended_result_codes(c->db, 1);
	if (lite_exec(&c->base, "PRAGMA foreign_keys = ON") != 0)
		return -1;
	if (!read_only &&
	    (lite_exec(&c->base, "PRAGMA journal_mode = WAL") != 0 ||
	     lite_exec(&c->base, "PRAGMA synchronous = FULL") != 0))
		return -1;
	/* Readers may map the file: a page is then a memory read, not a
	 * pread(2) (store_options.mmap_bytes says when that pays). */
	if (read_only && s->mmap_bytes > 0) {
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA mmap_size = %lld",
			 (long long)s->mmap_bytes);
		if (lite_exec(&c->base, pragma) != 0)
			return -1;
	}
	if (!read_only)
		grow_in_chunks(c->db);
	return 0;
}

static struct lite_conn *conn_open(struct lite *s, bool read_only,
				   struct error *e)
{
	struct lite_conn *c = xcalloc(1, sizeof(*c));
	c->base.ops = &lite_ops;
	int flags = SQLITE_OPEN_NOMUTEX |
		    (read_only ? SQLITE_OPEN_READONLY
			       : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	if (sqlite3_open_v2(s->path, &c->db, flags, NULL) != SQLITE_OK) {
		log_sqlite(__func__, c->db, "cannot open database");
		store_fail(e, "cannot open the database");
		goto fail;
	}
	if (conn_configure(s, c, read_only) != 0) {
		store_fail(e, "cannot configure the database connection");
		goto fail;
	}
	return c;
fail:
	sqlite3_close(c->db);
	free(c);
	return NULL;
}

static void conn_close(struct lite_conn *c)
{
	for (int i = 0; i < c->ncache; i++)
		sqlite3_finalize(c->cache[i].st);
	sqlite3_close(c->db);
	free(c);
}

/*
 * SQLite copies the WAL back into the database inside the commit that
 * crosses 1000 pages: the writer, and every audit appender waiting on it,
 * stalls for the copy and its fsync. This thread does the copying first,
 * in PASSIVE mode on its own connection (which never blocks readers or the
 * writer), a few times a second; the writer's own automatic checkpoint then
 * finds little left to copy, and is what lets SQLite restart the WAL from
 * its beginning.
 */
static void *checkpointer_main(void *arg)
{
	struct lite *s = arg;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(s->path, &db, SQLITE_OPEN_READWRITE |
			    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		log_error("no checkpoint connection: the WAL will only be "
			  "copied back at close");
		sqlite3_close(db);
		return NULL;
	}
	/* A connection learns that the database is in WAL mode only when it
	 * first reads it; until then a checkpoint is a silent no-op. */
	sqlite3_exec(db, "PRAGMA journal_mode", NULL, NULL, NULL);
	grow_in_chunks(db);
	pthread_mutex_lock(&s->ckpt_lock);
	while (!s->stopping) {
		struct timespec until;
		time_deadline(&until, 200);
		pthread_cond_timedwait(&s->ckpt_cond, &s->ckpt_lock, &until);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->ckpt_lock);
		sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_PASSIVE,
					  NULL, NULL);
		pthread_mutex_lock(&s->ckpt_lock);
	}
	pthread_mutex_unlock(&s->ckpt_lock);
	sqlite3_close(db);
	return NULL;
}

/* SQLite keeps memory statistics by default, behind one global mutex
 * taken on every allocation: every thread's every query contends on it.
 * Nothing here reads the statistics. Must precede SQLite's initialisation. */
static void sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_initialize();
}

int store_sqlite_open(const char *path, const struct store_options *opt,
		      struct store **out, struct error *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
	struct lite *s = xcalloc(1, sizeof(*s));
	s->base.ops = &lite_ops;
	s->path = xstrdup(path);
	s->id = atomic_fetch_add(&next_store_id, 1);
	s->mmap_bytes = opt ? opt->mmap_bytes : 0;
	s->busy_timeout_ms = opt && opt->busy_timeout_ms ? opt->busy_timeout_ms
							 : STORE_BUSY_TIMEOUT_MS;
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_init(&s->readers_lock, NULL);
	pthread_mutex_init(&s->ckpt_lock, NULL);
	pthread_cond_init(&s->ckpt_cond, NULL);
	*out = &s->base;
	s->writer = conn_open(s, false, e);
	if (!s->writer) {
		store_close(&s->base);
		*out = NULL;
		return -1;
	}
	return 0;
}

void store_sqlite_ready(struct store *store)
{
	struct lite *s = LS(store);
	/* After a restart, the WAL file is cut back to this size. */
	lite_exec(&s->writer->base, "PRAGMA journal_size_limit = 67108864");
	/* A change recorded with its audit event runs under a savepoint
	 * (audit_commit), whose statement journal copies every page it
	 * touches first: in memory, not in a temporary file. */
	lite_exec(&s->writer->base, "PRAGMA temp_store = MEMORY");
	s->checkpointer_running =
		pthread_create(&s->checkpointer, NULL, checkpointer_main, s) == 0;
}

static void lite_close(struct store *store)
{
	struct lite *s = LS(store);
	if (s->checkpointer_running) {
		pthread_mutex_lock(&s->ckpt_lock);
		s->stopping = true;
		pthread_cond_signal(&s->ckpt_cond);
		pthread_mutex_unlock(&s->ckpt_lock);
		pthread_join(s->checkpointer, NULL);
	}
	/* Readers first: the last connection to close copies the WAL back
	 * into the database and removes it, which a read-only one cannot. */
	struct lite_conn *c = s->readers;
	while (c) {
		struct lite_conn *next = c->next;
		conn_close(c);
		c = next;
	}
	if (s->writer)
		conn_close(s->writer);
	pthread_mutex_destroy(&s->write_lock);
	pthread_mutex_destroy(&s->readers_lock);
	pthread_mutex_destroy(&s->ckpt_lock);
	pthread_cond_destroy(&s->ckpt_cond);
	free(s->path);
	free(s);
}

static struct store_conn *lite_reader(struct store *store)
{
	struct lite *s = LS(store);
	if (tl_reader.store_id == s->id)
		return &tl_reader.conn->base;
	struct error e;
	struct lite_conn *c = conn_open(s, true, &e);
	if (!c) {
		log_error("no read connection: %s", e.detail);
		return NULL;
	}
	lite_exec(&c->base, "PRAGMA query_only = ON");
	pthread_mutex_lock(&s->readers_lock);
	c->next = s->readers;
	s->readers = c;
	pthread_mutex_unlock(&s->readers_lock);
	tl_reader.store_id = s->id;
	tl_reader.conn = c;
	return &c->base;
}

static int lite_read_begin(struct store *s)
{
	struct store_conn *c = lite_reader(s);
	return c && lite_exec(c, "BEGIN") == 0 ? 0 : -1;
}

static void lite_read_end(struct store *s)
{
	struct store_conn *c = lite_reader(s);
	if (c)
		lite_exec(c, "COMMIT");
}

static enum store_role lite_role(struct store *s)
{
	return store_ping(s) ? STORE_ROLE_PRIMARY : STORE_ROLE_UNREACHABLE;
}

static struct store_conn *lite_write_begin(struct store *store,
					   struct error *e)
{
	struct lite *s = LS(store);
	pthread_mutex_lock(&s->write_lock);
	/* With the mutex held nobody else in this process writes; BEGIN
	 * IMMEDIATE waits (the busy timeout) only for another process,
	 * such as an operator's command, and fails once that has passed. */
	if (sqlite3_exec(s->writer->db, "BEGIN IMMEDIATE", NULL, NULL,
			 NULL) != SQLITE_OK) {
		bool busy = (sqlite3_extended_errcode(s->writer->db) & 0xff) ==
			    SQLITE_BUSY;
		log_sqlite(__func__, s->writer->db, "cannot begin a write");
		pthread_mutex_unlock(&s->write_lock);
		store_fail(e, busy ? "the database is locked by another "
				     "process; try again"
				   : "the database cannot be written now");
		return NULL;
	}
	return &s->writer->base;
}

static int lite_write_commit(struct store *store, struct error *e)
{
	struct lite *s = LS(store);
	int rc = 0;
	if (lite_exec(&s->writer->base, "COMMIT") != 0) {
		lite_exec(&s->writer->base, "ROLLBACK");
		rc = store_fail(e, "the database could not commit");
	}
	pthread_mutex_unlock(&s->write_lock);
	return rc;
}

static void lite_write_rollback(struct store *store)
{
	struct lite *s = LS(store);
	lite_exec(&s->writer->base, "ROLLBACK");
	pthread_mutex_unlock(&s->write_lock);
}

static struct store_conn *lite_writer(struct store *s)
{
	return &LS(s)->writer->base;
}

static int lite_migration_begin(struct store_conn *c)
{
	return lite_exec(c, "BEGIN IMMEDIATE");
}

static struct store_stmt *lite_prepare(struct store_conn *conn,
				       const char *sql)
{
	struct lite_conn *c = LC(conn);
	for (int i = 0; i < c->ncache; i++)
		if (c->cache[i].sql == sql)
			return &c->cache[i].base;
	if (c->ncache == LIMIT_STMT_CACHE) {
		log_error("statement cache full (LIMIT_STMT_CACHE)");
		abort();
	}
	struct lite_stmt *st = &c->cache[c->ncache];
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &st->st, NULL) != SQLITE_OK) {
		log_sqlite(__func__, c->db, sql);
		abort();
	}
	st->base.ops = &lite_ops;
	st->sql = sql;
	st->conn = c;
	c->ncache++;
	return &st->base;
}

static void lite_bind_int(struct store_stmt *st, int idx, int64_t v)
{
	sqlite3_bind_int64(LT(st)->st, idx, v);
}

static void lite_bind_textn(struct store_stmt *st, int idx, const char *v,
			    size_t n)
{
	sqlite3_bind_text64(LT(st)->st, idx, v, n, SQLITE_TRANSIENT,
			    SQLITE_UTF8);
}

static void lite_bind_blob(struct store_stmt *st, int idx, const void *v,
			   size_t n)
{
	sqlite3_bind_blob64(LT(st)->st, idx, v, n, SQLITE_TRANSIENT);
}

static void lite_bind_null(struct store_stmt *st, int idx)
{
	sqlite3_bind_null(LT(st)->st, idx);
}

static enum store_rc lite_step(struct store_stmt *st)
{
	int rc = sqlite3_step(LT(st)->st);
	if (rc == SQLITE_ROW)
		return STORE_ROW;
	if (rc == SQLITE_DONE)
		return STORE_DONE;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return STORE_CONSTRAINT;
	log_sqlite(__func__, LT(st)->conn->db, "step failed");
	return STORE_ERROR;
}

static int64_t lite_col_int(struct store_stmt *st, int col)
{
	return sqlite3_column_int64(LT(st)->st, col);
}

static const char *lite_col_text(struct store_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(LT(st)->st, col);
}

static const void *lite_col_blob(struct store_stmt *st, int col, size_t *n)
{
	const void *p = sqlite3_column_blob(LT(st)->st, col);
	*n = (size_t)sqlite3_column_bytes(LT(st)->st, col);
	return p;
}

static bool lite_col_null(struct store_stmt *st, int col)
{
	return sqlite3_column_type(LT(st)->st, col) == SQLITE_NULL;
}

static void lite_done(struct store_stmt *st)
{
	sqlite3_reset(LT(st)->st);
	sqlite3_clear_bindings(LT(st)->st);
}

static int64_t lite_changes(struct store_conn *c)
{
	return sqlite3_changes64(LC(c)->db);
}

static const struct store_ops lite_ops = {
	.backend = STORE_SQLITE,
	.close = lite_close,
	.role = lite_role,
	.reader = lite_reader,
	.read_begin = lite_read_begin,
	.read_end = lite_read_end,
	.write_begin = lite_write_begin,
	.write_commit = lite_write_commit,
	.write_rollback = lite_write_rollback,
	.writer = lite_writer,
	.migration_begin = lite_migration_begin,
	.exec = lite_exec,
	.prepare = lite_prepare,
	.bind_int = lite_bind_int,
	.bind_textn = lite_bind_textn,
	.bind_blob = lite_bind_blob,
	.bind_null = lite_bind_null,
	.step = lite_step,
	.col_int = lite_col_int,
	.col_text = lite_col_text,
	.col_blob = lite_col_blob,
	.col_null = lite_col_null,
	.done = lite_done,
	.changes = lite_changes,
};
