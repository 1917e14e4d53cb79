# Sourced by bench/hub.sh and bench/auth.sh (PG=1): the daemon that runs
# on $work/bench.ini moved onto PostgreSQL. pg_node KRUISPUNT DATA starts
# a scratch cluster with fsync and synchronous commit on
# (tests/support/pg.sh ... durable), exports DATA into it (kruispunt
# export), stops the SQLite daemon and serves $work/bench-pg.ini instead;
# sets pgdir (the caller's cleanup stops it) and pgurl, and adds the new
# daemon to pids. With PGSTAT set, the cluster loads pg_stat_statements
# (pg_stats_reset and pg_stats_dump FILE below).
pg_node() {
  local kp=$1 data=$2 opts=
  [ -z "${PGSTAT:-}" ] || opts="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"
  pgdir=$(mktemp -d /tmp/kp-pg.XXXXXX)
  PG_OPTIONS=$opts bash "$here/tests/support/pg.sh" start "$pgdir" durable >/dev/null
  pgurl=$(sed 's#/kp_test$#/kp_bench#' "$pgdir/url")
  psql -X -q "$(cat "$pgdir/url")" -c "CREATE DATABASE kp_bench"
  kill "$(pgrep -f "serve --config $work/bench.ini")"; sleep 1
  "$kp" export --data "$data" --to postgresql "$pgurl" | head -1
  { cat "$work/bench.ini"; printf '[store]\nbackend = postgresql\nurl = %s\n' "$pgurl"; } > "$work/bench-pg.ini"
  "$kp" serve --config "$work/bench-pg.ini" 2>"$work/serve-pg.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q '"listening"' "$work/serve-pg.log" && break; sleep 0.1; done
}

# The statements of a measured run: pg_stats_reset before it, then
# pg_stats_dump FILE ANSWERS writes calls per answer and time per
# statement, most time first (PGSTAT only).
pg_stats_reset() {
  [ -n "${PGSTAT:-}" ] || return 0
  psql -X -q "$pgurl" -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
    -c "SELECT pg_stat_statements_reset()" >/dev/null
}
pg_stats_dump() {
  [ -n "${PGSTAT:-}" ] || return 0
  psql -X "$pgurl" -c "SELECT calls, round(calls::numeric / $2, 2) AS per_answer,
      round(total_exec_time::numeric, 0) AS total_ms, round(mean_exec_time::numeric, 3) AS mean_ms,
      left(regexp_replace(query, '\s+', ' ', 'g'), 90) AS query
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
    ORDER BY total_exec_time DESC LIMIT 40" >"$1"
  psql -X -At "$pgurl" -c "SELECT 'statements per answer: ' || round(sum(calls)::numeric / $2, 2)
    FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())" >>"$1"
}
