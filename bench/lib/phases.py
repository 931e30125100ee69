#!/usr/bin/env python3
"""bench/lib/phases.py SAMPLES T_START T_END [T_FIRST]: one W1 round split
in two phases from phase_sampler.py's SAMPLES: from START (T_START, the
wall time just before the client was started) to the first byte of output
(T_FIRST when given: the daemon's "first record received" log line; else
the first sample at which pg_recvlogical has written 64 KiB to its output:
during the WAL read and the reorder buffer's spill the walsender sends
nothing but keepalives, which pg_recvlogical does not write out), and from
there to T_END (the client's exit
or the moment the bench saw the slot confirmed; the last sample at or
before it).  Prints one line of key=value: the phases' seconds, the CPU
seconds of the walsender, of the client and of the extra processes in
each, and, for the output phase, the idle core-seconds of the machine
(/proc/stat, every core) and the CPU other processes took.
"""
import os
import sys

TICK = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count()


def main():
    path, t0, t1 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    rows = [[float(x) for x in line.split()] for line in open(path) if line.strip()]
    base = rows[0]
    if len(sys.argv) > 4:
        tf = float(sys.argv[4])
        fb = next((r for r in rows if r[0] >= tf), None)
    else:
        fb = next((r for r in rows if r[5] - base[5] >= 64 * 1024), None)
    end = [r for r in rows if r[0] <= t1 + 0.005] or rows[-1:]
    end = end[-1]
    if fb is None:
        print("error=no_first_byte")
        return
    out = {
        "spill_s": fb[0] - t0,
        "output_s": end[0] - fb[0],
        "total_s": t1 - t0,
        "ws_spill_cpu": fb[3] / TICK,
        "ws_out_cpu": (end[3] - fb[3]) / TICK,
        "client_spill_cpu": (fb[4] - base[4]) / TICK,
        "client_out_cpu": (end[4] - fb[4]) / TICK,
        "extra_out_cpu": (end[6] - fb[6]) / TICK,
        "idle_out_core_s": (end[1] - fb[1]) / TICK,
        "idle_spill_core_s": (fb[1] - base[1]) / TICK,
        "busy_out_core_s": ((end[2] - fb[2]) - (end[1] - fb[1])) / TICK,
    }
    out["others_out_cpu"] = out["busy_out_core_s"] - out["ws_out_cpu"] - out["client_out_cpu"] - out["extra_out_cpu"]
    out["idle_out_frac"] = out["idle_out_core_s"] / (NCPU * out["output_s"]) if out["output_s"] > 0 else 0
    print(" ".join(f"{k}={v:.3f}" for k, v in out.items()))


main()
