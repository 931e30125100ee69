#!/usr/bin/env python3
"""bench/lib/cpu_sampler.py DAEMON_PID POSTMASTER_PID OUT: every 10 ms one
line "wall_time daemon_ticks walsender_ticks" (user + system clock ticks,
all threads; -1 while no walsender of that postmaster is found) until the
daemon exits.  When a process's ticks stop moving it stopped working:
timeline.py reads the walsender's end of sending and the daemon's from it.
"""
import os
import sys
import time


def ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        v = s[s.rindex(')') + 2:].split()
        return int(v[11]) + int(v[12])
    except (OSError, ValueError):
        return -1


def walsender(postmaster):
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
            if int(s[s.rindex(')') + 2:].split()[1]) != postmaster:
                continue
            with open(f"/proc/{d}/cmdline") as f:
                if 'walsender' in f.read():
                    return int(d)
        except (OSError, ValueError):
            pass
    return None


def main():
    dpid, pm, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    ws = None
    with open(out, 'w') as f:
        while True:
            d = ticks(dpid)
            if d < 0:
                break
            if ws is None:
                ws = walsender(pm)
            f.write(f"{time.time():.3f} {d} {ticks(ws) if ws else -1}\n")
            time.sleep(0.01)


if __name__ == '__main__':
    main()
