#!/usr/bin/env python3
"""cg_threads.py DIR1 DIR2 EVENTS: per-event instructions of a daemon run
twice under callgrind --separate-threads=yes (bench/daemon_callgrind.sh).

Each DIR holds the callgrind.out.PID-TID files of one run.  A thread is
named by what start_thread calls (its entry function and file); thread 1 is
the main thread.  Prints (DIR2 - DIR1) / EVENTS per thread kind, in total,
and for the top functions, inclusive and self (callgrind_annotate per
thread file, summed over the threads)."""
import collections
import glob
import os
import re
import subprocess
import sys


def annotate(path, inclusive):
    """(function, object, Ir) lines of callgrind_annotate for one file."""
    out = subprocess.run(
        ["callgrind_annotate", "--auto=no", "--inclusive=" + ("yes" if inclusive else "no"),
         "--threshold=100", path], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(.*?):(\S+)(?: \[(.*)\])?$", line)
        if m and m.group(4):  # lines without an object repeat a function's
            rows.append((m.group(3), os.path.basename(m.group(2)), os.path.basename(m.group(4) or ""),
                         int(m.group(1).replace(",", ""))))
        # (inlined code's file lines); only the function's own line counts
    return rows


def thread_kind(path, incl):
    """The kind of thread: main, librdkafka's, or our entry function's file."""
    if path.endswith("-01"):
        return "main thread"
    after = False
    for fn, src, obj, _ in incl:
        if after:
            if obj.startswith("librdkafka"):
                return "librdkafka's threads"
            return "%s thread (%s)" % (src.split(".")[0], fn)
        after = fn.startswith("start_thread")
    return "other"


def total(path):
    """The file's total Ir."""
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    return 0


def run_sums(d):
    """Per thread kind, per function inclusive and self: Ir of one run."""
    threads = collections.Counter()
    incl = collections.Counter()
    self_ = collections.Counter()
    for p in sorted(glob.glob(os.path.join(d, "callgrind.out.*-*"))):
        rows = annotate(p, True)
        threads[thread_kind(p, rows)] += total(p)
        for fn, _, _, ir in rows:
            incl[fn] += ir
        for fn, _, _, ir in annotate(p, False):
            self_[fn] += ir
    return threads, incl, self_


def main():
    d1, d2, ev = sys.argv[1], sys.argv[2], int(sys.argv[3])
    t1, i1, s1 = run_sums(d1)
    t2, i2, s2 = run_sums(d2)
    print("| per W1 event | instructions |")
    print("|---|---:|")
    for k in sorted(set(t1) | set(t2), key=lambda k: -(t2[k] - t1[k])):
        print("| %s | %s |" % (k, format(round((t2[k] - t1[k]) / ev), ",")))
    print("| the whole process | %s |" % format(round((sum(t2.values()) - sum(t1.values())) / ev), ","))
    for title, a, b in (("inclusive", i1, i2), ("self", s1, s2)):
        print("\ntop functions, %s, per event (all threads):" % title)
        diff = {k: (b[k] - a[k]) / ev for k in set(a) | set(b)}
        for k, v in sorted(diff.items(), key=lambda kv: -kv[1])[:int(os.environ.get("TOP", "45"))]:
            print("%10s  %s" % (format(round(v), ","), k))


main()
