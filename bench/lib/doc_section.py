#!/usr/bin/env python3
"""Replace one generated section of docs/BENCHMARKS.md.

usage: doc_section.py DOC NAME [PARENT] < SECTION

SECTION (stdin) is the whole section, from <!-- NAME:start --> to
<!-- NAME:end -->.  If DOC has that section it is replaced; otherwise it is
inserted before <!-- PARENT:end --> when PARENT is given and present, else
appended.  Nothing else in DOC changes, so each benchmark (or workload) can
rewrite its own figures without touching the others'.
"""
import sys


def main():
    doc, name = sys.argv[1], sys.argv[2]
    parent = sys.argv[3] if len(sys.argv) > 3 else None
    section = sys.stdin.read().strip("\n")
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if not (section.startswith(start) and section.endswith(end)):
        sys.exit(f"doc_section.py: the section must run from {start} to {end}")
    try:
        text = open(doc).read()
    except FileNotFoundError:
        text = ""
    if start in text and end in text:
        a = text.index(start)
        b = text.index(end) + len(end)
        text = text[:a] + section + text[b:]
    elif parent and f"<!-- {parent}:end -->" in text:
        p = text.index(f"<!-- {parent}:end -->")
        text = text[:p] + section + "\n" + text[p:]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    with open(doc, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
