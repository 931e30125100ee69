#!/usr/bin/env bash
# 32_null_sink.sh: a pipeline with the null sink (sink/null/), which
# discards every event and acknowledges it at once.
#
# `check` knows the type from the registry alone and reports it; `run`
# streams from PostgreSQL into a null sink and a file sink.  The pipeline
# confirms the slot only up to what every sink acknowledged, so the slot
# catching up with the writer proves the null sink acknowledged every
# event it was handed; the file sink beside it still gets every change
# once, and the saved checkpoint reaches the last change.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=../../../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
WORK=$(mktemp -d)
RUN_PID=
cleanup() {
    [ -n "$RUN_PID" ] && kill -9 "$RUN_PID" 2>/dev/null || true
    pgc_cleanup
    [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
passed=0 failed=0
# shellcheck source=lib.sh
source "$ROOT/consumer/test/e2e/lib.sh"
check() { expect_eq "$@"; }

make -s -C "$ROOT/consumer" build >/dev/null
pgc_start
chmod 777 "$WORK"
pgc_psql -d postgres -c "CREATE EXTENSION tributary" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, customer text)" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" >/dev/null

cat > "$WORK/p.yaml" <<YAML
pipeline: nulltest
sources:
  main:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres"
    snapshot: never
    heartbeat_interval_ms: 500
    status_interval_ms: 200
sinks:
  nothing:
    type: "null"
  archive:
    type: file
    path: "$WORK/out.jsonl"
checkpoint:
  store: catalog
http:
  enabled: false
YAML

rc=0; "$BIN" check -c "$WORK/p.yaml" > "$WORK/report" 2>&1 || rc=$?
sed 's/^/#   /' "$WORK/report"
check "check accepts a null sink and exits 0" 0 "$rc"
check "check reports the null sink" \
    "sink nothing (null)|  discards every event: nothing to reach" \
    "$(grep -A1 '^sink nothing' "$WORK/report" | paste -sd'|')"

"$BIN" run -c "$WORK/p.yaml" > "$WORK/run.log" 2>&1 & RUN_PID=$!
wait_slot_active tributary_nulltest
for t in $(seq 1 20); do
    pgc_psql -d postgres -c "INSERT INTO public.orders SELECT g, 'c' || g
        FROM generate_series($t * 100, $t * 100 + 9) g" >/dev/null
done
pgc_psql -d postgres -c "UPDATE public.orders SET customer = 'x' WHERE id % 7 = 0" \
    -c "DELETE FROM public.orders WHERE id % 11 = 0" >/dev/null
changes=$(witness_ids witness | wc -l)
check "the slot is confirmed to the end: the null sink acknowledged every event" \
    t "$(slot_caught_up tributary_nulltest)"
stop_consumer
check "SIGTERM drains and exits 0" 0 "$STOP_RC"
check "the file sink beside it holds every change" "$changes" \
    "$(grep -c '"value":{' "$WORK/out.jsonl" || true)"
last=$(witness_ids witness | tail -1)
saved=$(pgc_psql -d postgres -Atc "SELECT commit_lsn || ':' || seq FROM tributary.source_checkpoints
    WHERE pipeline = 'nulltest'")
check "the checkpoint reaches the last change" t \
    "$(pgc_psql -d postgres -Atc "SELECT (split_part('$saved', ':', 1)::pg_lsn, split_part('$saved', ':', 2)::bigint)
        >= (split_part('$last', ':', 1)::pg_lsn, split_part('$last', ':', 2)::bigint)")"
check "no error logged" 0 "$(grep -c ERROR "$WORK/run.log" || true)"
check "no sanitizer report from the consumer" 0 \
    "$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK/run.log" || true)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
