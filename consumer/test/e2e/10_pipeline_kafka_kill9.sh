#!/usr/bin/env bash
# 10_pipeline_kafka_kill9.sh: the whole `tributary run` pipeline, PostgreSQL
# to Kafka, with the consumer killed (-9) at random points while a writer
# commits transactions, and restarted each time.
#
# Kafka is librdkafka's mock cluster in a process of its own
# (tools/kafka_mock_server), so it outlives the consumer; what reached it is
# read back by offsets (tools/kafka_dump), not by a time-limited consume.
# A witness slot, created before any change, lists every change id.
#
# Checks: nothing lost (every witness id is in Kafka), every record carries
# its event id, the slot was confirmed to the end, a clean SIGTERM exits 0
# with the checkpoint at the last change.  Non-transactional Kafka is
# at-least-once: events delivered after the last checkpoint and before a
# kill are produced again; the number of such repeats is reported, and
# each repeat has the same id and key, so consumers deduplicate on the
# tributary.id header.  The slot is created before the writer starts (the
# pipeline runs with snapshot: never).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_consumer
pgc_start "max_prepared_transactions = 5"
pgc_psql -d postgres -c "CREATE EXTENSION tributary" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, customer text, amount numeric(30,10), doc jsonb)" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_e2e', 'tributary')" >/dev/null

mock_start 1

write_pipeline e2e <<EOF
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: e2e
EOF

# The writer: 60 transactions of 1..40 rows, inserts, updates and deletes.
(
    for t in $(seq 1 60); do
        n=$(( (t * 7) % 40 + 1 ))
        pgc_psql -d postgres -c "BEGIN;
            INSERT INTO public.orders SELECT g, 'c' || g, 123456789012345678.0123456789 + g, jsonb_build_object('t', $t)
              FROM generate_series($t * 1000, $t * 1000 + $n - 1) g;
            UPDATE public.orders SET amount = amount + 1 WHERE id = $t * 1000;
            DELETE FROM public.orders WHERE id = $t * 1000 + 1 AND $n > 1;
            COMMIT;" >/dev/null
        sleep 0.05
    done
) &
WRITER_PID=$!

start_consumer
kill_while_writing
expect_eq "the slot was confirmed to the end after $KILLS kill(s)" t "$(slot_caught_up tributary_e2e)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

pgc_psql -d postgres -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
    WHERE d->>'kind' IN ('insert','update','delete') AND d->>'table' = 'orders'" | sort > "$WORK/witness"
"$TOOLS/kafka_dump" "$BOOT" e2e.public.orders > "$WORK/dump"
# data records only (tombstones have no value)
awk -F'\t' '$6 != "-"' "$WORK/dump" > "$WORK/data"
cut -f1 "$WORK/data" | sort > "$WORK/ids"
sort -u "$WORK/ids" > "$WORK/ids.uniq"

expect_eq "the witness saw the workload" t "$([ "$(wc -l < "$WORK/witness")" -gt 500 ] && echo t || echo f)"
expect_eq "every record carries its event id" 0 "$(grep -c '^-' "$WORK/ids" || true)"
expect_eq "nothing lost: every change is in Kafka" 0 "$(comm -23 "$WORK/witness" "$WORK/ids.uniq" | wc -l)"
expect_eq "nothing extra: every Kafka id is a change" 0 "$(comm -13 "$WORK/witness" "$WORK/ids.uniq" | wc -l)"
# A repeated id repeats the same key (the envelope's ts_ms, processing time,
# may differ, as with Debezium).
expect_eq "a repeated id has the same key" 0 \
    "$(cut -f1,5 "$WORK/data" | sort -u | cut -f1 | uniq -d | wc -l)"
dups=$(( $(wc -l < "$WORK/ids") - $(wc -l < "$WORK/ids.uniq") ))
echo "# $(wc -l < "$WORK/witness") changes, $KILLS kills, $dups repeated deliveries (at-least-once Kafka)"

ck=$(pgc_psql -d postgres -Atc "SELECT commit_lsn || ':' || seq FROM tributary.source_checkpoints WHERE pipeline = 'e2e'")
last=$(tail -1 "$WORK/witness")
lastc=${last%%:*}
echo "# checkpoint $ck, last change $last"
expect_eq "the final checkpoint covers the last change" t \
    "$(pgc_psql -d postgres -Atc "SELECT '${ck%%:*}'::pg_lsn >= '$lastc'::pg_lsn")"
if grep -q "ERROR" "$WORK/run.log"; then grep "ERROR" "$WORK/run.log" | head -5 || true; fi
# A sanitizer build (make check-asan) reports into the consumer's log.
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
