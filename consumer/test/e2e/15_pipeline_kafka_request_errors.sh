#!/usr/bin/env bash
# 15_pipeline_kafka_request_errors.sh: the whole `tributary run` pipeline,
# PostgreSQL to Kafka, with request errors injected into the mock cluster
# through tools/kafka_mock_server's `broker-errors` and `errors` commands
# (rd_kafka_mock_broker_push_request_error_rtts, _push_request_errors),
# under a continuous write load.
#
# Part 1, retriable errors (NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT,
# NOT_ENOUGH_REPLICAS, LEADER_NOT_AVAILABLE on Produce; LEADER_NOT_AVAILABLE
# on Metadata), in bursts: librdkafka retries them; the consumer never
# stops, and Kafka ends with every change exactly once (by event id).
#
# Part 2, a non-retriable error (TOPIC_AUTHORIZATION_FAILED on one Produce
# request).  Expected behaviour: the records of that request are lost to
# Kafka, so the pipeline stops with exit 1, naming the error, and confirms
# nothing that is not in Kafka: the slot's confirmed_flush_lsn and the
# checkpoint stay before the first change missing from Kafka.  A restart
# (the error gone) then delivers the rest: nothing is lost.  The sink is
# at-least-once (not transactional), so the restart repeats the events
# after the checkpoint that had reached Kafka; the check is that every
# repeated id lies after the checkpoint saved at the stop, and nothing
# before it is repeated.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
catalog_init "CREATE DATABASE scratch" \
    "CREATE TABLE public.orders (id int PRIMARY KEY, customer text, amount numeric(30,10))" \
    -- witness tributary_e2e
# The analysis runs in another database, which the slots do not decode.
pgc_psql -d scratch -c "CREATE TABLE w (id text); CREATE TABLE k (id text)" >/dev/null

mock_start 1
write_pipeline e2e <<YAML
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: e2e
    properties:
      retry.backoff.ms: "20"
      # The mock checks sequence numbers only for transactional producers,
      # so with several requests in flight it appends the batches after a
      # failed one, and librdkafka then takes the failed batch as persisted
      # ("implicitly acked", correct against a real broker, which would
      # have rejected the later batches as out of order): records vanish
      # that a real broker keeps.  One request in flight avoids that
      # artefact of the mock; the pipeline under test is the same.
      max.in.flight.requests.per.connection: "1"
YAML

# write FIRST LAST: transactions FIRST..LAST of 1..20 rows each.
write() {
    local t n
    for t in $(seq "$1" "$2"); do
        n=$(( (t * 7) % 20 + 1 ))
        pgc_psql -d postgres -c "BEGIN;
            INSERT INTO public.orders SELECT g, 'c' || g, 1234567890.0123456789 + g
              FROM generate_series($t * 100, $t * 100 + $n - 1) g;
            UPDATE public.orders SET amount = amount + 1 WHERE id = $t * 100;
            DELETE FROM public.orders WHERE id = $t * 100 + 1 AND $n > 1;
            COMMIT;" >/dev/null
        sleep 0.05
    done
}

# load_ids: the witness's ids into scratch.w, Kafka's into scratch.k.
load_ids() {
    pgc_psql -d postgres -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq')
        FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
        WHERE d->>'kind' IN ('insert','update','delete') AND d->>'table' = 'orders'" > "$WORK/witness"
    "$TOOLS/kafka_dump" "$BOOT" e2e.public.orders | awk -F'\t' '$6 != "-" { print $1 }' > "$WORK/ids"
    pgc_psql -d scratch -c "TRUNCATE w, k" -c "\\copy w FROM '$WORK/witness'" \
        -c "\\copy k FROM '$WORK/ids'" >/dev/null
}
# sql QUERY: run against scratch (with the helper views below).
sql() { pgc_psql -d scratch -Atc "$1"; }
pgc_psql -d scratch -c "CREATE FUNCTION lsn(text) RETURNS pg_lsn LANGUAGE sql AS \$\$ SELECT split_part(\$1, ':', 1)::pg_lsn \$\$;
    CREATE FUNCTION sq(text) RETURNS bigint LANGUAGE sql AS \$\$ SELECT split_part(\$1, ':', 2)::bigint \$\$" >/dev/null

# ---- part 1: retriable errors ------------------------------------------
# Produce errors go on broker 1's own stack, whose depth the mock reports
# (`pending`), so the test knows every one was served to a request.
start_consumer
write 1 80 &
WRITER_PID=$!
bursts=0 injected=0
while kill -0 "$WRITER_PID" 2>/dev/null; do
    sleep 0.3
    case $((bursts % 3)) in
        0) mock_ctl broker-errors 1 Produce NOT_LEADER_FOR_PARTITION REQUEST_TIMED_OUT:50 \
               NOT_ENOUGH_REPLICAS; injected=$((injected + 3)) ;;
        1) mock_ctl broker-errors 1 Produce LEADER_NOT_AVAILABLE REQUEST_TIMED_OUT \
               REQUEST_TIMED_OUT:200 NOT_LEADER_FOR_PARTITION; injected=$((injected + 4)) ;;
        2) mock_ctl errors Metadata LEADER_NOT_AVAILABLE ;;
    esac
    bursts=$((bursts + 1))
done
wait "$WRITER_PID" || true
WRITER_PID=
write 81 90      # serves what is left on the stack
mock_ctl clear Metadata
expect_eq "part 1: the slot was confirmed to the end after $injected Produce errors" t "$(slot_caught_up tributary_e2e)"
expect_eq "part 1: every injected error was served to a Produce request" 0 "$(mock_query pending 1 Produce)"
expect_eq "part 1: the consumer never stopped" yes "$(kill -0 "$RUN_PID" 2>/dev/null && echo yes || echo no)"
load_ids
expect_eq "part 1: the witness saw the workload" t "$([ "$(sql "SELECT count(*) FROM w")" -gt 300 ] && echo t || echo f)"
expect_eq "part 1: nothing lost" 0 "$(sql "SELECT count(*) FROM (SELECT id FROM w EXCEPT SELECT id FROM k) x")"
expect_eq "part 1: nothing extra" 0 "$(sql "SELECT count(*) FROM (SELECT id FROM k EXCEPT SELECT id FROM w) x")"
expect_eq "part 1: nothing duplicated" 0 "$(sql "SELECT count(*) FROM (SELECT id FROM k GROUP BY id HAVING count(*) > 1) x")"

# ---- part 2: a non-retriable error --------------------------------------
# (on broker 1's stack too: the mock never serves cluster-wide errors for
# an API once a broker has a stack of its own for it)
mock_ctl broker-errors 1 Produce TOPIC_AUTHORIZATION_FAILED
write 91 110
for _ in $(seq 1 300); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$RUN_PID" 2>/dev/null && echo "# still running 30 s after the error: killed"
rc=0; wait "$RUN_PID" || rc=$?
RUN_PID=
expect_eq "part 2: the pipeline stopped with exit 1" 1 "$rc"
expect_eq "part 2: naming the error" t "$(grep 'failed:' "$WORK/run.log" | grep -i 'authoriz' >/dev/null && echo t || echo f)"
load_ids
missing=$(sql "SELECT count(*) FROM (SELECT id FROM w EXCEPT SELECT id FROM k) x")
first=$(sql "SELECT id FROM (SELECT id FROM w EXCEPT SELECT id FROM k) x ORDER BY lsn(id), sq(id) LIMIT 1")
first=${first:-FFFFFFFF/FFFFFFFF:0}     # none missing: the check above fails
conf=$(slot_confirmed tributary_e2e)
read -r ck_lsn ck_seq < <(pgc_psql -d postgres -Atc "SELECT commit_lsn, seq FROM tributary.source_checkpoints WHERE pipeline = 'e2e'" | tr '|' ' ')
echo "# at the stop: $missing change(s) missing from Kafka, the first $first; slot $conf, checkpoint $ck_lsn:$ck_seq"
expect_eq "part 2: the failed request lost changes (the test is meaningful)" t "$([ "$missing" -gt 0 ] && echo t || echo f)"
expect_eq "part 2: the slot was not confirmed past a change missing from Kafka" t \
    "$(sql "SELECT '$conf'::pg_lsn <= lsn('$first')")"
expect_eq "part 2: nor the checkpoint" t \
    "$(sql "SELECT ('$ck_lsn'::pg_lsn, $ck_seq::bigint) < (lsn('$first'), sq('$first'))")"
expect_eq "part 2: everything up to the checkpoint is in Kafka" 0 \
    "$(sql "SELECT count(*) FROM (SELECT id FROM w WHERE (lsn(id), sq(id)) <= ('$ck_lsn'::pg_lsn, $ck_seq::bigint) EXCEPT SELECT id FROM k) x")"

start_consumer
write 111 120
expect_eq "part 2: after a restart the slot was confirmed to the end" t "$(slot_caught_up tributary_e2e)"
stop_consumer
expect_eq "part 2: SIGTERM drains and exits 0" 0 "$STOP_RC"
load_ids
expect_eq "part 2: nothing lost" 0 "$(sql "SELECT count(*) FROM (SELECT id FROM w EXCEPT SELECT id FROM k) x")"
expect_eq "part 2: nothing extra" 0 "$(sql "SELECT count(*) FROM (SELECT id FROM k EXCEPT SELECT id FROM w) x")"
expect_eq "part 2: nothing up to the checkpoint at the stop was repeated" 0 \
    "$(sql "SELECT count(*) FROM (SELECT id FROM k GROUP BY id HAVING count(*) > 1) x
            WHERE (lsn(id), sq(id)) <= ('$ck_lsn'::pg_lsn, $ck_seq::bigint)")"
echo "# $(sql "SELECT count(*) FROM w") changes; $(sql "SELECT count(*) FROM (SELECT id FROM k GROUP BY id HAVING count(*) > 1) x") repeated after the restart (at-least-once, after the checkpoint)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
