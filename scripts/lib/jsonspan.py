#!/usr/bin/env python3
"""scripts/lib/jsonspan.py: show parts of JSON Lines exactly as a sink wrote them.

Design: jq 1.6 and Python's json module re-render the values they print
(numeric 129.90 becomes 129.9), so a demo that claims to show what a sink
wrote must not print parsed values.  This script uses the json module's own
scanner (json.decoder.scanstring for member names, JSONDecoder.raw_decode
to skip a value) only to find where each member of an object starts and
ends, and prints those slices of the line unchanged.  It never writes a
value it parsed, except `strings`, which prints a JSON string's decoded
text (lossless for strings).

Usage (PATH is dotted: value.after.email):
  jsonspan.py pick FILE PATH...        per line {"<last segment>":<bytes>,...}
                                       (a PATH a line lacks is left out)
  jsonspan.py strings FILE PATH        per line that has it, the decoded string
  jsonspan.py sidebyside RAW MASKED    for each pair of lines (the same change:
                                       equal value.source.lsn and value.op)
                                       with a row image, the key and
                                       every column, raw and masked, in two
                                       columns
Exit status 0, 1 when the files do not pair up, 2 usage.
"""
import json
import re
import sys

WS = re.compile(r"[ \t\n\r]*")
DECODER = json.JSONDecoder()


def members(text, start):
    """Return {name: (begin, end)} for the object starting at text[start]."""
    out = {}
    i = WS.match(text, start + 1).end()
    if text[i] == "}":
        return out
    while True:
        name, i = json.decoder.scanstring(text, i + 1)
        i = WS.match(text, i).end()
        if text[i] != ":":
            raise ValueError("expected ':' at offset %d" % i)
        i = WS.match(text, i + 1).end()
        _, end = DECODER.raw_decode(text, i)
        out[name] = (i, end)
        i = WS.match(text, end).end()
        if text[i] == "}":
            return out
        if text[i] != ",":
            raise ValueError("expected ',' at offset %d" % i)
        i = WS.match(text, i + 1).end()


def find(text, path):
    """Return (begin, end) of the value at the dotted path, or None."""
    span = (WS.match(text, 0).end(), None)
    for seg in path.split("."):
        if text[span[0]] != "{":
            return None
        span = members(text, span[0]).get(seg)
        if span is None:
            return None
    return span


def slice_at(text, path):
    """The bytes of the value at path, or None."""
    span = find(text, path)
    return None if span is None else text[span[0]:span[1]]


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f if line.strip()]


def cmd_pick(path, paths):
    for line in read_lines(path):
        parts = []
        for p in paths:
            s = slice_at(line, p)
            if s is not None:
                parts.append('"%s":%s' % (p.rsplit(".", 1)[-1], s))
        print("{" + ",".join(parts) + "}")
    return 0


def cmd_strings(path, p):
    for line in read_lines(path):
        s = slice_at(line, p)
        if s is not None and s.startswith('"'):
            print(json.decoder.scanstring(s, 1)[0])
    return 0


def row(name, raw, masked, width):
    return "    %-12s %-*s %s" % (name, width, raw, masked)


def image_rows(raw, masked, path):
    """(column, raw bytes, masked bytes) for every column of either image."""
    rs, ms = find(raw, path), find(masked, path)
    if rs is None or raw[rs[0]] != "{":
        return []
    rmem = members(raw, rs[0])
    mmem = members(masked, ms[0]) if ms is not None and masked[ms[0]] == "{" else {}
    names = list(rmem) + [n for n in mmem if n not in rmem]
    out = []
    for n in names:
        r = raw[rmem[n][0]:rmem[n][1]] if n in rmem else "(absent)"
        m = masked[mmem[n][0]:mmem[n][1]] if n in mmem else "(dropped)"
        out.append((n, r, m))
    return out


OPS = {'"c"': "insert into", '"u"': "update of", '"d"': "delete from", '"r"': "snapshot read of"}


def text_at(line, path):
    """The decoded text of the JSON string at path, or ''."""
    s = slice_at(line, path)
    return json.decoder.scanstring(s, 1)[0] if s and s.startswith('"') else ""


def cmd_sidebyside(raw_path, masked_path):
    raws, maskeds = read_lines(raw_path), read_lines(masked_path)
    if len(raws) != len(maskeds):
        print("jsonspan: %s has %d records, %s has %d"
              % (raw_path, len(raws), masked_path, len(maskeds)), file=sys.stderr)
        return 1
    others = 0
    for raw, masked in zip(raws, maskeds):
        same = ("value.source.lsn", "value.op")
        if any(slice_at(raw, p) != slice_at(masked, p) for p in same):
            print("jsonspan: records out of step:\n  %s\n  %s" % (raw, masked),
                  file=sys.stderr)
            return 1
        op = slice_at(raw, "value.op")
        if op not in OPS:
            others += 1
            continue
        rows = [("key", slice_at(raw, "key"), slice_at(masked, "key"))]
        rows += image_rows(raw, masked, "value.before" if op == '"d"' else "value.after")
        width = max([len("raw")] + [len(r[1]) for r in rows])
        print("  %s %s.%s" % (OPS[op], text_at(raw, "value.source.schema"),
                              text_at(raw, "value.source.table")))
        print(row("", "raw", "masked", width))
        for name, r, m in rows:
            print(row(name, r, m, width))
    if others:
        print("  records without a row image (tombstones, truncates, messages): %d"
              % others)
    return 0


def main(argv):
    if len(argv) >= 4 and argv[1] == "pick":
        return cmd_pick(argv[2], argv[3:])
    if len(argv) == 4 and argv[1] == "strings":
        return cmd_strings(argv[2], argv[3])
    if len(argv) == 4 and argv[1] == "sidebyside":
        return cmd_sidebyside(argv[2], argv[3])
    print(__doc__.split("Usage", 1)[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
