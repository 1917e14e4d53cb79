#!/usr/bin/env python3
"""Raw HTTP/1.1 over TLS, for requests curl will not send (bad framing, a
NUL in the path) and clients that are slow on purpose.

  rawhttp.py send PORT CA          request bytes on stdin (Python escapes
                                   such as \\r\\n \\x00 are decoded); prints
                                   the status code and "closed" or "open"
  rawhttp.py trickle PORT CA MAX   a request head, one header line every
                                   0.5 s; prints the seconds until the
                                   server closed, or "open" after MAX s
  rawhttp.py slowbody PORT CA MAX  a complete head announcing 100 bytes
                                   of body, then one byte every 0.5 s;
                                   prints as trickle does
  rawhttp.py hold PORT CA N        opens N connections; prints how many
                                   completed a request (the others were
                                   refused), keeping all open meanwhile
"""
import socket
import ssl
import sys
import time


def connect(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection(("localhost", port), timeout=10)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_answer(s, wait):
    """The bytes of the answer, and whether the server closed after it."""
    s.settimeout(wait)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return out, True
            out += d
    except (socket.timeout, TimeoutError):
        return out, False
    except (ssl.SSLError, OSError):
        return out, True


def send(port, ca):
    req = sys.stdin.read().encode("latin-1").decode("unicode_escape").encode("latin-1")
    s = connect(port, ca)
    s.sendall(req)
    out, closed = read_answer(s, 2)
    status = out.split(b" ", 2)[1].decode() if out.startswith(b"HTTP/") else "none"
    print(status, "closed" if closed else "open")


HEAD = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n"
BODY_HEAD = (b"POST /api/v1/identifiers/check HTTP/1.1\r\nHost: localhost\r\n"
             b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n")


def trickle(port, ca, limit, first=HEAD, piece=lambda i: b"X-Slow-%d: x\r\n" % i):
    s = connect(port, ca)
    start = time.monotonic()
    s.sendall(first)
    i = 0
    while time.monotonic() - start < limit:
        try:
            s.sendall(piece(i))
        except OSError:
            break
        i += 1
        _, closed = read_answer(s, 0.5)
        if closed:
            break
    else:
        print("open")
        return
    print("%.1f" % (time.monotonic() - start))


def hold(port, ca, n):
    conns, served = [], 0
    for _ in range(n):
        try:
            s = connect(port, ca)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            s.settimeout(2)
            if s.recv(12).startswith(b"HTTP/1.1 200"):
                served += 1
            conns.append(s)
        except (ssl.SSLError, OSError):
            pass
    print(served)


if __name__ == "__main__":
    mode, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if mode == "send":
        send(port, ca)
    elif mode == "trickle":
        trickle(port, ca, float(sys.argv[4]))
    elif mode == "slowbody":
        trickle(port, ca, float(sys.argv[4]), BODY_HEAD, lambda i: b" ")
    else:
        hold(port, ca, int(sys.argv[4]))
