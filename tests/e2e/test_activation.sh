#!/usr/bin/env bash
# A registration office's activation end to end, over real TLS: the
# operator issues it (`kruispunt activation issue`, as an office working
# offline), the link arrives at the demo's SMTP sink, the person starts
# with the paper code, chooses a password and an authenticator app
# (oathtool), completes, logs in, steps up to 400 and enters a level-400
# application. Attacks: a wrong code, a code used again, wrong codes
# locking the activation, an expired link, an address already linked to
# another person's keys (deactivated at completion, its holder told).
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
MAIL=$DEMO/$(json "$DEMO/demo.json" 'j["mail_dir"]')

# issue INSZ EMAIL: the CLI's JSON answer into $WORK/issued.json.
issue() {
  "$KP" activation issue --data "$DEMO" --insz "$1" --email "$2" \
    >"$WORK/issued.json" 2>"$WORK/issue.err"
}
# mail_to ADDRESS PATTERN: the newest message to ADDRESS holding PATTERN
# (waits for the daemon's outbox worker to deliver it).
mail_to() {
  local f=""
  for _ in $(seq 100); do
    f=$(grep -l "$1" "$MAIL"/*.eml 2>/dev/null | xargs -r grep -l "$2" | tail -1 || true)
    [ -n "$f" ] && break
    sleep 0.1
  done
  echo "$f"
}
link_token() { grep -o 'token=[0-9a-f]\{64\}' "$(mail_to "$1" '/#/activate?token=')" | tail -1 | cut -d= -f2; }
start() {
  call POST "$PUB/api/v1/activation/start" "${J[@]}" \
    -d "{\"link_token\":\"$1\",\"activation_code\":\"$2\"}"
}

# --- Noah Mbeki (BIS register, no eID) at the office
NOAH=99240000511
old_user=$(person $NOAH username); old_pw=$(person $NOAH password)
issue $NOAH noah.home@example.org
expect "the operator issues an activation" 0 "$?"
CODE=$(json "$WORK/issued.json" 'j["activation_code"]')
expect_contains "the paper code is in four groups of five" "-" "$CODE"
expect "the office learns which of Noah's keys completing deactivates" 4 "$(json "$WORK/issued.json" 'len(j["keys_to_deactivate"])')"
TOKEN=$(link_token noah.home@example.org)
expect "the link arrives by e-mail" 64 "${#TOKEN}"
expect "the issue is recorded with the operator as actor" 1 "$(db_query "$DEMO" "SELECT count(*) FROM audit_event WHERE $ENTRY LIKE '%activation_issue%' AND $ENTRY LIKE '%channel:3:cli%'")"

start "$TOKEN" "22222-22222-22222-22222"
expect "attack: a wrong paper code is 401" 401 "$STATUS"
expect "invalid_activation" invalid_activation "$(json "$BODY" 'j["code"]')"
start "$(printf 'a%.0s' $(seq 64))" "$CODE"
expect "an unknown link gets the same answer" invalid_activation "$(json "$BODY" 'j["code"]')"
start "$TOKEN" "$(echo "$CODE" | tr 'A-Z' 'a-z' | tr -d '-')"
expect "the paper code opens it, in any case, without dashes" 200 "$STATUS"
ID=$(json "$BODY" 'j["activation_id"]')

call POST "$PUB/api/v1/activation/$ID/credentials" "${J[@]}" \
  -d '{"username":"noah.m","password":"sunflowers12","key":"totp"}'
expect "a dictionary password is refused" weak_password "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/activation/$ID/credentials" "${J[@]}" \
  -d '{"username":"noah.m","password":"noah mbeki rocks","key":"totp"}'
expect "so is one with his names" weak_password "$(json "$BODY" 'j["code"]')"
PW="tall ships under winter rain"
call POST "$PUB/api/v1/activation/$ID/credentials" "${J[@]}" \
  -d "{\"username\":\"noah.m\",\"password\":\"$PW\",\"key\":\"totp\"}"
expect "Noah keeps his username (he has an account)" "$old_user" "$(json "$BODY" 'j["username"]')"
URI=$(json "$BODY" 'j["otpauth_uri"]')
expect_contains "and gets an authenticator app's URI" "otpauth://totp/" "$URI"
SECRET=$(echo "$URI" | sed 's/.*secret=\([A-Z2-7]*\).*/\1/')
call POST "$PUB/api/v1/activation/$ID/complete" "${J[@]}" -d '{"code":"000000"}'
expect "attack: a wrong app code is 401" invalid_code "$(json "$BODY" 'j["code"]')"
TOTP=$(oathtool --totp -b "$SECRET")
call POST "$PUB/api/v1/activation/$ID/complete" "${J[@]}" -d "{\"code\":\"$TOTP\"}"
expect "the app's code completes the activation" 200 "$STATUS"
expect "his keys are active" active "$(json "$BODY" 'j["status"]')"
call POST "$PUB/api/v1/activation/$ID/complete" "${J[@]}" -d "{\"code\":\"$TOTP\"}"
expect "attack: the code used again opens nothing" invalid_activation "$(json "$BODY" 'j["code"]')"
start "$TOKEN" "$CODE"
expect "attack: nor does the paper code again" invalid_activation "$(json "$BODY" 'j["code"]')"

call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$old_user\",\"password\":\"$old_pw\"}"
expect "his old password no longer logs in" 401 "$STATUS"
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$old_user\",\"password\":\"$PW\"}"
expect "the new one does" 200 "$STATUS"
expect "at level 200, offered a TOTP step-up" '["totp"]' "$(json "$BODY" 'j["step_up"]')"
A=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
# The completion used this time step: the next one steps up.
NEXT=$(oathtool --totp -b -N "@$(( $(date +%s) + 30 ))" "$SECRET")
call POST "$PUB/api/v1/auth/step-up" "${A[@]}" "${J[@]}" -d "{\"method\":\"totp\",\"code\":\"$NEXT\"}"
expect "he steps up with the app to 400" 400 "$(json "$BODY" 'j["level"]')"
call POST "$PUB/api/v1/apps/mypension/enter" "${A[@]}"
expect "and enters a level-400 application" 200 "$STATUS"
expect "his demo keys are deactivated" 4 "$(db_query "$DEMO" "SELECT count(*) FROM credential WHERE insz='$NOAH' AND status='deactivated'")"

# --- wrong codes lock an activation: paper and registration codes count
# together, auth.activation_max_failures (10) of them
AHMED=92510405775
issue $AHMED ahmed.lock@example.org
CODE=$(json "$WORK/issued.json" 'j["activation_code"]')
TOKEN=$(link_token ahmed.lock@example.org)
for i in $(seq 9); do start "$TOKEN" "33333-33333-33333-33333"; done
expect "attack: nine wrong paper codes" invalid_activation "$(json "$BODY" 'j["code"]')"
start "$TOKEN" "$CODE"
expect "then the right one still opens it" 200 "$STATUS"
ID=$(json "$BODY" 'j["activation_id"]')
call POST "$PUB/api/v1/activation/$ID/credentials" "${J[@]}" \
  -d '{"password":"seven quiet lanterns glow","key":"email_code"}'
call POST "$PUB/api/v1/activation/$ID/complete" "${J[@]}" -d '{"code":"000000"}'
expect "attack: a tenth wrong code locks the activation" 423 "$STATUS"
expect "activation_locked" activation_locked "$(json "$BODY" 'j["code"]')"
REG=$(grep -o 'registratiecode is [0-9]*' "$(mail_to ahmed.lock@example.org 'registratiecode')" | awk '{print $3}')
call POST "$PUB/api/v1/activation/$ID/complete" "${J[@]}" -d "{\"code\":\"$REG\"}"
expect "the right registration code no longer completes it" 423 "$STATUS"
start "$TOKEN" "$CODE"
expect "attack: an eleventh try in a minute meets the activation's limit" 429 "$STATUS"
expect "with retry_after" 6 "$(json "$BODY" 'j["retry_after"]')"

# --- an expired link
KRUISPUNT_AUTH_ACTIVATION_TTL_S=1 issue $AHMED ahmed.late@example.org
CODE=$(json "$WORK/issued.json" 'j["activation_code"]')
TOKEN=$(link_token ahmed.late@example.org)
sleep 2
start "$TOKEN" "$CODE"
expect "an expired activation is 410" 410 "$STATUS"
expect "activation_expired" activation_expired "$(json "$BODY" 'j["code"]')"

# --- an address already linked to someone's keys
JAN=85073003328
jan_mail=$(person $JAN email)
issue $AHMED "$jan_mail"
expect "the office is told another person's key at the address will go" 1 "$(json "$WORK/issued.json" 'j["other_persons_keys"]')"
expect "and lists it among the keys to deactivate" true "$(json "$WORK/issued.json" 'len(j["keys_to_deactivate"]) >= 1')"
CODE=$(json "$WORK/issued.json" 'j["activation_code"]')
TOKEN=$(link_token "$jan_mail")
expect "nothing is deactivated at the issue" 0 "$(db_query "$DEMO" "SELECT count(*) FROM credential WHERE insz='$JAN' AND status='deactivated'")"
start "$TOKEN" "$CODE"
ID=$(json "$BODY" 'j["activation_id"]')
nmail=$(ls "$MAIL" | wc -l)
call POST "$PUB/api/v1/activation/$ID/credentials" "${J[@]}" \
  -d '{"username":"ahmed.b","password":"seven quiet lanterns glow","key":"email_code"}'
expect "an e-mail key: a registration code goes out" 200 "$STATUS"
AHMED_USER=$(json "$BODY" 'j["username"]')
expect "valid five minutes" 300 "$(json "$BODY" 'j["code_valid_s"]')"
for _ in $(seq 100); do [ "$(ls "$MAIL" | wc -l)" -gt "$nmail" ] && break; sleep 0.1; done
REG=$(grep -o 'registratiecode is [0-9]*' "$(mail_to "$jan_mail" 'registratiecode')" | awk '{print $3}')
call POST "$PUB/api/v1/activation/$ID/complete" "${J[@]}" -d "{\"code\":\"$REG\"}"
expect "the registration code completes it" 200 "$STATUS"
expect "Jan's e-mail key on that address is deactivated" deactivated "$(db_query "$DEMO" "SELECT status FROM credential WHERE insz='$JAN' AND type='email_code' AND address='$jan_mail'")"
expect "recorded about Jan" 1 "$(db_query "$DEMO" "SELECT count(*) FROM audit_event WHERE $ENTRY LIKE '%key_deactivate%' AND $ENTRY LIKE '%$JAN%' AND $ENTRY LIKE '%activation%'")"
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$AHMED_USER\",\"password\":\"seven quiet lanterns glow\"}"
expect "Ahmed logs in with his new password" 200 "$STATUS"

# --- eID self-service: the way back from a forgotten password
LUCAS=01010100126
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$(person $LUCAS username)\",\"password\":\"$(person $LUCAS password)\"}"
P=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call PUT "$PUB/api/v1/me/credentials" "${P[@]}" "${J[@]}" -d '{"password":"amber fields at noon"}'
expect "attack: a password session cannot set credentials" 403 "$STATUS"
expect "it needs the eID's level" 500 "$(json "$BODY" 'j["required"]')"
call POST "$EIDURL/api/v1/auth/login/eid" --cert "$DEMO/pki/eid/$LUCAS.crt" --key "$DEMO/pki/eid/$LUCAS.key"
E=(-H "Authorization: Bearer $(json "$BODY" 'j["token"]')")
call PUT "$PUB/api/v1/me/credentials" "${E[@]}" "${J[@]}" -d '{"password":"lucas janssens 2001"}'
expect "with the eID, a password with his names is refused" weak_password "$(json "$BODY" 'j["code"]')"
call PUT "$PUB/api/v1/me/credentials" "${E[@]}" "${J[@]}" -d '{"username":"lucas.j","password":"amber fields at noon"}'
expect "a new username and password with the eID" lucas.j "$(json "$BODY" 'j["username"]')"
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d '{"username":"lucas.j","password":"amber fields at noon"}'
expect "log in with them" 200 "$STATUS"
call GET "$PUB/api/v1/auth/session" "${P[@]}"
expect "the old password's session has ended" 401 "$STATUS"

finish
