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
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE TABLE public.orders (id int PRIMARY KEY, customer text)" -- witness

cat > "$WORK/p.yaml" <<YAML
pipeline: nulltest
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
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
expect_eq "check accepts a null sink and exits 0" 0 "$rc"
expect_eq "check reports the null sink" \
    "sink nothing (null)|  discards every event: nothing to reach" \
    "$(grep -A1 '^sink nothing' "$WORK/report" | paste -sd'|')"

start_consumer
wait_slot_active tributary_nulltest
for t in $(seq 1 20); do
    pgc_psql -d postgres -c "INSERT INTO public.orders SELECT g, 'c' || g
        FROM generate_series($t * 100, $t * 100 + 9) g" >/dev/null
done
pgc_psql -d postgres -c "UPDATE public.orders SET customer = 'x' WHERE id % 7 = 0" \
    -c "DELETE FROM public.orders WHERE id % 11 = 0" >/dev/null
changes=$(witness_ids witness | wc -l)
expect_eq "the slot is confirmed to the end: the null sink acknowledged every event" \
    t "$(slot_caught_up tributary_nulltest)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
expect_eq "the file sink beside it holds every change" "$changes" \
    "$(grep -c '"value":{' "$WORK/out.jsonl" || true)"
last=$(witness_ids witness | tail -1)
saved=$(pgc_psql -d postgres -Atc "SELECT commit_lsn || ':' || seq FROM tributary.source_checkpoints
    WHERE pipeline = 'nulltest'")
expect_eq "the checkpoint reaches the last change" t \
    "$(pgc_psql -d postgres -Atc "SELECT (split_part('$saved', ':', 1)::pg_lsn, split_part('$saved', ':', 2)::bigint)
        >= (split_part('$last', ':', 1)::pg_lsn, split_part('$last', ':', 2)::bigint)")"
expect_eq "no error logged" 0 "$(grep -c ERROR "$WORK/run.log" || true)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
