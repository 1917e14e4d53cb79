# Sourced by bench/hub.sh and bench/auth.sh (PG=1): the daemon that runs
# on $work/bench.ini moved onto PostgreSQL. pg_node KRUISPUNT DATA starts
# a scratch cluster with fsync and synchronous commit on
# (tests/support/pg.sh ... durable), exports DATA into it (kruispunt
# export), stops the SQLite daemon and serves $work/bench-pg.ini instead;
# sets pgdir (the caller's cleanup stops it) and pgurl, and adds the new
# daemon to pids.
pg_node() {
  local kp=$1 data=$2
  pgdir=$(mktemp -d /tmp/kp-pg.XXXXXX)
  bash "$here/tests/support/pg.sh" start "$pgdir" durable >/dev/null
  pgurl=$(sed 's#/kp_test$#/kp_bench#' "$pgdir/url")
  psql -X -q "$(cat "$pgdir/url")" -c "CREATE DATABASE kp_bench"
  kill "$(pgrep -f "serve --config $work/bench.ini")"; sleep 1
  "$kp" export --data "$data" --to postgresql "$pgurl" | head -1
  { cat "$work/bench.ini"; printf '[store]\nbackend = postgresql\nurl = %s\n' "$pgurl"; } > "$work/bench-pg.ini"
  "$kp" serve --config "$work/bench-pg.ini" 2>"$work/serve-pg.log" &
  pids+=($!)
  for _ in $(seq 100); do grep -q '"listening"' "$work/serve-pg.log" && break; sleep 0.1; done
}
