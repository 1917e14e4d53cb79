/*
 * src/auth's tables: key types, applications, accounts, keys and
 * sessions. Its one-time codes came with src/notify's outbox, in
 * migration 11 (src/notify).
 *
 * Migration numbers are global (every module's migrations make one
 * ordered list, see src/store/migrations.c), and a released migration
 * is history: users' databases recorded it by number, so neither its
 * number nor its SQL ever changes. A change is a new migration, with the
 * next free number.
 */
#include "auth/auth.h"

static const struct store_migration migrations[] = {
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
	 "  expires_at INTEGER NOT NULL, ended_at INTEGER) WITHOUT ROWID;",
	 NULL},
	{10, "totp",
	 /* The time step of the last accepted TOTP code: a code is accepted
	  * once. */
	 "ALTER TABLE credential ADD COLUMN last_counter INTEGER NOT NULL"
	 "  DEFAULT -1;",
	 NULL},
	{13, "session_keys",
	 /* Deactivating a key ends the live sessions it opened; a session
	 * knows the key types that opened and stepped it up, so checking it
	 * needs no other table. */
	 "CREATE INDEX session_by_key ON session(key_id) WHERE ended_at IS NULL;"
	 "ALTER TABLE session ADD COLUMN key_type TEXT;"
	 "ALTER TABLE session ADD COLUMN step_up TEXT;",
	 NULL},
	{16, "session_step_up_key",
	 /* A session is worth the keys still valid that were used in it:
	  * the key that stepped it up, by id, so losing that key lowers the
	  * session to its opening key's level (another key of the same type
	  * leaves it alone). */
	 "ALTER TABLE session ADD COLUMN step_up_key INTEGER;"
	 "CREATE INDEX session_by_step_up_key ON session(step_up_key)"
	 "  WHERE ended_at IS NULL;",
	 NULL},
	{17, "auth_failure_windows",
	 /* Repeated failures of a key: the window's first failure is an
	  * event, the like ones after it a count here, written as one event
	  * when the window ends (src/auth/failures.c). The event's fields
	  * are kept as the first failure gave them. */
	 "CREATE TABLE auth_failure ("
	 "  id INTEGER PRIMARY KEY,"
	 "  key_id INTEGER NOT NULL,"
	 "  action TEXT NOT NULL, channel TEXT NOT NULL, reason TEXT NOT NULL,"
	 "  purpose TEXT, insz TEXT, actor TEXT, user TEXT, profile TEXT,"
	 "  opened_at INTEGER NOT NULL,"
	 "  count INTEGER NOT NULL DEFAULT 0);"
	 "CREATE INDEX auth_failure_by_key ON auth_failure"
	 "  (key_id, action, channel, reason, opened_at);"
	 "CREATE INDEX auth_failure_by_age ON auth_failure(opened_at);"
	 /* The code-sending limits count an hour's and a day's codes per
	  * account and per address on every send: without these, each
	  * count scans every code ever sent. */
	 "CREATE INDEX one_time_code_by_account ON one_time_code"
	 "  (insz, created_at);"
	 "CREATE INDEX one_time_code_by_key_time ON one_time_code"
	 "  (key_id, created_at);"
	 "CREATE INDEX credential_by_address ON credential(address)"
	 "  WHERE address IS NOT NULL;",
	 NULL},
	{19, "activation",
	 /* Activations issued by a registration office (activation.c).
	  * Codes and tokens only as hashes: the paper code and a
	  * registration code keyed with the master key, the link token and
	  * the activation_id of the citizen's steps as SHA-256. The chosen
	  * password (Argon2id) and TOTP secret (sealed) wait here until the
	  * activation completes, then are wiped from the row. */
	 "CREATE TABLE activation ("
	 "  id INTEGER PRIMARY KEY,"
	 "  insz TEXT NOT NULL, email TEXT NOT NULL, phone TEXT,"
	 "  language TEXT NOT NULL, identification_id INTEGER, office TEXT,"
	 "  code_hash BLOB NOT NULL, link_hash BLOB NOT NULL UNIQUE,"
	 "  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,"
	 "  status TEXT NOT NULL CHECK (status IN"
	 "    ('issued', 'started', 'completed', 'expired', 'locked',"
	 "     'revoked')),"
	 "  failures INTEGER NOT NULL DEFAULT 0,"
	 "  step_hash BLOB UNIQUE, step_expires_at INTEGER,"
	 "  username TEXT, password_hash TEXT, key_type TEXT, key_secret BLOB,"
	 "  reg_code_hash BLOB, reg_code_expires_at INTEGER,"
	 "  sends INTEGER NOT NULL DEFAULT 0, completed_at INTEGER);"
	 "CREATE INDEX activation_by_insz ON activation(insz);"
	 /* An identification leads to one activation (a new one needs the
	  * person at the desk again); 0 is the operator's, without one. */
	 "CREATE UNIQUE INDEX activation_by_identification ON activation"
	 "  (identification_id) WHERE identification_id > 0;",
	 NULL},
	{32, "session_auth_time",
	 /* When the person last authenticated in the session: its login,
	  * or its last step-up (an OpenID Connect auth_time must be
	  * honest, and max_age is judged by it). */
	 "ALTER TABLE session ADD COLUMN stepped_at INTEGER;",
	 NULL},
};

const struct store_schema auth_schema = {
	"auth", migrations, KP_NELEM(migrations)};
