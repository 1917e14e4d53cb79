#!/usr/bin/env bash
# A scratch PostgreSQL cluster for the tests, from Debian's postgresql
# package and nothing of the machine's own clusters:
#   pg.sh start DIR   initdb into a new directory under /tmp (named in
#                     DIR/cluster: the postgres user cannot enter a build
#                     tree inside a root-only directory), start on a free
#                     port of 127.0.0.1, create database kp_test, and write
#                     its URL to DIR/url (also printed)
#   pg.sh start DIR durable   the same with fsync and synchronous commit
#                     on, as in production (what bench/ measures)
#   pg.sh stop DIR    stop it and remove it and DIR
# PG_OPTIONS adds server options to start ("-c name=value ...": bench/
# loads pg_stat_statements with it).
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# postgres user (runuser). Trust authentication on loopback, fsync off: a
# throwaway cluster for tests, never a template for production.
set -euo pipefail

cmd=${1:?start|stop}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "pg.sh: no PostgreSQL server (scripts/deps.sh installs postgresql)" >&2
  exit 1
fi

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
# The postgres user's commands run from a directory it may enter.
cd /tmp

case $cmd in
start)
  speed="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  [ "${3:-}" = durable ] && speed=""
  speed="$speed ${PG_OPTIONS:-}"
  mkdir -p "$dir"
  pg=$(mktemp -d /tmp/kp-pgdata.XXXXXX)
  echo "$pg" >"$dir/cluster"
  [ "$(id -u)" = 0 ] && chown postgres "$pg"
  as_pg "$bin/initdb" -D "$pg/data" -U postgres -A trust -E UTF8 \
    --no-sync >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg "$bin/pg_ctl" -D "$pg/data" -l "$pg/server.log" -w -t 60 \
    -o "-p $port -k $pg -c listen_addresses=127.0.0.1 $speed \
        -c max_connections=400 -c shared_buffers=128MB" start >/dev/null ||
    { cat "$pg/server.log" >&2; exit 1; }
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres kp_test
  echo "postgresql://postgres@127.0.0.1:$port/kp_test" >"$dir/url"
  cat "$dir/url"
  ;;
stop)
  pg=$(cat "$dir/cluster" 2>/dev/null || true)
  if [ -n "$pg" ] && [ -d "$pg/data" ]; then
    as_pg "$bin/pg_ctl" -D "$pg/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  case $pg in /tmp/kp-pgdata.*) rm -rf "$pg" ;; esac
  rm -rf "$dir"
  ;;
*)
  echo "pg.sh: start|stop DIR" >&2
  exit 2
  ;;
esac
