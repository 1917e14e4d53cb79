#!/usr/bin/env bash
# Authentication: (1) bench/auth_bench.c: a login's cost against one bare
# Argon2id verification; (2) session validation: wrk against an
# authenticated endpoint (GET /api/v1/auth/session, Bearer token) and
# against /healthz, same daemon, plain HTTP on loopback, same load.
#   bench/auth.sh [BUILD_DIR]    DURATION=10 CONNECTIONS=64
#   PG=1 also measures both on PostgreSQL: the demo exported into a scratch
#   cluster (tests/support/pg.sh, fsync and synchronous commit on).
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
duration=${DURATION:-10}
conns=${CONNECTIONS:-64}
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$here/var"
work=$(mktemp -d "$here/var/bench-auth.XXXXXX")
pids=()
pgdir=
source "$here/bench/pg_node.sh"
cleanup() {
  for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  [ -z "$pgdir" ] || bash "$here/tests/support/pg.sh" stop "$pgdir"
  rm -rf "$work"
}
trap cleanup EXIT

"$build/auth_bench" "$work" 40

# A data directory with accounts: the demo seeds one, then stops.
"$build/kruispunt" demo --data "$work/demo" --port 0 >/dev/null 2>"$work/demo.log" &
demo=$!
for _ in $(seq 300); do [ -s "$work/demo/demo.json" ] && break; sleep 0.1; done
kill -TERM "$demo"; wait "$demo" || true
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/bench.ini" <<INI
[server]
data_dir = $work/demo
anonymous_posts_per_second = 1000000
[public]
port = $port
tls = false
[network]
enabled = false
# Login throughput is measured below: lift the per-username and per-address
# limits that would otherwise (rightly) answer 429.
[auth]
logins_per_minute = 100000
INI
"$build/kruispunt" serve --config "$work/bench.ini" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 100); do grep -q '"listening"' "$work/serve.log" && break; sleep 0.1; done
url=http://127.0.0.1:$port
user=$(python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["persons"][0]; print(p["username"], p["password"])' "$work/demo/demo.json")
token=$(curl -sf -H 'Content-Type: application/json' \
  -d "{\"username\":\"${user% *}\",\"password\":\"${user#* }\"}" "$url/api/v1/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')

rps() {
  wrk -t2 -c"$conns" -d"${duration}s" "$@" | python3 -c '
import re, sys
t = sys.stdin.read()
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if bad: sys.exit("non-2xx responses: " + bad.group(1))
print(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))'
}
health=$(rps "$url/healthz")
session=$(rps -H "Authorization: Bearer $token" "$url/api/v1/auth/session")
echo "baseline  GET /healthz                                 ${health%.*} req/s"
echo "auth      GET /api/v1/auth/session (Bearer token)      ${session%.*} req/s   ratio $(python3 -c "print(f'{$session/$health:.2f}')")   (target >= 0.50)"

# --- logins over HTTP, and the peer: Debian's glewlwyd (a C SSO server),
# same machine, same load generator, same concurrency. wrk posts the login.
post_lua() {
  cat > "$work/$1.lua" <<LUA
wrk.method = "POST"
wrk.body = '$2'
wrk.headers["Content-Type"] = "application/json"
LUA
}
lconns=${LOGIN_CONNECTIONS:-8}
logins() { CONNS=$lconns; wrk -t2 -c"$lconns" -d"${duration}s" -s "$1" "$2" | python3 -c '
import re, sys
t = sys.stdin.read()
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if bad: sys.exit("non-2xx responses: " + bad.group(1))
print(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))'; }
post_lua kp "{\"username\":\"${user% *}\",\"password\":\"${user#* }\"}"
kp_logins=$(logins "$work/kp.lua" "$url/api/v1/auth/login")
echo "auth      POST /api/v1/auth/login (Argon2id 19 MiB, 2 passes)  ${kp_logins} logins/s  (wrk -c$lconns)"

if [ "${PG:-0}" = 1 ]; then
  pg_node "$build/kruispunt" "$work/demo"
  token=$(curl -sf -H 'Content-Type: application/json' \
    -d "{\"username\":\"${user% *}\",\"password\":\"${user#* }\"}" "$url/api/v1/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
  pg_health=$(rps "$url/healthz")
  pg_session=$(rps -H "Authorization: Bearer $token" "$url/api/v1/auth/session")
  pg_logins=$(logins "$work/kp.lua" "$url/api/v1/auth/login")
  echo "auth-pg   GET /api/v1/auth/session on PostgreSQL          ${pg_session%.*} req/s   ratio $(python3 -c "print(f'{$pg_session/$pg_health:.2f}')") to its /healthz (${pg_health%.*})"
  echo "auth-pg   POST /api/v1/auth/login on PostgreSQL           ${pg_logins} logins/s  (wrk -c$lconns)"
  kill "$(pgrep -f "serve --config $work/bench-pg.ini")"; sleep 1
  bash "$here/tests/support/pg.sh" stop "$pgdir"
  pgdir=
fi

if ! command -v glewlwyd >/dev/null && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq glewlwyd >/dev/null 2>&1 || true
fi
if ! command -v glewlwyd >/dev/null; then
  echo "peer      glewlwyd not installed (apt-get install glewlwyd): skipped"
  exit 0
fi
# Headless: its packaged SQLite schema seeds an administrator (admin /
# password) in the database user backend with the password scheme; the
# login API (POST /api/auth/) checks that password and opens a session.
gport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sqlite3 "$work/glewlwyd.db" < /usr/share/dbconfig-common/data/glewlwyd/install/sqlite3
sed -e "s|^port=.*|port=$gport|" -e 's|^log_mode=.*|log_mode="console"|' \
    -e 's|^log_level=.*|log_level="ERROR"|' \
    -e "s|^@include.*|database = { type = \"sqlite3\"\n path = \"$work/glewlwyd.db\" };|" \
    /etc/glewlwyd/glewlwyd.conf > "$work/glewlwyd.conf"
glewlwyd -c "$work/glewlwyd.conf" >"$work/glewlwyd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf -o /dev/null -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"password"}' "http://127.0.0.1:$gport/api/auth/" && break; sleep 0.1; done
post_lua glw '{"username":"admin","password":"password"}'
glw_logins=$(logins "$work/glw.lua" "http://127.0.0.1:$gport/api/auth/")
echo "peer      glewlwyd 2.7.5 POST /api/auth/ (its PBKDF2 password digest)  ${glw_logins} logins/s  (wrk -c$lconns)"
