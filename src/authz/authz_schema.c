/*
 * src/authz's table: the deliberations.
 *
 * Migration numbers are global (every module's migrations make one
 * ordered list, see src/store/migrations.c), and a released migration
 * is history: users' databases recorded it by number, so neither its
 * number nor its SQL ever changes. A change is a new migration, with the
 * next free number.
 */
#include "authz/authz.h"

static const struct store_migration migrations[] = {
	{6, "authorizations",
	 /* src/authz: the Information Security Committee's deliberations.
	  * Validity as day numbers; an open end is 2147483647. */
	 "CREATE TABLE authorization ("
	 "  id INTEGER PRIMARY KEY,"
	 "  reference TEXT NOT NULL,"
	 "  requester_actor_type TEXT NOT NULL,"
	 "  capacity INTEGER NOT NULL,"
	 "  data_type TEXT NOT NULL REFERENCES data_type(code),"
	 "  purpose TEXT NOT NULL,"
	 "  valid_from INTEGER NOT NULL,"
	 "  valid_until INTEGER NOT NULL,"
	 "  min_phase INTEGER NOT NULL,"
	 "  UNIQUE (reference, requester_actor_type, capacity, data_type,"
	 "          purpose)"
	 ");"
	 "CREATE INDEX authorization_lookup ON authorization"
	 "  (requester_actor_type, data_type);",
	 NULL},
};

const struct store_schema authz_schema = {
	"authz", migrations, KP_NELEM(migrations)};
