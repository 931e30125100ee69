#!/usr/bin/env bash
# 94_mysql_ddl_parsed.sh: DDL statements parsed into the MySQL/MariaDB
# source's schema history (issue 13, item 4; docs/MYSQL.md, Schema
# history), against a real MariaDB 10.11 with binlog_row_metadata=MINIMAL
# (no column names in the binlog: they come from the history).
#
# A daemon streams a table, then stops.  While it is stopped: inserts,
# ALTER ADD COLUMN ... AFTER, RENAME COLUMN (same type, same count), DROP
# COLUMN, MODIFY (INT to BIGINT), an insert after each; last an ADD COLUMN
# of a VARCHAR whose collation the statement does not say (the table's
# default): uncertain.  The restart reads all of it long after the server
# moved on.  Checks: every event has the names and values of its own
# binlog position (per column name, in the file sink); the log says
# nothing uncertain for the parsed statements, and one fallback line for
# the last, naming it and why; the history file holds the derived
# versions.  Then a second start from the first position with the same
# history file (checkpoint and sink removed): the same events, and the
# history file gains nothing.  On the code before the parser (which read
# the table's next version from information_schema as the server has it
# at restart) the restart fails or decodes with later names.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_consumer
mdb_start "binlog_row_metadata = MINIMAL"
mdb_sql <<'SQL'
CREATE DATABASE shop;
CREATE TABLE shop.t (id INT PRIMARY KEY, a INT, b INT, c INT);
SQL
binlog_now
HIST=$WORK/history.jsonl

cat >"$WORK/p.yaml" <<YAML
pipeline: my94
sources:
$(mysql_yaml 9494 start)
    snapshot: never
    heartbeat_ms: 200
    schema_history: "$HIST"
$(archive_yaml "$WORK/out.jsonl" "$WORK/checkpoint.json")
YAML

# wait_id N: up to 60 s for the insert of id N in the file sink.
wait_id() {
    for _ in $(seq 1 600); do
        # (jq 1.6's -e is true for an empty file: look at what it prints)
        [ -n "$(jq -c --argjson id "$1" 'select(.value.op == "c" and .key.id == $id)' \
            "$WORK/out.jsonl" 2>/dev/null)" ] && return 0
        sleep 0.1
    done
    return 1
}
# stop: stop_consumer, or reap a daemon that already exited (its status
# in STOP_RC either way).
stop() {
    if kill -0 "$RUN_PID" 2>/dev/null; then stop_consumer; return; fi
    STOP_RC=0
    wait "$RUN_PID" || STOP_RC=$?
    RUN_PID=
}
# afters: the inserts' after images, in order, one a line.
afters() { jq -c 'select(.value.op == "c") | .value.after' "$WORK/out.jsonl" | paste -sd'|'; }

start_consumer
mdb_sql shop -e "INSERT INTO t VALUES (1, 10, 20, 30)"
wait_id 1 || fail "the running daemon streamed the first insert" "see run.log"
stop

# ---- while the daemon is stopped ------------------------------------------------
mdb_sql shop <<'SQL'
INSERT INTO t VALUES (2, 11, 21, 31);
ALTER TABLE t ADD COLUMN d INT AFTER a;
INSERT INTO t VALUES (3, 12, 100, 22, 32);
ALTER TABLE t RENAME COLUMN b TO bb;
INSERT INTO t VALUES (4, 13, 101, 23, 33);
ALTER TABLE `t` DROP COLUMN c;
INSERT INTO t VALUES (5, 14, 102, 24);
ALTER TABLE t MODIFY a BIGINT /* wider */ NOT NULL;
INSERT INTO t VALUES (6, 15000000000, 103, 25);
ALTER TABLE t ADD COLUMN note VARCHAR(20);
INSERT INTO t VALUES (7, 16, 104, 26, 'seven');
SQL
start_consumer
wait_id 7 || true
stop

expected='{"id":1,"a":10,"b":20,"c":30}|{"id":2,"a":11,"b":21,"c":31}|{"id":3,"a":12,"d":100,"b":22,"c":32}|{"id":4,"a":13,"d":101,"bb":23,"c":33}|{"id":5,"a":14,"d":102,"bb":24}|{"id":6,"a":15000000000,"d":103,"bb":25}|{"id":7,"a":16,"d":104,"bb":26,"note":"seven"}'
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"
expect_eq "every insert has the names and values of its own binlog position" "$expected" "$(afters)"
expect_no_grep "no error in the log" "$WORK/run.log" "ERROR"
expect_eq "the log says one statement was not derived" 1 \
    "$(grep -c 'schema history: DDL at .* not derived' "$WORK/run.log" || true)"
expect_grep "the fallback line names the statement and why" "$WORK/run.log" \
    "schema history: DDL at 0-1-[0-9]*/mariadb-bin.000001:[0-9]* not derived \\(column note: its collation \\(the table's default\\) is not known here\\): ALTER TABLE t ADD COLUMN note VARCHAR\\(20\\); the next version of each table is read from information_schema"
expect_eq "the history file holds the 4 derived versions, from their DDLs" \
    "id,a,d,b,c id,a,d,bb,c id,a,d,bb id,a,d,bb" \
    "$(jq -r 'select(.version.from != null and .version.table == "t") | [.version.cols[].name] | join(",")' "$HIST" | head -4 | paste -sd' ')"
expect_eq "the MODIFY's version: a is bigint(20), not null" "bigint bigint(20) false" \
    "$(jq -r 'select(.version.from != null and .version.table == "t") | .version.cols[1] | "\(.type) \(.column_type) \(.nullable)"' "$HIST" | sed -n 4p)"

# ---- the checkpoint: the numbers are the position --------------------------------
# The MySQL source resumes by the numbers (resume_opaque is false), so the
# streaming checkpoint's "position" is null by design (docs/MYSQL.md,
# "Positions and resume"); `check` shows the position they stand for.
"$BIN" check -c "$WORK/p.yaml" >"$WORK/check.out" 2>&1 || true
ck=$(jq -r '.commit_lsn' "$WORK/checkpoint.json")
expect_eq "the streaming checkpoint keeps no opaque position" null "$(jq -c '.position' "$WORK/checkpoint.json")"
expect_grep "check shows the checkpoint's position: binlog file number and offset" "$WORK/check.out" \
    "source shopdb: position /0*$(( 0x${ck%%/*} )):$(( 0x${ck#*/} )) \(commit_lsn $ck, seq [0-9]+, no opaque position\)"

# ---- again from the first position, with the same history file -------------------
lines=$(wc -l <"$HIST")
rm -f "$WORK/out.jsonl" "$WORK/out.jsonl.pos" "$WORK/checkpoint.json"
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
wait_id 7 || true
stop
expect_eq "read again: the same events" "$expected" "$(afters)"
expect_eq "reading again adds nothing to the history file" "$lines" "$(wc -l <"$HIST")"
expect_eq "and logs no fallback (the statement's position is known)" 0 \
    "$(grep -c 'not derived' "$WORK/run2.log" || true)"

# ---- derived versions equal what information_schema says ---------------------------
# tools/mysql_cat reads these statements with a history of its own
# (derived.jsonl); a second one starts after them, where each table is read
# from information_schema (loaded.jsonl): the last derived version of each
# table equals the loaded one, column by column, every fact.
build_tool mysql_cat
CAT=$TOOL
binlog_now
mdb_sql shop <<'SQL'
CREATE TABLE ty (
  id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  ti TINYINT, si SMALLINT UNSIGNED, mi MEDIUMINT ZEROFILL, bi BIGINT, bu BIGINT UNSIGNED, iw INT(5),
  bo BOOLEAN, de DECIMAL, dn NUMERIC(8), d2 DECIMAL(12,2) UNSIGNED,
  fl FLOAT, fd FLOAT(7,3), db DOUBLE, dp DOUBLE PRECISION, d3 DOUBLE(10,3),
  b1 BIT, b7 BIT(7), yr YEAR,
  dt DATE, tm TIME, t3 TIME(3), dtm DATETIME(6) NOT NULL, ts TIMESTAMP(2) NULL,
  ch CHAR, c5 CHAR(5) CHARACTER SET latin1 COLLATE latin1_bin, vc VARCHAR(30), tx TEXT,
  mt MEDIUMTEXT CHARACTER SET ascii, lt LONGTEXT,
  bn BINARY, vb VARBINARY(10), bl BLOB, tb TINYBLOB, lb LONGBLOB,
  en ENUM('a','b''c','d e') NOT NULL DEFAULT 'a', st SET('x','y') DEFAULT 'x,y',
  js JSON, lj LONGTEXT CHECK (json_valid(lj)),
  ge INT AS (ti + 1) VIRTUAL, gs VARCHAR(40) GENERATED ALWAYS AS (CONCAT(vc, 'x')) STORED,
  gm GEOMETRY, pt POINT,
  PRIMARY KEY (id, si), KEY k1 (vc), UNIQUE KEY u1 (bi)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci COMMENT='every kind';
ALTER TABLE ty ADD COLUMN n1 INT NOT NULL DEFAULT 0 AFTER id, ADD n2 VARCHAR(10) COLLATE utf8mb4_bin FIRST,
  DROP COLUMN tb, MODIFY fl DOUBLE NOT NULL DEFAULT 0, CHANGE ch ch2 CHAR(3) CHARACTER SET latin1,
  RENAME COLUMN yr TO yr2, ALTER COLUMN dn SET DEFAULT 5;
RENAME TABLE ty TO ty2;
ALTER TABLE ty2 DROP PRIMARY KEY, ADD PRIMARY KEY (id);
CREATE TABLE t2 (a INT, b VARCHAR(3)) CHARSET latin1;
ALTER TABLE t2 ADD (c INT UNSIGNED ZEROFILL, d CHAR(2) CHARACTER SET utf8mb3), ADD PRIMARY KEY (a), ADD INDEX (b);
ALTER TABLE t2 MODIFY b VARCHAR(8) COLLATE latin1_general_ci AFTER d;
CREATE TABLE t3 (a INT AUTO_INCREMENT, b DATETIME(0) NOT NULL, c TIME(0), d TIMESTAMP(0) NULL,
  e INT NOT NULL, UNIQUE KEY (a), PRIMARY KEY (e)) CHARSET latin1;
SQL
read -r F2 P2 < <(mdb_sql -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}')
mdb_sql shop -e "INSERT INTO ty2 (id, si, dtm, vc) VALUES (1, 2, '2024-01-02 03:04:05.123456', 'v');
    INSERT INTO t2 (a, b) VALUES (1, 'b'); INSERT INTO t3 (b, e) VALUES (NOW(), 1)"
"$CAT" --port "$MDB_PORT" --server-id 9495 --file "$FILE" --pos "$POS" --stop-at-end --verbose \
    --schema-history "$WORK/derived.jsonl" >"$WORK/derived.out" 2>"$WORK/derived.log" || true
"$CAT" --port "$MDB_PORT" --server-id 9496 --file "$F2" --pos "$P2" --stop-at-end \
    --schema-history "$WORK/loaded.jsonl" >"$WORK/loaded.out" 2>"$WORK/loaded.log" || true
expect_eq "mysql_cat derived each of the 8 statements" "8 0" \
    "$(grep -c 'table version(s) derived' "$WORK/derived.log") $(grep -c 'not derived' "$WORK/derived.log")"
# cols FILE TABLE: the last version of TABLE in the history FILE
cols() { jq -c --arg t "$2" 'select(.version.table == $t) | .version.cols' "$1" | tail -1; }
expect_eq "the versions compared are whole: ty2, t2, t3 have 44, 4, 5 columns, both ways" \
    "44 4 5 44 4 5" "$(for f in derived loaded; do for t in ty2 t2 t3; do cols "$WORK/$f.jsonl" $t | jq length; done; done | paste -sd' ')"
for t in ty2 t2 t3; do
    expect_eq "the derived version of $t equals information_schema's" "$(cols "$WORK/loaded.jsonl" $t)" \
        "$(cols "$WORK/derived.jsonl" $t)"
done
expect_eq "ty no longer exists after the RENAME TABLE" false \
    "$(jq -c 'select(.version.table == "ty") | .version.exists' "$WORK/derived.jsonl" | tail -1)"
expect_eq "both readers decoded the three inserts" "3 3" \
    "$(grep -c '"kind":"event"' "$WORK/derived.out") $(grep -c '"kind":"event"' "$WORK/loaded.out")"

expect_no_sanitizer "no sanitizer report" "$WORK/run.log" "$WORK/run2.log" "$WORK/derived.log" \
    "$WORK/loaded.log"
e2e_finish
