#!/usr/bin/env bash
# Employment declarations over real TLS: the bakery's access manager gives
# herself the employment_declarant role, steps up to 400 with her
# authenticator app, acts for the bakery and declares a student's work;
# a correction and a cancellation are new declarations naming the old;
# without the role, for another organisation, or with bad fields: refused,
# and every declaration and refusal is an audit event about the worker.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
SARA=83061814038
BAKERY=0412345614
LUCAS=01010100126

call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$(person $SARA username)\",\"password\":\"$(person $SARA password)\"}"
S=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call POST "$PUB/api/v1/auth/step-up" "${S[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$(oathtool --totp -b "$(person $SARA totp_secret)")\"}"
expect "Sara steps up to 400 with her app" 400 "$(json "$BODY" 'j["level"]')"
call POST "$PUB/api/v1/auth/profile" "${S[@]}" "${J[@]}" -d "{\"organisation\":\"$BAKERY\"}"
expect "and acts for the bakery" "org:$BAKERY" "$(json "$BODY" 'j["profile"]')"

DECL="{\"employer\":\"$BAKERY\",\"worker\":\"$LUCAS\",\"kind\":\"student\",\"start\":\"$(date -u +%Y)-07-01\",\"end\":\"$(date -u +%Y)-07-31\",\"hours\":80}"
call POST "$PUB/api/v1/employment/declarations" "${S[@]}" "${J[@]}" -d "$DECL"
expect "attack: without the employment_declarant role, no declaration" role_required "$(json "$BODY" 'j["code"]')"
expect "the role is named" employment_declarant "$(json "$BODY" 'j["role"]')"
expect_contains "and the refusal is recorded about the worker" "subject:11:$LUCAS" "$(last_event)"
expect_contains "as refused for want of the role" "reason:13:role_required" "$(last_event)"

until=$(date -u -d '+6 months' +%F)
"$KP" org grant --data "$DEMO" --kbo "$BAKERY" --insz "$SARA" --role employment_declarant --until "$until" >/dev/null
call POST "$PUB/api/v1/employment/declarations" "${S[@]}" "${J[@]}" -d "$DECL"
expect "with the role, a student's work is declared" 201 "$STATUS"
first=$(json "$BODY" 'j["id"]')
expect_contains "recorded about the worker" "subject:11:$LUCAS" "$(last_event)"
expect_contains "by the bakery" "actor:10:$BAKERY" "$(last_event)"

call POST "$PUB/api/v1/employment/declarations" "${S[@]}" "${J[@]}" -d "${DECL/\"hours\":80/\"hours\":60,\"replaces\":$first}"
expect "a correction is a new declaration naming the old" 201 "$STATUS"
second=$(json "$BODY" 'j["id"]')
call POST "$PUB/api/v1/employment/declarations" "${S[@]}" "${J[@]}" -d "${DECL/\"hours\":80/\"hours\":50,\"replaces\":$first}"
expect "a declaration is replaced once only" 409 "$STATUS"
call POST "$PUB/api/v1/employment/declarations" "${S[@]}" "${J[@]}" -d "{\"employer\":\"$BAKERY\",\"worker\":\"$LUCAS\",\"cancel\":true,\"replaces\":$second}"
expect "a cancellation too" 201 "$STATUS"
expect "nothing was updated or deleted" 3 "$(db_query "$DEMO" "SELECT count(*) FROM employ_declaration WHERE worker='$LUCAS'")"

call POST "$PUB/api/v1/employment/declarations" "${S[@]}" "${J[@]}" -d "${DECL/$BAKERY/0444444496}"
expect "attack: not for an organisation the session does not act for" 403 "$STATUS"
call POST "$PUB/api/v1/employment/declarations" "${S[@]}" "${J[@]}" -d "${DECL/\"student\"/\"slave\"}"
expect "an unknown kind is refused" invalid_field "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/employment/declarations" "${S[@]}" "${J[@]}" -d "${DECL/$LUCAS/01010100127}"
expect "an invalid worker number is refused" invalid_insz "$(json "$BODY" 'j["code"]')"

stop_demo
out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "the audit log verifies" 0 "$rc"
finish
