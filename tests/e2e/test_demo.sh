#!/usr/bin/env bash
# The demo's helper processes (the SMTP and SMS sinks, the provider) end
# with it even when it is killed and cannot stop them itself: each asks the
# kernel for SIGTERM when its parent dies (PR_SET_PDEATHSIG).
source "$(dirname "$0")/lib.sh"
start_demo

# children_of PID: its child processes, from /proc (no procps needed).
children_of() {
  local parent=$1 stat line
  for stat in /proc/[0-9]*/stat; do
    read -r line <"$stat" 2>/dev/null || continue
    # After the command name in parentheses: state, then the parent's pid.
    set -- ${line##*) }
    if [ "${2:-}" = "$parent" ]; then basename "$(dirname "$stat")"; fi
  done
}

# The demo's OpenID Connect client, in the manifest with its secret, and
# the provider it talks to.
expect "demo.json names the demo's OpenID Connect client" demo-app "$(json "$DEMO/demo.json" 'j["oidc_client"]["client_id"]')"
expect "with its secret" 64 "$(json "$DEMO/demo.json" 'len(j["oidc_client"]["client_secret"])')"
expect "kept 0600" 600 "$(stat -c %a "$DEMO/oidc-demo-client.json")"
call GET "$PUB/.well-known/openid-configuration"
expect "discovery names the issuer" "$PUB" "$(json "$BODY" 'j["issuer"]')"
call GET "$PUB/oidc/jwks"
expect "the keys: ES256 and RS256" "ES256 RS256" "$(json "$BODY" '" ".join(sorted(k["alg"] for k in j["keys"]))')"

# The external OpenID Provider runs beside them when node and its
# package are installed (scripts/deps.sh), registered as demo-idp at 450.
helpers=3
if command -v node >/dev/null &&
   [ -d "$KP_SOURCE_DIR/examples/external-idp/node_modules/oidc-provider" ]; then
  helpers=4
  expect "demo.json names the external provider" "demo-idp 450" \
    "$(json "$DEMO/demo.json" 'j["external_idp"]["id"] + " " + str(j["external_idp"]["level"])')"
  call GET "$PUB/api/v1/auth/providers"
  expect "the login page's list offers it" "demo-idp 450" "$(json "$BODY" 'j[0]["id"] + " " + str(j[0]["level"])')"
fi
children=$(children_of "$DEMO_PID")
expect "the demo runs its sinks, its provider and its external IdP" $helpers "$(echo "$children" | wc -w)"

# gone PID: no process, or a zombie nobody reaps (PID 1 in a container).
gone() {
  local line
  read -r line <"/proc/$1/stat" 2>/dev/null || return 0
  set -- ${line##*) }
  [ "$1" = Z ]
}

kill -KILL "$DEMO_PID"
wait "$DEMO_PID" 2>/dev/null || true
left=$children
for _ in $(seq 50); do
  left=$(for pid in $children; do gone "$pid" || echo "$pid"; done)
  [ -z "$left" ] && break
  sleep 0.1
done
expect "after kill -9 of the demo, its children are gone within 5 s" "" "$left"
for pid in $left; do kill -KILL "$pid" 2>/dev/null || true; done

finish
