#!/usr/bin/env bash
# 97_mysql_ddl_registry.sh: a DDL statement that changes a captured
# table's shape registers the table's new version in the schema registry
# at the statement's own binlog position, even when no row follows it
# (issue 13, item 4; docs/MYSQL.md, "DDL statements in the schema
# history"), against a real MariaDB 10.11 with binlog_row_metadata=MINIMAL
# and the registry in a PostgreSQL catalog (`schemas:`).
#
#  1. a table's first row registers version 1 at that row (as before);
#  2. ALTER TABLE ... ADD COLUMN with no row after it: version 2 exists,
#     and its position is the ALTER's (GTID/file:offset of its group, as
#     SHOW BINLOG EVENTS gives it), not a row's;
#  3. a restart re-reads the ALTER: nothing new is registered (registering
#     an identical schema returns the existing version), no log line says
#     a version took effect;
#  4. a row with the new shape after the restart: still 2 versions (the
#     row's shape is the ALTER's version);
#  5. while the daemon is stopped: an insert with the old shape, then
#     CREATE TABLE (a new table), an insert into it, ALTER of both, and the
#     first row of a table never seen and its ALTER; one start reads them
#     all in one go: the new table's version 1 takes effect at its CREATE,
#     each ALTER's version at the ALTER, and the unseen table's first row
#     registers version 1 before its ALTER registers version 2 (a poll
#     ends before a DDL that follows other items).
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_consumer
pgc_start						# the registry's catalog
pgc_psql -d postgres -c "CREATE EXTENSION tributary" >/dev/null
mdb_start "binlog_row_metadata = MINIMAL"
binlog_now
mdb_sql <<'SQL'
CREATE DATABASE shop;
CREATE TABLE shop.t (id INT PRIMARY KEY, a INT);
CREATE TABLE shop.w (id INT PRIMARY KEY, x INT);
INSERT INTO shop.w VALUES (0, 0);
SQL

# A first pipeline without the registry reads the tables' creation and
# w's first row, so that the schema history file (shared) knows w's
# shape, which MINIMAL metadata does not carry; the registry never hears
# of it (step 5).
cat >"$WORK/p0.yaml" <<YAML
pipeline: my97pre
sources:
$(mysql_yaml 9798 start my)
    snapshot: never
    heartbeat_ms: 200
    schema_history: "$WORK/history.jsonl"
$(archive_yaml "$WORK/out0.jsonl" "$WORK/checkpoint0.json")
YAML
start_consumer "$WORK/p0.yaml" "$WORK/run0.log"
wait_lines "$WORK/out0.jsonl" 1 30 || true
stop_consumer
expect_eq "the first pipeline read w's row and stopped cleanly" "0 1" \
    "$STOP_RC $(grep -c '"table":"w"' "$WORK/out0.jsonl" || true)"
binlog_now

cat >"$WORK/p.yaml" <<YAML
pipeline: my97
sources:
$(mysql_yaml 9797 start my)
    snapshot: never
    heartbeat_ms: 200
    schema_history: "$WORK/history.jsonl"
schemas:
  enabled: true
  dsn: "$(pg_dsn)"
  on_incompatible: warn
$(archive_yaml "$WORK/out.jsonl" "$WORK/checkpoint.json")
YAML

# versions SUBJECT: how many versions the subject has.
versions() { q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = '$1'"; }
# position_of SUBJECT VERSION: the event id the registry recorded for it.
position_of() {
    q postgres "SELECT source_position->>'event_id' FROM tributary.schema_versions
                WHERE subject = '$1' AND version = $2"
}
# wait_versions SUBJECT N: up to 30 s until the subject has N versions.
wait_versions() {
    for _ in $(seq 1 300); do
        [ "$(versions "$1")" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}
# ddl_id TEXT: the event id of the last DDL whose statement contains TEXT:
# GTID/FILE:OFFSET of its group's GTID event (SHOW BINLOG EVENTS).
ddl_id() {
    mdb_sql -N -e "SHOW BINLOG EVENTS IN '$FILE'" | awk -F'\t' -v t="$1" -v f="$FILE" '
        $3 == "Gtid" { gpos = $2; split($6, w, " "); gtid = w[length(w)] }
        $3 == "Query" && index($6, t) { id = gtid "/" f ":" gpos }
        END { print id }'
}
# has_row ID TABLE: the file sink holds the insert of ID into TABLE.
has_row() {
    [ -n "$(jq -c --argjson id "$1" --arg t "$2" \
        'select(.value.op == "c" and .value.source.table == $t and .key.id == $id)' \
        "$WORK/out.jsonl" 2>/dev/null)" ]
}
# offset_of ID: the offset in an event id GTID/FILE:OFFSET[/ROW].
offset_of() { echo "$1" | sed -E 's|^[^/]*/[^:]*:([0-9]+).*$|\1|'; }
# wait_id ID TABLE: up to 30 s for the insert of ID into TABLE in the sink.
wait_id() {
    for _ in $(seq 1 300); do
        has_row "$1" "$2" && return 0
        sleep 0.1
    done
    return 1
}

S=my.shop.t
# ---- 1. the first row ---------------------------------------------------------------
start_consumer "$WORK/p.yaml" "$WORK/run1.log"
mdb_sql shop -e "INSERT INTO t VALUES (1, 10)"
wait_versions $S 1 || true
expect_eq "the first row registers version 1" 1 "$(versions $S)"

# ---- 2. an ALTER with no row after it -----------------------------------------------
mdb_sql shop -e "ALTER TABLE t ADD COLUMN b INT"
wait_versions $S 2 || true
expect_eq "the ALTER alone registers version 2" 2 "$(versions $S)"
alter_id=$(ddl_id "ADD COLUMN b INT")
echo "# the ALTER's event id: $alter_id"
expect_match "the ALTER's event id is GTID/FILE:OFFSET" '^0-1-[0-9]+/mariadb-bin\.[0-9]+:[0-9]+$' "$alter_id"
expect_eq "version 2 takes effect at the ALTER's position" "$alter_id" "$(position_of $S 2)"
expect_grep "the log says version 2 takes effect at the ALTER" "$WORK/run1.log" \
    "subject $S: version 2 \\(id [0-9]+\\) takes effect at event $alter_id"
stop_consumer
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"

# ---- 3. a restart re-reads the ALTER -------------------------------------------------
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
wait_log "$WORK/run2.log" "DDL in shop: ALTER TABLE t ADD COLUMN b INT" 30 || true
# ---- 4. then a row of the new shape ----------------------------------------------
mdb_sql shop -e "INSERT INTO t VALUES (2, 20, 200)"
wait_id 2 t || true
stop_consumer
expect_eq "the restarted daemon stopped cleanly" 0 "$STOP_RC"
expect_eq "the restart registers nothing new: still 2 versions" 2 "$(versions $S)"
expect_eq "and logs no version taking effect" 0 "$(grep -c 'takes effect at event' "$WORK/run2.log" || true)"
expect_eq "version 2 still has the ALTER's position" "$alter_id" "$(position_of $S 2)"
expect_eq "the row after the ALTER reached the sink" t "$(has_row 2 t && echo t || echo f)"

# ---- 5. several statements read in one go ------------------------------------------
mdb_sql shop <<'SQL'
INSERT INTO t VALUES (3, 30, 300);
ALTER TABLE t ADD COLUMN c INT;
CREATE TABLE u (id INT PRIMARY KEY, x INT);
INSERT INTO u VALUES (1, 1);
ALTER TABLE u DROP COLUMN x;
INSERT INTO w VALUES (1, 1);
ALTER TABLE w ADD COLUMN y INT;
SQL
start_consumer "$WORK/p.yaml" "$WORK/run3.log"
wait_id 1 u || true
wait_versions my.shop.u 2 || true
wait_versions my.shop.w 2 || true
stop_consumer
expect_eq "the third run stopped cleanly" 0 "$STOP_RC"
expect_eq "t: a third version, from its second ALTER" 3 "$(versions $S)"
expect_eq "t's version 3 takes effect at its ALTER" "$(ddl_id "ADD COLUMN c INT")" "$(position_of $S 3)"
expect_eq "u: two versions" 2 "$(versions my.shop.u)"
expect_eq "u's version 1 takes effect at its CREATE TABLE" "$(ddl_id "CREATE TABLE u")" \
    "$(position_of my.shop.u 1)"
expect_eq "u's version 2 takes effect at its ALTER" "$(ddl_id "DROP COLUMN x")" \
    "$(position_of my.shop.u 2)"
# w's first row and its ALTER came in one read: the row's shape is
# version 1, at the row, before the ALTER's version 2
expect_eq "w: two versions" 2 "$(versions my.shop.w)"
w_alter=$(ddl_id "ADD COLUMN y INT")
expect_eq "w's version 2 takes effect at its ALTER" "$w_alter" "$(position_of my.shop.w 2)"
expect_match "w's version 1 takes effect at a row (GTID/FILE:OFFSET/ROW)" '^0-1-[0-9]+/mariadb-bin\.[0-9]+:[0-9]+/0$' \
    "$(position_of my.shop.w 1)"
expect_eq "w's version 1 comes before its ALTER in the binlog" t \
    "$([ "$(offset_of "$(position_of my.shop.w 1)")" -lt "$(offset_of "$w_alter")" ] && echo t || echo f)"
expect_no_grep "no error in the logs" <(cat "$WORK"/run*.log) "ERROR|FATAL"
e2e_finish
