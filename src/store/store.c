/*
 * What every backend shares: opening by location, then the calls through
 * the backend's ops, and the helpers built on step and the columns
 * (store_one, store_insert, store_collect ...), written once.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_internal.h"

bool store_location_is_pg(const char *location)
{
	return strncmp(location, "postgresql://", 13) == 0 ||
	       strncmp(location, "postgres://", 11) == 0;
}

int store_open(const char *location, const struct store_options *opt,
	       struct store **out, struct error *e)
{
	struct store *s = NULL;
	int rc = store_location_is_pg(location)
			 ? store_pg_open(location, opt, &s, e)
			 : store_sqlite_open(location, opt, &s, e);
	if (rc != 0)
		return -1;
	if (store_migrate(s->ops->writer(s), opt, e) != 0) {
		store_close(s);
		return -1;
	}
	if (s->ops->backend == STORE_SQLITE)
		store_sqlite_ready(s);
	*out = s;
	return 0;
}

void store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
}

enum store_backend store_backend_of(struct store *s)
{
	return s->ops->backend;
}

int store_exec(struct store_conn *c, const char *sql)
{
	return c->ops->exec(c, sql);
}

enum store_role store_role(struct store *s)
{
	return s->ops->role(s);
}

const char *store_role_name(enum store_role r)
{
	switch (r) {
	case STORE_ROLE_PRIMARY:
		return "primary";
	case STORE_ROLE_STANDBY:
		return "standby";
	case STORE_ROLE_UNREACHABLE:
		break;
	}
	return "unreachable";
}

struct store_conn *store_reader(struct store *s)
{
	return s->ops->reader(s);
}

int store_read_begin(struct store *s)
{
	return s->ops->read_begin(s);
}

void store_read_end(struct store *s)
{
	s->ops->read_end(s);
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
	return s->ops->write_begin(s, e);
}

int store_write_commit(struct store *s, struct error *e)
{
	return s->ops->write_commit(s, e);
}

void store_write_rollback(struct store *s)
{
	s->ops->write_rollback(s);
}

bool store_write_retryable(struct store *s)
{
	return s->ops->retryable && s->ops->retryable(s);
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
	c->prepared++;
	return c->ops->prepare(c, sql);
}

uint64_t store_conn_prepared(const struct store_conn *c)
{
	return c->prepared;
}

void store_bind_int(struct store_stmt *st, int idx, int64_t v)
{
	st->ops->bind_int(st, idx, v);
}

void store_bind_text(struct store_stmt *st, int idx, const char *v)
{
	if (v)
		st->ops->bind_textn(st, idx, v, strlen(v));
	else
		st->ops->bind_null(st, idx);
}

void store_bind_textn(struct store_stmt *st, int idx, const char *v, size_t n)
{
	st->ops->bind_textn(st, idx, v, n);
}

void store_bind_blob(struct store_stmt *st, int idx, const void *v, size_t n)
{
	st->ops->bind_blob(st, idx, v, n);
}

void store_bind_null(struct store_stmt *st, int idx)
{
	st->ops->bind_null(st, idx);
}

enum store_rc store_step(struct store_stmt *st)
{
	return st->ops->step(st);
}

int64_t store_col_int(struct store_stmt *st, int col)
{
	return st->ops->col_int(st, col);
}

const char *store_col_text(struct store_stmt *st, int col)
{
	return st->ops->col_text(st, col);
}

const void *store_col_blob(struct store_stmt *st, int col, size_t *n)
{
	return st->ops->col_blob(st, col, n);
}

bool store_col_null(struct store_stmt *st, int col)
{
	return st->ops->col_null(st, col);
}

void store_done(struct store_stmt *st)
{
	st->ops->done(st);
}

int64_t store_changes(struct store_conn *c)
{
	return c->ops->changes(c);
}

bool store_lease(struct store *s, const char *name)
{
	return s->ops->lease ? s->ops->lease(s, name, true) : true;
}

void store_lease_release(struct store *s, const char *name)
{
	if (s->ops->lease)
		s->ops->lease(s, name, false);
}

struct store_listener *store_listen(struct store *s, const char *channel,
				    void (*heard)(void *arg,
						  enum store_heard what),
				    void *arg)
{
	return s->ops->listen ? s->ops->listen(s, channel, heard, arg) : NULL;
}

void store_unlisten(struct store_listener *l)
{
	if (l)
		store_pg_unlisten(l);
}

int store_schema_version(struct store *s)
{
	return store_migration_current(s->ops->writer(s));
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
	/* Both backends make every change of a RETURNING statement in its
	 * first step, so one step and a reset finish it. */
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
