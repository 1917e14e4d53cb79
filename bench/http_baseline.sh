#!/usr/bin/env bash
# HTTP baseline: kruispunt's /healthz against a bare libmicrohttpd "hello"
# (bench/mhd_hello.c, same threading and keep-alive handling), both over
# plain HTTP on loopback, with the same wrk load. kruispunt runs as in
# production: route table, request id, security headers, access log line
# per request (to a file), metrics. Prints both figures and their ratio.
#
#   bench/http_baseline.sh [BUILD_DIR]    DURATION=10 CONNECTIONS=64 ROUNDS=2
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
duration=${DURATION:-10}
conns=${CONNECTIONS:-64}
rounds=${ROUNDS:-2}
work=$(mktemp -d /tmp/kp-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]:-}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$build/kruispunt" init --data "$work/data" >/dev/null 2>&1
cat > "$work/bench.ini" <<INI
[server]
data_dir = $work/data
[public]
port = $(free_port)
tls = false
[network]
enabled = false
INI
"$build/kruispunt" serve --config "$work/bench.ini" 2>"$work/kruispunt.log" &
pids+=($!)
hello_port=$(free_port)
"$build/mhd_hello" "$hello_port" &
pids+=($!)
for _ in $(seq 100); do grep -q '"listening"' "$work/kruispunt.log" && break; sleep 0.1; done
kp_url=$(grep '"listening"' "$work/kruispunt.log" | python3 -c 'import json,sys; print(json.load(sys.stdin)["public_url"])')/healthz
hello_url=http://127.0.0.1:$hello_port/healthz
curl -sf "$kp_url" >/dev/null && curl -sf "$hello_url" >/dev/null

# run URL: prints "requests_per_second p99_ms"
run() {
  wrk -t2 -c"$conns" -d"${duration}s" --latency "$1" > "$work/wrk.out"
  python3 - "$work/wrk.out" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"99%\s+([\d.]+)(us|ms|s)", t)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
if errors: sys.exit("non-2xx responses: " + errors.group(1))
print(f"{rps:.0f} {p99:.2f}")
PY
}

hello_total=0; kp_total=0; hello_p99=0; kp_p99=0
for r in $(seq "$rounds"); do
  read -r rps p99 < <(run "$hello_url"); hello_total=$((hello_total + rps)); hello_p99=$p99
  echo "round $r  mhd_hello         $rps req/s  p99 ${p99} ms"
  read -r rps p99 < <(run "$kp_url"); kp_total=$((kp_total + rps)); kp_p99=$p99
  echo "round $r  kruispunt /healthz $rps req/s  p99 ${p99} ms"
done
hello=$((hello_total / rounds)); kp=$((kp_total / rounds))
ratio=$(python3 -c "print(f'{$kp/$hello:.2f}')")
echo
echo "baseline  mhd_hello          ${hello} req/s (mean of $rounds x ${duration}s, ${conns} connections, wrk -t2)"
echo "kruispunt GET /healthz       ${kp} req/s"
echo "ratio                        ${ratio}   (target >= 0.80)"
