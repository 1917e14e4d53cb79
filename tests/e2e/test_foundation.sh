#!/usr/bin/env bash
# The foundation end to end: the demo daemon over real TLS, the route
# table's refusals as problem+json, client certificates on the network
# listener, keep-alive, metrics, the demo PKI judged by openssl itself,
# and a clean shutdown.
source "$(dirname "$0")/lib.sh"
start_demo

# --- operations
call GET "$PUB/healthz"
expect "healthz answers 200 over TLS verified with the demo CA" 200 "$STATUS"
expect "healthz body" ok "$(json "$BODY" 'j["status"]')"
expect_contains "every response has a request id" "-" "$(header X-Request-Id)"
expect "answers are never cached" no-store "$(header Cache-Control)"
call GET "$PUB/readyz"
expect "readyz: the store is reachable" 200 "$STATUS"

# --- the route table denies by default
call GET "$PUB/api/v1/nothing-here"
expect "unknown route is 404" 404 "$STATUS"
expect "404 is problem+json" application/problem+json "$(header Content-Type)"
expect "404 has a stable code" not_found "$(json "$BODY" 'j["code"]')"
expect "problem has a title" "Not Found" "$(json "$BODY" 'j["title"]')"
call DELETE "$PUB/healthz"
expect "wrong method is 405" 405 "$STATUS"
call GET "$PUB/api/v1/network/whoami"
expect "a network route does not exist on the public listener" 404 "$STATUS"
call GET "$PUB/api"
expect "a short path never matches a longer pattern" 404 "$STATUS"
call GET "$PUB//healthz"
expect "an empty path segment matches nothing" 404 "$STATUS"

# --- request bodies
J=(-H 'Content-Type: application/json')
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d '{"insz": "85.07.30-033.28"}'
expect "identifier check accepts formatted input" 200 "$STATUS"
expect "and normalises it" 85073003328 "$(json "$BODY" 'j["insz"]')"
expect "and decodes the birth date" 1985-07-30 "$(json "$BODY" 'j["birth_date"]')"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d '{"insz": "92510405775"}'
expect "a BIS number is recognised" BIS "$(json "$BODY" 'j["register"]')"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d '{"insz": "82010734251"}'
expect "a number failing mod 97 is 422" 422 "$STATUS"
expect "with a stable code" invalid_insz "$(json "$BODY" 'j["code"]')"
expect "and the reason" bad_checksum "$(json "$BODY" 'j["reason"]')"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d '{"kbo": "0203.201.340"}'
expect "enterprise number check" 0203201340 "$(json "$BODY" 'j["kbo"]')"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d '{"insz": "85073003328",'
expect "malformed JSON is 400" 400 "$STATUS"
expect "malformed JSON is problem+json" application/problem+json "$(header Content-Type)"
expect "malformed JSON code" malformed_json "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d '[1,2,3]'
expect "a JSON array where an object is required is 400" 400 "$STATUS"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d '{"insz":"85073003328","insz":"82010734251"}'
expect "duplicate keys are refused" 400 "$STATUS"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d "$(printf '%.0s[' $(seq 100))"
expect "attack: deep nesting is refused before parsing" 400 "$STATUS"
call POST "$PUB/api/v1/identifiers/check" -d '{"insz": "85073003328"}'
expect "a form post (no JSON content type) is 415" 415 "$STATUS"
head -c 20000 /dev/zero | tr '\0' 'a' > "$WORK/big"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" --data-binary @"$WORK/big"
expect "attack: a body over the pre-auth limit is 413" 413 "$STATUS"
expect "413 code" body_too_large "$(json "$BODY" 'j["code"]')"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -H 'Transfer-Encoding: chunked' --data-binary @"$WORK/big"
expect "attack: a chunked body over the limit is 413 too" 413 "$STATUS"
call POST "$PUB/api/v1/identifiers/check" "${J[@]}" -d '{}'
expect "neither field is 422" 422 "$STATUS"
long=$(head -c 3000 /dev/zero | tr '\0' 'x')
call GET "$PUB/$long"
expect "attack: an overlong URL is refused" 414 "$STATUS"

# --- network listener: client certificates
call GET "$NET/healthz"
expect "network listener without a certificate is 401" 401 "$STATUS"
expect "code certificate_required" certificate_required "$(json "$BODY" 'j["code"]')"
call GET "$NET/api/v1/network/whoami" $(institution_cert 0411111140)
expect "an institution certificate is accepted" 200 "$STATUS"
expect "and mapped to its institution by fingerprint" 0411111140 "$(json "$BODY" 'j["kbo"]')"
expect "with its actor type" health_insurance_fund "$(json "$BODY" 'j["actor_type"]')"
fp_openssl=$(openssl x509 -in "$DEMO/pki/institutions/0411111140.crt" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : | tr A-F a-f)
expect "fingerprint equals openssl's SHA-256" "$fp_openssl" "$(json "$BODY" 'j["certificate"]["fingerprint_sha256"]')"
call GET "$NET/api/v1/network/whoami" $(institution_cert 0722222210)
expect "each institution is told apart" 0722222210 "$(json "$BODY" 'j["kbo"]')"
call GET "$NET/api/v1/network/whoami" --cert "$DEMO/pki/eid/85073003328.crt" --key "$DEMO/pki/eid/85073003328.key"
expect "a citizen certificate is no institution certificate" 401 "$STATUS"
expect "code certificate_rejected" certificate_rejected "$(json "$BODY" 'j["code"]')"
foreign=$(json "$DEMO/demo.json" 'j["test_certificates"]["foreign_ca_eid"]["cert"]')
foreign_key=$(json "$DEMO/demo.json" 'j["test_certificates"]["foreign_ca_eid"]["key"]')
call GET "$NET/api/v1/network/whoami" --cert "$DEMO/$foreign" --key "$DEMO/$foreign_key"
expect "a certificate from a foreign CA is refused" 401 "$STATUS"
call GET "$NET/api/v1/network/whoami" --cert "$DEMO/pki/server.crt" --key "$DEMO/pki/server.key"
expect "a server certificate is not a client certificate" 401 "$STATUS"
grep -q '"security: client certificate refused"' "$WORK/demo.err" && pass "refusals are logged as security events" || fail "no security log line"
if grep -q '85073003328' "$WORK/demo.err"; then fail "an INSZ reached the log"; else pass "no INSZ reaches the log"; fi

# --- keep-alive: the second request reuses the connection (docs/DESIGN.md, pitfall 1)
curl -sv --cacert "$CA" "$PUB/healthz" "$PUB/healthz" -o /dev/null -o /dev/null 2>"$WORK/keepalive"
expect_contains "keep-alive: the connection is reused" "Re-using existing connection" "$(cat "$WORK/keepalive")"

# --- metrics: on the network listener, not for strangers on the public one
call GET "$PUB/metrics"
expect "attack: /metrics does not exist on the public listener by default" 404 "$STATUS"
call GET "$NET/metrics" $(institution_cert 0411111140)
expect "metrics answer 200 on the network listener" 200 "$STATUS"
expect_contains "requests by route and status" 'kruispunt_http_requests_total{route="/healthz",method="GET",status="200"}' "$(cat "$BODY")"
expect_contains "latency histogram" 'kruispunt_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="+Inf"}' "$(cat "$BODY")"
expect_contains "unmatched requests are counted, not labelled by path" 'route="unmatched"' "$(cat "$BODY")"

# --- the demo manifest and PKI
for f in public_url network_url ca mail_dir persons organisations institutions test_certificates; do
  expect "demo.json has $f" true "$(json "$DEMO/demo.json" "'$f' in j")"
done
bad=$(json "$DEMO/demo.json" '[p["insz"] for p in j["persons"] if (97 - int(("2" if p["birth_date"][:2]=="20" else "")+p["insz"][:9]) % 97) != int(p["insz"][9:])]')
expect "every demo INSZ passes mod 97 (checked outside kruispunt)" "[]" "$bad"
expect "demo persons include RR before 2000" true "$(json "$DEMO/demo.json" 'any(p["register"]=="RR" and p["birth_date"]<"2000" for p in j["persons"])')"
expect "demo persons include RR from 2000" true "$(json "$DEMO/demo.json" 'any(p["register"]=="RR" and p["birth_date"]>="2000" for p in j["persons"])')"
expect "demo persons include BIS" true "$(json "$DEMO/demo.json" 'any(p["register"]=="BIS" for p in j["persons"])')"
serial=$(openssl x509 -in "$DEMO/pki/eid/85073003328.crt" -noout -subject -nameopt multiline | grep serialNumber | awk '{print $3}')
expect "eID subject serialNumber is the national register number" 85073003328 "$serial"
ccrl=(-CAfile "$DEMO/pki/citizen-ca.pem" -CRLfile "$DEMO/pki/citizen-ca.crl" -crl_check)
openssl verify "${ccrl[@]}" "$DEMO/pki/eid/85073003328.crt" >/dev/null 2>&1 && pass "openssl: a valid eID verifies with the CRL" || fail "valid eID does not verify"
revoked=$(json "$DEMO/demo.json" 'j["test_certificates"]["revoked_eid"]["cert"]')
out=$(openssl verify "${ccrl[@]}" "$DEMO/$revoked" 2>&1 || true)
expect_contains "openssl: the revoked eID is on the CRL" "revoked" "$out"
expired=$(json "$DEMO/demo.json" 'j["test_certificates"]["expired_eid"]["cert"]')
out=$(openssl verify -CAfile "$DEMO/pki/citizen-ca.pem" "$DEMO/$expired" 2>&1 || true)
expect_contains "openssl: the expired eID is expired" "expired" "$out"
keymode=$(stat -c %a "$DEMO/keys/audit-signing.key")
expect "the audit signing key is private (0600)" 600 "$keymode"

# --- clean shutdown on SIGTERM
kill -TERM "$DEMO_PID"
rc=0
for _ in $(seq 50); do kill -0 "$DEMO_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$DEMO_PID" 2>/dev/null; then fail "still running 5 s after SIGTERM"; else
  wait "$DEMO_PID" || rc=$?
  expect "SIGTERM stops the daemon with exit code 0" 0 "$rc"
fi
expect_contains "and it says so" '"msg":"stopped"' "$(tail -2 "$WORK/demo.err")"

finish
