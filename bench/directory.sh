#!/usr/bin/env bash
# The reference directory's benchmark (bench/directory_bench.c): 10 million
# dossiers (2 million persons x 5) loaded, measured, and queried.
#   bench/directory.sh [BUILD_DIR]    PERSONS=2000000 LOOKUPS=1000000
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$here/var"
work=$(mktemp -d "$here/var/bench-directory.XXXXXX")
trap 'rm -rf "$work"' EXIT
"$build/directory_bench" "$work" "${PERSONS:-2000000}" "${LOOKUPS:-1000000}"
