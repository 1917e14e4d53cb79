#!/usr/bin/env python3
"""The failover test's checks, after the load (load.py) has stopped:
  - every answer was 200/201, or 503 with Retry-After (never another 5xx);
  - every exchange and mutation answered with a ticket is in the audit log
    exactly once (the entries read from PostgreSQL through HAProxy);
  - the checkpoints taken before and after are consistent: the API's
    consistency proof between them verifies (RFC 9162 2.1.4.2, the
    verifier of tests/e2e/rfc9162.py), and both roots equal the roots
    recomputed from the stored entries;
  - the forwarder delivered each acknowledged mutation to the fund's
    mailbox exactly once;
  - the time without service (the longest stretch without a 200).
usage: check.py HA_DIR RECORDS CHECKPOINT_BEFORE CHECKPOINT_AFTER
Prints "ok"/"FAIL" lines and the figures; exits non-zero on a failure."""
import collections
import json
import os
import ssl
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
import rfc9162  # noqa: E402

HA, RECS, CP1, CP2 = sys.argv[1:5]
ENV = dict(l.strip().split("=", 1) for l in open(os.path.join(HA, "ha.env"))
           if "=" in l and not l.startswith("#"))
PKI = os.path.join(HA, "kp", "pki")
failed = 0


def check(name, ok, detail=""):
    global failed
    print(("ok   - " if ok else "FAIL - ") + name + ("" if ok or not detail else " (" + detail + ")"))
    failed += not ok


def get(base, path, kbo=None):
    ctx = ssl.create_default_context(cafile=os.path.join(PKI, "ca.pem"))
    if kbo:
        ctx.load_cert_chain(os.path.join(PKI, "institutions", kbo + ".crt"),
                            os.path.join(PKI, "institutions", kbo + ".key"))
    with urllib.request.urlopen(base + path, context=ctx, timeout=30) as r:
        return json.load(r)


recs = [json.loads(l) for l in open(RECS)]
by = collections.Counter((r["kind"], r["status"]) for r in recs)
print("     answers: " + ", ".join("%s %s: %d" % (k, s, n) for (k, s), n in sorted(by.items())))
bad = [r for r in recs if r["status"] not in (0, 200, 201, 503)]
check("no answer other than 200/201 or 503 (never a 500)", not bad,
      "; ".join("%s %s %s" % (r["status"], r["code"], r["ticket"]) for r in bad[:5]))
no_ra = [r for r in recs if r["status"] == 503 and not r["retry_after"]]
check("every 503 carries Retry-After", not no_ra,
      "; ".join("%s %s" % (r["code"], r["ticket"]) for r in no_ra[:5]))
dropped = [r for r in recs if r["status"] == 0]
print("     requests without an HTTP answer (connection cut): %d" % len(dropped))

# Downtime: the longest stretch between two consecutive successes.
ok_times = sorted(r["t1"] for r in recs if r["status"] in (200, 201))
gaps = [(b - a, a) for a, b in zip(ok_times, ok_times[1:])]
worst = max(gaps) if gaps else (0, 0)
print("     time without service: %.2f s (longest stretch without a 200)" % worst[0])
with open(os.path.join(HA, "downtime"), "w") as f:
    f.write("%.2f\n" % worst[0])

# The audit log, as stored.
rows = subprocess.run(
    ["psql", "-X", "-At", "-F", " ", "-h", "127.0.0.1", "-p", ENV["PG_FRONT_PORT"],
     "-U", "postgres", "-d", "kruispunt", "-c",
     "SELECT seq, encode(entry, 'hex'), encode(leaf, 'hex') FROM audit_event ORDER BY seq"],
    check=True, capture_output=True, text=True).stdout.split("\n")
rows = [l.split(" ") for l in rows if l]
entries = [bytes.fromhex(e) for _, e, _ in rows]
check("audit seq numbers are 0..n-1 without a gap",
      [int(s) for s, _, _ in rows] == list(range(len(rows))))
leaves = [rfc9162.leaf_hash(e) for e in entries]
check("stored leaves equal SHA-256(0x00 || entry)",
      all(bytes.fromhex(l) == h for (_, _, l), h in zip(rows, leaves)))
seen = collections.Counter()
for e in entries:
    text = e.decode("utf-8", "replace")
    # An entry names its ticket as "ticket:36:<uuid>".
    i = text.find("\nticket:36:")
    while i >= 0:
        seen[text[i + 11:i + 47]] += 1
        i = text.find("\nticket:36:", i + 47)
acked = [r for r in recs if r["status"] in (200, 201)]
missing = [r["ticket"] for r in acked if seen[r["ticket"]] == 0]
twice = [r["ticket"] for r in acked if seen[r["ticket"]] > 1]
check("every ticket answered 200/201 (%d) is in the audit log" % len(acked),
      not missing, "missing: " + " ".join(missing[:5]))
check("and exactly once", not twice,
      "more than once: " + " ".join("%s x%d" % (t, seen[t]) for t in twice[:5]))
dup = [t for t, n in seen.items() if n > 1]
check("no ticket at all is in the log twice", not dup,
      " ".join("%s x%d" % (t, seen[t]) for t in dup[:5]))

# Checkpoints before and after, and a consistency proof between them.
c1, c2 = json.load(open(CP1)), json.load(open(CP2))
n1, n2 = c1["tree_size"], c2["tree_size"]
print("     checkpoints: %d events before, %d after (%d in the log)" % (n1, n2, len(entries)))
check("the log grew", n2 > n1)
check("the first checkpoint's root is the stored log's first %d leaves" % n1,
      bytes.fromhex(c1["root_hash"]) == rfc9162.mth(leaves[:n1]))
check("the second checkpoint's root is the stored log's first %d leaves" % n2,
      bytes.fromhex(c2["root_hash"]) == rfc9162.mth(leaves[:n2]))
p = get(ENV["PUB_URL"], "/api/v1/audit/proof/consistency?first=%d&second=%d" % (n1, n2))
path = [bytes.fromhex(h) for h in p["path"]]
check("the consistency proof between them verifies (RFC 9162)",
      rfc9162.verify_consistency(n1, n2, bytes.fromhex(c1["root_hash"]),
                                 bytes.fromhex(c2["root_hash"]), path))

# The forwarder: each acknowledged mutation in the fund's mailbox once.
muts = [r["ticket"] for r in recs if r["kind"] == "mutation" and r["status"] == 201]
got = collections.Counter()
after = 0
# The forwarder works behind the answers (it polls every second, and after
# a failover takes its lease again first): read the mailbox until every
# acknowledged mutation is there, for at most 30 s.
for _ in range(60):
    while True:
        page = get(ENV["NET_URL"], "/api/v1/mailbox?after=%d&limit=100" % after, "0722222210")
        if not page["messages"]:
            break
        for m in page["messages"]:
            got[m["data"].get("mutation_ticket")] += 1
            after = m["id"]
    if all(got[t] for t in muts):
        break
    time.sleep(0.5)
undelivered = [t for t in muts if got[t] == 0]
doubled = [t for t in muts if got[t] > 1]
check("every acknowledged mutation (%d) reached the fund's mailbox" % len(muts),
      not undelivered, "not delivered: " + " ".join(undelivered[:5]))
check("exactly once", not doubled,
      "twice: " + " ".join("%s x%d" % (t, got[t]) for t in doubled[:5]))
sys.exit(1 if failed else 0)
