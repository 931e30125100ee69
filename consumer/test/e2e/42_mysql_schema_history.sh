#!/usr/bin/env bash
# 42_mysql_schema_history.sh: the MySQL/MariaDB source's schema history
# file (mysql_history_file.h) against a real MariaDB 10.11 with
# binlog_row_metadata=NO_LOG (MariaDB's default: no column names in the
# binlog).  A reader keeps up while a table is created, a column renamed
# and another dropped; a restart from before all of it then decodes each
# event with the shape it was written with, from the file alone, while
# the same restart without the file cannot.  Reading again adds nothing
# to the file; a damaged file is refused, naming the file and line.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
CAT_PID=
E2E_PIDS+=" CAT_PID"

build_tool mysql_cat
CAT=$TOOL
HIST=$WORK/history.jsonl
mdb_start "binlog_row_metadata = NO_LOG"
mdb_sql -e "CREATE DATABASE d1"
read -r FILE POS < <(mdb_sql -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')

# afters FILE: the after images of the event lines, one a line.
afters() { grep '"kind":"event"' "$1" | sed -E 's/.*"after":(\{[^}]*\}).*/\1/' || true; }

# ---- a reader that keeps up across the DDLs ----------------------------------
"$CAT" --port "$MDB_PORT" --server-id 921 --file "$FILE" --pos "$POS" --heartbeat-ms 200 \
    --schema-history "$HIST" >"$WORK/live.jsonl" 2>"$WORK/live.log" &
CAT_PID=$!
mdb_sql d1 -e "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10), b INT); INSERT INTO t VALUES (1, 'x', 5)"
wait_lines "$WORK/live.jsonl" 4 30 || true
mdb_sql d1 -e "ALTER TABLE t CHANGE a renamed VARCHAR(10); INSERT INTO t VALUES (2, 'y', 6)"
wait_lines "$WORK/live.jsonl" 8 30 || true
mdb_sql d1 -e "ALTER TABLE t DROP COLUMN b; INSERT INTO t VALUES (3, 'z')"
wait_lines "$WORK/live.jsonl" 12 30 || true
kill -TERM "$CAT_PID"; wait "$CAT_PID" 2>/dev/null || true; CAT_PID=
expected='{"id":1,"a":"x","b":5}|{"id":2,"renamed":"y","b":6}|{"id":3,"renamed":"z"}'
expect_eq "live: each change with its table's shape at the time" "$expected" \
    "$(afters "$WORK/live.jsonl" | paste -sd'|')"
# 2 DDL positions: the CREATE TABLE and the CHANGE are not derived from their
# text (a VARCHAR without a collation gets the table's default, which the
# binlog does not say), so t is read from information_schema after each;
# the DROP COLUMN's version is derived (mysql_ddl.h): 3 versions
expect_eq "the file holds 2 DDLs and 3 versions" "2 3" \
    "$(grep -c '^{"ddl":"0-1-[0-9]*/mariadb-bin.000001:[0-9]*"}$' "$HIST") $(grep -c '^{"version":{"db":"d1","table":"t","from":"0-1-' "$HIST")"
lines=$(wc -l <"$HIST")

# ---- the server has moved on: restart from the start ----------------------------
"$CAT" --port "$MDB_PORT" --server-id 922 --file "$FILE" --pos "$POS" --stop-at-end \
    --schema-history "$HIST" >"$WORK/again.jsonl" 2>"$WORK/again.log"
expect_eq "restart with the file: old events decode with their old shapes" "$expected" \
    "$(afters "$WORK/again.jsonl" | paste -sd'|')"
expect_eq "reading again adds nothing to the file" "$lines" "$(wc -l <"$HIST")"
rc=0
"$CAT" --port "$MDB_PORT" --server-id 923 --file "$FILE" --pos "$POS" --stop-at-end \
    >"$WORK/nofile.jsonl" 2>"$WORK/nofile.log" || rc=$?
expect_eq "the same restart without the file fails, saying why" "1 1" \
    "$rc $(grep -c "table d1.t: the schema history has 2 columns but the binlog's TABLE_MAP has 3" "$WORK/nofile.log")"

# ---- a damaged file -------------------------------------------------------------
echo '{"version":{"db":"d1"}}' >>"$HIST"
rc=0
"$CAT" --port "$MDB_PORT" --server-id 924 --file "$FILE" --pos "$POS" --stop-at-end \
    --schema-history "$HIST" >/dev/null 2>"$WORK/damaged.log" || rc=$?
expect_eq "a damaged record: exit 1, the file and line named" "1 1" \
    "$rc $(grep -c "schema history $HIST:$((lines + 1)): a version needs" "$WORK/damaged.log")"

expect_eq "no sanitizer report from the tool" "" \
    "$(grep -l 'Sanitizer\|runtime error' "$WORK"/*.log 2>/dev/null | tr '\n' ' ')"
e2e_finish
