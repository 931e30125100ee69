#!/usr/bin/env bash
# bench/format.sh: per-event cost of the Kafka record formats (`format:
# tributary`, `format: debezium`, `format: debezium` + `schemas.enable`),
# the encoding alone; `make bench-format` runs it.
#
#   bench/format.sh [EVENTS [FORMAT]]
#
# FORMAT (tributary, debezium or schemas) runs one format for one round,
# for a profiler (docs/BENCHMARKS.md, "Where Debezium mode's cost goes").
# It builds consumer/build/tools/bench_format and runs it (best of 5 rounds
# of EVENTS, default 1000000, over 256 distinct 10-column order rows).  No
# database or Kafka is involved: compare the difference with the
# end-to-end cost per event of `make bench-e2e` (docs/BENCHMARKS.md).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
make -s -C "$top/consumer" build/tools/bench_format >/dev/null
exec "$top/consumer/build/tools/bench_format" "$@"
