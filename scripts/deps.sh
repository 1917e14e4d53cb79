#!/usr/bin/env bash
# Installs the Debian packages kruispunt builds, tests and benchmarks with.
# Idempotent: asks dpkg first and calls apt-get only for what is missing, so a
# machine that has everything never touches the network or needs root.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # libraries (DESIGN.md "Dependencies")
  libmicrohttpd-dev libgnutls28-dev libjansson-dev libsqlite3-dev
  libsodium-dev libinih-dev liboath-dev libqrencode-dev libpng-dev
  libcurl4-openssl-dev
  libcmocka-dev
  # clients the tests talk to the daemon with, none of them written here
  openssl curl oathtool zbar-tools sqlite3 python3
  # load generator for bench/
  wrk
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
