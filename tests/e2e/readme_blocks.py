#!/usr/bin/env python3
"""The README's shell blocks as a test (tests/e2e/test_readme.sh).

    readme_blocks.py list README.md          # the blocks, one line each
    readme_blocks.py script README.md N      # block N as a script
    readme_blocks.py check README.md N OUT   # OUT against block N's answers

A block is a ```sh fence. An HTML comment on the line before it says how
the test treats it:

    <!-- readme: skip (why) -->   not run (it installs, or runs forever)
    <!-- readme: after-stop -->   run after the demo has stopped

Every other block runs in order, in one shell, against a fresh demo. An
answer shown in a block is a comment that starts with `# {`, `# [` or
`# prints: `; the lines after it that start with `#  ` continue it. The
block's output must contain each answer, in order, where `…` stands for
anything.
"""
import re
import sys


def blocks(path):
    """[(line, mode, text)] of the README's sh blocks."""
    out, lines = [], open(path, encoding="utf-8").read().split("\n")
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            mode = "run"
            prev = lines[i - 1].strip() if i else ""
            m = re.match(r"<!-- readme: ([a-z-]+)", prev)
            if m:
                mode = m.group(1)
            j = i + 1
            while j < len(lines) and lines[j].strip() != "```":
                j += 1
            out.append((i + 1, mode, "\n".join(lines[i + 1:j])))
            i = j
        i += 1
    return out


def answers(text):
    """The answers shown in a block, each as one string."""
    found, current = [], None
    for line in text.split("\n"):
        s = line.strip()
        if s.startswith("# {") or s.startswith("# ["):
            current = s[2:]
            found.append(current)
        elif s.startswith("# prints: "):
            current = s[len("# prints: "):]
            found.append(current)
        elif current is not None and s.startswith("#  "):
            current += s[3:]
            found[-1] = current
        else:
            current = None
    return found


def pattern(answer):
    parts = [re.escape(p) for p in answer.split("…")]
    return re.compile(".*?".join(parts), re.S)


def check(text, output):
    """The answers of text missing from output (in order)."""
    missing, at = [], 0
    for a in answers(text):
        m = pattern(a).search(output, at)
        if m:
            at = m.end()
        else:
            missing.append(a)
    return missing


def main(argv):
    cmd, path = argv[1], argv[2]
    bs = blocks(path)
    if cmd == "list":
        for n, (line, mode, _) in enumerate(bs):
            print(n, line, mode)
    elif cmd == "script":
        print(bs[int(argv[3])][2])
    elif cmd == "check":
        output = open(argv[4], encoding="utf-8", errors="replace").read()
        missing = check(bs[int(argv[3])][2], output)
        for a in missing:
            print("not answered as shown:", a)
        return 1 if missing else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
