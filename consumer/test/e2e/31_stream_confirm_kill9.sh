#!/usr/bin/env bash
# 31_stream_confirm_kill9.sh: the slot is never confirmed past a change
# the sinks have not acknowledged, for the records that end a transaction
# without a begin record: a streamed transaction's stream_commit (plugin
# option stream) and a non-transactional logical message; and a streamed
# prepared transaction (stream and two-phase) for good measure.
#
# Two pipelines run side by side on one server (logical_decoding_work_mem
# 64kB, so large transactions are streamed): `sa` with {stream: on}, `sb`
# with {stream: on, two-phase: on}.  Each writes to Kafka (the mock
# cluster, not transactional), a JSON Lines file and a Postgres database.
# Heartbeats run every 200 ms; they are empty transactions that the
# pipeline confirms as soon as everything before them is durable.
#
# Each cycle takes the Kafka cluster down, so Kafka acknowledges nothing,
# writes one thing, and lets both consumers handle two more empty
# transactions after it (proved, not waited for: see handled_after); then
# each slot's confirmed_flush_lsn must still be at or before that thing's
# commit (PostgreSQL does not send again a transaction whose commit lies
# before the confirmed position, nor a message that starts before it).
# Then kill -9 both consumers, bring the cluster up and restart them:
#
#   1. a streamed transaction (with a subtransaction rolled back while
#      streaming), after a streamed one that rolls back;
#   2. a large prepared transaction (streamed), then COMMIT PREPARED: `sb`
#      must stay at or before its PREPARE, `sa` (which sees it as an
#      ordinary streamed transaction) before its COMMIT PREPARED;
#   3. a non-transactional message.
#
# At the end every change and message is in each pipeline's sinks: the
# file and Postgres sinks exactly once, Kafka at least once (the mock
# cannot prove more) and nothing else.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
E2E_PIDS+=" RUN_sa RUN_sb"
RUN_sa= RUN_sb=
PIPES="sa sb"

build_consumer
pgc_start "max_prepared_transactions = 10" "logical_decoding_work_mem = 64kB"
chmod 777 "$WORK"
mkdir -p "$WORK/spill"
sql() { pgc_psql -d postgres -Atq "$@"; }
sql -c "CREATE EXTENSION tributary" -c "CREATE DATABASE target_sa" -c "CREATE DATABASE target_sb" \
    -c "CREATE TABLE public.big (id int PRIMARY KEY, part text, pad text)" \
    -c "CREATE TABLE public.tick (n int)" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness2pc', 'tributary', false, true)" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_sa', 'tributary')" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_sb', 'tributary')" >/dev/null
mock_start 1

# config NAME PLUGIN_OPTIONS: the pipeline's YAML.
config() {
    cat <<EOF
pipeline: $1
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: never
    include_tables: [public.big]
    heartbeat_interval_ms: 200
    status_interval_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 1000}
    prepared_spill_dir: "$WORK/spill"
    plugin_options: $2
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: $1
  archive:
    type: file
    path: "$WORK/$1.jsonl"
  db:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=target_$1 user=postgres"
    create_tables: true
checkpoint:
  store: catalog
http:
  enabled: false
EOF
}
config sa '{stream: "on"}' > "$WORK/sa.yaml"
config sb '{stream: "on", two-phase: "on"}' > "$WORK/sb.yaml"
for p in $PIPES; do "$BIN" check -c "$WORK/$p.yaml" >/dev/null; done

# start NAME: pipeline NAME's consumer, its pid in RUN_NAME.
start() { start_consumer "$WORK/$1.yaml" "$WORK/$1.log"; printf -v "RUN_$1" '%s' "$RUN_PID"; RUN_PID=; }
pid_of() { local v="RUN_$1"; echo "${!v}"; }
start_all() { for p in $PIPES; do start "$p"; done; }
alive_all() {
    local p
    for p in $PIPES; do kill -0 "$(pid_of "$p")" 2>/dev/null || { echo "$p died"; return; }; done
    echo yes
}
kill9_all() {
    local p
    for p in $PIPES; do
        kill -9 "$(pid_of "$p")" 2>/dev/null || true
        wait "$(pid_of "$p")" 2>/dev/null || true
        printf -v "RUN_$p" '%s' ""
    done
}
caught_up_all() {
    local p r=t
    for p in $PIPES; do [ "$(slot_caught_up "tributary_$p")" = t ] || r="f ($p)"; done
    echo "$r"
}

# received_past LSN: wait up to 90 s until both consumers have told their
# walsender (write_lsn of their status update, which is what they
# received) that they have WAL up to LSN.
received_past() {
    local n
    for _ in $(seq 1 900); do
        n=$(sql -c "SELECT count(*) FROM pg_replication_slots s JOIN pg_stat_replication r
            ON r.pid = s.active_pid WHERE s.slot_name IN ('tributary_sa', 'tributary_sb')
            AND r.write_lsn >= '$1'")
        [ "$n" = 2 ] && return 0
        sleep 0.1
    done
    return 1
}

# handled_after: two empty transactions (public.tick is not captured), the
# second only once both consumers received the first.  A consumer reads
# records, hands the batch to its pipeline (which confirms what it may) and
# only then reads on, so the status update that says it received the
# second was sent after the first was handled, and carries the
# confirmation that followed.  No timing is assumed, however slow the
# consumer (Kafka's flush blocks its loop for up to 10 s while down).
handled_after() {
    local i
    for i in 1 2; do
        sql -c "INSERT INTO public.tick VALUES ($i)"
        received_past "$(sql -c "SELECT pg_current_wal_lsn()")" || { echo no; return; }
    done
    echo yes
}

# confirmed_at_most NAME SLOT OP BOUND: the slot's confirmed_flush_lsn is
# OP (<= or <) BOUND.
confirmed_at_most() {
    local c
    c=$(slot_confirmed "$2")
    expect_eq "$1" "$3 $4" \
        "$(if [ "$(sql -c "SELECT '$c'::pg_lsn $3 '$4'::pg_lsn")" = t ]; then echo "$3 $4"; else echo "$c"; fi)"
}

# witness_commit XID: commit_lsn of the transaction as the witness slot
# (no two-phase) decodes it.
witness_commit() {
    sql -c "SELECT d->>'commit_lsn' FROM (SELECT data::json AS d
        FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
        WHERE d->>'kind' = 'commit' AND d->>'xid' = '$1'"
}

# streamed: how many transactions PostgreSQL streamed to each slot so far,
# "sa sb".
streamed() {
    sql -c "SELECT string_agg(stream_txns::text, ' ' ORDER BY slot_name) FROM pg_stat_replication_slots
        WHERE slot_name IN ('tributary_sa', 'tributary_sb')"
}

# streamed_more BEFORE N: t when each slot streamed at least N more
# transactions than BEFORE says.
streamed_more() {
    local b a
    read -r -a b <<< "$1"
    read -r -a a <<< "$(streamed)"
    [ "${a[0]:-0}" -ge $(( ${b[0]:-0} + $2 )) ] && [ "${a[1]:-0}" -ge $(( ${b[1]:-0} + $2 )) ] && echo t || echo "f (${a[*]} after ${b[*]})"
}

# restart_all CYCLE: kill -9 both consumers, bring Kafka up, restart them,
# wait until both slots are confirmed to the end.
restart_all() {
    expect_eq "$1: both consumers ran through the outage" yes "$(alive_all)"
    kill9_all
    mock_ctl up all
    start_all
    expect_eq "$1: after kill -9 and a restart, both slots catch up" t "$(caught_up_all)"
}

start_all
sql -c "INSERT INTO public.big VALUES (0, 'start', '')"
expect_eq "both pipelines stream" t "$(caught_up_all)"

# ---- 1: a streamed transaction ----
mock_ctl down all
before=$(streamed)
sql -c "BEGIN" -c "INSERT INTO public.big SELECT g, 'rolled back', repeat('r', 100)
        FROM generate_series(900000, 902999) g" -c "ROLLBACK"
xid=$(sql -c "BEGIN" -c "SELECT pg_current_xact_id()" \
    -c "INSERT INTO public.big SELECT g, 'streamed', repeat('s', 100) FROM generate_series(1000, 3999) g" \
    -c "SAVEPOINT sp" \
    -c "INSERT INTO public.big SELECT g, 'rolled back sub', repeat('u', 100) FROM generate_series(800000, 801999) g" \
    -c "ROLLBACK TO SAVEPOINT sp" \
    -c "INSERT INTO public.big SELECT g, 'streamed', repeat('t', 100) FROM generate_series(4000, 4999) g" \
    -c "COMMIT")
t1=$(witness_commit "$xid")
expect_eq "1: both consumers handled two empty transactions after it" yes "$(handled_after)"
expect_eq "1: PostgreSQL streamed both transactions to both consumers" t "$(streamed_more "$before" 2)"
for p in $PIPES; do
    confirmed_at_most "1: $p: the slot is not confirmed past its commit while Kafka is down" "tributary_$p" "<=" "$t1"
done
restart_all 1

# ---- 2: a streamed prepared transaction, then COMMIT PREPARED ----
mock_ctl down all
before=$(streamed)
xid=$(sql -c "BEGIN" -c "SELECT pg_current_xact_id()" \
    -c "INSERT INTO public.big SELECT g, 'prepared', repeat('p', 100) FROM generate_series(10000, 12999) g" \
    -c "PREPARE TRANSACTION 'p3'")
sql -c "COMMIT PREPARED 'p3'"
prep=$(sql -c "SELECT d->>'commit_lsn' FROM (SELECT data::json AS d
    FROM pg_logical_slot_peek_changes('witness2pc', NULL, NULL, 'two-phase', 'on')) x
    WHERE d->>'kind' = 'begin_prepare' AND d->>'gid' = 'p3'")
cp=$(witness_commit "$xid")
expect_eq "2: both consumers handled two empty transactions after it" yes "$(handled_after)"
expect_eq "2: PostgreSQL streamed it to both consumers" t "$(streamed_more "$before" 1)"
confirmed_at_most "2: sa: the slot is not confirmed past its COMMIT PREPARED while Kafka is down" tributary_sa "<=" "$cp"
confirmed_at_most "2: sb: the slot is not confirmed past its PREPARE while Kafka is down" tributary_sb "<=" "$prep"
restart_all 2

# ---- 3: a non-transactional message ----
mock_ctl down all
# its LSN is the end of its record; the slot must stay before it
m3=$(sql -c "SELECT pg_logical_emit_message(false, 'app.note', 'cycle 3')")
expect_eq "3: both consumers handled two empty transactions after it" yes "$(handled_after)"
for p in $PIPES; do
    confirmed_at_most "3: $p: the slot is not confirmed past the message while Kafka is down" "tributary_$p" "<" "$m3"
done
restart_all 3

for p in $PIPES; do
    RUN_PID=$(pid_of "$p")
    stop_consumer
    printf -v "RUN_$p" '%s' ""
    expect_eq "$p: SIGTERM drains and exits 0" 0 "$STOP_RC"
done

# ---- every change and message, in every sink ----
witness() {
    sql -c "SELECT $1 FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
        WHERE (d->>'kind' IN ('insert', 'update', 'delete') AND d->>'table' = 'big')
           OR (d->>'kind' = 'message' AND d->>'prefix' = 'app.note')" | sort
}
witness "(d->>'commit_lsn') || ':' || (d->>'seq')" > "$WORK/witness"
witness "((d->>'commit_lsn')::pg_lsn - '0/0') || ' ' || ((d->>'lsn')::pg_lsn - '0/0') || ' ' ||
         coalesce(d->'new'->>'id', d->'old'->>'id', 'null')" > "$WORK/witness.file"
expect_eq "the witness saw the workload (3 transactions and a message)" 7002 "$(wc -l < "$WORK/witness")"
q="SELECT id, part, md5(pad) FROM public.big ORDER BY id"
sql -c "$q" > "$WORK/source.rows"
for p in $PIPES; do
    jq -r 'select(.value != null) | (.value.source.sequence | fromjson) as $s
           | "\($s[0]) \($s[1]) \(.key.id)"' "$WORK/$p.jsonl" | sort > "$WORK/$p.file"
    expect_eq "$p: the file sink holds every change and the message" "" "$(comm -23 "$WORK/witness.file" "$WORK/$p.file" | head -3)"
    expect_eq "$p: and nothing else" "" "$(comm -13 "$WORK/witness.file" "$WORK/$p.file" | head -3)"
    expect_eq "$p: and none twice" "" "$(uniq -d "$WORK/$p.file" | head -3)"
    pgc_psql -d "target_$p" -Atc "$q" > "$WORK/$p.rows" || true
    expect_eq "$p: the Postgres sink equals the source, row for row" "" "$(diff "$WORK/source.rows" "$WORK/$p.rows" | head -3)"
    "$TOOLS/kafka_dump" "$BOOT" "$p." > "$WORK/$p.dump"
    awk -F'\t' '$6 != "-"' "$WORK/$p.dump" | cut -f1 | sort -u > "$WORK/$p.kafka"
    expect_eq "$p: Kafka holds every change and the message" "" "$(comm -23 "$WORK/witness" "$WORK/$p.kafka" | head -3 | tr '\n' ' ')"
    expect_eq "$p: and nothing else" "" "$(comm -13 "$WORK/witness" "$WORK/$p.kafka" | head -3 | tr '\n' ' ')"
    # (the Kafka client logs the cluster's outages as errors)
    if grep "ERROR" "$WORK/$p.log" | grep -v "Connection refused" >/dev/null; then
        echo "# $p: errors logged:"; grep "ERROR" "$WORK/$p.log" | grep -v "Connection refused" | cut -c1-200 | head -5
    fi
    # A sanitizer build (make check-asan) reports into the consumer's log.
    expect_eq "$p: no sanitizer report from the consumer" 0 \
        "$(grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK/$p.log" || true)"
done
e2e_finish
