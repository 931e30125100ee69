#!/usr/bin/env bash
# 85_mysql_snapshot_ddl.sh: ALTER TABLE while the MySQL/MariaDB source's
# initial snapshot copies (issue 13, "DDL during a snapshot"), against a
# real MariaDB 10.11, one snapshot worker, small chunks.
#
# Tables in copy order (largest first): `first` (copied when the ALTERs
# run), `mid` (being copied), `later` (not copied yet).  While `mid` is
# being copied: ALTERs on `first` (ADD COLUMN) and `mid` (MODIFY) are
# started in the background, and `later` gets a row, DROP COLUMN, a row.
# The snapshot's transaction holds the metadata locks of the tables it
# read, so the first two ALTERs wait until it ends; `later` is altered at
# once, and the snapshot's read of it fails with ER_TABLE_DEF_CHANGED
# (1412) or, its column gone, 1054.  Checks: the ALTER of `first` waited
# for the snapshot's metadata lock; the daemon fails with an error naming
# `later`, the ALTER and what to do (take a new snapshot); the rows of
# `first` and `mid` delivered were copied once in the consistent point's
# shape, none of `later`; the waiting ALTERs ran afterwards.  Then the way
# out docs/MYSQL.md gives (checkpoint and the file sink's position
# removed, a new snapshot): every table copied in its new shape; streamed
# inserts of `later` before and after an ADD COLUMN carry the columns of
# their binlog position; the stream delivers every change after the new
# snapshot's position exactly once (the witness is the binlog, decoded by
# tools/mysql_cat) and the rebuilt rows equal the server's.  (schemas:
# registry versions are not checked here.)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../../../scripts/lib/mariadb.sh
source "$ROOT/scripts/lib/mariadb.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init
trap 'mdb_cleanup; e2e_cleanup' EXIT
E2E_PIDS+=" ALTER_PID"
ALTER_PID=

build_consumer
build_tool mysql_cat
CAT=$TOOL
pgc_start						# holds the pipeline lock (lock_dsn)
mdb_start

cat >"$WORK/p.yaml" <<YAML
pipeline: k85
sources:
  db:
    type: mysql
    host: 127.0.0.1
    port: $MDB_PORT
    user: root
    server_id: 8585
    heartbeat_ms: 200
    snapshot_workers: 1
    snapshot_chunk_rows: 500
    snapshot_tables: [shop.first, shop.mid, shop.later, shop.marker]
    lock_dsn: "$(pg_dsn)"
sinks:
  archive: {type: file, path: "$WORK/out.jsonl", rotate_bytes: 0}
checkpoint: {store: file, path: "$WORK/checkpoint.json"}
http: {enabled: false}
YAML

mdb_sql <<SQL
CREATE DATABASE shop;
USE shop;
CREATE TABLE first (id INT PRIMARY KEY, v VARCHAR(40));
CREATE TABLE mid (id INT PRIMARY KEY, v VARCHAR(40), n INT);
CREATE TABLE later (id INT PRIMARY KEY, v VARCHAR(40), n INT);
CREATE TABLE marker (id INT PRIMARY KEY);
INSERT INTO first SELECT seq, CONCAT('f', seq) FROM seq_1_to_20000;
INSERT INTO mid SELECT seq, CONCAT('m', seq), seq FROM seq_1_to_300000;
INSERT INTO later SELECT seq, CONCAT('l', seq), seq FROM seq_1_to_2000;
SQL

# acked TABLE: rows of TABLE the checkpoint says the sink acknowledged.
acked() {
    jq -r --arg t "$1" '.position.snapshot.tables[]? | select(.table == $t) | .rows' \
        "$WORK/checkpoint.json" 2>/dev/null || echo 0
}

start_consumer
for _ in $(seq 1 1200); do
    n=$(acked mid); [ "${n:-0}" -gt 0 ] && break
    sleep 0.05
done
echo "# ALTERs start with ${n:-0} rows of mid acknowledged"
mdb_sql shop -e "INSERT INTO later VALUES (900001, 'before', 1);
    UPDATE later SET v = 'u-before' WHERE id = 5;"
( mdb_sql shop -e "ALTER TABLE first ADD COLUMN extra INT NOT NULL DEFAULT 7;
    INSERT INTO first VALUES (900001, 'after', 8);
    ALTER TABLE mid MODIFY v VARCHAR(80) NOT NULL DEFAULT 'd';
    UPDATE mid SET v = 'u-after' WHERE id = 7;" ) &
ALTER_PID=$!
mdb_sql shop -e "ALTER TABLE later DROP COLUMN n;
    INSERT INTO later VALUES (900002, 'after');
    UPDATE later SET v = 'u-after' WHERE id = 6;
    DELETE FROM later WHERE id = 8;"
waiting=0
for _ in $(seq 1 40); do
    waiting=$(mdb_sql -N -e "SELECT COUNT(*) FROM information_schema.PROCESSLIST
        WHERE STATE = 'Waiting for table metadata lock' AND INFO LIKE 'ALTER TABLE first%'")
    [ "$waiting" = 1 ] && break
    sleep 0.05
done
echo "# the ALTER of first waits for the snapshot's metadata lock: $waiting"
set +e
wait "$RUN_PID"; RC1=$?
set -e
RUN_PID=
wait "$ALTER_PID"; ALTER_PID=

# ---- the first run: what an ALTER mid-copy does
expect_eq "the ALTER of the copied table waited for the snapshot's metadata lock" 1 "$waiting"
grep ERROR "$WORK/run.log" | sed 's/^/# /'
expect_eq "the daemon failed" 1 "$(( RC1 != 0 ))"
expect_grep "the error names the table not yet copied, the ALTER and what to do" "$WORK/run.log" \
    "snapshot of shop.later: altered \\(ALTER TABLE\\) after the snapshot's consistent point.*take a new snapshot.*error 1054"
mv "$WORK/out.jsonl" "$WORK/out1.jsonl"
# copied TABLE FILE: "rows distinct-ids rows-with-extra" of TABLE's op r
copied() {
    jq -r --arg t "$1" 'select(.value.op == "r" and .value.source.table == $t)
        | "\(.key.id) \(.value.after | has("extra"))"' "$2" |
        awk '{ n++; ids[$1] = 1; if ($2 == "true") x++ } END { printf "%d %d %d\n", n, length(ids), x }'
}
expect_eq "first was copied whole, once, in the shape of the consistent point" \
    "20000 20000 0" "$(copied first "$WORK/out1.jsonl")"
read -r n ids x < <(copied mid "$WORK/out1.jsonl")
echo "# $n rows of mid delivered before the failure"
expect_eq "mid's delivered rows: each once, in the shape of the consistent point" "$n 0" "$ids $x"
expect_eq "no row of later was copied" "0 0 0" "$(copied later "$WORK/out1.jsonl")"
expect_eq "the waiting ALTERs ran once the snapshot ended" "1 80" \
    "$(mdb_sql -N shop -e "SELECT COUNT(*) FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'first' AND COLUMN_NAME = 'extra';
        SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = 'mid' AND COLUMN_NAME = 'v'" | paste -sd' ')"

# ---- the documented way out: a new snapshot, in the new shapes
rm -f "$WORK/checkpoint.json" "$WORK/out.jsonl.pos"
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
wait_log "$WORK/run2.log" 'streaming from binlog' 120 ||
    { fail "the new snapshot finished" "see below"; cat "$WORK/run2.log"; }
mdb_sql shop -e "INSERT INTO later VALUES (900003, 'pre');
    ALTER TABLE later ADD COLUMN z INT NULL;
    INSERT INTO later VALUES (900004, 'post', 2);
    UPDATE later SET z = 1 WHERE z IS NULL;
    UPDATE first SET extra = 9 WHERE id = 3;
    DELETE FROM mid WHERE id = 4;
    INSERT INTO marker VALUES (1)"
for _ in $(seq 1 1200); do
    grep -q '"table":"marker"' "$WORK/out.jsonl" 2>/dev/null && break
    sleep 0.1
done
stop_consumer
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"
expect_eq "first copied again, with its new column" "20001 20001 20001" \
    "$(copied first "$WORK/out.jsonl")"
expect_eq "later copied whole (2001 rows, one deleted), without n" "2001 2001 0" \
    "$(jq -r 'select(.value.op == "r" and .value.source.table == "later")
        | "\(.key.id) \(.value.after | has("n"))"' "$WORK/out.jsonl" |
        awk '{ n++; ids[$1] = 1; if ($2 == "true") x++ } END { printf "%d %d %d\n", n, length(ids), x }')"
# shape TABLE ID: the columns of TABLE's streamed insert of ID
shape() {
    jq -r --arg t "$1" --argjson id "$2" 'select(.value.op == "c" and .value.source.table == $t
        and .key.id == $id) | .value.after | keys_unsorted | join(",")' "$WORK/out.jsonl"
}
expect_eq "a streamed insert before the ALTER has the old columns" "id,v" "$(shape later 900003)"
expect_eq "a streamed insert after the ALTER has the new columns" "id,v,z" "$(shape later 900004)"

{
    mdb_sql -N shop -e "SELECT JSON_OBJECT('id', id, 'v', v, 'extra', extra) FROM first" | sed 's/^/first /'
    mdb_sql -N shop -e "SELECT JSON_OBJECT('id', id, 'v', v, 'n', n) FROM mid" | sed 's/^/mid /'
    mdb_sql -N shop -e "SELECT JSON_OBJECT('id', id, 'v', v, 'z', z) FROM later" | sed 's/^/later /'
} >"$WORK/server.rows"
snapshot_check "$WORK/out.jsonl" "$WORK/run2.log" 8586 "$WORK/server.rows"

e2e_finish
