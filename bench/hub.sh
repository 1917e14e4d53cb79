#!/usr/bin/env bash
# The hub's benchmark: POST /api/v1/exchange for identification data of
# random persons of a demo-scale network (`kruispunt gen`: 1 million
# persons, 5 million dossiers), decision + directory + in-process source +
# durable audit, against the bare libmicrohttpd hello over the same
# transport; then a 1-million-line batch.
#
# wrk cannot present client certificates, so kruispunt's network listener
# runs behind_proxy on loopback (plain HTTP), and every request carries the
# institution's certificate fingerprint in the proxy header, exactly as a
# TLS-terminating proxy would forward it (tests/e2e/test_proxy.sh).
#
#   bench/hub.sh [BUILD_DIR]   PERSONS=1000000 DURATION=10 CONNECTIONS=64
#                              BATCH_LINES=1000000 THREADS=0 INDEX_BATCH=1000
#   PERF=FILE records a profile of the server, VMSTAT=FILE its vmstat
#   (with PG=1, FILE.pg of the node on PostgreSQL, and FILE.pg-all of the
#   whole machine, PostgreSQL's backends included); PGSTAT=FILE writes the
#   PostgreSQL run's statements (pg_stat_statements: calls per answered
#   exchange, time).
#   PG=1 also measures the hub on PostgreSQL, side by side: a scratch
#   cluster (tests/support/pg.sh, fsync and synchronous commit on) that the
#   same network is exported into (kruispunt export), one node.
#   PG_BEFORE=BUILD_DIR (with PG=1) measures that build's kruispunt on the
#   same cluster first: a change's before and after in one run.
#   HA=1 also measures two nodes on a Patroni pair (scripts/ha/up.sh:
#   etcd, a primary and its synchronous standby, HAProxy): the same network
#   exported into the pair, the nodes serving it behind_proxy, wrk through
#   HAProxy's network front. Torn down (scripts/ha/down.sh) when done, and
#   on any failure.
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
persons=${PERSONS:-1000000}
duration=${DURATION:-10}
conns=${CONNECTIONS:-64}
batch_lines=${BATCH_LINES:-1000000}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$here/var"
work=$(mktemp -d "$here/var/bench-hub.XXXXXX")
pids=()
pgdir=
hadir=
source "$here/bench/pg_node.sh"
cleanup() {
  # The pair first: its nodes are this shell's children too.
  [ -z "$hadir" ] || bash "$here/scripts/ha/down.sh" "$hadir" --purge >/dev/null
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  [ -z "$pgdir" ] || bash "$here/tests/support/pg.sh" stop "$pgdir"
  rm -rf "$work"
}
trap cleanup EXIT
kp=$build/kruispunt
data=$work/data
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# --- the network: gen data, identification data, one deliberation per
# capacity, and a certificate for each health insurance institution.
"$kp" init --data "$data" >/dev/null
"$kp" gen --data "$data" --persons "$persons" --dossiers-per-person 5
"$kp" directory data-type --data "$data" --code identification --source national_register --label identification >/dev/null
for c in 001 002 003 004 005; do
  "$kp" authz add --data "$data" --reference "BENCH/$c" --actor-type health_insurance \
    --capacity "$c" --data-type identification --purpose benchmark --from 2020-01-01 >/dev/null
done
db=$data/kruispunt.db
# The network CA the listener trusts (the proxy verified the chain).
mkdir -p "$data/pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/O=bench/CN=bench network CA" -keyout "$work/ca.key" -out "$data/pki/ca.pem" 2>/dev/null
: > "$work/fingerprints"
for kbo in $(sqlite3 "$db" "SELECT kbo FROM institution WHERE actor_type = 'health_insurance' ORDER BY id"); do
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/O=bench/CN=$kbo" -keyout "$work/$kbo.key" -out "$work/$kbo.csr" 2>/dev/null
  openssl x509 -req -in "$work/$kbo.csr" -CA "$data/pki/ca.pem" -CAkey "$work/ca.key" \
    -CAcreateserial -days 30 -out "$work/$kbo.crt" 2>/dev/null
  "$kp" org cert --data "$data" --kbo "$kbo" --cert "$work/$kbo.crt" >/dev/null
  fp=$(openssl x509 -in "$work/$kbo.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d :)
  echo "$kbo $fp" >> "$work/fingerprints"
done
# Requests the network would answer: (institution, person, capacity) of
# dossiers open today, sampled at random.
today=$(python3 -c 'import datetime; print((datetime.date.today()-datetime.date(1970,1,1)).days)')
sqlite3 -separator ' ' "$db" "SELECT i.kbo, printf('%011d', d.insz), printf('%03d', d.capacity)
  FROM dossier d JOIN institution i ON i.id = d.institution_id
  WHERE i.actor_type = 'health_insurance' AND d.start_day <= $today AND d.end_day >= $today
  ORDER BY random() LIMIT 100000" > "$work/sample"
python3 - "$work" <<'PY'
import sys
w = sys.argv[1]
fp = dict(l.split() for l in open(f"{w}/fingerprints"))
with open(f"{w}/requests", "w") as out:
    for l in open(f"{w}/sample"):
        kbo, insz, cap = l.split()
        out.write(f"{fp[kbo]} {insz} {cap}\n")
PY
cat > "$work/hub.lua" <<LUA
-- Each thread reads the sampled requests, then picks one at random.
local reqs = {}
for line in io.lines("$work/requests") do
  local fp, insz, cap = line:match("(%S+) (%S+) (%S+)")
  reqs[#reqs + 1] = {fp, '{"data_type":"identification","subject":"' .. insz ..
    '","capacity":"' .. cap .. '","purpose":"benchmark"}'}
end
function setup(thread) thread:set("seed", math.random(1, 1000000)) end
function init(args) math.randomseed(seed) end
request = function()
  local r = reqs[math.random(1, #reqs)]
  return wrk.format("POST", "/api/v1/exchange",
    {["Content-Type"] = "application/json", ["X-Client-Cert"] = r[1]}, r[2])
end
LUA
echo "network: $(sqlite3 "$db" 'SELECT count(*) FROM person') persons, $(sqlite3 "$db" 'SELECT count(*) FROM dossier') dossiers; $(wc -l < "$work/sample") sampled requests"

port=$(free_port)
# Each answer waits for its audit event to be durable, with its connection
# suspended (no thread waits): one HTTP thread per core (threads = 0).
cat > "$work/bench.ini" <<INI
[server]
data_dir = $data
threads = ${THREADS:-0}
[audit]
index_batch = ${INDEX_BATCH:-1000}
[public]
enabled = false
[network]
port = $port
tls = false
behind_proxy = true
proxy_addresses = 127.0.0.1
proxy_cert_header = X-Client-Cert
INI
"$kp" serve --config "$work/bench.ini" 2>"$work/serve.log" &
pids+=($!)
hello_port=$(free_port)
"$build/mhd_hello" "$hello_port" &
pids+=($!)
for _ in $(seq 100); do grep -q '"listening"' "$work/serve.log" && break; sleep 0.1; done
url=http://127.0.0.1:$port
first=$(head -1 "$work/sample")
read -r k0 s0 c0 <<< "$first"
fp0=$(grep "^$k0 " "$work/fingerprints" | cut -d' ' -f2)
code=$(curl -s -o "$work/first.json" -w '%{http_code}' -H "X-Client-Cert: $fp0" \
  -H 'Content-Type: application/json' \
  -d "{\"data_type\":\"identification\",\"subject\":\"$s0\",\"capacity\":\"$c0\",\"purpose\":\"benchmark\"}" \
  "$url/api/v1/exchange")
if [ "$code" != 200 ]; then
  echo "the hub refused a sample request ($code):"; cat "$work/first.json"; echo; exit 1
fi

# run ARGS...: prints "requests_per_second p50_ms p99_ms requests"
run() {
  wrk -t2 -c"$conns" -d"${duration}s" --latency "$@" > "$work/wrk.out"
  python3 - "$work/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(p):
    m = re.search(p + r"%\s+([\d.]+)(us|ms|s)", t)
    return float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
n = int(re.search(r"(\d+) requests in", t).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if bad: sys.exit("non-2xx responses: " + bad.group(1))
print(f"{rps:.0f} {ms('50'):.2f} {ms('99'):.2f} {n}")
PY
}
events() { sqlite3 "$db" "SELECT count(*) FROM audit_event"; }
read -r hello_rps hello_p50 hello_p99 _ < <(run -s "$work/hub.lua" "http://127.0.0.1:$hello_port/api/v1/exchange")
e0=$(events)
a0=$(grep -c '"route":"/api/v1/exchange","status":200' "$work/serve.log" || true)
if [ -n "${VMSTAT:-}" ]; then (sleep 2; vmstat 1 5 > "$VMSTAT") & fi
if [ -n "${PERF:-}" ]; then
  (sleep 2; perf record -F 299 --call-graph dwarf,8192 -p "$(pgrep -f "serve --config $work/bench.ini")" -o "$PERF" -- sleep 3 >/dev/null 2>&1) &
fi
read -r hub_rps hub_p50 hub_p99 hub_n < <(run -s "$work/hub.lua" "$url/api/v1/exchange")
sleep 2 # the access log is written out every quarter second
e1=$(events)
answered=$(( $(grep -c '"route":"/api/v1/exchange","status":200' "$work/serve.log" || true) - a0 ))
echo "baseline  mhd_hello POST (same transport)      ${hello_rps} req/s  p50 ${hello_p50} ms  p99 ${hello_p99} ms"
echo "hub       POST /api/v1/exchange                ${hub_rps} req/s  p50 ${hub_p50} ms  p99 ${hub_p99} ms"
echo "ratio     $(python3 -c "print(f'{$hub_rps/$hello_rps:.2f}')")   (target >= 0.33; p99 target < 20 ms)"
new=$((e1 - e0))
ok=NO; [ "$new" -ge "$answered" ] && [ "$new" -le $((answered + conns)) ] && ok=yes
echo "audit     $new new events for $answered answers in the access log and ${hub_n} counted by wrk (an event for every answer, the rest in flight when wrk stopped: $ok)"

# --- the same on PostgreSQL, one node
if [ "${PG:-0}" = 1 ]; then
  pg_node "$kp" "$data"
  pe0=$(psql -X -At "$pgurl" -c "SELECT count(*) FROM audit_event")
  if [ -n "${PG_BEFORE:-}" ]; then
    kill "$(pgrep -f "serve --config $work/bench-pg.ini")"; sleep 1
    "$(cd "$PG_BEFORE" && pwd)/kruispunt" serve --config "$work/bench-pg.ini" 2>>"$work/serve-pg.log" &
    before=$!
    for _ in $(seq 100); do curl -s -o /dev/null "$url/healthz" && break; sleep 0.1; done
    read -r pb_rps pb_p50 pb_p99 _ < <(run -s "$work/hub.lua" "$url/api/v1/exchange")
    kill "$before"; wait "$before" 2>/dev/null || true
    "$kp" serve --config "$work/bench-pg.ini" 2>>"$work/serve-pg.log" &
    pids+=($!)
    for _ in $(seq 100); do curl -s -o /dev/null "$url/healthz" && break; sleep 0.1; done
    pe0=$(psql -X -At "$pgurl" -c "SELECT count(*) FROM audit_event")
  fi
  pg_stats_reset
  if [ -n "${PERF:-}" ]; then
    (sleep 2; perf record -F 299 --call-graph dwarf,8192 -p "$(pgrep -f "serve --config $work/bench-pg.ini")" -o "$PERF.pg" -- sleep 3 >/dev/null 2>&1
     perf record -F 299 -g -a -o "$PERF.pg-all" -- sleep 3 >/dev/null 2>&1) &
  fi
  read -r pg_rps pg_p50 pg_p99 pg_n < <(run -s "$work/hub.lua" "$url/api/v1/exchange")
  sleep 2
  pe1=$(psql -X -At "$pgurl" -c "SELECT count(*) FROM audit_event")
  [ -z "${PGSTAT:-}" ] || pg_stats_dump "$PGSTAT" "$((pe1 - pe0))"
  echo "hub-pg    POST /api/v1/exchange on PostgreSQL  ${pg_rps} req/s  p50 ${pg_p50} ms  p99 ${pg_p99} ms  ($((pe1 - pe0)) events for ${pg_n} answers)"
  echo "ratio-pg  $(python3 -c "print(f'{$pg_rps/$hello_rps:.2f}')") of the baseline, $(python3 -c "print(f'{$pg_rps/$hub_rps:.2f}')") of SQLite's"
  if [ -n "${PG_BEFORE:-}" ]; then
    echo "before    POST /api/v1/exchange, $PG_BEFORE  ${pb_rps} req/s  p50 ${pb_p50} ms  p99 ${pb_p99} ms"
    echo "ratio     after/before $(python3 -c "print(f'{$pg_rps/$pb_rps:.2f}')") (p99 $(python3 -c "print(f'{$pg_p99/$pb_p99:.2f}')"))"
  fi
  kill "$(pgrep -f "serve --config $work/bench-pg.ini")"; sleep 1
  bash "$here/tests/support/pg.sh" stop "$pgdir"
  pgdir=
  "$kp" serve --config "$work/bench.ini" 2>>"$work/serve.log" &
  pids+=($!)
  for _ in $(seq 100); do curl -s -o /dev/null "$url/healthz" && break; sleep 0.1; done
fi

# --- two nodes on a Patroni pair, through HAProxy
if [ "${HA:-0}" = 1 ]; then
  source "$here/bench/ha_nodes.sh"
  ha_nodes "$kp" "$data"
  he0=$(psql -X -At "$DB_URL" -c "SELECT count(*) FROM audit_event")
  read -r ha_rps ha_p50 ha_p99 ha_n < <(run -s "$work/hub.lua" "$NET_FRONT/api/v1/exchange")
  sleep 2
  he1=$(psql -X -At "$DB_URL" -c "SELECT count(*) FROM audit_event")
  bash "$here/scripts/ha/down.sh" "$hadir" --purge >/dev/null
  hadir=
  echo "hub-ha    two nodes, Patroni pair, HAProxy      ${ha_rps} req/s  p50 ${ha_p50} ms  p99 ${ha_p99} ms  ($((he1 - he0)) events for ${ha_n} answers)"
  echo "ratio-ha  $(python3 -c "print(f'{$ha_rps/$hub_rps:.2f}')") of SQLite's$( [ -z "${pg_rps:-}" ] || python3 -c "print(f', {$ha_rps/$pg_rps:.2f} of PostgreSQL one node')")"
fi

# --- a batch of batch_lines lines from the first institution's sample
python3 - "$work" "$k0" "$batch_lines" <<'PY'
import sys, itertools
w, kbo, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = [l.split() for l in open(f"{w}/sample") if l.startswith(kbo + " ")]
with open(f"{w}/batch.ndjson", "w") as out:
    for _, (k, insz, cap) in zip(range(n), itertools.cycle(rows)):
        out.write('{"data_type":"identification","subject":"%s","capacity":"%s","purpose":"benchmark"}\n' % (insz, cap))
PY
start=$(date +%s.%N)
job=$(curl -sf -H "X-Client-Cert: $fp0" -H 'Content-Type: application/x-ndjson' \
  --data-binary "@$work/batch.ndjson" "$url/api/v1/exchange/batch" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["job"])')
while :; do
  st=$(curl -sf -H "X-Client-Cert: $fp0" "$url/api/v1/exchange/batch/$job")
  case "$st" in *'"status":"done"'*|*'"status":"failed"'*) break;; esac
  sleep 0.5
done
end=$(date +%s.%N)
echo "batch     $(echo "$st" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(j["done"], "lines,", j["granted"], "granted")') in $(python3 -c "print(f'{$end-$start:.1f}')") s: $(python3 -c "print(f'{$batch_lines/($end-$start):.0f}')") exchanges/s (upload included)"
