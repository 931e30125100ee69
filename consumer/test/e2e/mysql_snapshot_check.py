#!/usr/bin/env python3
"""mysql_snapshot_check.py: the checks of 56_mysql_snapshot.sh on a file
sink's output after a MySQL snapshot followed by streaming.

  mysql_snapshot_check.py OUT WITNESS SERVER_ROWS [--resumed] [--current-columns]

OUT          the file sink's records (JSON lines, Debezium envelope)
WITNESS      tools/mysql_cat's events from the snapshot's binlog position
             to the end: the changes the stream must deliver
SERVER_ROWS  lines "TABLE {json}": the server's rows now (binary columns
             in base64)

Checks: the MySQL stream's changes are exactly the witness's (each once)
(other sources' records, in a pipeline of several, count for the
copied-once and rebuilt-rows checks); every
table's copied keys are distinct and no key is both copied (op r) and
inserted by the stream after the copy's position; one event is the
snapshot's "last"; the rows rebuilt from the events equal the server's.
With --resumed (a copy interrupted by kill -9 and resumed, which may
repeat the chunks written after the last saved progress and reads its
remaining rows under a newer snapshot, docs/MYSQL.md) the copy may repeat
a key or copy a row the stream also inserts, and the rebuilt rows are the
check that counts.
With --current-columns a table's rebuilt rows and the server's are
compared on the columns that the server's rows and every rebuilt row
have: the stream does not rewrite stored rows at a DDL, so a row last
changed before a DROP COLUMN keeps that column in its image, and one last
changed before an ADD COLUMN lacks it (e2e 85, tables altered during the
copy).
Prints "ok - ..." / "not ok - ..." lines and "N passed, N failed".
"""
import collections
import json
import sys

passed = failed = 0


def ok(cond, what, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + what)
    else:
        failed += 1
        print("not ok - %s%s" % (what, (": " + detail[:1500]) if detail else ""))


def norm(v):
    """Values as comparable text: numbers by value."""
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return repr(float(v))
    return str(v)


def row_key(r):
    return json.dumps({k: norm(v) for k, v in sorted(r.items())}, sort_keys=True)


def main():
    out_path, witness_path, server_path = sys.argv[1:4]
    resumed = "--resumed" in sys.argv[4:]
    current = "--current-columns" in sys.argv[4:]
    records = [json.loads(l) for l in open(out_path, encoding="utf-8") if l.strip()]
    events = [r for r in records if r.get("value") is not None]
    snap = [r for r in events if r["value"]["op"] == "r"]
    # the witness is the binlog's: the stream checks are the MySQL source's
    stream = [r for r in events if r["value"]["op"] != "r"
              and r["value"]["source"].get("connector") == "mysql"]

    def change(table, key, op, lsn):
        return "%s %s %s %s" % (lsn, table, json.dumps(key, sort_keys=True), op)

    want = collections.Counter(
        change(e["table"], e["key"], e["op"], e["commit_lsn"])
        for e in map(json.loads, open(witness_path, encoding="utf-8"))
        if e.get("kind") == "event")
    got = collections.Counter(
        change(r["value"]["source"]["table"], r["key"], r["value"]["op"],
               json.loads(r["value"]["source"]["sequence"])[0])
        for r in stream)
    ok(sum(want.values()) > 0, "the witness holds the changes after the snapshot (%d)"
       % sum(want.values()))
    ok(not (want - got), "the stream delivered every change after the snapshot's position",
       " ".join(list((want - got).elements())[:3]))
    ok(not (got - want), "and nothing before it", " ".join(list((got - want).elements())[:3]))
    ok(all(n == 1 for n in got.values()), "and each change once",
       " ".join(k for k, n in got.items() if n > 1)[:300])

    copied = collections.Counter(
        (r["value"]["source"]["table"], json.dumps(r["key"] or r["value"]["after"], sort_keys=True))
        for r in snap)
    if not resumed:
        ok(all(n == 1 for n in copied.values()), "every row is copied once (%d rows)" % len(snap),
           str([k for k, n in copied.items() if n > 1][:3]))
    inserted = {(r["value"]["source"]["table"], json.dumps(r["key"], sort_keys=True))
                for r in stream if r["value"]["op"] == "c"}
    if not resumed:
        ok(not (inserted & set(copied)), "no row is both copied and inserted after the copy",
           str(list(inserted & set(copied))[:3]))
    lasts = [r for r in snap if r["value"]["source"].get("snapshot") == "last"]
    ok(len(lasts) == 1 and lasts[0] is snap[-1] if not resumed else len(lasts) >= 1,
       "the last snapshot event is marked last (%d marked)" % len(lasts))
    ok(all(r["value"]["source"].get("snapshot") in ("true", "last") for r in snap),
       "snapshot events say source.snapshot")

    # rows by their key (PostgreSQL's before images may hold the key only),
    # by their whole image in a table without one
    state = collections.defaultdict(dict)
    for r in events:
        v = r["value"]
        t = v["source"]["table"]
        old = v["before"] if r["key"] is None else r["key"]
        new = v["after"] if r["key"] is None else r["key"]
        if v["op"] in ("d", "u") and old is not None:
            state[t].pop(row_key(old), None)
        if v["op"] != "d":
            state[t][row_key(new)] = v["after"]
    server = collections.defaultdict(set)
    columns = {}
    for line in open(server_path, encoding="utf-8"):
        t, js = line.rstrip("\n").split(" ", 1)
        server[t].add(row_key(json.loads(js)))
        columns[t] = set(json.loads(js))
    for t in sorted(server):
        cols = set(columns[t]).intersection(*state[t].values()) if current else None
        mine = {row_key({c: v for c, v in after.items() if cols is None or c in cols})
                for after in state[t].values()}
        if cols is not None:
            server[t] = {row_key({c: v for c, v in json.loads(r).items() if c in cols})
                         for r in server[t]}
        ok(mine == server[t], "table %s: the events rebuild the server's %d rows%s"
           % (t, len(server[t]), " (columns %s)" % ",".join(sorted(cols)) if cols else ""),
           "missing %s; extra %s" % (list(server[t] - mine)[:2], list(mine - server[t])[:2]))
    print("%d passed, %d failed" % (passed, failed))


main()
