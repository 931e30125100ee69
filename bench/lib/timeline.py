#!/usr/bin/env python3
"""bench/lib/timeline.py DIR NAME SECONDS: one round's timeline, in ms from
the daemon's start, from what timeline_wrap.sh recorded in DIR (NAME.start,
NAME.log with the daemon's debug lines, NAME.cpu) and the round's seconds
as bench/e2e.sh reported them (its clock starts just before the daemon, so
the last line is the moment the bench saw the slot confirmed).
"""
import datetime
import re
import sys

STARTS = [
    (r'starting pipeline', 'main: starting pipeline (the log is open)'),
    (r'is active', 'pipeline active (lock, checkpoint store, sinks opened)'),
    (r'streaming from slot', 'START_REPLICATION answered (streaming)'),
    (r'first record received', 'first record received'),
    (r'first event produced', 'first event produced (Kafka)'),
]
ENDS = [
    (r'every sink acknowledged', 'last delivery report (every sink acknowledged)'),
    (r'checkpoint handed', 'final checkpoint handed to the writer'),
    (r'checkpoint saved', 'final checkpoint saved'),
    (r'status update: flush', 'status update with the end LSN sent'),
]


def stamp(line):
    m = re.match(r'(\S+)Z ', line)
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
    return t.replace(tzinfo=datetime.timezone.utc).timestamp()


def main():
    d, name, total = sys.argv[1], sys.argv[2], float(sys.argv[3])
    t0 = float(open(f"{d}/{name}.start").read().split()[1])
    lines = open(f"{d}/{name}.log").read().splitlines()
    ev = [(t0 + total, 'slot seen confirmed (bench/e2e.sh, 10 ms polls)')]
    for pat, label in STARTS:
        hit = next((l for l in lines if re.search(pat, l)), None)
        if hit:
            ev.append((stamp(hit), label))
    for pat, label in ENDS:
        hit = next((l for l in reversed(lines) if re.search(pat, l)), None)
        if hit:
            ev.append((stamp(hit), label))
    cpu = [tuple(map(float, l.split())) for l in open(f"{d}/{name}.cpu")]
    last = {1: None, 2: None}
    for prev, cur in zip(cpu, cpu[1:]):
        for k in (1, 2):
            if cur[k] != prev[k] and cur[k] >= 0:
                last[k] = cur[0]
    if last[1]:
        ev.append((last[1], 'daemon CPU stops (its last tick)'))
    if last[2]:
        ev.append((last[2], 'walsender CPU stops (its last tick: done sending)'))
    for t, label in sorted(ev):
        print(f"{(t - t0) * 1000:8.0f} ms  {label}")
    ws = max((c[2] for c in cpu), default=-1)
    print(f"daemon CPU {cpu[-1][1] / 100:.2f} s, walsender CPU {ws / 100:.2f} s (10 ms ticks), "
          f"first sample at {(cpu[0][0] - t0) * 1000:.0f} ms")


if __name__ == '__main__':
    main()
