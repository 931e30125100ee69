#!/usr/bin/env bash
# 26_written_paths_refused.sh: a configuration in which two writers share a
# file is refused before anything is written (issue 9 #5).
#
# The scenario that lost data: `log: {file: X}` where X is also a file
# sink's path.  Log lines shifted the sink's data, and after a kill -9 the
# sink cut its file at the sidecar's offset, inside an event.  Here the
# log reaches the sink's file through a symbolic link to its directory.
# `check --offline`, `check` and `run` must all exit 2 with a message
# naming both keys with file:line:column; `run` must not create the file,
# its sidecar, or the log, nor touch the slot.  Then the same pipeline with
# the log beside the sink runs through a kill -9: the file sink holds every
# change once, as JSON lines only, and the log holds the log lines.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
catalog_init "CREATE TABLE public.orders (id int PRIMARY KEY, note text)" -- tributary_paths
mkdir "$WORK/out"
ln -s out "$WORK/current"

write_config() { # LOG_FILE
    cat > "$WORK/p.yaml" <<EOF
pipeline: paths
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: never
    heartbeat_interval_ms: 500
sinks:
  archive:
    type: file
    path: "$WORK/out/events.jsonl"
checkpoint:
  store: catalog
http:
  enabled: false
log:
  file: "$1"
EOF
}

# --- the file is refused -------------------------------------------------
write_config "$WORK/current/events.jsonl"
confirmed_before=$(slot_confirmed tributary_paths)
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (1, 'before')" >/dev/null
expected="p.yaml:17:9: log.file: \"$WORK/current/events.jsonl\" is the same file as sinks.archive.path \"$WORK/out/events.jsonl\" ($WORK/p.yaml:11:11)"

rc=0; "$BIN" check --offline -c "$WORK/p.yaml" > "$WORK/offline.out" 2>&1 || rc=$?
expect_eq "check --offline exits 2" 2 "$rc"
expect_eq "and names both keys with file:line:column" t \
    "$(grep -qF "$expected" "$WORK/offline.out" && echo t || echo f)"
rc=0; "$BIN" check -c "$WORK/p.yaml" > "$WORK/online.out" 2>&1 || rc=$?
expect_eq "check (connected) exits 2" 2 "$rc"
expect_eq "with the same message" t "$(grep -qF "$expected" "$WORK/online.out" && echo t || echo f)"

rc=0; timeout 20 "$BIN" run -c "$WORK/p.yaml" > "$WORK/run.out" 2>&1 || rc=$?
expect_eq "run refuses to start: exit 2" 2 "$rc"
expect_eq "run says why" t "$(grep -qF "$expected" "$WORK/run.out" && echo t || echo f)"
expect_eq "nothing was written in the sink's directory" "" "$(ls -A "$WORK/out")"
expect_eq "the slot was not touched" "$confirmed_before" "$(slot_confirmed tributary_paths)"

# --- separate files: a kill -9 loses nothing ----------------------------
write_config "$WORK/out/tributary.log"
"$BIN" check --offline -c "$WORK/p.yaml" >/dev/null
start_consumer "$WORK/p.yaml" "$WORK/run.out"
pgc_psql -d postgres -c "INSERT INTO public.orders SELECT g, repeat('x', g % 50) FROM generate_series(2, 200) g" >/dev/null
wait_lines "$WORK/out/events.jsonl" 200 30 2>/dev/null || true
kill_consumer
pgc_psql -d postgres -c "INSERT INTO public.orders SELECT g, 'after' FROM generate_series(201, 300) g" >/dev/null
start_consumer "$WORK/p.yaml" "$WORK/run.out"
wait_lines "$WORK/out/events.jsonl" 300 30 2>/dev/null || true
expect_eq "the slot was confirmed to the end" t "$(slot_caught_up tributary_paths)"
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_eq "the file sink holds every change" 300 "$(wc -l < "$WORK/out/events.jsonl")"
expect_eq "only JSON lines, each change once" 300 \
    "$(grep -c '^{"topic":' "$WORK/out/events.jsonl" || true)"
expect_eq "distinct changes" 300 \
    "$(grep -o '"after":{"id":[0-9]*' "$WORK/out/events.jsonl" | sort -u | wc -l)"
expect_eq "the log went to its own file" t \
    "$(grep -q 'pipeline paths is active' "$WORK/out/tributary.log" && echo t || echo f)"
e2e_finish
