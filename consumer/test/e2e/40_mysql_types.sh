#!/usr/bin/env bash
# 40_mysql_types.sh: the MySQL/MariaDB binlog source decodes every column
# type (mysql_types.py lists them) exactly as a real MariaDB 10.11 server
# returns the same rows: inserts, updates (one changing the key) and
# deletes, compared value by value with a SELECT of the server's own
# renderings (CAST AS CHAR, HEX, BIN, ST_AsWKB).  Three servers: with
# binlog_row_metadata FULL (names, charsets, members from the binlog),
# MINIMAL and NO_LOG (names, members and, for NO_LOG, signedness and
# charsets from information_schema).  With FULL also: binlog_row_image
# MINIMAL images, a zero-date replacement value, DDL items, MariaDB's
# pre-10.1 fractional temporal format, a savepoint, and the preconditions
# check against a user that lacks privileges.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
TYPES="python3 $ROOT/consumer/test/e2e/mysql_types.py"

build_tool mysql_cat
CAT=$TOOL

# binlog_start: the server's current binlog file and offset.
binlog_start() {
    mdb_sql -N -e "SHOW MASTER STATUS" | awk '{print "--file " $1 " --pos " $2}'
}

# count_from OUT: the "N passed, N failed" line of a comparison, added to
# the totals (a comparison that did not finish is one failure).
count_from() {
    local line
    line=$(tail -n 1 "$1")
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        echo "not ok - the comparison did not finish"
        failed=$((failed + 1))
    fi
}

# types_round METADATA: a server with binlog_row_metadata=METADATA, the
# table, the changes, mysql_cat's events compared with the references.
types_round() {
    local md=$1 start
    mdb_start "binlog_row_metadata = $md"
    mdb_sql -e "CREATE DATABASE d1"
    start=$(binlog_start)
    {
        echo "USE d1;"
        $TYPES schema
        echo "SET time_zone = '+05:30';"
        $TYPES insert
    } | mdb_sql
    { echo "USE d1; SET time_zone = '+00:00';"; $TYPES ref-sql; } | mdb_sql -N -r >"$WORK/ref1-$md.jsonl"
    { echo "USE d1;"; $TYPES update; } | mdb_sql
    { echo "USE d1; SET time_zone = '+00:00';"; $TYPES ref-sql; } | mdb_sql -N -r >"$WORK/ref2-$md.jsonl"
    { echo "USE d1;"; $TYPES delete; } | mdb_sql
    # shellcheck disable=SC2086
    "$CAT" --port "$MDB_PORT" --server-id 901 $start --stop-at-end \
        >"$WORK/out-$md.jsonl" 2>"$WORK/cat-$md.log" || true
    # the start-time preconditions warn about MINIMAL/NO_LOG metadata
    expect_eq "[$md] mysql_cat read to the end without error" "" \
        "$(grep -v '^mysql_cat: precondition binlog_row_metadata: binlog_row_metadata is \(MINIMAL\|NO_LOG\): .*set binlog_row_metadata=FULL$' "$WORK/cat-$md.log")"
    expect_eq "[$md] a binlog_row_metadata warning at start unless FULL" "$([ "$md" = FULL ] && echo 0 || echo 1)" \
        "$(grep -c '^mysql_cat: precondition binlog_row_metadata' "$WORK/cat-$md.log")"
    echo "# comparing with binlog_row_metadata=$md"
    $TYPES compare "$WORK/out-$md.jsonl" "$WORK/ref1-$md.jsonl" "$WORK/ref2-$md.jsonl" \
        2>&1 | sed "s/^\(not \)\?ok - /&[$md] /" | tee "$WORK/cmp-$md.txt" || true
    count_from "$WORK/cmp-$md.txt"
}

types_round FULL

# ---- with the FULL server still up: more than types ----------------------
expect_eq "[FULL] the CREATE TABLE is a DDL item with its database" "1" \
    "$(grep -c '"kind":"ddl".*"db":"d1","statement":"CREATE TABLE t (' "$WORK/out-FULL.jsonl")"
expect_eq "[FULL] DDL items are whole groups (no row number)" "0" \
    "$(grep '"kind":"ddl"' "$WORK/out-FULL.jsonl" | grep -c '"id":"[^"]*:[0-9]*/[0-9]*"' || true)"

# binlog_row_image=MINIMAL in one session: key-only before images, changed
# columns only in after images, the rest listed as unchanged.
start=$(binlog_start)
mdb_sql d1 -e "SET SESSION binlog_row_image = 'MINIMAL';
    UPDATE t SET vcs = 'minimal' WHERE id = 1;
    DELETE FROM t WHERE id = 5;"
# shellcheck disable=SC2086
"$CAT" --port "$MDB_PORT" --server-id 902 $start --stop-at-end >"$WORK/minimal.jsonl"
expect_eq "[MINIMAL image] update: key-only before, the changed columns after (a stored generated one too), the others unchanged" "1" \
    "$(grep -c '"op":"u","db":"d1","table":"t","key":{"id":1},"before":{"id":1},"after":{"vcs":"minimal","gs":"minimal!"},"unchanged":\["id","ti",' "$WORK/minimal.jsonl")"
expect_eq "[MINIMAL image] delete: key-only before image" "1" \
    "$(grep -c '"op":"d","db":"d1","table":"t","key":{"id":5},"before":{"id":5},"after":null' "$WORK/minimal.jsonl")"

# A zero date written as the configured value instead of null.
start=$(binlog_start)
mdb_sql d1 -e "INSERT INTO t (id, dt, dtm, ts) VALUES (77, '0000-00-00', '2024-00-10 00:00:00', '0000-00-00 00:00:00')"
# shellcheck disable=SC2086
"$CAT" --port "$MDB_PORT" --server-id 903 $start --stop-at-end --zero-date 0000-00-00 >"$WORK/zero.jsonl"
expect_eq "zero dates become the configured value" "1" \
    "$(grep -c '"dt":"0000-00-00",[^}]*"dtm":"0000-00-00",[^}]*"ts":"0000-00-00"' "$WORK/zero.jsonl")"

# MariaDB's own format of TIME(n)/DATETIME(n)/TIMESTAMP(n) (before 10.1, or
# mysql56_temporal_format=OFF): logged under the old binlog types without
# the fraction's digits, which come from the schema's COLUMN_TYPE.
mdb_sql -e "SET GLOBAL mysql56_temporal_format = OFF"
start=$(binlog_start)
mdb_sql d1 -e "CREATE TABLE old53 (id INT PRIMARY KEY, t TIME(3), t6 TIME(6), d DATETIME(1), d6 DATETIME(6), s TIMESTAMP(2) NULL);
    SET time_zone = '+00:00';
    INSERT INTO old53 VALUES (1, '-838:59:59.999', '-00:00:00.000001', '9999-12-31 23:59:59.9', '1000-01-01 00:00:00.000001', '2038-01-19 03:14:07.99'),
        (2, '12:34:56.007', '838:59:59', '2024-00-00 00:00:00.0', '2024-02-29 12:34:56.5', '1970-01-01 00:00:01.01')"
mdb_sql -e "SET GLOBAL mysql56_temporal_format = ON"
# shellcheck disable=SC2086
"$CAT" --port "$MDB_PORT" --server-id 906 $start --stop-at-end >"$WORK/old53.jsonl" 2>"$WORK/old53.log" || true
expect_eq "MariaDB's pre-10.1 fractional TIME/DATETIME/TIMESTAMP decode as the server returns them" \
    '{"id":1,"t":"-838:59:59.999","t6":"-00:00:00.000001","d":"9999-12-31T23:59:59.9","d6":"1000-01-01T00:00:00.000001","s":"2038-01-19T03:14:07.99Z"}|{"id":2,"t":"12:34:56.007","t6":"838:59:59","d":null,"d6":"2024-02-29T12:34:56.5","s":"1970-01-01T00:00:01.01Z"}' \
    "$(grep '"table":"old53"' "$WORK/old53.jsonl" | sed 's/.*"after":\({[^}]*}\).*/\1/' | paste -sd'|')"

# A savepoint (ORMs set one per atomic block) rolled back inside an InnoDB
# transaction: the server logs SAVEPOINT and drops the undone events; the
# SAVEPOINT is no DDL item and the change before it stays the last.
start=$(binlog_start)
mdb_sql d1 -e "BEGIN; INSERT INTO old53 (id) VALUES (3); SAVEPOINT sp1; INSERT INTO old53 (id) VALUES (4);
    ROLLBACK TO SAVEPOINT sp1; COMMIT"
# shellcheck disable=SC2086
"$CAT" --port "$MDB_PORT" --server-id 907 $start --stop-at-end >"$WORK/savepoint.jsonl" 2>"$WORK/savepoint.log" || true
expect_eq "savepoint: one change (id 3), the last of its transaction, no DDL item" \
    '3:true|0' \
    "$(grep '"kind":"event"' "$WORK/savepoint.jsonl" | sed 's/.*"after":{"id":\([0-9]*\),.*"last":\([a-z]*\),.*/\1:\2/' | paste -sd' ')|$(grep -c '"kind":"ddl"' "$WORK/savepoint.jsonl" || true)"

# Preconditions: a user with nothing but SELECT on d1.
mdb_sql -e "CREATE USER 'weak'@'%' IDENTIFIED BY 'pw'; GRANT SELECT ON d1.* TO 'weak'@'%';
    CREATE USER 'cdc'@'%' IDENTIFIED BY 'pw'; GRANT SELECT, REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'cdc'@'%'"
rc=0
MYSQL_TEST_PW=pw "$CAT" --port "$MDB_PORT" --user weak --password-env MYSQL_TEST_PW --server-id 1 \
    --check --db d1 --db other >"$WORK/check-weak.txt" || rc=$?
expect_eq "check: exit status 3 when a precondition fails" "3" "$rc"
expect_eq "check: each failure names what to fix" \
    "FAIL server_id|FAIL REPLICATION SLAVE|FAIL REPLICATION CLIENT|FAIL SELECT" \
    "$(grep '^FAIL' "$WORK/check-weak.txt" | sed 's/:.*//' | paste -sd'|')"
expect_eq "check: the missing SELECT names the database and the GRANT" "1" \
    "$(grep -c 'lacks SELECT on database other .*GRANT SELECT ON other\.\* TO it' "$WORK/check-weak.txt")"
rc=0
MYSQL_TEST_PW=pw "$CAT" --port "$MDB_PORT" --user cdc --password-env MYSQL_TEST_PW --server-id 904 \
    --check --db d1 >"$WORK/check-cdc.txt" || rc=$?
expect_eq "check: a well-configured replica user passes" "0" "$rc"
expect_eq "check: ROW format and FULL image reported ok" "2" \
    "$(grep -c -e '^OK binlog_format' -e '^OK binlog_row_image' "$WORK/check-cdc.txt")"
mdb_sql -e "SET GLOBAL binlog_format = 'STATEMENT'"
rc=0
"$CAT" --port "$MDB_PORT" --server-id 904 --check >"$WORK/check-stmt.txt" || rc=$?
expect_eq "check: binlog_format=STATEMENT fails naming the variable and the fix" "3 1" \
    "$rc $(grep -c "^FAIL binlog_format: binlog_format is STATEMENT: set binlog_format=ROW" "$WORK/check-stmt.txt")"
rc=0
# shellcheck disable=SC2046
"$CAT" --port "$MDB_PORT" --server-id 905 $(binlog_start) --stop-at-end >/dev/null 2>"$WORK/start-stmt.log" || rc=$?
expect_eq "start: binlog_format=STATEMENT refuses to stream, naming the variable" "1 1" \
    "$rc $(grep -c "preconditions not met (docs/MYSQL.md): binlog_format: binlog_format is STATEMENT: set binlog_format=ROW" "$WORK/start-stmt.log")"
expect_eq "account statements (CREATE USER ... IDENTIFIED BY) never surface" "0" \
    "$(grep -c 'IDENTIFIED' "$WORK"/out-*.jsonl "$WORK"/zero.jsonl | awk -F: '{s+=$2} END {print s+0}')"
mdb_cleanup

types_round MINIMAL
mdb_cleanup
types_round NO_LOG
# A table WITH SYSTEM VERSIONING under NO_LOG: information_schema does not
# list its hidden row_start and row_end, which every row image carries
# (after the other columns); the names, types and key are as FULL gives.
start=$(binlog_start)
mdb_sql d1 -e "CREATE TABLE sv (id INT PRIMARY KEY, a INT) WITH SYSTEM VERSIONING;
    INSERT INTO sv VALUES (1, 1); UPDATE sv SET a = 2 WHERE id = 1"
# shellcheck disable=SC2086
"$CAT" --port "$MDB_PORT" --server-id 908 $start --stop-at-end >"$WORK/sv.jsonl" 2>"$WORK/sv.log" || true
expect_eq "[NO_LOG] system-versioned table: the hidden row_start and row_end named, row_end in the key" \
    'c {"id":1,"row_end":"2038-01-19T03:14:07.999999Z"} id,a,row_start,row_end|u {"id":1,"row_end":"2038-01-19T03:14:07.999999Z"} id,a,row_start,row_end|c {"id":1,"row_end":"DATE"} id,a,row_start,row_end' \
    "$(grep '"table":"sv"' "$WORK/sv.jsonl" | jq -c -r '"\(.op) \(.key) \(.after | keys_unsorted | join(","))"' |
        sed 's/"row_end":"20[0-2][0-9]-[^"]*"/"row_end":"DATE"/' | paste -sd'|')"
mdb_cleanup

expect_eq "no sanitizer report from the tool" "" \
    "$(grep -l 'Sanitizer\|runtime error' "$WORK"/*.log 2>/dev/null | tr '\n' ' ')"
e2e_finish
