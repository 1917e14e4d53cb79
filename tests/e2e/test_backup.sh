#!/usr/bin/env bash
# Backup and restore end to end: `kruispunt backup` while the real daemon
# records audited exchanges under load (a background loop of requests),
# `kruispunt restore` into a fresh directory, `kruispunt audit verify` on
# it, and the live log proven to extend the restored one (an RFC 9162
# consistency proof from the daemon's API, checked by the independent
# verifier in rfc9162.py). Then the attacks: a wrong key, a file cut short,
# a flipped byte, a non-empty target, a passphrase on the command line.
source "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

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
before=$(sqlite3 "$DEMO/kruispunt.db" "SELECT count(*) FROM audit_event")

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
after=$(sqlite3 "$DEMO/kruispunt.db" "SELECT count(*) FROM audit_event")
[ "$after" -gt "$before" ] && pass "the load wrote events during the backup ($before -> $after)" \
  || fail "no events written during the backup ($before -> $after)"
grep -aq 'kruispunt-checkpoint' "$WORK/b.kpb" && fail "the checkpoint is in the clear" \
  || pass "nothing of the archive is in the clear"

# --- restore into a fresh directory, then verify
out=$("$KP" restore --from "$WORK/b.kpb" --data "$WORK/restored" --key-file "$WORK/backup.key" 2>&1) && rc=0 || rc=$?
echo "$out" | grep -v '"level"' | sed 's/^/     /'
expect "restore succeeds" 0 "$rc"
expect_contains "restore verified the log" "audit log intact:" "$out"
expect "the master key comes back" "$(xxd -p "$DEMO/keys/master.key")" "$(xxd -p "$WORK/restored/keys/master.key")"
expect "keys are restored mode 0600" 600 "$(stat -c %a "$WORK/restored/keys/audit-signing.key")"
expect "the configuration comes back" "$(sha256sum < "$DEMO/kruispunt.ini")" "$(sha256sum < "$WORK/restored/kruispunt.ini")"
out=$("$KP" audit verify --data "$WORK/restored" 2>&1) && rc=0 || rc=$?
expect "kruispunt audit verify on the restore" 0 "$rc"
N=$(echo "$out" | grep -o 'intact: [0-9]* events' | grep -o '[0-9]*')
[ "$N" -ge "$before" ] && pass "the restore holds the events before the backup ($N >= $before)" \
  || fail "the restore lost events ($N < $before)"
SIZE=$(sqlite3 "$WORK/restored/kruispunt.db" "SELECT max(tree_size) FROM audit_checkpoint")
ROOT=$(sqlite3 "$WORK/restored/kruispunt.db" "SELECT hex(root) FROM audit_checkpoint WHERE tree_size = $SIZE")

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

out=$("$KP" restore --from "$WORK/p.kpb" --data "$WORK/restored-p" --passphrase-file "$WORK/pass" 2>&1) && rc=0 || rc=$?
expect "restore with the passphrase file" 0 "$rc"

# --- attacks and mistakes: one line, non-zero, nothing restored
refused() { # NAME EXPECTED_TEXT ARGS...
  local name=$1 text=$2; shift 2
  rm -rf "$WORK/r"
  out=$("$KP" restore --data "$WORK/r" "$@" 2>&1) && rc=0 || rc=$?
  expect "attack: $name is refused" 1 "$rc"
  expect_contains "attack: $name says so" "$text" "$out"
  expect "attack: $name leaves nothing" "" "$(ls "$WORK" | grep '^r\(\.restore-.*\)\?$' || true)"
}
"$KP" backup key --to "$WORK/wrong.key" >/dev/null
refused "a wrong key" "wrong key or passphrase" --from "$WORK/b.kpb" --key-file "$WORK/wrong.key"
refused "a key for a passphrase backup" "made with a passphrase" --from "$WORK/p.kpb" --key-file "$WORK/backup.key"
SZ=$(stat -c %s "$WORK/b.kpb")
head -c $((64 + 65553 * 2)) "$WORK/b.kpb" > "$WORK/cut.kpb"
refused "a file cut at a chunk boundary" "cut short" --from "$WORK/cut.kpb" --key-file "$WORK/backup.key"
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
"$KP" backup --data "$DEMO" --to "$WORK/x.kpb" --password secret >/dev/null 2>&1 && rc=0 || rc=$?
expect "a passphrase on the command line is a usage error" 2 "$rc"
out=$(env -u KRUISPUNT_BACKUP_PASSPHRASE "$KP" backup --data "$DEMO" --to "$WORK/x.kpb" 2>&1) && rc=0 || rc=$?
expect "a backup without a key is refused" 1 "$rc"
expect_contains "naming the options" "--passphrase-file FILE or --key-file FILE" "$out"

finish
