#!/usr/bin/env bash
# The HTTP listeners under attack (docs/SECURITY.md, "HTTP listeners"):
# what TLS they offer, the headers that keep a browser from misusing an
# answer, where /metrics lives, request framing a smuggler would abuse,
# and clients that hold connections open without ever finishing a request.
source "$(dirname "$0")/lib.sh"
start_demo
PUB_PORT=${PUB##*:}
NET_PORT=${NET##*:}

# s_client PORT ARGS...: the handshake's summary lines.
s_client() {
  local port=$1
  shift
  echo | timeout 10 openssl s_client -connect "localhost:$port" \
    -CAfile "$CA" "$@" 2>&1 || true
}
# tls12 CIPHER: the cipher a TLS 1.2 handshake offering only CIPHER got.
tls12() {
  s_client "$PUB_PORT" -tls1_2 -cipher "$1" | sed -n 's/^New, [^,]*, Cipher is //p' | head -1
}

# --- TLS 1.2: forward secrecy and AEAD only
for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-AES256-SHA ECDHE-ECDSA-AES128-SHA256 ECDHE-ECDSA-AES256-SHA384; do
  expect "attack: TLS 1.2 CBC suite $c is refused" "(NONE)" "$(tls12 "$c")"
done
for c in ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305; do
  expect "TLS 1.2 AEAD suite $c is accepted" "$c" "$(tls12 "$c")"
done
out=$(s_client "$PUB_PORT" -tls1_3)
expect_contains "TLS 1.3 is offered" "New, TLSv1.3" "$out"
out=$(s_client "$PUB_PORT" -tls1_1)
expect_contains "TLS 1.1 is refused" "New, (NONE)" "$out"
# The network listener asks for a client certificate: the signature
# algorithms its CertificateRequest lists are those a client may prove
# its key with.
req=$(s_client "$NET_PORT" -tls1_2 | grep '^Requested Signature Algorithms' || true)
expect_contains "the network listener asks for a client certificate" "ECDSA+SHA256" "$req"
case "$req" in
  *SHA1*|*SHA224*) fail "attack: CertificateRequest offers SHA-1 or SHA-224 ($req)" ;;
  *) pass "attack: CertificateRequest offers no SHA-1 signature" ;;
esac

# --- headers: no answer may be framed, run anything, or leak its URL
call GET "$PUB/healthz"
expect "Content-Security-Policy" "default-src 'none'; frame-ancestors 'none'" "$(header Content-Security-Policy)"
expect "X-Frame-Options" DENY "$(header X-Frame-Options)"
expect "Referrer-Policy" no-referrer "$(header Referrer-Policy)"
call GET "$PUB/api/v1/nothing-here"
expect "a problem document has the headers too" DENY "$(header X-Frame-Options)"

# --- /metrics lives on the network listener unless the operator says so
call GET "$PUB/metrics"
expect "attack: /metrics is not on the public listener by default" 404 "$STATUS"
call GET "$NET/metrics" $(institution_cert 0411111140)
expect "/metrics is on the network listener" 200 "$STATUS"
call GET "$NET/metrics"
expect "where a client certificate is required" 401 "$STATUS"
printf '[server]\ndata_dir = %s\n[public]\nport = 0\nmetrics = true\n[network]\nenabled = false\n' "$DEMO" > "$WORK/pubmetrics.ini"
"$KP" serve --config "$WORK/pubmetrics.ini" >"$WORK/pubmetrics.out" 2>"$WORK/pubmetrics.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '"listening"' "$WORK/pubmetrics.err" 2>/dev/null && break; sleep 0.1; done
URL=$(grep '"listening"' "$WORK/pubmetrics.err" | json - 'j["public_url"]')
call GET "$URL/metrics"
expect "[public] metrics = true serves it on the public listener" 200 "$STATUS"

# --- framing: one way to read a body's length, or none (RFC 9112 6.3)
RAW="python3 $(dirname "$0")/rawhttp.py"
raw() { printf '%s' "$1" | $RAW send "$PUB_PORT" "$CA"; }
POST='POST /api/v1/identifiers/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n'
expect "attack: Content-Length with Transfer-Encoding is 400 and closes" "400 closed" \
  "$(raw "${POST}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")"
expect "attack: two different Content-Lengths are 400 and close" "400 closed" \
  "$(raw "${POST}Content-Length: 2\r\nContent-Length: 3\r\n\r\n{} ")"
expect "attack: a Transfer-Encoding other than chunked is 400" "400 closed" \
  "$(raw "${POST}Transfer-Encoding: gzip, chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")"
expect "a well-framed chunked body is still read" "422 open" \
  "$(raw "${POST}Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")"
expect "attack: an encoded NUL in the path is 400, not a cut path" "400 closed" \
  "$(raw 'GET /healthz%00/x HTTP/1.1\r\nHost: localhost\r\n\r\n')"
expect "attack: an encoded NUL in the query is 400" "400 closed" \
  "$(raw 'GET /healthz?a=%00 HTTP/1.1\r\nHost: localhost\r\n\r\n')"
expect "attack: a raw NUL in the path is 400, not a cut path" "400 closed" \
  "$(raw 'GET /healthz\x00/x HTTP/1.1\r\nHost: localhost\r\n\r\n')"
expect "a query string is no NUL" "200 open" \
  "$(raw 'GET /healthz?a=b HTTP/1.1\r\nHost: localhost\r\n\r\n')"
expect "attack: a Content-Length that is no number: libmicrohttpd's own 400" "400 closed" \
  "$(raw "${POST}Content-Length: abc\r\n\r\n")"

# --- slow clients and many connections from one address
printf '[server]\ndata_dir = %s\nrequest_head_timeout = 2\nconnections_per_address = 4\n[public]\nport = 0\n[network]\nenabled = false\n' "$DEMO" > "$WORK/slow.ini"
"$KP" serve --config "$WORK/slow.ini" >"$WORK/slow.out" 2>"$WORK/slow.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '"listening"' "$WORK/slow.err" 2>/dev/null && break; sleep 0.1; done
SLOW=$(grep '"listening"' "$WORK/slow.err" | json - 'j["public_url"]')
SLOW_PORT=${SLOW##*:}
t=$($RAW trickle "$SLOW_PORT" "$CA" 8)
case "$t" in
  open) fail "attack: a client trickling its head keeps the connection past the deadline" ;;
  *) if python3 -c "import sys; sys.exit(not 1.5 <= float('$t') <= 4)"; then
       pass "attack: a client trickling its head is cut at the deadline (${t} s)"
     else fail "attack: trickling client cut after $t s, not about 2 s"; fi ;;
esac
t=$($RAW slowbody "$SLOW_PORT" "$CA" 8)
case "$t" in
  open) fail "attack: a client trickling its body keeps the connection past the deadline" ;;
  *) if python3 -c "import sys; sys.exit(not 1.5 <= float('$t') <= 4)"; then
       pass "attack: a client trickling a 100-byte body is cut at the deadline (${t} s)"
     else fail "attack: trickling body cut after $t s, not about 2 s"; fi ;;
esac
grep -q '"security: request not received in time, connection closed"' "$WORK/slow.err" \
  && pass "and it is logged as a security event" || fail "no security log line for the cut"
expect "attack: connections beyond the per-address cap are refused" 4 "$($RAW hold "$SLOW_PORT" "$CA" 6)"
call GET "$SLOW/healthz"
expect "once they are gone the address is served again" 200 "$STATUS"

finish
