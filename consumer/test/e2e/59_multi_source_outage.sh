#!/usr/bin/env bash
# 59_multi_source_outage.sh: issue 13's outage test: a PostgreSQL source
# and a MySQL/MariaDB source (a real MariaDB 10.11) in one pipeline into
# one Kafka sink (the embedded cluster, transactional) and a file sink,
# with MariaDB stopped for a full 30 s while PostgreSQL keeps flowing.
#
# Both sources write; MariaDB is stopped (a clean shutdown) and stays down
# 30 s while a writer commits on PostgreSQL every 0.3 s; the file sink is
# sampled at 5, 15 and 28 s into the outage: PostgreSQL's changes must
# keep arriving through the whole outage, not only at its start.  MariaDB
# comes back and both sources write again.  Before it comes back, the
# daemon is killed (-9) and started with MariaDB still down: PostgreSQL's
# changes must flow and the daemon must keep retrying MariaDB.  Witnesses, one per source: a
# second slot on the PostgreSQL database and the binlog decoded by
# tools/mysql_cat.  Checks: the file sink holds every change of each
# source exactly once and nothing else; Kafka (by offsets) holds every
# change of each source, by the source's own ids, and nothing else.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init
OUTAGE_S=30

mysql_snapshot_servers
mock_start 1
mock_ctl create __tributary_checkpoints 1 1
mock_ctl create m59.public.items 2 1
mock_ctl create m59.shop.orders 2 1

pgc_psql -d postgres -q \
    -c "CREATE TABLE public.items (id int PRIMARY KEY, v text)" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" >/dev/null
mdb_sql <<'SQL'
CREATE DATABASE shop;
CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, v VARCHAR(40));
SQL
binlog_now

cat >"$WORK/p.yaml" <<YAML
pipeline: m59
sources:
  pgdb:
    type: postgres
    dsn: "$(pg_dsn)"
    slot: m59
    snapshot: never
    heartbeat_interval_ms: 500
    status_interval_ms: 200
$(mysql_yaml 5959 start)
    heartbeat_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 2000}
    lock_dsn: "$(pg_dsn)"
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
  k: {type: kafka, bootstrap_servers: "$BOOT", topic_prefix: m59, transactional: true}
checkpoint: {store: file, path: "$WORK/checkpoint.json"}
http: {enabled: false}
YAML

# A change of the file sink: "connector commit table key op".
file_changes() {
    jq -r 'select(.value != null) | .value as $v
        | "\($v.source.connector) \($v.source.sequence | fromjson | .[0]) \($v.source.table) \(.key.id) \($v.op)"' \
        "$WORK/out.jsonl" 2>/dev/null
}
pg_count() { file_changes | grep -c '^postgresql ' || true; }

# write_both FROM TO: a transaction on each database per step.
write_both() {
    local t
    for t in $(seq "$1" "$2"); do
        pgc_psql -d postgres -q -c "BEGIN" -c "INSERT INTO items VALUES ($t, 'p$t'), ($t + 100000, 'q$t')" \
            -c "UPDATE items SET v = 'u$t' WHERE id = $t - 1" -c "COMMIT"
        mdb_sql shop -e "BEGIN; INSERT INTO orders VALUES ($t, 'm$t'), ($t + 100000, 'n$t');
            UPDATE orders SET v = 'u$t' WHERE id = $t - 1; COMMIT;"
    done
}

start_consumer
wait_slot_active m59 || { echo "the pipeline did not start streaming"; cat "$WORK/run.log"; exit 1; }
write_both 1 50

# ---- the outage: MariaDB down for $OUTAGE_S s --------------------------------
for _ in $(seq 1 300); do [ "$(file_changes | wc -l)" -ge 300 ] && break; sleep 0.1; done
mdb_stop
down_at=$(date +%s)
pg_writer() {
    local t=1000
    while [ $(( $(date +%s) - down_at )) -lt "$OUTAGE_S" ]; do
        pgc_psql -d postgres -q -c "INSERT INTO items VALUES ($t, 'during the outage')"
        t=$((t + 1))
        sleep 0.3
    done
}
pg_writer &
WRITER_PID=$!
samples=()
for at in 5 15 28; do
    while [ $(( $(date +%s) - down_at )) -lt "$at" ]; do sleep 0.2; done
    samples+=("$(pg_count)")
done
wait "$WRITER_PID"; WRITER_PID=
echo "# PostgreSQL changes in the file sink at 5, 15 and 28 s into the outage: ${samples[*]}"
expect_eq "with MariaDB down, PostgreSQL's changes keep arriving (5 s < 15 s < 28 s)" t \
    "$([ "${samples[0]}" -lt "${samples[1]}" ] && [ "${samples[1]}" -lt "${samples[2]}" ] && echo t || echo f)"
expect_eq "the daemon kept running through the outage" t "$(kill -0 "$RUN_PID" 2>/dev/null && echo t || echo f)"
expect_eq "MariaDB stayed down for the whole outage" t \
    "$([ $(( $(date +%s) - down_at )) -ge "$OUTAGE_S" ] && echo t || echo f)"

# ---- a start with MariaDB still down -----------------------------------------
# kill -9 and start again while MariaDB is down: the daemon must start,
# stream PostgreSQL, and retry MariaDB in the background, as it does when
# the server goes away later (a source that is down must not stop the
# others, nor the daemon).
kill_consumer
start_consumer
n0=$(pg_count)
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (900001, 'started while mariadb is down')"
for _ in $(seq 1 300); do [ "$(pg_count)" -gt "$n0" ] && break; sleep 0.1; done
expect_eq "started with MariaDB down, PostgreSQL's changes arrive" t \
    "$([ "$(pg_count)" -gt "$n0" ] && echo t || echo f)"
sleep 3
expect_eq "and the daemon keeps running (it retries MariaDB)" t \
    "$(kill -0 "$RUN_PID" 2>/dev/null && echo t || echo f)"
mdb_launch
write_both 51 80

# ---- witnesses -----------------------------------------------------------------
pg_witness "$WORK/witness.pg" "$WORK/witness.pgids"
my_witness "$FILE" "$POS" 5960 "$WORK/witness.my" "$WORK/witness.myids"
sort "$WORK/witness.pg" "$WORK/witness.my" >"$WORK/witness.changes"
total=$(wc -l <"$WORK/witness.changes")
echo "# $(wc -l <"$WORK/witness.pg") PostgreSQL and $(wc -l <"$WORK/witness.my") MariaDB changes"
for _ in $(seq 1 600); do
    [ "$(file_changes | wc -l)" -ge "$total" ] && break
    sleep 0.1
done
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
expect_grep "the MariaDB source reconnected after the outage" "$WORK/run.log" "reconnect"
expect_eq "the witnesses' changes are distinct" "" "$(uniq -d "$WORK/witness.changes" | head -3)"
file_changes | sort >"$WORK/file.changes"
for c in postgresql mysql; do
    expect_eq "file sink: every $c change" "" \
        "$(comm -23 <(grep "^$c " "$WORK/witness.changes") <(grep "^$c " "$WORK/file.changes") | head -3 | tr '\n' ' ')"
    expect_eq "file sink: no $c change twice" "" \
        "$(grep "^$c " "$WORK/file.changes" | uniq -d | head -3 | tr '\n' ' ')"
done
expect_eq "file sink: nothing else" "" \
    "$(comm -13 "$WORK/witness.changes" "$WORK/file.changes" | head -3 | tr '\n' ' ')"

# Kafka by offsets, per source: the id header is the source's own event id.
"$TOOLS/kafka_dump" "$BOOT" m59. >"$WORK/dump"
for t in public.items:pgids shop.orders:myids; do
    topic=${t%%:*} w=${t##*:}
    awk -F'\t' -v t="m59.$topic" '$6 != "-" && $2 == t' "$WORK/dump" | cut -f1 | sort >"$WORK/kafka.$w"
    sort "$WORK/witness.$w" >"$WORK/witness.$w.sorted"
    expect_eq "Kafka $topic: every change of its source, by the source's ids" "" \
        "$(comm -23 "$WORK/witness.$w.sorted" <(sort -u "$WORK/kafka.$w") | head -3 | tr '\n' ' ')"
    expect_eq "Kafka $topic: nothing else" "" \
        "$(comm -13 "$WORK/witness.$w.sorted" <(sort -u "$WORK/kafka.$w") | head -3 | tr '\n' ' ')"
    expect_eq "Kafka $topic: none twice" "" "$(uniq -d "$WORK/kafka.$w" | head -3 | tr '\n' ' ')"
done
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
