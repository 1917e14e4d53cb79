#!/usr/bin/env bash
# The registers over the network API: BIS assignment by any institution,
# mutations only by the register's authority, every change and every
# refusal about a person in the audit log, nothing stored on a refusal.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
HEALTH=$(institution_cert 0411111140)   # a health insurance fund
RR=$(institution_cert 0333333372)       # the National Register
KSZ=$(institution_cert 0345678997)      # the Crossroads Bank (BIS register)
events() { db_query "$DEMO" "SELECT count(*) FROM audit_event"; }

# --- BIS assignment
before=$(events)
call POST "$NET/api/v1/registry/bis" $HEALTH "${J[@]}" -d '{"last_name":"Nowak","first_names":"Anna","birth_date":"1990-05-17","sex":"F","nationality":"PL"}'
expect "an institution gets a BIS number" 201 "$STATUS"
bis=$(json "$BODY" 'j["insz"]')
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d "{\"insz\":\"$bis\"}"
expect "it is a valid BIS number" BIS "$(json "$BODY" 'j["register"]')"
expect "with the birth date" 1990-05-17 "$(json "$BODY" 'j["birth_date"]')"
expect "and the sex (month +40)" F "$(json "$BODY" 'j["sex"]')"
expect "the assignment is an audit event" $((before + 1)) "$(events)"
expect_contains "naming the new person" "subject:11:$bis" "$(last_event)"
call POST "$NET/api/v1/registry/bis" $HEALTH "${J[@]}" -d '{"last_name":"Nowak","first_names":"Anna","birth_date":"1990-05-17","sex":"F"}'
expect "asked again for the same person, the register finds her: 200" 200 "$STATUS"
expect "with her number, not a second one" "$bis" "$(json "$BODY" 'j["insz"]')"
expect "saying it existed" true "$(json "$BODY" 'j["existing"]')"
expect_contains "recorded as a match about her" "action:9:bis_match" "$(last_event)"
call POST "$NET/api/v1/registry/bis" $HEALTH "${J[@]}" -d '{"last_name":"Peeters","first_names":"Jan","birth_date":"1985-07-30","sex":"M"}'
expect "a person of the National Register gets no BIS number but his own" 85073003328 "$(json "$BODY" 'j["insz"]')"
call POST "$NET/api/v1/registry/bis" $HEALTH "${J[@]}" -d '{"last_name":"Nowak","first_names":"Anna","birth_date":"1990-05-18","sex":"F"}'
expect "another birth date is another person" 201 "$STATUS"
call POST "$NET/api/v1/registry/bis" $HEALTH "${J[@]}" -d '{"last_name":"Nowak"}'
expect "first names are required" 422 "$STATUS"
call POST "$NET/api/v1/registry/bis" $HEALTH "${J[@]}" -d '{"last_name":"Nowak","first_names":"A","birth_date":"1990-02-30"}'
expect "an impossible birth date is refused" 422 "$STATUS"
call POST "$NET/api/v1/registry/bis" "${J[@]}" -d '{"last_name":"Nowak","first_names":"A"}'
expect "no certificate, no BIS number" 401 "$STATUS"

# --- mutations
addr='{"type":"address","effective_on":"2026-11-01","street":"Naamsestraat 22","postal_code":"3000","municipality":"Leuven"}'
before=$(events)
call POST "$NET/api/v1/registry/persons/85073003328/mutations" $HEALTH "${J[@]}" -d "$addr"
expect "only the register's authority changes a person" 403 "$STATUS"
expect "code not_register_authority" not_register_authority "$(json "$BODY" 'j["code"]')"
expect "the refusal is audited" $((before + 1)) "$(events)"
expect_contains "as refused, with its reason" "reason:22:not_register_authority" "$(last_event)"
expect "and nothing changed" "Kerkstraat 1" "$(db_query "$DEMO" "SELECT street FROM person WHERE insz='85073003328'")"
call POST "$NET/api/v1/registry/persons/85073003328/mutations" $KSZ "${J[@]}" -d "$addr"
expect "the BIS register's authority cannot change an RR person" 403 "$STATUS"
call POST "$NET/api/v1/registry/persons/85073003328/mutations" $RR "${J[@]}" -d "$addr"
expect "the National Register records an address change" 201 "$STATUS"
ticket=$(json "$BODY" 'j["ticket"]')
expect "the ticket is in the header too" "$ticket" "$(header X-Kruispunt-Ticket)"
expect "the person now lives there" "Naamsestraat 22" "$(db_query "$DEMO" "SELECT street FROM person WHERE insz='85073003328'")"
expect "the mutation is kept with its ticket" address "$(db_query "$DEMO" "SELECT type FROM person_mutation WHERE ticket='$ticket'")"
expect_contains "with the old address" "Kerkstraat 1" "$(db_query "$DEMO" "SELECT before FROM person_mutation WHERE ticket='$ticket'")"
expect_contains "the audit event carries the ticket" "action:17:registry_mutation" "$(db_query "$DEMO" "SELECT $ENTRY FROM audit_event WHERE $ENTRY LIKE '%ticket:36:$ticket%'")"
call POST "$NET/api/v1/registry/persons/$bis/mutations" $KSZ "${J[@]}" -d "$addr"
expect "the Crossroads Bank changes a BIS person" 201 "$STATUS"
call POST "$NET/api/v1/registry/persons/$bis/mutations" $RR "${J[@]}" -d "$addr"
expect "the National Register does not" 403 "$STATUS"
call POST "$NET/api/v1/registry/persons/20010100129/mutations" $RR "${J[@]}" -d '{"type":"birth","effective_on":"2020-01-01","last_name":"Peeters","first_names":"Mila","sex":"F","parents":["85073003328"]}'
expect "a birth number that fails mod 97 is refused" 422 "$STATUS"
child=$(python3 -c 'n=200101123; print("%09d%02d" % (n, 97 - (2000000000 + n) % 97))')
call POST "$NET/api/v1/registry/persons/$child/mutations" $RR "${J[@]}" -d '{"type":"birth","effective_on":"2020-01-01","last_name":"Peeters","first_names":"Mila","sex":"M","parents":["85073003328","90031524651"]}'
expect "a birth is registered with its parents" 201 "$STATUS"
expect "both parents are linked" 2 "$(db_query "$DEMO" "SELECT count(*) FROM person_parent WHERE child='$child'")"
call POST "$NET/api/v1/registry/persons/$child/mutations" $RR "${J[@]}" -d '{"type":"birth","effective_on":"2020-01-01","last_name":"X","first_names":"Y"}'
expect "the same birth twice is a conflict" 409 "$STATUS"
call POST "$NET/api/v1/registry/persons/78052216473/mutations" $RR "${J[@]}" -d '{"type":"death","effective_on":"2099-01-01"}'
expect "a death in the future is refused" 422 "$STATUS"
call POST "$NET/api/v1/registry/persons/78052216473/mutations" $RR "${J[@]}" -d '{"type":"death","effective_on":"2026-11-20"}'
expect "a death is registered" 201 "$STATUS"
call POST "$NET/api/v1/registry/persons/78052216473/mutations" $RR "${J[@]}" -d "$addr"
expect "a deceased person moves no more" 409 "$STATUS"
expect "code person_deceased" person_deceased "$(json "$BODY" 'j["code"]')"
# pension STATUS CERT...: Marie's pension status from 2026-10-01, sent
# with that certificate.
pension() {
  local status=$1; shift
  call POST "$NET/api/v1/registry/persons/90031524651/mutations" "$@" "${J[@]}" \
    -d "{\"type\":\"pension\",\"effective_on\":\"2026-10-01\",\"pension_status\":\"$status\"}"
}
pension retired $HEALTH
expect "only the register's authority records a pension" 403 "$STATUS"
pension early $RR
expect "a pension status the registers do not know is 422" invalid_field "$(json "$BODY" 'j["code"]')"
pension retired $RR
expect "the National Register records a pension" 201 "$STATUS"
expect "the register holds it, since its date" "retired|2026-10-01" \
  "$(db_query "$DEMO" "SELECT pension_status, pension_since FROM person WHERE insz='90031524651'")"
call POST "$NET/api/v1/registry/persons/85073003329/mutations" $RR "${J[@]}" -d "$addr"
expect "an invalid INSZ in the path is 422" invalid_insz "$(json "$BODY" 'j["code"]')"
call POST "$NET/api/v1/registry/persons/85073003328/mutations" $RR "${J[@]}" -d '{"type":"divorce","effective_on":"2026-01-01"}'
expect "an unknown mutation type is 422" 422 "$STATUS"
call POST "$NET/api/v1/registry/persons/85073003328/mutations" $RR "${J[@]}" -d '{"type":"address"'
expect "malformed JSON is 400" 400 "$STATUS"
call POST "$PUB/api/v1/registry/bis" "${J[@]}" -d '{}'
expect "the registers are not on the public listener" 404 "$STATUS"

stop_demo
out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "the audit log of all this verifies" 0 "$rc"
finish
