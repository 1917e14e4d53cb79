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

struct store_stmt {
	sqlite3_stmt *st;
	const char *sql;
	struct store_conn *conn;
};

struct store_conn {
	sqlite3 *db;
	struct store_stmt cache[LIMIT_STMT_CACHE];
	int ncache;
	struct store_conn *next; /* in the store's list of readers */
};

struct store {
	char *path;
	uint64_t id;
	int busy_timeout_ms;
	int64_t mmap_bytes;
	pthread_mutex_t write_lock;
	struct store_conn *writer;
	pthread_mutex_t readers_lock;
	struct store_conn *readers;
	/* WAL checkpointing, off the writer's path. */
	pthread_t checkpointer;
	bool checkpointer_running;
	bool stopping;
	pthread_mutex_t ckpt_lock;
	pthread_cond_t ckpt_cond;
};

/* Which store this thread's reader belongs to. Stores carry a process-wide
 * unique id, so a new store at a freed store's address never inherits a
 * closed connection. */
static _Thread_local struct {
	uint64_t store_id;
	struct store_conn *conn;
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

int store_exec(struct store_conn *c, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(c->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
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

static struct store_conn *conn_open(struct store *s, bool read_only,
				    struct error *e)
{
	struct store_conn *c = xcalloc(1, sizeof(*c));
	int flags = SQLITE_OPEN_NOMUTEX |
		    (read_only ? SQLITE_OPEN_READONLY
			       : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	if (sqlite3_open_v2(s->path, &c->db, flags, NULL) != SQLITE_OK) {
		log_sqlite(__func__, c->db, "cannot open database");
		store_fail(e, "cannot open the database");
		goto fail;
	}
	sqlite3_busy_timeout(c->db, s->busy_timeout_ms);
	sqlite3_extended_result_codes(c->db, 1);
	if (store_exec(c, "PRAGMA foreign_keys = ON") != 0)
		goto fail_sql;
	if (!read_only && (store_exec(c, "PRAGMA journal_mode = WAL") != 0 ||
			   store_exec(c, "PRAGMA synchronous = FULL") != 0))
		goto fail_sql;
	/* Readers may map the file: a page is then a memory read, not a
	 * pread(2) (store_options.mmap_bytes says when that pays). */
	if (read_only && s->mmap_bytes > 0) {
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA mmap_size = %lld",
			 (long long)s->mmap_bytes);
		if (store_exec(c, pragma) != 0)
			goto fail_sql;
	}
	if (!read_only)
		grow_in_chunks(c->db);
	return c;
fail_sql:
	store_fail(e, "cannot configure the database connection");
fail:
	sqlite3_close(c->db);
	free(c);
	return NULL;
}

static void conn_close(struct store_conn *c)
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
	struct store *s = arg;
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

int store_open(const char *path, const struct store_options *opt,
	       struct store **out, struct error *e)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, sqlite_setup);
	struct store *s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(path);
	s->id = atomic_fetch_add(&next_store_id, 1);
	s->mmap_bytes = opt ? opt->mmap_bytes : 0;
	s->busy_timeout_ms = opt && opt->busy_timeout_ms ? opt->busy_timeout_ms
							 : STORE_BUSY_TIMEOUT_MS;
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_init(&s->readers_lock, NULL);
	pthread_mutex_init(&s->ckpt_lock, NULL);
	pthread_cond_init(&s->ckpt_cond, NULL);
	s->writer = conn_open(s, false, e);
	if (!s->writer)
		goto fail;
	if (store_migrate(s->writer, opt, e) != 0)
		goto fail;
	/* After a restart, the WAL file is cut back to this size. */
	store_exec(s->writer, "PRAGMA journal_size_limit = 67108864");
	/* A change recorded with its audit event runs under a savepoint
	 * (audit_commit), whose statement journal copies every page it
	 * touches first: in memory, not in a temporary file. */
	store_exec(s->writer, "PRAGMA temp_store = MEMORY");
	s->checkpointer_running =
		pthread_create(&s->checkpointer, NULL, checkpointer_main, s) == 0;
	*out = s;
	return 0;
fail:
	store_close(s);
	return -1;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	if (s->checkpointer_running) {
		pthread_mutex_lock(&s->ckpt_lock);
		s->stopping = true;
		pthread_cond_signal(&s->ckpt_cond);
		pthread_mutex_unlock(&s->ckpt_lock);
		pthread_join(s->checkpointer, NULL);
	}
	/* Readers first: the last connection to close copies the WAL back
	 * into the database and removes it, which a read-only one cannot. */
	struct store_conn *c = s->readers;
	while (c) {
		struct store_conn *next = c->next;
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

struct store_conn *store_reader(struct store *s)
{
	if (tl_reader.store_id == s->id)
		return tl_reader.conn;
	struct error e;
	struct store_conn *c = conn_open(s, true, &e);
	if (!c) {
		log_error("no read connection: %s", e.detail);
		return NULL;
	}
	store_exec(c, "PRAGMA query_only = ON");
	pthread_mutex_lock(&s->readers_lock);
	c->next = s->readers;
	s->readers = c;
	pthread_mutex_unlock(&s->readers_lock);
	tl_reader.store_id = s->id;
	tl_reader.conn = c;
	return c;
}

int store_read_begin(struct store *s)
{
	struct store_conn *c = store_reader(s);
	return c && store_exec(c, "BEGIN") == 0 ? 0 : -1;
}

void store_read_end(struct store *s)
{
	struct store_conn *c = store_reader(s);
	if (c)
		store_exec(c, "COMMIT");
}

bool store_ping(struct store *s)
{
	static const char sql[] = "SELECT 1";
	struct store_conn *c = store_reader(s);
	if (!c)
		return false;
	struct store_stmt *st = store_prepare(c, sql);
	bool ok = store_step(st) == STORE_ROW && store_col_int(st, 0) == 1;
	store_done(st);
	return ok;
}

struct store_conn *store_write_begin(struct store *s, struct error *e)
{
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
	return s->writer;
}

int store_write_commit(struct store *s, struct error *e)
{
	int rc = 0;
	if (store_exec(s->writer, "COMMIT") != 0) {
		store_exec(s->writer, "ROLLBACK");
		rc = store_fail(e, "the database could not commit");
	}
	pthread_mutex_unlock(&s->write_lock);
	return rc;
}

void store_write_rollback(struct store *s)
{
	store_exec(s->writer, "ROLLBACK");
	pthread_mutex_unlock(&s->write_lock);
}

int store_write_end(struct store *s, int rc, struct error *e)
{
	if (rc != 0) {
		store_write_rollback(s);
		return rc;
	}
	return store_write_commit(s, e);
}

struct store_stmt *store_prepare(struct store_conn *c, const char *sql)
{
	for (int i = 0; i < c->ncache; i++)
		if (c->cache[i].sql == sql)
			return &c->cache[i];
	if (c->ncache == LIMIT_STMT_CACHE) {
		log_error("statement cache full (LIMIT_STMT_CACHE)");
		abort();
	}
	struct store_stmt *st = &c->cache[c->ncache];
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
			       &st->st, NULL) != SQLITE_OK) {
		log_sqlite(__func__, c->db, sql);
		abort();
	}
	st->sql = sql;
	st->conn = c;
	c->ncache++;
	return st;
}

void store_bind_int(struct store_stmt *st, int idx, int64_t v)
{
	sqlite3_bind_int64(st->st, idx, v);
}

void store_bind_text(struct store_stmt *st, int idx, const char *v)
{
	if (v)
		sqlite3_bind_text(st->st, idx, v, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st->st, idx);
}

void store_bind_textn(struct store_stmt *st, int idx, const char *v, size_t n)
{
	sqlite3_bind_text64(st->st, idx, v, n, SQLITE_TRANSIENT, SQLITE_UTF8);
}

void store_bind_blob(struct store_stmt *st, int idx, const void *v, size_t n)
{
	sqlite3_bind_blob64(st->st, idx, v, n, SQLITE_TRANSIENT);
}

void store_bind_null(struct store_stmt *st, int idx)
{
	sqlite3_bind_null(st->st, idx);
}

enum store_rc store_step(struct store_stmt *st)
{
	int rc = sqlite3_step(st->st);
	if (rc == SQLITE_ROW)
		return STORE_ROW;
	if (rc == SQLITE_DONE)
		return STORE_DONE;
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return STORE_CONSTRAINT;
	log_sqlite(__func__, st->conn->db, "step failed");
	return STORE_ERROR;
}

int store_one(struct store_stmt *st,
	      void (*read)(struct store_stmt *st, void *out), void *out,
	      struct error *e)
{
	enum store_rc rc = store_step(st);
	if (rc == STORE_ROW && read)
		read(st, out);
	store_done(st);
	if (rc == STORE_ROW)
		return 0;
	if (rc == STORE_DONE)
		return 1;
	return store_fail(e, "the database cannot be read now");
}

void store_read_int(struct store_stmt *st, void *out)
{
	*(int64_t *)out = store_col_int(st, 0);
}

int store_insert(struct store_stmt *st, int64_t *id,
		 const struct store_refusal *refused, struct error *e)
{
	/* SQLite makes every change of a RETURNING statement in its first
	 * step, so one step and a reset finish it. */
	enum store_rc rc = store_step(st);
	if (rc == STORE_ROW && id)
		*id = store_col_int(st, 0);
	store_done(st);
	if (rc == STORE_ROW)
		return 0;
	if (rc == STORE_DONE)
		return 1;
	if (rc == STORE_CONSTRAINT && refused)
		return err_set(e, refused->kind, refused->code, "%s",
			       refused->detail);
	return store_fail(e, "the database refused the write");
}

int store_run(struct store_stmt *st, const struct store_refusal *refused,
	      struct error *e)
{
	return store_insert(st, NULL, refused, e) < 0 ? -1 : 0;
}

int64_t store_col_int(struct store_stmt *st, int col)
{
	return sqlite3_column_int64(st->st, col);
}

const char *store_col_text(struct store_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st->st, col);
}

const void *store_col_blob(struct store_stmt *st, int col, size_t *n)
{
	const void *p = sqlite3_column_blob(st->st, col);
	*n = (size_t)sqlite3_column_bytes(st->st, col);
	return p;
}

bool store_col_null(struct store_stmt *st, int col)
{
	return sqlite3_column_type(st->st, col) == SQLITE_NULL;
}

void *store_collect(struct store_stmt *st, size_t size,
		    void (*read)(struct store_stmt *st, void *element), int *n)
{
	size_t cap = 16, count = 0;
	char *items = xcalloc(cap, size);
	while (store_step(st) == STORE_ROW) {
		if (count == cap) {
			items = xrealloc(items, 2 * cap * size);
			memset(items + cap * size, 0, cap * size);
			cap *= 2;
		}
		read(st, items + count++ * size);
	}
	store_done(st);
	*n = (int)count;
	return items;
}

void store_done(struct store_stmt *st)
{
	sqlite3_reset(st->st);
	sqlite3_clear_bindings(st->st);
}

int64_t store_changes(struct store_conn *c)
{
	return sqlite3_changes64(c->db);
}

int store_schema_version(struct store *s)
{
	return store_migration_current(s->writer);
}
