# Sourced by bench/hub.sh (HA=1). ha_nodes KRUISPUNT DATA brings up
# scripts/ha (etcd, two PostgreSQL under Patroni with synchronous
# replication, HAProxy), puts DATA's network in the pair's database in
# place of the demo that up.sh seeds, and serves it from two nodes on the
# ports up.sh gave them: the network listener behind_proxy in plain HTTP
# (wrk presents no client certificate; HAProxy passes TCP through), the
# public one in TLS for HAProxy's readiness checks. Sets hadir (the
# caller's cleanup runs down.sh on it) and NET_FRONT, the network front's
# URL; sources ha.env.
ha_nodes() {
  local kp=$1 data=$2 n pub net
  hadir=$(mktemp -d /tmp/kp-ha.XXXXXX)
  bash "$here/scripts/ha/up.sh" "$hadir" "$kp" >"$work/ha-up.log" 2>&1 ||
    { cat "$work/ha-up.log" >&2; return 1; }
  source "$hadir/ha.env"
  for n in 1 2; do
    kill "$(cat "$hadir/run/kp$n.pid")" 2>/dev/null || true
  done
  for n in 1 2; do
    while kill -0 "$(cat "$hadir/run/kp$n.pid")" 2>/dev/null; do sleep 0.2; done
  done
  psql -X -q -h 127.0.0.1 -p "$PG_FRONT_PORT" -U postgres -d postgres \
    -c 'DROP DATABASE kruispunt WITH (FORCE)' -c 'CREATE DATABASE kruispunt'
  "$kp" export --data "$data" --to postgresql "$DB_URL" | head -1
  cp "$hadir/kp/pki/server.crt" "$hadir/kp/pki/server.key" "$data/pki/"
  for n in 1 2; do
    pub=KP${n}_PUB_PORT net=KP${n}_NET_PORT
    cat >"$work/bench-ha$n.ini" <<INI
[server]
data_dir = $data
threads = ${THREADS:-0}
[audit]
index_batch = ${INDEX_BATCH:-1000}
[public]
port = ${!pub}
[network]
port = ${!net}
tls = false
behind_proxy = true
proxy_addresses = 127.0.0.1
proxy_cert_header = X-Client-Cert
[store]
backend = postgresql
url = $DB_URL
INI
    setsid "$kp" serve --config "$work/bench-ha$n.ini" >"$hadir/log/kp$n.log" 2>&1 </dev/null &
    echo $! >"$hadir/run/kp$n.pid"
  done
  NET_FRONT=http://127.0.0.1:${NET_URL##*:}
  for _ in $(seq 300); do
    [ "$(python3 "$here/scripts/ha/hastate.py" "$hadir/run/haproxy.sock" kruispunt_network | tr '\n' ' ')" = "kp1 UP kp2 UP " ] && return 0
    sleep 0.2
  done
  echo "ha_nodes: the nodes did not come up behind HAProxy (logs in $hadir/log)" >&2
  return 1
}
