#!/usr/bin/env bash
# docs/haproxy.cfg, the recommended production front, in front of the real
# daemon: TLS at HAProxy, the network listener's client certificate
# forwarded, /metrics kept off the public side, bad framing and slow
# clients stopped at the edge. Skipped (and says so) without haproxy.
source "$(dirname "$0")/lib.sh"
if ! command -v haproxy >/dev/null; then
  echo "skip - haproxy is not installed (Debian package haproxy)"
  finish
  exit 0
fi
start_demo
SRC=$(cd "$(dirname "$0")/../.." && pwd)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat > "$WORK/kp.ini" <<INI
[server]
data_dir = $DEMO
connections_per_address = 4096
[public]
port = 0
tls = false
[network]
port = 0
tls = false
behind_proxy = true
proxy_addresses = 127.0.0.1
proxy_cert_header = X-SSL-Client-Cert
client_ca = pki/ca.pem
INI
"$KP" serve --config "$WORK/kp.ini" >"$WORK/kp.out" 2>"$WORK/kp.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '"listening"' "$WORK/kp.err" 2>/dev/null && break; sleep 0.1; done
KP_PUB=$(grep '"listening"' "$WORK/kp.err" | json - 'j["public_url"]')
KP_NET=$(grep '"listening"' "$WORK/kp.err" | json - 'j["network_url"]')

HP_PUB=$(free_port)
HP_NET=$(free_port)
cat "$DEMO/pki/server.crt" "$DEMO/pki/server.key" > "$WORK/server.pem"
sed -e "s|@PUBLIC_BIND@|127.0.0.1:$HP_PUB|" -e "s|@NETWORK_BIND@|127.0.0.1:$HP_NET|" \
    -e "s|@SERVER_PEM@|$WORK/server.pem|" -e "s|@CLIENT_CA@|$DEMO/pki/ca.pem|" \
    -e "s|@PUBLIC_BACKEND@|127.0.0.1:${KP_PUB##*:}|" \
    -e "s|@NETWORK_BACKEND@|127.0.0.1:${KP_NET##*:}|" \
    -e "s|^\( *maxconn\) .*|\1 1000|" \
    "$SRC/docs/haproxy.cfg" > "$WORK/haproxy.cfg"
haproxy -c -f "$WORK/haproxy.cfg" >"$WORK/haproxy.check" 2>&1 \
  && pass "docs/haproxy.cfg is valid for haproxy $(haproxy -v | head -1 | cut -d' ' -f3)" \
  || { cat "$WORK/haproxy.check"; fail "haproxy -c refuses docs/haproxy.cfg"; finish; exit 1; }
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do curl -s -o /dev/null --cacert "$CA" "https://localhost:$HP_PUB/healthz" && break; sleep 0.1; done

PUB=https://localhost:$HP_PUB
NET=https://localhost:$HP_NET
call GET "$PUB/healthz"
expect "the public listener answers through HAProxy" 200 "$STATUS"
call GET "$PUB/metrics"
expect "/metrics is not served on the public side" 404 "$STATUS"
call GET "$NET/api/v1/network/whoami" $(institution_cert 0411111140)
expect "the institution's certificate reaches kruispunt through HAProxy" 0411111140 "$(json "$BODY" 'j["kbo"]')"
call GET "$NET/api/v1/network/whoami"
expect "no certificate, no connection" 000 "$STATUS"
OTHER=$(openssl x509 -in "$DEMO/pki/institutions/0722222210.crt" -noout -fingerprint -sha256 | cut -d= -f2)
call GET "$NET/api/v1/network/whoami" $(institution_cert 0411111140) -H "X-SSL-Client-Cert: $OTHER"
expect "attack: a client's own certificate header is replaced by HAProxy's" 0411111140 "$(json "$BODY" 'j["kbo"]')"

RAW="python3 $(dirname "$0")/rawhttp.py"
out=$(printf '%s' 'POST /api/v1/identifiers/check HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{} ' | $RAW send "$HP_PUB" "$CA")
expect "attack: two Content-Lengths are refused at the edge" "400 closed" "$out"
t=$($RAW trickle "$HP_PUB" "$CA" 16)
case "$t" in
  open) fail "attack: a trickling client outlives timeout http-request" ;;
  *) if python3 -c "import sys; sys.exit(not 9 <= float('$t') <= 13)"; then
       pass "attack: a client trickling its head is cut after 10 s (${t} s)"
     else fail "attack: trickling client cut after $t s, not about 10 s"; fi ;;
esac

finish
