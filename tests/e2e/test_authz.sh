#!/usr/bin/env bash
# Authorizations: public to read on both listeners; published by the
# operator (the Crossroads Bank's certificate, or the CLI).
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
KSZ=$(institution_cert 0345678997)
FUND=$(institution_cert 0411111140)

call GET "$PUB/api/v1/authorizations"
expect "the authorizations are public" 200 "$STATUS"
expect "the demo publishes three" 3 "$(json "$BODY" 'len(j)')"
expect "with the contract's fields" "IVC/KSZG/26/071 health_insurance_fund 001 identification health_insurance_rights 2025-01-01" \
  "$(json "$BODY" '" ".join([[a for a in j if a["reference"]=="IVC/KSZG/26/071"][0][k] for k in ("reference","requester_actor_type","capacity","data_type","purpose","valid_from")])')"
call GET "$NET/api/v1/authorizations" $FUND
expect "also on the network listener" 200 "$STATUS"

new='{"reference":"IVC/KSZG/26/001","requester_actor_type":"health_insurance_fund","capacity":"002","data_type":"family_allowance","purpose":"dependent_check","valid_from":"2026-01-01","valid_until":"2028-12-31","min_phase":2}'
call POST "$NET/api/v1/authorizations" $FUND "${J[@]}" -d "$new"
expect "an institution cannot publish authorizations" 403 "$STATUS"
expect "code operator_only" operator_only "$(json "$BODY" 'j["code"]')"
call POST "$NET/api/v1/authorizations" $KSZ "${J[@]}" -d "$new"
expect "the Crossroads Bank publishes one" 201 "$STATUS"
call POST "$NET/api/v1/authorizations" $KSZ "${J[@]}" -d "$new"
expect "the same one twice is a conflict" 409 "$STATUS"
call POST "$NET/api/v1/authorizations" $KSZ "${J[@]}" -d '{"reference":"X/1","requester_actor_type":"health_insurance_fund","capacity":"001","data_type":"nothing_like_it","purpose":"p","valid_from":"2026-01-01"}'
expect "an unknown data type is refused" unknown_data_type "$(json "$BODY" 'j["code"]')"
call POST "$NET/api/v1/authorizations" $KSZ "${J[@]}" -d '{"reference":"X/1","requester_actor_type":"health_insurance_fund","capacity":"001","data_type":"identification","purpose":"p","valid_from":"2026-01-01","valid_until":"2025-01-01"}'
expect "an end before the start is refused" invalid_period "$(json "$BODY" 'j["code"]')"
call POST "$NET/api/v1/authorizations" $KSZ "${J[@]}" -d '{"reference":"X/2","requester_actor_type":"health_insurence_fund","capacity":"001","data_type":"identification","purpose":"p","valid_from":"2026-01-01"}'
expect "an actor type no institution has is refused" 422 "$STATUS"
expect "code unknown_actor_type" unknown_actor_type "$(json "$BODY" 'j["code"]')"
expect_contains "naming the known ones" "health_insurance_fund" "$(json "$BODY" 'j["detail"]')"
call POST "$PUB/api/v1/authorizations" "${J[@]}" -d "$new"
expect "nobody publishes on the public listener" 405 "$STATUS"

out=$("$KP" authz add --data "$DEMO" --reference IVC/KSZG/26/002 --actor-type public_social_welfare_centre --capacity 001 --data-type identification --purpose integration_income_assessment --from 2026-01-01 2>&1) && rc=0 || rc=$?
expect "the operator's CLI publishes one while the daemon runs" 0 "$rc"
out=$("$KP" authz add --data "$DEMO" --reference IVC/KSZG/26/003 --actor-type municipality --capacity 001 --data-type identification --purpose p --from 2026-01-01 2>&1) && rc=0 || rc=$?
expect "the CLI refuses an actor type no institution has" 1 "$rc"
expect_contains "with its code" "unknown_actor_type" "$out"
call GET "$PUB/api/v1/authorizations"
expect "and the API lists all five, none refused" 5 "$(json "$BODY" 'len(j)')"
out=$("$KP" authz list --data "$DEMO")
expect_contains "authz list shows them" "IVC/KSZG/26/002" "$out"
rc=0; "$KP" authz add --data "$DEMO" --reference X --actor-type a --capacity 999 --data-type identification --purpose p --from 2026-01-01 >/dev/null 2>&1 || rc=$?
expect "the CLI refuses a bad capacity" 1 "$rc"
finish
