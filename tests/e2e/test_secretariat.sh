#!/usr/bin/env bash
# A social secretariat declares for the employer affiliated with it, over
# real TLS: the bakery's access manager (level 400 by her app) ends the
# demo's affiliation and affiliates the secretariat anew; the secretariat's
# payroll clerk logs in with her app, acts for the secretariat and declares
# a student's hours for the bakery, recorded as coming through the
# secretariat; refused for an employer that is no client, for a non-
# secretariat, twice at once, without the access manager's role, and once
# the affiliation ended.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
SARA=83061814038
HANNE=86091420679
BAKERY=0412345614
SECRETARIAT=0456789034
SUPERMARKET=0444444496
LUCAS=01010100126

expect "demo.json names the bakery's social secretariat" "$SECRETARIAT" \
  "$(json "$DEMO/demo.json" "[o for o in j['organisations'] if o['kbo']=='$BAKERY'][0]['social_secretariat']")"

# login_400 INSZ KBO: log in, step up by TOTP, act for KBO; sets TOKEN.
login_400() {
  call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$(person "$1" username)\",\"password\":\"$(person "$1" password)\"}"
  TOKEN=$(json "$BODY" 'j["token"]')
  call POST "$PUB/api/v1/auth/step-up" -H "Authorization: Bearer $TOKEN" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$(oathtool --totp -b "$(person "$1" totp_secret)")\"}"
  expect "$1 steps up to 400 with the app" 400 "$(json "$BODY" 'j["level"]')"
  call POST "$PUB/api/v1/auth/profile" -H "Authorization: Bearer $TOKEN" "${J[@]}" -d "{\"organisation\":\"$2\"}"
  expect "$1 acts for $2" "org:$2" "$(json "$BODY" 'j["profile"]')"
}

login_400 $SARA $BAKERY
M=(-H "Authorization: Bearer $TOKEN")
AFF="$PUB/api/v1/orgs/$BAKERY/social-secretariats"
call GET "$AFF" "${M[@]}"
expect "the access manager lists the bakery's affiliations" 200 "$STATUS"
demo_id=$(json "$BODY" '[a["id"] for a in j if a["status"]=="active"][0]')
call DELETE "$AFF/$demo_id" "${M[@]}"
expect "she ends the demo's affiliation" revoked "$(json "$BODY" 'j["status"]')"
expect "kept, with who ended it" "$SARA" "$(json "$BODY" 'j["revoked_by"]')"
call DELETE "$AFF/$demo_id" "${M[@]}"
expect "an ended affiliation ends once" already_ended "$(json "$BODY" 'j["code"]')"

call POST "$AFF" "${M[@]}" "${J[@]}" -d "{\"kbo\":\"$SUPERMARKET\"}"
expect "attack: an employer is no social secretariat" 422 "$STATUS"
expect "said so" not_a_social_secretariat "$(json "$BODY" 'j["code"]')"
call POST "$AFF" "${M[@]}" "${J[@]}" -d "{\"kbo\":\"$SECRETARIAT\"}"
expect "the bakery affiliates the secretariat" 201 "$STATUS"
aff=$(json "$BODY" 'j["id"]')
expect "active from today" active "$(json "$BODY" 'j["status"]')"
expect_contains "recorded as the bakery's" "actor:10:$BAKERY" "$(last_event)"
expect_contains "naming the secretariat" "purpose:10:$SECRETARIAT" "$(last_event)"
call POST "$AFF" "${M[@]}" "${J[@]}" -d "{\"kbo\":\"$SECRETARIAT\"}"
expect "one social secretariat at a time" already_affiliated "$(json "$BODY" 'j["code"]')"
expect_contains "the refusal recorded" "reason:18:already_affiliated" "$(last_event)"
call GET "$AFF" "${M[@]}"
expect "current and past listed" 2 "$(json "$BODY" 'len(j)')"

login_400 $HANNE $SECRETARIAT
H=(-H "Authorization: Bearer $TOKEN")
call GET "$AFF" "${H[@]}"
expect "attack: the secretariat's clerk manages no affiliation" 403 "$STATUS"
call POST "$PUB/api/v1/orgs/$SECRETARIAT/social-secretariats" "${H[@]}" "${J[@]}" -d "{\"kbo\":\"$SECRETARIAT\"}"
expect "nor her own organisation's" role_required "$(json "$BODY" 'j["code"]')"

YEAR=$(date -u +%Y)
DECL="{\"employer\":\"$BAKERY\",\"worker\":\"$LUCAS\",\"kind\":\"student\",\"start\":\"$YEAR-08-01\",\"end\":\"$YEAR-08-31\",\"hours\":40}"
call POST "$PUB/api/v1/employment/declarations" "${H[@]}" "${J[@]}" -d "$DECL"
expect "the secretariat declares a student's hours for the bakery" 201 "$STATUS"
expect "through the secretariat" "$SECRETARIAT" "$(json "$BODY" 'j["declared_via"]')"
first=$(json "$BODY" 'j["id"]')
expect "declared_via stored" "$SECRETARIAT|$HANNE|$BAKERY" \
  "$(db_query "$DEMO" "SELECT declared_via, declared_by, employer FROM employ_declaration WHERE id=$first")"
expect_contains "the event names the secretariat as the acting organisation" "actor:10:$SECRETARIAT" "$(last_event)"
expect_contains "and the clerk" "user:11:$HANNE" "$(last_event)"
expect_contains "about the worker" "subject:11:$LUCAS" "$(last_event)"
call POST "$PUB/api/v1/employment/declarations" "${H[@]}" "${J[@]}" -d "${DECL/\"hours\":40/\"hours\":32,\"replaces\":$first}"
expect "the secretariat corrects its declaration" 201 "$STATUS"
call POST "$PUB/api/v1/employment/declarations" "${H[@]}" "${J[@]}" -d "${DECL/$BAKERY/$SUPERMARKET}"
expect "attack: not for an employer that is no client" not_acting_for_employer "$(json "$BODY" 'j["code"]')"
expect_contains "the refusal recorded about the worker" "subject:11:$LUCAS" "$(last_event)"

call DELETE "$AFF/$aff" "${M[@]}"
expect "the bakery ends the affiliation" 200 "$STATUS"
call POST "$PUB/api/v1/employment/declarations" "${H[@]}" "${J[@]}" -d "$DECL"
expect "then the secretariat declares for it no more" 403 "$STATUS"
expect "as not acting for the employer" not_acting_for_employer "$(json "$BODY" 'j["code"]')"
expect_contains "refused, recorded" "reason:23:not_acting_for_employer" "$(last_event)"

stop_demo
out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "the audit log verifies" 0 "$rc"
finish
