#!/usr/bin/env bash
# Loading the registers: a register file of PERSONS persons from the
# deterministic generator (`kruispunt gen --ndjson`), loaded into a fresh
# data directory with `kruispunt import registry --initial`: every line
# parsed and checked, one audit event per person. Baseline, in the same
# run: the same persons loaded by `kruispunt gen` itself (no file, no
# parsing, one audit event per 50,000 persons).
#   bench/import.sh [BUILD_DIR]    PERSONS=1000000
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
kp=$build/kruispunt
persons=${PERSONS:-1000000}
mkdir -p "$here/var"
work=$(mktemp -d "$here/var/bench-import.XXXXXX")
trap 'rm -rf "$work"' EXIT

seconds() { # COMMAND...: its wall-clock seconds, its output on stderr
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >&2
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

"$kp" gen --ndjson "$work/persons.ndjson" --persons "$persons" >&2
"$kp" init --data "$work/base" >/dev/null 2>&1
"$kp" init --data "$work/load" >/dev/null 2>&1
base=$(seconds "$kp" gen --data "$work/base" --persons "$persons" --dossiers-per-person 0)
load=$(seconds "$kp" import registry --data "$work/load" --from "$work/persons.ndjson" --initial)
events=$(sqlite3 "$work/load/kruispunt.db" "SELECT count(*) FROM audit_event")
printf 'persons                           %d (%d audit events)\n' "$persons" "$events"
printf 'kruispunt gen (baseline)          %6.1f s  %9.0f persons/s\n' "$base" "$(echo "$persons / $base" | bc -l)"
printf 'import registry --initial         %6.1f s  %9.0f persons/s\n' "$load" "$(echo "$persons / $load" | bc -l)"
printf 'ratio (import / baseline time)    %6.2f    target: < 60 s for 1,000,000\n' "$(echo "$load / $base" | bc -l)"
