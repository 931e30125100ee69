#!/usr/bin/env bash
# 66_reload_kill9.sh: a kill -9 in the middle of a reload is harmless
# (issue 16, item 1; docs/OPERATIONS.md).
#
# A writer commits transactions of five rows; ten times the file is
# switched (a mask rule added or removed), the reload asked with SIGHUP,
# and the daemon killed -9 0 to 300 ms later (while it loads, drains or
# builds the pipeline again), then started again from the new file.  At
# the end every change of the witness slot is in the file sink exactly
# once, by event id (commit position and sequence number), and no
# transaction is half masked.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_consumer
pgc_start
pgc_psql -d postgres -c "CREATE EXTENSION tributary" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, tx int, email text)" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" >/dev/null

# write_config MASKED: $WORK/p.yaml, with the redact rule when MASKED is 1.
write_config() {
    {
        echo "pipeline: reloadkill"
        source_yaml
        cat <<EOF
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
checkpoint: {store: file, path: "$WORK/ckpt"}
http:
  listen: "127.0.0.1:0"
EOF
        [ "$1" = 1 ] && printf 'transforms:\n  - {type: redact, name: mask_email, tables: [public.orders], fields: [email], with: value, value: MASKED}\n'
        true
    } > "$WORK/p.yaml.new"
    mv "$WORK/p.yaml.new" "$WORK/p.yaml"
}

write_config 0
"$BIN" check -c "$WORK/p.yaml" >/dev/null
start_consumer "$WORK/p.yaml" "$WORK/run.log"
wait_log "$WORK/run.log" 'pipeline.*streaming\|resuming\|starting from' 20 || true

writer() {
    local t
    for t in $(seq 1 300); do
        pgc_psql -d postgres -c "INSERT INTO public.orders SELECT $t * 10 + g, $t, 'u' || g || '@example.com' FROM generate_series(1, 5) g" >/dev/null
        sleep 0.01
    done
}
writer &
WRITER_PID=$!

kills=0
for r in $(seq 1 10); do
    sleep 0.$((RANDOM % 5 + 3))
    write_config $((r % 2))
    for _ in $(seq 1 50); do sigterm_caught "$RUN_PID" && break; sleep 0.1; done
    kill -HUP "$RUN_PID" 2>/dev/null || true
    sleep "0.$(printf '%03d' $((RANDOM % 300)))"
    kill -9 "$RUN_PID" 2>/dev/null && kills=$((kills + 1))
    wait "$RUN_PID" 2>/dev/null || true
    start_consumer "$WORK/p.yaml" "$WORK/run.log"
done
wait "$WRITER_PID"
WRITER_PID=
expect_eq "10 kills in the middle of reloads" 10 "$kills"
expect_eq "the slot caught up" t "$(slot_caught_up tributary_reloadkill)"
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_eq "some reloads were under way when killed" t \
    "$([ "$(grep -c 'audit.*config reload of .* accepted' "$WORK/run.log")" -gt 0 ] && echo t || echo f)"

pgc_psql -At -c "SELECT ((d->>'commit_lsn')::pg_lsn - '0/0')::bigint || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL,
          'include-transaction', 'off')) x
    WHERE d->>'kind' = 'insert' AND d->>'table' = 'orders'" | sort > "$WORK/witness.ids"
jq -r '"\(.value.source.sequence | fromjson | .[0]):\(.key.id % 10 - 1)"' "$WORK/out.jsonl" |
    sort > "$WORK/out.ids"
expect_eq "the writer's 1500 rows were captured" 1500 "$(wc -l < "$WORK/witness.ids")"
expect_ids_once "every change once, across 10 kills during reloads"
jq -r '"\(.value.after.tx) \(if .value.after.email == "MASKED" then "m" else "c" end)"' \
    "$WORK/out.jsonl" | sort | uniq | awk '{k[$1] = k[$1] $2} END {for (t in k) print k[t]}' |
    sort | uniq -c > "$WORK/kinds"
expect_eq "no transaction half masked" "" "$(grep -E 'cm|mc' "$WORK/kinds" || true)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
