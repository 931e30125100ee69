#!/usr/bin/env bash
# 76_lineage_export_crash.sh: a crash between sending an OpenLineage event
# and writing the sent-marker sends nothing twice after recovery
# (lineage_journal.c, docs/LINEAGE.md section 8).
#
# The test hook TRIBUTARY_TEST_LINEAGE_EXPORT_KILL=DEST:N makes the daemon
# kill itself (SIGKILL) right after its N-th event went to DEST, before
# the marker records it.
#
#   1. killed after an append to export_file: the next start does not
#      append that event again (it checks the file at the offset its
#      journal noted), and the file holds every event of every run once;
#   2. a torn append (the file ends inside the event) is cut off and
#      the event written whole;
#   3. killed after a POST: the endpoint may have the event, so it is
#      sent again, byte for byte the same body (same runId, eventType and
#      eventTime), so a receiver that keeps events by identity keeps each
#      once; nothing is lost.
#
# No HTTP listener: on the default 127.0.0.1:8080 a daemon of another
# script running at the same time (test/run.sh runs two; CI two suites
# side by side) made a start fail with "cannot listen", read here as a
# stop that did not exit 0.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=lineage_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lineage_lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE TABLE public.t (id int PRIMARY KEY, v text)" -- tributary_olc
DSN="$(pg_dsn)"
ol_fake_start

cat > "$WORK/p.yaml" <<YAML
pipeline: olc
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
  enabled: false
YAML
"$BIN" check --offline -c "$WORK/p.yaml" >/dev/null

# run_killed_after DEST:N ROWS: start with the hook, write rows, and wait
# (up to 30 s) for the daemon to kill itself.
run_killed_after() {
    local rc=0
    TRIBUTARY_TEST_LINEAGE_EXPORT_KILL=$1 "$BIN" run -c "$WORK/p.yaml" >>"$WORK/run.log" 2>&1 &
    RUN_PID=$!
    pgc_psql -d postgres -c "INSERT INTO public.t SELECT g, 'x' FROM generate_series($2) g" >/dev/null
    timeout 30 tail --pid="$RUN_PID" -f /dev/null || true
    wait "$RUN_PID" 2>/dev/null || rc=$?
    RUN_PID=
    expect_eq "the hook $1 killed the daemon (SIGKILL)" 137 "$rc"
}
# run_clean ROWS: a run without the hook that writes rows and stops.
run_clean() {
    start_consumer
    pgc_psql -d postgres -c "INSERT INTO public.t SELECT g, 'y' FROM generate_series($1) g" >/dev/null
    sleep 2
    stop_consumer
    expect_eq "the daemon stops cleanly" 0 "$STOP_RC"
}
uniq_lines() { awk '!seen[$0]++'; }

# ---- 1: killed after the 2nd append (the graph's config_change)
run_killed_after file:2 "1, 10"
expect_eq "the file got START and config_change before the kill" 2 "$(count "$WORK/events.jsonl")"
run_clean "11, 20"
expect_grep "the next start says the event in flight was appended" "$WORK/run.log" \
    "was appended before the last stop; it is not appended again"
expect_eq "the file has every event of both runs, in order, none twice" "$(events_of)" \
    "$(lines_of "$WORK/events.jsonl")"

# ---- 2: a torn append
run_killed_after file:1 "21, 30"
# cut the last event in half, as a crash inside the write would
python3 - "$WORK/events.jsonl" <<'PY'
import os, sys
p = sys.argv[1]
data = open(p, "rb").read()
last = data.rstrip(b"\n").rfind(b"\n") + 1
os.truncate(p, last + (len(data) - last) // 2)
PY
run_clean "31, 40"
expect_eq "the torn event was cut off and written whole: every event once" "$(events_of)" \
    "$(lines_of "$WORK/events.jsonl")"

# ---- 3: killed after a POST
before=$(count "$WORK/received.jsonl")
run_killed_after http:1 "41, 50"
expect_eq "the endpoint took the START before the kill" $((before + 1)) "$(count "$WORK/received.jsonl")"
took=$(tail -n 1 "$WORK/received.jsonl")
run_clean "51, 60"
expect_grep "the next start says the POST is sent again" "$WORK/run.log" \
    "may have reached the endpoint before the last stop; it is sent again, identical"
expect_eq "the one event sent twice is byte for byte the same body" "$took" \
    "$(sort "$WORK/received.jsonl" | uniq -d)"
expect_eq "kept by identity, the endpoint has every event of every run, in order, once" \
    "$(events_of)" "$(lines_of "$WORK/received.jsonl" | uniq_lines)"
expect_eq "the file too, none twice" "$(events_of)" "$(lines_of "$WORK/events.jsonl")"
expect_eq "the marker has nothing left" 0 "$(wc -l < "$WORK/events.jsonl.lineage-sent")"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
