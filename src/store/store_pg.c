/*
 * The PostgreSQL backend of src/store, through libpq. The same model as
 * SQLite's: one writer connection behind a mutex, one read connection per
 * thread. Every write transaction also takes a transaction-scoped advisory
 * lock, so that the writers of several nodes on one database run one after
 * the other, as the single writer of one SQLite file does: the modules'
 * read-then-write logic (the audit log's tree size first of all) stays
 * correct with any number of nodes.
 *
 * Statements are prepared per connection on their first run, when the
 * types of their parameters are known (integers as bigint, blobs as bytea
 * in binary, text left to the server to infer), and their results are read
 * in text form: bytea comes back as \x hex and is decoded by libpq.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <unistd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "store/store.h"
#include "store/store_internal.h"

/* Parameters and blob columns one statement may have: SQL is a literal,
 * so more is a programming error (abort). */
#define PG_MAX_PARAMS 32
#define PG_MAX_COLS   48

/* Leases one process may hold at once. */
#define PG_MAX_LEASES 16

/* The advisory lock every write transaction takes ("kp" in ASCII). */
#define PG_WRITE_LOCK "SELECT pg_advisory_xact_lock(27504)"

/* Type OIDs (PostgreSQL's catalog/pg_type_d.h, stable across releases). */
#define OID_BOOL  16
#define OID_BYTEA 17
#define OID_INT8  20

struct pg_stmt {
	struct store_stmt base;
	const char *sql; /* the module's literal: the cache key */
	char *text;      /* with $N for ?N */
	char name[16];
	int nparams;
	bool prepared;
	struct pg_conn *conn;
	char *vals[PG_MAX_PARAMS];
	int lens[PG_MAX_PARAMS];
	int fmts[PG_MAX_PARAMS];
	Oid types[PG_MAX_PARAMS];
	char ints[PG_MAX_PARAMS][24];
	PGresult *res;
	int row, nrows;
	unsigned char *blobs[PG_MAX_COLS];
	size_t bloblens[PG_MAX_COLS];
};

struct pg_conn {
	struct store_conn base;
	PGconn *db;
	struct pg_stmt *cache[LIMIT_STMT_CACHE];
	int ncache;
	int64_t changes;
	/* The server went away or cannot take writes (a failover): the next
	 * use starts a new session, through whatever now routes to the
	 * primary. */
	bool lost;
	/* A thread past store.max_readers: never connected, every statement
	 * fails (503), and no thread crashes on a NULL connection. */
	bool capped;
	struct pg_conn *next; /* in the store's list of readers */
};

struct pg {
	struct store base;
	char *url;
	char *password;
	uint64_t id;
	int max_readers;
	int busy_timeout_ms;
	pthread_mutex_t write_lock;
	struct pg_conn *writer;
	pthread_mutex_t readers_lock;
	struct pg_conn *readers;
	int nreaders;
	/* Leases (store_lease): advisory locks held by this connection. */
	pthread_mutex_t lease_lock;
	PGconn *lease_db;
	int64_t leases[PG_MAX_LEASES];
	int nleases;
};

static const struct store_ops pg_ops;

static struct pg *PS(struct store *s)
{
	return (struct pg *)s;
}
static struct pg_conn *PC(struct store_conn *c)
{
	return (struct pg_conn *)c;
}
static struct pg_stmt *PT(struct store_stmt *st)
{
	return (struct pg_stmt *)st;
}

static _Thread_local struct {
	uint64_t store_id;
	struct pg_conn *conn;
} tl_reader;

static _Atomic uint64_t next_store_id = 1;

static void log_pg(const char *fn, const char *what, PGconn *db,
		   const PGresult *r)
{
	struct log_line l;
	log_begin(&l, LV_ERROR, fn, what);
	const char *msg = r ? PQresultErrorMessage(r) : NULL;
	log_str(&l, "postgresql", msg && *msg ? msg
			: db ? PQerrorMessage(db) : "no connection");
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (state)
		log_str(&l, "sqlstate", state);
	log_end(&l);
}

void *store_pg_conn_raw(struct store_conn *c)
{
	return PC(c)->db;
}

/* Whether r's failure (or the connection's state) says the database is
 * away rather than that the statement was refused: connection exceptions
 * (class 08), a server shutting down (57P01-57P03), a standby refusing a
 * write (25006) or no answer at all. */
static void note_loss(struct pg_conn *c, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (PQstatus(c->db) != CONNECTION_OK || !state ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P0", 4) == 0 ||
	    strcmp(state, "25006") == 0)
		c->lost = true;
}

static int pg_exec(struct store_conn *conn, const char *sql)
{
	PGresult *r = PQexec(PC(conn)->db, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
	if (rc != 0) {
		log_pg(__func__, "sql failed", PC(conn)->db, r);
		note_loss(PC(conn), r);
	}
	PQclear(r);
	return rc;
}

/* ------------------------------------------------------- connections */

/* The URL must not carry the password: it would sit in the configuration
 * in clear, and in every log line that names the database. Returns 0, or
 * -1 with e set. */
static int url_check(const char *url, struct error *e)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &msg);
	if (!opts) {
		PQfreemem(msg);
		return err_set(e, ERR_INVALID, "store_url_invalid",
			       "store.url is not a PostgreSQL URL");
	}
	bool has_password = false;
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val && *o->val)
			has_password = true;
	PQconninfoFree(opts);
	if (has_password)
		return err_set(e, ERR_INVALID, "store_url_password",
			       "store.url holds a password: put it in "
			       "store.password_file or PGPASSWORD instead");
	return 0;
}

static void stmt_unprepare(struct pg_stmt *st)
{
	st->prepared = false;
}

/* The server's notices (CREATE ... IF NOT EXISTS that found it) are not
 * the operator's business: libpq would print them on stderr. */
static void notice(void *arg, const char *msg)
{
	(void)arg;
	log_debug("postgresql: %s", msg);
}

/* A new session with the database. TCP keepalives, so that a server that
 * vanished (a failover, a cut cable) is noticed in seconds, not in the
 * kernel's two hours. Returns the connection (PQfinish; check PQstatus). */
static PGconn *dial(const char *url, const char *password)
{
	/* The URL may name the application (?application_name=node-a): the
	 * server's views then tell the nodes apart. */
	/* tcp_user_timeout: a write the server never acknowledges (a cut
	 * link, which keepalives cannot see while data is outstanding)
	 * fails after 10 s instead of the kernel's fifteen minutes. UTF-8,
	 * whatever the server's or the environment's default: every text
	 * kruispunt stores is. */
	const char *keys[] = {"dbname", "connect_timeout",
			      "fallback_application_name",
			      "keepalives_idle", "keepalives_interval",
			      "keepalives_count", "tcp_user_timeout",
			      "client_encoding", "password", NULL};
	const char *vals[] = {url, "5", "kruispunt", "10", "5", "3", "10000",
			      "UTF8", password, NULL};
	PGconn *db = PQconnectdbParams(keys, vals, 1);
	PQsetNoticeProcessor(db, notice, NULL);
	return db;
}

/* (Re)connect c; prepared statements die with a session, so every
 * statement is prepared again on its next run. Returns 0 or -1. */
static int conn_connect(struct pg *s, struct pg_conn *c, bool read_only)
{
	if (c->db && PQstatus(c->db) == CONNECTION_OK && !c->lost)
		return 0;
	c->lost = false;
	if (c->db)
		PQreset(c->db);
	else
		c->db = dial(s->url, s->password);
	for (int i = 0; i < c->ncache; i++)
		stmt_unprepare(c->cache[i]);
	if (PQstatus(c->db) != CONNECTION_OK) {
		log_pg(__func__, "cannot connect to the database", c->db,
		       NULL);
		return -1;
	}
	/* What SQLite's query_only is to its readers; UTC so that nothing
	 * the server prints depends on its locale; and the writer waits for
	 * another process's write lock as long as SQLite's busy timeout,
	 * then fails instead of hanging (lock_timeout covers the advisory
	 * lock). */
	char writer[96];
	snprintf(writer, sizeof(writer), "SET TIME ZONE 'UTC';"
		 "SET lock_timeout = %d", s->busy_timeout_ms);
	if (pg_exec(&c->base, read_only
				 ? "SET default_transaction_read_only = on;"
				   "SET TIME ZONE 'UTC'"
				 : writer) != 0) {
		/* Never a session without its settings (a reader that could
		 * write, a writer without its lock timeout): the next use
		 * starts a new one. */
		PQfinish(c->db);
		c->db = NULL;
		return -1;
	}
	return 0;
}

static struct pg_conn *conn_open(struct pg *s, bool read_only,
				 struct error *e)
{
	struct pg_conn *c = xcalloc(1, sizeof(*c));
	c->base.ops = &pg_ops;
	if (conn_connect(s, c, read_only) != 0) {
		store_fail(e, "cannot connect to the database");
		PQfinish(c->db);
		free(c);
		return NULL;
	}
	return c;
}

static void stmt_clear(struct pg_stmt *st)
{
	for (int i = 0; i < PG_MAX_COLS; i++) {
		if (st->blobs[i])
			PQfreemem(st->blobs[i]);
		st->blobs[i] = NULL;
	}
}

static void stmt_reset(struct pg_stmt *st)
{
	stmt_clear(st);
	PQclear(st->res);
	st->res = NULL;
	for (int i = 0; i < st->nparams; i++) {
		if (st->vals[i] && st->vals[i] != st->ints[i])
			free(st->vals[i]);
		st->vals[i] = NULL;
		st->lens[i] = 0;
		st->fmts[i] = 0;
	}
}

static void conn_close(struct pg_conn *c)
{
	for (int i = 0; i < c->ncache; i++) {
		stmt_reset(c->cache[i]);
		free(c->cache[i]->text);
		free(c->cache[i]);
	}
	PQfinish(c->db);
	free(c);
}

int store_pg_open(const char *url, const struct store_options *opt,
		  struct store **out, struct error *e)
{
	if (url_check(url, e) != 0)
		return -1;
	struct pg *s = xcalloc(1, sizeof(*s));
	s->base.ops = &pg_ops;
	s->url = xstrdup(url);
	s->password = opt && opt->password ? xstrdup(opt->password) : NULL;
	s->id = atomic_fetch_add(&next_store_id, 1);
	s->max_readers = opt && opt->max_readers > 0 ? opt->max_readers
						     : INT32_MAX;
	s->busy_timeout_ms = opt && opt->busy_timeout_ms > 0
				     ? opt->busy_timeout_ms
				     : STORE_BUSY_TIMEOUT_MS;
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_init(&s->readers_lock, NULL);
	pthread_mutex_init(&s->lease_lock, NULL);
	*out = &s->base;
	s->writer = conn_open(s, false, e);
	if (!s->writer) {
		store_close(&s->base);
		*out = NULL;
		return -1;
	}
	return 0;
}

static void pg_close(struct store *store)
{
	struct pg *s = PS(store);
	struct pg_conn *c = s->readers;
	while (c) {
		struct pg_conn *next = c->next;
		conn_close(c);
		c = next;
	}
	if (s->writer)
		conn_close(s->writer);
	PQfinish(s->lease_db); /* gives every lease back */
	pthread_mutex_destroy(&s->write_lock);
	pthread_mutex_destroy(&s->readers_lock);
	pthread_mutex_destroy(&s->lease_lock);
	free(s->url);
	if (s->password)
		secret_wipe(s->password, strlen(s->password));
	free(s->password);
	free(s);
}

/* This thread's read connection: opened on first use, reconnected when
 * the server went away (a failover), at most max_readers of them. While
 * the server cannot be reached the connection is returned all the same:
 * its statements fail (store_unavailable, 503) and it tries again on its
 * next use. The modules pass store_reader straight to store_prepare. */
static struct store_conn *pg_reader(struct store *store)
{
	struct pg *s = PS(store);
	if (tl_reader.store_id == s->id) {
		struct pg_conn *c = tl_reader.conn;
		if (!c->capped &&
		    (PQstatus(c->db) != CONNECTION_OK || c->lost))
			(void)conn_connect(s, c, true);
		return &c->base;
	}
	pthread_mutex_lock(&s->readers_lock);
	bool full = s->nreaders >= s->max_readers;
	if (!full)
		s->nreaders++;
	pthread_mutex_unlock(&s->readers_lock);
	struct pg_conn *c = xcalloc(1, sizeof(*c));
	c->base.ops = &pg_ops;
	c->capped = full;
	if (full)
		log_error("no read connection for this thread: "
			  "store.max_readers (%d) are open, one per thread",
			  s->max_readers);
	else
		(void)conn_connect(s, c, true);
	pthread_mutex_lock(&s->readers_lock);
	c->next = s->readers;
	s->readers = c;
	pthread_mutex_unlock(&s->readers_lock);
	tl_reader.store_id = s->id;
	tl_reader.conn = c;
	return &c->base;
}

static int pg_read_begin(struct store *s)
{
	struct store_conn *c = pg_reader(s);
	return c && pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ "
			       "READ ONLY") == 0
		       ? 0
		       : -1;
}

static void pg_read_end(struct store *s)
{
	struct store_conn *c = pg_reader(s);
	if (c)
		pg_exec(c, "COMMIT");
}

static enum store_role pg_role(struct store *s)
{
	static const char sql[] = "SELECT pg_is_in_recovery()";
	struct store_conn *c = pg_reader(s);
	if (!c)
		return STORE_ROLE_UNREACHABLE;
	struct store_stmt *st = store_prepare(c, sql);
	enum store_role r = STORE_ROLE_UNREACHABLE;
	if (store_step(st) == STORE_ROW)
		r = store_col_int(st, 0) ? STORE_ROLE_STANDBY
					 : STORE_ROLE_PRIMARY;
	store_done(st);
	return r;
}

static int tx_begin(struct pg_conn *c)
{
	return pg_exec(&c->base, "BEGIN;" PG_WRITE_LOCK);
}

static struct store_conn *pg_write_begin(struct store *store, struct error *e)
{
	struct pg *s = PS(store);
	pthread_mutex_lock(&s->write_lock);
	/* An idle connection learns that its server went away only when it
	 * is used: a BEGIN that finds it so, having done nothing, is simply
	 * tried once more on a new session. */
	bool begun = conn_connect(s, s->writer, false) == 0 &&
		     tx_begin(s->writer) == 0;
	if (!begun && s->writer->lost)
		begun = conn_connect(s, s->writer, false) == 0 &&
			tx_begin(s->writer) == 0;
	if (!begun) {
		/* A lock timeout leaves the transaction begun and aborted. */
		PGTransactionStatusType ts = PQtransactionStatus(s->writer->db);
		if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR)
			pg_exec(&s->writer->base, "ROLLBACK");
		pthread_mutex_unlock(&s->write_lock);
		store_fail(e, "the database cannot be written now");
		return NULL;
	}
	return &s->writer->base;
}

/* COMMIT of a transaction an error aborted answers ROLLBACK, not an
 * error: only the command's tag tells. */
static int commit(struct pg_conn *c)
{
	PGresult *r = PQexec(c->db, "COMMIT");
	bool ok = PQresultStatus(r) == PGRES_COMMAND_OK &&
		  strcmp(PQcmdStatus(r), "COMMIT") == 0;
	if (!ok) {
		log_pg(__func__, "commit failed", c->db, r);
		note_loss(c, r);
	}
	PQclear(r);
	return ok ? 0 : -1;
}

static int pg_write_commit(struct store *store, struct error *e)
{
	struct pg *s = PS(store);
	int rc = 0;
	if (commit(s->writer) != 0) {
		pg_exec(&s->writer->base, "ROLLBACK");
		rc = store_fail(e, "the database could not commit");
	}
	pthread_mutex_unlock(&s->write_lock);
	return rc;
}

static void pg_write_rollback(struct store *store)
{
	struct pg *s = PS(store);
	pg_exec(&s->writer->base, "ROLLBACK");
	pthread_mutex_unlock(&s->write_lock);
}

static bool pg_retryable(struct store *s)
{
	struct pg_conn *w = PS(s)->writer;
	return w->lost || PQstatus(w->db) != CONNECTION_OK;
}

static struct store_conn *pg_writer(struct store *s)
{
	return &PS(s)->writer->base;
}

static int pg_migration_begin(struct store_conn *c)
{
	return tx_begin(PC(c));
}

/* -------------------------------------------------------- statements */

/* The length of the comment at p ("--" to the end of the line, or a block
 * comment, nested as PostgreSQL nests them), which may hold a '?' that is
 * no parameter. */
static size_t comment_len(const char *p)
{
	if (p[0] == '-') {
		const char *end = strchr(p, '\n');
		return end ? (size_t)(end - p) : strlen(p);
	}
	size_t i = 2;
	int depth = 1;
	while (p[i] && depth > 0) {
		if (p[i] == '/' && p[i + 1] == '*')
			depth++, i += 2;
		else if (p[i] == '*' && p[i + 1] == '/')
			depth--, i += 2;
		else
			i++;
	}
	return i;
}

/* ?N becomes $N outside quotes and comments; a bare ? is a programming
 * error (the store's SQL numbers its parameters). Returns the new text
 * (the caller frees it) and *nparams, the highest number. */
static char *rewrite(const char *sql, int *nparams)
{
	size_t n = strlen(sql);
	char *out = xcalloc(n + 1, 1), *o = out;
	char quote = 0;
	*nparams = 0;
	for (const char *p = sql; *p; p++) {
		if (quote) {
			if (*p == quote)
				quote = 0;
		} else if (*p == '\'' || *p == '"') {
			quote = *p;
		} else if ((*p == '-' && p[1] == '-') ||
			   (*p == '/' && p[1] == '*')) {
			size_t len = comment_len(p);
			memcpy(o, p, len);
			o += len;
			p += len - 1;
			continue;
		} else if (*p == '?') {
			char *end;
			long v = strtol(p + 1, &end, 10);
			if (end == p + 1 || v < 1 || v > PG_MAX_PARAMS) {
				log_error("unnumbered or out-of-range "
					  "parameter in: %s", sql);
				abort();
			}
			if (v > *nparams)
				*nparams = (int)v;
			*o++ = '$';
			continue;
		}
		*o++ = *p;
	}
	return out;
}

static struct store_stmt *pg_prepare(struct store_conn *conn, const char *sql)
{
	struct pg_conn *c = PC(conn);
	for (int i = 0; i < c->ncache; i++)
		if (c->cache[i]->sql == sql)
			return &c->cache[i]->base;
	if (c->ncache == LIMIT_STMT_CACHE) {
		log_error("statement cache full (LIMIT_STMT_CACHE)");
		abort();
	}
	struct pg_stmt *st = xcalloc(1, sizeof(*st));
	st->base.ops = &pg_ops;
	st->sql = sql;
	st->text = rewrite(sql, &st->nparams);
	snprintf(st->name, sizeof(st->name), "kp%d", c->ncache);
	st->conn = c;
	c->cache[c->ncache++] = st;
	return &st->base;
}

static void param_set(struct pg_stmt *st, int idx, char *v, int len, int fmt,
		      Oid type)
{
	if (idx < 1 || idx > st->nparams) {
		log_error("parameter %d out of range in: %s", idx, st->sql);
		abort();
	}
	int i = idx - 1;
	if (st->vals[i] && st->vals[i] != st->ints[i])
		free(st->vals[i]);
	st->vals[i] = v;
	st->lens[i] = len;
	st->fmts[i] = fmt;
	if (!st->prepared)
		st->types[i] = type;
}

static void pg_bind_int(struct store_stmt *s, int idx, int64_t v)
{
	struct pg_stmt *st = PT(s);
	if (idx < 1 || idx > st->nparams)
		param_set(st, idx, NULL, 0, 0, 0); /* aborts */
	snprintf(st->ints[idx - 1], sizeof(st->ints[0]), "%" PRId64, v);
	param_set(st, idx, st->ints[idx - 1], 0, 0, OID_INT8);
}

static void pg_bind_textn(struct store_stmt *s, int idx, const char *v,
			  size_t n)
{
	char *copy = xcalloc(n + 1, 1);
	memcpy(copy, v, n);
	param_set(PT(s), idx, copy, (int)n, 0, 0);
}

static void pg_bind_blob(struct store_stmt *s, int idx, const void *v,
			 size_t n)
{
	char *copy = xcalloc(n + 1, 1);
	if (n)
		memcpy(copy, v, n);
	param_set(PT(s), idx, copy, (int)n, 1, OID_BYTEA);
}

static void pg_bind_null(struct store_stmt *s, int idx)
{
	param_set(PT(s), idx, NULL, 0, 0, 0);
}

/* What a failed statement means: a constraint's refusal (class 23, which
 * the triggers raise too), bad SQL (class 42: a programming error, as
 * SQLite's prepare failure is), or the database failing. */
static enum store_rc failure(struct pg_stmt *st, const PGresult *r)
{
	const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	note_loss(st->conn, r);
	if (state && strncmp(state, "23", 2) == 0) {
		log_debug("constraint: %s", PQresultErrorMessage(r));
		return STORE_CONSTRAINT;
	}
	log_pg(__func__, st->sql, st->conn->db, r);
	/* Bad SQL is a programming error, as SQLite's prepare failure is; a
	 * missing privilege (42501) is the operator's, and only fails the
	 * statement. */
	if (state && strncmp(state, "42", 2) == 0 && strcmp(state, "42501") &&
	    PQstatus(st->conn->db) == CONNECTION_OK)
		abort();
	return STORE_ERROR;
}

static int stmt_prepare(struct pg_stmt *st)
{
	PGresult *r = PQprepare(st->conn->db, st->name, st->text, st->nparams,
				st->types);
	int rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc == 0)
		st->prepared = true;
	else
		failure(st, r);
	PQclear(r);
	return rc;
}

static enum store_rc pg_step(struct store_stmt *s)
{
	struct pg_stmt *st = PT(s);
	if (st->res) {
		stmt_clear(st);
		return ++st->row < st->nrows ? STORE_ROW : STORE_DONE;
	}
	if (!st->prepared && stmt_prepare(st) != 0)
		return STORE_ERROR;
	st->res = PQexecPrepared(st->conn->db, st->name, st->nparams,
				 (const char *const *)st->vals, st->lens,
				 st->fmts, 0);
	ExecStatusType status = PQresultStatus(st->res);
	if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
		enum store_rc rc = failure(st, st->res);
		PQclear(st->res);
		st->res = NULL;
		return rc;
	}
	st->conn->changes = strtoll(PQcmdTuples(st->res), NULL, 10);
	st->nrows = PQntuples(st->res);
	st->row = 0;
	return st->nrows > 0 ? STORE_ROW : STORE_DONE;
}

static void col_check(struct pg_stmt *st, int col)
{
	if (!st->res || st->row >= st->nrows || col < 0 ||
	    col >= PQnfields(st->res) || col >= PG_MAX_COLS) {
		log_error("column %d read without a row in: %s", col, st->sql);
		abort();
	}
}

static int64_t pg_col_int(struct store_stmt *s, int col)
{
	struct pg_stmt *st = PT(s);
	col_check(st, col);
	if (PQgetisnull(st->res, st->row, col))
		return 0;
	const char *v = PQgetvalue(st->res, st->row, col);
	if (PQftype(st->res, col) == OID_BOOL)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static const char *pg_col_text(struct store_stmt *s, int col)
{
	struct pg_stmt *st = PT(s);
	col_check(st, col);
	if (PQgetisnull(st->res, st->row, col))
		return NULL;
	return PQgetvalue(st->res, st->row, col);
}

static const void *pg_col_blob(struct store_stmt *s, int col, size_t *n)
{
	struct pg_stmt *st = PT(s);
	col_check(st, col);
	*n = 0;
	if (PQgetisnull(st->res, st->row, col))
		return NULL;
	const char *v = PQgetvalue(st->res, st->row, col);
	if (PQftype(st->res, col) != OID_BYTEA) {
		*n = (size_t)PQgetlength(st->res, st->row, col);
		return v;
	}
	if (!st->blobs[col]) {
		st->blobs[col] = PQunescapeBytea((const unsigned char *)v,
						 &st->bloblens[col]);
		if (!st->blobs[col]) {
			log_error("out of memory decoding a bytea column");
			abort();
		}
	}
	*n = st->bloblens[col];
	return st->blobs[col];
}

static bool pg_col_null(struct store_stmt *s, int col)
{
	struct pg_stmt *st = PT(s);
	col_check(st, col);
	return PQgetisnull(st->res, st->row, col);
}

static void pg_done(struct store_stmt *s)
{
	stmt_reset(PT(s));
}

static int64_t pg_changes(struct store_conn *c)
{
	return PC(c)->changes;
}

/* ------------------------------------------------------------- leases */

/* A lease's advisory lock key: FNV-1a of its name (never the write lock's
 * 27504 in practice; a clash would only serialise more). */
static int64_t lease_key(const char *name)
{
	uint64_t h = 1469598103934665603u;
	for (const char *p = name; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211u;
	return (int64_t)h;
}

/* Run one lock function of key on the lease connection: its boolean
 * answer, or false (the connection is then dropped, and with it every
 * lease: the server forgets them with the session). */
static bool lease_call(struct pg *s, const char *sql, int64_t key)
{
	char text[24];
	snprintf(text, sizeof(text), "%" PRId64, key);
	const char *vals[] = {text};
	PGresult *r = PQexecParams(s->lease_db, sql, 1, NULL, vals, NULL,
				   NULL, 0);
	bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
	bool yes = ok && PQgetvalue(r, 0, 0)[0] == 't';
	PQclear(r);
	if (!ok) {
		log_warn("lost the database's leases: reconnecting");
		PQfinish(s->lease_db);
		s->lease_db = NULL;
		s->nleases = 0;
	}
	return yes;
}

static int lease_find(const struct pg *s, int64_t key)
{
	for (int i = 0; i < s->nleases; i++)
		if (s->leases[i] == key)
			return i;
	return -1;
}

static bool lease_take(struct pg *s, int64_t key)
{
	if (!s->lease_db) {
		s->lease_db = dial(s->url, s->password);
		if (PQstatus(s->lease_db) != CONNECTION_OK) {
			PQfinish(s->lease_db);
			s->lease_db = NULL;
			return false;
		}
	}
	if (lease_find(s, key) >= 0) /* held: is the session still alive? */
		return lease_call(s, "SELECT $1::bigint IS NOT NULL", key);
	if (s->nleases == PG_MAX_LEASES ||
	    !lease_call(s, "SELECT pg_try_advisory_lock($1::bigint)", key))
		return false;
	s->leases[s->nleases++] = key;
	return true;
}

static bool pg_lease(struct store *store, const char *name, bool take)
{
	struct pg *s = PS(store);
	int64_t key = lease_key(name);
	pthread_mutex_lock(&s->lease_lock);
	bool held = false;
	if (take) {
		held = lease_take(s, key);
	} else {
		int i = lease_find(s, key);
		if (i >= 0) {
			s->leases[i] = s->leases[--s->nleases];
			lease_call(s, "SELECT pg_advisory_unlock($1::bigint)",
				   key);
		}
	}
	pthread_mutex_unlock(&s->lease_lock);
	return held;
}

/* ----------------------------------------------------------- listeners */

struct store_listener {
	char *url, *password;
	char listen[96]; /* LISTEN channel */
	void (*heard)(void *arg, enum store_heard what);
	void *arg;
	pthread_t thread;
	bool running;
	int wake[2]; /* a byte here stops the thread */
};

/* How long the listener sleeps between tries while the database is away,
 * and between checks that a quiet connection still lives. A check that
 * gets no answer within LISTEN_PING_MS counts as a lost connection: on a
 * half-open link (a cut cable, a server gone without a word) nothing
 * arrives and nothing fails, and every node's session cache would trust
 * it until TCP gave up; with these, another node's logout is missed for
 * at most about three seconds before the cache is dropped. */
#define LISTEN_RETRY_MAX_MS 5000
#define LISTEN_IDLE_MS      2000
#define LISTEN_PING_MS      1000

/* Sleep ms, or less when woken. Returns true when asked to stop. */
static bool listener_wait(struct store_listener *l, int fd, int ms)
{
	struct pollfd p[2] = {{l->wake[0], POLLIN, 0}, {fd, POLLIN, 0}};
	poll(p, fd >= 0 ? 2 : 1, ms);
	return p[0].revents != 0;
}

static PGconn *listener_connect(struct store_listener *l)
{
	PGconn *db = dial(l->url, l->password);
	if (PQstatus(db) == CONNECTION_OK) {
		PGresult *r = PQexec(db, l->listen);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		PQclear(r);
		if (ok)
			return db;
	}
	PQfinish(db);
	return NULL;
}

/* A round trip within LISTEN_PING_MS: whether somebody still listens.
 * Notifications that arrive meanwhile wait in libpq for listener_read. */
static bool listener_ping(PGconn *db)
{
	if (!PQsendQuery(db, "SELECT 1"))
		return false;
	int64_t deadline = (int64_t)(time_mono_ns() / 1000000) + LISTEN_PING_MS;
	bool ok = true;
	for (;;) {
		if (!PQconsumeInput(db))
			return false;
		if (!PQisBusy(db)) {
			PGresult *r = PQgetResult(db);
			if (!r)
				return ok;
			ok = ok && PQresultStatus(r) == PGRES_TUPLES_OK;
			PQclear(r);
			continue;
		}
		int64_t left = deadline - (int64_t)(time_mono_ns() / 1000000);
		struct pollfd p = {PQsocket(db), POLLIN, 0};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return false;
	}
}

/* Drain what arrived. Returns false when the connection is gone. */
static bool listener_read(struct store_listener *l, PGconn *db, bool idle)
{
	if (idle && !listener_ping(db))
		return false; /* quiet too long, and no answer now */
	if (!PQconsumeInput(db))
		return false;
	bool any = false;
	PGnotify *n;
	while ((n = PQnotifies(db))) {
		any = true;
		PQfreemem(n);
	}
	if (any)
		l->heard(l->arg, STORE_HEARD_NOTIFY);
	return PQstatus(db) == CONNECTION_OK;
}

static void *listener_main(void *arg)
{
	struct store_listener *l = arg;
	PGconn *db = NULL;
	int backoff = 100;
	for (;;) {
		if (!db) {
			db = listener_connect(l);
			if (!db) {
				if (listener_wait(l, -1, backoff))
					break;
				backoff = backoff * 2 > LISTEN_RETRY_MAX_MS
						  ? LISTEN_RETRY_MAX_MS
						  : backoff * 2;
				continue;
			}
			backoff = 100;
			l->heard(l->arg, STORE_HEARD_CONNECTED);
		}
		struct pollfd p[2] = {{l->wake[0], POLLIN, 0},
				      {PQsocket(db), POLLIN, 0}};
		int n = poll(p, 2, LISTEN_IDLE_MS);
		if (p[0].revents)
			break;
		if (!listener_read(l, db, n == 0)) {
			log_warn("lost the database's notifications: "
				 "reconnecting");
			l->heard(l->arg, STORE_HEARD_LOST);
			PQfinish(db);
			db = NULL;
		}
	}
	PQfinish(db);
	return NULL;
}

static struct store_listener *pg_listen(struct store *store,
					const char *channel,
					void (*heard)(void *arg,
						      enum store_heard what),
					void *arg)
{
	struct pg *s = PS(store);
	struct store_listener *l = xcalloc(1, sizeof(*l));
	l->url = xstrdup(s->url);
	l->password = s->password ? xstrdup(s->password) : NULL;
	snprintf(l->listen, sizeof(l->listen), "LISTEN %s", channel);
	l->heard = heard;
	l->arg = arg;
	if (pipe2(l->wake, O_CLOEXEC) != 0) {
		l->wake[0] = l->wake[1] = -1;
		goto fail;
	}
	if (pthread_create(&l->thread, NULL, listener_main, l) != 0)
		goto fail;
	l->running = true;
	return l;
fail:
	log_error("cannot start listening on %s", channel);
	store_pg_unlisten(l);
	return NULL;
}

void store_pg_unlisten(struct store_listener *l)
{
	if (l->running) {
		if (write(l->wake[1], "x", 1) != 1)
			log_error("cannot stop a listener");
		pthread_join(l->thread, NULL);
	}
	if (l->wake[0] >= 0) {
		close(l->wake[0]);
		close(l->wake[1]);
	}
	free(l->url);
	if (l->password)
		secret_wipe(l->password, strlen(l->password));
	free(l->password);
	free(l);
}

static const struct store_ops pg_ops = {
	.backend = STORE_POSTGRESQL,
	.close = pg_close,
	.role = pg_role,
	.reader = pg_reader,
	.read_begin = pg_read_begin,
	.read_end = pg_read_end,
	.write_begin = pg_write_begin,
	.write_commit = pg_write_commit,
	.write_rollback = pg_write_rollback,
	.writer = pg_writer,
	.retryable = pg_retryable,
	.migration_begin = pg_migration_begin,
	.exec = pg_exec,
	.prepare = pg_prepare,
	.bind_int = pg_bind_int,
	.bind_textn = pg_bind_textn,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.col_int = pg_col_int,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
	.col_null = pg_col_null,
	.done = pg_done,
	.changes = pg_changes,
	.lease = pg_lease,
	.listen = pg_listen,
};

/* ------------------------------------------------ a restore's target */

/* Anything a restore could collide with, or that says another installation
 * (or a trap for the restore) lives here: relations, functions, types and
 * schemas outside the system ones and public, and event triggers, which
 * would run inside pg_restore's transaction. */
static const char sql_target_objects[] =
	"SELECT (SELECT count(*) FROM pg_catalog.pg_class c "
	"  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
	"  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
	"  AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
	"  AND n.nspname NOT LIKE 'pg\\_toast%') "
	"+ (SELECT count(*) FROM pg_catalog.pg_proc p "
	"  JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
	"  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')) "
	"+ (SELECT count(*) FROM pg_catalog.pg_type t "
	"  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace "
	"  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
	"  AND n.nspname NOT LIKE 'pg\\_toast%') "
	"+ (SELECT count(*) FROM pg_catalog.pg_namespace n "
	"  WHERE n.nspname NOT IN ('public', 'information_schema') "
	"  AND n.nspname NOT LIKE 'pg\\_%') "
	"+ (SELECT count(*) FROM pg_catalog.pg_event_trigger)";

/* The privileges that turn the archive's SQL into more than a database's
 * contents: a superuser's COPY ... TO PROGRAM runs commands on the server,
 * CREATEROLE makes roles, BYPASSRLS reads past every policy, and the
 * predefined roles reach the server's files and programs. Held directly
 * or through a role the target's may SET ROLE to. */
static const char sql_target_role[] =
	"SELECT count(*) FROM pg_catalog.pg_roles r "
	"WHERE pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER') "
	"AND (r.rolsuper OR r.rolcreaterole OR r.rolbypassrls "
	"OR r.rolname IN ('pg_execute_server_program', "
	"'pg_read_server_files', 'pg_write_server_files'))";

/* The one number sql yields on db into *n; -1 (logged) when it fails. */
static int count_of(PGconn *db, const char *sql, long *n)
{
	PGresult *r = PQexec(db, sql);
	int rc = 0;
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		log_pg(__func__, "sql failed", db, r);
		rc = -1;
	} else {
		*n = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	}
	PQclear(r);
	return rc;
}

int store_pg_check_target(const char *url, const char *password,
			  bool allow_privileged, struct error *e)
{
	if (url_check(url, e) != 0)
		return -1;
	PGconn *db = dial(url, password);
	if (PQstatus(db) != CONNECTION_OK) {
		log_pg(__func__, "cannot connect to the database", db, NULL);
		PQfinish(db);
		return store_fail(e, "cannot connect to the target database");
	}
	long privileged = 0, objects = 0;
	int rc = count_of(db, sql_target_role, &privileged) != 0 ||
			 count_of(db, sql_target_objects, &objects) != 0
		 ? store_fail(e, "the target database cannot be read")
		 : 0;
	if (rc == 0 && privileged > 0 && !allow_privileged)
		rc = err_set(e, ERR_INVALID, "store_role_privileged",
			     "the target role is a superuser or as powerful "
			     "(CREATEROLE, BYPASSRLS, server files or "
			     "programs), and pg_restore runs the backup's SQL "
			     "as it: restore as a plain role that owns a new "
			     "database, or pass --allow-superuser");
	else if (rc == 0 && objects > 0)
		rc = err_set(e, ERR_INVALID, "store_not_empty",
			     "the target database already holds %ld objects "
			     "(tables, sequences, functions, types, schemas "
			     "or event triggers): restore into a new, empty "
			     "database",
			     objects);
	PQfinish(db);
	return rc;
}
