/*
 * Versioned schema migrations, applied in order at startup, each in its own
 * transaction together with its row in schema_migrations, so a crash
 * mid-migration leaves the previous version intact. A migration is never
 * edited once released: a change is a new migration.
 *
 * Modules own their tables; their DDL lives here so that the order of
 * versions is one list a reader can follow.
 */
#include <string.h>

#include "store/store_internal.h"

struct migration {
	int version;
	const char *name;
	const char *sql;
};

static const struct migration migrations[] = {
	{1, "meta",
	 "CREATE TABLE meta ("
	 "  key TEXT PRIMARY KEY,"
	 "  value TEXT NOT NULL"
	 ") WITHOUT ROWID;"},
	{2, "institutions",
	 /* src/org: organisations by enterprise number, the institutions
	  * among them, and the certificates that identify an institution on
	  * the network listener (several per institution: rollover). */
	 "CREATE TABLE organisation ("
	 "  kbo TEXT PRIMARY KEY CHECK (length(kbo) = 10),"
	 "  name TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL"
	 ") WITHOUT ROWID;"
	 "CREATE TABLE institution ("
	 "  id INTEGER PRIMARY KEY,"
	 "  kbo TEXT NOT NULL UNIQUE REFERENCES organisation(kbo),"
	 "  name TEXT NOT NULL,"
	 "  actor_type TEXT NOT NULL,"
	 "  branch TEXT NOT NULL,"
	 "  endpoint TEXT"
	 ");"
	 "CREATE TABLE institution_cert ("
	 "  fingerprint BLOB PRIMARY KEY CHECK (length(fingerprint) = 32),"
	 "  institution_id INTEGER NOT NULL REFERENCES institution(id),"
	 "  subject TEXT NOT NULL,"
	 "  not_before INTEGER NOT NULL,"
	 "  not_after INTEGER NOT NULL,"
	 "  added_at INTEGER NOT NULL"
	 ") WITHOUT ROWID;"
	 "CREATE INDEX institution_cert_by_institution"
	 "  ON institution_cert(institution_id);"},
	{3, "audit",
	 /* src/audit: the event rows are all the hot path writes (the
	  * canonical entry and its leaf hash); perfect subtrees of 256+
	  * leaves, checkpoints and the query indexes come separately. The
	  * triggers make the log append-only for every code path: no update
	  * ever, no delete of anything younger than the retention period. */
	 "CREATE TABLE audit_event ("
	 "  seq INTEGER PRIMARY KEY,"
	 "  at INTEGER NOT NULL,"
	 "  entry BLOB NOT NULL,"
	 "  leaf BLOB NOT NULL"
	 ");"
	 "CREATE TABLE audit_node ("
	 "  level INTEGER NOT NULL,"
	 "  idx INTEGER NOT NULL,"
	 "  hash BLOB NOT NULL,"
	 "  PRIMARY KEY (level, idx)"
	 ") WITHOUT ROWID;"
	 "CREATE TABLE audit_checkpoint ("
	 "  tree_size INTEGER PRIMARY KEY,"
	 "  root BLOB NOT NULL,"
	 "  timestamp TEXT NOT NULL,"
	 "  signature BLOB NOT NULL"
	 ");"
	 "CREATE TABLE audit_by_subject (subject TEXT NOT NULL,"
	 "  seq INTEGER NOT NULL, PRIMARY KEY (subject, seq)) WITHOUT ROWID;"
	 "CREATE TABLE audit_by_actor (actor TEXT NOT NULL,"
	 "  seq INTEGER NOT NULL, PRIMARY KEY (actor, seq)) WITHOUT ROWID;"
	 "CREATE TABLE audit_by_user (user TEXT NOT NULL,"
	 "  seq INTEGER NOT NULL, PRIMARY KEY (user, seq)) WITHOUT ROWID;"
	 "INSERT INTO meta (key, value) VALUES ('audit_retention_days', '3653');"
	 "CREATE TRIGGER audit_event_immutable BEFORE UPDATE ON audit_event"
	 "  BEGIN SELECT RAISE(ABORT, 'audit events are immutable'); END;"
	 "CREATE TRIGGER audit_event_retention BEFORE DELETE ON audit_event"
	 "  WHEN old.at > (unixepoch() - 86400 * (SELECT CAST(value AS INTEGER)"
	 "    FROM meta WHERE key = 'audit_retention_days')) * 1000"
	 "  BEGIN SELECT RAISE(ABORT, 'audit events within the retention "
	 "period cannot be deleted'); END;"
	 "CREATE TRIGGER audit_node_immutable BEFORE UPDATE ON audit_node"
	 "  BEGIN SELECT RAISE(ABORT, 'audit nodes are immutable'); END;"
	 "CREATE TRIGGER audit_checkpoint_immutable"
	 "  BEFORE UPDATE ON audit_checkpoint"
	 "  BEGIN SELECT RAISE(ABORT, 'checkpoints are immutable'); END;"
	 "CREATE TRIGGER audit_checkpoint_kept BEFORE DELETE ON audit_checkpoint"
	 "  BEGIN SELECT RAISE(ABORT, 'checkpoints are never deleted'); END;"},
	{4, "registry",
	 /* src/registry: the National Register and the BIS register. Every
	  * change is also a row of person_mutation, with its ticket and the
	  * values before and after; the hub forwards those rows. */
	 "CREATE TABLE person ("
	 "  insz TEXT PRIMARY KEY CHECK (length(insz) = 11),"
	 "  register TEXT NOT NULL CHECK (register IN ('RR', 'BIS')),"
	 "  last_name TEXT NOT NULL,"
	 "  first_names TEXT NOT NULL,"
	 "  birth_date TEXT, birth_place TEXT,"
	 "  sex TEXT CHECK (sex IN ('M', 'F')),"
	 "  nationality TEXT, street TEXT, postal_code TEXT, municipality TEXT,"
	 "  country TEXT, language TEXT, deceased_on TEXT,"
	 "  version INTEGER NOT NULL,"
	 "  updated_at INTEGER NOT NULL"
	 ") WITHOUT ROWID;"
	 "CREATE INDEX person_by_name ON person"
	 "  (last_name COLLATE NOCASE, first_names COLLATE NOCASE, birth_date);"
	 "CREATE TABLE person_parent ("
	 "  child TEXT NOT NULL REFERENCES person(insz),"
	 "  parent TEXT NOT NULL REFERENCES person(insz),"
	 "  PRIMARY KEY (child, parent)"
	 ") WITHOUT ROWID;"
	 "CREATE INDEX person_parent_by_parent ON person_parent(parent, child);"
	 "CREATE TABLE person_mutation ("
	 "  id INTEGER PRIMARY KEY,"
	 "  insz TEXT NOT NULL REFERENCES person(insz),"
	 "  type TEXT NOT NULL CHECK (type IN ('address','death','birth','name')),"
	 "  ticket TEXT NOT NULL UNIQUE,"
	 "  effective_on TEXT NOT NULL,"
	 "  recorded_at INTEGER NOT NULL,"
	 "  institution_id INTEGER,"
	 "  before TEXT, after TEXT"
	 ");"
	 "CREATE INDEX person_mutation_by_person ON person_mutation(insz, id);"},
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
	 "  (insz, capacity, institution_id, start_day, end_day, phase);"},
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
	 "  (requester_actor_type, data_type);"},
	{7, "roles",
	 /* src/org: categories, and the roles organisations give persons,
	  * kept after revocation (who had which role when). */
	 "CREATE TABLE organisation_category ("
	 "  kbo TEXT NOT NULL REFERENCES organisation(kbo),"
	 "  category TEXT NOT NULL,"
	 "  PRIMARY KEY (kbo, category)) WITHOUT ROWID;"
	 "CREATE TABLE role_assignment ("
	 "  id INTEGER PRIMARY KEY,"
	 "  insz TEXT NOT NULL,"
	 "  kbo TEXT NOT NULL REFERENCES organisation(kbo),"
	 "  role TEXT NOT NULL,"
	 "  valid_from TEXT NOT NULL,"
	 "  valid_until TEXT NOT NULL,"
	 "  granted_by TEXT NOT NULL,"
	 "  granted_at INTEGER NOT NULL,"
	 "  revoked_at INTEGER, revoked_by TEXT"
	 ");"
	 "CREATE INDEX role_by_person ON role_assignment(insz, kbo, role);"
	 "CREATE INDEX role_by_org ON role_assignment(kbo, id);"},
	{8, "availability",
	 /* src/directory: which actor type, in which capacity, holds which
	  * data types (where the hub finds an authentic source). */
	 "CREATE TABLE availability ("
	 "  actor_type TEXT NOT NULL,"
	 "  capacity INTEGER NOT NULL,"
	 "  data_type TEXT NOT NULL REFERENCES data_type(code),"
	 "  PRIMARY KEY (actor_type, capacity, data_type)) WITHOUT ROWID;"},
	{9, "auth",
	 /* src/auth: key types and applications are data (loaded from the
	  * embedded tables at start); accounts, keys (credential: a secret
	  * is an Argon2id hash or a sealed secret, never clear text) and
	  * sessions (the SHA-256 of the token, never the token). */
	 "CREATE TABLE key_type ("
	 "  code TEXT PRIMARY KEY, level INTEGER NOT NULL,"
	 "  assurance TEXT NOT NULL, label TEXT) WITHOUT ROWID;"
	 "CREATE TABLE app ("
	 "  id TEXT PRIMARY KEY, portal TEXT NOT NULL, name TEXT NOT NULL,"
	 "  min_level INTEGER NOT NULL) WITHOUT ROWID;"
	 "CREATE TABLE account ("
	 "  insz TEXT PRIMARY KEY,"
	 "  username TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	 "  email TEXT, phone TEXT, language TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL) WITHOUT ROWID;"
	 "CREATE TABLE credential ("
	 "  id INTEGER PRIMARY KEY,"
	 "  insz TEXT NOT NULL REFERENCES account(insz),"
	 "  type TEXT NOT NULL REFERENCES key_type(code),"
	 "  status TEXT NOT NULL CHECK (status IN"
	 "    ('pending', 'active', 'locked', 'deactivated')),"
	 "  secret BLOB, address TEXT,"
	 "  failures INTEGER NOT NULL DEFAULT 0,"
	 "  created_at INTEGER NOT NULL, last_used_at INTEGER, changed_at INTEGER);"
	 "CREATE INDEX credential_by_account ON credential(insz, type);"
	 "CREATE TABLE session ("
	 "  token_hash BLOB PRIMARY KEY,"
	 "  insz TEXT NOT NULL, level INTEGER NOT NULL, key_id INTEGER,"
	 "  profile TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,"
	 "  expires_at INTEGER NOT NULL, ended_at INTEGER) WITHOUT ROWID;"},
	{10, "totp",
	 /* The time step of the last accepted TOTP code: a code is accepted
	  * once. */
	 "ALTER TABLE credential ADD COLUMN last_counter INTEGER NOT NULL"
	 "  DEFAULT -1;"},
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
	 "CREATE INDEX one_time_code_by_key ON one_time_code(key_id, id);"},
	{12, "circle_of_trust",
	 /* src/org: an organisation's acceptance of the circle-of-trust
	  * criteria (seed 001), with the reference of its processing
	  * register; mandates are consulted only from inside the circle. */
	 "CREATE TABLE circle_of_trust ("
	 "  kbo TEXT PRIMARY KEY REFERENCES organisation(kbo),"
	 "  accepted_by TEXT NOT NULL, register_ref TEXT NOT NULL,"
	 "  accepted_at INTEGER NOT NULL) WITHOUT ROWID;"},
	{13, "session_keys",
	 /* Deactivating a key ends the live sessions it opened; a session
	 * knows the key types that opened and stepped it up, so checking it
	 * needs no other table. */
	 "CREATE INDEX session_by_key ON session(key_id) WHERE ended_at IS NULL;"
	 "ALTER TABLE session ADD COLUMN key_type TEXT;"
	 "ALTER TABLE session ADD COLUMN step_up TEXT;"},
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
	 "  PRIMARY KEY (job, chunk)) WITHOUT ROWID;"},
	{15, "provider_timeout",
	 /* A provider's own answer time, when it differs from
	  * hub.provider_timeout_ms (a slow legacy source, a fast cache). */
	 "ALTER TABLE institution ADD COLUMN timeout_ms INTEGER;"},
};

int store_schema_latest(void)
{
	return migrations[KP_NELEM(migrations) - 1].version;
}

static const char sql_create_table[] =
	"CREATE TABLE IF NOT EXISTS schema_migrations ("
	"  version INTEGER PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  applied_at INTEGER NOT NULL)";
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

static int apply(struct store_conn *c, const struct migration *m)
{
	if (store_exec(c, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (store_exec(c, m->sql) != 0)
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

int store_migrate(struct store_conn *c, struct error *e)
{
	if (store_exec(c, sql_create_table) != 0)
		return store_fail(e, "cannot create schema_migrations");
	int current = store_migration_current(c);
	if (current < 0)
		return store_fail(e, "cannot read the schema version");
	if (current > store_schema_latest())
		return err_set(e, ERR_UNAVAILABLE, "store_too_new",
			       "database schema %d is newer than this binary "
			       "(%d): refusing to run an old binary on it",
			       current, store_schema_latest());
	for (size_t i = 0; i < KP_NELEM(migrations); i++) {
		if (migrations[i].version <= current)
			continue;
		if (apply(c, &migrations[i]) != 0)
			return err_set(e, ERR_UNAVAILABLE, "store_unavailable",
				       "migration %d (%s) failed",
				       migrations[i].version,
				       migrations[i].name);
	}
	return 0;
}
