#!/usr/bin/env bash
# Installing and packaging: what `make install` (cmake --install of this
# build, with PREFIX and DESTDIR) puts in place, the systemd unit judged by
# systemd-analyze (verify, and its exposure score), the system user and
# data directory made by sysusers.d and tmpfiles.d in a scratch root, the
# daemon's readiness and stop as systemd sees them (sd_notify datagrams on
# SIGTERM), and the Debian package `make package` builds: same files,
# dependencies, conffiles, maintainer scripts. The package part is skipped
# (and says so) without dpkg-deb; the systemd-analyze part without it.
source "$(dirname "$0")/lib.sh"
BIN=${KP_BINARY_DIR:?set by CMake}
UNIT=usr/lib/systemd/system/kruispunt.service
CONF=etc/kruispunt/kruispunt.ini
# The portal's files: every file of the source tree's web/, as it is.
WEB=$(cd "${KP_SOURCE_DIR:?set by CMake}/web" && find . -type f | sed 's|^\./|usr/share/kruispunt/web/|' | xargs)
FILES="$CONF usr/bin/kruispunt $UNIT usr/lib/sysusers.d/kruispunt.conf usr/lib/tmpfiles.d/kruispunt.conf
  $WEB"

# files_in ROOT: every file and link under ROOT, relative, sorted, one line.
files_in() { (cd "$1" && find . -type f -o -type l | sed 's|^\./||' | sort | xargs); }
sorted() { echo "$@" | tr ' ' '\n' | sort | xargs; }

# Like `make install PREFIX=/usr DESTDIR=$ROOT` (the Makefile runs exactly
# this on its build directory).
install_into() { DESTDIR=$1 cmake --install "$BIN" --prefix "$2" >"$WORK/install.out"; }

# --- make install
ROOT=$WORK/root
install_into "$ROOT" /usr
expect "install puts the binary, unit, sysusers, tmpfiles, configuration and the portal's files in place" \
  "$(sorted $FILES)" "$(files_in "$ROOT")"
expect_contains "the installed binary runs" "kruispunt 0." "$("$ROOT/usr/bin/kruispunt" --version)"
expect "the unit runs the installed binary with the installed configuration" \
  "ExecStart=/usr/bin/kruispunt serve --config /etc/kruispunt/kruispunt.ini" \
  "$(grep '^ExecStart=' "$ROOT/$UNIT")"
for d in Type=notify User=kruispunt StateDirectory=kruispunt ProtectSystem=strict \
    ReadWritePaths=/var/lib/kruispunt NoNewPrivileges=yes PrivateTmp=yes ProtectHome=yes \
    MemoryDenyWriteExecute=yes SystemCallFilter=@system-service CapabilityBoundingSet= \
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" UMask=0077; do
  expect "the unit sets $d" "$d" "$(grep -x -- "$d" "$ROOT/$UNIT" || true)"
done
expect "the configuration is not world-readable" 640 "$(stat -c %a "$ROOT/$CONF")"
CFG=$("$ROOT/usr/bin/kruispunt" config --config "$ROOT/$CONF" 2>&1) || true
expect_contains "kruispunt accepts the installed configuration" \
  "data_dir = /var/lib/kruispunt" "$CFG"
echo "; the operator's edit" >>"$ROOT/$CONF"
install_into "$ROOT" /usr
expect_contains "a second install keeps the operator's configuration" \
  "the operator's edit" "$(cat "$ROOT/$CONF")"
install_into "$WORK/local" /usr/local
expect "PREFIX=/usr/local: configuration in /usr/local/etc, the unit names both" \
  "ExecStart=/usr/local/bin/kruispunt serve --config /usr/local/etc/kruispunt/kruispunt.ini" \
  "$(grep '^ExecStart=' "$WORK/local/usr/local/lib/systemd/system/kruispunt.service" 2>&1)"

# --- the unit, as systemd reads it
# verify_root ROOT: systemd-analyze verify in ROOT, which gets the host's
# targets and slices (the unit orders itself after some). Warnings (an
# unknown key, a bad value) count as failures: verify only warns of them.
verify_root() {
  local r=$WORK/verify
  rm -rf "$r" && cp -a "$1" "$r"
  cp -n /usr/lib/systemd/system/*.target /usr/lib/systemd/system/*.slice \
    "$r/usr/lib/systemd/system/" 2>/dev/null || true
  systemd-analyze verify --root="$r" kruispunt.service 2>&1 && echo "rc=0"
}
if command -v systemd-analyze >/dev/null; then
  expect "systemd-analyze verify: no warning" "rc=0" "$(verify_root "$ROOT")"
  SEC=$(systemd-analyze security --offline=yes --root="$ROOT" kruispunt.service 2>&1 | tail -1 || true)
  SCORE=$(echo "$SEC" | grep -o '[0-9]*\.[0-9]' || echo 10)
  expect "exposure score at most 1.5 (README: 1.1): $SEC" yes \
    "$(python3 -c "print('yes' if $SCORE <= 1.5 else 'no')")"
else
  echo "skip - systemd-analyze is not installed (Debian package systemd)"
fi

# --- the system user and the data directory (in a scratch root)
if command -v systemd-sysusers >/dev/null && [ "$(id -u)" -eq 0 ]; then
  R=$WORK/sysroot
  cp -a "$ROOT" "$R"
  systemd-sysusers --root="$R" >/dev/null 2>&1
  expect "sysusers makes the user kruispunt, home the data directory, no shell" \
    "/var/lib/kruispunt:/usr/sbin/nologin" \
    "$(grep '^kruispunt:' "$R/etc/passwd" | cut -d: -f6-)"
  systemd-tmpfiles --root="$R" --create >/dev/null 2>&1
  expect "tmpfiles makes the data directory, 0700, the user's" \
    "700 $(grep '^kruispunt:' "$R/etc/passwd" | cut -d: -f3)" \
    "$(stat -c '%a %u' "$R/var/lib/kruispunt")"
  expect "the data directory's kruispunt.ini is the installed configuration" \
    /etc/kruispunt/kruispunt.ini "$(readlink "$R/var/lib/kruispunt/kruispunt.ini")"
else
  echo "skip - sysusers and tmpfiles need systemd-sysusers and root"
fi

# --- readiness and stop: the installed binary and configuration, with the
# data directory and a plain-HTTP loopback listener from the environment.
DATA=$WORK/data
"$ROOT/usr/bin/kruispunt" init --data "$DATA" >/dev/null 2>"$WORK/init.err"
SOCK=$WORK/notify.sock
python3 - "$SOCK" "$WORK/notified" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
with open(sys.argv[2], "w") as f:
    for _ in range(2):
        f.write(s.recv(4096).decode() + "\n")
        f.flush()
PY
PIDS+=($!)
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
NOTIFY_SOCKET=$SOCK KRUISPUNT_SERVER_DATA_DIR=$DATA KRUISPUNT_PUBLIC_TLS=false \
  KRUISPUNT_PUBLIC_PORT=0 KRUISPUNT_NETWORK_ENABLED=false \
  "$ROOT/usr/bin/kruispunt" serve --config "$ROOT/$CONF" 2>"$WORK/serve.err" &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
wait_for_file "$WORK/notified" 20 || true
expect "the daemon tells systemd it is ready" READY=1 "$(head -1 "$WORK/notified")"
URL=$(grep -o '"public_url":"[^"]*"' "$WORK/serve.err" | cut -d'"' -f4 || true)
expect "once READY=1 is sent, the listener answers" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz" || true)"
call_plain() { curl -s "$URL/" || true; }
expect_contains "the installed daemon serves the installed portal files" \
  '<html lang="nl">' "$(call_plain)"
expect_contains "from share/kruispunt/web beside it" "/usr/share/kruispunt/web" \
  "$(grep -o '"portal files[^}]*' "$WORK/serve.err" || true)"
kill -TERM "$SERVE_PID"
SERVE_RC=0
wait "$SERVE_PID" || SERVE_RC=$?
expect "SIGTERM stops the daemon cleanly" 0 "$SERVE_RC"
expect "and it tells systemd it is stopping" STOPPING=1 "$(sed -n 2p "$WORK/notified")"
expect_contains "after finishing its work" '"stopped"' "$(tail -1 "$WORK/serve.err")"

# --- make package
if ! command -v dpkg-deb >/dev/null; then
  echo "skip - dpkg-deb is not installed: no Debian package"
  finish
  exit 0
fi
cpack -G DEB --config "$BIN/CPackConfig.cmake" -B "$WORK/pkg" >"$WORK/cpack.out" 2>&1 \
  || cat "$WORK/cpack.out"
DEB=$(ls "$WORK"/pkg/kruispunt_*.deb 2>/dev/null | head -1 || true)
expect "cpack builds kruispunt_VERSION_ARCH.deb" yes "$([ -n "$DEB" ] && echo yes || echo no)"
dpkg -x "$DEB" "$WORK/deb"
expect "the package holds exactly what make install puts in place" \
  "$(files_in "$ROOT")" "$(files_in "$WORK/deb")"
expect_contains "the packaged binary runs" "kruispunt 0." "$("$WORK/deb/usr/bin/kruispunt" --version)"
expect "the packaged unit is the installed one" same \
  "$(cmp -s "$ROOT/$UNIT" "$WORK/deb/$UNIT" && echo same || echo differs)"
if command -v systemd-analyze >/dev/null; then
  expect "systemd-analyze verify in the package's root" "rc=0" "$(verify_root "$WORK/deb")"
fi
expect "package name" kruispunt "$(dpkg-deb -f "$DEB" Package)"
DEPS=$(dpkg-deb -f "$DEB" Depends)
expect_contains "dependencies from the shared libraries (dpkg-shlibdeps)" libmicrohttpd12 "$DEPS"
expect_contains "and the way to make the user" "systemd | adduser" "$DEPS"
dpkg-deb -e "$DEB" "$WORK/control"
expect "the configuration is a conffile" /etc/kruispunt/kruispunt.ini "$(cat "$WORK/control/conffiles")"
for s in postinst prerm postrm; do
  expect "$s is an executable shell script" ok \
    "$([ -x "$WORK/control/$s" ] && sh -n "$WORK/control/$s" && echo ok)"
done
expect_contains "postinst makes the user with sysusers" systemd-sysusers "$(cat "$WORK/control/postinst")"
expect_contains "prerm stops the service" "disable --now kruispunt.service" "$(cat "$WORK/control/prerm")"
finish
