#!/usr/bin/env bash
# 51_multi_source.sh: one pipeline, two sources: a PostgreSQL source and a
# MySQL/MariaDB source (a real MariaDB 10.11, scripts/lib/mariadb.sh)
# merged into the same file sink and the embedded Kafka cluster
# (transactional), with kill -9s (docs/ARCHITECTURE.md, several sources).
#
# Witnesses, one per source: a second slot on the PostgreSQL database
# (decoded by the same plugin), and the binlog decoded by tools/mysql_cat.
# A change is "connector commit_lsn table key op" (source.sequence[0] is
# the commit position in the envelope; each workload transaction touches
# a key once), and in Kafka its id header, the source's own event id.
#
# Phase A: both sources write, a 5,000-row transaction on each side.
# Phase B: writers on both databases while the daemon is killed (-9) at
# random points and restarted, at least 10 times.  Phase C: MariaDB is
# stopped; PostgreSQL's changes keep arriving; MariaDB comes back and its
# changes follow.  Checks: the file sink holds every change of each source
# exactly once; Kafka (by offsets) every change of each and nothing else;
# each source keeps its own checkpoint (checkpoint.json.NAME) covering its
# last change; records show each source's own positions and connector,
# and the MariaDB ones the statement (include_query: ANNOTATE_ROWS);
# /metrics has each source's series and the MariaDB source's binlog lag
# (phase D: above 0 behind a backlog, 0 once caught up).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init

build_consumer
build_tool mysql_cat
CAT=$TOOL
pgc_start
mdb_start
mock_start 1
mock_ctl create __tributary_checkpoints 1 1
mock_ctl create m51.public.items 8 1
mock_ctl create m51.shop.orders 8 1

pgc_psql -d postgres -q \
    -c "CREATE TABLE public.items (id int PRIMARY KEY, v text)" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" >/dev/null
mdb_sql <<'SQL'
CREATE DATABASE shop;
CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, v VARCHAR(40));
SQL
binlog_now

cat >"$WORK/p.yaml" <<YAML
pipeline: m51
sources:
  pgdb:
    type: postgres
    dsn: "$(pg_dsn)"
    slot: m51
    snapshot: never
    heartbeat_interval_ms: 500
    status_interval_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 1000}
$(mysql_yaml 5151 start)
    heartbeat_ms: 200
    include_query: true
    reconnect_backoff_ms: {initial: 100, max: 1000}
    lock_dsn: "$(pg_dsn)"
sinks:
  archive:
    type: file
    path: "$WORK/out.jsonl"
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: m51
    transactional: true
checkpoint:
  store: file
  path: "$WORK/checkpoint.json"
http:
  enabled: false
YAML
"$BIN" check -c "$WORK/p.yaml" --offline >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }

# A change of the file sink: "connector commit table key op".
file_changes() {
    jq -r 'select(.value != null) | .value as $v
        | "\($v.source.connector) \($v.source.sequence | fromjson | .[0]) \($v.source.table) \(.key.id) \($v.op)"' \
        "$WORK/out.jsonl" 2>/dev/null
}

# ---- phase A -----------------------------------------------------------------
start_consumer
wait_slot_active m51 || { echo "the pipeline did not start streaming"; cat "$WORK/run.log"; exit 1; }
pgc_psql -d postgres -q \
    -c "INSERT INTO items VALUES (1, 'a'), (2, 'b')" \
    -c "INSERT INTO items SELECT g, 'bulk' FROM generate_series(1000, 5999) g" \
    -c "UPDATE items SET v = 'B' WHERE id = 2" -c "DELETE FROM items WHERE id = 1"
mdb_sql shop <<'SQL'
INSERT INTO orders VALUES (1, 'a'), (2, 'b');
INSERT INTO orders SELECT seq, 'bulk' FROM seq_1000_to_5999;
UPDATE orders SET v = 'B' WHERE id = 2;
DELETE FROM orders WHERE id = 1;
SQL
for _ in $(seq 1 600); do
    [ "$(file_changes | wc -l)" -ge 10008 ] && [ -s "$WORK/checkpoint.json.shopdb" ] &&
        [ -s "$WORK/checkpoint.json.pgdb" ] && break
    sleep 0.1
done
expect_eq "phase A: both sources' changes arrive, each source checkpointed on its own" "10008 t t" \
    "$(file_changes | wc -l) $([ -s "$WORK/checkpoint.json.pgdb" ] && echo t || echo f) $([ -s "$WORK/checkpoint.json.shopdb" ] && echo t || echo f)"

# ---- phase B: kill -9 under load on both sources -----------------------------
writer() {
    local t
    for t in $(seq 1 40); do
        pgc_psql -d postgres -q -c "BEGIN" \
            -c "INSERT INTO items SELECT g, 'w$t' FROM generate_series($t * 100000, $t * 100000 + $t % 20) g" \
            -c "UPDATE items SET v = 'u$t' WHERE id = 1000 + $t" \
            -c "DELETE FROM items WHERE id = 3000 + $t" -c "COMMIT"
        mdb_sql shop -e "BEGIN;
            INSERT INTO orders SELECT seq + $t * 100000, 'w$t' FROM seq_0_to_$(( t % 20 ));
            UPDATE orders SET v = 'u$t' WHERE id = 1000 + $t;
            DELETE FROM orders WHERE id = 3000 + $t;
            COMMIT;"
        if [ "$t" = 20 ]; then
            pgc_psql -d postgres -q -c "UPDATE items SET v = 'big' WHERE id BETWEEN 4000 AND 5999"
            mdb_sql shop -e "UPDATE orders SET v = 'big' WHERE id BETWEEN 4000 AND 5999"
        fi
        sleep 0.1
    done
}
writer &
WRITER_PID=$!
kill_while_writing
while [ "$KILLS" -lt 10 ]; do
    sleep 0.3; kill_consumer; KILLS=$((KILLS + 1)); start_consumer
done

# ---- phase C: MariaDB down, PostgreSQL keeps flowing --------------------------
n0=$(file_changes | grep -c '^postgresql ' || true)
mdb_stop
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (7000001, 'while mariadb is down')"
for _ in $(seq 1 300); do
    [ "$(file_changes | grep -c '^postgresql ' || true)" -gt "$n0" ] && break
    sleep 0.1
done
flowing=$([ "$(file_changes | grep -c '^postgresql ' || true)" -gt "$n0" ] && echo t || echo f)
expect_eq "with MariaDB down, PostgreSQL's changes still arrive" t "$flowing"
# on a failure, the daemon's log since its last start
[ "$flowing" = t ] ||
    awk '/INFO  main: tributary .* starting/ { n = NR } { l[NR] = $0 }
        END { for (i = n; i <= NR; i++) if (l[i] !~ /server_id uniqueness/) print "#   " substr(l[i], 1, 240) }' \
        "$WORK/run.log" | tail -40
mdb_restart
mdb_sql shop -e "INSERT INTO orders VALUES (7000001, 'after the restart')"
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (7000002, 'the end')"

# ---- witnesses ------------------------------------------------------------------
pg_witness "$WORK/witness.pg" "$WORK/witness.pgids"
my_witness "$FILE" "$POS" 5152 "$WORK/witness.my" "$WORK/witness.myids"
sort "$WORK/witness.pg" "$WORK/witness.my" >"$WORK/witness.changes"
total=$(wc -l <"$WORK/witness.changes")
echo "# $(wc -l <"$WORK/witness.pg") PostgreSQL and $(wc -l <"$WORK/witness.my") MariaDB changes, $KILLS kills"
expect_eq "the witnesses saw both workloads (over 7000 changes each)" "t t" \
    "$([ "$(wc -l <"$WORK/witness.pg")" -gt 7000 ] && echo t || echo f) $([ "$(wc -l <"$WORK/witness.my")" -gt 7000 ] && echo t || echo f)"

for _ in $(seq 1 600); do
    [ "$(file_changes | wc -l)" -ge "$total" ] && break
    sleep 0.1
done
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
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
"$TOOLS/kafka_dump" "$BOOT" m51. >"$WORK/dump"
for t in public.items:pgids shop.orders:myids; do
    topic=${t%%:*} w=${t##*:}
    awk -F'\t' -v t="m51.$topic" '$6 != "-" && $2 == t' "$WORK/dump" | cut -f1 | sort -u >"$WORK/kafka.$w"
    sort -u "$WORK/witness.$w" >"$WORK/witness.$w.sorted"
    expect_eq "Kafka $topic: every change of its source, by the source's ids" "" \
        "$(comm -23 "$WORK/witness.$w.sorted" "$WORK/kafka.$w" | head -3 | tr '\n' ' ')"
    expect_eq "Kafka $topic: nothing else" "" \
        "$(comm -13 "$WORK/witness.$w.sorted" "$WORK/kafka.$w" | head -3 | tr '\n' ' ')"
done

# Each source's checkpoint covers its last change.
ck_of() { jq -r '.commit_lsn' "$WORK/checkpoint.json.$1" | awk -F/ '{ printf "%.0f\n", strtonum("0x" $1) * 4294967296 + strtonum("0x" $2) }'; }
expect_eq "each source's checkpoint covers its last change" "t t" \
    "$([ "$(ck_of pgdb)" -ge "$(cut -d' ' -f2 "$WORK/witness.pg" | sort -n | tail -1)" ] && echo t || echo f) $([ "$(ck_of shopdb)" -ge "$(cut -d' ' -f2 "$WORK/witness.my" | sort -n | tail -1)" ] && echo t || echo f)"
expect_eq "records keep each source's connector and source block" "mysql shop 1 postgresql postgres" \
    "$(jq -r -n 'first(inputs | select(.value.source.connector == "mysql")) | .value.source | "\(.connector) \(.db) \(.server_id)"' "$WORK/out.jsonl") $(jq -r -n 'first(inputs | select(.value.source.connector == "postgresql")) | .value.source | "\(.connector) \(.db)"' "$WORK/out.jsonl")"
expect_eq "the MariaDB source block has the row's statement (include_query); PostgreSQL's has none" \
    "INSERT INTO orders VALUES (1, 'a'), (2, 'b')|UPDATE orders SET v = 'B' WHERE id = 2|false" \
    "$(jq -r 'select(.value.source.connector == "mysql" and (.key.id == 1 or .key.id == 2) and .value.op != "d") | .value.source.query' "$WORK/out.jsonl" | sort -u | paste -sd'|')|$(jq -r -n '[inputs | select(.value.source.connector == "postgresql") | .value.source | has("query")] | any' "$WORK/out.jsonl")"
expect_grep "restarts resume each source from its own position" "$WORK/run.log" \
    "source shopdb: resuming after binlog mariadb-bin\.[0-9]+:[0-9]+"
# ---- phase D: /metrics per source, the binlog lag ----------------------------
# A 20,000-row transaction written while the daemon is down is a backlog
# of over a megabyte: the first reading of the MariaDB source's lag in
# bytes (taken as soon as something was read, then every 2 s) is above 0.
mdb_sql shop -e "INSERT INTO orders SELECT seq + 8000000, REPEAT('x', 40) FROM seq_1_to_20000"
sed 's/^  enabled: false$/  listen: "127.0.0.1:0"/' "$WORK/p.yaml" >"$WORK/p2.yaml"
start_consumer "$WORK/p2.yaml" "$WORK/run2.log"
wait_log "$WORK/run2.log" "serving /health" 10 || true
port=$(http_port "$WORK/run2.log")
metric() { curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
seen=0
for _ in $(seq 1 100); do
    b=$(metric 'tributary_source_lag_bytes{source="shopdb"}')
    if [ -n "$b" ] && [ "${b%.*}" -gt 0 ] 2>/dev/null; then seen=$b; break; fi
    sleep 0.05
done
expect_eq "/metrics: the MariaDB source's lag in bytes is above 0 behind a backlog" t \
    "$([ "${seen%.*}" -gt 100000 ] && echo t || echo f)"
for _ in $(seq 1 100); do
    [ "$(metric 'tributary_source_lag_bytes{source="shopdb"}')" = 0 ] &&
        [ "$(metric 'tributary_mysql_binlog_seconds_behind{source="shopdb"}')" = 0 ] && break
    sleep 0.1
done
expect_eq "/metrics: caught up, both lags are 0; each source has its series" "0 0 1 1" \
    "$(metric 'tributary_source_lag_bytes{source="shopdb"}') $(metric 'tributary_mysql_binlog_seconds_behind{source="shopdb"}') $(curl -s "http://127.0.0.1:$port/metrics" | grep -c '^tributary_source_lag_seconds{source="pgdb"}') $(curl -s "http://127.0.0.1:$port/metrics" | grep -c '^tributary_source_lag_seconds{source="shopdb"}')"
stop_consumer
cat "$WORK/run2.log" >>"$WORK/run.log"

if grep -q "ERROR" "$WORK/run.log"; then echo "# errors logged:"; grep "ERROR" "$WORK/run.log" | cut -c1-200 | sort | uniq -c | head -5 || true; fi
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
