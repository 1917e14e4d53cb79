# Shared by the end-to-end tests: start the real daemon on free ports in a
# scratch directory, talk to it with curl over real TLS, count results.
# Each test script ends with `finish`, which prints "N passed, N failed".
set -euo pipefail

KP=${1:?usage: test_x.sh PATH_TO_KRUISPUNT}
KP=$(cd "$(dirname "$KP")" && pwd)/$(basename "$KP")
WORK=$(mktemp -d /tmp/kp-e2e.XXXXXX)
PASSED=0
FAILED=0
PIDS=()

cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  if [ "$FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; fi
}
trap cleanup EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok   - $1"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $1"; }

# expect NAME EXPECTED ACTUAL
expect() {
  if [ "$2" = "$3" ]; then pass "$1"; else fail "$1 (expected '$2', got '$3')"; fi
}

# expect_contains NAME NEEDLE HAYSTACK
expect_contains() {
  case "$3" in *"$2"*) pass "$1" ;; *) fail "$1 (no '$2' in: ${3:0:300})" ;; esac
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

# json FILE_OR_- EXPR: evaluate a Python expression on the parsed JSON `j`.
json() {
  python3 -c 'import json,sys
src=sys.argv[1]
j=json.load(sys.stdin if src=="-" else open(src))
v=eval(sys.argv[2])
print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$1" "$2"
}

# wait_for_file PATH SECONDS
wait_for_file() {
  local i=0
  while [ ! -s "$1" ]; do
    i=$((i + 1))
    [ "$i" -gt $(( $2 * 10 )) ] && return 1
    sleep 0.1
  done
}

# start_demo: runs `kruispunt demo` on free ports, waits for demo.json and
# sets DEMO (data dir), PUB, NET and EIDURL (URLs), CA and DEMO_PID.
start_demo() {
  DEMO=$WORK/demo
  rm -f "$DEMO/demo.json"
  "$KP" demo --data "$DEMO" --port 0 >"$WORK/demo.out" 2>"$WORK/demo.err" &
  DEMO_PID=$!
  PIDS+=("$DEMO_PID")
  if ! wait_for_file "$DEMO/demo.json" 60; then
    cat "$WORK/demo.err" >&2
    echo "demo did not start" >&2
    exit 1
  fi
  PUB=$(json "$DEMO/demo.json" 'j["public_url"]')
  NET=$(json "$DEMO/demo.json" 'j["network_url"]')
  EIDURL=$(json "$DEMO/demo.json" 'j["eid_url"]')
  CA=$DEMO/$(json "$DEMO/demo.json" 'j["ca"]')
}

# stop_demo: SIGTERM and wait; sets DEMO_RC.
stop_demo() {
  kill -TERM "$DEMO_PID"
  DEMO_RC=0
  wait "$DEMO_PID" || DEMO_RC=$?
}

# call METHOD URL [curl args...]: sets STATUS, BODY (file), HEADERS (file).
call() {
  local method=$1 url=$2
  shift 2
  BODY=$WORK/body
  HEADERS=$WORK/headers
  STATUS=$(curl -s -o "$BODY" -D "$HEADERS" -w '%{http_code}' \
    --cacert "$CA" -X "$method" "$@" "$url") || STATUS=000
}

header() { grep -i "^$1:" "$HEADERS" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# person INSZ FIELD: a demo person's field from demo.json.
person() { json "$DEMO/demo.json" "[p for p in j['persons'] if p['insz']=='$1'][0]['$2']"; }
# last_event: the newest audit entry of the demo's log, as text.
last_event() { sqlite3 "$DEMO/kruispunt.db" "SELECT CAST(entry AS TEXT) FROM audit_event ORDER BY seq DESC LIMIT 1"; }

# institution_cert KBO: curl arguments for that institution's certificate.
institution_cert() {
  echo "--cert $DEMO/pki/institutions/$1.crt --key $DEMO/pki/institutions/$1.key"
}
