#!/usr/bin/env bash
# scripts/checkdocs.sh passes on the repository and fails on each kind of
# breakage it exists for: a citation outside the repository, a design
# document cited by a bare or missing name, a broken link or anchor.
# Usage: test_checkdocs.sh SOURCE_DIR
set -uo pipefail
src=${1:?usage: test_checkdocs.sh SOURCE_DIR}
check="$src/scripts/checkdocs.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0

expect() { # expect LABEL WANTED_RC ROOT
	local out rc
	out=$(bash "$check" "$3" 2>&1)
	rc=$?
	if { [ "$2" = 0 ] && [ "$rc" = 0 ]; } ||
	   { [ "$2" != 0 ] && [ "$rc" != 0 ]; }; then
		echo "ok   $1"
	else
		echo "FAIL $1 (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/     /'
		failures=$((failures + 1))
	fi
}

expect "the repository's own docs are self-contained" 0 "$src"

# A small tree that passes, then one breakage at a time on a fresh copy.
base="$work/base"
mkdir -p "$base/docs" "$base/src/x"
cat > "$base/README.md" <<'MD'
# t
See [the design](docs/DESIGN.md#why) and [the API](docs/API.md).
```sh
echo "[not a link](nowhere.md) inside a code block"
```
MD
printf '# Design\n\n## Why\n\nSee [API.md](API.md) and `[x](gone.md)`.\n' \
	> "$base/docs/DESIGN.md"
printf '# API\n' > "$base/docs/API.md"
printf '/* As docs/DESIGN.md says, pitfall 1. */\n' > "$base/src/x/a.c"
expect "a clean tree passes" 0 "$base"

case_tree() { # case_tree NAME: a fresh copy of base at $work/NAME
	rm -rf "${work:?}/$1"
	cp -r "$base" "$work/$1"
	echo "$work/$1"
}

t=$(case_tree shared)
printf '/* see ../%s/DESIGN.md */\n' shared >> "$t/src/x/a.c"
expect "attack: a comment cites the design outside the repository" 1 "$t"

t=$(case_tree bare)
printf '# cited as in %s.md "Threads"\n' DESIGN >> "$t/src/x/a.c"
expect "a source file cites DESIGN.md without its place (docs/)" 1 "$t"

t=$(case_tree style)
printf '/* (%s.md item 2) */\n' STYLE >> "$t/src/x/a.c"
expect "a source file cites a STYLE.md the repository does not have" 1 "$t"

t=$(case_tree missing)
rm "$t/docs/API.md"
expect "docs/API.md cited and linked but missing" 1 "$t"

t=$(case_tree link)
printf 'And [limits](docs/LIMITS.md).\n' >> "$t/README.md"
expect "README links to a file that does not exist" 1 "$t"

t=$(case_tree anchor)
printf 'And [there](DESIGN.md#nowhere).\n' >> "$t/docs/API.md"
expect "docs link to a section that does not exist" 1 "$t"

t=$(case_tree refdef)
printf '\n[gone]: ../src/gone.c\n' >> "$t/docs/API.md"
expect "a reference-style link to a missing file" 1 "$t"

t=$(case_tree external)
printf 'See [RFC 9457](https://www.rfc-editor.org/rfc/rfc9457).\n' \
	>> "$t/docs/API.md"
expect "external links are not checked" 0 "$t"

if [ "$failures" != 0 ]; then
	echo "$failures check(s) failed"
	exit 1
fi
echo "all checks passed"
