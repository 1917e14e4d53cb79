/*
 * The witness's own database (witness_schema): who it is and, per log it
 * follows, the latest checkpoint it cosigned. It is a database apart from
 * the daemon's, so its migrations are numbered in it alone.
 */
#include "witness/witness.h"

static const struct store_migration migrations[] = {
	{1, "witness",
	 "CREATE TABLE witness_self ("
	 "  one INTEGER PRIMARY KEY CHECK (one = 1),"
	 "  name TEXT NOT NULL);"
	 /* size 0 and no root: nothing cosigned yet. */
	 "CREATE TABLE witness_log ("
	 "  origin TEXT PRIMARY KEY,"
	 "  vkey TEXT NOT NULL,"
	 "  size INTEGER NOT NULL DEFAULT 0 CHECK (size >= 0),"
	 "  root BLOB,"
	 "  updated_at INTEGER NOT NULL);"
	 /* A log's size only grows (the check in witness_add_checkpoint is
	  * the rule; this is its backstop). */
	 "CREATE TRIGGER witness_log_grows BEFORE UPDATE OF size ON witness_log"
	 "  WHEN new.size < old.size"
	 "  BEGIN SELECT RAISE(ABORT, 'a log never shrinks'); END;",
	 NULL},
};

const struct store_schema witness_schema = {"witness", migrations,
					    KP_NELEM(migrations)};

int witness_db_open(const char *path, struct store **out, struct error *e)
{
	static const struct store_schema *const schemas[] = {&witness_schema};
	struct store_options o = {.schemas = schemas, .nschemas = 1};
	return store_open(path, &o, out, e);
}
