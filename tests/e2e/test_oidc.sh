#!/usr/bin/env bash
# The OpenID Provider over real TLS, from the outside, as an attacker
# would try it (the journeys with real clients are in tests/browser and
# tests/interop): client endpoints without credentials or with garbage
# (the daemon once aborted on that), a form value with a NUL, a parameter
# given twice, an unregistered redirect URI (never redirected to), the
# per-address limit on anonymous authorization requests, and the errors
# in the shape OAuth clients read.
source "$(dirname "$0")/lib.sh"
start_demo
SECRET=$(json "$DEMO/demo.json" 'j["oidc_client"]["client_secret"]')
CB=http://127.0.0.1:8080/callback
CH=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
FORM=(-H 'Content-Type: application/x-www-form-urlencoded')

for auth in "" "Basic !!!" "Basic YWJj" "Bearer x"; do
  call POST "$PUB/oidc/token" "${FORM[@]}" ${auth:+-H "Authorization: $auth"} -d grant_type=authorization_code
  expect "attack: token request with '${auth:-no credentials}' is 401" 401 "$STATUS"
  expect "as invalid_client, the OAuth way" invalid_client "$(json "$BODY" 'j["error"]')"
done
call POST "$PUB/oidc/introspect" "${FORM[@]}" -d token=x
expect "attack: introspection without credentials is 401" 401 "$STATUS"
call POST "$PUB/oidc/revoke" "${FORM[@]}" -d token=x
expect "attack: revocation without credentials is 401" 401 "$STATUS"
call GET "$PUB/healthz"
expect "and the daemon is still up" 200 "$STATUS"

call POST "$PUB/oidc/token" "${FORM[@]}" -u "demo-app:$SECRET" -d 'grant_type=authorization_code&code=a%00b'
expect "attack: a NUL inside a form value is refused" 400 "$STATUS"
call POST "$PUB/oidc/token" "${FORM[@]}" -u "demo-app:$SECRET" -d 'grant_type=authorization_code&grant_type=x'
expect "attack: a parameter given twice is refused" invalid_request "$(json "$BODY" 'j["code"]')"
call POST "$PUB/oidc/token" -H 'Content-Type: application/json' -u "demo-app:$SECRET" -d '{}'
expect "the token endpoint takes forms only" 415 "$STATUS"
call POST "$PUB/oidc/token" "${FORM[@]}" -u "demo-app:wrong" -d grant_type=authorization_code
expect "a wrong secret: 401" 401 "$STATUS"
expect_contains "with a Basic challenge" "Basic" "$(header WWW-Authenticate)"
call GET "$PUB/oidc/userinfo" -H 'Authorization: Bearer 00'
expect "userinfo with a bad token: 401" 401 "$STATUS"
expect_contains "with a Bearer challenge" 'error="invalid_token"' "$(header WWW-Authenticate)"

Q="client_id=demo-app&response_type=code&scope=openid&code_challenge=$CH&code_challenge_method=S256&state=s"
call GET "$PUB/oidc/authorize?$Q&redirect_uri=https://evil.example/cb"
expect "attack: an unregistered redirect URI is refused" invalid_redirect_uri "$(json "$BODY" 'j["code"]')"
expect "and never redirected to" "" "$(header Location)"
call GET "$PUB/oidc/authorize?$Q&redirect_uri=$CB&state=t"
expect "attack: state given twice is refused" invalid_request "$(json "$BODY" 'j["code"]')"
call GET "$PUB/oidc/authorize?client_id=demo-app&response_type=code&scope=openid&redirect_uri=$CB&state=s"
expect "no PKCE: back to the client" 302 "$STATUS"
expect_contains "with invalid_request and the state" "error=invalid_request" "$(header Location)"
call GET "$PUB/oidc/authorize?$Q&redirect_uri=$CB"
expect "a sound request goes on to the portal" 302 "$STATUS"
expect_contains "to its page" "/#/oidc?request=" "$(header Location)"
expect_contains "binding the browser with a __Host- cookie" "__Host-kp_oidc=" "$(header Set-Cookie)"
expect_contains "HttpOnly, Secure, SameSite=Strict" "Secure; HttpOnly; SameSite=Strict" "$(header Set-Cookie)"

# Strangers cannot fill the table: anonymous authorization requests are
# limited per address like anonymous POSTs.
# 200 in a row on one kept-alive connection (no handshake each, so a
# loaded machine still sends them far faster than the per-second rate):
# past the burst (twice the rate, 40 by default) some must meet 429.
limited=$(for i in $(seq 200); do
    printf 'url = "%s"\noutput = "/dev/null"\n' "$PUB/oidc/authorize?$Q&redirect_uri=$CB"
  done | curl -s --cacert "$CA" -w '%{http_code}\n' -K - | grep -c '^429$' || true)
expect "attack: a burst of authorization requests meets 429" yes "$([ "$limited" -gt 0 ] && echo yes || echo "no ($limited)")"
finish
