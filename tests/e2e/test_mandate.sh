#!/usr/bin/env bash
# Mandates over real TLS: the types and conditions are public; a citizen
# steps up to level 400 with the demo's TOTP key (oathtool), gives the
# bakery a mandate (refused first: too long, an unknown holder, a stale
# version of the conditions), lists it; the bakery's mandate_consult user
# sees it among the mandates active today (an audit event about the
# citizen); another person cannot revoke it, the citizen can, and then the
# bakery no longer sees it.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
JAN=85073003328
SARA=83061814038
BAKERY=0412345614

# login INSZ: a password session stepped up with the TOTP key; sets AUTH.
login() {
  call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$(person "$1" username)\",\"password\":\"$(person "$1" password)\"}"
  AUTH=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
}
step_up() {
  call POST "$PUB/api/v1/auth/step-up" "${AUTH[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$(oathtool --totp -b "$(person "$1" totp_secret)")\"}"
}

# --- the types and the conditions, public
call GET "$PUB/api/v1/mandate-types"
expect "the precontractual type's data sets and longest validity" "student_contingent:P3M flexi_eligibility:P1M" \
  "$(json "$BODY" '" ".join(d["code"]+":"+d["max_validity"] for d in j[0]["data_sets"])')"
expect "its holder categories" "social_mandatary recruitment_agency potential_employer" "$(json "$BODY" '" ".join(j[0]["holder_categories"])')"
call GET "$PUB/api/v1/mandate-types/precontractual/conditions?lang=fr"
expect_contains "the conditions in French" "3 mois" "$(json "$BODY" 'j["text"]')"
VERSION=$(json "$BODY" 'j["version"]')
call GET "$PUB/api/v1/mandate-types/precontractual/conditions?lang=nl"
expect "one version in every language" "$VERSION" "$(json "$BODY" 'j["version"]')"
call GET "$PUB/api/v1/mandate-types/other/conditions"
expect "an unknown type" unknown_mandate_type "$(json "$BODY" 'j["code"]')"

# --- the citizen: a password session is not enough
login $JAN
grant() { call POST "$PUB/api/v1/me/mandates" "${AUTH[@]}" "${J[@]}" -d "$1"; }
grant "{\"type\":\"precontractual\",\"data_set\":\"flexi_eligibility\",\"holder\":\"$BAKERY\",\"conditions_version\":\"$VERSION\"}"
expect "attack: a mandate with a password session (level 200)" insufficient_level "$(json "$BODY" 'j["code"]')"
expect "naming the level it needs" 400 "$(json "$BODY" 'j["required"]')"
step_up $JAN
expect "the TOTP step-up lifts Jan to 400" 400 "$(json "$BODY" 'j["level"]')"

BODY_OK="{\"type\":\"precontractual\",\"data_set\":\"flexi_eligibility\",\"holder\":\"$BAKERY\",\"conditions_version\":\"$VERSION\"}"
grant "${BODY_OK/$VERSION/0-old}"
expect "a stale version of the conditions" "409 conditions_changed" "$STATUS $(json "$BODY" 'j["code"]')"
grant "${BODY_OK/flexi_eligibility\"/flexi_eligibility\",\"valid_until\":\"$(date -u -d '+2 months' +%F)\"}"
expect "longer than a month for flexi-jobs" "422 validity_too_long" "$STATUS $(json "$BODY" 'j["code"]')"
grant "${BODY_OK/flexi_eligibility\"/flexi_eligibility\",\"valid_until\":\"$(date -u -d '+40 days' +%F)\"}"
expect "a flexi mandate asked for 40 days" "422 validity_too_long" "$STATUS $(json "$BODY" 'j["code"]')"
grant "${BODY_OK/$BAKERY/0203201340}"
expect "an enterprise number the register does not know" "422 holder_not_eligible" "$STATUS $(json "$BODY" 'j["code"]')"
expect_contains "each refusal recorded about Jan" "subject:11:$JAN" "$(last_event)"
grant "$BODY_OK"
expect "the mandate is given" 201 "$STATUS"
expect "to the holder Jan sees by name" "Bakkerij De Kroon BV" "$(json "$BODY" 'j["holder_name"]')"
ID=$(json "$BODY" 'j["id"]')
# today + 1 calendar month, clamped to the month's last day
MAX=$(python3 -c 'import datetime,calendar
t=datetime.datetime.now(datetime.timezone.utc).date()
y,m=(t.year+(t.month//12),t.month%12+1)
print(datetime.date(y,m,min(t.day,calendar.monthrange(y,m)[1])))')
expect "by default for the longest validity" "$MAX" "$(json "$BODY" 'j["valid_until"]')"
expect_contains "recorded, naming the holder" "to $BAKERY until $MAX" "$(last_event)"
expect "stored with the accepted version" "$VERSION" "$(db_query "$DEMO" "SELECT conditions_version FROM mandate WHERE id = $ID")"
call GET "$PUB/api/v1/me/mandates" "${AUTH[@]}"
expect "Jan sees it, active" "$ID active $BAKERY" "$(json "$BODY" '" ".join([str(j[0]["id"]), j[0]["status"], j[0]["holder"]])')"
JAN_AUTH=("${AUTH[@]}")

# --- the holder: Sara has mandate_consult at the bakery
login $SARA
call GET "$PUB/api/v1/orgs/$BAKERY/mandates" "${AUTH[@]}"
expect "below level 400 the holder's list is refused" 403 "$STATUS"
step_up $SARA
call GET "$PUB/api/v1/orgs/$BAKERY/mandates" "${AUTH[@]}"
expect "the bakery sees Jan's mandate" "$JAN flexi_eligibility" "$(json "$BODY" '" ".join([j[0]["mandator"], j[0]["data_set"]])')"
expect_contains "an audit event about Jan" "subject:11:$JAN" "$(last_event)"
expect_contains "naming the bakery" "actor:10:$BAKERY" "$(last_event)"
expect_contains "and Sara" "user:11:$SARA" "$(last_event)"
call GET "$PUB/api/v1/orgs/0456789034/mandates" "${AUTH[@]}"
expect "attack: another organisation's mandates" "403 role_required" "$STATUS $(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/me/mandates/$ID/revoke" "${AUTH[@]}"
expect "attack: Sara revokes Jan's mandate" "404 unknown_mandate" "$STATUS $(json "$BODY" 'j["code"]')"

# --- the bakery consults under the mandate
consult() { call POST "$PUB/api/v1/mandates/consult" "${AUTH[@]}" "${J[@]}" -d "{\"mandator\":\"$JAN\",\"data_set\":\"$1\"}"; }
consult flexi_eligibility
expect "attack: not acting for the bakery: role_required" role_required "$(json "$BODY" 'j["code"]')"
expect "a refusal has its ticket too" 36 "$(json "$BODY" 'len(j["ticket"])')"
call POST "$PUB/api/v1/auth/profile" "${AUTH[@]}" "${J[@]}" -d "{\"organisation\":\"$BAKERY\"}"
consult flexi_eligibility
expect "without the circle of trust, no consultation" circle_of_trust_missing "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/orgs/$BAKERY/circle-of-trust" "${AUTH[@]}" "${J[@]}" -d '{"accept":true,"processing_register_ref":"REG-2026-7"}'
expect "the access manager registers the circle of trust" 201 "$STATUS"
call POST "$PUB/api/v1/orgs/$BAKERY/internal-control" "${AUTH[@]}" "${J[@]}" -d "{\"checked_on\":\"$(date -u +%F)\",\"what\":\"mandate consultations this month\",\"finding\":\"none yet\"}"
expect "the access manager records a check of the internal control" 201 "$STATUS"
expect "by her" "$SARA" "$(json "$BODY" 'j["checked_by"]')"
call GET "$PUB/api/v1/orgs/$BAKERY/internal-control/export" "${AUTH[@]}"
expect "exported for the supervisor, a line each" "none yet" "$(json "$BODY" 'j["finding"]')"
expect "as NDJSON" application/x-ndjson "$(header Content-Type)"
consult student_contingent
expect "a data set Jan gave no mandate for" no_mandate "$(json "$BODY" 'j["code"]')"
consult flexi_eligibility
expect "under the mandate, the bakery consults" 200 "$STATUS"
expect "and learns only whether a flexi-job is possible" flexi_eligible "$(json "$BODY" '" ".join(sorted(j["data"]))')"
expect "with a ticket" "$(json "$BODY" 'j["ticket"]')" "$(header X-Kruispunt-Ticket)"
expect_contains "the consultation is an audit event about Jan" "subject:11:$JAN" "$(last_event)"
expect_contains "naming the bakery" "actor:10:$BAKERY" "$(last_event)"
expect_contains "Sara" "user:11:$SARA" "$(last_event)"
expect_contains "and the data set" "data_type:17:flexi_eligibility" "$(last_event)"
call GET "$PUB/api/v1/me/access-log" "${JAN_AUTH[@]}"
expect "Jan sees it in his access log: which organisation, who there, which data" "Bakkerij De Kroon BV Sara Vermeulen flexi_eligibility" \
  "$(json "$BODY" '[" ".join([a["organisation"], a.get("person", ""), a["data_type"]]) for a in j if a["data_type"]=="flexi_eligibility"][-1]')"

# --- a pensioner (demo.json: pension_since) may take a flexi-job
GEORGES=$(json "$DEMO/demo.json" '[p["insz"] for p in j["persons"] if p.get("pension_since")][0]')
SARA_AUTH=("${AUTH[@]}")
login "$GEORGES"
step_up "$GEORGES"
grant "{\"type\":\"precontractual\",\"data_set\":\"flexi_eligibility\",\"holder\":\"$BAKERY\",\"conditions_version\":\"$VERSION\"}"
expect "the pensioner gives the bakery a flexi mandate" 201 "$STATUS"
AUTH=("${SARA_AUTH[@]}")
call POST "$PUB/api/v1/mandates/consult" "${AUTH[@]}" "${J[@]}" -d "{\"mandator\":\"$GEORGES\",\"data_set\":\"flexi_eligibility\"}"
expect "the register's pension status opens a flexi-job" true "$(json "$BODY" 'j["data"]["flexi_eligible"]')"

# --- Jan revokes, with effect now
call POST "$PUB/api/v1/me/mandates/$ID/revoke" "${JAN_AUTH[@]}"
expect "Jan revokes it" "200 revoked" "$STATUS $(json "$BODY" 'j["status"]')"
consult flexi_eligibility
expect "the next consultation is refused" mandate_revoked "$(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/orgs/$BAKERY/mandates" "${AUTH[@]}"
expect "the bakery no longer sees it" 0 "$(json "$BODY" "len([m for m in j if m['mandator'] == '$JAN'])")"
call GET "$PUB/api/v1/me/mandates" "${JAN_AUTH[@]}"
expect "Jan sees it revoked" revoked "$(json "$BODY" 'j[0]["status"]')"
expect "kept" 1 "$(db_query "$DEMO" "SELECT count(*) FROM mandate WHERE id = $ID AND revoked_at IS NOT NULL")"

finish
