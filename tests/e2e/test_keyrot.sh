#!/usr/bin/env bash
# Rotating the audit signing key on a running installation: `kruispunt
# audit key rotate` while the daemon serves, the daemon taking the new key
# over (its /log/vkey, its notes, its readiness), `audit verify` from the
# new key and from the original one, and a hand-over or a checkpoint
# slipped into the database refused.
source "$(dirname "$0")/lib.sh"

start_demo
call GET "$PUB/log/vkey"
V0=$(cat "$BODY")
expect "the log serves the key init made" "$("$KP" audit vkey --data "$DEMO")" "$V0"
cp "$DEMO/keys/audit-signing.pub" "$WORK/original.pub"

# One rotation at a time: a second one, while the keys are locked, is refused.
exec 9<"$DEMO/keys"
flock 9
out=$("$KP" audit key rotate --data "$DEMO" 2>&1) && rc=0 || rc=$?
exec 9<&-
expect "a rotation while another holds the keys is refused" 1 "$rc"
expect_contains "saying so" "another rotation" "$out"
[ ! -e "$DEMO/keys/audit-signing.key.new" ] && pass "and it wrote no key" || fail "and it wrote no key"

out=$("$KP" audit key rotate --data "$DEMO" 2>"$WORK/rotate.err") && rc=0 || rc=$?
expect "audit key rotate succeeds on a running installation" 0 "$rc"
expect_contains "it says which key took over" "audit signing key 1 took over" "$out"
expect_contains "it prints the hand-over signed by both keys" "kruispunt-key-handover/v1" "$out"
V1=$("$KP" audit vkey --data "$DEMO")
[ "$V1" != "$V0" ] && pass "audit vkey shows the new key" || fail "audit vkey shows the new key"
expect "the old public key is kept" "$(xxd -p -c 64 "$WORK/original.pub")" "$(xxd -p -c 64 "$DEMO/keys/audit-signing-0.pub")"
[ ! -e "$DEMO/keys/audit-signing.key.new" ] && pass "no key is left half-installed" || fail "no key is left half-installed"
expect "one hand-over is recorded" 1 "$(db_query "$DEMO" "SELECT count(*) FROM audit_key_handover")"

# The daemon notices the hand-over and takes the new key from its file.
for _ in $(seq 50); do
  call GET "$PUB/log/vkey"
  [ "$(cat "$BODY")" = "$V1" ] && break
  sleep 0.2
done
expect "the running daemon serves the new vkey" "$V1" "$(cat "$BODY")"
call GET "$PUB/readyz"
expect "and is ready" 200 "$STATUS"
call GET "$PUB/log/checkpoint"
expect "its checkpoint note answers" 200 "$STATUS"
id=$(python3 -c 'import base64,sys; l=[x for x in open(sys.argv[1]).read().split("\n") if x.startswith("\u2014 ")][0]; print(base64.b64decode(l.split(" ")[2])[:4].hex())' "$BODY")
expect "and is signed by the new key" "$(echo "$V1" | cut -d+ -f2)" "$id"
call GET "$PUB/api/v1/audit/checkpoint"
expect "the JSON checkpoint names the key that signed it" 1 "$(json "$BODY" 'j["key_id"]')"
expect "and gives that key" "$(xxd -p -c 64 "$DEMO/keys/audit-signing.pub")" "$(json "$BODY" 'j["public_key"]')"
expect "checkpoints after the hand-over name key 1" 1 "$(db_query "$DEMO" "SELECT key_id FROM audit_checkpoint ORDER BY tree_size DESC LIMIT 1")"
stop_demo
expect "the demo stops cleanly" 0 "$DEMO_RC"
expect "its final checkpoint is the new key's" 1 "$(db_query "$DEMO" "SELECT key_id FROM audit_checkpoint ORDER BY tree_size DESC LIMIT 1")"

out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "audit verify after the rotation: intact" 0 "$rc"
expect_contains "across two signing keys" "2 signing keys" "$out"
out=$("$KP" audit verify --data "$DEMO" --public-key "$WORK/original.pub" 2>&1) && rc=0 || rc=$?
expect "an auditor with only the original key follows the hand-over" 0 "$rc"
expect_contains "verify shows each key and its term" "signing key 0: $V0, tree sizes 0 to" "$out"
expect_contains "and where the chain ends" "signing key 1: $V1, tree sizes" "$out"
out=$("$KP" audit verify --data "$DEMO" --newest-key "$V1" 2>&1) && rc=0 || rc=$?
expect "an auditor may require the chain to end at the newest key" 0 "$rc"
out=$("$KP" audit verify --data "$DEMO" --newest-key "$WORK/original.pub" 2>&1) && rc=0 || rc=$?
expect "a chain that goes on past the key the auditor holds is not trusted" 1 "$rc"
expect_contains "saying so" "does not end at the newest key" "$out"
out=$("$KP" audit vkey --data "$DEMO" --chain 2>&1)
expect_contains "audit vkey --chain lists the original key" "signing key 0: $V0" "$out"
expect_contains "and the newest" "signing key 1: $V1, from tree size" "$out"

# A rotation recorded whose key files were not installed (the command was
# cut off, or told the commit failed when it had landed): the next run
# installs them, and records nothing more.
cp "$DEMO/keys/audit-signing.key" "$WORK/key1"
cp "$DEMO/keys/audit-signing.pub" "$WORK/pub1"
"$KP" audit key rotate --data "$DEMO" >/dev/null 2>&1
mv "$DEMO/keys/audit-signing.key" "$DEMO/keys/audit-signing.key.new"
cp "$WORK/key1" "$DEMO/keys/audit-signing.key"
cp "$WORK/pub1" "$DEMO/keys/audit-signing.pub"
rm "$DEMO/keys/audit-signing-1.pub"
out=$("$KP" audit key rotate --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "a recorded rotation left half done is finished" 0 "$rc"
expect_contains "saying so" "is installed now" "$out"
expect "no further hand-over is recorded" 2 "$(db_query "$DEMO" "SELECT count(*) FROM audit_key_handover")"
expect "the chain's newest key is installed" "$(db_query "$DEMO" "SELECT new_vkey FROM audit_key_handover WHERE key_id = 2")" "$("$KP" audit vkey --data "$DEMO")"
[ ! -e "$DEMO/keys/audit-signing.key.new" ] && pass "and nothing is left over" || fail "and nothing is left over"
# ...while a left-over key the chain never named is kept and named.
head -c 64 /dev/urandom > "$DEMO/keys/audit-signing.key.new"
out=$("$KP" audit key rotate --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "a left-over key the log never recorded stops the rotation" 1 "$rc"
expect_contains "naming the chain's newest key" "newest signing key is $("$KP" audit vkey --data "$DEMO")" "$out"
[ -e "$DEMO/keys/audit-signing.key.new" ] && pass "and the file is not removed" || fail "and the file is not removed"
rm "$DEMO/keys/audit-signing.key.new"
out=$("$KP" audit verify --data "$DEMO" --newest-key "$("$KP" audit vkey --data "$DEMO")" 2>&1) && rc=0 || rc=$?
expect "the log verifies to its third key" 0 "$rc"
head -c 32 /dev/urandom > "$WORK/other.pub"
out=$("$KP" audit verify --data "$DEMO" --public-key "$WORK/other.pub" 2>&1) && rc=0 || rc=$?
expect "a key that is none of the log's is refused" 1 "$rc"
expect_contains "saying so" "none of the log's" "$out"

# Someone with the database: a checkpoint claimed for an unknown key.
db_copy "$DEMO" "$WORK/unknown"
size=$(db_query "$DEMO" "SELECT max(tree_size) FROM audit_checkpoint")
db_query "$WORK/unknown" "$(sql_drop_trigger audit_checkpoint_immutable audit_checkpoint); UPDATE audit_checkpoint SET key_id = 9 WHERE tree_size = $size"
out=$(with_db "$WORK/unknown" "$KP" audit verify --data "$WORK/unknown" 2>&1) && rc=0 || rc=$?
expect "attack: a checkpoint of an unknown key makes verify fail" 1 "$rc"
expect_contains "it names the unknown key" "which no hand-over introduced" "$out"
# ...or the hand-over itself, rewritten to another new key.
db_copy "$DEMO" "$WORK/forged"
db_query "$WORK/forged" "$(sql_drop_trigger audit_key_handover_immutable audit_key_handover); UPDATE audit_key_handover SET note = replace(note, '$(echo "$V1" | cut -d+ -f3)', '$(echo "$V0" | cut -d+ -f3)'), new_vkey = '$V0'"
out=$(with_db "$WORK/forged" "$KP" audit verify --data "$WORK/forged" --public-key "$WORK/original.pub" 2>&1) && rc=0 || rc=$?
expect "attack: a rewritten hand-over makes verify fail" 1 "$rc"
out=$(db_query "$DEMO" "DELETE FROM audit_key_handover" 2>&1 || true)
expect_contains "a hand-over is never deleted" "never deleted" "$out"
finish
