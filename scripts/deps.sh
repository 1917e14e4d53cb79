#!/usr/bin/env bash
# Installs the Debian packages kruispunt builds, tests and benchmarks with,
# and the npm packages of tests/openapi, tests/browser and tests/interop/oidc.
# Idempotent: asks dpkg first and calls apt-get only for what is missing, so a
# machine that has everything never touches the network or needs root.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  # toolchain
  build-essential cmake pkg-config clang libclang-rt-14-dev
  # scan-build, for `make analyze`
  clang-tools
  # libraries (docs/DESIGN.md, "Dependencies")
  libmicrohttpd-dev libgnutls28-dev libjansson-dev libsqlite3-dev
  libsodium-dev libinih-dev liboath-dev libqrencode-dev libpng-dev
  libcurl4-openssl-dev
  # password checks (dictionary, names): libpwquality, with cracklib's
  # dictionary (cracklib-runtime builds it)
  libpwquality-dev cracklib-runtime
  # OpenID Connect tokens: JWK, JWS (what mod_auth_openidc itself uses)
  libcjose-dev
  # the PostgreSQL backend (store.backend = postgresql)
  libpq-dev
  libcmocka-dev
  # the PostgreSQL server the tests start in a scratch directory
  # (tests/support/pg.sh), and its client tools (psql, pg_dump)
  postgresql postgresql-client
  # clients the tests talk to the daemon with, none of them written here
  openssl curl oathtool zbar-tools sqlite3 python3
  # the recommended production front, run by tests/e2e/test_haproxy.sh
  # and by scripts/ha (in front of PostgreSQL and of the nodes)
  haproxy
  # high availability (scripts/ha, `make test-ha`): Patroni manages the
  # PostgreSQL primary and its synchronous replica, etcd holds its leader
  # key (Patroni's etcd3 client speaks etcd's JSON gateway, and builds on
  # python3-etcd); etcdctl to look at it
  patroni python3-etcd python3-psycopg2 etcd-server etcd-client
  # load generator for bench/
  wrk
  # runs the OpenAPI validator of tests/openapi and the portal's browser
  # test of tests/browser (npm below)
  nodejs
  # the browser tests/browser drives (playwright-core never downloads one)
  chromium
  # a relying party nobody here wrote, for tests/interop/oidc: Apache with
  # mod_auth_openidc logs people in through kruispunt's OpenID Provider
  apache2 libapache2-mod-auth-openidc
  # Go's own transparency-log code (sumdb/note, sumdb/tlog), with which
  # tests/e2e/test_tlog_interop.sh checks /log/ (tests/interop/tlogverify)
  golang-go golang-golang-x-mod-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

# npm: Debian's package, unless the nodejs installed already ships one
# (NodeSource's does, and conflicts with Debian's npm).
if ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm packages `make test` runs, pinned by each directory's
# package-lock.json: the OpenAPI validator (tests/openapi), the browser
# test's playwright-core and axe-core (tests/browser), and panva's
# openid-client, the relying party of tests/interop/oidc. Installed when
# node_modules is missing or the lock has changed since (npm ci empties
# node_modules first, stamp included), and never touches the network
# otherwise. --ignore-scripts: no install script runs, so playwright-core
# downloads no browser of its own.
for npmdir in tests/openapi tests/browser tests/interop/oidc examples/external-idp; do
  stamp=$npmdir/node_modules/.kp-package-lock.json
  if ! cmp -s "$npmdir/package-lock.json" "$stamp"; then
    echo "deps: npm ci in $npmdir" >&2
    (cd "$npmdir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    cp "$npmdir/package-lock.json" "$stamp"
  fi
done
