#!/usr/bin/env bash
# The command line tells an operator what went wrong and what to do, and
# the configuration it shows is the one that runs: serve without a usable
# configuration, a port already in use, an auditor's key file relative to
# where they stand, every command the README documents in --help, the
# README's configuration table against `kruispunt config`, init's file
# and the demo's effective configuration.
source "$(dirname "$0")/lib.sh"
README=${KP_SOURCE_DIR:?KP_SOURCE_DIR is set by CMake}/README.md
export LC_ALL=C # strerror's English text

# run_kp NAME ARGS...: runs kruispunt from $WORK; sets RC, OUT and ERR.
run_kp() {
  local name=$1
  shift
  RC=0
  (cd "$WORK" && "$KP" "$@") >"$WORK/$name.out" 2>"$WORK/$name.err" || RC=$?
  OUT=$(cat "$WORK/$name.out")
  ERR=$(cat "$WORK/$name.err")
}

# --- serve without a usable configuration
run_kp noconfig serve
expect "serve without --config is a usage error" 2 "$RC"
expect_contains "saying --config is required" "--config FILE is required" "$ERR"
expect_contains "and how to make one" "kruispunt init --data DIR" "$ERR"
run_kp missing serve --config "$WORK/nowhere/kruispunt.ini"
expect "serve with a missing file exits 1" 1 "$RC"
expect_contains "naming the path it tried" "cannot read $WORK/nowhere/kruispunt.ini: No such file or directory" "$ERR"
expect_contains "and suggesting kruispunt init" "kruispunt init --data DIR" "$ERR"
printf '[server]\ndata_dir = %s\n' "$WORK/nodata" >"$WORK/nodata.ini"
run_kp nodata serve --config "$WORK/nodata.ini"
expect "serve on a data directory never initialised exits 1" 1 "$RC"
expect_contains "naming it and the command that makes it" "kruispunt init --data $WORK/nodata" "$ERR"

# --- init writes each section once
run_kp init init --data fresh
expect "init succeeds" 0 "$RC"
dups=$(grep '^\[' "$WORK/fresh/kruispunt.ini" | sort | uniq -d)
expect "init's kruispunt.ini has no duplicate section" "" "$dups"
expect "and every section of kruispunt config" \
  "$("$KP" config | grep '^\[' | tr '\n' ' ')" "$(grep '^\[' "$WORK/fresh/kruispunt.ini" | tr '\n' ' ')"

# --- an operator's kruispunt.ini started before init (as on PostgreSQL,
# where it names the database): the first init writes it out whole, the
# operator's values kept and the data directory named, so that `serve
# --config` finds the installation; a later init leaves it alone
mkdir -m 700 "$WORK/operator"
printf '[store]\nbusy_timeout_ms = 7000\n' >"$WORK/operator/kruispunt.ini"
run_kp opinit init --data operator
expect "init with the operator's kruispunt.ini succeeds" 0 "$RC"
expect "it names the data directory" "data_dir = $WORK/operator" \
  "$(grep '^data_dir = ' "$WORK/operator/kruispunt.ini")"
expect "and keeps the operator's value" "busy_timeout_ms = 7000" \
  "$(grep '^busy_timeout_ms = ' "$WORK/operator/kruispunt.ini")"
echo '; the operator was here' >>"$WORK/operator/kruispunt.ini"
run_kp opinit2 init --data operator
expect "a second init leaves the file alone" "; the operator was here" \
  "$(tail -1 "$WORK/operator/kruispunt.ini")"

# --- the README's configuration table lists every key kruispunt config prints
missing=$("$KP" config | python3 -c '
import re, sys
readme = open(sys.argv[1]).read()
section, missing = None, []
for line in sys.stdin:
    m = re.match(r"\[(\w+)\]", line)
    if m:
        section = m.group(1)
        continue
    m = re.match(r"(\w+) =", line)
    if not m:
        continue
    key = m.group(1)
    # The three listeners share one block of rows: `….key`.
    names = ["`%s.%s`" % (section, key)]
    if section in ("public", "network", "eid"):
        names.append("`\u2026.%s`" % key)
    if not any(n in readme for n in names):
        missing.append("%s.%s" % (section, key))
print(" ".join(missing))' "$README")
expect "the README documents every configuration key" "" "$missing"

# --- --help lists every command the README documents
"$KP" --help >"$WORK/help.out"
expect "kruispunt --help exits 0" 0 "$?"
missing=$(python3 -c '
import re, sys
readme = open(sys.argv[1]).read()
helptext = open(sys.argv[2]).read().splitlines()
lines = [l.split() for l in helptext if l.startswith("  ") and l.strip()]
missing = []
# Command lines of the README: in sh blocks, starting with kruispunt.
for block in re.findall(r"```sh\n(.*?)```", readme, re.S):
    for line in block.splitlines():
        w = re.sub(r"^\S*/(?=kruispunt )", "", line.strip()).split()
        if len(w) < 2 or w[0] != "kruispunt":
            continue
        subs = w[2].split("|") if len(w) > 2 and re.fullmatch(r"[a-z][a-z|-]*", w[2]) else []
        found = [l for l in lines if l[0] == w[1]]
        if not found:
            missing.append(w[1])
        for s in subs:
            if not any(len(l) > 1 and s in l[1].split("|") for l in found):
                missing.append("%s %s" % (w[1], s))
print(" ".join(sorted(set(missing))))' "$README" "$WORK/help.out")
expect "kruispunt --help lists every README command and subcommand" "" "$missing"
for cmd in init serve demo audit org directory authz gen import config version; do
  run_kp "help_$cmd" help "$cmd"
  expect "kruispunt help $cmd exits 0" 0 "$RC"
  expect_contains "and shows its usage" "usage: kruispunt $cmd" "$OUT"
  run_kp "dashhelp_$cmd" "$cmd" --help
  expect "kruispunt $cmd --help: the same" "$(cat "$WORK/help_$cmd.out")" "$OUT"
done
run_kp help_org help org
for verb in add institution cert endpoint grant revoke roles; do
  expect_contains "help org shows org $verb's options" "kruispunt org $verb --data DIR" "$OUT"
done

# --- the demo's configuration is what it runs with
start_demo
run_kp democonfig config --config "$DEMO/kruispunt.ini"
expect "kruispunt config reads the demo's file" 0 "$RC"
expect_contains "it shows the demo's mail sink" "smtp_url = smtp://127.0.0.1:" "$OUT"
expect_contains "and its SMS sink" "sms_url = http://127.0.0.1:" "$OUT"
expect_contains "and the port the public listener got" "port = ${PUB##*:}" "$OUT"
expect_contains "and the network listener's" "port = ${NET##*:}" "$OUT"
dups=$(grep '^\[' "$DEMO/kruispunt.ini" | sort | uniq -d)
expect "the demo's file has no duplicate section" "" "$dups"

# --- a port already in use
run_kp busy serve --config "$DEMO/kruispunt.ini"
expect "a second daemon on the demo's ports exits 1" 1 "$RC"
expect_contains "naming the port and the system's reason" "port ${PUB##*:} (public listener): Address already in use" "$ERR"
expect_contains "and suggesting --port" "--port N" "$ERR"
case "$ERR" in *"Failed to bind"*) fail "libmicrohttpd's 'Failed to bind to port 0' is gone" ;; *) pass "libmicrohttpd's 'Failed to bind to port 0' is gone" ;; esac
python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(60)' "$WORK/held.port" &
PIDS+=($!)
wait_for_file "$WORK/held.port" 10
HELD=$(cat "$WORK/held.port")
run_kp held serve --config "$DEMO/kruispunt.ini" --port "$HELD"
expect "serve --port on a port another program holds exits 1" 1 "$RC"
expect_contains "naming that port" "port $HELD (public listener): Address already in use" "$ERR"
expect_contains "suggesting --port" "choose other ports with --port N" "$ERR"
run_kp demobusy demo --data demo2 --port "$HELD"
expect "the demo on a held port exits 1" 1 "$RC"
expect_contains "with the same message" "kruispunt demo: cannot listen on 127.0.0.1 port $HELD" "$ERR"
stop_demo
expect "the demo stops cleanly" 0 "$DEMO_RC"

# --- audit verify --public-key FILE: FILE from the working directory
mkdir -p "$WORK/auditor"
cp "$DEMO/keys/audit-signing.pub" "$WORK/auditor/trusted.pub"
# A decoy of the same name in the data directory, which must not be read.
head -c 32 /dev/urandom >"$DEMO/trusted.pub"
RC=0
(cd "$WORK/auditor" && "$KP" audit verify --data "$DEMO" --public-key trusted.pub) \
  >"$WORK/verify.out" 2>&1 || RC=$?
expect "audit verify reads --public-key from the working directory" 0 "$RC"
expect_contains "and finds the log intact" "audit log intact" "$(cat "$WORK/verify.out")"
head -c 32 /dev/urandom >"$WORK/auditor/other.pub"
RC=0
(cd "$WORK/auditor" && "$KP" audit verify --data "$DEMO" --public-key other.pub) \
  >"$WORK/verify2.out" 2>&1 || RC=$?
expect "another key in the working directory is not the log's" 1 "$RC"
RC=0
(cd "$WORK/auditor" && "$KP" audit verify --data "$DEMO" --public-key absent.pub) \
  >"$WORK/verify3.out" 2>&1 || RC=$?
expect "a key file that is not there exits 3" 3 "$RC"
expect_contains "naming the path as given" "cannot read absent.pub" "$(cat "$WORK/verify3.out")"

finish
