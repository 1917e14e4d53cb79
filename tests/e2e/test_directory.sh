#!/usr/bin/env bash
# The reference directory over the network API: integrate, read, close;
# the anti-fraud rule between two health insurance funds of one branch;
# each institution sees only its own dossiers; every request naming a
# person in the audit log; nothing stored on a refusal.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
FUND_A=$(institution_cert 0411111140)
FUND_B=$(institution_cert 0422222291)
OCMW=$(institution_cert 0212312313)
dossiers() { db_query "$DEMO" "SELECT count(*) FROM dossier"; }
events() { db_query "$DEMO" "SELECT count(*) FROM audit_event"; }

n0=$(dossiers); e0=$(events)
call POST "$NET/api/v1/directory/dossiers" $FUND_A "${J[@]}" -d '{"insz":"01010100126","capacity":"001","start":"2026-01-01","phase":2}'
expect "a fund integrates a person" 201 "$STATUS"
id=$(json "$BODY" 'j["id"]')
expect "the dossier is open" null "$(json "$BODY" 'j["end"]')"
expect "the integration is audited" $((e0 + 1)) "$(events)"
expect_contains "as granted, about that person" "subject:11:01010100126" "$(last_event)"
call GET "$NET/api/v1/directory/dossiers/$id" $FUND_A
expect "the fund reads its dossier" 200 "$STATUS"
expect "with its capacity" 001 "$(json "$BODY" 'j["capacity"]')"
call GET "$NET/api/v1/directory/dossiers/$id" $FUND_B
expect "another institution cannot see it (404, as if absent)" 404 "$STATUS"

# --- the anti-fraud rule
e1=$(events)
call POST "$NET/api/v1/directory/dossiers" $FUND_B "${J[@]}" -d '{"insz":"01010100126","capacity":1,"start":"2026-06-01","end":"2026-12-31"}'
expect "attack: the second fund of the branch cannot overlap" 409 "$STATUS"
expect "code directory_conflict" directory_conflict "$(json "$BODY" 'j["code"]')"
detail=$(json "$BODY" 'j["detail"]')
case "$detail" in *Ziekenfonds*|*0411111140*) fail "the refusal names the other fund" ;; *) pass "the refusal names nothing about the other fund" ;; esac
expect "nothing stored" $((n0 + 1)) "$(dossiers)"
expect "the refusal is audited" $((e1 + 1)) "$(events)"
expect_contains "with its reason" "reason:18:directory_conflict" "$(last_event)"
call POST "$NET/api/v1/directory/dossiers" $FUND_A "${J[@]}" -d '{"insz":"01010100126","capacity":"001","start":"2026-03-01"}'
expect "a fund cannot overlap its own dossier" dossier_overlap "$(json "$BODY" 'j["code"]')"
call POST "$NET/api/v1/directory/dossiers" $OCMW "${J[@]}" -d '{"insz":"01010100126","capacity":"001","start":"2026-06-01"}'
expect "another branch may integrate the same person" 201 "$STATUS"

# --- closing
call POST "$NET/api/v1/directory/dossiers/$id/close" $FUND_B "${J[@]}" -d '{"end":"2026-05-31"}'
expect "another institution cannot close it" 404 "$STATUS"
call POST "$NET/api/v1/directory/dossiers/$id/close" $FUND_A "${J[@]}" -d '{"end":"2025-12-31"}'
expect "an end before the start is refused" invalid_period "$(json "$BODY" 'j["code"]')"
call POST "$NET/api/v1/directory/dossiers/$id/close" $FUND_A "${J[@]}" -d '{"end":"2026-05-31"}'
expect "the fund closes its dossier" 200 "$STATUS"
expect "on the given day" 2026-05-31 "$(json "$BODY" 'j["end"]')"
call POST "$NET/api/v1/directory/dossiers" $FUND_B "${J[@]}" -d '{"insz":"01010100126","capacity":"001","start":"2026-06-01"}'
expect "now the second fund may take over" 201 "$STATUS"
call POST "$NET/api/v1/directory/dossiers/$id/close" $FUND_A "${J[@]}" -d '{"end":"2026-05-30"}'
expect "a closed dossier is not closed again" dossier_closed "$(json "$BODY" 'j["code"]')"

# --- bad input stores nothing
n1=$(dossiers)
for body in '{"insz":"01010100127","capacity":"001","start":"2026-01-01"}' \
            '{"insz":"01010100126","capacity":"077","start":"2026-01-01"}' \
            '{"insz":"01010100126","capacity":"901","start":"2026-01-01"}' \
            '{"insz":"01010100126","capacity":"002","start":"2026-02-30"}' \
            '{"insz":"78052216473","capacity":"001","start":"2030-01-01","end":"2029-01-01"}' \
            '{"insz":"01010100126","capacity":"001","start":"2026-01-01","phase":0}'; do
  call POST "$NET/api/v1/directory/dossiers" $FUND_A "${J[@]}" -d "$body"
  expect "refused: $body" 422 "$STATUS"
done
call POST "$NET/api/v1/directory/dossiers" $FUND_A "${J[@]}" -d '{"insz":"88120107779","capacity":"001","start":"2030-01-01"}'
expect "a person the registers know works" 201 "$STATUS"
nobody=$(python3 -c 'n=770101001; print("%09d%02d" % (n, 97 - n % 97))')
call POST "$NET/api/v1/directory/dossiers" $FUND_A "${J[@]}" -d "{\"insz\":\"$nobody\",\"capacity\":\"001\",\"start\":\"2026-01-01\"}"
expect "a valid INSZ the registers do not know is 404" unknown_person "$(json "$BODY" 'j["code"]')"
expect "nothing else was stored" $((n1 + 1)) "$(dossiers)"
call POST "$NET/api/v1/directory/dossiers" "${J[@]}" -d '{"insz":"01010100126","capacity":"001","start":"2026-01-01"}'
expect "no certificate: 401" 401 "$STATUS"
expired=$(json "$DEMO/demo.json" 'j["test_certificates"]["expired_eid"]["cert"]')
expired_key=$(json "$DEMO/demo.json" 'j["test_certificates"]["expired_eid"]["key"]')
call POST "$NET/api/v1/directory/dossiers" --cert "$DEMO/$expired" --key "$DEMO/$expired_key" "${J[@]}" -d '{"insz":"01010100126","capacity":"001","start":"2026-01-01"}'
expect "an expired certificate: 401" 401 "$STATUS"

stop_demo
out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "the audit log verifies" 0 "$rc"
finish
