#!/usr/bin/env bash
# 80_mysql_types_schemas.sh: the types of a MySQL/MariaDB table in the
# schema stage and in Debezium mode (issues 11 and 17), against a real
# MariaDB 10.11 (scripts/lib/mariadb.sh) with the table of mysql_types.py:
# every column type the source supports, with edge values (extremes of
# each integer type signed and unsigned, DECIMAL(65,30), TIME past 24 h
# and negative, zero dates, fractional seconds, every BIT width, ENUM and
# SET, JSON with 30-digit numbers, geometries, generated columns).
#
# One pipeline reads the binlog into a file sink and into the embedded
# Kafka cluster (`format: debezium`, `schemas.enable: true`), with the
# schema stage on (`schemas:`, the registry in the PostgreSQL catalog).
#  A  the schema registered for the table validates every row image the
#     file sink got (every row, every column, python3-jsonschema with exact
#     decimals), and its numeric columns are JSON numbers (integer for the
#     integer types and YEAR, number for DECIMAL, FLOAT, DOUBLE), and its
#     subject is my.d1.t (the default subject, the database in ${schema});
#  B  each Kafka record's Connect schema gives every column the type,
#     logical name and parameters of Debezium's MySQL connector, and its
#     values decoded by that schema equal what the server returns.
# (mysql_schema_check.py does both checks.)
#  C  `check` and `run` say where the source starts in MySQL's words (no
#     slot, no LSN), and a login the server refuses ends the daemon with
#     exit 2 and what to correct in MySQL's terms (no pg_hba.conf); when
#     the refused login is lock_dsn's, in PostgreSQL's terms, naming it.
# The last line is
# `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"	# count_from
e2e_init
TYPES="python3 $ROOT/consumer/test/e2e/mysql_types.py"
CHECK="python3 $ROOT/consumer/test/e2e/mysql_schema_check.py"

build_consumer
pgc_start						# the pipeline lock and the registry
pgc_psql -d postgres -c "CREATE EXTENSION tributary" >/dev/null
mdb_start
mock_start 1
mock_ctl create dbz80.d1.t 1 1

mdb_sql -e "CREATE DATABASE d1"
{ echo "USE d1;"; $TYPES schema; } | mdb_sql
binlog_now

cat >"$WORK/p.yaml" <<YAML
pipeline: p80
sources:
$(mysql_yaml 8080 start my)
    heartbeat_ms: 200
    lock_dsn: "$(pg_dsn)"
sinks:
  out:
    type: file
    path: "$WORK/out.jsonl"
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: dbz80
    format: debezium
    schemas.enable: true
$(tail_yaml schemas)
YAML
"$BIN" check -c "$WORK/p.yaml" >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }
start_consumer "$WORK/p.yaml" "$WORK/run.log"

{ echo "USE d1;"; echo "SET time_zone = '+05:30';"; $TYPES insert; } | mdb_sql
{ echo "USE d1; SET time_zone = '+00:00';"; $TYPES ref-sql; } | mdb_sql -N -r >"$WORK/ref1.jsonl"
{ echo "USE d1;"; $TYPES update; } | mdb_sql
{ echo "USE d1; SET time_zone = '+00:00';"; $TYPES ref-sql; } | mdb_sql -N -r >"$WORK/ref2.jsonl"
{ echo "USE d1;"; $TYPES delete; } | mdb_sql

# 5 inserts, 3 updates, 2 deletes
wait_lines "$WORK/out.jsonl" 10 60 || true
stop_consumer
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"
expect_eq "the file sink got the 10 changes" 10 "$(grep -c '"table":"t"' "$WORK/out.jsonl" || true)"
expect_no_grep "no event failed the schema stage or Debezium mode" "$WORK/run.log" \
    "ERROR|FATAL|not a valid"

# ---- A: the registered schema ---------------------------------------------
subject=$(q postgres "SELECT subject FROM tributary.subjects WHERE subject LIKE '%t' ORDER BY subject LIMIT 1")
echo "# subject: $subject"
# the default subject ${source}.${schema}.${table}: MySQL's database in the
# schema's slot (docs/MYSQL.md), as the topic dbz80.d1.t
expect_eq "the table's subject is source.database.table" "my.d1.t" "$subject"
expect_eq "one version registered for the table" 1 \
    "$(q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = '$subject'")"
q postgres "SELECT schema::text FROM tributary.schema_versions WHERE subject = '$subject'
            ORDER BY version DESC LIMIT 1" >"$WORK/schema.json"
( cd "$ROOT/consumer/test/e2e" && $CHECK registered "$WORK/schema.json" "$WORK/out.jsonl" ) \
    >"$WORK/check-a.txt" 2>&1 || true
sed 's/^/A: /' "$WORK/check-a.txt" | grep -v '^A: [0-9]* passed' || true
count_from "$WORK/check-a.txt"

# ---- B: Debezium mode ----------------------------------------------------------
"$TOOLS/kafka_dump" "$BOOT" dbz80.d1.t >"$WORK/dump.txt" 2>"$WORK/dump.err" || true
( cd "$ROOT/consumer/test/e2e" && $CHECK debezium "$WORK/dump.txt" "$WORK/ref1.jsonl" \
    "$WORK/ref2.jsonl" ) >"$WORK/check-b.txt" 2>&1 || true
sed 's/^/B: /' "$WORK/check-b.txt" | grep -v '^B: [0-9]* passed' || true
count_from "$WORK/check-b.txt"

# ---- C: MySQL's words in the messages every source shares ----------------------
# (no slot, no LSN, no pg_hba.conf for a pipeline that has no PostgreSQL source)
expect_grep "check: without a checkpoint, run starts from the binlog position" \
    "$WORK/check.out" "does not exist yet .*; \`run\` starts from the configured binlog position \(start_file or start_gtid\)"
expect_grep "run: starting from the configured binlog position" "$WORK/run.log" \
    "starting from the configured binlog position \(start_file or start_gtid\)"
expect_no_grep "check and run never speak of a slot or an LSN" <(cat "$WORK/check.out" "$WORK/run.log") \
    "slot|LSN"
# a login the server refuses, the lock on the source server (no lock_dsn):
# exit 2 at once, saying what to correct in MySQL's terms
cat >"$WORK/refused.yaml" <<YAML
pipeline: p80r
sources:
  my:
    type: mysql
    host: 127.0.0.1
    port: $MDB_PORT
    user: nobody80
    password: wrong
    server_id: 8081
sinks:
  out: {type: file, path: "$WORK/refused.jsonl"}
checkpoint: {store: file, path: "$WORK/refused.ckpt"}
http: {enabled: false}
YAML
rc=0
timeout 60 "$BIN" run -c "$WORK/refused.yaml" >"$WORK/refused.log" 2>&1 || rc=$?
expect_eq "a refused login exits 2 (not retried)" 2 "$rc"
expect_grep "the refusal says what to correct for MySQL" "$WORK/refused.log" \
    "not retried: correct the source's user or password \(or the server's account"
expect_no_grep "the refusal does not speak of PostgreSQL's roles or pg_hba.conf" \
    "$WORK/refused.log" "pg_hba|role, password or database"
# the lock in PostgreSQL (lock_dsn) refuses the login: PostgreSQL's words,
# naming lock_dsn (the MySQL login itself is right)
{
    echo "pipeline: p80l"; echo "sources:"; mysql_yaml 8082 "" my
    echo "    lock_dsn: \"host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=nobody80\""
    archive_yaml "$WORK/refused2.jsonl" "$WORK/refused2.ckpt"
} >"$WORK/refused2.yaml"
rc=0
timeout 60 "$BIN" run -c "$WORK/refused2.yaml" >"$WORK/refused2.log" 2>&1 || rc=$?
expect_eq "a refused lock_dsn login exits 2 (not retried)" 2 "$rc"
expect_grep "the refusal names lock_dsn, in PostgreSQL's terms" "$WORK/refused2.log" \
    "not retried: correct the role, password or database of the pipeline lock's PostgreSQL connection: .*lock_dsn"

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
