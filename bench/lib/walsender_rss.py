#!/usr/bin/env python3
"""Sample the memory of the walsender that serves one pg_recvlogical run.

usage: walsender_rss.py POSTMASTER_PID READY_FILE STOP_FILE

The walsender is found as a child of the postmaster whose process title
starts with "postgres: walsender"; walsenders that already exist when the
sampler starts (a previous run still exiting) are ignored.  Looking in /proc
rather than in pg_stat_replication keeps extra database connections out of
the timed window; the benchmark cluster runs one walsender at a time.

The sampler touches READY_FILE once it has taken its baseline, then polls
/proc/PID/status every 50 ms.  VmHWM (the kernel's own high-water mark) is
re-read on every poll, so the last value read before the process exits is its
peak RSS, whatever the poll interval.  It stops when the walsender is gone,
or when STOP_FILE exists and no walsender ever showed up (or it lingers for
more than 5 s), or when its parent shell or the postmaster is gone.  It prints one line, all sizes in kB ("NA" if no walsender
was seen):

    pid vmrss_peak vmhwm rssanon_peak rssshmem_peak samples
"""
import os
import sys
import time

POLL = 0.05


def walsenders(ppid):
    found = set()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
            # the command name may contain spaces; ppid follows the last ')'
            if int(stat[stat.rindex(b")") + 2:].split()[1]) != ppid:
                continue
            with open(f"/proc/{name}/cmdline", "rb") as f:
                if f.read().startswith(b"postgres: walsender"):
                    found.add(int(name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def status(pid):
    """VmRSS, VmHWM, RssAnon, RssShmem in kB; None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    vals = {}
    for line in lines:
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssShmem"):
            vals[key] = int(rest.split()[0])
    if "VmRSS" not in vals:  # zombie: memory already released
        return None
    return vals


def orphaned(parent, postmaster):
    return os.getppid() != parent or not os.path.exists(f"/proc/{postmaster}")


def main():
    ppid, ready, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    parent = os.getppid()
    old = walsenders(ppid)
    open(ready, "w").close()

    pid = None
    while pid is None:
        new = walsenders(ppid) - old
        if new:
            pid = min(new)
            break
        if os.path.exists(stop) or orphaned(parent, ppid):
            print("NA NA NA NA NA 0")
            return
        time.sleep(0.01)

    peak = {"VmRSS": 0, "VmHWM": 0, "RssAnon": 0, "RssShmem": 0}
    samples = 0
    stop_seen = None
    while True:
        vals = status(pid)
        if vals is None:
            break
        samples += 1
        for key, val in vals.items():
            peak[key] = max(peak[key], val)
        if os.path.exists(stop):
            stop_seen = stop_seen or time.monotonic()
            if time.monotonic() - stop_seen > 5:
                break
        if orphaned(parent, ppid):
            break
        time.sleep(POLL)
    print(pid, peak["VmRSS"], peak["VmHWM"], peak["RssAnon"],
          peak["RssShmem"], samples)


if __name__ == "__main__":
    main()
