#!/usr/bin/env bash
# What the portal's organisation pages read besides the role calls: the
# circle-of-trust registration read back (for its access manager only, at
# level 400, audited), and an organisation looked up by its enterprise
# number before a citizen names it as a mandate's holder (a session, valid
# check digits, a stable code for an unknown one).
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
SARA=83061814038
ELS=78052216473
BAKERY=0412345614
events() { db_query "$DEMO" "SELECT count(*) FROM audit_event"; }
# login INSZ: a password session stepped up with the TOTP key; sets AUTH.
login() {
  call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$(person "$1" username)\",\"password\":\"$(person "$1" password)\"}"
  AUTH=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
}
step_up() {
  call POST "$PUB/api/v1/auth/step-up" "${AUTH[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$(oathtool --totp -b "$(person "$1" totp_secret)")\"}"
}

# --- the circle of trust, read back
call GET "$PUB/api/v1/orgs/$BAKERY/circle-of-trust"
expect "attack: without a session" "401 not_authenticated" "$STATUS $(json "$BODY" 'j["code"]')"
login $SARA
call GET "$PUB/api/v1/orgs/$BAKERY/circle-of-trust" "${AUTH[@]}"
expect "at level 200 the access manager is refused" "403 insufficient_level" "$STATUS $(json "$BODY" 'j["code"]')"
step_up $SARA
e0=$(events)
call GET "$PUB/api/v1/orgs/$BAKERY/circle-of-trust" "${AUTH[@]}"
expect "before registering, not accepted" "200 False" "$STATUS $(json "$BODY" 'str(j["accepted"])')"
expect "the read is an audit event" $((e0 + 1)) "$(events)"
expect_contains "naming it" "circle_of_trust_read" "$(last_event)"
call POST "$PUB/api/v1/orgs/$BAKERY/circle-of-trust" "${AUTH[@]}" "${J[@]}" -d '{"accept":true,"processing_register_ref":"VWR-2026-014"}'
expect "she registers it" 201 "$STATUS"
call GET "$PUB/api/v1/orgs/$BAKERY/circle-of-trust" "${AUTH[@]}"
expect "and reads back what was recorded" "True VWR-2026-014 $SARA" \
  "$(json "$BODY" '" ".join([str(j["accepted"]), j["processing_register_ref"], j["accepted_by"]])')"
expect_contains "when" "T" "$(json "$BODY" 'j["accepted_at"]')"
SARA_AUTH=("${AUTH[@]}")
login $ELS
step_up $ELS
call POST "$PUB/api/v1/auth/profile" "${AUTH[@]}" "${J[@]}" -d '{"organisation":"0207521107"}'
expect "Els acts for her municipality" org:0207521107 "$(json "$BODY" 'j["profile"]')"
e0=$(events)
call GET "$PUB/api/v1/orgs/$BAKERY/circle-of-trust" "${AUTH[@]}"
expect "attack: another organisation's access manager" "403 role_required" "$STATUS $(json "$BODY" 'j["code"]')"
expect "a refused read changes nothing" "VWR-2026-014" "$(db_query "$DEMO" "SELECT register_ref FROM circle_of_trust WHERE kbo='$BAKERY'")"
call GET "$PUB/api/v1/orgs/0207521107/circle-of-trust" "${AUTH[@]}"
expect "her own: not registered yet" False "$(json "$BODY" 'str(j["accepted"])')"

# --- an organisation by its enterprise number
call GET "$PUB/api/v1/organisations/$BAKERY"
expect "attack: the lookup without a session" 401 "$STATUS"
AUTH=("${SARA_AUTH[@]}")
call GET "$PUB/api/v1/organisations/0412.345.614?mandate_type=precontractual" "${AUTH[@]}"
expect "the bakery by its registered name, a potential holder" "0412345614 Bakkerij De Kroon BV True" \
  "$(json "$BODY" '" ".join([j["kbo"], j["name"], str(j["may_hold"])])')"
call GET "$PUB/api/v1/organisations/0207521107?mandate_type=precontractual" "${AUTH[@]}"
expect "any registered organisation is a potential employer" "Gemeente Demoville True potential_employer" \
  "$(json "$BODY" '" ".join([j["name"], str(j["may_hold"]), j["holder_category"]])')"
call GET "$PUB/api/v1/organisations/$BAKERY" "${AUTH[@]}"
expect "without a type, the name alone" "Bakkerij De Kroon BV False" "$(json "$BODY" 'j["name"] + " " + str("may_hold" in j)')"
call GET "$PUB/api/v1/organisations/0412345615" "${AUTH[@]}"
expect "attack: a wrong check digit" "422 invalid_kbo" "$STATUS $(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/organisations/0876543270" "${AUTH[@]}"
expect "a number the register does not know" "404 org_unknown" "$STATUS $(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/organisations/$BAKERY?mandate_type=other" "${AUTH[@]}"
expect "an unknown mandate type" "404 unknown_mandate_type" "$STATUS $(json "$BODY" 'j["code"]')"
finish
