#!/usr/bin/env bash
# The failover test (`make test-ha`): scripts/ha/up.sh brings up etcd, two
# PostgreSQL under Patroni (synchronous replication), HAProxy and two
# kruispunt nodes; under a bounded load of audited exchanges and register
# mutations through HAProxy (tests/ha/load.py), the PostgreSQL primary's
# machine dies (SIGKILL of its Patroni and its postmaster), then one
# kruispunt node dies (SIGKILL). Patroni promotes the replica, HAProxy
# routes to it, the remaining node reconnects. Then tests/ha/check.py checks
# that nothing acknowledged was lost or doubled and the log stayed one tree,
# and `kruispunt audit verify` checks the whole log.
# usage: test_failover.sh PATH_TO_KRUISPUNT
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KP=${1:?usage: test_failover.sh PATH_TO_KRUISPUNT}
KP=$(cd "$(dirname "$KP")" && pwd)/$(basename "$KP")
WORK=$(mktemp -d /tmp/kp-ha.XXXXXX)
chmod 755 "$WORK" # PostgreSQL runs as postgres in it
HA=$WORK/ha
PASSED=0
FAILED=0
LOAD_PID=
DONE=

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; }
cleanup() {
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
  bash "$HERE/../../scripts/ha/down.sh" "$HA" >/dev/null 2>&1 || true
  if [ -n "$DONE" ] && [ "$FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection (logs in $HA/log)"; fi
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { python3 -c "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "$1" "$(now)"; }

t=$(now)
bash "$HERE/../../scripts/ha/up.sh" "$HA" "$KP"
echo "     up in $(since "$t") s"
source "$HA/ha.env"
CA=$HA/kp/pki/ca.pem
checkpoint() { curl -fsS --cacert "$CA" "$PUB_URL/api/v1/audit/checkpoint" >"$1"; }
primary_is() { curl -fs -o /dev/null "http://127.0.0.1:$1/primary"; }
audit_rows() {
  psql -X -At -h 127.0.0.1 -p "$PG_FRONT_PORT" -U postgres -d kruispunt \
    -c 'SELECT count(*) FROM audit_event' 2>/dev/null
}
# first_ok_after T: the end time of the first 200/201 that began after T.
first_ok_after() {
  python3 - "$WORK/records" "$1" <<'PY'
import json, sys
t = float(sys.argv[2])
ok = [r["t1"] for r in map(json.loads, open(sys.argv[1]))
      if r["status"] in (200, 201) and r["t0"] > t]
print(min(ok) if ok else "")
PY
}

checkpoint "$WORK/cp1.json"
python3 "$HERE/load.py" "$HA" "$WORK/records" 180 &
LOAD_PID=$!
sleep 5

# --- the primary's machine dies: its Patroni and its PostgreSQL at once
primary_is "$REST1_PORT" && pass "pg1 is the primary before" || fail "pg1 is not the primary"
postmaster=$(head -1 "$HA/pg1/data/postmaster.pid")
t_db=$(now)
kill -KILL "$(cat "$HA/run/patroni1.pid")" "$postmaster"
echo "     SIGKILL pg1's Patroni and PostgreSQL (pid $postmaster)"
sleep 3
# --- then one kruispunt node dies
if kill -KILL "$(cat "$HA/run/kp1.pid")"; then
  pass "kruispunt node 1 was alive through the database's failover until killed"
else
  fail "kruispunt node 1 had died already (log/kp1.log)"
fi
t_kp=$(now)
echo "     SIGKILL kruispunt node 1, $(python3 -c "print('%.1f' % ($t_kp - $t_db))") s later"

for _ in $(seq 300); do primary_is "$REST2_PORT" && break; sleep 0.2; done
if primary_is "$REST2_PORT"; then
  pass "Patroni promoted pg2, $(since "$t_db") s after the kill"
else
  fail "pg2 was not promoted within 60 s"
fi
back=
for _ in $(seq 300); do
  back=$(first_ok_after "$t_kp")
  [ -n "$back" ] && break
  sleep 0.2
done
if [ -n "$back" ]; then
  pass "service is back through node 2, $(python3 -c "print('%.1f' % ($back - $t_db))") s after the database was killed"
else
  fail "no exchange succeeded within 60 s of the kills"
fi
# Ten more seconds of load on the survivors, then stop it.
sleep 10
touch "$HA/stop-load"
wait "$LOAD_PID" || true
LOAD_PID=
curl -fsS -o /dev/null --cacert "$CA" "https://localhost:$KP2_PUB_PORT/readyz" &&
  pass "node 2 is ready again (it reconnected to the new primary)" ||
  fail "node 2 is not ready"

# The newest checkpoint covers every event once the writes have stopped.
rows=$(audit_rows)
for _ in $(seq 100); do
  checkpoint "$WORK/cp2.json"
  [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree_size"])' "$WORK/cp2.json")" = "$rows" ] && break
  sleep 0.2
done

if python3 "$HERE/check.py" "$HA" "$WORK/records" "$WORK/cp1.json" "$WORK/cp2.json" >"$WORK/check.out"; then rc=0; else rc=$?; fi
cat "$WORK/check.out"
PASSED=$((PASSED + $(grep -c '^ok' "$WORK/check.out" || true)))
FAILED=$((FAILED + $(grep -c '^FAIL' "$WORK/check.out" || true)))
[ "$rc" -eq 0 ] || [ "$(grep -c '^FAIL' "$WORK/check.out" || true)" -gt 0 ] || fail "check.py failed ($rc)"

out=$("$KP" audit verify --data "$HA/kp" 2>&1) && rc=0 || rc=$?
echo "     $out" | head -3
[ "$rc" -eq 0 ] && pass "kruispunt audit verify passes" || fail "kruispunt audit verify: $rc"

# Nothing the daemon logged as an internal error.
errs=$(grep -h '"status":5[0-9][0-9]' "$HA"/log/kp*.log | grep -vc '"status":503' || true)
[ "$errs" -eq 0 ] && pass "the nodes logged no 5xx but 503" || fail "the nodes logged $errs 5xx answers other than 503"

echo "summary: downtime $(cat "$HA/downtime") s; $(wc -l <"$WORK/records") requests; promotion and reconnection above"
DONE=1
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
