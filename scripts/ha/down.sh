#!/usr/bin/env bash
# Stops what scripts/ha/up.sh DIR started (by the pids it recorded, the
# kruispunt nodes first, etcd last) and leaves DIR, logs included, for
# inspection; `down.sh DIR --purge` removes it too.
set -uo pipefail
DIR=${1:?usage: down.sh DIR [--purge]}
[ -d "$DIR/run" ] || { echo "down.sh: nothing runs from $DIR" >&2; exit 0; }

# stop NAME: SIGTERM, up to 15 s, then SIGKILL.
stop() {
  local f=$DIR/run/$1.pid pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if kill -TERM "$pid" 2>/dev/null; then
    for _ in $(seq 75); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
# A PostgreSQL whose Patroni was killed (the failover test) outlives it.
stop_postmaster() {
  local f=$DIR/pg$1/data/postmaster.pid pid
  [ -s "$f" ] || return 0
  pid=$(head -1 "$f")
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ] || return 0
  kill -QUIT "$pid" 2>/dev/null || true
}
stop kp1
stop kp2
stop haproxy
stop patroni1
stop patroni2
stop_postmaster 1
stop_postmaster 2
stop etcd
rm -f "$DIR/ha.env"
[ "${2:-}" = --purge ] && rm -rf "$DIR"
echo "down: $DIR"
