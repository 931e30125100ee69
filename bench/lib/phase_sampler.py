#!/usr/bin/env python3
"""bench/lib/phase_sampler.py POSTMASTER_PID CLIENT_PIDFILE OUT [EXTRA_PID...]:
the samples bench/bounds.sh splits a W1 round into phases with.  Every
10 ms one line

    wall_time idle_ticks total_ticks walsender_ticks client_ticks client_wchar extra_ticks

(/proc/stat's "cpu" line: idle = idle + iowait, total = the sum of its
first eight fields, over every core; a process's ticks are user + system
of all its threads; client_wchar is /proc/CLIENT/io's wchar, the bytes the
client has written with write() (pg_recvlogical's output to /dev/null
counts; socket sends do not); extra_ticks sums the EXTRA_PIDs, e.g.
the Kafka mock cluster's process).  The walsender is the postmaster's child
whose command line says walsender (the bench's cluster serves one slot at a
time); its ticks keep their last value once it is gone.  Stops when the
client exits or the file OUT.stop appears.
"""
import os
import sys
import time


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    return s[s.rindex(')') + 2:].split()


def ticks(pid):
    try:
        v = stat_fields(pid)
        return int(v[11]) + int(v[12])
    except (OSError, ValueError):
        return None


def wchar(pid):
    try:
        with open(f"/proc/{pid}/io") as f:
            for line in f:
                if line.startswith("wchar:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def walsender(postmaster):
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            if int(stat_fields(d)[1]) != postmaster:
                continue
            with open(f"/proc/{d}/cmdline") as f:
                if 'walsender' in f.read():
                    return int(d)
        except (OSError, ValueError):
            pass
    return None


def cpu_line():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return v[3] + v[4], sum(v)


def main():
    pm, pidfile, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    client = None
    extra = [int(p) for p in sys.argv[4:]]
    ws = None
    last = {"ws": 0, "cl": 0, "rc": 0, "ex": {p: 0 for p in extra}}
    with open(out, "w") as f:
        while True:
            if ws is None:
                ws = walsender(pm)
            t = time.time()
            idle, total = cpu_line()
            w = ticks(ws) if ws else None
            if client is None and os.path.exists(pidfile):
                try:
                    client = int(open(pidfile).read())
                except ValueError:
                    pass
            c = ticks(client) if client else 0
            r = wchar(client) if client else 0
            if w is not None:
                last["ws"] = w
            if r is not None:
                last["rc"] = r
            alive = c is not None
            if alive:
                last["cl"] = c
            for p in extra:
                e = ticks(p)
                if e is not None:
                    last["ex"][p] = e
            f.write(f"{t:.4f} {idle} {total} {last['ws']} {last['cl']} {last['rc']} "
                    f"{sum(last['ex'].values())}\n")
            f.flush()
            if not alive or os.path.exists(out + ".stop"):
                return
            time.sleep(0.01)


main()
