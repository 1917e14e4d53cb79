/*
 * The audit log's tables: the events, the stored subtrees, checkpoints and
 * the query indexes, made append-only by triggers. Migration 1 (meta)
 * is the audit log's too: the retention trigger reads its value there.
 *
 * Migration numbers are global (every module's migrations make one
 * ordered list, see src/store/migrations.c), and a released migration
 * is history: users' databases recorded it by number, so neither its
 * number nor its SQL ever changes. A change is a new migration, with the
 * next free number.
 */
#include "audit/audit.h"

static const struct store_migration migrations[] = {
	{1, "meta",
	/* meta: a key-value table for what a trigger must read. Only the
	 * audit log's retention lives there (migration 3), so it is
	 * src/audit's. */
	 "CREATE TABLE meta ("
	 "  key TEXT PRIMARY KEY,"
	 "  value TEXT NOT NULL"
	 ") WITHOUT ROWID;",
	 "CREATE TABLE meta ("
	 "  key TEXT PRIMARY KEY,"
	 "  value TEXT NOT NULL"
	 ");"
	 "CREATE COLLATION nocase (provider = icu,"
	 "  locale = 'und-u-ks-level2', deterministic = false);"
	 "CREATE FUNCTION kp_refuse() RETURNS trigger LANGUAGE plpgsql AS $$"
	 "  BEGIN RAISE EXCEPTION '%', TG_ARGV[0]"
	 "  USING ERRCODE = 'integrity_constraint_violation'; END $$;"},
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
	 "  BEGIN SELECT RAISE(ABORT, 'checkpoints are never deleted'); END;",
	 "CREATE TABLE audit_event ("
	 "  seq BIGINT PRIMARY KEY,"
	 "  at BIGINT NOT NULL,"
	 "  entry BYTEA NOT NULL,"
	 "  leaf BYTEA NOT NULL"
	 ");"
	 "CREATE TABLE audit_node ("
	 "  level BIGINT NOT NULL,"
	 "  idx BIGINT NOT NULL,"
	 "  hash BYTEA NOT NULL,"
	 "  PRIMARY KEY (level, idx)"
	 ");"
	 "CREATE TABLE audit_checkpoint ("
	 "  tree_size BIGINT PRIMARY KEY,"
	 "  root BYTEA NOT NULL,"
	 "  timestamp TEXT NOT NULL,"
	 "  signature BYTEA NOT NULL"
	 ");"
	 "CREATE TABLE audit_by_subject (subject TEXT NOT NULL,"
	 "  seq BIGINT NOT NULL, PRIMARY KEY (subject, seq));"
	 "CREATE TABLE audit_by_actor (actor TEXT NOT NULL,"
	 "  seq BIGINT NOT NULL, PRIMARY KEY (actor, seq));"
	 "CREATE TABLE audit_by_user (\"user\" TEXT NOT NULL,"
	 "  seq BIGINT NOT NULL, PRIMARY KEY (\"user\", seq));"
	 "INSERT INTO meta (key, value) VALUES ('audit_retention_days', '3653');"
	 "CREATE TRIGGER audit_event_immutable BEFORE UPDATE ON audit_event"
	 "  FOR EACH ROW EXECUTE FUNCTION kp_refuse('audit events are immutable');"
	 "CREATE FUNCTION audit_event_retention() RETURNS trigger"
	 "  LANGUAGE plpgsql AS $$ BEGIN"
	 "  IF old.at > (extract(epoch FROM now())::bigint - 86400 * (SELECT"
	 "    CAST(value AS BIGINT) FROM meta WHERE key = 'audit_retention_days'))"
	 "    * 1000 THEN"
	 "  RAISE EXCEPTION 'audit events within the retention period cannot be deleted' USING ERRCODE = 'integrity_constraint_violation';"
	 "  END IF; RETURN old; END $$;"
	 "CREATE TRIGGER audit_event_retention BEFORE DELETE ON audit_event"
	 "  FOR EACH ROW EXECUTE FUNCTION audit_event_retention();"
	 "CREATE TRIGGER audit_node_immutable BEFORE UPDATE ON audit_node"
	 "  FOR EACH ROW EXECUTE FUNCTION kp_refuse('audit nodes are immutable');"
	 "CREATE TRIGGER audit_checkpoint_immutable"
	 "  BEFORE UPDATE ON audit_checkpoint"
	 "  FOR EACH ROW EXECUTE FUNCTION kp_refuse('checkpoints are immutable');"
	 "CREATE TRIGGER audit_checkpoint_kept BEFORE DELETE ON audit_checkpoint"
	 "  FOR EACH ROW EXECUTE FUNCTION kp_refuse('checkpoints are never deleted');"
	 "CREATE TRIGGER audit_event_not_truncated BEFORE TRUNCATE ON audit_event"
	 "  EXECUTE FUNCTION kp_refuse('audit events are never truncated');"
	 "CREATE TRIGGER audit_node_not_truncated BEFORE TRUNCATE ON audit_node"
	 "  EXECUTE FUNCTION kp_refuse('audit nodes are never truncated');"
	 "CREATE TRIGGER audit_checkpoint_not_truncated"
	 "  BEFORE TRUNCATE ON audit_checkpoint"
	 "  EXECUTE FUNCTION kp_refuse('checkpoints are never truncated');"},
	{26, "audit_purge",
	 /* Retention without breaking proofs (audit_purge): an event older
	  * than the retention period may lose its entry, never its row,
	  * time or leaf hash; any other update is still refused. Rows are
	  * no longer deleted at all, so the tree stays whole. */
	 "DROP TRIGGER audit_event_immutable;"
	 "CREATE TRIGGER audit_event_immutable BEFORE UPDATE ON audit_event"
	 "  WHEN NOT (length(new.entry) = 0 AND new.seq = old.seq"
	 "    AND new.at = old.at AND new.leaf = old.leaf"
	 "    AND old.at <= (unixepoch() - 86400 * (SELECT CAST(value AS"
	 "      INTEGER) FROM meta WHERE key = 'audit_retention_days')) * 1000)"
	 "  BEGIN SELECT RAISE(ABORT, 'audit events are immutable; only the "
	 "entry of an event past the retention period may be removed'); END;"
	 "DROP TRIGGER audit_event_retention;"
	 "CREATE TRIGGER audit_event_kept BEFORE DELETE ON audit_event"
	 "  BEGIN SELECT RAISE(ABORT, 'audit events are never deleted: "
	 "kruispunt audit purge removes expired entries'); END;",
	 "DROP TRIGGER audit_event_immutable ON audit_event;"
	 "CREATE OR REPLACE FUNCTION audit_event_update() RETURNS trigger"
	 "  LANGUAGE plpgsql AS $$ BEGIN"
	 "  IF (length(new.entry) = 0 AND new.seq = old.seq"
	 "    AND new.at = old.at AND new.leaf = old.leaf"
	 "    AND old.at <= (extract(epoch FROM now())::bigint - 86400 * (SELECT CAST(value AS"
	 "    BIGINT) FROM meta WHERE key = 'audit_retention_days'))"
	 "    * 1000) IS NOT TRUE THEN"
	 "  RAISE EXCEPTION 'audit events are immutable; only the entry of an event past the retention period may be removed' USING ERRCODE = 'integrity_constraint_violation';"
	 "  END IF; RETURN new; END $$;"
	 "CREATE TRIGGER audit_event_immutable BEFORE UPDATE ON audit_event"
	 "  FOR EACH ROW EXECUTE FUNCTION audit_event_update();"
	 "DROP TRIGGER audit_event_retention ON audit_event;"
	 "DROP FUNCTION audit_event_retention();"
	 "CREATE TRIGGER audit_event_kept BEFORE DELETE ON audit_event"
	 "  FOR EACH ROW EXECUTE FUNCTION kp_refuse('audit events are never deleted:"
	 "  kruispunt audit purge removes expired entries');"},
	{29, "audit_cosignature",
	 /* The witnesses' cosignatures of checkpoints (src/witness pushes,
	  * verifies and stores them): append-only, like the checkpoints. */
	 "CREATE TABLE audit_cosignature ("
	 "  tree_size INTEGER NOT NULL,"
	 "  witness TEXT NOT NULL,"
	 "  line TEXT NOT NULL,"
	 "  received_at INTEGER NOT NULL,"
	 "  PRIMARY KEY (tree_size, witness, line)) WITHOUT ROWID;"
	 "CREATE INDEX audit_cosignature_by_witness"
	 "  ON audit_cosignature (witness, tree_size);"
	 "CREATE TRIGGER audit_cosignature_immutable"
	 "  BEFORE UPDATE ON audit_cosignature"
	 "  BEGIN SELECT RAISE(ABORT, 'cosignatures are immutable'); END;"
	 "CREATE TRIGGER audit_cosignature_kept"
	 "  BEFORE DELETE ON audit_cosignature"
	 "  BEGIN SELECT RAISE(ABORT, 'cosignatures are never deleted'); END;",
	 "CREATE TABLE audit_cosignature ("
	 "  tree_size BIGINT NOT NULL,"
	 "  witness TEXT NOT NULL,"
	 "  line TEXT NOT NULL,"
	 "  received_at BIGINT NOT NULL,"
	 "  PRIMARY KEY (tree_size, witness, line));"
	 "CREATE INDEX audit_cosignature_by_witness"
	 "  ON audit_cosignature (witness, tree_size);"
	 "CREATE TRIGGER audit_cosignature_immutable"
	 "  BEFORE UPDATE ON audit_cosignature"
	 "  FOR EACH ROW EXECUTE FUNCTION kp_refuse('cosignatures are immutable');"
	 "CREATE TRIGGER audit_cosignature_kept"
	 "  BEFORE DELETE ON audit_cosignature"
	 "  FOR EACH ROW EXECUTE FUNCTION kp_refuse('cosignatures are never deleted');"
	 "CREATE TRIGGER audit_cosignature_not_truncated"
	 "  BEFORE TRUNCATE ON audit_cosignature"
	 "  EXECUTE FUNCTION kp_refuse('cosignatures are never truncated');"},
	{30, "audit_purge_floor",
	 /* The purge's guard never below ten years, even without its
	  * meta row (a missing row made the bound NULL, and the guard
	  * let every update through). */
	 "DROP TRIGGER audit_event_immutable;"
	 "CREATE TRIGGER audit_event_immutable BEFORE UPDATE ON audit_event"
	 "  WHEN NOT (length(new.entry) = 0 AND new.seq = old.seq"
	 "    AND new.at = old.at AND new.leaf = old.leaf"
	 "    AND old.at <= (unixepoch() - 86400 * max(3653, coalesce("
	 "      (SELECT CAST(value AS INTEGER) FROM meta"
	 "       WHERE key = 'audit_retention_days'), 3653))) * 1000)"
	 "  BEGIN SELECT RAISE(ABORT, 'audit events are immutable; only the "
	 "entry of an event past the retention period may be removed'); END;",
	 "CREATE OR REPLACE FUNCTION audit_event_update() RETURNS trigger"
	 "  LANGUAGE plpgsql AS $$ BEGIN"
	 "  IF (length(new.entry) = 0 AND new.seq = old.seq"
	 "    AND new.at = old.at AND new.leaf = old.leaf"
	 "    AND old.at <= (extract(epoch FROM now())::bigint - 86400 * greatest(3653, coalesce("
	 "    (SELECT CAST(value AS BIGINT) FROM meta"
	 "     WHERE key = 'audit_retention_days'), 3653)))"
	 "    * 1000) IS NOT TRUE THEN"
	 "  RAISE EXCEPTION 'audit events are immutable; only the entry of an event past the retention period may be removed' USING ERRCODE = 'integrity_constraint_violation';"
	 "  END IF; RETURN new; END $$;"},
	{36, "audit_key_handover",
	 /* Rotation of the signing key (audit_key_rotate): each hand-over
	  * is a signed note by the old key and the new one, naming the
	  * tree size where the new key takes over; every checkpoint says
	  * which key signed it (0: the original key, n: the new key of
	  * hand-over n), so every old checkpoint keeps verifying with its
	  * own key. Append-only, like the checkpoints. */
	 "ALTER TABLE audit_checkpoint ADD COLUMN key_id INTEGER NOT NULL"
	 "  DEFAULT 0;"
	 "CREATE TABLE audit_key_handover ("
	 "  key_id INTEGER PRIMARY KEY,"
	 "  tree_size INTEGER NOT NULL,"
	 "  old_vkey TEXT NOT NULL,"
	 "  new_vkey TEXT NOT NULL,"
	 "  note TEXT NOT NULL,"
	 "  created_at INTEGER NOT NULL"
	 ");"
	 "CREATE TRIGGER audit_key_handover_immutable"
	 "  BEFORE UPDATE ON audit_key_handover"
	 "  BEGIN SELECT RAISE(ABORT, 'key hand-overs are immutable'); END;"
	 "CREATE TRIGGER audit_key_handover_kept"
	 "  BEFORE DELETE ON audit_key_handover"
	 "  BEGIN SELECT RAISE(ABORT, 'key hand-overs are never deleted'); END;",
	 "ALTER TABLE audit_checkpoint ADD COLUMN key_id BIGINT NOT NULL"
	 "  DEFAULT 0;"
	 "CREATE TABLE audit_key_handover ("
	 "  key_id BIGINT PRIMARY KEY,"
	 "  tree_size BIGINT NOT NULL,"
	 "  old_vkey TEXT NOT NULL,"
	 "  new_vkey TEXT NOT NULL,"
	 "  note TEXT NOT NULL,"
	 "  created_at BIGINT NOT NULL"
	 ");"
	 "CREATE TRIGGER audit_key_handover_immutable"
	 "  BEFORE UPDATE ON audit_key_handover"
	 "  FOR EACH ROW EXECUTE FUNCTION kp_refuse('key hand-overs are immutable');"
	 "CREATE TRIGGER audit_key_handover_kept"
	 "  BEFORE DELETE ON audit_key_handover"
	 "  FOR EACH ROW EXECUTE FUNCTION kp_refuse('key hand-overs are never deleted');"
	 "CREATE TRIGGER audit_key_handover_not_truncated"
	 "  BEFORE TRUNCATE ON audit_key_handover"
	 "  EXECUTE FUNCTION kp_refuse('key hand-overs are never truncated');"},
};

const struct store_schema audit_schema = {
	"audit", migrations, KP_NELEM(migrations)};
