#!/usr/bin/env bash
# 14_pipeline_kafka_broker_down.sh: the whole `tributary run` pipeline,
# PostgreSQL to Kafka, while the Kafka cluster goes down for several seconds
# and comes back, under a continuous write load.
#
# Kafka is librdkafka's mock cluster in a process of its own
# (tools/kafka_mock_server), taken down and up through its control port
# (`down all`, `up all`).  What reached it is read back by offsets
# (tools/kafka_dump).  A witness slot, created before any change, lists
# every change id.
#
# Checks:
#   - the consumer rides out the outage: one process from start to
#     SIGTERM, no restart (so at-least-once repeats cannot hide anything);
#   - nothing lost: every witness id is in Kafka;
#   - nothing duplicated: no event id (tributary.id header) twice -- the
#     idempotent producer keeps its own retries invisible;
#   - while the cluster is down, neither the slot (confirmed_flush_lsn) nor
#     the checkpoint moves past the first change committed after the
#     cluster went down: nothing is confirmed that Kafka has not
#     acknowledged.
# DOWN_SECONDS (default 12, more than the pipeline's 10 s flush timeout)
# sets the length of the outage.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
DOWN_SECONDS=${DOWN_SECONDS:-12}

build_consumer
pgc_start
pgc_psql -d postgres -c "CREATE EXTENSION tributary" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, customer text, amount numeric(30,10))" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_e2e', 'tributary')" >/dev/null

mock_start 1
write_pipeline e2e <<YAML
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: e2e
YAML

# The writer: transactions of 1..20 rows (inserts, an update, a delete)
# until $WORK/stop exists.
(
    t=0
    while [ ! -e "$WORK/stop" ] && [ $t -lt 3000 ]; do
        t=$((t + 1)); n=$(( (t * 7) % 20 + 1 ))
        pgc_psql -d postgres -c "BEGIN;
            INSERT INTO public.orders SELECT g, 'c' || g, 1234567890.0123456789 + g
              FROM generate_series($t * 100, $t * 100 + $n - 1) g;
            UPDATE public.orders SET amount = amount + 1 WHERE id = $t * 100;
            DELETE FROM public.orders WHERE id = $t * 100 + 1 AND $n > 1;
            COMMIT;" >/dev/null
        sleep 0.05
    done
) &
WRITER_PID=$!

start_consumer
sleep 2
mock_ctl down all
down_lsn=$(pgc_psql -d postgres -Atc "SELECT pg_current_wal_lsn()")
# While down: the highest slot confirmation and checkpoint seen.
max_conf=0/0 max_ck=0/0
end=$(( $(date +%s) + DOWN_SECONDS ))
while [ "$(date +%s)" -lt "$end" ]; do
    c=$(slot_confirmed tributary_e2e)
    k=$(pgc_psql -d postgres -Atc "SELECT coalesce(max(commit_lsn), '0/0') FROM tributary.source_checkpoints WHERE pipeline = 'e2e'")
    max_conf=$(pgc_psql -d postgres -Atc "SELECT greatest('$max_conf'::pg_lsn, '$c'::pg_lsn)")
    max_ck=$(pgc_psql -d postgres -Atc "SELECT greatest('$max_ck'::pg_lsn, '$k'::pg_lsn)")
    sleep 0.3
done
alive_down=$(kill -0 "$RUN_PID" 2>/dev/null && echo yes || echo no)
mock_ctl up all
sleep 3
touch "$WORK/stop"
wait "$WRITER_PID" || true
WRITER_PID=
expect_eq "the slot was confirmed to the end after the outage" t "$(slot_caught_up tributary_e2e)"
expect_eq "the consumer survived a ${DOWN_SECONDS} s outage" yes "$alive_down"
expect_eq "and is still the same process" yes "$(kill -0 "$RUN_PID" 2>/dev/null && echo yes || echo no)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
expect_eq "it started once" 1 "$(grep -c 'starting pipeline' "$WORK/run.log")"

pgc_psql -d postgres -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
    WHERE d->>'kind' IN ('insert','update','delete') AND d->>'table' = 'orders'" | sort > "$WORK/witness"
"$TOOLS/kafka_dump" "$BOOT" e2e.public.orders > "$WORK/dump"
awk -F'\t' '$6 != "-"' "$WORK/dump" > "$WORK/data"     # tombstones have no value
cut -f1 "$WORK/data" | sort > "$WORK/ids"
sort -u "$WORK/ids" > "$WORK/ids.uniq"

# The first change committed after the cluster went down.
first_after=$(pgc_psql -d postgres -Atc "SELECT min(c) FROM (SELECT split_part(l, ':', 1)::pg_lsn AS c
    FROM unnest(string_to_array('$(tr '\n' ' ' < "$WORK/witness")', ' ')) l WHERE l <> '') x
    WHERE c > '$down_lsn'")
during=$(pgc_psql -d postgres -Atc "SELECT count(DISTINCT split_part(l, ':', 1)) FROM unnest(string_to_array('$(tr '\n' ' ' < "$WORK/witness")', ' ')) l
    WHERE l <> '' AND split_part(l, ':', 1)::pg_lsn > '$down_lsn'")
echo "# down at $down_lsn; first change after: $first_after; while down: slot <= $max_conf, checkpoint <= $max_ck"
expect_eq "transactions were committed during and after the outage" t "$([ "$during" -gt 20 ] && echo t || echo f)"
expect_eq "while down, the slot was not confirmed past what Kafka acknowledged" t \
    "$(pgc_psql -d postgres -Atc "SELECT '$max_conf'::pg_lsn <= '$first_after'::pg_lsn")"
expect_eq "while down, the checkpoint did not pass what Kafka acknowledged" t \
    "$(pgc_psql -d postgres -Atc "SELECT '$max_ck'::pg_lsn < '$first_after'::pg_lsn")"

expect_eq "the witness saw the workload" t "$([ "$(wc -l < "$WORK/witness")" -gt 500 ] && echo t || echo f)"
expect_eq "every record carries its event id" 0 "$(grep -c '^-' "$WORK/ids" || true)"
expect_eq "nothing lost: every change is in Kafka" 0 "$(comm -23 "$WORK/witness" "$WORK/ids.uniq" | wc -l)"
expect_eq "nothing extra: every Kafka id is a change" 0 "$(comm -13 "$WORK/witness" "$WORK/ids.uniq" | wc -l)"
expect_eq "nothing duplicated: no event id twice" "" "$(uniq -d "$WORK/ids" | head -3 | tr '\n' ' ')"
echo "# $(wc -l < "$WORK/witness") changes, $(wc -l < "$WORK/ids") records, $during transactions after the outage began"
if grep -q "ERROR" "$WORK/run.log"; then grep "ERROR" "$WORK/run.log" | head -5 || true; fi
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
