#!/usr/bin/env bash
# The README is a test: every shell block runs, pasted in order into one
# shell, against a fresh demo, and answers as shown (readme_blocks.py says
# how blocks and answers are marked). Then all of it a second time against
# the same demo: the examples are repeatable, or say why not. The blocks
# marked after-stop run once the demo has stopped.
. "$(dirname "$0")/lib.sh"
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
README=$ROOT/README.md
BLOCKS="python3 $HERE/readme_blocks.py"

# A working copy as a reader has it after `make demo`: the binary at
# ./build/kruispunt, the examples, the demo's directory at ./var/demo. The
# demo takes free ports here; the README's 8443, 8444 and 8445 are replaced by
# them, and nothing else is changed.
USER_DIR=$WORK/clone
mkdir -p "$USER_DIR/build" "$USER_DIR/var"
ln -s "$KP" "$USER_DIR/build/kruispunt"
ln -s "$ROOT/examples" "$USER_DIR/examples"
cd "$USER_DIR"
"$KP" demo --data ./var/demo --port 0 >"$WORK/demo.out" 2>"$WORK/demo.err" &
DEMO_PID=$!
PIDS+=("$DEMO_PID")
wait_for_file ./var/demo/demo.json 60 || { cat "$WORK/demo.err" >&2; exit 1; }
pub=$(json ./var/demo/demo.json 'j["public_url"].rsplit(":", 1)[1]')
net=$(json ./var/demo/demo.json 'j["network_url"].rsplit(":", 1)[1]')
eid=$(json ./var/demo/demo.json 'j["eid_url"].rsplit(":", 1)[1]')

# block N: its text, ports replaced.
block() {
  $BLOCKS script "$README" "$1" |
    sed -e "s/localhost:8443/localhost:$pub/g" -e "s/localhost:8444/localhost:$net/g" \
      -e "s/localhost:8445/localhost:$eid/g"
}

# run_blocks MODE PASS: every block of MODE in one shell, each one's
# output checked against its answers.
run_blocks() {
  local mode=$1 pass=$2
  local script=$WORK/readme-$mode-$pass.sh out=$WORK/readme-$mode-$pass.out ids
  ids=$($BLOCKS list "$README" | awk -v m="$mode" '$3 == m {print $1 "/" $2}')
  : >"$script"
  for id in $ids; do
    echo "echo '@@block ${id%/*}@@'" >>"$script"
    block "${id%/*}" >>"$script"
    echo >>"$script"
  done
  bash "$script" >"$out" 2>"$WORK/readme-$mode-$pass.err" || true
  # Pasted into a terminal, a failing command shows itself on stderr.
  local errors
  errors=$(grep -E 'curl: \([0-9]+\)|command not found|No such file|Traceback' "$WORK/readme-$mode-$pass.err" || true)
  expect "README blocks ($mode, pass $pass) run without a failing command" "" "$errors"
  for id in $ids; do
    local n=${id%/*} line=${id#*/}
    # A block's output may end without a newline before the next marker.
    python3 - "$out" "$n" >"$WORK/block-$n-$mode-$pass.out" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
parts = re.split(r"@@block (\d+)@@\n?", text)
for i in range(1, len(parts), 2):
    if parts[i] == sys.argv[2]:
        sys.stdout.write(parts[i + 1])
EOF
    if msg=$($BLOCKS check "$README" "$n" "$WORK/block-$n-$mode-$pass.out"); then
      pass "README line $line ($mode, pass $pass) answers as shown"
    else
      fail "README line $line ($mode, pass $pass): $msg"
    fi
  done
}

run_blocks run 1
# The README says why a second run within one TOTP step differs (a code
# is accepted once); a reader running it again a little later gets the
# same answers, and so does this second pass.
sleep $((31 - $(date +%s) % 30))
run_blocks run 2
kill -TERM "$DEMO_PID"
wait "$DEMO_PID" || true
run_blocks after-stop 1
cd /
finish
