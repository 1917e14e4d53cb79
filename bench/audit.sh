#!/usr/bin/env bash
# The audit log's benchmark (bench/audit_bench.c) on the project's disk:
# appends/s with 64 durable writers against raw SQLite inserts, p50/p99
# latency, bytes per event, and `audit verify` over VERIFY_EVENTS events
# (default 10 million; about three minutes in all) against a read+hash pass.
#
#   bench/audit.sh [BUILD_DIR]    WRITERS=64 RUN_SECONDS=10 VERIFY_EVENTS=10000000
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$here/var"
work=$(mktemp -d "$here/var/bench-audit.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/audit_bench" "$work" "${WRITERS:-64}" "${RUN_SECONDS:-10}" "${VERIFY_EVENTS:-10000000}"
