#!/usr/bin/env python3
"""A bounded load of audited hub exchanges (and register mutations) through
the front of scripts/ha, recording every answer as one JSON line:
{"kind", "t0", "t1", "status", "ticket", "retry_after", "code", "error"}.

usage: load.py HA_DIR OUT [MAX_SECONDS]
Runs until HA_DIR/stop-load exists or MAX_SECONDS (default 120) have
passed, whichever comes first. A new TLS connection per request, so that
HAProxy chooses a node for each. status 0: no HTTP answer (connection
refused or reset, a node killed mid-request)."""
import http.client
import json
import os
import ssl
import sys
import threading
import time

HA, OUT = sys.argv[1], sys.argv[2]
MAX_S = float(sys.argv[3]) if len(sys.argv) > 3 else 120.0
ENV = dict(l.strip().split("=", 1) for l in open(os.path.join(HA, "ha.env"))
           if "=" in l and not l.startswith("#"))
PKI = os.path.join(HA, "kp", "pki")
HOST, PORT = "localhost", int(ENV["NET_URL"].rsplit(":", 1)[1])
STOP = os.path.join(HA, "stop-load")
lock = threading.Lock()
out = open(OUT, "w")
start = time.monotonic()


def context(kbo):
    ctx = ssl.create_default_context(cafile=os.path.join(PKI, "ca.pem"))
    ctx.load_cert_chain(os.path.join(PKI, "institutions", kbo + ".crt"),
                        os.path.join(PKI, "institutions", kbo + ".key"))
    return ctx


def record(rec):
    with lock:
        out.write(json.dumps(rec) + "\n")
        out.flush()


def post(ctx, path, body):
    rec = {"t0": time.time(), "status": 0, "ticket": None,
           "retry_after": None, "code": None, "error": None}
    try:
        c = http.client.HTTPSConnection(HOST, PORT, context=ctx, timeout=15)
        c.request("POST", path, json.dumps(body),
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        data = r.read()
        rec["status"] = r.status
        rec["retry_after"] = r.getheader("Retry-After")
        rec["ticket"] = r.getheader("X-Kruispunt-Ticket")
        try:
            j = json.loads(data)
            rec["code"] = j.get("code")
            rec["ticket"] = j.get("ticket") or rec["ticket"]
        except ValueError:
            pass
        c.close()
    except (OSError, http.client.HTTPException) as e:
        rec["error"] = type(e).__name__ + ": " + str(e)
    rec["t1"] = time.time()
    return rec


def running():
    return not os.path.exists(STOP) and time.monotonic() - start < MAX_S


def pause(rec, normal):
    if rec["status"] == 503 and rec["retry_after"]:
        # Honour Retry-After, but look again within a second: the test
        # measures how long the service is away.
        time.sleep(min(float(rec["retry_after"]), 1.0))
    elif rec["status"] != 200 and rec["status"] != 201:
        time.sleep(0.2)
    else:
        time.sleep(normal)


def exchanges():
    ctx = context("0411111140")  # a health fund
    body = {"data_type": "identification", "subject": "85073003328",
            "capacity": "001", "purpose": "health_insurance_rights"}
    while running():
        rec = post(ctx, "/api/v1/exchange", body)
        rec["kind"] = "exchange"
        record(rec)
        pause(rec, 0.02)


def mutations():
    ctx = context("0333333372")  # the National Register
    n = 0
    while running():
        n += 1
        rec = post(ctx, "/api/v1/registry/persons/12090311839/mutations",
                   {"type": "address", "effective_on": "2026-11-01",
                    "street": "Stationsstraat %d" % n, "postal_code": "3000",
                    "municipality": "Demoville"})
        rec["kind"] = "mutation"
        record(rec)
        pause(rec, 0.3)


threads = [threading.Thread(target=exchanges) for _ in range(4)]
threads.append(threading.Thread(target=mutations))
for t in threads:
    t.start()
for t in threads:
    t.join()
