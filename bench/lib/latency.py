#!/usr/bin/env python3
"""Commit-to-ack latency from two scrapes of the consumer's /metrics.

usage: latency.py BEFORE AFTER [TARGET_MS [HISTOGRAM]]

Reads the histogram tributary_commit_to_ack_seconds{sink="all"} from both
files (Prometheus text, cumulative buckets), subtracts BEFORE from AFTER so
that only the measured window counts, and prints one line:

    count p50_ms p99_ms p999_ms share_le_target_percent max_ms

The buckets are 1 ms wide up to 20 ms (lib/metrics.c), so below 20 ms a
quantile is given as the upper bound of the bucket it falls in: exact to
1 ms, never interpolated into a figure the data cannot resolve.  Above
20 ms the buckets widen and the quantile is again the bucket's upper bound
(a quantile in the +Inf bucket prints as ">LAST").  max_ms is the upper
bound of the highest non-empty bucket.  The share at or under TARGET_MS
(default 10) comes straight from that bucket, so a target "p99 <= X ms" is
checked exactly: it holds when the share is at least 99 %.

HISTOGRAM names another histogram with the same buckets, such as
tributary_receipt_to_ack_seconds: from the moment the pipeline handled a
transaction's commit to its acknowledgement, the daemon's own share of
the commit-to-ack latency (the rest is PostgreSQL's: WAL to walsender to
socket).
"""
import re
import sys

NAME = "tributary_commit_to_ack_seconds"


def buckets(path, name=NAME):
    line_re = re.compile(name + r'_bucket\{sink="all",le="([^"]+)"\} (\d+)')
    out = {}
    for line in open(path):
        m = line_re.match(line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            out[le] = int(m.group(2))
    return out


def ms(b, prev):
    return ">%g" % (prev * 1000) if b == float("inf") else "%g" % round(b * 1000, 3)


def quantile(q, bounds, cum):
    """The upper bound of the bucket holding the q-quantile."""
    rank = q * cum[-1]
    prev = 0.0
    for b, c in zip(bounds, cum):
        if c >= rank:
            return ms(b, prev)
        prev = b
    return "NA"


def main():
    name = sys.argv[4] if len(sys.argv) > 4 else NAME
    before, after = buckets(sys.argv[1], name), buckets(sys.argv[2], name)
    target = float(sys.argv[3]) / 1000 if len(sys.argv) > 3 else 0.010
    if not after:
        print("0 NA NA NA NA NA")
        return
    bounds = sorted(after)
    cum = [after[b] - before.get(b, 0) for b in bounds]
    total = cum[-1]
    if total == 0:
        print("0 NA NA NA NA NA")
        return
    le = max((b for b in bounds if b <= target + 1e-12), default=None)
    share = 100.0 * cum[bounds.index(le)] / total if le is not None else 0.0
    i = next(i for i, c in enumerate(cum) if c == total)
    print(total, quantile(0.5, bounds, cum), quantile(0.99, bounds, cum),
          quantile(0.999, bounds, cum), "%.2f" % share,
          ms(bounds[i], bounds[i - 1] if i > 0 else 0.0))


if __name__ == "__main__":
    main()
