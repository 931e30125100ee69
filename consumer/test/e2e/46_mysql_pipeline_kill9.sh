#!/usr/bin/env bash
# 46_mysql_pipeline_kill9.sh: `tributary run` with a MySQL/MariaDB source
# (a real MariaDB 10.11, scripts/lib/mariadb.sh) into the embedded Kafka
# cluster (transactional) and a file sink, through the same pipeline,
# checkpoints and exactly-once machinery as PostgreSQL.
#
# The witness is the binlog itself, decoded by tools/mysql_cat from the
# start position to the end: every change's (commit_lsn, seq).  The server
# is the other witness: the file sink's events, applied in order, must
# give exactly the rows the tables hold.
#
# Phase A: inserts, updates and deletes across three tables, a
# multi-table transaction and one 20,000-row transaction, streamed by a
# running daemon.  Phase B: the daemon killed (-9) at random points (at
# least 10 times, as issue 13 asks) while a writer commits transactions and another large
# one, and restarted each time; then a clean stop.
# Checks: the file sink holds every change exactly once (nothing lost,
# nothing twice, even inside the large transactions); Kafka, read by
# offsets, holds every change and nothing else (the mock cluster shows
# the records of aborted Kafka transactions too, so repeats there are
# reported, not counted, as in 30_pipeline_two_phase_kill9.sh); the rows rebuilt from the
# events equal the server's; topics are prefix.db.table and the envelope's
# source block has Debezium's MySQL members; the checkpoint
# covers the last change; check reports the preconditions, and a bad one
# (binlog_format) is named by check and refused by run.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_consumer
build_tool mysql_cat
CAT=$TOOL
pgc_start						# holds the pipeline lock (lock_dsn)
mdb_start
mock_start 1
# Created up front: the mock answers the sink's CreateTopics only after
# 30 s, and keeps about 5 MB per partition (older records are dropped), so
# the big topic gets 16 partitions.
mock_ctl create __tributary_checkpoints 1 1
mock_ctl create my43.shop.orders 16 1

mdb_sql <<'SQL'
CREATE DATABASE shop;
CREATE TABLE shop.customers (id INT PRIMARY KEY, name VARCHAR(40), balance DECIMAL(20,4));
CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, customer INT, amount DOUBLE, note TEXT);
CREATE TABLE shop.audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(20));
SQL
binlog_now

cat >"$WORK/p.yaml" <<YAML
pipeline: my43
sources:
$(mysql_yaml 4343 start)
    heartbeat_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 1000}
    lock_dsn: "$(pg_dsn)"
sinks:
  archive:
    type: file
    path: "$WORK/out.jsonl"
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: my43
    transactional: true
checkpoint:
  store: file
  path: "$WORK/checkpoint.json"
http:
  enabled: false
YAML
"$BIN" check -c "$WORK/p.yaml" >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }
expect_grep "check reports the binlog preconditions" "$WORK/check.out" "ok +binlog_format: "
mdb_sql -e "SET GLOBAL binlog_format = 'STATEMENT'"
"$BIN" check -c "$WORK/p.yaml" >"$WORK/check.bad" 2>&1 || true
expect_eq "check fails on binlog_format=STATEMENT, naming the variable" "1 1" \
    "$(grep -c '^1 problem(s) found' "$WORK/check.bad") $(grep -c 'FAIL binlog_format: ' "$WORK/check.bad")"
rc=0; timeout 60 "$BIN" run -c "$WORK/p.yaml" >"$WORK/run.bad" 2>&1 || rc=$?
expect_eq "run refuses to start, naming the variable" "1 1" \
    "$rc $(grep -c 'preconditions not met.*binlog_format' "$WORK/run.bad")"
mdb_sql -e "SET GLOBAL binlog_format = 'ROW'"

# ---- phase A: several tables, a large transaction ---------------------------
start_consumer
mdb_sql shop <<'SQL'
INSERT INTO customers VALUES (1, 'ann', 10.5), (2, 'bob', 0), (3, 'cy', 7);
BEGIN;
INSERT INTO orders VALUES (1, 1, 9.75, 'first'), (2, 2, 1e10, NULL);
UPDATE customers SET balance = balance - 9.75 WHERE id = 1;
INSERT INTO audit (what) VALUES ('order 1'), ('order 2');
COMMIT;
DELETE FROM customers WHERE id = 3;
INSERT INTO orders SELECT seq + 1000, seq % 7, seq / 3, CONCAT('bulk ', seq) FROM seq_1_to_20000;
UPDATE orders SET note = 'changed' WHERE id BETWEEN 1000 AND 1100;
SQL

# Phase A is through (and checkpointed) before the kills start, so that
# restarts resume from stored positions rather than from start_pos.
for _ in $(seq 1 600); do
    [ "$(grep -c '"value":{' "$WORK/out.jsonl" 2>/dev/null)" -ge 20109 ] && [ -s "$WORK/checkpoint.json" ] && break
    sleep 0.1
done

# ---- phase B: kill -9 under load --------------------------------------------
writer() {
    local t
    for t in $(seq 1 40); do
        mdb_sql shop -e "BEGIN;
            INSERT INTO customers VALUES ($t + 100, 'c$t', $t.25);
            INSERT INTO orders SELECT seq + $t * 100000, $t + 100, seq, 'w' FROM seq_1_to_$(( t % 30 + 1 ));
            UPDATE customers SET balance = balance + 1 WHERE id = $t + 99;
            DELETE FROM orders WHERE id = ($t - 1) * 100000 + 1;
            INSERT INTO audit (what) VALUES ('t$t');
            COMMIT;"
        if [ "$t" = 15 ]; then
            mdb_sql shop -e "UPDATE orders SET amount = amount + 1 WHERE id BETWEEN 1001 AND 16000"
        fi
        sleep 0.1
    done
}
writer &
WRITER_PID=$!
kill_while_writing
while [ "$KILLS" -lt 10 ]; do		# a fast writer: kill some more
    sleep 0.3; kill_consumer; KILLS=$((KILLS + 1)); start_consumer
done
mdb_sql shop -e "INSERT INTO audit (what) VALUES ('the end')"

# The witness: every change in the binlog since the start position.
"$CAT" --port "$MDB_PORT" --server-id 4344 --file "$FILE" --pos "$POS" --stop-at-end \
    >"$WORK/witness.jsonl" 2>"$WORK/witness.log"
jq -r 'select(.kind == "event") | "\(.commit_lsn):\(.seq)"' "$WORK/witness.jsonl" |
    sort >"$WORK/witness.ids"
total=$(wc -l <"$WORK/witness.ids")
expect_eq "the witness saw the workload (over 35000 changes)" t \
    "$([ "$total" -gt 35000 ] && echo t || echo f)"

# A change as "commit_lsn table key op": the witness's, and the file
# sink's (source.sequence[0] is commit_lsn).  The workload never touches
# a key twice in one transaction, so each change has its own.
jq -r 'select(.kind == "event") | "\(.commit_lsn) \(.table) \(.key | tojson) \(.op)"' \
    "$WORK/witness.jsonl" | sort >"$WORK/witness.changes"
file_changes() {
    jq -r 'select(.value != null) | .value as $v
        | "\($v.source.sequence | fromjson | .[0]) \($v.source.table) \(.key | tojson) \($v.op)"' \
        "$WORK/out.jsonl" 2>/dev/null
}
for _ in $(seq 1 600); do
    [ "$(file_changes | wc -l)" -ge "$total" ] && break
    sleep 0.1
done
stop_consumer
expect_eq "SIGTERM drains and exits 0 after $KILLS kills" 0 "$STOP_RC"
echo "# $total changes, $KILLS kills"
expect_eq "the witness's changes are distinct" "" "$(uniq -d "$WORK/witness.changes" | head -3)"
file_changes | sort >"$WORK/file.changes"
expect_eq "the file sink holds every change" "" \
    "$(comm -23 "$WORK/witness.changes" "$WORK/file.changes" | head -3 | tr '\n' ' ')"
expect_eq "and nothing else" "" "$(comm -13 "$WORK/witness.changes" "$WORK/file.changes" | head -3 | tr '\n' ' ')"
expect_eq "and none twice (inside the large transactions too)" "" \
    "$(uniq -d "$WORK/file.changes" | head -3 | tr '\n' ' ')"
expect_eq "topics are prefix.db.table" "my43.shop.audit my43.shop.customers my43.shop.orders" \
    "$(jq -r .topic "$WORK/out.jsonl" | sort -u | paste -sd' ')"

# Debezium's MySQL source block: the witness's server, GTID and file.
first=$(jq -c -n 'first(inputs | select(.kind == "event"))' "$WORK/witness.jsonl")
expect_eq "the source block has connector, db, server_id, gtid, file, pos, row, thread" \
    "$(jq -r '[("mysql"), .db, .table, (.pos.server_id|tostring), .pos.gtid, .pos.file, (.pos.event_pos|tostring), "0"] | join(" ")' <<<"$first") null" \
    "$(jq -r -n 'first(inputs | select(.value != null)) | .value.source | [.connector, .db, .table, (.server_id|tostring), .gtid, .file, (.pos|tostring), (.row|tostring), (.thread|tostring)] | join(" ")' "$WORK/out.jsonl")"

# Kafka by offsets: the id header is commit_lsn:seq in the LSN form.
jq -r 'select(.kind == "event") | "\(.commit_lsn) \(.seq)"' "$WORK/witness.jsonl" |
    awk '{ printf "%X/%X:%s\n", int($1 / 4294967296), $1 % 4294967296, $2 }' | sort >"$WORK/witness.kids"
"$TOOLS/kafka_dump" "$BOOT" my43. >"$WORK/dump"
awk -F'\t' '$6 != "-"' "$WORK/dump" | cut -f1 | sort >"$WORK/kafka.ids"
sort -u "$WORK/kafka.ids" >"$WORK/kafka.uniq"
expect_eq "Kafka holds every change" "" "$(comm -23 "$WORK/witness.kids" "$WORK/kafka.uniq" | head -3 | tr '\n' ' ')"
expect_eq "and nothing else" "" "$(comm -13 "$WORK/witness.kids" "$WORK/kafka.uniq" | head -3 | tr '\n' ' ')"
echo "# $(( $(wc -l <"$WORK/kafka.ids") - $(wc -l <"$WORK/kafka.uniq") )) Kafka records of aborted transactions visible through the mock"

# The server's rows equal the file sink's events applied in order.
for t in customers orders audit; do
    mdb_sql -N shop -e "SELECT * FROM $t ORDER BY id" >"$WORK/server.$t"
done
expect_eq "the events rebuild the server's rows, table by table" "customers ok|orders ok|audit ok" \
    "$(python3 - "$WORK" <<'PY'
import json, sys, decimal
work = sys.argv[1]
state = {}
for line in open(work + "/out.jsonl"):
    r = json.loads(line, parse_float=decimal.Decimal)
    v = r.get("value")
    if v is None:
        continue
    rows = state.setdefault(v["source"]["table"], {})
    k = json.dumps(r["key"], sort_keys=True)
    if v["op"] == "d":
        rows.pop(k, None)
    else:
        rows[k] = v["after"]
def same(a, b):
    if a is None:
        return b == "NULL"
    if isinstance(a, float) or isinstance(a, decimal.Decimal) and "e" in b.lower():
        return float(a) == float(b)
    if isinstance(a, decimal.Decimal):
        return str(a) == b or float(a) == float(b)
    return str(a) == b
out = []
for t in ("customers", "orders", "audit"):
    server = [l.rstrip("\n").split("\t") for l in open(work + "/server." + t)]
    mine = sorted(state.get(t, {}).values(), key=lambda r: r["id"])
    ok = len(server) == len(mine) and all(
        len(s) == len(m) and all(same(x, y) for x, y in zip(m.values(), s))
        for s, m in zip(server, mine))
    out.append("%s %s" % (t, "ok" if ok else "differs (%d server rows, %d rebuilt)" % (len(server), len(mine))))
print("|".join(out))
PY
)"

# The checkpoint (commit_lsn in the LSN form) is at or after the last
# change's transaction.
ck=$(jq -r '.commit_lsn' "$WORK/checkpoint.json" | awk -F/ '{ print strtonum("0x" $1) * 4294967296 + strtonum("0x" $2) }')
last=$(jq -r 'select(.kind == "event") | .commit_lsn' "$WORK/witness.jsonl" | tail -1)
expect_eq "the final checkpoint covers the last change" t "$([ "$ck" -ge "$last" ] && echo t || echo f)"
expect_grep "restarts resumed inside transactions or after them" "$WORK/run.log" \
    "resuming after binlog mariadb-bin\.[0-9]+:[0-9]+"
if grep -q "ERROR" "$WORK/run.log"; then echo "# errors logged:"; grep "ERROR" "$WORK/run.log" | cut -c1-200 | sort | uniq -c | head -5 || true; fi
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
