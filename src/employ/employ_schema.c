/*
 * src/employ's tables. Declarations are never updated or deleted: a
 * correction or cancellation is a new row naming the one it replaces, and
 * a row is replaced at most once, so each chain is a line whose last row is
 * in force. Migration numbers are global (src/store/migrations.c).
 */
#include "employ/employ.h"

static const struct store_migration migrations[] = {
	{22, "employ",
	 "CREATE TABLE employ_declaration ("
	 "  id INTEGER PRIMARY KEY,"
	 "  employer TEXT NOT NULL, worker TEXT NOT NULL,"
	 "  kind TEXT NOT NULL CHECK (kind IN"
	 "    ('student', 'flexi', 'ordinary')),"
	 "  start TEXT NOT NULL, end TEXT,"
	 "  hours INTEGER CHECK (hours IS NULL OR hours > 0),"
	 /* thousandths of a full-time job: 800 is 4/5 */
	 "  fraction INTEGER CHECK (fraction IS NULL OR"
	 "    fraction BETWEEN 1 AND 1000),"
	 "  replaces INTEGER REFERENCES employ_declaration (id),"
	 "  cancelled INTEGER NOT NULL DEFAULT 0 CHECK (cancelled IN (0, 1)),"
	 "  declared_by TEXT NOT NULL, declared_at INTEGER NOT NULL);"
	 "CREATE UNIQUE INDEX employ_declaration_replaced ON"
	 "  employ_declaration (replaces) WHERE replaces IS NOT NULL;"
	 "CREATE INDEX employ_declaration_by_worker ON employ_declaration"
	 "  (worker, start);"
	 "CREATE TRIGGER employ_declaration_kept BEFORE UPDATE ON"
	 "  employ_declaration BEGIN"
	 "  SELECT RAISE(ABORT, 'a declaration is corrected by a new one');"
	 "  END;"
	 "CREATE TRIGGER employ_declaration_not_deleted BEFORE DELETE ON"
	 "  employ_declaration BEGIN"
	 "  SELECT RAISE(ABORT, 'a declaration is cancelled by a new one');"
	 "  END;",
	 NULL},
	{28, "declared_via",
	 /* The social secretariat a declaration came through (src/org's
	  * affiliations, migration 27), NULL when the employer declared. */
	 "ALTER TABLE employ_declaration ADD COLUMN declared_via TEXT;",
	 NULL},
};

const struct store_schema employ_schema = {
	"employ", migrations, KP_NELEM(migrations)};
