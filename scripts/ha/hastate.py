#!/usr/bin/env python3
"""Prints the state HAProxy gives each server of a proxy (UP, DOWN, ...),
read from its stats socket: `hastate.py SOCKET PROXY` prints lines
"server state", so a script can wait until only the primary is up."""
import socket
import sys


def main():
    sock, proxy = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b"show stat\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    lines = data.decode().splitlines()
    head = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        row = dict(zip(head, line.split(",")))
        if row.get("pxname") == proxy and row.get("svname") not in ("FRONTEND", "BACKEND"):
            print(row["svname"], row["status"])


main()
