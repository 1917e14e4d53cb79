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
  for db in "${PG_DBS[@]:-}"; do
    [ -n "$db" ] && pg_admin "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  done
  if [ "$FAILED" -eq 0 ]; then rm -rf "$WORK"; else echo "kept $WORK for inspection"; fi
}
trap cleanup EXIT

# --- the database
# An installation (a data directory DIR) keeps its data in DIR/kruispunt.db;
# or, when KP_TEST_PG_URL_FILE names the URL of a scratch PostgreSQL
# cluster (tests/support/pg.sh, the e2e_*_pg variants of
# tests/CMakeLists.txt), in a database of its own on that cluster, dropped
# at exit. The script's installations share the database made here, which
# KRUISPUNT_STORE_* names to demo, init, serve and every other command;
# one that must not share it gets its own from db_new or db_copy, and its
# commands run through with_db.
PG=
PG_DBS=()
declare -A DB_URLS=()
if [ -n "${KP_TEST_PG_URL_FILE:-}" ]; then
  PG=$(cat "$KP_TEST_PG_URL_FILE")
fi

# pg_admin SQL: run SQL on the cluster's own test database.
pg_admin() { psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$PG" -c "$1"; }

# pg_create [TEMPLATE]: a new database (a copy of TEMPLATE's), named after
# this run so that scripts running in parallel never meet; sets PG_NEW to
# its URL. Runs in the script's shell (PG_DBS remembers what to drop).
pg_create() {
  local name
  name=kpe2e_$$_$(basename "$WORK" | tr -dc 'a-zA-Z0-9' | tr 'A-Z' 'a-z')_${#PG_DBS[@]}
  pg_admin "CREATE DATABASE $name${1:+ TEMPLATE $1}" >/dev/null
  PG_DBS+=("$name")
  PG_NEW=${PG%/*}/$name
}

if [ -n "$PG" ]; then
  pg_create
  export KRUISPUNT_STORE_BACKEND=postgresql KRUISPUNT_STORE_URL=$PG_NEW
fi

# db_new DIR: a database of its own for the installation in DIR (SQLite:
# DIR/kruispunt.db already is). Not inside $(...): it remembers the URL.
db_new() {
  [ -z "$PG" ] && return 0
  pg_create
  DB_URLS[$1]=$PG_NEW
}

# db_copy FROM TO: the installation in FROM copied to TO, its data too (no
# process may have FROM's PostgreSQL database open).
db_copy() {
  rm -rf "$2"
  cp -r "$1" "$2"
  [ -z "$PG" ] && return 0
  local from
  from=$(db_url "$1")
  pg_create "${from##*/}"
  DB_URLS[$2]=$PG_NEW
}

# db_url DIR: the PostgreSQL URL of DIR's database.
db_url() { echo "${DB_URLS[$1]:-${KRUISPUNT_STORE_URL:-}}"; }

# with_db DIR COMMAND...: run COMMAND (kruispunt, audit_load) on DIR's
# database.
with_db() {
  local dir=$1
  shift
  if [ -n "$PG" ]; then KRUISPUNT_STORE_URL=$(db_url "$dir") "$@"; else "$@"; fi
}

# db_query DIR SQL: run SQL on DIR's database; rows one a line, columns
# separated by |, NULL as nothing (sqlite3's defaults, psql -A -t's too).
db_query() {
  if [ -n "$PG" ]; then
    psql -X -A -t -q -v ON_ERROR_STOP=1 -d "$(db_url "$1")" -c "$2"
  else
    sqlite3 "$1/kruispunt.db" "$2"
  fi
}

# What the two dialects say differently, said once: ENTRY is an audit
# event's entry (a blob) as text; sql_hex EXPR, a blob as hex; sql_blob
# TEXT_EXPR, text as a blob; sql_hexblob HEX, a blob literal;
# sql_drop_trigger NAME TABLE; sql_int_field NAME, the number an event's
# field NAME holds (NAME:LEN:VALUE on a line of the entry, LEN one digit),
# NULL when it has none.
if [ -n "$PG" ]; then
  ENTRY="convert_from(entry, 'UTF8')"
  sql_int_field() { echo "CAST(substring($ENTRY from '\n$1:[0-9]:([0-9]+)') AS BIGINT)"; }
  sql_hex() { echo "encode($1, 'hex')"; }
  sql_blob() { echo "convert_to($1, 'UTF8')"; }
  sql_hexblob() { echo "decode('$1', 'hex')"; }
  sql_drop_trigger() { echo "DROP TRIGGER $1 ON $2"; }
else
  ENTRY="CAST(entry AS TEXT)"
  sql_int_field() {
    local at="instr($ENTRY, char(10)||'$1:') + $((${#1} + 4))"
    echo "CASE WHEN $ENTRY LIKE '%'||char(10)||'$1:%' THEN CAST(substr($ENTRY, $at, instr(substr($ENTRY, $at), char(10)) - 1) AS INTEGER) END"
  }
  sql_hex() { echo "hex($1)"; }
  sql_blob() { echo "CAST($1 AS BLOB)"; }
  sql_hexblob() { echo "X'$1'"; }
  sql_drop_trigger() { echo "DROP TRIGGER $1"; }
fi

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
  if [ -n "$PG" ]; then
    # On PostgreSQL, no command may have fallen back to a SQLite file.
    local dir
    for dir in "${DEMO:-}" "${!DB_URLS[@]}"; do
      [ -n "$dir" ] && [ -e "$dir/kruispunt.db" ] &&
        fail "$dir kept its data in PostgreSQL, not in kruispunt.db"
    done
  fi
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
last_event() { db_query "$DEMO" "SELECT $ENTRY FROM audit_event ORDER BY seq DESC LIMIT 1"; }

# institution_cert KBO: curl arguments for that institution's certificate.
institution_cert() {
  echo "--cert $DEMO/pki/institutions/$1.crt --key $DEMO/pki/institutions/$1.key"
}
