#!/usr/bin/env bash
# 30_pipeline_two_phase_kill9.sh: `tributary run` with the plugin option
# two-phase, into a Postgres sink, a JSON Lines file sink and Kafka (the
# mock cluster, transactional), with the consumer killed (-9) between
# PREPARE TRANSACTION and COMMIT PREPARED / ROLLBACK PREPARED.
#
# The sinks must never show a prepared transaction before its COMMIT
# PREPARED, must never show one that is rolled back, and after any number
# of kills must hold every committed change: the Postgres and file sinks
# exactly once, Kafka at least once as far as the mock cluster can show
# (it does not hide aborted Kafka transactions).  A witness slot without
# two-phase decodes each prepared transaction at COMMIT PREPARED, with the
# ids the consumer must give it.
#
#   A. Two prepared transactions (one to commit, one to roll back) and a
#      large one that spills to disk, each open while later transactions
#      commit: nothing of them reaches a sink, the spill file exists; kill
#      -9; COMMIT / ROLLBACK PREPARED while the consumer is down; restart.
#   B. The same after the restart with the consumer up: it holds them
#      again (PostgreSQL sends the PREPARE again because the slot was not
#      confirmed past it), then applies the commit and drops the rollback.
#   B2. One delivered while another, prepared before its commit, holds the
#      slot back: after a kill PostgreSQL sends its COMMIT PREPARED alone.
#   C. A rule fails on an event of a prepared transaction as it is
#      delivered: the pipeline stops without confirming past the PREPARE,
#      and after a restart without the rule the transaction comes whole.
#   D. A writer that prepares, commits and rolls back at random, with
#      ordinary transactions in between, while the consumer is killed at
#      random points and restarted.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_consumer
# a lock a prepared transaction holds makes the test fail, not hang
export PGOPTIONS="-c lock_timeout=20s"
pgc_start "max_prepared_transactions = 20" "logical_decoding_work_mem = 64kB"
chmod 777 "$WORK"
mkdir -p "$WORK/spill"
pgc_psql -d postgres -c "CREATE EXTENSION tributary" -c "CREATE DATABASE target" \
    -c "CREATE TABLE public.acct (id int PRIMARY KEY, bal bigint, note text)" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_e2e2pc', 'tributary')" \
    -c "INSERT INTO public.acct SELECT g, 100, 'seed' FROM generate_series(1, 20) g" >/dev/null
mock_start 1

cat > "$WORK/p.yaml" <<EOF
pipeline: e2e2pc
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: never
    heartbeat_interval_ms: 300
    status_interval_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 1000}
    prepared_buffer_mb: 1
    prepared_spill_dir: "$WORK/spill"
    plugin_options: {two-phase: "on"}
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn target)"
    create_tables: true
    batch_size: 50
  archive:
    type: file
    path: "$WORK/out.jsonl"
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: e2e2pc
    transactional: true
checkpoint:
  store: catalog
http:
  listen: "0"
EOF
"$BIN" check -c "$WORK/p.yaml" > "$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }
expect_eq "check says prepared transactions are held" 1 \
    "$(grep -c "two-phase: prepared transactions are held until COMMIT PREPARED (1 MiB in memory, then spill files in $WORK/spill)" "$WORK/check.out")"
sed "s|prepared_spill_dir: .*|prepared_spill_dir: $WORK/missing|" "$WORK/p.yaml" > "$WORK/bad.yaml"
"$BIN" check -c "$WORK/bad.yaml" > "$WORK/check.bad" 2>&1 || true
expect_eq "check flags a spill directory that does not exist" "1 1" \
    "$(grep -c "spill directory $WORK/missing: not a writable directory" "$WORK/check.bad") $(grep -c '^1 problem(s) found' "$WORK/check.bad")"
rc=0; timeout 60 "$BIN" run -c "$WORK/bad.yaml" > "$WORK/run.bad" 2>&1 || rc=$?
expect_eq "run refuses it at start" "1 1" "$rc $(grep -c "spill directory $WORK/missing: No such file" "$WORK/run.bad")"
sql() { pgc_psql -d postgres -Atq "$@"; }
target_count() { pgc_psql -d target -Atc "SELECT count(*) FROM public.acct WHERE $1" 2>/dev/null || echo 0; }
# wait_target CONDITION N: wait up to 30 s for N target rows matching CONDITION.
wait_target() {
    for _ in $(seq 1 300); do
        [ "$(target_count "$1")" = "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
spill_files() { find "$WORK/spill" -type f | wc -l; }

# ---- A: held while open, kill -9, resolved while the consumer is down ----
start_consumer
# a marker the consumer must have applied: it streams
sql -c "UPDATE public.acct SET note = 'a0' WHERE id = 1"
wait_target "note = 'a0'" 1 || true
sql -c "BEGIN; INSERT INTO public.acct VALUES (101, 5000000, 'ga');
        UPDATE public.acct SET bal = 0 WHERE id = 1; PREPARE TRANSACTION 'ga'"
sql -c "BEGIN; INSERT INTO public.acct VALUES (102, 7000000, 'gb');
        UPDATE public.acct SET bal = 0 WHERE id = 2; PREPARE TRANSACTION 'gb'"
# about 4 MB: more than prepared_buffer_mb, so it spills
sql -c "BEGIN; INSERT INTO public.acct SELECT g, g, repeat('x', 200) FROM generate_series(10000, 29999) g;
        PREPARE TRANSACTION 'gbig'"
sql -c "INSERT INTO public.acct VALUES (103, 1, 'after')"
sql -c "UPDATE public.acct SET note = 'a1' WHERE id = 3"
expect_eq "A: transactions committed after the PREPAREs are applied" 0 "$(wait_target "note = 'a1'" 1; echo $?)"
expect_eq "A: nothing of a prepared transaction is in the Postgres sink" 0 \
    "$(target_count "id IN (101, 102) OR id >= 10000 OR bal = 0")"
expect_eq "A: nor in the file sink" 0 "$(grep -c -e '"ga"' -e '"gb"' -e 'xxxxxxxxxx' "$WORK/out.jsonl" || true)"
expect_eq "A: the large prepared transaction spilled to a file" 1 "$(spill_files)"
port=$(grep "\[$RUN_PID\] .*serving /health" "$WORK/run.log" | sed -E 's/.* port ([0-9]+).*/\1/' | tail -1)
curl -s "http://127.0.0.1:$port/metrics" > "$WORK/metrics" || true
expect_eq "A: /metrics shows the three held transactions" 1 \
    "$(grep -c '^tributary_prepared_held_transactions{source="main"} 3$' "$WORK/metrics")"
expect_eq "A: and the bytes spilled" 1 \
    "$(grep -c -E '^tributary_prepared_spilled_bytes\{source="main"\} [1-9][0-9]{5,}$' "$WORK/metrics")"
kill_consumer
sql -c "COMMIT PREPARED 'ga'" -c "ROLLBACK PREPARED 'gb'" -c "COMMIT PREPARED 'gbig'"
sql -c "UPDATE public.acct SET note = 'a2' WHERE id = 4"
start_consumer
expect_eq "A: after the restart the committed ones are applied" 0 "$(wait_target "note = 'a2' OR id = 101 OR id >= 10000" 20002; echo $?)"
expect_eq "A: the rolled-back one is not" 0 "$(target_count "id = 102 OR (id = 2 AND bal = 0)")"
expect_eq "A: the start removed the spill file of the killed process" 0 "$(spill_files)"

# ---- B: prepared before a kill, resolved with the consumer up ----
sql -c "BEGIN; INSERT INTO public.acct VALUES (201, 1, 'gc'); UPDATE public.acct SET bal = 7 WHERE id = 5; PREPARE TRANSACTION 'gc'"
sql -c "BEGIN; INSERT INTO public.acct VALUES (202, 1, 'gd'); UPDATE public.acct SET bal = 0 WHERE id = 6; PREPARE TRANSACTION 'gd'"
sql -c "UPDATE public.acct SET note = 'b1' WHERE id = 7"
wait_target "note = 'b1'" 1 || true
kill_consumer
start_consumer
sql -c "UPDATE public.acct SET note = 'b2' WHERE id = 8"
wait_target "note = 'b2'" 1 || true
expect_eq "B: after the restart the prepared ones are still held" 0 "$(target_count "id IN (201, 202)")"
sql -c "ROLLBACK PREPARED 'gd'" -c "COMMIT PREPARED 'gc'"
expect_eq "B: COMMIT PREPARED applies it" 0 "$(wait_target "id = 201 OR (id = 5 AND bal = 7)" 2; echo $?)"
expect_eq "B: ROLLBACK PREPARED drops it" 0 "$(target_count "id = 202 OR (id = 6 AND bal = 0)")"

# ---- B2: one delivered while another still holds the slot back ----
# ge is applied and durable, but gf, prepared after ge and before its
# COMMIT PREPARED, keeps the slot's confirmed position between the two:
# after a kill PostgreSQL sends ge's COMMIT PREPARED alone.
sql -c "BEGIN; INSERT INTO public.acct VALUES (301, 1, 'ge'); PREPARE TRANSACTION 'ge'"
sql -c "BEGIN; INSERT INTO public.acct VALUES (302, 1, 'gf'); PREPARE TRANSACTION 'gf'"
sql -c "COMMIT PREPARED 'ge'"
expect_eq "B2: COMMIT PREPARED applies it" 0 "$(wait_target "id = 301" 1; echo $?)"
sleep 2     # the checkpoint and the slot's confirmation catch up
kill_consumer
start_consumer
sql -c "COMMIT PREPARED 'gf'"
expect_eq "B2: after the restart the other one is applied" 0 "$(wait_target "id = 302" 1; echo $?)"
expect_eq "B2: the consumer runs on" t "$(kill -0 "$RUN_PID" 2>/dev/null && echo t || echo f)"
expect_eq "B2: and applied the first one once" 1 "$(target_count "id = 301")"

# ---- C: the pipeline fails in the middle of delivering one ----
# A rule that fails on one event of the transaction stops the pipeline (no
# dead-letter sink).  It must not confirm the slot past the PREPARE on its
# way out: after the restart, without the rule, the transaction is whole.
stop_consumer
{ cat "$WORK/p.yaml"; echo 'transforms:'
  echo '  - {type: filter, tables: [acct], lua: "not (after.bal == -1 and 1 // (after.bal + 1) == 0)"}'
} > "$WORK/boom.yaml"
start_consumer "$WORK/boom.yaml"
sql -c "BEGIN; INSERT INTO public.acct VALUES (401, 1, 'gh'), (402, -1, 'gh'), (403, 1, 'gh');
        PREPARE TRANSACTION 'gh'"
sql -c "INSERT INTO public.acct VALUES (410, 1, 'after gh')"
expect_eq "C: a transaction committed after the PREPARE is applied" 0 "$(wait_target "id = 410" 1; echo $?)"
sleep 1     # its checkpoint and confirmation are done
sql -c "COMMIT PREPARED 'gh'"
rc=0; wait "$RUN_PID" || rc=$?; RUN_PID=
expect_eq "C: the rule stops the pipeline" 1 "$rc"
start_consumer
expect_eq "C: after the restart without it the transaction is applied whole" 0 \
    "$(wait_target "id IN (401, 402, 403)" 3; echo $?)"
expect_eq "C: no COMMIT PREPARED came without its changes" 0 \
    "$(grep -c 'came without its changes' "$WORK/run.log" || true)"

# ---- D: random prepares, commits and rollbacks under random kills ----
writer() {
    local i gid open=()
    for i in $(seq 1 40); do
        gid="w$i"
        sql -c "BEGIN; INSERT INTO public.acct SELECT g, $i, 'w' FROM generate_series(100000 + $i * 1000, 100000 + $i * 1000 + $((i % 7 + 1))) g;
                UPDATE public.acct SET bal = bal + $i WHERE id = $((i % 20 + 1)); PREPARE TRANSACTION '$gid'"
        open+=("$gid")
        # a row no open prepared transaction holds a lock on
        sql -c "UPDATE public.acct SET note = 'c$i' WHERE id = $(((i + 10) % 20 + 1))"
        # resolve the oldest open one now and then, so some stay open
        # across several ordinary commits
        if [ ${#open[@]} -ge 3 ] || [ $((RANDOM % 2)) = 0 ]; then
            if [ $((RANDOM % 3)) = 0 ]; then sql -c "ROLLBACK PREPARED '${open[0]}'"
            else sql -c "COMMIT PREPARED '${open[0]}'"; fi
            open=("${open[@]:1}")
        fi
        sleep 0.0$((RANDOM % 9))
    done
    for gid in "${open[@]}"; do sql -c "COMMIT PREPARED '$gid'"; done
}
writer &
WRITER_PID=$!
kill_while_writing
sql -c "UPDATE public.acct SET note = 'end' WHERE id = 20"
expect_eq "D: the slot was confirmed to the end after $KILLS kill(s)" t "$(slot_caught_up tributary_e2e2pc)"
expect_eq "D: no prepared transaction is left in the source" 0 "$(sql -c "SELECT count(*) FROM pg_prepared_xacts")"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
expect_eq "no spill file is left" 0 "$(spill_files)"

# ---- the whole run: equal to the source, every change once ----
q="SELECT id, bal, note FROM public.acct ORDER BY id"
pgc_psql -d postgres -Atc "$q" > "$WORK/source.rows"
pgc_psql -d target -Atc "$q" > "$WORK/target.rows" || true
expect_eq "the Postgres sink equals the source, row for row" "" "$(diff "$WORK/source.rows" "$WORK/target.rows" | head -3)"

# A change is its id (Kafka's tributary.id header), or in the file sink
# (commit LSN, change LSN, key), which the envelope's source.sequence and
# key carry.
witness() {
    pgc_psql -d postgres -Atc "SELECT $1
        FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
        WHERE d->>'kind' IN ('insert','update','delete') AND d->>'table' = 'acct'" | sort
}
witness "(d->>'commit_lsn') || ':' || (d->>'seq')" > "$WORK/witness"
witness "((d->>'commit_lsn')::pg_lsn - '0/0') || ' ' || ((d->>'lsn')::pg_lsn - '0/0') || ' ' ||
         coalesce(d->'new'->>'id', d->'old'->>'id')" > "$WORK/witness.file"
jq -r 'select(.value != null) | (.value.source.sequence | fromjson) as $s
       | "\($s[0]) \($s[1]) \(.key.id)"' "$WORK/out.jsonl" | sort > "$WORK/file.ids"
expect_eq "the witness saw the workload" t "$([ "$(wc -l < "$WORK/witness")" -gt 20000 ] && echo t || echo f)"
expect_eq "the file sink holds every committed change" "" "$(comm -23 "$WORK/witness.file" "$WORK/file.ids" | head -3)"
expect_eq "and nothing else (no rolled-back change)" "" "$(comm -13 "$WORK/witness.file" "$WORK/file.ids" | head -3)"
expect_eq "and none twice" "" "$(uniq -d "$WORK/file.ids" | head -3)"

"$TOOLS/kafka_dump" "$BOOT" e2e2pc.public.acct > "$WORK/dump"
awk -F'\t' '$6 != "-"' "$WORK/dump" | cut -f1 | sort > "$WORK/kafka.ids"
sort -u "$WORK/kafka.ids" > "$WORK/kafka.uniq"
expect_eq "Kafka holds every committed change" "" "$(comm -23 "$WORK/witness" "$WORK/kafka.uniq" | head -3)"
expect_eq "and nothing else (no rolled-back change)" "" "$(comm -13 "$WORK/witness" "$WORK/kafka.uniq" | head -3)"
# The mock cluster (librdkafka before 2.15) does not hide the records of
# aborted Kafka transactions from read_committed readers, so a kill in
# the middle of one shows its records twice here; a broker would not.
echo "# $(wc -l < "$WORK/witness") changes, $KILLS kills in D," \
    "$(( $(wc -l < "$WORK/kafka.ids") - $(wc -l < "$WORK/kafka.uniq") )) Kafka records of aborted transactions visible through the mock"

if grep -q "ERROR" "$WORK/run.log"; then echo "# errors logged:"; grep "ERROR" "$WORK/run.log" | cut -c1-200 | sort | uniq -c | head -5 || true; fi
# A sanitizer build (make check-asan) reports into the consumer's log.
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
