#!/usr/bin/env bash
# A network listener behind a TLS-terminating proxy (nginx, HAProxy): the
# proxy verified the client certificate and forwards it, or its SHA-256
# fingerprint, in a header. The header is believed only on a listener
# configured as behind_proxy and only from the configured proxy addresses;
# plain HTTP is only allowed on loopback.
source "$(dirname "$0")/lib.sh"
start_demo

# serve_with NAME INI: starts `kruispunt serve` on the demo's data with this
# config; sets URL to its network listener.
serve_with() {
  printf '%s\n' "$2" > "$WORK/$1.ini"
  "$KP" serve --config "$WORK/$1.ini" >"$WORK/$1.out" 2>"$WORK/$1.err" &
  PIDS+=($!)
  for _ in $(seq 100); do grep -q '"listening"' "$WORK/$1.err" 2>/dev/null && break; sleep 0.1; done
  URL=$(grep '"listening"' "$WORK/$1.err" | json - 'j["network_url"]')
}

proxy_ini() {
  cat <<INI
[server]
data_dir = $DEMO
[public]
enabled = false
[network]
port = 0
tls = false
behind_proxy = true
proxy_addresses = $1
proxy_cert_header = X-SSL-Client-Cert
client_ca = pki/ca.pem
INI
}

serve_with trusted "$(proxy_ini '127.0.0.1, ::1')"
expect_contains "plain HTTP listener on loopback" "http://localhost:" "$URL"
FP=$(openssl x509 -in "$DEMO/pki/institutions/0411111140.crt" -noout -fingerprint -sha256 | cut -d= -f2)
call GET "$URL/api/v1/network/whoami" -H "X-SSL-Client-Cert: $FP"
expect "fingerprint header from the proxy identifies the institution" 200 "$STATUS"
expect "as the right institution" 0411111140 "$(json "$BODY" 'j["kbo"]')"
PEM=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read()))' "$DEMO/pki/institutions/0722222210.crt")
call GET "$URL/api/v1/network/whoami" -H "X-SSL-Client-Cert: $PEM"
expect "URL-encoded PEM header (nginx \$ssl_client_escaped_cert)" 0722222210 "$(json "$BODY" 'j["kbo"]')"
DER=$(openssl x509 -in "$DEMO/pki/institutions/0212312313.crt" -outform DER | base64 -w0)
call GET "$URL/api/v1/network/whoami" -H "X-SSL-Client-Cert: $DER"
expect "base64 DER header (HAProxy ssl_c_der,base64)" 0212312313 "$(json "$BODY" 'j["kbo"]')"
PEM=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(open(sys.argv[1]).read()))' "$DEMO/pki/eid/85073003328.crt")
call GET "$URL/api/v1/network/whoami" -H "X-SSL-Client-Cert: $PEM"
expect "a forwarded PEM is still verified against the CA" 401 "$STATUS"
call GET "$URL/api/v1/network/whoami" -H "X-SSL-Client-Cert: not a certificate"
expect "garbage in the header is refused" 401 "$STATUS"
call GET "$URL/api/v1/network/whoami"
expect "no header, no certificate" 401 "$STATUS"
expect "code certificate_required" certificate_required "$(json "$BODY" 'j["code"]')"
UNKNOWN=$(printf '%064d' 0)
call GET "$URL/api/v1/network/whoami" -H "X-SSL-Client-Cert: $UNKNOWN"
expect "a fingerprint of no institution is 401" 401 "$STATUS"
expect "code unknown_institution" unknown_institution "$(json "$BODY" 'j["code"]')"

serve_with untrusted "$(proxy_ini '127.0.0.2')"
call GET "$URL/api/v1/network/whoami" -H "X-SSL-Client-Cert: $FP"
expect "attack: the header from an address that is no proxy is ignored" 401 "$STATUS"
grep -q 'not a trusted proxy' "$WORK/untrusted.err" && pass "and logged as a security event" || fail "no security log"

# The wrk set-up of bench/: plain HTTP is refused off loopback.
printf '[server]\ndata_dir = %s\n[public]\nenabled = false\n[network]\naddress = 0.0.0.0\nport = 0\ntls = false\n' "$DEMO" > "$WORK/open.ini"
rc=0; "$KP" serve --config "$WORK/open.ini" 2>"$WORK/open.err" || rc=$?
expect "plain HTTP on a public address is refused at start" 1 "$rc"
expect_contains "with a reason" "only allowed on a loopback address" "$(cat "$WORK/open.err")"
printf '[network]\nprot = 1\n' > "$WORK/typo.ini"
rc=0; "$KP" serve --config "$WORK/typo.ini" 2>"$WORK/typo.err" || rc=$?
expect "a misspelt key refuses to start" 1 "$rc"
expect_contains "naming the key" "network.prot" "$(cat "$WORK/typo.err")"
rc=0; KRUISPUNT_NETWORK_PORT=abc "$KP" config 2>"$WORK/env.err" >/dev/null || rc=$?
expect "a bad environment override is refused" 1 "$rc"

finish
