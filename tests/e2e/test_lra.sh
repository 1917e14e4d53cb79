#!/usr/bin/env bash
# The registration office over real TLS: an officer logs in with an eID
# client certificate, acts for the municipality, accepts the conditions,
# finds the person at the desk, records the identification and issues the
# activation code; every refusal on the way (a password session, no
# office, a stale version of the conditions, a failed identification) is
# refused and recorded.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
OFFICE=0207521107
ELS=78052216473

# --- who may act: a password session is not enough
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$(person $ELS username)\",\"password\":\"$(person $ELS password)\"}"
PW=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call POST "$PUB/api/v1/auth/profile" "${PW[@]}" "${J[@]}" -d "{\"organisation\":\"$OFFICE\"}"
call GET "$PUB/api/v1/lra/conditions" "${PW[@]}"
expect "attack: an officer with a password session is refused" insufficient_level "$(json "$BODY" 'j["code"]')"
expect "naming the level it needs" 500 "$(json "$BODY" 'j["required"]')"
expect_contains "and the refusal is recorded as the office's" "action:14:lra_conditions" "$(last_event)"

# --- the eID session, acting for the municipality
call POST "$EIDURL/api/v1/auth/login/eid" --cert "$DEMO/$(person $ELS eid_cert)" --key "$DEMO/$(person $ELS eid_key)"
E=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call GET "$PUB/api/v1/lra/persons?purpose=activation&insz=85073003328" "${E[@]}"
expect "without acting for an office: role_required" role_required "$(json "$BODY" 'j["code"]')"
expect "with the role named" lra_officer "$(json "$BODY" 'j["role"]')"
call POST "$PUB/api/v1/auth/profile" "${E[@]}" "${J[@]}" -d "{\"organisation\":\"$OFFICE\"}"
expect "Els acts for the municipality" "org:$OFFICE" "$(json "$BODY" 'j["profile"]')"
call GET "$PUB/api/v1/lra/persons?purpose=activation&insz=85073003328" "${E[@]}"
expect "before the conditions: conditions_not_accepted" conditions_not_accepted "$(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/lra/conditions" "${E[@]}"
expect "the conditions are shown" 200 "$STATUS"
version=$(json "$BODY" 'j["version"]')
expect_contains "in Dutch and English" "tien jaar" "$(json "$BODY" 'j["text"]')"
call POST "$PUB/api/v1/lra/conditions" "${E[@]}" "${J[@]}" -d '{"accept":true,"version":"0-old"}'
expect "a stale version is not accepted" conditions_changed "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/lra/conditions" "${E[@]}" "${J[@]}" -d "{\"accept\":true,\"version\":\"$version\"}"
expect "accepted once" 201 "$STATUS"
expect "with the date" true "$(json "$BODY" '"accepted_at" in j')"
expect "stored with the text and version" 1 "$(db_query "$DEMO" "SELECT count(*) FROM lra_conditions_acceptance WHERE officer = '$ELS' AND version = '$version' AND text LIKE '%tien jaar%'")"

# --- the search
call GET "$PUB/api/v1/lra/persons?insz=85073003328" "${E[@]}"
expect "a search needs a purpose" invalid_field "$(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/lra/persons?purpose=activation%20code&last_name=PEETERS&first_name=jan&birth_date=1985-07-30" "${E[@]}"
expect "found by names without case, and birth date" 85073003328 "$(json "$BODY" 'j[0]["insz"]')"
expect "identification data only" "address birth_date birth_place first_names insz last_name register sex" "$(json "$BODY" '" ".join(sorted(j[0]))')"
expect_contains "each person returned is an event about them" "subject:11:85073003328" "$(last_event)"
expect_contains "naming the office" "actor:10:$OFFICE" "$(last_event)"
expect_contains "and the officer" "user:11:$ELS" "$(last_event)"

# --- the identification
ID_BODY='{"insz":"85073003328","purpose":"activation code","document_type":"passport","document_number":"EP1234567","document_valid_until":"2031-01-01","issuing_country":"BE","checks":{"photo_compared":true,"document_genuine":true,"document_not_expired":true,"person_present":true}}'
call POST "$PUB/api/v1/lra/identifications" "${E[@]}" "${J[@]}" -d "${ID_BODY/\"photo_compared\":true/\"photo_compared\":false}"
expect "an incomplete identification is recorded" 201 "$STATUS"
expect "as failed" failed "$(json "$BODY" 'j["outcome"]')"
failed=$(json "$BODY" 'j["id"]')
call POST "$PUB/api/v1/lra/identifications/$failed/activation" "${E[@]}" "${J[@]}" -d '{"email":"jan.new@example.org","language":"nl"}'
expect "attack: no code after a failed identification" not_identified "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/lra/identifications" "${E[@]}" "${J[@]}" -d "$ID_BODY"
expect "a complete identification" identified "$(json "$BODY" 'j["outcome"]')"
good=$(json "$BODY" 'j["id"]')
call POST "$PUB/api/v1/lra/identifications/$good/activation" "${E[@]}" "${J[@]}" -d '{"email":"jan.new@example.org","language":"nl"}'
expect "leads to an activation code" 201 "$STATUS"
expect "with its end" true "$(json "$BODY" '"expires_at" in j')"
expect "and the keys it will replace listed" true "$(json "$BODY" 'isinstance(j["keys_to_deactivate"], list)')"

# --- Olena Kovalenko, waiting at the office (demo.json: lra.waiting)
OLENA=$(json "$DEMO/demo.json" 'j["lra"]["waiting"][0]')
expect "demo.json names the office and its officer" "$OFFICE $ELS" "$(json "$DEMO/demo.json" 'j["lra"]["office"] + " " + j["lra"]["officers"][0]')"
expect "Olena has no account yet" 0 "$(db_query "$DEMO" "SELECT count(*) FROM account WHERE insz='$OLENA'")"
call GET "$PUB/api/v1/lra/persons?purpose=activation%20code&last_name=kovalenko&first_name=OLENA&birth_date=1991-04-12" "${E[@]}"
expect "the officer finds her in the BIS register" "$OLENA BIS" "$(json "$BODY" 'j[0]["insz"] + " " + j[0]["register"]')"
call POST "$PUB/api/v1/lra/identifications" "${E[@]}" "${J[@]}" -d "$(echo "$ID_BODY" | sed "s/85073003328/$OLENA/; s/\"passport\"/\"foreign_id\"/; s/\"BE\"/\"UA\"/")"
expect "her foreign identity card identifies her" identified "$(json "$BODY" 'j["outcome"]')"
oid=$(json "$BODY" 'j["id"]')
OMAIL=$(person "$OLENA" email)
call POST "$PUB/api/v1/lra/identifications/$oid/activation" "${E[@]}" "${J[@]}" -d "{\"email\":\"$OMAIL\",\"language\":\"en\"}"
expect "her activation code is issued" 201 "$STATUS"
CODE=$(json "$BODY" 'j["activation_code"]')
expect "nothing of hers to deactivate" 0 "$(json "$BODY" 'len(j["keys_to_deactivate"])')"
json "$BODY" 'j["letter_html"]' > "$WORK/letter.html"
expect_contains "the printable letter carries the code" "$CODE" "$(cat "$WORK/letter.html")"
expect_contains "and her name" "Olena Kovalenko" "$(cat "$WORK/letter.html")"
expect_contains "and prints on A4" "A4" "$(cat "$WORK/letter.html")"
until=$(json "$BODY" 'j["expires_at"]')
readable=$(python3 -c "import sys,datetime as d;t=d.datetime.fromisoformat(sys.argv[1].replace('Z','+00:00'));print(t.strftime('%d/%m/%Y %H:%M UTC'))" "$until")
expect_contains "its end as a person reads a date, not an RFC 3339 stamp" "$readable" "$(cat "$WORK/letter.html")"
if grep -q "$CODE" "$WORK/demo.err"; then fail "the code reached the log"; else pass "the code reaches no log"; fi
MAIL=$DEMO/$(json "$DEMO/demo.json" 'j["mail_dir"]')
for _ in $(seq 100); do grep -l "$OMAIL" "$MAIL"/*.eml 2>/dev/null | xargs -r grep -l '/#/activate?token=' >/dev/null 2>&1 && break; sleep 0.1; done
TOKEN=$(grep -ho 'token=[0-9a-f]\{64\}' $(grep -l "$OMAIL" "$MAIL"/*.eml) | tail -1 | cut -d= -f2)
expect "the activation link reaches her mailbox" 64 "${#TOKEN}"

# --- at home: the link, the paper code, a username, a password and an app
call POST "$PUB/api/v1/activation/start" "${J[@]}" -d "{\"link_token\":\"$TOKEN\",\"activation_code\":\"$CODE\"}"
expect "the paper code opens the activation" 200 "$STATUS"
AID=$(json "$BODY" 'j["activation_id"]')
OPW="ferry lights over the harbour"
call POST "$PUB/api/v1/activation/$AID/credentials" "${J[@]}" -d "{\"username\":\"olena.k\",\"password\":\"$OPW\",\"key\":\"totp\"}"
expect "she chooses a username, a password and an authenticator app" 200 "$STATUS"
SECRET=$(json "$BODY" 'j["otpauth_uri"]' | sed 's/.*secret=\([A-Z2-7]*\).*/\1/')
call POST "$PUB/api/v1/activation/$AID/complete" "${J[@]}" -d "{\"code\":\"$(oathtool --totp -b "$SECRET")\"}"
expect "oathtool's code completes it" active "$(json "$BODY" 'j["status"]')"
call POST "$PUB/api/v1/activation/start" "${J[@]}" -d "{\"link_token\":\"$TOKEN\",\"activation_code\":\"$CODE\"}"
expect "attack: the paper code used again opens nothing" invalid_activation "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"olena.k\",\"password\":\"$OPW\"}"
expect "she logs in with her new password" 200 "$STATUS"
O=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
NEXT=$(oathtool --totp -b -N "@$(( $(date +%s) + 30 ))" "$SECRET")
call POST "$PUB/api/v1/auth/step-up" "${O[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$NEXT\"}"
expect "steps up with her app to 400" 400 "$(json "$BODY" 'j["level"]')"
call POST "$PUB/api/v1/apps/mypension/enter" "${O[@]}"
expect "and enters a level-400 application" 200 "$STATUS"

# --- the officer's own actions
call GET "$PUB/api/v1/lra/actions" "${E[@]}"
expect "the officer sees her own recent actions" true "$(json "$BODY" 'len(j) >= 5 and all(a["action"] for a in j)')"
expect "newest first" true "$(json "$BODY" 'j[0]["seq"] > j[-1]["seq"]')"

# --- a role revoked ends the officer's access at once
rid=$("$KP" org roles --data "$DEMO" --kbo "$OFFICE" | awk -F'\t' -v p="$ELS" '$2 == p && $3 == "lra_officer" {print $1; exit}')
"$KP" org revoke --data "$DEMO" --kbo "$OFFICE" --id "$rid" >/dev/null 2>&1
call GET "$PUB/api/v1/lra/persons?purpose=activation&insz=85073003328" "${E[@]}"
expect "attack: after the role's revocation the officer is refused" role_required "$(json "$BODY" 'j["code"]')"
expect "and told why" revoked "$(json "$BODY" 'j["reason"]')"

stop_demo
out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "the audit log verifies" 0 "$rc"
finish
