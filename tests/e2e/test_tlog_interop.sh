#!/usr/bin/env bash
# The audit log as C2SP tlog-tiles, checked by code nobody here wrote: Go's
# golang.org/x/mod/sumdb/note and sumdb/tlog (tests/interop/tlogverify)
# verify the signed checkpoint with the published verifier key, rebuild the
# signed root from hash tiles, prove leaves included and an older
# checkpoint consistent with the newest, and refuse tampered checkpoints.
# Also the /log/ endpoints' headers, the tile grammar and who may read the
# entry bundles.
if ! command -v go >/dev/null 2>&1; then
  echo "SKIP: go is not installed (scripts/deps.sh installs golang-go and golang-golang-x-mod-dev)"
  exit 77
fi
source "$(dirname "$0")/lib.sh"
LOAD=${2:?usage: test_tlog_interop.sh KRUISPUNT AUDIT_LOAD}
SRC=${KP_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}

# --- the verifier, built offline from Debian's Go packages
VERIFY=$WORK/tlogverify
out=$(cd "$SRC/tests/interop/tlogverify" && GO111MODULE=off GOPATH=/usr/share/gocode \
  GOCACHE=${KP_BINARY_DIR:-$WORK}/gocache GOFLAGS= go build -o "$VERIFY" . 2>&1) && rc=0 || rc=$?
expect "the Go verifier builds (${out:0:200})" 0 "$rc"
[ "$rc" -eq 0 ] || { finish; exit 1; }

# More than 256 events, so that level 0 has full tiles and level 1 a
# partial one.
start_demo
stop_demo
"$LOAD" "$DEMO" 4 150 > /dev/null
start_demo
J=(-H 'Content-Type: application/json')

# --- the checkpoint as a signed note, and its verifier key
call GET "$PUB/log/checkpoint"
expect "checkpoint answers 200" 200 "$STATUS"
expect "as text/plain" "text/plain; charset=utf-8" "$(header Content-Type)"
expect "not cached beyond a moment" no-cache "$(header Cache-Control)"
cp "$BODY" "$WORK/old.note"
# audit.origin is empty: the configured auth.public_url (not the port the
# demo happens to listen on) without its scheme, plus /log.
URL=$(sed -n 's/^public_url = //p' "$DEMO/kruispunt.ini")
ORIGIN="${URL#https://}/log"
expect "the origin is the public URL without scheme, plus /log" "$ORIGIN" "$(head -1 "$BODY")"
expect "the first signature line is by the origin" "— $ORIGIN" "$(sed -n 5p "$BODY" | cut -d' ' -f1-2)"
WNAME=$(sed -n 6p "$BODY" | cut -d' ' -f2)
expect "the demo's witness may have cosigned it already (its line follows)" ok "$( [ -z "$WNAME" ] || [ "$WNAME" = witness.kruispunt.demo ] && echo ok)"
call GET "$PUB/log/vkey"
expect "vkey answers 200" 200 "$STATUS"
VKEY=$(cat "$BODY")
expect "the CLI prints the same verifier key" "$VKEY" "$("$KP" audit vkey --data "$DEMO")"
expect_contains "named by the origin" "$ORIGIN+" "$VKEY"

# --- tiles: headers, bounds, grammar
SIZE=$(sed -n 2p "$WORK/old.note")
call GET "$PUB/log/tile/0/000"
expect "a full level-0 tile: 200" 200 "$STATUS"
expect "of 256 hashes" 8192 "$(wc -c < "$BODY")"
expect "octet-stream" application/octet-stream "$(header Content-Type)"
expect "immutable" "public, max-age=31536000, immutable" "$(header Cache-Control)"
call GET "$PUB/log/tile/1/000.p/$((SIZE / 256))"
expect "the partial level-1 tile of the signed size" "200 $((SIZE / 256 * 32))" "$STATUS $(wc -c < "$BODY")"
call GET "$PUB/log/tile/1/000.p/$((SIZE / 256 + 1))"
expect "a tile beyond the signed tree: 404 no_such_tile" "404 no_such_tile" "$STATUS $(json "$BODY" 'j["code"]')"
expect "as a problem" application/problem+json "$(header Content-Type)"
expect "never cached" no-store "$(header Cache-Control)"
for bad in 0/x000/001 00/000 0/000.p/0 0/000.p/256 0/0000 0/000/ 64/000 data/000 0/000.p/08; do
  call GET "$PUB/log/tile/$bad"
  expect "not the grammar: /log/tile/$bad is 404" 404 "$STATUS"
done
call GET "$NET/log/tile/0/000" $(institution_cert 0411111140)
expect "tiles on the network listener too" "200 8192" "$STATUS $(wc -c < "$BODY")"

# --- entry bundles name persons: the network's auditor only
call GET "$PUB/log/tile/entries/000"
expect "anonymous: 401" "401 not_authenticated" "$STATUS $(json "$BODY" 'j["code"]')"
call POST "$EIDURL/api/v1/auth/login/eid" --cert "$DEMO/pki/eid/85073003328.crt" --key "$DEMO/pki/eid/85073003328.key"
CIT=$(json "$BODY" 'j["token"]')
call GET "$PUB/log/tile/entries/000" -H "Authorization: Bearer $CIT"
expect "a citizen: 403 role_required" "403 role_required" "$STATUS $(json "$BODY" 'j["code"]')"
call POST "$EIDURL/api/v1/auth/login/eid" --cert "$DEMO/pki/eid/01010100126.crt" --key "$DEMO/pki/eid/01010100126.key"
AUD=$(json "$BODY" 'j["token"]')
call GET "$PUB/log/tile/entries/000" -H "Authorization: Bearer $AUD"
expect "the auditor not acting for the Crossroads Bank: 403" "403 role_required" "$STATUS $(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/auth/profile" -H "Authorization: Bearer $AUD" "${J[@]}" -d '{"organisation":"0345678997"}'
call GET "$PUB/log/tile/entries/000" -H "Authorization: Bearer $AUD"
expect "the network's auditor reads a bundle" 200 "$STATUS"
expect "never cached" no-store "$(header Cache-Control)"
expect "of 256 length-prefixed entries" 256 "$(python3 -c 'import sys
d=open(sys.argv[1],"rb").read(); n=0
while d: l=int.from_bytes(d[:2],"big"); assert d[2:2+l].startswith(b"kruispunt-audit-v1\n"); d=d[2+l:]; n+=1
print(n)' "$BODY")"
expect_contains "the read is itself audited" "action:13:audit_entries" "$(db_query "$DEMO" "SELECT $ENTRY FROM audit_event WHERE $ENTRY LIKE '%audit_entries%' LIMIT 1")"

# The log grew (logins, the auditor's reads): wait for its next checkpoint.
for _ in $(seq 1 50); do
  call GET "$PUB/log/checkpoint"
  [ "$(sed -n 2p "$BODY")" != "$SIZE" ] && break
  sleep 0.2
done
NEW=$(sed -n 2p "$BODY")
expect "a newer checkpoint came" true "$([ "$NEW" -gt "$SIZE" ] && echo true || echo false)"

# --- Go's tlog: checkpoint, tiles, inclusion, consistency
out=$("$VERIFY" -url "$PUB" -ca "$CA" -old "$WORK/old.note" -leaves "0,255,256,$((SIZE - 1)),$((NEW - 1))" 2>&1) && rc=0 || rc=$?
expect "Go's note and tlog verify the log (${out:0:400})" 0 "$rc"
expect_contains "consistency from the older checkpoint" "consistent: $SIZE -> " "$out"
out=$("$VERIFY" -url "$PUB" -ca "$CA" -token "$AUD" -leaves "3,$((NEW - 1))" 2>&1) && rc=0 || rc=$?
expect "with the auditor's session, every entry of the bundles hashes into the signed tree (${out:0:400})" 0 "$rc"
expect_contains "a full bundle" "entry bundle of leaf 3: 256 entries" "$out"
out=$("$VERIFY" -url "$NET" -ca "$CA" -leaves 1 2>&1) && rc=0 || rc=$?
expect "the network listener without a client certificate refuses (mTLS), so the verifier fails" 1 "$rc"

# --- tampered checkpoints are refused
tamper() { # tamper LINE: flip one base64 character of that line of the note
  python3 -c 'import sys
lines=open(sys.argv[1],encoding="utf-8").read().split("\n"); i=int(sys.argv[2])
s=lines[i]; k=len(s)-6; c=s[k]; lines[i]=s[:k]+("A" if c!="A" else "B")+s[k+1:]
sys.stdout.write("\n".join(lines))' "$WORK/old.note" "$1"
}
tamper 2 > "$WORK/bad-root.note"
out=$("$VERIFY" -url "$PUB" -ca "$CA" -checkpoint "$WORK/bad-root.note" 2>&1) && rc=0 || rc=$?
expect "a flipped root byte fails" 1 "$rc"
expect_contains "at the signature" "checkpoint signature" "$out"
tamper 4 > "$WORK/bad-sig.note"
out=$("$VERIFY" -url "$PUB" -ca "$CA" -checkpoint "$WORK/bad-sig.note" 2>&1) && rc=0 || rc=$?
expect "a flipped signature byte fails" 1 "$rc"
sed "2s/.*/$((SIZE + 1))/" "$WORK/old.note" > "$WORK/bad-size.note"
out=$("$VERIFY" -url "$PUB" -ca "$CA" -checkpoint "$WORK/bad-size.note" 2>&1) && rc=0 || rc=$?
expect "another tree size fails" 1 "$rc"
out=$("$VERIFY" -url "$PUB" -ca "$CA" -checkpoint "$WORK/old.note" -leaves 0 2>&1) && rc=0 || rc=$?
expect "the untampered older checkpoint still verifies" 0 "$rc"

# --- a receipt the citizen keeps (c2sp.org/tlog-proof), checked offline
call POST "$NET/api/v1/exchange" $(institution_cert 0411111140) "${J[@]}" -d '{"data_type":"identification","capacity":"001","purpose":"health_insurance_rights","subject":"85073003328"}'
expect "the health fund consults Jan" 200 "$STATUS"
TICKET=$(json "$BODY" 'j["ticket"]')
# Jan's log is long (the load above): page through it to the access.
AFTER=0; SEQ=
while [ -z "$SEQ" ]; do
  call GET "$PUB/api/v1/me/access-log?after=$AFTER" -H "Authorization: Bearer $CIT"
  [ "$(json "$BODY" 'len(j)')" -gt 0 ] || break
  SEQ=$(json "$BODY" "([a['seq'] for a in j if a['ticket']=='$TICKET'] + [''])[0]")
  AFTER=$(json "$BODY" 'j[-1]["seq"]')
done
expect "the access is in Jan's log" true "$([ -n "$SEQ" ] && echo true || echo false)"
LEAF_OK=$(python3 -c 'import json,sys,base64,hashlib
a=[a for a in json.load(open(sys.argv[1])) if a["seq"]==int(sys.argv[2])][0]
print("ok" if hashlib.sha256(b"\x00"+base64.b64decode(a["entry"])).hexdigest()==a["leaf_hash"] else "no")' "$BODY" "$SEQ")
expect "each access carries its canonical entry, whose hash is its leaf" ok "$LEAF_OK"
for _ in $(seq 1 50); do
  call GET "$PUB/api/v1/me/access-log/$SEQ/proof" -H "Authorization: Bearer $CIT"
  [ "$STATUS" != 409 ] && break
  sleep 0.2
done
expect "Jan downloads the proof of that access" 200 "$STATUS"
expect "a tlog-proof" "c2sp.org/tlog-proof@v1" "$(head -1 "$BODY")"
cp "$BODY" "$WORK/jan.tlog-proof"
out=$("$VERIFY" -proof "$WORK/jan.tlog-proof" -vkey "$VKEY" 2>&1) && rc=0 || rc=$?
expect "Go's note and tlog verify it offline, with the published key only (${out:0:300})" 0 "$rc"
call GET "$PUB/api/v1/me/access-log/proof?ticket=$TICKET" -H "Authorization: Bearer $CIT"
expect "the same proof by the exchange's ticket" "200 index $SEQ" "$STATUS $(sed -n 3p "$BODY")"
call GET "$PUB/api/v1/me/access-log/proof?ticket=not-a-ticket" -H "Authorization: Bearer $CIT"
expect "a ticket that is no UUID" "422 invalid_field" "$STATUS $(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/me/access-log/$SEQ/proof" -H "Authorization: Bearer $AUD"
expect "attack: another person's proof is unknown to them" "404 unknown_event" "$STATUS $(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/me/access-log/$SEQ/proof"
expect "attack: no session" 401 "$STATUS"
python3 - "$WORK/jan.tlog-proof" "$WORK" <<'PY'
import base64, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
e = base64.b64decode(lines[1][6:]).replace(b"health_insurance_rights", b"health_insurance_right5")
bad = lines[:]; bad[1] = "extra " + base64.b64encode(e).decode()
open(sys.argv[2] + "/entry.tlog-proof", "w", encoding="utf-8").write("\n".join(bad))
bad = lines[:]; bad[2] = "index " + str(int(lines[2][6:]) + 1)
open(sys.argv[2] + "/index.tlog-proof", "w", encoding="utf-8").write("\n".join(bad))
PY
out=$("$VERIFY" -proof "$WORK/entry.tlog-proof" -vkey "$VKEY" 2>&1) && rc=0 || rc=$?
expect "a receipt whose entry was altered fails" 1 "$rc"
out=$("$VERIFY" -proof "$WORK/index.tlog-proof" -vkey "$VKEY" 2>&1) && rc=0 || rc=$?
expect "a receipt moved to another index fails" 1 "$rc"

stop_demo
expect "the daemon stops cleanly" 0 "$DEMO_RC"
finish
