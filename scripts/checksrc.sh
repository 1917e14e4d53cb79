#!/usr/bin/env bash
# Bans calls that have no safe use in this code base (curl's checksrc idea):
# unbounded copies, unchecked number parsing, non-reentrant tokenising, and
# randomness that is not cryptographic. Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|atof|strtok|rand|srand|random|tmpnam|mktemp|alloca)\s*\('
if grep -nEr --include='*.c' --include='*.h' "$banned" src bench fuzz tests; then
  echo "checksrc: banned call above (see scripts/checksrc.sh)" >&2
  exit 1
fi
# SQL is never built from strings at run time: no printf into SQL text.
if grep -nEr --include='*.c' 'printf\([^)]*"(SELECT|INSERT|UPDATE|DELETE) ' src; then
  echo "checksrc: SQL built with printf above; use a prepared statement" >&2
  exit 1
fi
# Auditing belongs to the domain (docs/ARCHITECTURE.md, "Auditing"): the
# HTTP handlers and the operator's commands never write the audit log nor
# build its events; they call a domain function, which does.
audit_write='\b(audit_append|audit_append_async|audit_commit|audit_refused)\s*\(|struct audit_event\b'
if grep -nEr --include='*.c' --include='*.h' "$audit_write" src/api src/cli; then
  echo "checksrc: src/api or src/cli writes the audit log above; a domain module must" >&2
  exit 1
fi
echo "checksrc: ok"
