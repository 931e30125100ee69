#!/usr/bin/env python3
"""Commit-to-ack latency from two scrapes of the consumer's /metrics.

usage: latency.py BEFORE AFTER

Reads the histogram tributary_commit_to_ack_seconds{sink="all"} from both
files (Prometheus text, cumulative buckets), subtracts BEFORE from AFTER so
that only the measured window counts, and prints one line:

    count p50_ms p99_ms share_le_50ms_percent max_bucket

p50 and p99 are interpolated linearly inside their bucket, as Prometheus's
histogram_quantile() does (the first bucket starts at 0); a quantile that
falls in the +Inf bucket is printed as ">LAST" (e.g. ">5000").  The share of
transactions at or under 50 ms comes straight from the le="0.05" bucket, so
the target "p99 <= 50 ms" is checked exactly, without interpolation.
"""
import re
import sys

NAME = "tributary_commit_to_ack_seconds_bucket"
LINE = re.compile(NAME + r'\{sink="all",le="([^"]+)"\} (\d+)')


def buckets(path):
    out = {}
    for line in open(path):
        m = LINE.match(line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            out[le] = int(m.group(2))
    return out


def quantile(q, bounds, cum):
    total = cum[-1]
    rank = q * total
    prev_b, prev_c = 0.0, 0
    for b, c in zip(bounds, cum):
        if c >= rank:
            if b == float("inf"):
                return ">%g" % (prev_b * 1000)
            if c == prev_c:
                return "%.1f" % (b * 1000)
            return "%.1f" % ((prev_b + (b - prev_b) * (rank - prev_c) / (c - prev_c)) * 1000)
        prev_b, prev_c = b, c
    return "NA"


def main():
    before, after = buckets(sys.argv[1]), buckets(sys.argv[2])
    if not after:
        print("0 NA NA NA NA")
        return
    bounds = sorted(after)
    cum = [after[b] - before.get(b, 0) for b in bounds]
    total = cum[-1]
    if total == 0:
        print("0 NA NA NA NA")
        return
    le50 = cum[bounds.index(0.05)] if 0.05 in bounds else 0
    top = next(b for b, c in zip(bounds, cum) if c == total)
    print(total, quantile(0.5, bounds, cum), quantile(0.99, bounds, cum),
          "%.2f" % (100.0 * le50 / total), "%g" % (top * 1000) if top != float("inf") else "inf")


if __name__ == "__main__":
    main()
