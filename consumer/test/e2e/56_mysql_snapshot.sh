#!/usr/bin/env bash
# 56_mysql_snapshot.sh: the MySQL/MariaDB source's initial snapshot
# (issue 13 item 5) against a real MariaDB 10.11, with `tributary run`
# into a file sink.
#
# Round 1, writes during the copy: four tables (a plain key, a composite
# key with text, a binary key, no key) are filled, then a writer inserts,
# updates and deletes while the pipeline copies them in 2 workers and
# small chunks, and keeps writing after.  Checks: the snapshot took its
# position without a lock (the log says so); every row that existed at
# the snapshot's binlog position is one `r` event and every later change
# is in the stream exactly once (the witness is the binlog after that
# position, decoded by tools/mysql_cat); no row is both copied and
# inserted; the rows rebuilt from the events equal the server's; every
# id is unique; the very last snapshot event is marked last.
# Round 2, types: the table of mysql_types.py (every column type), copied
# under `snapshot_locking: flush` (the brief FLUSH TABLES WITH READ LOCK),
# compared value by value with what the server returns.
# Round 3: a table WITH SYSTEM VERSIONING is copied, with its hidden
# period columns.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init
TYPES="python3 $ROOT/consumer/test/e2e/mysql_types.py"

mysql_snapshot_servers

# pipeline NAME OUT EXTRA...: a pipeline of the MariaDB source into a
# file sink OUT, with extra source lines.
pipeline() {
    local name=$1 out=$2 line
    shift 2
    {
        echo "pipeline: $name"
        echo "sources:"
        echo "  db:"
        echo "    type: mysql"
        echo "    host: 127.0.0.1"
        echo "    port: $MDB_PORT"
        echo "    user: root"
        echo "    server_id: 5656"
        echo "    heartbeat_ms: 200"
        echo "    lock_dsn: \"$(pg_dsn)\""
        for line in "$@"; do echo "    $line"; done
        echo "sinks:"
        echo "  archive: {type: file, path: \"$out\", rotate_bytes: 0}"
        echo "checkpoint: {store: file, path: \"$WORK/$name.checkpoint\"}"
        echo "http: {enabled: false}"
    } >"$WORK/$name.yaml"
}

# wait_for FILE PATTERN: up to 120 s for a line matching PATTERN.
wait_for() {
    local i
    for i in $(seq 1 1200); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# ---- round 1: writes during the copy ---------------------------------------
mdb_sql <<'SQL'
CREATE DATABASE shop;
USE shop;
CREATE TABLE shop.a (id INT PRIMARY KEY, v VARCHAR(40), n INT);
CREATE TABLE shop.b (k1 INT, k2 VARCHAR(10), x DOUBLE, PRIMARY KEY (k1, k2));
CREATE TABLE shop.c (id VARBINARY(16) PRIMARY KEY, note TEXT);
CREATE TABLE shop.d (k INT, s VARCHAR(20));
CREATE TABLE shop.marker (id INT PRIMARY KEY);
INSERT INTO shop.a SELECT seq, CONCAT('a', seq), seq FROM seq_1_to_150000;
INSERT INTO shop.b SELECT seq % 50, CONCAT('k', seq), seq / 7 FROM seq_1_to_3000;
INSERT INTO shop.c SELECT UNHEX(MD5(seq)), CONCAT('c', seq) FROM seq_1_to_500;
INSERT INTO shop.d SELECT seq, CONCAT('d', seq) FROM seq_1_to_100;
SQL

writer() {
    local t
    for t in $(seq 1 60); do
        mdb_sql shop -e "BEGIN;
            INSERT INTO a VALUES ($t + 1000000, 'w$t', $t);
            UPDATE a SET n = n + 1000 WHERE id IN ($t * 97, $t * 131, $t + 1000000 - 1);
            DELETE FROM a WHERE id = $t * 211;
            INSERT INTO b VALUES ($t, 'w$t', $t);
            UPDATE b SET x = -x WHERE k1 = $t % 50 AND k2 = 'k$(( t * 50 + t % 50 ))';
            INSERT INTO c VALUES (UNHEX(MD5($t + 100000)), 'w$t');
            COMMIT;"
        sleep 0.1
    done
}

pipeline r1 "$WORK/r1.jsonl" "snapshot_workers: 2" "snapshot_chunk_rows: 500"
writer &
WRITER_PID=$!
sleep 0.5
start_consumer "$WORK/r1.yaml" "$WORK/r1.log"
wait "$WRITER_PID"; WRITER_PID=
mdb_sql shop -e "INSERT INTO marker VALUES (1)"
wait_for "$WORK/r1.jsonl" '"table":"marker"' || true
stop_consumer
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"
expect_grep "the snapshot was taken without a lock" "$WORK/r1.log" \
    "consistent snapshot at binlog .* taken without a lock"
for t in a b c d; do
    mdb_sql -N shop -e "SELECT JSON_OBJECT($(mdb_sql -N -e "SELECT GROUP_CONCAT(CONCAT('''', COLUMN_NAME, ''', ', IF(DATA_TYPE LIKE '%binary', CONCAT('TO_BASE64(', COLUMN_NAME, ')'), COLUMN_NAME)) ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'shop' AND TABLE_NAME = '$t'")) FROM $t" \
        | sed "s/^/$t /" >>"$WORK/server.rows"
done
snapshot_check "$WORK/r1.jsonl" "$WORK/r1.log" 5657 "$WORK/server.rows"
expect_eq "the writer committed both before and after the snapshot's position" "t t" \
    "$(jq -r 'select(.value.source.table == "a" and .key.id > 1000000) | .value.op' "$WORK/r1.jsonl" |
        sort -u | awk '$1 == "r" {r = "t"} $1 == "c" {c = "t"} END {print (r ? r : "f"), (c ? c : "f")}')"

# ---- round 2: every column type, under the brief lock -----------------------
{
    echo "CREATE DATABASE d1; USE d1;"
    $TYPES schema
    echo "SET time_zone = '+05:30';"
    $TYPES insert
} | mdb_sql
{ echo "USE d1; SET time_zone = '+00:00';"; $TYPES ref-sql; } | mdb_sql -N -r >"$WORK/ref.jsonl"
pipeline r2 "$WORK/r2.jsonl" "snapshot_locking: flush" "snapshot_tables: [d1.t]" \
    "snapshot_chunk_rows: 3"
start_consumer "$WORK/r2.yaml" "$WORK/r2.log"
wait_for "$WORK/r2.log" "streaming from binlog" || true
stop_consumer
expect_grep "snapshot_locking: flush takes the brief global read lock" "$WORK/r2.log" \
    "consistent snapshot at binlog .* taken under a brief FLUSH TABLES WITH READ LOCK"
$TYPES compare-snapshot "$WORK/r2.jsonl" "$WORK/ref.jsonl" | tee "$WORK/cmp2.txt" || true
count_from "$WORK/cmp2.txt"

# ---- round 3: a table WITH SYSTEM VERSIONING -------------------------------
# information_schema calls it SYSTEM VERSIONED, not BASE TABLE; its rows
# are copied as the stream writes them: with the hidden row_start and
# row_end, and row_end in the key (the current rows only: row_end is the
# end of time).
mdb_sql d1 -e "CREATE TABLE sv (id INT PRIMARY KEY, a INT) WITH SYSTEM VERSIONING;
    INSERT INTO sv VALUES (1, 1), (2, 2), (3, 3); UPDATE sv SET a = 20 WHERE id = 2; DELETE FROM sv WHERE id = 3"
pipeline r3 "$WORK/r3.jsonl" "snapshot_tables: [d1.sv]" "snapshot_chunk_rows: 1"
start_consumer "$WORK/r3.yaml" "$WORK/r3.log"
wait_for "$WORK/r3.log" "streaming from binlog" || true
stop_consumer
expect_eq "a system-versioned table: its current rows copied, with row_start, row_end and row_end in the key" \
    '1 1 true {"id":1,"row_end":"2038-01-19T03:14:07.999999Z"}|2 20 true {"id":2,"row_end":"2038-01-19T03:14:07.999999Z"}' \
    "$(jq -c -r 'select(.value.op == "r") | "\(.value.after.id) \(.value.after.a) \(.value.after.row_start != null) \(.key)"' \
        "$WORK/r3.jsonl" | sort | paste -sd'|')"

e2e_finish
