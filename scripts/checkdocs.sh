#!/usr/bin/env bash
# The project's documentation is self-contained: someone with only a clone
# can follow every citation and every link. Run by `make test` (check-src)
# and as the ctest docs_checkdocs; tests/docs/test_checkdocs.sh shows it
# fails on each kind of breakage.
#
#   1. No file points outside the repository for its design or contract:
#      no "../shared", "shared/DESIGN", "shared/API", "/work/".
#   2. A design document is cited by its place in the repository: outside
#      docs/*.md, DESIGN.md, API.md and STYLE.md appear only as docs/NAME.md,
#      and every docs/NAME.md cited anywhere exists; inside docs/*.md a bare
#      NAME.md is a sibling and must exist.
#   3. Every relative Markdown link in README.md and docs/*.md (outside code
#      blocks) points at a file that exists, and its #anchor, when it names
#      a Markdown file's section, at a heading of that file.
#
# Usage: scripts/checkdocs.sh [ROOT]   (default: the repository)
set -euo pipefail
root=${1:-"$(dirname "$0")/.."}
cd "$root"

scan=()
for p in src docs README.md tests scripts bench fuzz examples cmake data \
	 CMakeLists.txt Makefile; do
	[ -e "$p" ] && scan+=("$p")
done
# This script and its test name the very strings they look for.
self=(--exclude=checkdocs.sh --exclude=test_checkdocs.sh
      --exclude-dir=node_modules)
fail=0

out=$(grep -rnI "${self[@]}" -E '\.\./shared|shared/(DESIGN|API|STYLE)|/work/' \
	"${scan[@]}" || true)
if [ -n "$out" ]; then
	printf '%s\n' "$out"
	echo "checkdocs: a citation outside the repository above; carry what the" \
	     "reader needs into docs/ and cite that" >&2
	fail=1
fi

# Citations of the design documents by name.
while IFS= read -r hit; do
	[ -n "$hit" ] || continue
	file=${hit%%:*}
	rest=${hit#*:}
	text=${rest#*:}
	in_docs_md=0
	case "$file" in docs/*.md) in_docs_md=1 ;; esac
	# Every NAME.md of the three, with the path written before it.
	while IFS= read -r m; do
		name=${m##*/}
		case "$name" in DESIGN.md|API.md|STYLE.md) ;; *) continue ;; esac
		path=$m
		while [[ "$path" == ./* || "$path" == ../* ]]; do
			path=${path#./}
			path=${path#../}
		done
		if [ "$path" = "docs/$name" ] && [ -f "docs/$name" ]; then
			continue
		elif [ "$path" = "$name" ] && [ "$in_docs_md" = 1 ] &&
		     [ -f "docs/$name" ]; then
			continue
		fi
		echo "$file:${rest%%:*}: cites $m"
		fail=2
	done < <(printf '%s\n' "$text" |
		 grep -oE '[A-Za-z0-9_./-]*(DESIGN|API|STYLE)\.md' || true)
done < <(grep -rnI "${self[@]}" -E '(^|[^A-Za-z_])(DESIGN|API|STYLE)\.md' \
	 "${scan[@]}" || true)
if [ "$fail" = 2 ]; then
	echo "checkdocs: cite the project's own docs/DESIGN.md or docs/API.md" \
	     "(a file that exists)" >&2
fi

mds=()
[ -f README.md ] && mds+=(README.md)
for f in docs/*.md; do [ -f "$f" ] && mds+=("$f"); done
if [ "${#mds[@]}" -gt 0 ] && ! python3 - "${mds[@]}" <<'EOF'
import os, re, sys

def strip_code(text):
    """The text outside fenced code blocks and inline code spans."""
    out, fence = [], None
    for line in text.splitlines():
        m = re.match(r"\s*(```|~~~)", line)
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
            continue
        if fence is None:
            out.append(re.sub(r"`[^`]*`", "", line))
    return out

def anchors(path):
    """GitHub's anchors of a Markdown file's headings."""
    seen, result = {}, set()
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    fence = None
    for line in lines:
        m = re.match(r"\s*(```|~~~)", line)
        if m:
            fence = None if fence == m.group(1) else (fence or m.group(1))
            continue
        m = re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line) if fence is None else None
        if not m:
            continue
        slug = re.sub(r"[^\w\- ]", "", m.group(1).lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        result.add(slug if n == 0 else f"{slug}-{n}")
    return result

bad = 0
link = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|^\s*\[[^\]]+\]:\s*(\S+)")
for md in sys.argv[1:]:
    with open(md, encoding="utf-8") as f:
        lines = strip_code(f.read())
    for line in lines:
        for m in link.finditer(line):
            target = m.group(1) or m.group(2)
            if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):
                continue  # https:, mailto: ...
            path, _, frag = target.partition("#")
            full = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
            if not os.path.exists(full):
                print(f"{md}: link to {target}: no such file")
                bad = 1
            elif frag and full.endswith(".md") and frag not in anchors(full):
                print(f"{md}: link to {target}: no such section in {full}")
                bad = 1
sys.exit(bad)
EOF
then
	echo "checkdocs: a broken Markdown link above" >&2
	fail=3
fi

if [ "$fail" != 0 ]; then
	exit 1
fi
echo "checkdocs: ok"
