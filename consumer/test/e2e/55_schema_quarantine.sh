#!/usr/bin/env bash
# 55_schema_quarantine.sh: `schemas: on_incompatible: quarantine` under a
# steady write load, with the embedded Kafka cluster (transactional, the
# schema headers on) as the ordinary sink and a file as the quarantine
# sink:
#
#   1. DROP COLUMN (refused by the default level, BACKWARD) registers
#      version 2 as quarantined: its events go to the quarantine file
#      only, none to Kafka; the catalog lists the version as waiting; the
#      log says how to accept it, /metrics counts the events;
#   2. kill -9 and a restart while quarantined: still quarantined (the
#      catalog is durable), the events keep going to the file;
#   3. `tributary schema accept SUBJECT 2`: a running daemon sends
#      version 2's events to Kafka from its next transaction; accepting
#      again says so and exits 0; a version that is not quarantined is
#      refused (exit 1, naming it);
#   then: every change went exactly once to one side (nothing lost,
#   nothing in both, nothing twice), and after the acceptance no event
#   went to quarantine.  Last, `tributary check` under on_incompatible:
#   fail shows the table's shape compatible, then, after ALTER COLUMN id
#   TYPE text, every violation against version 2 (what `run` stops on).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=schema_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/schema_lib.sh"
e2e_init

orders_start "note text" tributary_quar

{
    echo "pipeline: quar"
    source_yaml
    cat <<EOF
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: quar
    transactional: true
    schema_headers: true
  held:
    type: file
    path: "$WORK/quarantine.jsonl"
schemas:
  enabled: true
  on_incompatible: quarantine
  quarantine: held
checkpoint:
  store: catalog
http:
  listen: "127.0.0.1:0"
EOF
} >"$WORK/p.yaml"
"$BIN" check -c "$WORK/p.yaml" >/dev/null

# dump: Kafka's records of the table: commit LSN (decimal), version.
dump() {
    "$TOOLS/kafka_dump" "$BOOT" quar.public.orders tributary.schema_id tributary.schema_version \
        | awk -F'\t' '$6 != "-"' > "$WORK/dump.raw"
    paste <(grep -oE '"sequence":"\[\\"[0-9]+' "$WORK/dump.raw" | grep -oE '[0-9]+$') \
        <(cut -f8 "$WORK/dump.raw") > "$WORK/dump"
}
# held_lsns: the commit LSNs (decimal) in the quarantine file.
held_lsns() {
    grep '"table":"orders"' "$WORK/quarantine.jsonl" 2>/dev/null \
        | grep -oE '"sequence":"\[\\"[0-9]+' | grep -oE '[0-9]+$' || true
}
held_count() { held_lsns | wc -l; }

# ---- 1: the refused shape is quarantined
writer &
WRITER_PID=$!
start_consumer
expect_eq "version 1 is registered" 0 "$(wait_version 1 60; echo $?)"
sleep 1
pgc_psql -d postgres -c "ALTER TABLE public.orders DROP COLUMN note" >/dev/null
expect_eq "the refused DROP COLUMN is registered as version 2" 0 "$(wait_version 2; echo $?)"
sleep 2
expect_eq "the catalog lists version 2 as waiting" "2|1" \
    "$(q postgres "SELECT version || '|' || (accepted_at IS NULL)::int FROM tributary.schema_quarantine WHERE subject = '$SUBJECT'")"
expect_grep "the log says how to accept it" "$WORK/run.log" \
    "version 2 is quarantined: its events go to sink held until \`tributary schema accept $SUBJECT 2\`"
expect_eq "the daemon keeps running" t "$(kill -0 "$RUN_PID" 2>/dev/null && echo t || echo f)"
n1=$(held_count)
expect_eq "version 2's events reach the quarantine file" t "$([ "$n1" -gt 5 ] && echo t || echo f)"
port=$(http_port "$WORK/run.log")
curl -s "http://127.0.0.1:$port/metrics" > "$WORK/metrics" || true
expect_match "/metrics counts the quarantined events" \
    "tributary_schema_quarantined_events_total\{subject=\"$SUBJECT\"\} [1-9]" "$(cat "$WORK/metrics")"

# ---- 2: kill -9 while quarantined
kill_consumer
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
sleep 2
expect_eq "after kill -9 the version is still quarantined" t \
    "$([ "$(held_count)" -gt "$n1" ] && echo t || echo f)"
dump
expect_eq "no record of version 2 is in Kafka" 0 "$(awk -F'\t' '$2 != 1' "$WORK/dump" | wc -l)"

# ---- 3: accept
rc=0
"$BIN" schema accept "$SUBJECT" 3 -c "$WORK/p.yaml" > "$WORK/accept3.out" 2>&1 || rc=$?
expect_eq "accepting a version that is not quarantined fails (exit 1)" 1 "$rc"
expect_grep "and names it" "$WORK/accept3.out" "version 3 of subject \"$SUBJECT\" is not quarantined"
"$BIN" schema accept "$SUBJECT" 2 -c "$WORK/p.yaml" > "$WORK/accept.out"
expect_grep "tributary schema accept accepts version 2" "$WORK/accept.out" "subject $SUBJECT: version 2 accepted"
"$BIN" schema accept "$SUBJECT" 2 -c "$WORK/p.yaml" > "$WORK/accept2.out"
expect_grep "accepting again says so" "$WORK/accept2.out" "version 2 was accepted already"
for _ in $(seq 1 100); do grep -q "version 2 was accepted" "$WORK/run2.log" && break; sleep 0.1; done
expect_grep "the running daemon sees the acceptance" "$WORK/run2.log" \
    "subject $SUBJECT: version 2 was accepted; its events go to the sinks again"
sleep 2
touch "$WORK/stop"
wait "$WRITER_PID" || true
WRITER_PID=
expect_eq "the slot was confirmed to the end" t "$(slot_caught_up tributary_quar)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

dump
expect_eq "version 2's events reach Kafka after the acceptance" t \
    "$([ "$(awk -F'\t' '$2 == 2' "$WORK/dump" | wc -l)" -gt 5 ] && echo t || echo f)"
first_v2=$(awk -F'\t' '$2 == 2 { print $1 }' "$WORK/dump" | sort -n | sed -n 1p)
last_held=$(held_lsns | sort -n | tail -1)
expect_eq "every held change comes before the first one in Kafka as version 2" t \
    "$([ "$last_held" -lt "$first_v2" ] && echo t || echo f)"
pgc_psql -d postgres -At -c "SELECT ((d->>'commit_lsn')::pg_lsn - '0/0'::pg_lsn)::bigint
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
    WHERE d->>'kind' IN ('insert','update','delete') AND d->>'table' = 'orders'" | sort > "$WORK/witness"
cut -f1 "$WORK/dump" | sort -u > "$WORK/k.lsns"
held_lsns | sort > "$WORK/h.lsns"
expect_eq "no change is held twice" "" "$(uniq -d "$WORK/h.lsns" | head -3 | tr '\n' ' ')"
sort -m "$WORK/k.lsns" "$WORK/h.lsns" > "$WORK/both"
expect_eq "no change went to both sides" "" "$(uniq -d "$WORK/both" | head -3 | tr '\n' ' ')"
expect_eq "nothing lost: every change is in Kafka or held" "" \
    "$(sort -u "$WORK/both" | comm -23 "$WORK/witness" - | head -3 | tr '\n' ' ')"
expect_eq "nothing extra" "" "$(sort -u "$WORK/both" | comm -13 "$WORK/witness" - | head -3 | tr '\n' ' ')"
echo "# $(wc -l < "$WORK/witness") changes, $(wc -l < "$WORK/h.lsns") held"

# ---- tributary check shows the diff a pipeline under fail would stop on
sed -e 's/on_incompatible: quarantine/on_incompatible: fail/' -e '/quarantine: held/d' \
    "$WORK/p.yaml" > "$WORK/fail.yaml"
"$BIN" check -c "$WORK/fail.yaml" > "$WORK/check1.out" 2>&1 || true
expect_grep "check: the current shape is compatible" "$WORK/check1.out" \
    "subject $SUBJECT: the table's current shape is compatible"
pgc_psql -d postgres -c "ALTER TABLE public.orders ALTER COLUMN id TYPE text" >/dev/null
"$BIN" check -c "$WORK/fail.yaml" > "$WORK/check2.out" 2>&1 || true
expect_grep "check: an incompatible shape, and that run stops on it" "$WORK/check2.out" \
    "subject $SUBJECT: the table's current shape is incompatible \([0-9]+ violation\(s\)\); under on_incompatible: fail"
expect_grep "check: the violation, with the version and the path" "$WORK/check2.out" \
    "against version 2: [A-Z_]+ at #/properties/id: "
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
expect_no_sanitizer "no sanitizer report after kill -9" "$WORK/run2.log"
e2e_finish
