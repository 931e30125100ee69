#!/usr/bin/env bash
# 93_refused_event_restart.sh: an event the pipeline could not hand on is
# read again after a restart, with a sink that keeps no position of its
# own (Kafka, at-least-once: the pipeline's checkpoint speaks for it).
#
# Two ways an event stops the stream:
#   A. a transform refuses it (a quality rule with action: fail), alone in
#      its transaction and then in the middle of a larger one;
#   B. the sink refuses it (a record over the producer's message.max.bytes).
# Each time the daemon exits 1 with the earlier events acknowledged by
# Kafka.  The checkpoint must stay before the refused event: after the
# cause is removed (the rule relaxed, the limit raised) a restart publishes
# it and the rest, and every change of the witness slot is in Kafka.  On
# the code before the fix, the checkpoint was saved at the refused event
# (every sink had acknowledged everything written, so the pipeline took the
# last event it had handled, the refused one, as durable) and a restart
# skipped it: lost.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
catalog_init "CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric, note text)" \
    -- witness tributary_r93
mock_start 1

# pipeline RULE_ACTION MAX_BYTES: the pipeline file.
pipeline() {
    write_pipeline r93 <<YAML
transforms:
  - {type: quality, name: has_amount, tables: [public.orders], fields: [amount], check: not_null, action: $1}
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: r93
    properties:
      message.max.bytes: "$2"
YAML
}
# published ID: how many records of row ID are in Kafka.
published() {
    "$TOOLS/kafka_dump" "$BOOT" r93.public.orders > "$WORK/dump"
    grep -c "\"id\":$1," "$WORK/dump" || true
}
# wait_published ID: up to 30 s for row ID in Kafka.
wait_published() {
    for _ in $(seq 1 300); do [ "$(published "$1")" -ge 1 ] && return 0; sleep 0.1; done
    return 1
}
ins() { pgc_psql -d postgres -q -c "$1"; }

# ---- A1: refused alone in its transaction
pipeline fail 1000000
start_consumer
ins "INSERT INTO public.orders VALUES (1, 10, 'ok')"
expect_eq "a good row is published" 0 "$(wait_published 1; echo $?)"
sleep 1        # its acknowledgement in, the checkpoint saved
ins "INSERT INTO public.orders VALUES (2, NULL, 'refused alone')"
wait_exit 60
expect_eq "A1: the refused event stops the daemon (exit 1)" 1 "$EXIT_RC"
expect_grep "A1: the log names the rule" "$WORK/run.log" "has_amount"
pipeline tag 1000000
start_consumer
ins "INSERT INTO public.orders VALUES (3, 30, 'after')"
expect_eq "A1: after the fix the refused row is published" 0 "$(wait_published 2; echo $?)"
expect_eq "A1: and the next one" 0 "$(wait_published 3; echo $?)"
stop_consumer

# ---- A2: refused in the middle of a transaction
pipeline fail 1000000
start_consumer
ins "INSERT INTO public.orders VALUES (4, 40, 'ok')"
expect_eq "A2: a good row is published" 0 "$(wait_published 4; echo $?)"
ins "BEGIN; INSERT INTO public.orders VALUES (5, 50, 'before');
     INSERT INTO public.orders VALUES (6, NULL, 'refused inside');
     INSERT INTO public.orders VALUES (7, 70, 'after'); COMMIT"
wait_exit 60
expect_eq "A2: the refused event stops the daemon (exit 1)" 1 "$EXIT_RC"
pipeline tag 1000000
start_consumer
expect_eq "A2: after the fix the refused row is published" 0 "$(wait_published 6; echo $?)"
expect_eq "A2: and the rest of its transaction" 0 "$(wait_published 7; echo $?)"
stop_consumer

# ---- B: the sink refuses a record too large for the producer
pipeline tag 2000
start_consumer
ins "INSERT INTO public.orders VALUES (8, 80, 'ok')"
expect_eq "B: a good row is published" 0 "$(wait_published 8; echo $?)"
sleep 1
ins "INSERT INTO public.orders VALUES (9, 90, repeat('x', 5000))"
wait_exit 60
expect_eq "B: the record the sink refuses stops the daemon (exit 1)" 1 "$EXIT_RC"
expect_eq "B: it is not in Kafka" 0 "$(published 9)"
pipeline tag 1000000
start_consumer
expect_eq "B: after the limit is raised the row is published" 0 "$(wait_published 9; echo $?)"
ins "INSERT INTO public.orders VALUES (10, 100, 'last')"
expect_eq "B: and the next one" 0 "$(wait_published 10; echo $?)"
expect_eq "the slot was confirmed to the end" t "$(slot_caught_up tributary_r93)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

# ---- nothing lost over the three stops
pgc_psql -d postgres -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
    WHERE d->>'kind' = 'insert' AND d->>'table' = 'orders'" | sort > "$WORK/witness"
"$TOOLS/kafka_dump" "$BOOT" r93.public.orders | awk -F'\t' '$6 != "-"' | cut -f1 | sort -u > "$WORK/ids"
expect_eq "the witness saw the ten inserts" 10 "$(wc -l < "$WORK/witness")"
expect_eq "nothing lost: every change is in Kafka" "" "$(comm -23 "$WORK/witness" "$WORK/ids" | tr '\n' ' ')"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
