#!/usr/bin/env bash
# 54_lineage_export.sh: the OpenLineage export of the lineage stage
# (lineage.export_url, export_file) against a fake OpenLineage endpoint
# (fixtures/fake_openlineage.py: 503 while $WORK/fail exists, else 201;
# it keeps every body it accepted).
#
#   1. while the endpoint fails, the stream goes on, the failures are
#      counted in /metrics, and the file export (which works) gets every
#      event;
#   2. once it recovers, every event of the run arrives, in order, once;
#   3. a run that ends while the endpoint fails leaves its events in the
#      sent-marker; the next start sends them: over three runs the
#      endpoint and the file hold exactly tributary.openlineage_events()
#      of each run, in order, none twice;
#   4. a run that never began (the start fails first: its HTTP port is
#      taken) has no events: the stop does not wait for them, says none
#      are left, and leaves nothing in the sent-marker.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=lineage_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lineage_lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE TABLE public.t (id int PRIMARY KEY, v text)" -- tributary_olx
DSN="$(pg_dsn)"

touch "$WORK/fail"
ol_fake_start

cat > "$WORK/p.yaml" <<YAML
pipeline: olx
sources:
  main: {type: postgres, dsn: "$DSN", snapshot: never, status_interval_ms: 200}
sinks:
  f: {type: file, path: "$WORK/out.jsonl"}
checkpoint:
  store: catalog
lineage:
  enabled: true
  export_url: "http://127.0.0.1:$OLPORT/api/v1/lineage"
  export_file: "$WORK/events.jsonl"
  export_max_backoff_ms: 400
http:
  listen: "127.0.0.1:0"
YAML
"$BIN" check --offline -c "$WORK/p.yaml" >/dev/null

# ---- 1: the endpoint fails
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.t SELECT g, 'x' FROM generate_series(1, 20) g" >/dev/null
wait_lines "$WORK/out.jsonl" 20 30 || true
expect_eq "the stream goes on while the endpoint fails" 20 "$(count "$WORK/out.jsonl")"
wait_lines "$WORK/events.jsonl" 2 30 || true
expect_eq "the file export works meanwhile (START, the graph's config_change)" "2" "$(count "$WORK/events.jsonl")"
sleep 1
expect_match "the failed tries are counted" 'tributary_lineage_export_errors_total\{destination="http"\} [1-9]' \
    "$(curl -s "http://127.0.0.1:$(http_port)/metrics")"
expect_eq "nothing reached the endpoint" 0 "$(count "$WORK/received.jsonl")"

# ---- 2: it recovers
rm "$WORK/fail"
wait_lines "$WORK/received.jsonl" 2 30 || true
expect_eq "after recovery the run's events arrive" 2 "$(count "$WORK/received.jsonl")"
stop_consumer
expect_eq "the daemon stops cleanly" 0 "$STOP_RC"
expect_eq "the endpoint has every event of the run, in order, once" "$(events_of)" "$(lines_of "$WORK/received.jsonl")"
expect_eq "so has the file" "$(events_of)" "$(lines_of "$WORK/events.jsonl")"

# ---- 3: a run that ends while the endpoint fails
touch "$WORK/fail"
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.t SELECT g, 'y' FROM generate_series(21, 30) g" >/dev/null
wait_lines "$WORK/out.jsonl" 30 30 || true
stop_consumer
expect_grep "the stop says events are left" "$WORK/run.log" "events of this run are left to send"
expect_eq "the marker keeps the run" 1 "$(wc -l < "$WORK/events.jsonl.lineage-sent")"
rm "$WORK/fail"
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.t SELECT g, 'z' FROM generate_series(31, 40) g" >/dev/null
wait_lines "$WORK/out.jsonl" 40 30 || true
sleep 1
stop_consumer
expect_eq "three runs" 3 "$(q postgres "SELECT count(*) FROM tributary.lineage_runs")"
expect_eq "the endpoint has every event of the three runs, in order, once" "$(events_of)" \
    "$(lines_of "$WORK/received.jsonl")"
expect_eq "so has the file" "$(events_of)" "$(lines_of "$WORK/events.jsonl")"
expect_eq "none twice" 0 "$(sort "$WORK/received.jsonl" | uniq -d | wc -l)"
expect_eq "and the marker has nothing left" 0 "$(wc -l < "$WORK/events.jsonl.lineage-sent")"

# ---- 4: a run that never began: its HTTP listener's port is the fake
# endpoint's, so the start fails before the run starts
sed "s/127.0.0.1:0/127.0.0.1:$OLPORT/" "$WORK/p.yaml" > "$WORK/taken.yaml"
: > "$WORK/taken.log"
start_consumer "$WORK/taken.yaml" "$WORK/taken.log"
wait_exit 60
expect_eq "a start whose port is taken fails" 1 "$EXIT_RC"
expect_grep "it says why" "$WORK/taken.log" "cannot listen on 127\.0\.0\.1:$OLPORT"
expect_no_grep "it does not claim events left to send" "$WORK/taken.log" "left to send"
expect_eq "the run that never began leaves nothing in the marker" 0 \
    "$(wc -l < "$WORK/events.jsonl.lineage-sent")"
expect_eq "still three runs, and the endpoint has every event of them once" "$(events_of)" \
    "$(lines_of "$WORK/received.jsonl")"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log" "$WORK/taken.log"
e2e_finish
