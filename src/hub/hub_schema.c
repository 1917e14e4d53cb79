/*
 * src/hub's tables: mailboxes, the forwarder's cursor, batch jobs and
 * their chunks.
 *
 * Migration numbers are global (every module's migrations make one
 * ordered list, see src/store/migrations.c), and a released migration
 * is history: users' databases recorded it by number, so neither its
 * number nor its SQL ever changes. A change is a new migration, with the
 * next free number.
 */
#include "hub/hub.h"

static const struct store_migration migrations[] = {
	{14, "hub",
	 /* src/hub: mailboxes (a durable queue per institution, in id order,
	  * emptied by acknowledgement), the forwarder's place in
	  * person_mutation, and batch jobs with their results per chunk of
	  * lines (a job resumes after a restart from its first missing
	  * chunk). */
	 "CREATE TABLE mailbox_message ("
	 "  id INTEGER PRIMARY KEY,"
	 "  institution_id INTEGER NOT NULL REFERENCES institution(id),"
	 "  ticket TEXT NOT NULL UNIQUE,"
	 "  mutation_id INTEGER NOT NULL,"
	 "  type TEXT NOT NULL,"
	 "  subject TEXT NOT NULL,"
	 "  data TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL);"
	 "CREATE INDEX mailbox_by_institution ON mailbox_message(institution_id, id);"
	 "CREATE TABLE hub_cursor ("
	 "  name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
	 "CREATE TABLE batch_job ("
	 "  id TEXT PRIMARY KEY,"
	 "  institution_id INTEGER NOT NULL REFERENCES institution(id),"
	 "  status TEXT NOT NULL CHECK (status IN"
	 "    ('queued', 'running', 'done', 'failed')),"
	 "  total INTEGER NOT NULL, chunks INTEGER NOT NULL,"
	 "  done INTEGER NOT NULL DEFAULT 0,"
	 "  granted INTEGER NOT NULL DEFAULT 0,"
	 "  refused INTEGER NOT NULL DEFAULT 0,"
	 "  created_at INTEGER NOT NULL, finished_at INTEGER) WITHOUT ROWID;"
	 "CREATE INDEX batch_job_pending ON batch_job(created_at)"
	 "  WHERE status IN ('queued', 'running');"
	 "CREATE TABLE batch_chunk ("
	 "  job TEXT NOT NULL, chunk INTEGER NOT NULL, results TEXT NOT NULL,"
	 "  PRIMARY KEY (job, chunk)) WITHOUT ROWID;",
	 NULL},
};

const struct store_schema hub_schema = {
	"hub", migrations, KP_NELEM(migrations)};
