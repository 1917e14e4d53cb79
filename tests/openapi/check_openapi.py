#!/usr/bin/env python3
"""The API contract against the code: docs/openapi.yaml must be valid
OpenAPI 3.1 (the npm validator pinned in tests/openapi/package.json, which
scripts/deps.sh installs), and every route of the route table
src/api/routes.c must be described there with its method and its path
parameters; an operation described there must exist in the table.

usage: check_openapi.py SOURCE_DIR

Prints one line per failed check and closes with "openapi: N passed,
N failed"; exits 1 on any failure. Standard library only: the validator
turns the YAML into JSON for us.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch",
                "trace")
# Keys whose value may be null in an OpenAPI document; anywhere else a null
# is a plain scalar split at a comma in a flow mapping ({a: b, c d}).
NULL_OK = {"const", "default", "example", "enum"}


class Checks:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, ok, what, why=""):
        if ok:
            self.passed += 1
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {why}" if why else ""))
        return ok


def parse_routes(path):
    """(METHOD, path) of every entry of api_routes[] in routes.c."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    start = re.search(r"api_routes\[\]\s*=\s*\{", text)
    if not start:
        raise ValueError("no api_routes[] table")
    routes, depth, entry = [], 0, None
    for i in range(start.end(), len(text)):
        c = text[i]
        if c == "{":
            depth += 1
            if depth == 1:
                entry = i + 1
        elif c == "}":
            if depth == 0:
                break
            depth -= 1
            if depth == 0:
                body = text[entry:i]
                m = re.match(r'\s*((?:METHOD_[A-Z]+\s*\|?\s*)+),\s*"([^"]+)"',
                             body)
                if not m:
                    raise ValueError("cannot read route entry {%s}"
                                     % " ".join(body.split()))
                # A rest placeholder {name*} (the rest of the path) is a
                # plain {name} in OpenAPI, which has no such template.
                path = re.sub(r"\{(\w+)\*\}", r"{\1}", m.group(2))
                for meth in re.findall(r"METHOD_([A-Z]+)", m.group(1)):
                    routes.append((meth, path))
    if not routes:
        raise ValueError("empty api_routes[] table")
    return routes


def nulls(node, where):
    """JSON pointers of the null values outside NULL_OK."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            p = where + "/" + str(k).replace("~", "~0").replace("/", "~1")
            if v is None and k not in NULL_OK:
                found.append(p)
            found += nulls(v, p)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += nulls(v, f"{where}/{i}")
    return found


def path_params(item, op):
    """Names of the in: path parameters of an operation (its own and its
    path item's), with required: true as OpenAPI demands."""
    names = set()
    for p in item.get("parameters", []) + op.get("parameters", []):
        if isinstance(p, dict) and p.get("in") == "path" and p.get("required"):
            names.add(p.get("name"))
    return names


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src = sys.argv[1]
    yaml_path = os.path.join(src, "docs", "openapi.yaml")
    routes_path = os.path.join(src, "src", "api", "routes.c")
    cli = os.path.join(src, "tests", "openapi", "node_modules", "@seriousme",
                       "openapi-schema-validator", "bin", "bundle-api-cli.js")
    c = Checks()

    # 1. The validator: the document against the OpenAPI schema of its
    # version. On success it writes the document as JSON.
    node = shutil.which("node")
    spec = None
    if node is None:
        c.check(False, "validator", "node not found (scripts/deps.sh "
                "installs nodejs)")
    elif not os.path.exists(cli):
        c.check(False, "validator", f"{cli} missing (scripts/deps.sh runs "
                "npm ci in tests/openapi)")
    else:
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "openapi.json")
            r = subprocess.run([node, cli, yaml_path, "-o", out],
                               capture_output=True, text=True, check=False)
            if c.check(r.returncode == 0 and os.path.exists(out),
                       "docs/openapi.yaml is not valid OpenAPI",
                       "the validator says:\n" + r.stdout + r.stderr):
                with open(out, encoding="utf-8") as f:
                    spec = json.load(f)

    if spec is not None:
        version = str(spec.get("openapi", ""))
        c.check(version.startswith("3.1."), "openapi version",
                f"{version!r}, not 3.1.x")
        stray = nulls(spec, "")
        c.check(not stray, "null values (an unquoted comma in a flow "
                "mapping?)", ", ".join(stray))

    # 2. The route table against the paths.
    try:
        routes = parse_routes(routes_path)
    except (OSError, ValueError) as e:
        c.check(False, "src/api/routes.c", str(e))
        routes = []
    table = set(routes)
    paths = spec.get("paths", {}) if spec and table else {}
    if spec is None and routes:
        c.check(False, f"the {len(routes)} routes of src/api/routes.c",
                "not checked: docs/openapi.yaml is not valid")
        routes = []
    for meth, path in routes:
        what = f"{meth} {path}"
        item = paths.get(path)
        op = item.get(meth.lower()) if isinstance(item, dict) else None
        if not c.check(isinstance(op, dict), what,
                       "not described in docs/openapi.yaml"):
            continue
        want = set(re.findall(r"\{([^}]+)\}", path))
        have = path_params(item, op)
        c.check(want == have, what, f"path parameters {sorted(want)} in "
                f"the route, {sorted(have)} required in docs/openapi.yaml")

    # 3. Nothing described that the daemon does not answer.
    for path, item in paths.items():
        for meth in HTTP_METHODS:
            if isinstance(item, dict) and meth in item:
                c.check((meth.upper(), path) in table,
                        f"{meth.upper()} {path}",
                        "described in docs/openapi.yaml but not in "
                        "src/api/routes.c")

    print(f"openapi: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
