#!/usr/bin/env bash
# Authentication end to end: password login, sessions, the application
# gate by level, eID login with the demo citizen PKI (good, revoked,
# expired, foreign), lockout, key deactivation, and the citizen's view of
# who accessed their data.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
login() { call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$1\",\"password\":\"$2\"}"; }
events() { db_query "$DEMO" "SELECT count(*) FROM audit_event"; }

user=$(person 85073003328 username); pw=$(person 85073003328 password)
login "$user" "$pw"
expect "a demo person logs in with username and password" 200 "$STATUS"
expect "at level 200" 200 "$(json "$BODY" 'j["level"]')"
TOK=$(json "$BODY" 'j["token"]')
A=(-H "Authorization: Bearer $TOK")
call GET "$PUB/api/v1/auth/session" "${A[@]}"
expect "the session knows who" 85073003328 "$(json "$BODY" 'j["insz"]')"
expect "and the key used" password "$(json "$BODY" 'j["keys"][0]["type"]')"

# --- the application gate
call GET "$PUB/api/v1/apps"
expect "the catalogue of the three portals" 59 "$(json "$BODY" 'len(j)')"
call POST "$PUB/api/v1/apps/checkin-at-work/enter" "${A[@]}"
expect "a level-200 application opens with a password" 200 "$STATUS"
e0=$(events)
call POST "$PUB/api/v1/apps/mypension/enter" "${A[@]}"
expect "a level-400 application does not" 403 "$STATUS"
expect "code insufficient_level" insufficient_level "$(json "$BODY" 'j["code"]')"
expect "naming the level required" 400 "$(json "$BODY" 'j["required"]')"
expect "and the current one" 200 "$(json "$BODY" 'j["current"]')"
expect "the refused entry is audited" $((e0 + 1)) "$(events)"
call POST "$PUB/api/v1/apps/nothing/enter" "${A[@]}"
expect "an unknown application is 404" 404 "$STATUS"
call POST "$PUB/api/v1/apps/mypension/enter"
expect "no session: 401" 401 "$STATUS"
call POST "$PUB/api/v1/apps/mypension/enter" -H "Authorization: Bearer 0000000000000000000000000000000000000000000000000000000000000000"
expect "a made-up token: 401" not_authenticated "$(json "$BODY" 'j["code"]')"

# --- eID
EID=(--cert "$DEMO/pki/eid/85073003328.crt" --key "$DEMO/pki/eid/85073003328.key")
call POST "$EIDURL/api/v1/auth/login/eid" "${EID[@]}"
expect "an eID logs in" 200 "$STATUS"
expect "at level 500" 500 "$(json "$BODY" 'j["level"]')"
EIDTOK=$(json "$BODY" 'j["token"]')
call POST "$PUB/api/v1/apps/mypension/enter" -H "Authorization: Bearer $EIDTOK"
expect "and opens every application" 200 "$STATUS"
for kind in revoked_eid expired_eid foreign_ca_eid; do
  cert=$(json "$DEMO/demo.json" "j['test_certificates']['$kind']['cert']")
  key=$(json "$DEMO/demo.json" "j['test_certificates']['$kind']['key']")
  call POST "$EIDURL/api/v1/auth/login/eid" --cert "$DEMO/$cert" --key "$DEMO/$key"
  expect "attack: a $kind certificate is refused" 401 "$STATUS"
  expect "with code certificate_rejected ($kind)" certificate_rejected "$(json "$BODY" 'j["code"]')"
done
# The manifest lists every demo person, the ones to refuse flagged as such.
refused=$(json "$DEMO/demo.json" '" ".join(sorted(p["eid_status"] for p in j["persons"] if p.get("eid_must_be_refused")))')
expect "demo.json flags every person whose certificate must be refused" "expired foreign_ca revoked" "$refused"
for insz in $(json "$DEMO/demo.json" '" ".join(p["insz"] for p in j["persons"] if p.get("eid_must_be_refused"))'); do
  cert=$(person "$insz" eid_cert); key=$(person "$insz" eid_key)
  call POST "$EIDURL/api/v1/auth/login/eid" --cert "$DEMO/$cert" --key "$DEMO/$key"
  expect "and a login with each of them is refused ($insz)" 401 "$STATUS"
done
expect_contains "the revoked one because of the CRL" "revoked" "$(call POST "$EIDURL/api/v1/auth/login/eid" --cert "$DEMO/$(json "$DEMO/demo.json" "j['test_certificates']['revoked_eid']['cert']")" --key "$DEMO/$(json "$DEMO/demo.json" "j['test_certificates']['revoked_eid']['key']")"; cat "$BODY")"
call POST "$EIDURL/api/v1/auth/login/eid"
expect "no certificate at all: 401 certificate_required" certificate_required "$(json "$BODY" 'j["code"]')"

# --- who consulted my data
call POST "$NET/api/v1/registry/persons/85073003328/mutations" $(institution_cert 0333333372) "${J[@]}" -d '{"type":"address","effective_on":"2026-11-01","street":"Naamsestraat 22","postal_code":"3000","municipality":"Leuven"}'
call POST "$NET/api/v1/registry/persons/85073003328/mutations" $(institution_cert 0411111140) "${J[@]}" -d '{"type":"address","effective_on":"2026-11-01","street":"X 1","postal_code":"3000","municipality":"Leuven"}'
expect "a refused access to Jan's data" 403 "$STATUS"
call GET "$PUB/api/v1/me/access-log" "${A[@]}"
expect "Jan sees who accessed his data" identification "$(json "$BODY" '[x["data_type"] for x in j if x["organisation"]=="Rijksregister Demo"][-1]')"
expect "and that the hub passed his new address to his health fund" address "$(json "$BODY" '[x["purpose"] for x in j if x["organisation"]=="Ziekenfonds Demo"][-1]')"
refused_seq=$(db_query "$DEMO" "SELECT seq FROM audit_event WHERE $ENTRY LIKE '%action:17:registry_mutation%' AND $ENTRY LIKE '%outcome:7:refused%' ORDER BY seq DESC LIMIT 1")
expect "but not the refused attempt" 0 "$(json "$BODY" "len([x for x in j if x['seq']==${refused_seq:-0}])")"

# --- logout, lockout, deactivation
call POST "$PUB/api/v1/auth/logout" "${A[@]}"
expect "logout" 204 "$STATUS"
call GET "$PUB/api/v1/auth/session" "${A[@]}"
expect "the token is dead after logout" 401 "$STATUS"
other=$(person 90031524651 username); opw=$(person 90031524651 password)
login "$other" "wrong password 1"
expect "a wrong password is 401" invalid_credentials "$(json "$BODY" 'j["code"]')"
login "no.such.user" "whatever it is"
expect "an unknown user gets the same answer" invalid_credentials "$(json "$BODY" 'j["code"]')"
for i in 2 3 4 5; do login "$other" "wrong password $i"; done
expect "five wrong passwords are still 401" invalid_credentials "$(json "$BODY" 'j["code"]')"
login "$other" "$opw"
expect "attack: five wrong passwords by anyone no longer lock the key" 200 "$STATUS"
# Guessing goes on: the username's delays grow (or its per-minute bucket
# empties), and the 429 says how long to wait.
for i in $(seq 20); do login "$other" "guess $i"; [ "$STATUS" = 429 ] && break; done
expect "attack: guessing one username meets 429" 429 "$STATUS"
expect "with retry_after in seconds" true "$(json "$BODY" 'isinstance(j["retry_after"], int) and j["retry_after"] > 0')"
expect "and the same seconds in Retry-After" "$(json "$BODY" 'j["retry_after"]')" "$(header Retry-After)"
wait_s=$(json "$BODY" 'j["retry_after"]'); limited_at=$(date +%s)
login "$(echo "$other" | tr a-z A-Z)" "$opw"
# On a loaded machine the wait may be over before this login arrives:
# then, and only then, it may pass.
if [ "$STATUS" = 429 ]; then pass "the same user in capitals waits too"
elif [ $(( $(date +%s) - limited_at )) -ge "$wait_s" ]; then pass "the same user in capitals: the ${wait_s} s wait was over before it arrived"
else fail "the same user in capitals was let in after $(( $(date +%s) - limited_at )) s of a ${wait_s} s wait ($STATUS)"; fi
expect_contains "wrong passwords are audit events" "invalid_credentials" "$(db_query "$DEMO" "SELECT $ENTRY FROM audit_event WHERE $ENTRY LIKE '%invalid_credentials%' LIMIT 1")"
grep -q 'security: login refused' "$WORK/demo.err" && pass "failed logins are logged as security events" || fail "no security log"
if grep -q "$opw" "$WORK/demo.err"; then fail "a password reached the log"; else pass "no password reaches the log"; fi

third=$(person 01010100126 username); tpw=$(person 01010100126 password)
login "$third" "$tpw"
T3=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call GET "$PUB/api/v1/me/keys" "${T3[@]}"
kid=$(json "$BODY" 'j[0]["id"]')
call POST "$PUB/api/v1/me/keys/$kid/deactivate" "${T3[@]}"
expect "a user deactivates a key at once" deactivated "$(json "$BODY" 'j["status"]')"
call GET "$PUB/api/v1/auth/session" "${T3[@]}"
expect "the sessions it opened end with it" 401 "$STATUS"
login "$third" "$tpw"
expect "and it opens nothing any more" 401 "$STATUS"
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d '{"username":"x"}'
expect "a login without password is 422" 422 "$STATUS"
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d '{"username":'
expect "malformed JSON is 400" 400 "$STATUS"

# --- profiles: for oneself, one's minor child, an organisation
login "$user" "$pw"
P=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call POST "$PUB/api/v1/auth/profile" "${P[@]}" "${J[@]}" -d '{"child":"12090311839"}'
expect "a parent acts for his minor child" child:12090311839 "$(json "$BODY" 'j["profile"]')"
# (the newest profile event: the auth sweeper may write a window of
# failures of its own any moment)
expect_contains "and the audit log says so" "profile:17:child:12090311839" "$(db_query "$DEMO" "SELECT $ENTRY FROM audit_event WHERE $ENTRY LIKE '%action:7:profile%' ORDER BY seq DESC LIMIT 1")"
call GET "$PUB/api/v1/auth/session" "${P[@]}"
expect "the session carries the profile" child:12090311839 "$(json "$BODY" 'j["profile"]')"
call GET "$PUB/api/v1/auth/profiles" "${P[@]}"
expect "the choices: himself, then his minor child (the current one)" "self:85073003328:False child:12090311839:True" \
  "$(json "$BODY" '" ".join(p["kind"]+":"+p["insz"]+":"+str(p["current"]) for p in j)')"
expect "each by name" "Lotte Peeters" "$(json "$BODY" 'j[1]["name"]')"
call POST "$PUB/api/v1/auth/profile" "${P[@]}" "${J[@]}" -d '{"child":"92510405775"}'
expect "not for someone else's child" not_representative "$(json "$BODY" 'j["code"]')"
tom=$(json "$DEMO/demo.json" '[p for p in j["persons"] if p["first_name"]=="Tom" and p["last_name"]=="Wouters"][0]["username"]')
tpw2=$(json "$DEMO/demo.json" '[p for p in j["persons"] if p["first_name"]=="Tom" and p["last_name"]=="Wouters"][0]["password"]')
lars=$(json "$DEMO/demo.json" '[p for p in j["persons"] if p["first_name"]=="Lars" and p["last_name"]=="Wouters"][0]["insz"]')
login "$tom" "$tpw2"
TOM=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call POST "$PUB/api/v1/auth/profile" "${TOM[@]}" "${J[@]}" -d "{\"child\":\"$lars\"}"
expect "not for a child who turned 18 (born 2008-03-05)" not_representative "$(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/auth/profiles" "${TOM[@]}"
expect "and not offered him either" 0 "$(json "$BODY" "len([p for p in j if p.get('insz')=='$lars'])")"
sara=$(json "$DEMO/demo.json" '[p for p in j["persons"] if p["insz"]=="83061814038"][0]["username"]')
spw=$(json "$DEMO/demo.json" '[p for p in j["persons"] if p["insz"]=="83061814038"][0]["password"]')
login "$sara" "$spw"
call GET "$PUB/api/v1/auth/profiles" -H "Authorization: Bearer $(json "$BODY" 'j["token"]')"
expect "an HR user is offered her organisation, with her roles there" "organisation 0412345614 Bakkerij De Kroon BV access_manager,mandate_consult" \
  "$(json "$BODY" '[" ".join([p["kind"], p["kbo"], p["name"], ",".join(p["roles"])]) for p in j if p["kind"]=="organisation"][0]')"
call POST "$PUB/api/v1/auth/profile" "${P[@]}" "${J[@]}" -d '{"as":"self"}'
expect "back to oneself" self "$(json "$BODY" 'j["profile"]')"
call POST "$PUB/api/v1/auth/profile" "${P[@]}" "${J[@]}" -d '{"as":"self","child":"12090311839"}'
expect "one choice at a time" 422 "$STATUS"

# --- the auditor's queries
call POST "$EIDURL/api/v1/auth/login/eid" --cert "$DEMO/pki/eid/01010100126.crt" --key "$DEMO/pki/eid/01010100126.key"
AU=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call GET "$PUB/api/v1/audit/events?subject=85073003328" "${AU[@]}"
expect "without acting for the Crossroads Bank: 403" role_required "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/auth/profile" "${AU[@]}" "${J[@]}" -d '{"organisation":"0345678997"}'
expect "the auditor acts for the Crossroads Bank" org:0345678997 "$(json "$BODY" 'j["profile"]')"
call GET "$PUB/api/v1/audit/events?subject=85073003328" "${AU[@]}"
expect "and queries the log by subject" 200 "$STATUS"
expect "every event is about that person" true "$(json "$BODY" 'all(e.get("subject")=="85073003328" for e in j["events"]) and len(j["events"])>0')"
expect "refusals included" true "$(json "$BODY" 'any(e["outcome"]=="refused" for e in j["events"])')"
call GET "$PUB/api/v1/audit/events?actor=0333333372&from=2020-01-01T00:00:00Z" "${AU[@]}"
expect "by acting organisation and time" true "$(json "$BODY" 'all(e["actor"]=="0333333372" for e in j["events"]) and len(j["events"])>0')"
call GET "$PUB/api/v1/audit/events?from=yesterday" "${AU[@]}"
expect "a bad time is 422" 422 "$STATUS"
# A session travels only as a Bearer token: the same token in a cookie,
# which a browser would send on any page's behalf, opens nothing.
call GET "$PUB/api/v1/auth/session" -H "Cookie: kp_session=$(echo "${AU[1]}" | sed 's/^Authorization: Bearer //')"
expect "a session cookie is not accepted (no CSRF defence yet)" 401 "$STATUS"
call GET "$PUB/api/v1/audit/events?outcome=bogus" "${AU[@]}"
expect "an unknown outcome is refused, not ignored" "422 invalid_field" "$STATUS $(json "$BODY" 'j["code"]')"
expect_contains "the auditor's query is itself audited" "action:11:audit_query" "$(db_query "$DEMO" "SELECT $ENTRY FROM audit_event WHERE $ENTRY LIKE '%audit_query%' LIMIT 1")"
call GET "$PUB/api/v1/audit/events" "${P[@]}"
expect "a citizen is no auditor" 403 "$STATUS"

# --- TOTP: enrol with an authenticator app, confirm, step up
sara=$(person 83061814038 username); spw=$(person 83061814038 password)
login "$sara" "$spw"
S=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call POST "$PUB/api/v1/me/keys" "${S[@]}" "${J[@]}" -d '{"type":"totp"}'
expect "attack: a password session (200) cannot add a TOTP key (400)" 403 "$STATUS"
expect "code insufficient_level" insufficient_level "$(json "$BODY" 'j["code"]')"
expect "naming the level a new key needs" 400 "$(json "$BODY" 'j["required"]')"
expect "and the session's" 200 "$(json "$BODY" 'j["current"]')"
call POST "$PUB/api/v1/me/keys" "${S[@]}" "${J[@]}" -d '{"type":"email_code","email":"sara@elsewhere.example"}'
expect "nor an e-mail key" insufficient_level "$(json "$BODY" 'j["code"]')"
# Sara steps up with the e-mail key she has, then may add a TOTP key.
semail=$(person 83061814038 email)
nmail=$(ls "$DEMO/mail/" 2>/dev/null | wc -l)
call POST "$PUB/api/v1/auth/step-up/send" "${S[@]}" "${J[@]}" -d '{"method":"email_code"}'
for _ in $(seq 100); do [ "$(ls "$DEMO/mail/" 2>/dev/null | wc -l)" -gt "$nmail" ] && break; sleep 0.1; done
code=$(grep -o 'code is [0-9]*' "$(grep -l "$semail" "$DEMO/mail/"*.eml | tail -1)" | awk '{print $3}')
call POST "$PUB/api/v1/auth/step-up" "${S[@]}" "${J[@]}" -d "{\"method\":\"email_code\",\"code\":\"$code\"}"
expect "Sara steps up to 400 with her e-mail code" 400 "$(json "$BODY" 'j["level"]')"
call POST "$PUB/api/v1/me/keys" "${S[@]}" "${J[@]}" -d '{"type":"totp"}'
expect "a TOTP key is enrolled" 201 "$STATUS"
expect "pending until its first code" pending "$(json "$BODY" 'j["status"]')"
uri=$(json "$BODY" 'j["otpauth_uri"]'); kid=$(json "$BODY" 'j["id"]')
json "$BODY" 'j["qr_png_base64"]' | base64 -d > "$WORK/qr.png"
expect "zbarimg reads the QR code as the otpauth URI" "$uri" "$(zbarimg --raw -q -Sdisable -Sqrcode.enable "$WORK/qr.png" 2>/dev/null)"
secret=$(echo "$uri" | sed 's/.*secret=\([A-Z2-7]*\).*/\1/')
call POST "$PUB/api/v1/me/keys/$kid/confirm" "${S[@]}" "${J[@]}" -d '{"code":"12345"}'
expect "a code of the wrong length is refused" invalid_code "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/me/keys/$kid/confirm" "${S[@]}" "${J[@]}" -d "{\"code\":\"$(oathtool --totp -b "$secret")\"}"
expect "oathtool's code confirms the key" active "$(json "$BODY" 'j["status"]')"
expect_contains "the app's label is the username, not the national number" "kruispunt:$sara?" "$uri"
for _ in $(seq 100); do grep -l 'sleutel toegevoegd' "$DEMO/mail/"*.eml 2>/dev/null | xargs -r grep -l "$semail" >/dev/null 2>&1 && break; sleep 0.1; done
expect_contains "Sara is told at her address, in her account's language (Dutch), that a key was added" "$semail" "$(grep -l 'sleutel toegevoegd' "$DEMO/mail/"*.eml | xargs -r cat)"
sphone=$(person 83061814038 phone)
for _ in $(seq 100); do grep -l 'sleutel toegevoegd' "$DEMO/sms/"*.json 2>/dev/null | xargs -r grep -l "$sphone" >/dev/null 2>&1 && break; sleep 0.1; done
expect_contains "and by SMS at her phone" "$sphone" "$(grep -l 'sleutel toegevoegd' "$DEMO/sms/"*.json | xargs -r cat)"
expect_contains "the addition is an audit event" "key_confirm" "$(db_query "$DEMO" "SELECT $ENTRY FROM audit_event WHERE $ENTRY LIKE '%key_confirm%' AND $ENTRY LIKE '%83061814038%' ORDER BY seq DESC LIMIT 1")"
call POST "$PUB/api/v1/me/keys/$kid/confirm" "${S[@]}" "${J[@]}" -d "{\"code\":\"$(oathtool --totp -b "$secret")\"}"
expect "a key is confirmed once" 409 "$STATUS"
login "$sara" "$spw"
expect "a login now offers the TOTP step-up" true "$(json "$BODY" '"totp" in j["step_up"]')"
S=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
O=("${S[@]}")
call POST "$PUB/api/v1/auth/profile" "${O[@]}" "${J[@]}" -d '{"organisation":"0412.345.614"}'
expect "an access manager acts for her organisation" org:0412345614 "$(json "$BODY" 'j["profile"]')"
call POST "$PUB/api/v1/auth/profile" "${O[@]}" "${J[@]}" -d '{"organisation":"0207521107"}'
expect "not for one where she holds no role" not_representative "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/apps/mypension/enter" "${S[@]}"
expect "before the step-up: level 200, MyPension refused" 403 "$STATUS"
next=$(oathtool --totp -b --now "$(date -u -d '+30 seconds' '+%F %T UTC')" "$secret")
call POST "$PUB/api/v1/auth/step-up" "${S[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$next\"}"
expect "the step-up lifts the session to 400" 400 "$(json "$BODY" 'j["level"]')"
call GET "$PUB/api/v1/auth/session" "${S[@]}"
expect "the session names both keys" "password totp_app" "$(json "$BODY" '" ".join(k["type"] for k in j["keys"])')"
call POST "$PUB/api/v1/apps/mypension/enter" "${S[@]}"
expect "and MyPension opens" 200 "$STATUS"
call POST "$PUB/api/v1/auth/step-up" "${S[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$next\"}"
expect "attack: a code is accepted once" invalid_code "$(json "$BODY" 'j["code"]')"

# --- a code by e-mail, through the demo's SMTP sink
login "$(person 12090311839 username)" "$(person 12090311839 password)"
expect_contains "the login offers an e-mail code" email_code "$(json "$BODY" 'j["step_up"]')"
M=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call POST "$PUB/api/v1/auth/step-up/send" "${M[@]}" "${J[@]}" -d '{"method":"email_code"}'
expect "a code is sent" 202 "$STATUS"
expect_contains "to the masked address" "@example.org" "$(json "$BODY" 'j["sent_to"]')"
for _ in $(seq 50); do ls "$DEMO/mail/"*.eml >/dev/null 2>&1 && break; sleep 0.1; done
mailfile=$(ls "$DEMO/mail/"*.eml | tail -1)
expect_contains "it arrives at the SMTP sink for Lotte" "lotte.peeters@example.org" "$(cat "$mailfile")"
code=$(grep -o 'code is [0-9]*' "$mailfile" | awk '{print $3}')
call POST "$PUB/api/v1/auth/step-up" "${M[@]}" "${J[@]}" -d '{"method":"email_code","code":"000000"}'
expect "a wrong code is refused" invalid_code "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/auth/step-up" "${M[@]}" "${J[@]}" -d "{\"method\":\"email_code\",\"code\":\"$code\"}"
expect "the mailed code lifts the session to 400" 400 "$(json "$BODY" 'j["level"]')"
call POST "$PUB/api/v1/auth/step-up" "${M[@]}" "${J[@]}" -d "{\"method\":\"email_code\",\"code\":\"$code\"}"
expect "attack: a mailed code is used once" invalid_code "$(json "$BODY" 'j["code"]')"
if grep -q "$code" "$WORK/demo.err"; then fail "a code reached the log"; else pass "no code reaches the log"; fi
# Nobody bombs Lotte's mailbox: a few codes in ten minutes, then 429 with
# the wait in Retry-After and in the problem's retry_after alike.
sends=""
for _ in $(seq 6); do
  call POST "$PUB/api/v1/auth/step-up/send" "${M[@]}" "${J[@]}" -d '{"method":"email_code"}'
  sends="$sends$STATUS "
  [ "$STATUS" = 429 ] && break
done
expect_contains "attack: asking for code after code meets 429" "429" "$sends"
expect "the refusal is rate_limited" rate_limited "$(json "$BODY" 'j["code"]')"
expect "it says how long to wait" true "$(json "$BODY" 'j["retry_after"] > 1')"
expect "and Retry-After says the same" "$(json "$BODY" 'j["retry_after"]')" "$(header Retry-After)"

# --- a code by SMS, through the demo's SMS gateway sink
login "$user" "$pw"
expect_contains "Jan's login offers an SMS code" sms_code "$(json "$BODY" 'j["step_up"]')"
Q=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
phone=$(person 85073003328 phone)
touch "$DEMO/sms/.fail"
call POST "$PUB/api/v1/auth/step-up/send" "${Q[@]}" "${J[@]}" -d '{"method":"sms_code"}'
expect "an SMS code is queued" 202 "$STATUS"
masked="+$(echo "${phone:1:${#phone}-3}" | tr '0-9' '*')${phone: -2}"
expect "to the masked number" "$masked" "$(json "$BODY" 'j["sent_to"]')"
for _ in $(seq 50); do grep -q 'SMS gateway answered 503' "$WORK/demo.err" && break; sleep 0.1; done
expect_contains "a gateway failure is logged" "will retry" "$(grep 'SMS gateway answered 503' "$WORK/demo.err")"
expect "and the message waits in the outbox" 1 "$(db_query "$DEMO" "SELECT count(*) FROM outbox WHERE channel='sms' AND sent_at IS NULL AND failed_at IS NULL")"
rm "$DEMO/sms/.fail"
# Other messages (notices of new keys) reach the sink too: Jan's is found by his number.
for _ in $(seq 300); do grep -l "$phone" "$DEMO/sms/"*.json >/dev/null 2>&1 && break; sleep 0.1; done
smsfile=$(grep -l "$phone" "$DEMO/sms/"*.json | tail -1)
expect "the retry reaches Jan's phone" "$phone" "$(json "$smsfile" 'j["to"]')"
code=$(json "$smsfile" 'j["text"]' | grep -o 'code is [0-9]*' | awk '{print $3}')
call POST "$PUB/api/v1/auth/step-up" "${Q[@]}" "${J[@]}" -d '{"method":"sms_code","code":"12a456"}'
expect "a code with a non-digit is refused" invalid_code "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/auth/step-up" "${Q[@]}" "${J[@]}" -d "{\"method\":\"sms_code\",\"code\":\"$code\"}"
expect "the SMS code lifts the session to 400" 400 "$(json "$BODY" 'j["level"]')"

# --- the demo's TOTP secret works in an authenticator (oathtool)
login "$user" "$pw"
T=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call POST "$PUB/api/v1/auth/step-up" "${T[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$(oathtool --totp -b "$(person 85073003328 totp_secret)")\"}"
expect "demo.json's totp_secret steps Jan up" 400 "$(json "$BODY" 'j["level"]')"

# --- enrolling an e-mail key and an SMS key: a code proves the address
call POST "$PUB/api/v1/me/keys" "${T[@]}" "${J[@]}" -d '{"type":"email_code","email":"jan@home.example"}'
expect "an e-mail key is enrolled" 201 "$STATUS"
expect "pending" pending "$(json "$BODY" 'j["status"]')"
ek=$(json "$BODY" 'j["id"]')
for _ in $(seq 150); do grep -l 'jan@home.example' "$DEMO/mail/"*.eml >/dev/null 2>&1 && break; sleep 0.1; done
mailfile=$(grep -l 'jan@home.example' "$DEMO/mail/"*.eml | tail -1)
code=$(grep -o 'code is [0-9]*' "$mailfile" | awk '{print $3}')
call GET "$PUB/api/v1/me/keys" "${T[@]}"
expect "a pending key does not count yet" pending "$(json "$BODY" "[k['status'] for k in j if k['id']==$ek][0]")"
call POST "$PUB/api/v1/me/keys/$ek/confirm" "${T[@]}" "${J[@]}" -d '{"code":"999999"}'
expect "a wrong code does not confirm it" invalid_code "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/me/keys/$ek/confirm" "${T[@]}" "${J[@]}" -d "{\"code\":\"$code\"}"
expect "the code sent to the new address confirms it" active "$(json "$BODY" 'j["status"]')"
call POST "$PUB/api/v1/me/keys/$ek/confirm" "${T[@]}" "${J[@]}" -d "{\"code\":\"$code\"}"
expect "confirmed once" already_confirmed "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/me/keys" "${T[@]}" "${J[@]}" -d '{"type":"sms_code","phone":"+32471234567"}'
sk=$(json "$BODY" 'j["id"]')
for _ in $(seq 150); do grep -l '+32471234567' "$DEMO/sms/"*.json >/dev/null 2>&1 && break; sleep 0.1; done
code=$(json "$(grep -l '+32471234567' "$DEMO/sms/"*.json | tail -1)" 'j["text"]' | grep -o 'code is [0-9]*' | awk '{print $3}')
call POST "$PUB/api/v1/me/keys/$sk/confirm" "${T[@]}" "${J[@]}" -d "{\"code\":\"$code\"}"
expect "an SMS key is confirmed by the code texted to it" active "$(json "$BODY" 'j["status"]')"
n0=$(db_query "$DEMO" "SELECT count(*) FROM credential")
call POST "$PUB/api/v1/me/keys" "${T[@]}" "${J[@]}" -d '{"type":"email_code","email":"a@b.example\r\nBcc: x@evil.example"}'
expect "attack: a header smuggled into an address is refused" invalid_field "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/me/keys" "${T[@]}" "${J[@]}" -d '{"type":"email_code","email":"a@b.example,x@evil.example"}'
expect "attack: a second recipient is refused" 422 "$STATUS"
call POST "$PUB/api/v1/me/keys" "${T[@]}" "${J[@]}" -d '{"type":"sms_code","phone":"0471 23 45 67"}'
expect "a phone number not in E.164 is refused" invalid_field "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/me/keys" "${T[@]}" "${J[@]}" -d '{"type":"fax"}'
expect "an unknown key type is refused" unsupported_key_type "$(json "$BODY" 'j["code"]')"
expect "refused enrolments add no key" "$n0" "$(db_query "$DEMO" "SELECT count(*) FROM credential")"
call POST "$PUB/api/v1/me/keys/999999/confirm" "${T[@]}" "${J[@]}" -d '{"code":"123456"}'
expect "someone else's or no key: 404" unknown_key "$(json "$BODY" 'j["code"]')"

# --- a session is worth the keys still valid that were used in it
call GET "$PUB/api/v1/me/keys" "${T[@]}"
jtotp=$(json "$BODY" '[k["id"] for k in j if k["type"]=="totp_app" and k["status"]=="active"][0]')
jpw=$(json "$BODY" '[k["id"] for k in j if k["type"]=="password"][0]')
call POST "$PUB/api/v1/me/keys/$jtotp/deactivate" "${T[@]}"
expect "Jan deactivates the TOTP key his session stepped up with" deactivated "$(json "$BODY" 'j["status"]')"
call GET "$PUB/api/v1/auth/session" "${T[@]}"
expect "the session falls back to its password's level" 200 "$(json "$BODY" 'j["level"]')"
expect "and names the password only" password "$(json "$BODY" '" ".join(k["type"] for k in j["keys"])')"
call POST "$PUB/api/v1/apps/mypension/enter" "${T[@]}"
expect "MyPension no longer opens" 403 "$STATUS"
call POST "$PUB/api/v1/me/keys" "${T[@]}" "${J[@]}" -d '{"type":"totp"}'
expect "nor may the lowered session add a key" insufficient_level "$(json "$BODY" 'j["code"]')"
for _ in $(seq 100); do grep -l 'sleutel verwijderd' "$DEMO/mail/"*.eml >/dev/null 2>&1 && break; sleep 0.1; done
expect_contains "Jan is told a key was removed" "$(person 85073003328 email)" "$(grep -l 'sleutel verwijderd' "$DEMO/mail/"*.eml | xargs -r cat)"
call POST "$PUB/api/v1/me/keys/$jpw/deactivate" "${T[@]}"
call GET "$PUB/api/v1/auth/session" "${T[@]}"
expect "deactivating the key that opened it ends it" 401 "$STATUS"

# --- rate limits (last: they leave this address throttled for a moment)
lotte_fails() {
  db_query "$DEMO" "SELECT coalesce(sum(coalesce($(sql_int_field count), 1)), 0) || ' ' || count(*) FROM audit_event WHERE seq >= $1 AND $ENTRY LIKE '%subject:11:12090311839%' AND $ENTRY LIKE '%action:5:login%outcome:7:refused%'"
}
mark=$(db_query "$DEMO" "SELECT max(seq) + 1 FROM audit_event")
codes=$(for i in $(seq 12); do curl -s -o /dev/null -w '%{http_code} ' --cacert "$CA" "${J[@]}" -d '{"username":"lotte.peeters","password":"not it at all"}' "$PUB/api/v1/auth/login"; done)
expect_contains "attack: password guessing on one username meets 429" "429" "$codes"
wrong=$(echo "$codes" | tr ' ' '\n' | grep -c 401 || true)
expect "a run of wrong passwords is one event at first, not one per guess" "1 1" "$(lotte_fails "$mark")"
urls=$(for i in $(seq 120); do echo "url = \"$PUB/api/v1/identifiers/check\""; done)
codes=$(echo "$urls" | curl -s --cacert "$CA" "${J[@]}" -d '{"insz":"85073003328"}' -o /dev/null -w '%{http_code}:%header{retry-after}\n' -K - | sort | uniq -c)
expect_contains "attack: a flood of anonymous POSTs from one address meets 429" "429" "$codes"
expect_contains "a 429 always says when to come back" "429:1" "$codes"
call GET "$PUB/healthz"
expect "GETs stay open" 200 "$STATUS"

stop_demo
expect "at the stop, one more event counts the rest of the run" "$wrong 2" "$(lotte_fails "$mark")"
out=$("$KP" audit verify --data "$DEMO" 2>&1) && rc=0 || rc=$?
expect "the audit log verifies" 0 "$rc"
finish
