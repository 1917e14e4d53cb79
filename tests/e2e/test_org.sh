#!/usr/bin/env bash
# Organisations and roles by the operator's CLI, next to a running daemon:
# every grant and revoke is an audit event, the daemon numbers its own
# events after them, and the log verifies.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
events() { db_query "$DEMO" "SELECT count(*) FROM audit_event"; }

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
rc=0; "$KP" org grant --data "$DEMO" --kbo 0203201340 --insz 77010100141 --role access_manager --until "$until" >/dev/null 2>&1 || rc=$?
expect "a person the registers do not know gets no role" 1 "$rc"
rc=0; "$KP" org grant --data "$DEMO" --kbo 0203201340 --insz 90031524651 --role emperor --until "$until" >/dev/null 2>&1 || rc=$?
expect "an unknown role is refused" 1 "$rc"
expect "both refusals are audit events too" $((e0 + 3)) "$(events)"

# The daemon appends after the CLI did: it must notice and renumber.
call POST "$NET/api/v1/registry/bis" $(institution_cert 0411111140) "${J[@]}" -d '{"last_name":"Nowak","first_names":"Jan"}'
expect "the daemon keeps auditing after the CLI wrote" 201 "$STATUS"
expect "one more event" $((e0 + 4)) "$(events)"

out=$("$KP" org revoke --data "$DEMO" --kbo 0203201340 --id "$id" 2>&1) && rc=0 || rc=$?
expect "the operator revokes the role" 0 "$rc"
expect "the revocation is an audit event" $((e0 + 5)) "$(events)"
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

# --- the access manager manages roles herself, through the API
login() {
  call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$(person "$1" username)\",\"password\":\"$(person "$1" password)\"}"
  TOKEN=$(json "$BODY" 'j["token"]')
}
login 83061814038; SA=(-H "Authorization: Bearer $TOKEN")
call GET "$PUB/api/v1/orgs/0412345614/roles" "${SA[@]}"
expect "at level 200 the access manager is refused" insufficient_level "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/auth/step-up" "${SA[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$(oathtool --totp -b "$(person 83061814038 totp_secret)")\"}"
expect "she steps up with her authenticator" 400 "$(json "$BODY" 'j["level"]')"
call GET "$PUB/api/v1/orgs/0412345614/roles" "${SA[@]}"
expect "at 400 she lists her organisation's roles" 200 "$STATUS"
expect_contains "among them her own" access_manager "$(json "$BODY" '[r["role"] for r in j]')"
call GET "$PUB/api/v1/orgs/0207521107/roles" "${SA[@]}"
expect "not another organisation's" 403 "$STATUS"
login 85073003328; JA=(-H "Authorization: Bearer $TOKEN")
call POST "$PUB/api/v1/auth/step-up" "${JA[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$(oathtool --totp -b "$(person 85073003328 totp_secret)")\"}"
call GET "$PUB/api/v1/orgs/0412345614/roles" "${JA[@]}"
expect "a citizen without the role is refused" 403 "$STATUS"
expect "role_required" role_required "$(json "$BODY" 'j["code"]')"
expect "naming the role" access_manager "$(json "$BODY" 'j["role"]')"
expect "and why: missing" missing "$(json "$BODY" 'j["reason"]')"
# An expired role, then a revoked one: the same refusal, another reason.
"$KP" org grant --data "$DEMO" --kbo 0412345614 --insz 85073003328 --role access_manager \
  --from "$(date -u -d '-2 months' +%F)" --until "$(date -u -d yesterday +%F)" >/dev/null
call GET "$PUB/api/v1/orgs/0412345614/roles" "${JA[@]}"
expect "an expired role: 403" 403 "$STATUS"
expect "reason expired" expired "$(json "$BODY" 'j["reason"]')"
out=$("$KP" org grant --data "$DEMO" --kbo 0412345614 --insz 85073003328 --role access_manager --until "$until")
jam=$(echo "$out" | sed -n 's/.*(id \([0-9]*\)).*/\1/p')
"$KP" org revoke --data "$DEMO" --kbo 0412345614 --id "$jam" >/dev/null
call GET "$PUB/api/v1/orgs/0412345614/roles" "${JA[@]}"
expect "a revoked role: 403" 403 "$STATUS"
expect "reason revoked" revoked "$(json "$BODY" 'j["reason"]')"
call POST "$PUB/api/v1/auth/profile" "${JA[@]}" "${J[@]}" -d '{"organisation":"0412345614"}'
expect "and cannot act for the organisation" not_representative "$(json "$BODY" 'j["code"]')"

e0=$(events)
call POST "$PUB/api/v1/orgs/0412345614/roles" "${SA[@]}" "${J[@]}" -d "{\"insz\":\"85.07.30-033.28\",\"role\":\"mandate_consult\",\"valid_until\":\"$until\"}"
expect "she gives Jan a role" 201 "$STATUS"
rid=$(json "$BODY" 'j["id"]')
expect "granted by her" 83061814038 "$(json "$BODY" 'j["granted_by"]')"
expect "an audit event" $((e0 + 1)) "$(events)"
call POST "$PUB/api/v1/auth/profile" "${JA[@]}" "${J[@]}" -d '{"organisation":"0412345614"}'
expect "Jan now acts for the organisation" org:0412345614 "$(json "$BODY" 'j["profile"]')"
e0=$(events); n0=$(db_query "$DEMO" "SELECT count(*) FROM role_assignment")
call POST "$PUB/api/v1/orgs/0412345614/roles" "${SA[@]}" "${J[@]}" -d "{\"insz\":\"77010100141\",\"role\":\"mandate_consult\",\"valid_until\":\"$until\"}"
expect "a person the registers do not know gets no role" unknown_person "$(json "$BODY" 'j["code"]')"
expect "the refusal is audited" $((e0 + 1)) "$(events)"
call POST "$PUB/api/v1/orgs/0412345614/roles" "${SA[@]}" "${J[@]}" -d "{\"insz\":\"85073003328\",\"role\":\"emperor\",\"valid_until\":\"$until\"}"
expect "an unknown role is refused" invalid_role "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/orgs/0412345614/roles" "${SA[@]}" "${J[@]}" -d '{"insz":"85073003328","role":"lra_officer"}'
expect "a role without an end is refused" 422 "$STATUS"
call POST "$PUB/api/v1/orgs/0412345614/roles" "${SA[@]}" "${J[@]}" -d "{\"insz\":\"85073003329\",\"role\":\"lra_officer\",\"valid_until\":\"$until\"}"
expect "an INSZ with a bad check digit is refused" invalid_insz "$(json "$BODY" 'j["code"]')"
expect "refused grants add nothing" "$n0" "$(db_query "$DEMO" "SELECT count(*) FROM role_assignment")"
# Bounded validity, and renewal as its own call.
call POST "$PUB/api/v1/orgs/0412345614/roles" "${SA[@]}" "${J[@]}" -d "{\"insz\":\"85073003328\",\"role\":\"lra_officer\",\"valid_until\":\"$(date -u -d '+13 months' +%F)\"}"
expect "no role for more than a year" validity_too_long "$(json "$BODY" 'j["code"]')"
own=$(db_query "$DEMO" "SELECT max(valid_until) FROM role_assignment WHERE insz='83061814038' AND kbo='0412345614' AND role='access_manager' AND revoked_at IS NULL")
call POST "$PUB/api/v1/orgs/0412345614/roles" "${SA[@]}" "${J[@]}" -d "{\"insz\":\"83061814038\",\"role\":\"lra_officer\",\"valid_from\":\"$(date -u -d tomorrow +%F)\",\"valid_until\":\"$(date -u -d "$own +1 day" +%F)\"}"
expect "she cannot give herself more than her own role" beyond_own_role "$(json "$BODY" 'j["code"]')"
e0=$(events); later=$(date -u -d '+9 months' +%F)
call POST "$PUB/api/v1/orgs/0412345614/roles/$rid/renew" "${SA[@]}" "${J[@]}" -d "{\"valid_until\":\"$later\"}"
expect "she renews Jan's role" 200 "$STATUS"
expect "until the new date" "$later" "$(json "$BODY" 'j["valid_until"]')"
call POST "$PUB/api/v1/orgs/0412345614/roles/$rid/renew" "${SA[@]}" "${J[@]}" -d "{\"valid_until\":\"$(date -u -d '+13 months' +%F)\"}"
expect "a renewal is bounded too" validity_too_long "$(json "$BODY" 'j["code"]')"
expect "both renewals are audit events" $((e0 + 2)) "$(events)"
call POST "$PUB/api/v1/orgs/0412345614/roles/$rid/revoke" "${SA[@]}"
expect "she revokes it" revoked "$(json "$BODY" 'j["status"]')"
call POST "$PUB/api/v1/auth/profile" "${JA[@]}" "${J[@]}" -d '{"organisation":"0412345614"}'
expect "at once Jan can no longer act for it" not_representative "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/orgs/0412345614/roles/$rid/revoke" "${SA[@]}"
expect "revoked once" 409 "$STATUS"
call POST "$PUB/api/v1/orgs/0412345614/roles/99999/revoke" "${SA[@]}"
expect "an unknown assignment is 404" 404 "$STATUS"

call POST "$PUB/api/v1/orgs/0412345614/circle-of-trust" "${SA[@]}" "${J[@]}" -d '{"accept":false,"processing_register_ref":"REG-1"}'
expect "the circle of trust is accepted, not negotiated" 422 "$STATUS"
call POST "$PUB/api/v1/orgs/0412345614/circle-of-trust" "${SA[@]}" "${J[@]}" -d '{"accept":true}'
expect "it needs the processing register's reference" 422 "$STATUS"
call POST "$PUB/api/v1/orgs/0412345614/circle-of-trust" "${SA[@]}" "${J[@]}" -d '{"accept":true,"processing_register_ref":"VWR-2026-014"}'
expect "the organisation joins the circle of trust" 201 "$STATUS"
expect "recorded" VWR-2026-014 "$(db_query "$DEMO" "SELECT register_ref FROM circle_of_trust WHERE kbo='0412345614'")"

stop_demo
out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "the audit log written by daemon and CLI verifies" 0 "$rc"
finish
