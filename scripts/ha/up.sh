#!/usr/bin/env bash
# Brings up, on this machine, kruispunt highly available from real parts:
#   etcd (one member)                  the store of Patroni's leader key
#   two PostgreSQL, each under Patroni  a primary and its synchronous replica
#   HAProxy                            PostgreSQL to the current primary, and
#                                      the kruispunt listeners to ready nodes
#   two `kruispunt serve` nodes        one data directory's keys and PKI
# everything on loopback ports, with its data and logs in DIR:
#   DIR/ha.env       the ports and URLs (sourced by tests/ha and down.sh)
#   DIR/run/*.pid    the processes down.sh stops
#   DIR/log/*.log    every part's log
#   DIR/kp/          the kruispunt data directory (keys, PKI, demo.json)
# usage: scripts/ha/up.sh DIR [KRUISPUNT]   (KRUISPUNT: build/kruispunt)
# As root (CI) PostgreSQL and Patroni run as the postgres user. A template
# for production, not production itself: see the README, "Running highly
# available", for what differs there.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
DIR=${1:?usage: up.sh DIR [KRUISPUNT]}
KP=${2:-$HERE/../../build/kruispunt}
KP=$(cd "$(dirname "$KP")" && pwd)/$(basename "$KP")
# Short timings, for a test: a vanished primary is replaced within TTL s.
TTL=${HA_TTL:-10}
LOOP_WAIT=${HA_LOOP_WAIT:-1}
RETRY_TIMEOUT=${HA_RETRY_TIMEOUT:-3}

for tool in etcd patroni haproxy curl python3; do
  command -v "$tool" >/dev/null || { echo "up.sh: no $tool (scripts/deps.sh installs it)" >&2; exit 1; }
done
[ -x "$KP" ] || { echo "up.sh: no kruispunt at $KP (make build)" >&2; exit 1; }
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$PG_BIN/postgres" ] || { echo "up.sh: no PostgreSQL server" >&2; exit 1; }
[ -e "$DIR/ha.env" ] && { echo "up.sh: $DIR is in use (scripts/ha/down.sh $DIR)" >&2; exit 1; }

mkdir -p "$DIR/run" "$DIR/log"
DIR=$(cd "$DIR" && pwd)

# Fourteen distinct free ports, held together while they are chosen.
read -r ETCD_PORT ETCD_PEER_PORT PG1_PORT PG2_PORT REST1_PORT REST2_PORT \
  PG_FRONT_PORT NET_FRONT_PORT PUB_FRONT_PORT KP1_PUB_PORT KP1_NET_PORT \
  KP1_EID_PORT KP2_PUB_PORT KP2_NET_PORT KP2_EID_PORT < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(15)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')

cat >"$DIR/ha.env" <<EOF
# scripts/ha/up.sh: what runs where
HA_DIR=$DIR
KP=$KP
ETCD_PORT=$ETCD_PORT
PG1_PORT=$PG1_PORT
PG2_PORT=$PG2_PORT
REST1_PORT=$REST1_PORT
REST2_PORT=$REST2_PORT
PG_FRONT_PORT=$PG_FRONT_PORT
DB_URL=postgresql://postgres@127.0.0.1:$PG_FRONT_PORT/kruispunt
NET_URL=https://localhost:$NET_FRONT_PORT
PUB_URL=https://localhost:$PUB_FRONT_PORT
KP1_PUB_PORT=$KP1_PUB_PORT
KP1_NET_PORT=$KP1_NET_PORT
KP2_PUB_PORT=$KP2_PUB_PORT
KP2_NET_PORT=$KP2_NET_PORT
EOF
source "$DIR/ha.env"

# PostgreSQL refuses to run as root: as root, Patroni and the servers it
# starts run as postgres. setpriv (unlike runuser) execs in place, so the
# pid start records is Patroni's own.
AS_PG=()
if [ "$(id -u)" = 0 ]; then
  AS_PG=(setpriv --reuid=postgres --regid=postgres --init-groups --)
  chmod a+x "$DIR"
  "${AS_PG[@]}" test -x "$DIR" || {
    echo "up.sh: the postgres user cannot reach $DIR (a parent's mode)" >&2
    exit 1
  }
fi

# fill TEMPLATE OUT NAME=VALUE...: replace each @NAME@.
fill() {
  local in=$1 out=$2
  shift 2
  python3 - "$in" "$out" "$@" <<'PY'
import sys
text = open(sys.argv[1]).read()
for kv in sys.argv[3:]:
    k, v = kv.split("=", 1)
    text = text.replace("@" + k + "@", v)
import re
left = re.findall(r"@[A-Z0-9_]+@", text)
if left:
    sys.exit("fill: %s left in %s" % (left[0], sys.argv[2]))
open(sys.argv[2], "w").write(text)
PY
}

# start NAME CMD...: run a daemon in a session of its own, log and pid in DIR.
start() {
  local name=$1
  shift
  setsid "$@" >"$DIR/log/$name.log" 2>&1 </dev/null &
  echo $! >"$DIR/run/$name.pid"
}

# wait_until SECONDS WHAT CMD...: poll CMD every 0.2 s.
wait_until() {
  local limit=$(( $1 * 5 )) what=$2 i=0
  shift 2
  until "$@" >/dev/null 2>&1; do
    i=$((i + 1))
    if [ "$i" -gt "$limit" ]; then
      echo "up.sh: $what did not come up; logs in $DIR/log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# --- etcd: one member, its data in DIR/etcd
start etcd etcd --name ha-etcd --data-dir "$DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "ha-etcd=http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster-state new
wait_until 30 etcd curl -fsS "http://127.0.0.1:$ETCD_PORT/health"

# --- PostgreSQL under Patroni: pg1 bootstraps (initdb) and becomes the
# primary; pg2 then clones it (pg_basebackup) and follows as the
# synchronous standby.
for n in 1 2; do
  run=$DIR/pg$n
  mkdir -p "$run"
  rest=REST${n}_PORT pg=PG${n}_PORT
  fill "$HERE/patroni.yml.in" "$run/patroni.yml" NAME=pg$n \
    REST_PORT=${!rest} PG_PORT=${!pg} ETCD_PORT="$ETCD_PORT" \
    DATA_DIR="$run/data" BIN_DIR="$PG_BIN" RUN_DIR="$run" \
    TTL="$TTL" LOOP_WAIT="$LOOP_WAIT" RETRY_TIMEOUT="$RETRY_TIMEOUT"
  [ "$(id -u)" = 0 ] && chown -R postgres: "$run"
  chmod 700 "$run"
done
# From its own directory: the postgres user may not enter the one this
# script was started in (a clone in a root-only directory), and Patroni's
# worker processes start in the working directory.
start_patroni() {
  (cd "$DIR/pg$1" && start "patroni$1" "${AS_PG[@]}" env HOME="$DIR/pg$1" \
    patroni "$DIR/pg$1/patroni.yml")
}
rest_is() { curl -fsS -o /dev/null "http://127.0.0.1:$1/$2"; }
start_patroni 1
wait_until 90 "the primary (pg1)" rest_is "$REST1_PORT" primary
start_patroni 2
wait_until 120 "the synchronous standby (pg2)" rest_is "$REST2_PORT" sync

# --- HAProxy, then the database through it
fill "$HERE/haproxy.cfg.in" "$DIR/haproxy.cfg" DIR="$DIR" \
  PG_FRONT_PORT="$PG_FRONT_PORT" PG1_PORT="$PG1_PORT" PG2_PORT="$PG2_PORT" \
  REST1_PORT="$REST1_PORT" REST2_PORT="$REST2_PORT" \
  NET_FRONT_PORT="$NET_FRONT_PORT" PUB_FRONT_PORT="$PUB_FRONT_PORT" \
  KP1_PUB_PORT="$KP1_PUB_PORT" KP1_NET_PORT="$KP1_NET_PORT" \
  KP2_PUB_PORT="$KP2_PUB_PORT" KP2_NET_PORT="$KP2_NET_PORT"
haproxy -c -q -f "$DIR/haproxy.cfg"
start haproxy haproxy -db -f "$DIR/haproxy.cfg"
psql_front() {
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_FRONT_PORT" -U postgres "$@"
}
# HAProxy starts with every server up and takes a failing one out after
# its checks: wait until it routes to the primary alone.
only_primary() {
  [ "$(python3 "$HERE/hastate.py" "$DIR/run/haproxy.sock" postgresql | tr '\n' ' ')" = "pg1 UP pg2 DOWN " ]
}
wait_until 30 "HAProxy's view of the primary" only_primary
psql_front -d postgres -c 'CREATE DATABASE kruispunt'

# --- kruispunt: the demo seeds the database and makes the keys and PKI,
# then stops; two nodes serve that data directory, each on its own ports.
export KRUISPUNT_STORE_BACKEND=postgresql KRUISPUNT_STORE_URL=$DB_URL
"$KP" demo --data "$DIR/kp" --port 0 >"$DIR/log/seed.log" 2>&1 &
seed=$!
wait_until 120 "the demo's seeding" test -s "$DIR/kp/demo.json"
kill -TERM "$seed"
wait "$seed" || { echo "up.sh: the seeding demo failed (log/seed.log)" >&2; exit 1; }
# The demo's helpers (provider, mail and SMS sinks, witness) stopped with
# it: the nodes run without them.
for n in 1 2; do
  pub=KP${n}_PUB_PORT net=KP${n}_NET_PORT eid=KP${n}_EID_PORT
  start "kp$n" env KRUISPUNT_PUBLIC_PORT=${!pub} KRUISPUNT_NETWORK_PORT=${!net} \
    KRUISPUNT_EID_PORT=${!eid} KRUISPUNT_AUDIT_WITNESSES= \
    KRUISPUNT_NOTIFY_SMTP_URL= KRUISPUNT_NOTIFY_SMS_URL= \
    "$KP" serve --config "$DIR/kp/kruispunt.ini"
done
ready() { curl -fsS --cacert "$DIR/kp/pki/ca.pem" "https://localhost:$1/readyz"; }
wait_until 60 "kruispunt node 1" ready "$KP1_PUB_PORT"
wait_until 60 "kruispunt node 2" ready "$KP2_PUB_PORT"
wait_until 30 "kruispunt through HAProxy" ready "$PUB_FRONT_PORT"
echo "up: $DIR (network $NET_URL, public $PUB_URL, database $DB_URL)"
