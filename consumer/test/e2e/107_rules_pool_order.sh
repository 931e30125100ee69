#!/usr/bin/env bash
# 107_rules_pool_order.sh: the pipelined rules pool (transform/rules_pool.c)
# keeps the order, the bytes and exactly-once delivery while its workers
# are delayed at random, against the same rules on one thread.
#
# Two slots see the same changes: transactions that interleave rows of
# two tables (inserts, updates, deletes, a logical message) under five
# masking rules, all pure, so the pool takes them.  Pipeline `one` reads
# its slot with transform_workers 1 (no pool); pipeline `pool` reads the
# other with three participants and TRIBUTARY_TEST_RULES_POOL_DELAY set,
# so each worker sleeps 0-2 ms before each chunk it claims: chunks finish
# out of order and the pipeline thread both masks chunks itself and waits
# for a worker's.  `pool` is stopped (SIGTERM) while it delivers and
# restarted from its checkpoint.  Its file must equal `one`'s line for
# line (every change once, in the same order, masked to the same bytes),
# and its log must show that the pipeline thread did wait for workers and
# that both it and the workers masked chunks.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_consumer
pgc_start
chmod 777 "$WORK"
pgc_psql -d postgres -q >/dev/null <<'SQL'
CREATE EXTENSION tributary;
CREATE TABLE public.people (id int PRIMARY KEY, name text, email text, card text);
CREATE TABLE public.visits (id int PRIMARY KEY, person int, email text, note text);
SELECT pg_create_logical_replication_slot('tributary_e2e107one', 'tributary');
SELECT pg_create_logical_replication_slot('tributary_e2e107pool', 'tributary');
SQL

# pipeline NAME WORKERS: $WORK/NAME.yaml, writing $WORK/NAME.jsonl
pipeline() {
    write_pipeline "e2e107$1" <<EOF
transform_workers: $2
transforms:
  - {type: hash, fields: [email], key: "0123456789abcdef0123456789abcdef", context: email}
  - {type: substitute, tables: [public.people], fields: [name], kind: full_name, key: "0123456789abcdef0123456789abcdef"}
  - {type: partial, fields: [card], keep_last: 4}
  - {type: redact, fields: [note]}
  - {type: rename, tables: [public.visits], renames: {person: person_id}}
sinks:
  out: {type: file, path: "$WORK/$1.jsonl", rotate_bytes: 0}
EOF
    mv "$WORK/p.yaml" "$WORK/$1.yaml"
}
pipeline one 1
pipeline pool 3

# 120 transactions of 200 rows each, the two tables interleaved row by row,
# then updates and deletes across both
pgc_psql -d postgres -q >/dev/null <<'SQL'
DO $$
BEGIN
  FOR t IN 0..119 LOOP
    FOR g IN t * 100 .. t * 100 + 99 LOOP
      INSERT INTO public.people VALUES (g, 'Name ' || g, 'p' || g || '@mail.example', '4000-0000-0000-' || lpad(g::text, 4, '0'));
      INSERT INTO public.visits VALUES (g, g, 'p' || g || '@mail.example', 'visit ' || g);
    END LOOP;
    IF t % 10 = 9 THEN PERFORM pg_logical_emit_message(true, 'app', 'm' || t); END IF;
    COMMIT;
  END LOOP;
  UPDATE public.people SET email = 'new' || id || '@mail.example' WHERE id % 3 = 0;
  DELETE FROM public.visits WHERE id % 5 = 0;
END $$;
SQL

start_consumer "$WORK/one.yaml" "$WORK/one.log"
expect_eq "one thread: the slot is caught up" t "$(slot_caught_up tributary_e2e107one)"
stop_consumer
# 24000 inserts, 4000 updates, 2400 deletes and their tombstones, 12 messages
total=$((24000 + 4000 + 2 * 2400 + 12))
expect_eq "one thread wrote every change" "$total" "$(wc -l <"$WORK/one.jsonl")"

export TRIBUTARY_TEST_RULES_POOL_DELAY=1
start_consumer "$WORK/pool.yaml" "$WORK/pool.log"
# stop it as soon as it delivers: the file sink writes as it goes
wait_lines "$WORK/pool.jsonl" 1 60 || true
stop_consumer
expect_eq "the pool stopped cleanly by SIGTERM while delivering" 0 "$STOP_RC"
stopped_at=$(wc -l <"$WORK/pool.jsonl")
start_consumer "$WORK/pool.yaml" "$WORK/pool.log"
expect_eq "pool: the slot is caught up" t "$(slot_caught_up tributary_e2e107pool)"
stop_consumer
unset TRIBUTARY_TEST_RULES_POOL_DELAY

expect_match "the pool was stopped part way ($stopped_at of $total lines)" '^[1-9][0-9]*$' \
    "$([ "$stopped_at" -lt "$total" ] && echo "$stopped_at" || echo none)"
# the same but for the pipeline's name and the processing times
same() { sed -E 's/e2e107(one|pool)/e2e107/g; s/"ts_ms":[0-9]+,?//g' "$1"; }
expect_eq "the pool's file equals one thread's, line for line" "" \
    "$(diff <(same "$WORK/one.jsonl") <(same "$WORK/pool.jsonl") | head -4)"
expect_no_grep "no original email in the pool's file" "$WORK/pool.jsonl" '@mail\.example'
waits=$(grep -hoE 'waited [0-9]+ times' "$WORK/pool.log" | awk '{s += $2} END {print s + 0}')
expect_match "the pipeline thread waited for delayed workers ($waits times)" '^[1-9][0-9]*$' "$waits"
# the log line counts the chunks each side masked: both did, the workers
# being delayed
own=$(grep -hoE 'masked: [0-9]+ by the pipeline thread' "$WORK/pool.log" | awk '{s += $2} END {print s + 0}')
theirs=$(grep -hoE '[0-9]+ by the workers' "$WORK/pool.log" | awk '{s += $1} END {print s + 0}')
expect_match "the pipeline thread masked chunks itself ($own)" '^[1-9][0-9]*$' "$own"
expect_match "the workers masked chunks ($theirs)" '^[1-9][0-9]*$' "$theirs"
expect_no_grep "no error in the pool's log" "$WORK/pool.log" ' ERROR '
e2e_finish
