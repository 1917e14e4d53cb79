#!/usr/bin/env bash
# Behind a proxy the limits apply to the real client (docs/SECURITY.md,
# "HTTP listeners"): its address is the rightmost X-Forwarded-For address
# that is no listed proxy, believed only from a listed proxy; the proxy's
# own connections are not capped per address, each real client's requests
# in flight are; an address that is no proxy keeps the connection cap.
source "$(dirname "$0")/lib.sh"
start_demo
printf '[server]\ndata_dir = %s\nconnections_per_address = 2\n[public]\nenabled = false\n[network]\nport = 0\ntls = false\nbehind_proxy = true\nproxy_addresses = 127.0.0.1, 127.0.0.3\nproxy_cert_header = X-SSL-Client-Cert\nclient_ca = pki/ca.pem\n' "$DEMO" > "$WORK/px.ini"
"$KP" serve --config "$WORK/px.ini" >"$WORK/px.out" 2>"$WORK/px.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '"listening"' "$WORK/px.err" 2>/dev/null && break; sleep 0.1; done
URL=$(grep '"listening"' "$WORK/px.err" | json - 'j["network_url"]')
PORT=${URL##*:}
FP=$(openssl x509 -in "$DEMO/pki/institutions/0411111140.crt" -noout -fingerprint -sha256 | cut -d= -f2)
CERT=(-H "X-SSL-Client-Cert: $FP")
WHO="GET /api/v1/network/whoami HTTP/1.1\\r\\nHost: x\\r\\nX-SSL-Client-Cert: $FP\\r\\n"

# clients FROM N HEAD...: from source address FROM, opens N plain
# connections and sends HEAD (\r\n escapes) on each, all held open; prints
# the status each got within 2 s ("none": no answer, "cut": closed).
cat > "$WORK/clients.py" <<'PY'
import socket, sys
src, n, head = sys.argv[1], int(sys.argv[2]), sys.argv[3]
port = int(sys.argv[4])
held, out = [], []
for i in range(n):
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    s.sendall(head.encode().decode("unicode_escape").encode("latin-1"))
    held.append(s)
for s in held:
    s.settimeout(2)
    try:
        d = s.recv(4096)
        out.append(d.split(b" ")[1].decode() if d.startswith(b"HTTP/") else "cut")
    except (socket.timeout, TimeoutError):
        out.append("none")
    except OSError:
        out.append("cut")
print(" ".join(out))
PY
clients() { python3 "$WORK/clients.py" "$1" "$2" "$3" "$PORT" | tr ' ' '\n' | sort | xargs; }
# The access log is flushed every quarter second.
peer_logged() { sleep 0.6; grep '"msg":"request"' "$WORK/px.err" | tail -1 | json - 'j["peer"]'; }

# --- the real client's address
call GET "$URL/api/v1/network/whoami" "${CERT[@]}" -H 'X-Forwarded-For: 198.51.100.9, 203.0.113.7, 127.0.0.3'
expect "the rightmost address that is no listed proxy is the client" 203.0.113.7 "$(peer_logged)"
call GET "$URL/api/v1/network/whoami" "${CERT[@]}" -H 'X-Forwarded-For: 203.0.113.7, nonsense'
expect "attack: no address at the right: the proxy's own" 127.0.0.1 "$(peer_logged)"
call GET "$URL/api/v1/network/whoami" "${CERT[@]}"
expect "without the header: the proxy's own" 127.0.0.1 "$(peer_logged)"
out=$(clients 127.0.0.2 1 "${WHO}X-Forwarded-For: 203.0.113.99\\r\\n\\r\\n")
expect "from an address that is no proxy it is answered (no certificate believed)" 401 "$out"
expect "attack: but X-Forwarded-For is ignored there" 127.0.0.2 "$(peer_logged)"

# --- the proxy's connections: not capped per address (the cap is 2)
out=$(clients 127.0.0.1 6 "${WHO}\\r\\n")
expect "six connections from the proxy are all served" "200 200 200 200 200 200" "$out"
# --- an address that is no proxy: capped
out=$(clients 127.0.0.2 4 "${WHO}\\r\\n")
expect "attack: an address that is no proxy keeps the cap of 2" "401 401 cut cut" "$out"

# --- requests in flight per real client: two bodies held half sent, then
# the third request of that client is refused; another client is not.
HOLD="POST /api/v1/exchange HTTP/1.1\r\nHost: x\r\nX-SSL-Client-Cert: $FP\r\nX-Forwarded-For: 203.0.113.7\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
python3 "$WORK/clients.py" 127.0.0.1 2 "$HOLD" "$PORT" >/dev/null &
HOLDER=$!
sleep 0.5
call GET "$URL/api/v1/network/whoami" "${CERT[@]}" -H 'X-Forwarded-For: 203.0.113.7'
expect "attack: a client with 2 requests in flight gets no third" 429 "$STATUS"
expect "with its code" too_many_in_flight "$(json "$BODY" 'j["code"]')"
call GET "$URL/api/v1/network/whoami" "${CERT[@]}" -H 'X-Forwarded-For: 203.0.113.8'
expect "another client behind the same proxy is served" 200 "$STATUS"
wait "$HOLDER" || true
sleep 0.3
call GET "$URL/api/v1/network/whoami" "${CERT[@]}" -H 'X-Forwarded-For: 203.0.113.7'
expect "once its requests are done the client is served again" 200 "$STATUS"

finish
