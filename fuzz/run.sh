#!/usr/bin/env bash
# Runs every fuzz target for N seconds from its checked-in corpus. New
# interesting inputs go to a scratch directory; crashes land in
# fuzz/artifacts/ and fail the run.
set -euo pipefail
build=${1:-build-fuzz}
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$here/artifacts"
for t in ids json router audit ndjson import paths backup; do
  scratch=$(mktemp -d)
  echo "fuzz: $t for ${seconds}s"
  "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -max_len=4096 \
    -artifact_prefix="$here/artifacts/$t-" -print_final_stats=1 \
    "$scratch" "$here/corpus/$t" 2>&1 | tail -n 12
  rm -rf "$scratch"
done
echo "fuzz: all targets ran clean"
