#!/usr/bin/env python3
"""bench/lib/cg_objects.py DIR1 DIR2 EVENTS: per-event instructions of a
daemon run twice under callgrind --separate-threads=yes
(bench/daemon_callgrind.sh leaves OUTDIR/N1 and OUTDIR/N2), by the object
the instructions ran in (self cost: the executable, librdkafka, libc,
libcrypto, libpq...), summed over every thread: (DIR2 - DIR1) / EVENTS.
Says, e.g., how much of the daemon's work per event is librdkafka's own.
DIR1 and DIR2 may also be single callgrind files (e.g. kcat's, all
threads in one file: bench/bounds.sh's KCAT_CG).
"""
import collections
import glob
import os
import re
import subprocess
import sys


def by_object(d):
    """Self Ir by object over the thread files of DIR (the files
    callgrind_annotate cannot read, e.g. the empty summary one, skipped)."""
    tot = collections.Counter()
    for path in [d] if os.path.isfile(d) else glob.glob(os.path.join(d, "callgrind.out.*-*")):
        res = subprocess.run(["callgrind_annotate", "--auto=no", "--inclusive=no", "--threshold=100", path],
                             capture_output=True, text=True)
        if res.returncode != 0:
            continue
        rows, obj_of = [], {}
        for line in res.stdout.splitlines():
            m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*?):(\S+)(?: \[(.*)\])?$", line)
            if m:
                rows.append((m.group(3), m.group(4), int(m.group(1).replace(",", ""))))
                if m.group(4):
                    obj_of[m.group(3)] = os.path.basename(m.group(4))
        # a line without an object is code inlined from another file into
        # a function: it counts for that function's object
        for fn, obj, ir in rows:
            tot[os.path.basename(obj) if obj else obj_of.get(fn, "?")] += ir
    return tot


def main():
    d1, d2, events = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a, b = by_object(d1), by_object(d2)
    rows = sorted(((b[k] - a[k]) / events, k) for k in set(a) | set(b))
    rows.reverse()
    total = sum(r[0] for r in rows)
    print("| object | instructions per event (self, all threads) | share |")
    print("|---|---:|---:|")
    for v, k in rows:
        if abs(v) >= 1:
            print(f"| {k} | {v:,.0f} | {100 * v / total:.1f} % |")
    print(f"| total | {total:,.0f} | |")


main()
