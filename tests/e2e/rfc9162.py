#!/usr/bin/env python3
"""An independent check of kruispunt's audit log, written from RFC 9162
section 2.1 and nothing else: read the canonical entries straight from the
database (ROWS: one "seq|entry hex|leaf hex" line per event, as the test
dumps audit_event), recompute leaf hashes and tree roots, and verify the API's
checkpoint root, inclusion proofs (2.1.3.2) and consistency proofs (2.1.4.2).

usage: rfc9162.py ROWS BASE_URL CA_FILE
Prints one "ok"/"FAIL" line per check and exits non-zero on any failure.
"""
import hashlib
import json
import ssl
import sys
import urllib.error
import urllib.request


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def mth(leaves):
    """RFC 9162 2.1.1: the Merkle Tree Hash of a list of leaf hashes."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def verify_inclusion(index, size, leaf, path, root):
    """RFC 9162 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn != 0 and fn % 2 == 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(first, second, first_root, second_root, path):
    """RFC 9162 2.1.4.2."""
    if first == second:
        return not path and first_root == second_root
    if first & (first - 1) == 0:
        path = [first_root] + path
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if fn % 2 == 0:
                while fn != 0 and fn % 2 == 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == first_root and sr == second_root


def main():
    rows_file, base, ca = sys.argv[1:4]
    ctx = ssl.create_default_context(cafile=ca)
    failed = 0

    def get(path):
        with urllib.request.urlopen(base + path, context=ctx) as r:
            return json.load(r)

    def check(name, ok):
        nonlocal failed
        print(("ok   - " if ok else "FAIL - ") + name)
        failed += not ok

    with open(rows_file) as f:
        rows = [(int(seq), bytes.fromhex(e), bytes.fromhex(l))
                for seq, e, l in (line.strip().split("|") for line in f
                                  if line.strip())]
    leaves = [leaf_hash(bytes(e)) for _, e, _ in rows]
    check("stored leaves equal SHA-256(0x00 || entry)",
          all(bytes(l) == h for (_, _, l), h in zip(rows, leaves)))
    cp = get("/api/v1/audit/checkpoint")
    size = cp["tree_size"]
    check(f"checkpoint covers the log ({size} of {len(rows)} events)",
          0 < size <= len(rows))
    check("checkpoint root equals the root recomputed from the entries",
          bytes.fromhex(cp["root_hash"]) == mth(leaves[:size]))
    roots = {}

    def root(n):
        if n not in roots:
            roots[n] = mth(leaves[:n])
        return roots[n]

    good = True
    for seq in sorted({0, 1, size // 3, size // 2, size - 2, size - 1}):
        for n in sorted({seq + 1, (seq + size) // 2 + 1, size}):
            p = get(f"/api/v1/audit/proof/inclusion?seq={seq}&tree_size={n}")
            path = [bytes.fromhex(h) for h in p["path"]]
            leaf = bytes.fromhex(p["leaf_hash"])
            good &= leaf == leaves[seq]
            good &= verify_inclusion(seq, n, leaf, path, root(n))
            good &= not verify_inclusion(seq, n, leaves[(seq + 1) % n] if n > 1 else b"x" * 32, path, root(n))
    check("inclusion proofs from the API verify (and fail for another leaf)", good)
    good = True
    for first in sorted({1, 2, 3, size // 4 or 1, size // 2 or 1, size}):
        for second in sorted({first, first + 1, size}):
            if second > size:
                continue
            p = get(f"/api/v1/audit/proof/consistency?first={first}&second={second}")
            path = [bytes.fromhex(h) for h in p["path"]]
            good &= verify_consistency(first, second, root(first), root(second), path)
            if first < second and path:
                good &= not verify_consistency(first, second, root(first), node_hash(root(second), root(second)), path)
    check("consistency proofs from the API verify (and fail for a forged root)", good)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
