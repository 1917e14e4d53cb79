#!/usr/bin/env bash
# A student's contingent under a mandate, end to end over real TLS: the
# bakery declares a student's hours this year; the student (TOTP step-up)
# gives the bakery a student-contingent mandate; the bakery's HR user
# consults in the portal's API and gets the contingent minus those hours;
# then the bakery's own HR system asks the same on the network with the
# bakery's certificate (an organisation, no institution), naming the person
# on whose behalf it asks; the audit log and the student's access log
# record both. Attacks: no person named, a person without the role, a
# header and a body that disagree, the bakery's certificate on an
# institution's route. An ordinary exchange records the person an
# institution names. The student revokes; the next ask is refused.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
org() { json "$DEMO/demo.json" "[o for o in j['organisations'] if o['kbo']=='$1'][0]['$2']"; }
SARA=83061814038
LUCAS=01010100126
JAN=85073003328
BAKERY=0412345614
YEAR=$(date -u +%Y)
login() {
  call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$(person "$1" username)\",\"password\":\"$(person "$1" password)\"}"
  AUTH=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
  call POST "$PUB/api/v1/auth/step-up" "${AUTH[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$(oathtool --totp -b "$(person "$1" totp_secret)")\"}"
}

# --- the bakery declares the student's work this year (Sara, HR)
"$KP" org grant --data "$DEMO" --kbo "$BAKERY" --insz "$SARA" --role employment_declarant --until "$(date -u -d '+6 months' +%F)" >/dev/null
login $SARA
SARA_AUTH=("${AUTH[@]}")
call POST "$PUB/api/v1/auth/profile" "${SARA_AUTH[@]}" "${J[@]}" -d "{\"organisation\":\"$BAKERY\"}"
declare_hours() {
  call POST "$PUB/api/v1/employment/declarations" "${SARA_AUTH[@]}" "${J[@]}" -d "{\"employer\":\"$BAKERY\",\"worker\":\"$LUCAS\",\"kind\":\"student\",\"start\":\"$YEAR-$1\",\"end\":\"$YEAR-$2\",\"hours\":$3}"
  expect "the bakery declares $3 student hours" 201 "$STATUS"
}
declare_hours 02-01 02-28 40
declare_hours 07-01 07-31 72
call POST "$PUB/api/v1/orgs/$BAKERY/circle-of-trust" "${SARA_AUTH[@]}" "${J[@]}" -d '{"accept":true,"processing_register_ref":"REG-2026-7"}'
expect "the bakery is in the circle of trust" 201 "$STATUS"

# --- the student gives the bakery a student-contingent mandate
login $LUCAS
LUCAS_AUTH=("${AUTH[@]}")
call GET "$PUB/api/v1/mandate-types/precontractual/conditions?lang=en"
VERSION=$(json "$BODY" 'j["version"]')
call POST "$PUB/api/v1/me/mandates" "${LUCAS_AUTH[@]}" "${J[@]}" -d "{\"type\":\"precontractual\",\"data_set\":\"student_contingent\",\"holder\":\"$BAKERY\",\"conditions_version\":\"$VERSION\"}"
expect "Lucas gives the bakery a student-contingent mandate" 201 "$STATUS"
ID=$(json "$BODY" 'j["id"]')
CONTINGENT=$(awk -F'\t' -v y="$YEAR" '$1 !~ /^#/ && $1 ~ /^[0-9]/ && substr($1,1,4) <= y {h=$2} END {print h}' "$KP_SOURCE_DIR/data/student_contingent.tsv")
expect "this year's contingent is 650 hours (from 2025)" 650 "$CONTINGENT"

# --- the HR user consults in the portal's API
call POST "$PUB/api/v1/mandates/consult" "${SARA_AUTH[@]}" "${J[@]}" -d "{\"mandator\":\"$LUCAS\",\"data_set\":\"student_contingent\"}"
expect "Sara learns the hours left: 650 - 40 - 72" "200 538 $YEAR" "$STATUS $(json "$BODY" 'j["data"]["hours_left"]') $(json "$BODY" 'j["data"]["year"]')"
expect "and nothing else" "hours_left year" "$(json "$BODY" '" ".join(sorted(j["data"]))')"

# --- the bakery's own system, on the network with its certificate
BAKERY_CERT=(--cert "$DEMO/$(org $BAKERY cert)" --key "$DEMO/$(org $BAKERY key)")
net_consult() { call POST "$NET/api/v1/mandates/consult" "${BAKERY_CERT[@]}" "${J[@]}" "$@"; }
net_consult -d "{\"mandator\":\"$LUCAS\",\"data_set\":\"student_contingent\",\"on_behalf_of\":\"$SARA\"}"
expect "the bakery's system asks for Sara: the same answer" "200 538" "$STATUS $(json "$BODY" 'j["data"]["hours_left"]')"
TICKET=$(json "$BODY" 'j["ticket"]')
expect "with its ticket" "$TICKET" "$(header X-Kruispunt-Ticket)"
EV=$(last_event)
expect_contains "recorded about Lucas" "subject:11:$LUCAS" "$EV"
expect_contains "asked on the network" "channel:7:network" "$EV"
expect_contains "by the bakery" "actor:10:$BAKERY" "$EV"
expect_contains "for Sara" "user:11:$SARA" "$EV"
expect_contains "which data" "data_type:18:student_contingent" "$EV"
net_consult -H "Kruispunt-On-Behalf-Of: $SARA" -d "{\"mandator\":\"$LUCAS\",\"data_set\":\"student_contingent\"}"
expect "the person may be named in the header instead" 200 "$STATUS"

net_consult -d "{\"mandator\":\"$LUCAS\",\"data_set\":\"student_contingent\"}"
expect "attack: nobody named" "422 on_behalf_of_required" "$STATUS $(json "$BODY" 'j["code"]')"
expect_contains "the refusal is recorded about Lucas" "reason:21:on_behalf_of_required" "$(last_event)"
net_consult -d "{\"mandator\":\"$LUCAS\",\"data_set\":\"student_contingent\",\"on_behalf_of\":\"$JAN\"}"
expect "attack: a person without the role at the bakery" "403 role_required" "$STATUS $(json "$BODY" 'j["code"]')"
expect_contains "recorded, naming him" "user:11:$JAN" "$(last_event)"
net_consult -H "Kruispunt-On-Behalf-Of: $JAN" -d "{\"mandator\":\"$LUCAS\",\"data_set\":\"student_contingent\",\"on_behalf_of\":\"$SARA\"}"
expect "attack: header and body name different persons" "422 invalid_on_behalf_of" "$STATUS $(json "$BODY" 'j["code"]')"
expect_contains "refused and recorded about Lucas" "reason:20:invalid_on_behalf_of" "$(last_event)"
expect "with its ticket" "$(json "$BODY" 'j["ticket"]')" "$(header X-Kruispunt-Ticket)"
net_consult -H "Kruispunt-On-Behalf-Of: 83061814039" -d "{\"mandator\":\"$LUCAS\",\"data_set\":\"student_contingent\"}"
expect "attack: a number that is no INSZ, in the header" "400 invalid_on_behalf_of" "$STATUS $(json "$BODY" 'j["code"]')"
call POST "$NET/api/v1/exchange" "${BAKERY_CERT[@]}" "${J[@]}" -d "{\"data_type\":\"identification\",\"capacity\":\"001\",\"purpose\":\"health_insurance_rights\",\"subject\":\"$LUCAS\"}"
expect "attack: the bakery's certificate on an institution's route" "401 unknown_institution" "$STATUS $(json "$BODY" 'j["code"]')"
call GET "$NET/api/v1/network/whoami" "${BAKERY_CERT[@]}"
expect "nor does it pass for an institution elsewhere" 401 "$STATUS"
call POST "$PUB/api/v1/mandates/consult" "${BAKERY_CERT[@]}" "${J[@]}" -d "{\"mandator\":\"$LUCAS\",\"data_set\":\"student_contingent\",\"on_behalf_of\":\"$SARA\"}"
expect "on the public listener a certificate is no session" 401 "$STATUS"

# --- the student's access log: which organisation, who there, how, what
call GET "$PUB/api/v1/me/access-log" "${LUCAS_AUTH[@]}"
expect "Lucas sees the three consultations by Sara for the bakery, and how" "api network network" \
  "$(json "$BODY" "' '.join(a['channel'] for a in j if a['data_type']=='student_contingent' and a.get('person')=='Sara Vermeulen' and a['organisation']=='Bakkerij De Kroon BV')")"

# --- an ordinary exchange: the institution names the person behind it
login $JAN
JAN_AUTH=("${AUTH[@]}")
FUND=(--cert "$DEMO/pki/institutions/0411111140.crt" --key "$DEMO/pki/institutions/0411111140.key")
call POST "$NET/api/v1/exchange" "${FUND[@]}" "${J[@]}" -H "Kruispunt-On-Behalf-Of: 90.03.15-246.51" -d "{\"data_type\":\"identification\",\"capacity\":\"001\",\"purpose\":\"health_insurance_rights\",\"subject\":\"$JAN\"}"
expect "a health fund's clerk, named, consults" 200 "$STATUS"
expect_contains "the exchange records the clerk" "user:11:90031524651" "$(last_event)"
call GET "$PUB/api/v1/me/access-log" "${JAN_AUTH[@]}"
expect "Jan's log shows the fund's exchange without a name: the clerk is the fund's claim" "Ziekenfonds Demo -" \
  "$(json "$BODY" '[a["organisation"] + " " + a.get("person", "-") for a in j if a["channel"]=="network"][-1]')"
call POST "$NET/api/v1/exchange/batch" "${FUND[@]}" -H 'Content-Type: application/x-ndjson' -H "Kruispunt-On-Behalf-Of: 90031524651" --data-binary "{\"data_type\":\"identification\",\"capacity\":\"001\",\"purpose\":\"health_insurance_rights\",\"subject\":\"$JAN\"}"
expect "a batch names no person: refused, not dropped" "422 on_behalf_of_unsupported" "$STATUS $(json "$BODY" 'j["code"]')"
call POST "$NET/api/v1/exchange" "${FUND[@]}" "${J[@]}" -H "Kruispunt-On-Behalf-Of: nobody" -d "{\"data_type\":\"identification\",\"capacity\":\"001\",\"purpose\":\"health_insurance_rights\",\"subject\":\"$JAN\"}"
expect "attack: a person that is no INSZ" "400 invalid_on_behalf_of" "$STATUS $(json "$BODY" 'j["code"]')"

# --- the student revokes: the next ask is refused, on both sides
call POST "$PUB/api/v1/me/mandates/$ID/revoke" "${LUCAS_AUTH[@]}"
expect "Lucas revokes" 200 "$STATUS"
net_consult -d "{\"mandator\":\"$LUCAS\",\"data_set\":\"student_contingent\",\"on_behalf_of\":\"$SARA\"}"
expect "the bakery's system is refused at once" "403 mandate_revoked" "$STATUS $(json "$BODY" 'j["code"]')"

stop_demo
out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "the audit log verifies" 0 "$rc"
finish
