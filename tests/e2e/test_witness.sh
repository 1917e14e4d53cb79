#!/usr/bin/env bash
# Witnesses (c2sp.org/tlog-witness) over real TLS: a `kruispunt witness`
# process follows the demo's log; the daemon, configured with it, gets its
# checkpoints cosigned, first from nothing, then with a consistency proof
# after the log grew; the cosignature on /log/checkpoint verifies (openssl,
# by hand: key ID, "cosignature/v1" message). Then attacks on the witness
# directly: a forged fork of the cosigned size (409) and a rewritten
# history whose proof cannot verify (422), both signed with the log's key.
source "$(dirname "$0")/lib.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# free_ports3: a port P with P+1 and P+2 free too (serve --port P listens
# on all three), as far as binding them now tells.
free_ports3() {
  python3 -c '
import socket
for _ in range(200):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    held = [a]
    try:
        for q in (p + 1, p + 2):
            s = socket.socket(); s.bind(("127.0.0.1", q)); held.append(s)
    except OSError:
        continue
    finally:
        for s in held: s.close()
    print(p); break'
}

start_demo
stop_demo
CA=$DEMO/pki/ca.pem
CERT=$(sed -n 's/^tls_cert = //p' "$DEMO/kruispunt.ini" | head -1)
KEY=$(sed -n 's/^tls_key = //p' "$DEMO/kruispunt.ini" | head -1)
case "$CERT" in /*) ;; *) CERT=$DEMO/$CERT; KEY=$DEMO/$KEY ;; esac

# --- the witness
W=$WORK/witness
WVKEY=$("$KP" witness init --data "$W" --name witness.test/w1)
expect_contains "init prints the witness's vkey" "witness.test/w1+" "$WVKEY"
expect "init again keeps the key" "$WVKEY" "$("$KP" witness init --data "$W" --name witness.test/w1)"
"$KP" witness init --data "$W" --name other/w2 >/dev/null 2>&1 && rc=0 || rc=$?
expect "another name is refused" 1 "$rc"
LVKEY=$("$KP" audit vkey --data "$DEMO")
"$KP" witness add-log --data "$W" --vkey "$LVKEY"
expect "add-log takes the log's vkey" 0 "$?"
"$KP" witness add-log --data "$W" --vkey "$WVKEY" 2>/dev/null && rc=0 || rc=$?
expect "a cosignature key is no log key" 1 "$rc"
WP=$(free_port)
"$KP" witness serve --data "$W" --listen "127.0.0.1:$WP" --cert "$CERT" --key "$KEY" \
  >"$WORK/witness.out" 2>"$WORK/witness.err" &
PIDS+=("$!")
WURL=https://localhost:$WP
for _ in $(seq 300); do grep -q listening "$WORK/witness.out" 2>/dev/null && break; sleep 0.1; done

# --- the daemon with the witness
serve_with_witness() {
  P=$(free_ports3)
  KRUISPUNT_AUDIT_WITNESSES="$WVKEY $WURL" "$KP" serve --config "$DEMO/kruispunt.ini" --port "$P" \
    >"$WORK/serve.out" 2>>"$WORK/serve.err" &
  SERVE_PID=$!
  PIDS+=("$SERVE_PID")
  PUB=https://localhost:$P
}

# wait_cosigned SIZE: until /log/checkpoint of SIZE carries a cosignature
# (up to a minute: the daemon and the witness under ASan on a busy machine).
wait_cosigned() {
  for _ in $(seq 300); do
    if curl -s --cacert "$CA" "$PUB/log/checkpoint" > "$WORK/cp.note" 2>/dev/null &&
       [ "$(sed -n 2p "$WORK/cp.note")" = "$1" ] && grep -q "^— witness.test/w1 " "$WORK/cp.note"; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

S1=$(db_query "$DEMO" "SELECT max(tree_size) FROM audit_checkpoint")
serve_with_witness
wait_cosigned "$S1" && rc=0 || rc=$?
expect "the first checkpoint is cosigned (size $S1)" 0 "$rc"

# Verify the cosignature by hand: key ID, message, Ed25519 (openssl).
verify_cosig() {
  python3 - "$WORK/cp.note" "$WVKEY" "$WORK" <<'PY'
import base64, hashlib, subprocess, sys
note = open(sys.argv[1], 'rb').read().decode()
name, kid, b64 = sys.argv[2].split('+', 2)
typed = base64.b64decode(b64)
assert typed[0] == 4, "type 0x04"
pk = typed[1:]
assert hashlib.sha256(name.encode() + b"\n\x04" + pk).digest()[:4].hex() == kid
text, sigs = note.split("\n\n", 1)
text += "\n"
line = [l for l in sigs.splitlines() if l.startswith("\u2014 " + name + " ")][0]
raw = base64.b64decode(line.split(" ")[2])
assert raw[:4].hex() == kid, "key ID"
ts = int.from_bytes(raw[4:12], "big")
msg = ("cosignature/v1\ntime %d\n" % ts).encode() + text.encode()
w = sys.argv[3]
der = bytes.fromhex("302a300506032b6570032100") + pk
open(w + "/wpk.pem", "w").write("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PUBLIC KEY-----\n")
open(w + "/msg", "wb").write(msg)
open(w + "/sig", "wb").write(raw[12:])
r = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", w + "/wpk.pem", "-rawin",
                    "-in", w + "/msg", "-sigfile", w + "/sig"], capture_output=True)
sys.exit(r.returncode)
PY
}
verify_cosig && rc=0 || rc=$?
expect "the cosignature verifies against the witness's vkey" 0 "$rc"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true

# The log grows while the daemon is down (an operator's command records
# its change, and signs a checkpoint when it closes the log).
KBO=$(python3 -c 'n=1234567; print("%08d%02d" % (n, 97 - n % 97))')
"$KP" org add --data "$DEMO" --kbo "$KBO" --name "Witnessed" >/dev/null
S2=$(db_query "$DEMO" "SELECT max(tree_size) FROM audit_checkpoint")
expect "the log grew" 1 "$([ "$S2" -gt "$S1" ] && echo 1 || echo 0)"
serve_with_witness
wait_cosigned "$S2" && rc=0 || rc=$?
expect "the grown log is cosigned, with a consistency proof ($S1 -> $S2)" 0 "$rc"
verify_cosig && rc=0 || rc=$?
expect "and that cosignature verifies" 0 "$rc"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" || true

# --- attacks, signed with the log's own key (a log turned bad)
forge() { # forge SIZE OLD [PROOF_LINES]: an add-checkpoint body
  python3 - "$DEMO/keys/audit-signing.key" "$(head -1 "$WORK/cp.note")" "$1" "$2" "${3:-0}" "$WORK" <<'PY'
import base64, os, subprocess, sys, hashlib
sk = open(sys.argv[1], 'rb').read()
origin, size, old, nproof, w = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
der = bytes.fromhex("302e020100300506032b657004220420") + sk[:32]
open(w + "/lk.pem", "w").write("-----BEGIN PRIVATE KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PRIVATE KEY-----\n")
text = "%s\n%d\n%s\n" % (origin, size, base64.b64encode(os.urandom(32)).decode())
open(w + "/text", "w").write(text)
sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", w + "/lk.pem", "-rawin", "-in", w + "/text"],
                     capture_output=True, check=True).stdout
pk = sk[32:]
kid = hashlib.sha256(origin.encode() + b"\n\x01" + pk).digest()[:4]
body = "old %d\n" % old
body += "".join(base64.b64encode(os.urandom(32)).decode() + "\n" for _ in range(nproof))
body += "\n" + text + "\n\u2014 " + origin + " " + base64.b64encode(kid + sig).decode() + "\n"
sys.stdout.write(body)
PY
}
post() { STATUS=$(curl -s -o "$WORK/wbody" -D "$WORK/wheaders" -w '%{http_code}' --cacert "$CA" \
  --data-binary @"$1" "$WURL/add-checkpoint") || STATUS=000; }

forge "$S2" "$S2" > "$WORK/fork"
post "$WORK/fork"
expect "a fork of the cosigned size is refused: 409" 409 "$STATUS"
forge $((S2 + 5)) "$S2" 3 > "$WORK/rewrite"
post "$WORK/rewrite"
expect "a history the proof cannot join is refused: 422" 422 "$STATUS"
forge $((S2 + 5)) 1 3 > "$WORK/stale"
post "$WORK/stale"
expect "an old size not its own: 409" 409 "$STATUS"
expect "with the size cosigned" "$S2" "$(cat "$WORK/wbody")"
expect "as text/x.tlog.size" "text/x.tlog.size" "$(grep -i '^content-type:' "$WORK/wheaders" | cut -d' ' -f2 | tr -d '\r')"
printf 'old 0\n\nnobody/log\n1\n%s\n\n— nobody/log AAAAAA==\n' "$(head -c 32 /dev/zero | base64)" > "$WORK/unknown"
post "$WORK/unknown"
expect "an unknown origin: 404" 404 "$STATUS"
forge "$S2" 9999999 > "$WORK/big"
post "$WORK/big"
expect "old size beyond the checkpoint: 400" 400 "$STATUS"
finish
