#!/usr/bin/env bash
# The portal's server side end to end, over real TLS: its static files
# (headers, hostile paths), cookie sessions with their CSRF defence, and
# the eID login on its own listener with its one-time handoff code.
source "$(dirname "$0")/lib.sh"
start_demo
J=(-H 'Content-Type: application/json')
events() { db_query "$DEMO" "SELECT count(*) FROM audit_event"; }
HEX64='^[0-9a-f]{64}$'
matches() { if [[ "$3" =~ $2 ]]; then pass "$1"; else fail "$1 (got '$3')"; fi; }

# --- static files
call GET "$PUB/"
expect "/ serves the portal's index.html" 200 "$STATUS"
expect_contains "the page itself" '<html lang="nl">' "$(cat "$BODY")"
expect "as HTML" "text/html; charset=utf-8" "$(header Content-Type)"
expect "with the page policy" "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'" "$(header Content-Security-Policy)"
expect "nosniff" nosniff "$(header X-Content-Type-Options)"
expect "no referrer" no-referrer "$(header Referrer-Policy)"
expect "never framed" DENY "$(header X-Frame-Options)"
expect "its own browsing context group" same-origin "$(header Cross-Origin-Opener-Policy)"
expect "HSTS on TLS" "max-age=31536000" "$(header Strict-Transport-Security)"
expect "HTML is revalidated each time" no-cache "$(header Cache-Control)"
ETAG=$(header ETag)
matches "an ETag from the content's SHA-256" '^"[0-9a-f]{32}"$' "$ETAG"
call GET "$PUB/index.html"
expect "/index.html is the same file" "$ETAG" "$(header ETag)"
call GET "$PUB/" -H "If-None-Match: $ETAG"
expect "If-None-Match with its ETag: 304" 304 "$STATUS"
call GET "$PUB/" -H 'If-None-Match: "0000"'
expect "another ETag: the page" 200 "$STATUS"
call HEAD "$PUB/" -I
expect "HEAD answers too" 200 "$STATUS"
call POST "$PUB/index.html" "${J[@]}" -d '{}'
expect "a page is not posted to (405)" 405 "$STATUS"
call GET "$PUB/healthz"
expect "routes still win" 200 "$STATUS"
expect "an API answer keeps its own policy" "default-src 'none'; frame-ancestors 'none'" "$(header Content-Security-Policy)"
expect "and COOP too" same-origin "$(header Cross-Origin-Opener-Policy)"
for p in /.. /../kruispunt.ini /%2e%2e/kruispunt.ini /.%2e/kruispunt.ini \
  /..%2fkruispunt.ini /%2e%2e%2fkruispunt.ini //index.html /index.html/ \
  /INDEX.HTML /index.html. /.index.html /.git/config /.well-known/x \
  '/%5cindex.html' '/a\b' /index.html%5c /web/index.html /kruispunt.db \
  /pki/server.key /keys/master.key /index.htm /nl/ /%2findex.html \
  /index.html%20 /index.html~ /x/../index.html; do
  st=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is --cacert "$CA" "$PUB$p")
  expect "attack: the hostile path $p is 404" 404 "$st"
done
st=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is --cacert "$CA" "$PUB/index.html%00.txt")
expect "attack: a NUL in a page's path is 400, never the file" 400 "$st"

# --- cookie sessions
user=$(person 85073003328 username); pw=$(person 85073003328 password)
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$user\",\"password\":\"$pw\"}"
expect "a Bearer login is unchanged" 200 "$STATUS"
matches "its token in the body" "$HEX64" "$(json "$BODY" 'j["token"]')"
expect "and no cookie" "" "$(header Set-Cookie)"
call POST "$PUB/api/v1/auth/login" "${J[@]}" -H 'Kruispunt-Session: bogus' -d "{\"username\":\"$user\",\"password\":\"$pw\"}"
expect "an unknown session mode is refused" invalid_session_mode "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/auth/login" "${J[@]}" -H 'Kruispunt-Session: cookie' -H 'Origin: https://evil.example' -d "{\"username\":\"$user\",\"password\":\"$pw\"}"
expect "attack: a cookie login from another site's page is refused" 403 "$STATUS"
expect "as csrf_failed" csrf_failed "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/auth/login" "${J[@]}" -H 'Kruispunt-Session: cookie' -H "Origin: $PUB" -d "{\"username\":\"$user\",\"password\":\"$pw\"}"
expect "a cookie login" 200 "$STATUS"
SC=$(header Set-Cookie)
matches "sets __Host-kp_session with exactly its attributes" '^__Host-kp_session=[0-9a-f]{64}; Path=/; Max-Age=[0-9]+; Secure; HttpOnly; SameSite=Strict$' "$SC"
TOKEN=$(echo "$SC" | sed 's/^__Host-kp_session=\([0-9a-f]*\);.*/\1/')
expect "no token in the body" false "$(json "$BODY" '"token" in j')"
expect_contains "nor anywhere in it" "" "$(grep -c "$TOKEN" "$BODY" || true)"
expect "the body keeps its level" 200 "$(json "$BODY" 'j["level"]')"
CSRF=$(json "$BODY" 'j["csrf"]')
matches "and adds the CSRF value" "$HEX64" "$CSRF"
C=(-H "Cookie: __Host-kp_session=$TOKEN")
SAME=(-H 'Sec-Fetch-Site: same-origin')
call GET "$PUB/api/v1/auth/session" "${C[@]}" "${SAME[@]}"
expect "a cookie-authenticated GET from the portal's pages works" 85073003328 "$(json "$BODY" 'j["insz"]')"
expect "and gives the CSRF value back" "$CSRF" "$(json "$BODY" 'j["csrf"]')"
call GET "$PUB/api/v1/auth/session" "${C[@]}" -H 'Sec-Fetch-Site: none'
expect "so does one the user typed (Sec-Fetch-Site: none)" 200 "$STATUS"
e1=$(events)
call GET "$PUB/api/v1/me/access-log" "${C[@]}" -H 'Sec-Fetch-Site: same-site'
expect "attack: a sibling host's <img> (same-site) gets nothing with the cookie" "403 csrf_failed" "$STATUS $(json "$BODY" 'j["code"]')"
call GET "$PUB/api/v1/me/access-log" "${C[@]}"
expect "attack: nor does a GET that says nothing of where it came from" "403 csrf_failed" "$STATUS $(json "$BODY" 'j["code"]')"
expect "and nothing was recorded" "$e1" "$(events)"
call GET "$PUB/api/v1/me/access-log" "${C[@]}" -H "Kruispunt-CSRF: $CSRF"
expect "with the CSRF value a cookie GET works anywhere" 200 "$STATUS"
call GET "$PUB/api/v1/auth/session" -H "Cookie: __host-kp_session=$TOKEN" "${SAME[@]}"
expect "attack: the cookie's name is exact (__host- is not __Host-)" 401 "$STATUS"
call GET "$PUB/api/v1/auth/session" -H "Cookie: __Host-kp_session=$TOKEN; __Host-kp_session=$TOKEN" "${SAME[@]}"
expect "attack: a cookie sent twice (one planted by a sibling host) is no session" 401 "$STATUS"
call GET "$PUB/api/v1/auth/session" "${C[@]}" -H "Authorization: Bearer $(printf '0%.0s' {1..64})"
expect "with an Authorization header too, the header wins" 401 "$STATUS"
ENTER="$PUB/api/v1/apps/checkin-at-work/enter"
e0=$(events)
call POST "$ENTER" "${C[@]}"
expect "attack: a cookie POST without the CSRF header is refused" 403 "$STATUS"
expect "as csrf_failed" csrf_failed "$(json "$BODY" 'j["code"]')"
call POST "$ENTER" "${C[@]}" -H "Kruispunt-CSRF: $(printf 'a%.0s' {1..64})"
expect "attack: with a wrong CSRF value" 403 "$STATUS"
call POST "$ENTER" "${C[@]}" -H "Kruispunt-CSRF: ${CSRF:0:63}"
expect "attack: with a cut one" 403 "$STATUS"
call POST "$ENTER" "${C[@]}" -H "Kruispunt-CSRF: $CSRF" -H 'Origin: https://evil.example'
expect "attack: the right value from another site's Origin" 403 "$STATUS"
call POST "$ENTER" "${C[@]}" -H "Kruispunt-CSRF: $CSRF" -H 'Origin: null'
expect "attack: from an opaque origin" 403 "$STATUS"
call POST "$ENTER" "${C[@]}" -H "Kruispunt-CSRF: $CSRF" -H 'Sec-Fetch-Site: cross-site'
expect "attack: from a cross-site fetch" 403 "$STATUS"
call POST "$PUB/api/v1/auth/profile" "${C[@]}" "${J[@]}" -d '{"as":"self"}'
expect "attack: a cookie POST with a body, refused before it is read" 403 "$STATUS"
expect "and its connection closed (the body stays unread)" close "$(header Connection)"
expect "the refusals changed nothing, not even the audit log" "$e0" "$(events)"
call POST "$ENTER" "${C[@]}" -H "Kruispunt-CSRF: $CSRF" -H "Origin: $PUB" -H 'Sec-Fetch-Site: same-origin'
expect "with the right value from the portal's origin: OK" 200 "$STATUS"
expect "and recorded" $((e0 + 1)) "$(events)"
call POST "$ENTER" "${C[@]}" -H "Kruispunt-CSRF: $CSRF"
expect "an older browser that sends no Origin: OK on the value alone" 200 "$STATUS"
call POST "$PUB/api/v1/auth/logout" "${C[@]}"
expect "attack: logout without the value is refused too" 403 "$STATUS"
call POST "$PUB/api/v1/auth/logout" "${C[@]}" -H "Kruispunt-CSRF: $CSRF" -H "Origin: $PUB"
expect "logout" 204 "$STATUS"
expect "clears the cookie" "__Host-kp_session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict" "$(header Set-Cookie)"
call GET "$PUB/api/v1/auth/session" "${C[@]}" "${SAME[@]}"
expect "the session is over" 401 "$STATUS"
if grep -q "$TOKEN" "$WORK/demo.err" "$WORK/demo.out"; then fail "a session token in the log"; else pass "no session token in the log"; fi

# --- eID login on its own listener
st=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CA" "$EIDURL/eid/login?return=/x")
case "$st" in 401|000) pass "the eID listener refuses a browser without a certificate ($st)" ;; *) fail "no certificate: got $st" ;; esac
REV_C=$DEMO/$(json "$DEMO/demo.json" "j['test_certificates']['revoked_eid']['cert']")
REV_K=$DEMO/$(json "$DEMO/demo.json" "j['test_certificates']['revoked_eid']['key']")
call GET "$EIDURL/eid/login?return=/x" --cert "$REV_C" --key "$REV_K"
expect "attack: a revoked eID is refused" 401 "$STATUS"
expect "as certificate_rejected" certificate_rejected "$(json "$BODY" 'j["code"]')"
EID=(--cert "$DEMO/pki/eid/85073003328.crt" --key "$DEMO/pki/eid/85073003328.key")
setcookie() { grep -i "^Set-Cookie: $1=" "$HEADERS" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
# start RETURN: the portal's start; sets STATE (the browser's cookie) and L1.
start() {
  call GET "$PUB/api/v1/auth/eid/start?return=$1"
  STATE=$(setcookie __Host-kp_eid_state | sed 's/^__Host-kp_eid_state=\([0-9a-f]*\);.*/\1/')
  L1=$(header Location)
}
start "/mijn/gegevens?x=1"
expect "the portal starts the eID login (303)" 303 "$STATUS"
matches "with a state in an HttpOnly cookie" '^__Host-kp_eid_state=[0-9a-f]{64}; Path=/; Max-Age=[0-9]+; Secure; HttpOnly; SameSite=Strict$' "$(setcookie __Host-kp_eid_state)"
expect_contains "to the eID host, with the state's hash only" "$EIDURL/eid/login?return=/mijn/gegevens%3Fx%3D1&state=" "$L1"
HASH=$(python3 -c 'import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())' "$STATE")
expect "the hash of the browser's state" "$HASH" "${L1##*state=}"
call GET "$PUB/api/v1/auth/eid/start?return=/x" -H 'Sec-Fetch-Site: cross-site'
expect "attack: another site cannot start it" 403 "$STATUS"
call GET "$EIDURL/eid/login?return=/x" "${EID[@]}"
expect "attack: an eID login without the portal's state" "422 invalid_state" "$STATUS $(json "$BODY" 'j["code"]')"
e0=$(events)
call GET "$L1" "${EID[@]}"
expect "a valid eID is redirected (303)" 303 "$STATUS"
LOC=$(header Location)
expect_contains "to the portal's host, with a code" "$PUB/api/v1/auth/eid/complete?code=" "$LOC"
expect_contains "and the return path" "return=/mijn/gegevens%3Fx%3D1" "$LOC"
expect "no cookie on the eID host" "" "$(header Set-Cookie)"
expect "the eID login is recorded" $((e0 + 1)) "$(events)"
call GET "$LOC" -H "Cookie: __Host-kp_eid_state=$STATE"
expect "the code, in the browser that started" 303 "$STATUS"
matches "sets the cookie" '^__Host-kp_session=[0-9a-f]{64}; Path=/; Max-Age=[0-9]+; Secure; HttpOnly; SameSite=Strict$' "$(setcookie __Host-kp_session)"
expect "spends the state" "__Host-kp_eid_state=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict" "$(setcookie __Host-kp_eid_state)"
expect "and goes back where the login started" "/mijn/gegevens?x=1" "$(header Location)"
ET=$(setcookie __Host-kp_session | sed 's/^__Host-kp_session=\([0-9a-f]*\);.*/\1/')
call GET "$PUB/api/v1/auth/session" -H "Cookie: __Host-kp_session=$ET" "${SAME[@]}"
expect "a session at level 500" 500 "$(json "$BODY" 'j["level"]')"
call GET "$LOC" -H "Cookie: __Host-kp_eid_state=$STATE"
expect "attack: a code works once" 401 "$STATUS"
expect "handoff_invalid" handoff_invalid "$(json "$BODY" 'j["code"]')"
expect "and sets no session cookie" "" "$(setcookie __Host-kp_session)"
# Login CSRF: the attacker's own code, pushed into a victim's browser.
start /
call GET "$L1" "${EID[@]}"
ATTACKER=$(header Location)
ATTACKER_STATE=$STATE
start /
call GET "$ATTACKER" -H "Cookie: __Host-kp_eid_state=$STATE"
expect "attack: a code of another browser's login opens nothing" "401 handoff_invalid" "$STATUS $(json "$BODY" 'j["code"]')"
# A refusal changes nothing: the code still works, once, in its own browser.
call GET "$ATTACKER" -H "Cookie: __Host-kp_eid_state=$ATTACKER_STATE"
expect "the refused take left the code to the browser that started" 303 "$STATUS"
start /
call GET "$L1" "${EID[@]}"
call GET "$(header Location)"
expect "attack: a code without the browser's state opens nothing" 401 "$STATUS"
MARIE=(--cert "$DEMO/pki/eid/90031524651.crt" --key "$DEMO/pki/eid/90031524651.key")
for r in //evil.example '/\evil.example' https://evil.example /%2F%2Fevil.example '%2F%2Fevil.example' '/%0d%0aSet-Cookie:x=1' 'javascript:alert(1)'; do
  start "$r"
  call GET "$L1" "${MARIE[@]}"
  call GET "$(header Location)" -H "Cookie: __Host-kp_eid_state=$STATE"
  expect "attack: return=$r ends at /" "/" "$(header Location)"
done
start /
call GET "$L1" "${MARIE[@]}"
call GET "$(header Location)" -H "Cookie: __Host-kp_eid_state=$STATE" -H 'Sec-Fetch-Site: cross-site'
expect "attack: another site cannot send a browser in with a code" 403 "$STATUS"
call GET "$PUB/api/v1/auth/eid/complete?code=$(printf 'b%.0s' {1..64})" -H "Cookie: __Host-kp_eid_state=$STATE"
expect "attack: a made-up code" 401 "$STATUS"
# One eID cannot hold the codes of everyone: three in flight, then 429,
# before any session is opened.
LUCAS=(--cert "$DEMO/pki/eid/01010100126.crt" --key "$DEMO/pki/eid/01010100126.key")
start /
for i in 1 2 3; do call GET "$L1" "${LUCAS[@]}"; done
expect "three eID logins in progress" 303 "$STATUS"
e0=$(events)
call GET "$L1" "${LUCAS[@]}"
expect "attack: a fourth from the same eID" "429 rate_limited" "$STATUS $(json "$BODY" 'j["code"]')"
expect "opens no session and writes nothing" "$e0" "$(events)"
call GET "$PUB/eid/login" "${EID[@]}"
expect "the eID login is not on the public listener" 404 "$STATUS"
call POST "$EIDURL/api/v1/auth/login/eid" "${EID[@]}"
expect "API clients log in with their eID on the eID listener" 200 "$STATUS"
matches "and get a token" "$HEX64" "$(json "$BODY" 'j["token"]')"
# The public listener never asks for a client certificate: no chooser.
if echo | openssl s_client -connect "${PUB#https://}" -servername localhost 2>/dev/null | grep -q "Acceptable client certificate CA names"; then
  fail "the public listener asks for a client certificate"
else
  pass "the public listener never asks for a client certificate"
fi
if echo | openssl s_client -connect "${EIDURL#https://}" -servername localhost 2>/dev/null | grep -q "Acceptable client certificate CA names"; then
  pass "the eID listener asks for one"
else
  fail "the eID listener does not ask for a certificate"
fi
# An eID listener without the citizen CA's revocation list would let a
# revoked eID in: the daemon refuses to start so.
python3 - "$DEMO/kruispunt.ini" "$WORK/nocrl.ini" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
head, sep, rest = text.partition("[eid]")
rest = re.sub(r"(?m)^crl\s*=.*$", "crl =", rest, count=1)
open(sys.argv[2], "w").write(head + sep + rest)
PY
out=$(timeout 20 "$KP" serve --config "$WORK/nocrl.ini" --port 0 2>&1) && rc=0 || rc=$?
expect "attack: an eID listener without a CRL does not start" 1 "$rc"
expect_contains "and says why" "eid: crl" "$out"
finish
