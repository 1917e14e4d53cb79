#!/usr/bin/env bash
# Organisations and roles by the operator's CLI, next to a running daemon:
# every grant and revoke is an audit event, the daemon numbers its own
# events after them, and the log verifies.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
DB=$DEMO/kruispunt.db
events() { sqlite3 "$DB" "SELECT count(*) FROM audit_event"; }

expect "demo.json lists the registration officer's role" lra_officer \
  "$(json "$DEMO/demo.json" '[r["role"] for p in j["persons"] if p["insz"]=="78052216473" for r in p["roles"]][0]')"
out=$("$KP" org roles --data "$DEMO" --kbo 0207521107)
expect_contains "the municipality's roles" "lra_officer" "$out"

out=$("$KP" org add --data "$DEMO" --kbo 0203.201.340 --name "Test NV" --category employer 2>&1) && rc=0 || rc=$?
expect "the operator registers an organisation" 0 "$rc"
rc=0; "$KP" org add --data "$DEMO" --kbo 0203201341 --name X >/dev/null 2>&1 || rc=$?
expect "an invalid enterprise number is refused" 1 "$rc"
rc=0; "$KP" org add --data "$DEMO" --kbo 0412345614 --name X --category bakery >/dev/null 2>&1 || rc=$?
expect "an unknown category is refused" 1 "$rc"

e0=$(events)
until=$(date -u -d '+6 months' +%F)
out=$("$KP" org grant --data "$DEMO" --kbo 0203201340 --insz 90031524651 --role access_manager --until "$until" 2>&1) && rc=0 || rc=$?
expect "the operator appoints the first access manager" 0 "$rc"
id=$(echo "$out" | sed -n 's/.*(id \([0-9]*\)).*/\1/p')
expect "the grant is an audit event" $((e0 + 1)) "$(events)"
rc=0; "$KP" org grant --data "$DEMO" --kbo 0203201340 --insz 77010100167 --role access_manager --until "$until" >/dev/null 2>&1 || rc=$?
expect "a person the registers do not know gets no role" 1 "$rc"
rc=0; "$KP" org grant --data "$DEMO" --kbo 0203201340 --insz 90031524651 --role emperor --until "$until" >/dev/null 2>&1 || rc=$?
expect "an unknown role is refused" 1 "$rc"

# The daemon appends after the CLI did: it must notice and renumber.
call POST "$NET/api/v1/registry/bis" $(institution_cert 0411111140) "${J[@]}" -d '{"last_name":"Nowak","first_names":"Jan"}'
expect "the daemon keeps auditing after the CLI wrote" 201 "$STATUS"
expect "one more event" $((e0 + 2)) "$(events)"

out=$("$KP" org revoke --data "$DEMO" --kbo 0203201340 --id "$id" 2>&1) && rc=0 || rc=$?
expect "the operator revokes the role" 0 "$rc"
expect "the revocation is an audit event" $((e0 + 3)) "$(events)"
expect_contains "and the role shows as revoked" "revoked" "$("$KP" org roles --data "$DEMO" --kbo 0203201340)"
rc=0; "$KP" org revoke --data "$DEMO" --kbo 0203201340 --id "$id" >/dev/null 2>&1 || rc=$?
expect "a revoked role is not revoked twice" 1 "$rc"

# --- a new institution joins the network: operator CLI, real certificate
"$KP" directory data-type --data "$DEMO" --code pension_rights --source pension_service --label "pension rights" >/dev/null
"$KP" directory capacity --data "$DEMO" --branch pensions --code 001 --label pensioner >/dev/null
out=$("$KP" directory availability --data "$DEMO" --actor-type pension_service --capacity 001 --data-type pension_rights 2>&1) && rc=0 || rc=$?
expect "the operator records reference data" 0 "$rc"
rc=0; "$KP" directory availability --data "$DEMO" --actor-type x --capacity 001 --data-type nothing >/dev/null 2>&1 || rc=$?
expect "availability of an unknown data type is refused" 1 "$rc"
"$KP" org add --data "$DEMO" --kbo 0203201340 --name "Test NV" >/dev/null 2>&1 || true
out=$("$KP" org institution --data "$DEMO" --kbo 0203201340 --actor-type pension_service --branch pensions 2>&1) && rc=0 || rc=$?
expect "the operator makes it an institution" 0 "$rc"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/new.key" -out "$WORK/new.csr" -subj "/C=BE/O=Test NV/CN=Test NV network client" 2>/dev/null
openssl x509 -req -in "$WORK/new.csr" -CA "$DEMO/pki/ca.pem" -CAkey "$DEMO/pki/ca.key" -set_serial 4242 -days 30 -extfile "$DEMO/pki/openssl.cnf" -extensions client_ext -out "$WORK/new.crt" 2>/dev/null
call GET "$NET/api/v1/network/whoami" --cert "$WORK/new.crt" --key "$WORK/new.key"
expect "before registration its certificate is nobody's (401)" 401 "$STATUS"
out=$("$KP" org cert --data "$DEMO" --kbo 0203201340 --cert "$WORK/new.crt" 2>&1) && rc=0 || rc=$?
expect "the operator registers its certificate" 0 "$rc"
call GET "$NET/api/v1/network/whoami" --cert "$WORK/new.crt" --key "$WORK/new.key"
expect "now it is on the network" 200 "$STATUS"
expect "as a pension service" pension_service "$(json "$BODY" 'j["actor_type"]')"

stop_demo
out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "the audit log written by daemon and CLI verifies" 0 "$rc"
finish
