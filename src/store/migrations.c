/*
 * Versioned schema migrations, applied in order at startup, each in its own
 * transaction together with its row in schema_migrations, so a crash
 * mid-migration leaves the previous version intact. A migration is never
 * edited once released: a change is a new migration.
 *
 * Modules own their tables: each lists its migrations (src/org/org_schema.c
 * ...) and src/cli hands the lists over in store_options. Here they are
 * merged into one list by their global numbers, which must run 1, 2, ... N
 * without a repeat or a gap: two modules taking the same number, or a
 * module left out of the list, is caught before anything is applied.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store_internal.h"

int store_schema_latest(const struct store_schema *const *schemas, size_t n)
{
	int latest = 0;
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < schemas[i]->n; j++)
			if (schemas[i]->list[j].version > latest)
				latest = schemas[i]->list[j].version;
	return latest;
}

static const char sql_create_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	"  version INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  applied_at BIGINT NOT NULL)";
static const char sql_current[] =
	"SELECT coalesce(max(version), 0) FROM schema_migrations";
static const char sql_record[] =
	"INSERT INTO schema_migrations (version, name, applied_at) "
	"VALUES (?1, ?2, ?3)";

int store_migration_current(struct store_conn *c)
{
	struct store_stmt *st = store_prepare(c, sql_current);
	int v = store_step(st) == STORE_ROW ? (int)store_col_int(st, 0) : -1;
	store_done(st);
	return v;
}

/* The migrations of every schema, in one array indexed by number - 1, so
 * that a repeated number or a gap shows as a slot taken twice or left
 * empty. Returns the array (the caller frees it) and *n, or NULL with e
 * set. */
static const struct store_migration **merge(const struct store_options *opt,
					     size_t *n, struct error *e)
{
	const struct store_schema *const *schemas = opt ? opt->schemas : NULL;
	size_t count = opt ? opt->nschemas : 0, total = 0;
	for (size_t i = 0; i < count; i++)
		total += schemas[i]->n;
	const struct store_migration **all = xcalloc(total + 1, sizeof(*all));
	for (size_t i = 0; i < count; i++) {
		for (size_t j = 0; j < schemas[i]->n; j++) {
			const struct store_migration *m = &schemas[i]->list[j];
			if (m->version < 1 || (size_t)m->version > total ||
			    all[m->version - 1]) {
				err_set(e, ERR_INTERNAL, "store_schema_invalid",
					"migration %d (%s, %s) repeats a number "
					"or leaves a gap", m->version, m->name,
					schemas[i]->module);
				free(all);
				return NULL;
			}
			all[m->version - 1] = m;
		}
	}
	*n = total;
	return all;
}

/* Apply m in its own transaction, unless another process (a second node
 * starting at the same time) applied it while this one waited for the
 * migration lock: then it is skipped. Returns 0, or -1 (logged). */
static int apply(struct store_conn *c, const struct store_migration *m)
{
	const char *sql =
		c->ops->backend == STORE_POSTGRESQL ? m->sql_pg : m->sql;
	if (!sql) {
		log_error("migration %d (%s) has no text for this database",
			  m->version, m->name);
		return -1;
	}
	if (c->ops->migration_begin(c) != 0)
		return -1;
	int current = store_migration_current(c);
	if (current >= m->version) {
		store_exec(c, "ROLLBACK");
		return current < 0 ? -1 : 0;
	}
	if (store_exec(c, sql) != 0)
		goto fail;
	struct store_stmt *st = store_prepare(c, sql_record);
	store_bind_int(st, 1, m->version);
	store_bind_text(st, 2, m->name);
	store_bind_int(st, 3, time_now());
	enum store_rc rc = store_step(st);
	store_done(st);
	if (rc != STORE_DONE || store_exec(c, "COMMIT") != 0)
		goto fail;
	log_info("applied migration %d (%s)", m->version, m->name);
	return 0;
fail:
	store_exec(c, "ROLLBACK");
	return -1;
}

/* Apply migrations current+1 .. n of all (indexed by number - 1). */
static int apply_from(struct store_conn *c,
		      const struct store_migration **all, size_t n,
		      int current, enum store_migrate_mode mode,
		      struct error *e)
{
	if ((size_t)current > n)
		return err_set(e, ERR_UNAVAILABLE, "store_too_new",
			       "database schema %d is newer than this binary "
			       "(%zu): refusing to run an old binary on it",
			       current, n);
	if (current > 0 && (size_t)current < n && mode == STORE_MIGRATE_FRESH)
		return err_set(e, ERR_INVALID, "store_not_fresh",
			       "the database already holds a schema (%d): "
			       "only a new, empty database will do", current);
	if ((size_t)current < n && mode == STORE_MIGRATE_CHECK)
		return err_set(e, ERR_UNAVAILABLE, "store_migrate_needed",
			       "database schema %d is older than this binary "
			       "(%zu): run `kruispunt migrate` first",
			       current, n);
	for (size_t i = (size_t)current; i < n; i++)
		if (apply(c, all[i]) != 0)
			return err_set(e, ERR_UNAVAILABLE, "store_unavailable",
				       "migration %d (%s) failed",
				       all[i]->version, all[i]->name);
	return 0;
}

int store_migrate(struct store_conn *c, const struct store_options *opt,
		  struct error *e)
{
	size_t n;
	const struct store_migration **all = merge(opt, &n, e);
	if (!all)
		return -1;
	int rc = -1;
	if (store_exec(c, sql_create_table) != 0) {
		store_fail(e, "cannot create schema_migrations");
		goto done;
	}
	int current = store_migration_current(c);
	if (current < 0) {
		store_fail(e, "cannot read the schema version");
		goto done;
	}
	rc = apply_from(c, all, n, current,
			opt ? opt->migrate : STORE_MIGRATE_APPLY, e);
done:
	free(all);
	return rc;
}
