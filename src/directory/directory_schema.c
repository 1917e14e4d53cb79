/*
 * src/directory's tables: reference data, dossiers and availability.
 *
 * Migration numbers are global (every module's migrations make one
 * ordered list, see src/store/migrations.c), and a released migration
 * is history: users' databases recorded it by number, so neither its
 * number nor its SQL ever changes. A change is a new migration, with the
 * next free number.
 */
#include "directory/directory.h"

static const struct store_migration migrations[] = {
	{5, "directory",
	 /* src/directory: reference data and dossiers. A dossier keeps the
	  * INSZ as an integer and its period as day numbers (an open one
	  * ends on 2147483647); the covering index answers the hub's
	  * decision query and the anti-fraud check with one seek. */
	 "CREATE TABLE capacity ("
	 "  branch TEXT NOT NULL, code INTEGER NOT NULL, label TEXT NOT NULL,"
	 "  PRIMARY KEY (branch, code)) WITHOUT ROWID;"
	 "CREATE TABLE data_type ("
	 "  code TEXT PRIMARY KEY, source_actor_type TEXT NOT NULL,"
	 "  label TEXT NOT NULL) WITHOUT ROWID;"
	 "CREATE TABLE dossier ("
	 "  id INTEGER PRIMARY KEY,"
	 "  insz INTEGER NOT NULL,"
	 "  institution_id INTEGER NOT NULL,"
	 "  capacity INTEGER NOT NULL,"
	 "  phase INTEGER NOT NULL,"
	 "  start_day INTEGER NOT NULL,"
	 "  end_day INTEGER NOT NULL"
	 ");"
	 "CREATE INDEX dossier_lookup ON dossier"
	 "  (insz, capacity, institution_id, start_day, end_day, phase);",
	 NULL},
	{8, "availability",
	 /* src/directory: which actor type, in which capacity, holds which
	  * data types (where the hub finds an authentic source). */
	 "CREATE TABLE availability ("
	 "  actor_type TEXT NOT NULL,"
	 "  capacity INTEGER NOT NULL,"
	 "  data_type TEXT NOT NULL REFERENCES data_type(code),"
	 "  PRIMARY KEY (actor_type, capacity, data_type)) WITHOUT ROWID;",
	 NULL},
};

const struct store_schema directory_schema = {
	"directory", migrations, KP_NELEM(migrations)};
