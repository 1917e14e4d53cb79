#!/usr/bin/env bash
# Backup and restore end to end: `kruispunt backup` while the real daemon
# records audited exchanges under load (a background loop of requests),
# `kruispunt restore` into a fresh directory, `kruispunt audit verify` on
# it, and the live log proven to extend the restored one (an RFC 9162
# consistency proof from the daemon's API, checked by the independent
# verifier in rfc9162.py). Then the attacks: a wrong key, a file cut short,
# a flipped byte, a non-empty target, a passphrase on the command line.
# On PostgreSQL (e2e_test_backup_pg) the backup is a pg_dump of one
# snapshot, restored with --to postgresql into a fresh database of the same
# scratch cluster owned by a plain role (pg_restore runs the archive's SQL
# as that role: a superuser is refused), and each refusal must also leave
# that database empty.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

# PostgreSQL: restore's target database (RESTORE_TO, empty), named to
# every restore; the restored installation's commands read their [store]
# from the restored kruispunt.ini, not from this script's environment.
# pg_owned: a new database owned by a plain role (no superuser, no
# CREATEROLE), with PG_NEW naming it as that role.
RESTORER=kprestore_$$
pg_owned() {
  pg_create
  pg_admin "DO \$\$BEGIN CREATE ROLE $RESTORER LOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END\$\$" >/dev/null
  pg_admin "ALTER DATABASE ${PG_NEW##*/} OWNER TO $RESTORER" >/dev/null
  PG_NEW=${PG_NEW/\/\/postgres@/\/\/$RESTORER@}
}
RESTORE_TO=()
if [ -n "$PG" ]; then
  pg_owned
  TARGET=$PG_NEW
  RESTORE_TO=(--to postgresql "$TARGET")
fi
restored() { env -u KRUISPUNT_STORE_URL -u KRUISPUNT_STORE_BACKEND "$@"; }
# tables TARGET: how many tables the database holds.
tables() { psql -X -A -t -q -d "$1" -c "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"; }

start_demo
FUND="--cert $DEMO/pki/institutions/0411111140.crt --key $DEMO/pki/institutions/0411111140.key"
BODY_X='{"data_type":"identification","capacity":"001","purpose":"health_insurance_rights","subject":"85073003328"}'
# The load: audited exchanges until $WORK/stop appears.
load() {
  while [ ! -e "$WORK/stop" ]; do
    curl -s -o /dev/null --cacert "$CA" $FUND -H 'Content-Type: application/json' \
      -X POST -d "$BODY_X" "$NET/api/v1/exchange" || true
  done
}
load & L1=$!
load & L2=$!
PIDS+=("$L1" "$L2")
sleep 1
before=$(db_query "$DEMO" "SELECT count(*) FROM audit_event")

# More than a chunk of keys after the database: a file cut at its last
# chunk boundary then still holds the whole database (the hold-back test
# below).
head -c 200000 /dev/urandom > "$DEMO/keys/zz-padding"
"$KP" backup key --to "$WORK/backup.key" >/dev/null
expect "backup key is made mode 0600" 600 "$(stat -c %a "$WORK/backup.key")"
"$KP" backup key --to "$WORK/backup.key" >/dev/null 2>&1 && rc=0 || rc=$?
expect "and never over an existing key" 1 "$rc"
out=$("$KP" backup --data "$DEMO" --to "$WORK/b.kpb" --key-file "$WORK/backup.key" 2>&1) && rc=0 || rc=$?
expect "backup while the daemon writes succeeds" 0 "$rc"
expect_contains "it says what it wrote" "backup written to $WORK/b.kpb" "$out"
expect "the backup is mode 0600" 600 "$(stat -c %a "$WORK/b.kpb")"
printf 'correct horse battery staple\n' > "$WORK/pass"
KRUISPUNT_BACKUP_PASSPHRASE='correct horse battery staple' "$KP" backup --data "$DEMO" \
  --to "$WORK/p.kpb" >/dev/null 2>&1 && rc=0 || rc=$?
expect "a backup with the passphrase from the environment" 0 "$rc"
sleep 1
touch "$WORK/stop"
wait "$L1" "$L2" 2>/dev/null || true
after=$(db_query "$DEMO" "SELECT count(*) FROM audit_event")
[ "$after" -gt "$before" ] && pass "the load wrote events during the backup ($before -> $after)" \
  || fail "no events written during the backup ($before -> $after)"
grep -aq 'kruispunt-checkpoint' "$WORK/b.kpb" && fail "the checkpoint is in the clear" \
  || pass "nothing of the archive is in the clear"

# --- restore into a fresh directory, then verify
out=$(restored "$KP" restore --from "$WORK/b.kpb" --data "$WORK/restored" --key-file "$WORK/backup.key" "${RESTORE_TO[@]}" 2>&1) && rc=0 || rc=$?
echo "$out" | grep -v '"level"' | sed 's/^/     /'
RESTORE_OUT=$out
expect "restore succeeds" 0 "$rc"
expect_contains "restore verified the log" "audit log intact:" "$out"
expect_contains "restore printed the newest checkpoint" "newest checkpoint: tree size" "$out"
expect "the master key comes back" "$(xxd -p "$DEMO/keys/master.key")" "$(xxd -p "$WORK/restored/keys/master.key")"
expect "keys are restored mode 0600" 600 "$(stat -c %a "$WORK/restored/keys/audit-signing.key")"
if [ -n "$PG" ]; then
  DB_URLS[$WORK/restored]=$TARGET
  ini=$(sed -n '/^\[store\]/,/^\[/p' "$WORK/restored/kruispunt.ini")
  expect_contains "the restored configuration names the new database" "url = $TARGET" "$ini"
  expect_contains "and runs on PostgreSQL" "backend = postgresql" "$ini"
  expect "the rest of the configuration comes back" \
    "$(grep -v -e '^url' -e '^backend' -e '^password_file' -e '^;' "$DEMO/kruispunt.ini" | sha256sum)" \
    "$(grep -v -e '^url' -e '^backend' -e '^password_file' -e '^;' "$WORK/restored/kruispunt.ini" | sha256sum)"
else
  expect "the configuration comes back" "$(sha256sum < "$DEMO/kruispunt.ini")" "$(sha256sum < "$WORK/restored/kruispunt.ini")"
fi
out=$(restored "$KP" audit verify --data "$WORK/restored" 2>&1) && rc=0 || rc=$?
expect "kruispunt audit verify on the restore" 0 "$rc"
N=$(echo "$out" | grep -o 'intact: [0-9]* events' | grep -o '[0-9]*')
[ "$N" -ge "$before" ] && pass "the restore holds the events before the backup ($N >= $before)" \
  || fail "the restore lost events ($N < $before)"
SIZE=$(db_query "$WORK/restored" "SELECT max(tree_size) FROM audit_checkpoint")
ROOT=$(db_query "$WORK/restored" "SELECT $(sql_hex root) FROM audit_checkpoint WHERE tree_size = $SIZE")
# The archive's checkpoint (the manifest's, read in the backup's snapshot)
# is exactly the newest one of the database it ships.
expect_contains "the manifest's checkpoint is the restored database's" "signed up to tree size $SIZE" "$RESTORE_OUT"
expect_contains "the checkpoint printed is the restored one" "newest checkpoint: tree size $SIZE," "$RESTORE_OUT"

# --- the live log extends the restored one
call GET "$PUB/api/v1/audit/checkpoint"
LIVE=$(json "$BODY" 'j["tree_size"]')
LIVE_ROOT=$(json "$BODY" 'j["root_hash"]')
[ "$LIVE" -gt "$SIZE" ] && pass "the live log grew past the backup ($SIZE -> $LIVE)" \
  || fail "the live log did not grow ($SIZE -> $LIVE)"
call GET "$PUB/api/v1/audit/proof/consistency?first=$SIZE&second=$LIVE"
expect "a consistency proof from the backup's checkpoint" 200 "$STATUS"
ok=$(python3 -c 'import json, sys
sys.path.insert(0, sys.argv[1])
from rfc9162 import verify_consistency
p = json.load(open(sys.argv[2]))
path = [bytes.fromhex(h) for h in p["path"]]
print(verify_consistency(int(sys.argv[3]), int(sys.argv[4]), bytes.fromhex(sys.argv[5]),
                         bytes.fromhex(sys.argv[6]), path))' \
  "$HERE" "$BODY" "$SIZE" "$LIVE" "$ROOT" "$LIVE_ROOT")
expect "the live log extends the restored one (RFC 9162 verifier)" True "$ok"
stop_demo
expect "the demo stops cleanly" 0 "$DEMO_RC"

P_TO=()
if [ -n "$PG" ]; then pg_owned; P_TO=(--to postgresql "$PG_NEW"); fi
out=$(restored "$KP" restore --from "$WORK/p.kpb" --data "$WORK/restored-p" --passphrase-file "$WORK/pass" "${P_TO[@]}" 2>&1) && rc=0 || rc=$?
expect "restore with the passphrase file" 0 "$rc"

# PostgreSQL: every refusal below must leave this database empty too.
EMPTY_TO=()
if [ -n "$PG" ]; then pg_owned; EMPTY=$PG_NEW; EMPTY_TO=(--to postgresql "$EMPTY"); fi

# --- attacks and mistakes: one line, non-zero, nothing restored
refused() { # NAME EXPECTED_TEXT ARGS...
  local name=$1 text=$2; shift 2
  rm -rf "$WORK/r"
  out=$(restored "$KP" restore --data "$WORK/r" "$@" "${EMPTY_TO[@]}" 2>&1) && rc=0 || rc=$?
  expect "attack: $name is refused" 1 "$rc"
  expect_contains "attack: $name says so" "$text" "$out"
  expect "attack: $name leaves nothing" "" "$(ls "$WORK" | grep '^r\(\.restore-.*\)\?$' || true)"
  [ -z "$PG" ] || expect "attack: $name leaves the database empty" 0 "$(tables "$EMPTY")"
}
"$KP" backup key --to "$WORK/wrong.key" >/dev/null
refused "a wrong key" "wrong key or passphrase" --from "$WORK/b.kpb" --key-file "$WORK/wrong.key"
refused "a key for a passphrase backup" "made with a passphrase" --from "$WORK/p.kpb" --key-file "$WORK/backup.key"
SZ=$(stat -c %s "$WORK/b.kpb")
head -c $((64 + 65553 * 2)) "$WORK/b.kpb" > "$WORK/cut.kpb"
refused "a file cut at a chunk boundary" "cut short" --from "$WORK/cut.kpb" --key-file "$WORK/backup.key"
# Cut at the last chunk boundary: the whole database is still in the file,
# only the last keys and the FINAL tag are not. On PostgreSQL pg_restore
# has then read all but the dump's held-back end: it must not commit.
head -c $((64 + 65553 * ((SZ - 64 - 1) / 65553))) "$WORK/b.kpb" > "$WORK/cut-last.kpb"
refused "a file cut before its last chunk" "cut short" --from "$WORK/cut-last.kpb" --key-file "$WORK/backup.key"
head -c $((SZ - 100)) "$WORK/b.kpb" > "$WORK/cut2.kpb"
refused "a file cut inside a chunk" "damaged" --from "$WORK/cut2.kpb" --key-file "$WORK/backup.key"
python3 -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[len(b) // 2] ^= 1
open(sys.argv[2], "wb").write(b)' "$WORK/b.kpb" "$WORK/flip.kpb"
refused "a flipped byte" "damaged" --from "$WORK/flip.kpb" --key-file "$WORK/backup.key"
refused "a file that is no backup" "not a kruispunt backup" --from "$DEMO/kruispunt.ini" --key-file "$WORK/backup.key"
out=$("$KP" restore --from "$WORK/b.kpb" --data "$WORK/restored" --key-file "$WORK/backup.key" 2>&1) && rc=0 || rc=$?
expect "restore over a data directory is refused" 1 "$rc"
expect_contains "saying why" "is not empty" "$out"

if [ -n "$PG" ]; then
  # A database that already holds an installation: refused untouched.
  n0=$(tables "$TARGET"); e0=$(db_query "$WORK/restored" "SELECT count(*) FROM audit_event")
  rm -rf "$WORK/r"
  out=$(restored "$KP" restore --from "$WORK/b.kpb" --data "$WORK/r" --key-file "$WORK/backup.key" --to postgresql "$TARGET" 2>&1) && rc=0 || rc=$?
  expect "restore into a database with kruispunt tables is refused" 1 "$rc"
  expect_contains "saying why" "already holds" "$out"
  expect "and leaves its tables" "$n0" "$(tables "$TARGET")"
  expect "and its audit log" "$e0" "$(db_query "$WORK/restored" "SELECT count(*) FROM audit_event")"
  expect "and writes no data directory" "" "$(ls "$WORK" | grep '^r\(\.restore-.*\)\?$' || true)"
  # The hold-back itself, without a race: a stand-in pg_restore that keeps
  # every byte it is given (and ignores SIGTERM, so the count is whole).
  # Given a whole archive it gets the whole dump; given the archive cut
  # before its last chunk, which still holds the whole dump, it must not
  # get the dump's end, without which a real pg_restore cannot commit.
  mkdir -p "$WORK/stubbin"
  printf '#!/bin/sh\ntrap "" TERM\nexec cat > "$STUB_OUT"\n' > "$WORK/stubbin/pg_restore"
  chmod +x "$WORK/stubbin/pg_restore"
  pg_owned
  STUB_OUT=$WORK/fed-whole PATH="$WORK/stubbin:$PATH" restored "$KP" restore --from "$WORK/b.kpb" \
    --data "$WORK/stub1" --key-file "$WORK/backup.key" --to postgresql "$PG_NEW" >/dev/null 2>&1 || true
  pg_owned
  STUB_OUT=$WORK/fed-cut PATH="$WORK/stubbin:$PATH" restored "$KP" restore --from "$WORK/cut-last.kpb" \
    --data "$WORK/stub2" --key-file "$WORK/backup.key" --to postgresql "$PG_NEW" >/dev/null 2>&1 || true
  whole=$(stat -c %s "$WORK/fed-whole"); cut=$(stat -c %s "$WORK/fed-cut")
  [ "$cut" -lt "$whole" ] && pass "pg_restore never gets the dump's end before the archive verified ($cut < $whole bytes)" \
    || fail "pg_restore got the whole dump of a cut archive ($cut of $whole bytes)"

  # A failure once the database committed keeps the restored directory,
  # the only copy of its keys: a stand-in pg_restore that "commits", then
  # puts a file into the target so that the directory cannot replace it.
  mkdir -p "$WORK/stubbin2" "$WORK/stub3"
  printf '#!/bin/sh\ncat > /dev/null\ntouch "$STUB_TOUCH"\n' > "$WORK/stubbin2/pg_restore"
  chmod +x "$WORK/stubbin2/pg_restore"
  pg_owned
  out=$(STUB_TOUCH=$WORK/stub3/intruder PATH="$WORK/stubbin2:$PATH" restored "$KP" restore --from "$WORK/b.kpb" \
    --data "$WORK/stub3" --key-file "$WORK/backup.key" --to postgresql "$PG_NEW" 2>&1) && rc=0 || rc=$?
  expect "a move that fails after the commit: exit 1" 1 "$rc"
  expect_contains "saying where the files are" "the files are kept in $WORK/stub3.restore-" "$out"
  KEPT=$(ls -d "$WORK"/stub3.restore-* 2>/dev/null | head -1 || true)
  expect "the kept directory holds the keys" "$(xxd -p "$DEMO/keys/master.key")" \
    "$(xxd -p "$KEPT/keys/master.key" 2>/dev/null)"
  expect_contains "and the configuration naming the database" "url = $PG_NEW" "$(cat "$KEPT/kruispunt.ini" 2>/dev/null)"

  # pg_restore runs the archive's SQL as the target's role: a superuser
  # (COPY ... TO PROGRAM is a shell on the server) is refused, unless the
  # operator accepts it.
  pg_create; SUPER=$PG_NEW
  rm -rf "$WORK/r"
  out=$(restored "$KP" restore --from "$WORK/b.kpb" --data "$WORK/r" --key-file "$WORK/backup.key" --to postgresql "$SUPER" 2>&1) && rc=0 || rc=$?
  expect "restore as a superuser is refused" 1 "$rc"
  expect_contains "saying why and how" "--allow-superuser" "$out"
  expect "and leaves that database empty" 0 "$(tables "$SUPER")"
  expect "and writes no data directory" "" "$(ls "$WORK" | grep '^r\(\.restore-.*\)\?$' || true)"
  out=$(restored "$KP" restore --from "$WORK/cut.kpb" --data "$WORK/r" --key-file "$WORK/backup.key" --to postgresql "$SUPER" --allow-superuser 2>&1) && rc=0 || rc=$?
  expect_contains "--allow-superuser lets it past the role check" "cut short" "$out"
  pg_admin "CREATE ROLE ${RESTORER}_cr LOGIN CREATEROLE" >/dev/null
  rm -rf "$WORK/r"
  out=$(restored "$KP" restore --from "$WORK/b.kpb" --data "$WORK/r" --key-file "$WORK/backup.key" \
    --to postgresql "${SUPER/\/\/postgres@/\/\/${RESTORER}_cr@}" 2>&1) && rc=0 || rc=$?
  expect_contains "a role with CREATEROLE is refused too" "superuser" "$out"
  # An "empty" database holding a function, a schema or an event trigger
  # is not empty: each could be another installation, or a trap.
  for obj in "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'" "CREATE SCHEMA other" "CREATE TYPE mood AS ENUM ('ok')"; do
    pg_owned
    psql -X -q -d "$PG_NEW" -c "$obj" >/dev/null
    rm -rf "$WORK/r"
    out=$(restored "$KP" restore --from "$WORK/b.kpb" --data "$WORK/r" --key-file "$WORK/backup.key" --to postgresql "$PG_NEW" 2>&1) && rc=0 || rc=$?
    expect_contains "a target holding only: $obj, is refused" "already holds" "$out"
  done

  # The kinds of archive do not mix.
  rm -rf "$WORK/r"
  out=$(restored "$KP" restore --from "$WORK/b.kpb" --data "$WORK/r" --key-file "$WORK/backup.key" 2>&1) && rc=0 || rc=$?
  expect "a PostgreSQL backup without --to is refused" 1 "$rc"
  expect_contains "saying how" "restore it with --to postgresql URL" "$out"
  restored "$KP" init --data "$WORK/lite" >/dev/null 2>&1
  restored "$KP" backup --data "$WORK/lite" --to "$WORK/lite.kpb" --key-file "$WORK/backup.key" >/dev/null
  refused "a SQLite backup with --to postgresql" "backup of a SQLite installation" --from "$WORK/lite.kpb" --key-file "$WORK/backup.key"
  # pg_dump missing, older than the server (a stand-in that says so, as
  # Debian's does), or the server away: one line, exit 1, no archive.
  mkdir -p "$WORK/oldbin"
  printf '#!/bin/sh\necho "pg_dump: error: aborting because of server version mismatch" >&2\necho "pg_dump: detail: server version: 99.0; pg_dump version: 15.0" >&2\nexit 1\n' > "$WORK/oldbin/pg_dump"
  chmod +x "$WORK/oldbin/pg_dump"
  dump_fails() { # NAME TEXT ENV...
    local name=$1 text=$2; shift 2
    out=$(env "$@" "$KP" backup --data "$DEMO" --to "$WORK/x.kpb" --key-file "$WORK/backup.key" 2>&1) && rc=0 || rc=$?
    expect "backup with $name: exit 1" 1 "$rc"
    expect_contains "backup with $name says so" "$text" "$out"
    expect "backup with $name: one line" 1 "$(echo "$out" | grep -vc '"level"')"
    expect "backup with $name leaves no archive" "" "$(ls "$WORK" | grep '^x\.kpb' || true)"
    expect "backup with $name leaves no spool" "" "$(ls -A "$DEMO" | grep '^\.backup-' || true)"
  }
  dump_fails "no pg_dump" "pg_dump is not installed" PATH=/nonexistent
  dump_fails "an older pg_dump" "server version mismatch" PATH="$WORK/oldbin:$PATH"
  dump_fails "the server away" "cannot" KRUISPUNT_STORE_URL=postgresql://postgres@127.0.0.1:1/kp_none
fi
"$KP" backup --data "$DEMO" --to "$WORK/x.kpb" --password secret >/dev/null 2>&1 && rc=0 || rc=$?
expect "a passphrase on the command line is a usage error" 2 "$rc"
out=$(env -u KRUISPUNT_BACKUP_PASSPHRASE "$KP" backup --data "$DEMO" --to "$WORK/x.kpb" 2>&1) && rc=0 || rc=$?
expect "a backup without a key is refused" 1 "$rc"
expect_contains "naming the options" "--passphrase-file FILE or --key-file FILE" "$out"

finish
