# shellcheck shell=bash
# bench/lib/load.sh: how busy the machine was while a benchmark ran, for
# the text a bench script writes into docs/BENCHMARKS.md.  The machine is
# shared with other jobs, so a script reads /proc/loadavg before and after
# what it times and states from those two readings whether the run had
# the machine to itself, rather than a fixed sentence.
#
#   load_now                 the 1-, 5- and 15-minute load averages now
#                            ("0.42 0.61 0.70")
#   load_note BEFORE AFTER   from two load_now readings: "quiet (load X
#                            to Y, ...)" when the 1-minute load average
#                            is below the threshold in both, else "shared
#                            with other jobs (load X to Y, ...)"; X and Y
#                            are the 1-minute figures, and the text says
#                            the threshold
#
# The threshold is LOAD_QUIET_BELOW, by default 0.75 per CPU (1.5 on a
# 2-core machine): below it the timed processes still have a core each.

load_now() { cut -d' ' -f1-3 /proc/loadavg; }

load_note() {
    local below=${LOAD_QUIET_BELOW:-$(awk -v n="$(nproc)" 'BEGIN {print 0.75 * n}')}
    awk -v b="${1%% *}" -v a="${2%% *}" -v t="$below" 'BEGIN {
        q = (b + 0 < t + 0 && a + 0 < t + 0) ? "quiet" : "shared with other jobs"
        printf "%s (load %s to %s: the 1-minute load average before and after the run; quiet means below %s in both)\n", q, b, a, t
    }'
}
