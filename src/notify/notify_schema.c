/*
 * src/notify's outbox. Migration 11 also made src/auth's one-time codes:
 * a released migration stays whole, under the module that named it.
 *
 * Migration numbers are global (every module's migrations make one
 * ordered list, see src/store/migrations.c), and a released migration
 * is history: users' databases recorded it by number, so neither its
 * number nor its SQL ever changes. A change is a new migration, with the
 * next free number.
 */
#include "notify/notify.h"

static const struct store_migration migrations[] = {
	{11, "notify",
	 /* src/notify: the outbox (bodies sealed, wiped once delivered) and
	  * src/auth's one-time codes (only their keyed hash). */
	 "CREATE TABLE outbox ("
	 "  id INTEGER PRIMARY KEY, channel TEXT NOT NULL, recipient TEXT NOT NULL,"
	 "  subject TEXT NOT NULL, body BLOB, attempts INTEGER NOT NULL,"
	 "  next_at INTEGER NOT NULL, created_at INTEGER NOT NULL,"
	 "  sent_at INTEGER, failed_at INTEGER, last_error TEXT);"
	 "CREATE INDEX outbox_due ON outbox(next_at) WHERE sent_at IS NULL"
	 "  AND failed_at IS NULL;"
	 "CREATE TABLE one_time_code ("
	 "  id INTEGER PRIMARY KEY, insz TEXT NOT NULL, key_id INTEGER NOT NULL,"
	 "  code_hash BLOB NOT NULL, created_at INTEGER NOT NULL,"
	 "  expires_at INTEGER NOT NULL, used_at INTEGER);"
	 "CREATE INDEX one_time_code_by_key ON one_time_code(key_id, id);",
	 NULL},
};

const struct store_schema notify_schema = {
	"notify", migrations, KP_NELEM(migrations)};
