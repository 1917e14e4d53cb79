#!/usr/bin/env bash
# The audit log end to end: a log filled through src/audit, served by the
# daemon, checked by clients nobody here wrote (openssl for the checkpoint
# signature; an RFC 9162 verifier in Python for roots and proofs), then
# tampered with directly in the database, and killed with SIGKILL mid-load.
source "$(dirname "$0")/lib.sh"
LOAD=${2:?usage: test_audit.sh KRUISPUNT AUDIT_LOAD}

start_demo
stop_demo
# Seeding the demo is recorded too: the loaded events come after B of them,
# and each start records where the provider now answers (T in all).
B=$(db_query "$DEMO" "SELECT count(*) FROM audit_event")
"$LOAD" "$DEMO" 8 125 > "$WORK/acks"
expect "1000 events appended and acknowledged" 1000 "$(wc -l < "$WORK/acks")"
start_demo
T=$(db_query "$DEMO" "SELECT count(*) FROM audit_event")
expect "the load came after the seeding" $((B + 1000)) "$(sort -n "$WORK/acks" | tail -1 | xargs -I{} expr {} + 1)"

# --- the signed checkpoint, verified with openssl
call GET "$PUB/api/v1/audit/checkpoint"
expect "checkpoint answers 200" 200 "$STATUS"
expect "it covers all $T events (signed when the log closed)" "$T" "$(json "$BODY" 'j["tree_size"]')"
json "$BODY" '"kruispunt-checkpoint\n%d\n%s\n%s\n" % (j["tree_size"], j["root_hash"], j["timestamp"])' | head -c -1 > "$WORK/cp.txt"
printf '%s' "$(json "$BODY" 'j["signature"]')" | xxd -r -p > "$WORK/cp.sig"
{ echo "-----BEGIN PUBLIC KEY-----"
  { printf '302a300506032b6570032100'; json "$BODY" 'j["public_key"]'; } | tr -d '\n' | xxd -r -p | base64
  echo "-----END PUBLIC KEY-----"; } > "$WORK/audit.pem"
expect "the public key is the one init made" "$(xxd -p -c 64 "$DEMO/keys/audit-signing.pub")" "$(json "$BODY" 'j["public_key"]')"
out=$(openssl pkeyutl -verify -pubin -inkey "$WORK/audit.pem" -rawin -in "$WORK/cp.txt" -sigfile "$WORK/cp.sig" 2>&1 || true)
expect_contains "openssl verifies the Ed25519 checkpoint signature" "Signature Verified Successfully" "$out"
printf 'X' >> "$WORK/cp.txt"
out=$(openssl pkeyutl -verify -pubin -inkey "$WORK/audit.pem" -rawin -in "$WORK/cp.txt" -sigfile "$WORK/cp.sig" 2>&1 || true)
expect_contains "and refuses an altered checkpoint text" "Signature Verification Failure" "$out"

# --- roots and proofs, recomputed independently from RFC 9162
db_query "$DEMO" "SELECT seq, $(sql_hex entry), $(sql_hex leaf) FROM audit_event ORDER BY seq" > "$WORK/rows"
python3 "$(dirname "$0")/rfc9162.py" "$WORK/rows" "$PUB" "$CA" > "$WORK/rfc9162.out" 2>&1 && rc=0 || rc=$?
cat "$WORK/rfc9162.out"
expect "the RFC 9162 verifier accepts root and proofs" 0 "$rc"

call GET "$PUB/api/v1/audit/proof/inclusion?seq=$T&tree_size=$T"
expect "a leaf outside the tree is 422" 422 "$STATUS"
expect "with code invalid_proof_request" invalid_proof_request "$(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/audit/proof/inclusion?seq=-1"
expect "a negative number is 422" 422 "$STATUS"
call GET "$PUB/api/v1/audit/proof/consistency?first=5"
expect "a missing parameter is 422 invalid_field" invalid_field "$(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/audit/proof/consistency?first=0&second=5"
expect "consistency from an empty tree is refused" 422 "$STATUS"
call GET "$PUB/api/v1/audit/proof/inclusion?seq=3"
expect "tree_size defaults to the newest checkpoint" "$T" "$(json "$BODY" 'j["tree_size"]')"
call GET "$NET/metrics" $(institution_cert 0411111140)
expect_contains "metrics count audit events" "kruispunt_audit_events_total $T" "$(cat "$BODY")"
expect_contains "and the signed ones" "kruispunt_audit_signed_events $T" "$(cat "$BODY")"
stop_demo
expect "the demo stops cleanly" 0 "$DEMO_RC"

# --- kruispunt audit verify, then tampering with the database
out=$("$KP" audit verify --data "$DEMO")
expect_contains "audit verify: intact" "audit log intact: $T events" "$out"
"$KP" audit verify --data "$DEMO" --public-key "$WORK/cp.sig" >/dev/null 2>&1 && rc=0 || rc=$?
expect "a file that is no public key is refused" 3 "$rc"

# tampered NAME SQL EXPECTED_SEQ
tampered() {
  db_copy "$DEMO" "$WORK/$1"
  db_query "$WORK/$1" "$(sql_drop_trigger audit_event_immutable audit_event); $(sql_drop_trigger audit_event_kept audit_event); $2"
  local rc=0
  with_db "$WORK/$1" "$KP" audit verify --data "$WORK/$1" > "$WORK/$1.out" 2>&1 || rc=$?
  expect "attack: $1 makes verify fail" 1 "$rc"
  expect_contains "attack: $1 is found at seq $3" "first bad event seq $3:" "$(cat "$WORK/$1.out")"
}
tampered changed_field "UPDATE audit_event SET entry = $(sql_blob "replace($ENTRY, 'test_load', 'test_lOad')") WHERE seq = $((B + 17))" $((B + 17))
tampered deleted_row "DELETE FROM audit_event WHERE seq = 9" 9
tampered swapped_rows "UPDATE audit_event SET seq = -1 WHERE seq = 5; UPDATE audit_event SET seq = 5 WHERE seq = 6; UPDATE audit_event SET seq = 6 WHERE seq = -1" 5
tampered truncated "DELETE FROM audit_event WHERE seq >= $((T - 10))" $((T - 10))
db_copy "$DEMO" "$WORK/forged_cp"
db_query "$WORK/forged_cp" "$(sql_drop_trigger audit_checkpoint_immutable audit_checkpoint); UPDATE audit_checkpoint SET root = $(sql_hexblob "$(printf '00%.0s' $(seq 32))") WHERE tree_size = $T"
rc=0; with_db "$WORK/forged_cp" "$KP" audit verify --data "$WORK/forged_cp" > "$WORK/forged.out" 2>&1 || rc=$?
expect "attack: a forged checkpoint root makes verify fail" 1 "$rc"
expect_contains "it says the signature is invalid" "signature of checkpoint $T is invalid" "$(cat "$WORK/forged.out")"
out=$(db_query "$DEMO" "DELETE FROM audit_event WHERE seq = 3" 2>&1 || true)
expect_contains "an event is never deleted" "never deleted" "$out"
out=$(db_query "$DEMO" "UPDATE audit_event SET at = 0 WHERE seq = 3" 2>&1 || true)
expect_contains "events are immutable" "immutable" "$out"
out=$(db_query "$DEMO" "UPDATE audit_event SET entry = $(sql_hexblob '') WHERE seq = 3" 2>&1 || true)
expect_contains "retention: a recent entry cannot be purged" "retention period" "$out"
out=$("$KP" audit purge --data "$DEMO" 2>&1)
expect_contains "audit purge: a dry run, nothing ten years old" "nothing to purge" "$out"

# --- durability: SIGKILL mid-load loses no acknowledged event
db_new "$WORK/k"
with_db "$WORK/k" "$KP" init --data "$WORK/k" >/dev/null
KRUISPUNT_STORE_URL=$(db_url "$WORK/k") "$LOAD" "$WORK/k" 64 0 > "$WORK/k.acks" 2>/dev/null &
load=$!
sleep 2
kill -KILL "$load"; wait "$load" 2>/dev/null || true
acked=$(wc -l < "$WORK/k.acks")
max=$(sort -n "$WORK/k.acks" | tail -1)
rows=$(db_query "$WORK/k" "SELECT count(*) FROM audit_event")
echo "     killed after $acked acknowledged events; $rows rows on disk"
[ "$acked" -gt 100 ] && pass "SIGKILL came mid-load" || fail "only $acked events before the kill"
[ "$rows" -gt "$max" ] && pass "every acknowledged event is on disk (max acked seq $max < $rows rows)" || fail "acked seq $max but only $rows rows"
missing=$(db_query "$WORK/k" "SELECT count(*) FROM audit_event WHERE seq <= $max")
expect "no gap below the highest acknowledged seq" $((max + 1)) "$missing"
out=$(with_db "$WORK/k" "$KP" audit verify --data "$WORK/k" 2>&1) && rc=0 || rc=$?
expect "the killed log verifies" 0 "$rc"
with_db "$WORK/k" "$LOAD" "$WORK/k" 4 25 > "$WORK/k.acks2"
expect "after restart the log continues at the next seq" "$rows" "$(sort -n "$WORK/k.acks2" | head -1)"
out=$(with_db "$WORK/k" "$KP" audit verify --data "$WORK/k" 2>&1) && rc=0 || rc=$?
expect "and verifies after restart" 0 "$rc"
expect_contains "with nothing left unsigned" "0 events after the newest checkpoint" "$out"

finish
