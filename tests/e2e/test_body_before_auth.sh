#!/usr/bin/env bash
# Nothing of a body is read before the caller is known (docs/SECURITY.md,
# "HTTP listeners"): a stranger's upload to a route that needs a
# certificate or a session is refused from its headers, at once, without
# the daemon taking in a byte of it. Eight unauthenticated 256 MiB batch
# uploads once raised the daemon's memory by over a gigabyte.
source "$(dirname "$0")/lib.sh"
start_demo
PUB_PORT=${PUB##*:}
inst() { echo --cert "$DEMO/pki/institutions/$1.crt" --key "$DEMO/pki/institutions/$1.key"; }
FUND=$(inst 0411111140)
J=(-H 'Content-Type: application/json')
NDJSON=(-H 'Content-Type: application/x-ndjson')
# The peak resident memory (kB): a body buffered and freed again leaves
# VmRSS as it was, but not the high-water mark.
peak() { awk '/^VmHWM:/ {print $2}' "/proc/$DEMO_PID/status"; }
# seconds A B: is A at most B?
within() { python3 -c "import sys; sys.exit(not float('$1') <= float('$2'))"; }

truncate -s 64M "$WORK/big"
call GET "$NET/metrics" $FUND # warm up: the listener's first answers
before=$(peak)

# --- the network listener: no certificate, a bad one, a stranger's
t=$(curl -s -o "$BODY" -w '%{http_code} %{time_total}' --cacert "$CA" \
  -X POST "${NDJSON[@]}" -T "$WORK/big" "$NET/api/v1/exchange/batch") || t="000 99"
expect "attack: a 64 MiB batch without a certificate is 401" 401 "${t% *}"
expect "with its code" certificate_required "$(json "$BODY" 'j["code"]')"
within "${t#* }" 5 && pass "and it is answered at once (${t#* } s)" \
  || fail "the refusal took ${t#* } s"
t=$(curl -s -o "$BODY" -w '%{http_code}' --cacert "$CA" -X POST "${NDJSON[@]}" \
  -H 'Expect:' --data-binary @"$WORK/big" "$NET/api/v1/exchange/batch") || t=000
case "$t" in
  401|000) pass "attack: without waiting for 100-continue: refused or cut ($t)" ;;
  *) fail "attack: a 64 MiB batch sent at once got $t" ;;
esac
after=$(peak)
grow=$(( (after - before) / 1024 ))
# One buffered body would add 64 MiB. The bound leaves room for noise:
# under ASan the allocator's quarantine and shadow memory move the peak
# by up to about 13 MiB on a loaded machine, with nothing buffered.
[ "$grow" -le 24 ] && pass "attack: the daemon's peak memory grew by $grow MiB (at most 24, a body is 64)" \
  || fail "attack: the daemon's peak memory grew by $grow MiB for refused uploads"

# --- the public listener: a route that needs a session
expect "attack: a body to a session route without a token is 401 before it is sent" "401 closed" \
  "$(printf 'POST /api/v1/auth/profile HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n' \
    | python3 "$(dirname "$0")/rawhttp.py" send "$PUB_PORT" "$CA")"
call POST "$PUB/api/v1/auth/profile" "${J[@]}" -H "Authorization: Bearer $(printf '0%.0s' $(seq 64))" -d '{}'
expect "attack: and with a token of no session" 401 "$STATUS"
expect "a request without a body is refused too, the connection kept" "401 open" \
  "$(printf 'GET /api/v1/auth/session HTTP/1.1\r\nHost: localhost\r\n\r\n' \
    | python3 "$(dirname "$0")/rawhttp.py" send "$PUB_PORT" "$CA")"

# --- with the credentials, the same requests go through
printf '{"data_type":"family_allowance","subject":"85073003328","capacity":"001","purpose":"integration_income_assessment"}\n' > "$WORK/batch.ndjson"
call POST "$NET/api/v1/exchange/batch" $FUND "${NDJSON[@]}" --data-binary @"$WORK/batch.ndjson"
expect "a batch with the certificate of an institution is accepted" 202 "$STATUS"
user=$(json "$DEMO/demo.json" "[p for p in j['persons'] if p['insz']=='85073003328'][0]['username']")
pw=$(json "$DEMO/demo.json" "[p for p in j['persons'] if p['insz']=='85073003328'][0]['password']")
call POST "$PUB/api/v1/auth/login" "${J[@]}" -d "{\"username\":\"$user\",\"password\":\"$pw\"}"
TOK=$(json "$BODY" 'j["token"]')
call POST "$PUB/api/v1/auth/profile" "${J[@]}" -H "Authorization: Bearer $TOK" -d '{}'
expect "a body to a session route with its token reaches the handler" invalid_field "$(json "$BODY" 'j["code"]')"

finish
