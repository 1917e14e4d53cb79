#!/usr/bin/env bash
# Moving an installation from SQLite to PostgreSQL (kruispunt export): the
# demo's database, audit log and checkpoints included, into a new database
# of a scratch PostgreSQL cluster that this test starts itself
# (tests/support/pg.sh); the copy verifies, a second export into the same
# database is refused, and the daemon then runs on the copy, its log going
# on from the copied checkpoints.
source "$(dirname "$0")/lib.sh"
# The source is SQLite, whatever the suite runs on.
unset KRUISPUNT_STORE_BACKEND KRUISPUNT_STORE_URL

PGDIR=$WORK/pg
bash "$KP_SOURCE_DIR/tests/support/pg.sh" start "$PGDIR" >/dev/null
stop_pg() { bash "$KP_SOURCE_DIR/tests/support/pg.sh" stop "$PGDIR"; }
trap 'stop_pg; cleanup' EXIT
BASE=$(cat "$PGDIR/url")
URL=${BASE%/kp_test}/kp_export
psql -X -q "$BASE" -c "CREATE DATABASE kp_export"

start_demo
call GET "$PUB/api/v1/audit/checkpoint"
before=$(json "$BODY" 'j["tree_size"]')
stop_demo
expect "the demo stopped cleanly" 0 "$DEMO_RC"
src=$("$KP" audit verify --data "$DEMO")
events=$(sed -n 's/^audit log intact: \([0-9]*\) events.*/\1/p' <<<"$src")

out=$("$KP" export --data "$DEMO" --to postgresql "$URL" 2>"$WORK/export.err") && rc=0 || rc=$?
expect "export: exit 0" 0 "$rc"
expect_contains "export: rows and tables counted" "rows of" "$out"
expect_contains "export: the copied log verifies, every event" "audit log on the target intact: $events events" "$out"
copied=$(psql -X -At "$URL" -c "SELECT count(*) FROM audit_event")
expect "every audit event is in PostgreSQL" "$events" "$copied"
same=$(psql -X -At "$URL" -c "SELECT count(*) FROM audit_checkpoint")
src_cps=$(sqlite3 "$DEMO/kruispunt.db" "SELECT count(*) FROM audit_checkpoint")
expect "every checkpoint is in PostgreSQL" "$src_cps" "$same"

"$KP" export --data "$DEMO" --to postgresql "$URL" >/dev/null 2>"$WORK/again.err" && rc=0 || rc=$?
expect "a second export into the same database: exit 1" 1 "$rc"
expect_contains "naming why" "already has an audit log" "$(cat "$WORK/again.err")"
n=$(psql -X -At "$URL" -c "SELECT count(*) FROM audit_event")
expect "and changes nothing" "$events" "$n"

# A URL that names some other, older database by mistake: refused before
# its schema is touched.
OLD=${BASE%/kp_test}/kp_old
psql -X -q "$BASE" -c "CREATE DATABASE kp_old"
psql -X -q "$OLD" -c "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL); INSERT INTO schema_migrations VALUES (1, 'meta', 0)"
"$KP" export --data "$DEMO" --to postgresql "$OLD" >/dev/null 2>"$WORK/old.err" && rc=0 || rc=$?
expect "an older database as the target: exit 1" 1 "$rc"
expect_contains "naming why" "already holds a schema" "$(cat "$WORK/old.err")"
expect "and its schema untouched" 1 "$(psql -X -At "$OLD" -c "SELECT max(version) FROM schema_migrations")"

"$KP" export --data "$DEMO" --to postgresql "postgresql://u:secret@127.0.0.1/x" >/dev/null 2>"$WORK/pw.err" && rc=0 || rc=$?
expect "a password in the URL is refused" 1 "$rc"
expect_contains "saying where it goes instead" "password_file" "$(cat "$WORK/pw.err")"

# The daemon on the copy: the same installation, now on PostgreSQL.
export KRUISPUNT_STORE_BACKEND=postgresql KRUISPUNT_STORE_URL=$URL
start_demo
call GET "$PUB/readyz"
expect "readyz on the copy: 200" 200 "$STATUS"
expect "it runs on PostgreSQL" postgresql "$(json "$BODY" 'j["backend"]')"
expect "and reaches a primary" primary "$(json "$BODY" 'j["database"]')"
call GET "$PUB/api/v1/audit/checkpoint"
after=$(json "$BODY" 'j["tree_size"]')
if [ "$after" -ge "$before" ]; then pass "the log goes on from the copied one ($before -> $after)"
else fail "the log shrank ($before -> $after)"; fi
stop_demo
out=$("$KP" audit verify --data "$DEMO") && rc=0 || rc=$?
expect "audit verify on PostgreSQL after the restart: exit 0" 0 "$rc"
expect_contains "intact" "audit log intact" "$out"

finish
