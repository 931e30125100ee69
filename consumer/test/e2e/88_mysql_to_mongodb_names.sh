#!/usr/bin/env bash
# 88_mysql_to_mongodb_names.sh: a MySQL/MariaDB table into the MongoDB
# sink under the sink's default `collection` (`${schema}_${table}`).  A
# MySQL table has a database and no schema; under the default patterns
# the database takes the schema's slot (config.h, trib_name_expand), so
# the table d1.t lands in collection `d1_t`, never `_t`.  A second sink
# with a pattern written by the user (`${schema}x${table}`) gets ${schema}
# as it is: empty.
#
# Real MariaDB 10.11 (scripts/lib/mariadb.sh); the MongoDB server is the
# project's wire-protocol TEST DOUBLE (test/mongo/).  No PostgreSQL: the
# pipeline lock is MySQL's GET_LOCK.  The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
e2e_init

build_consumer
build_tool mongo_dump
DUMP=$TOOL
mongo_start
mongo_fresh tgt own
mdb_start
mdb_sql -e "CREATE DATABASE d1; CREATE TABLE d1.t (id INT PRIMARY KEY, v VARCHAR(20))"
binlog_now

{
    printf 'pipeline: p88\nsources:\n'
    mysql_yaml 8088 start my
    printf '    heartbeat_ms: 200\nsinks:\n'
    printf '  m: {type: mongodb, uri: "%s", database: tgt}\n' "$URI"
    printf '  own: {type: mongodb, uri: "%s", database: own, collection: "${schema}x${table}"}\n' "$URI"
    ckpt_yaml "$WORK/p.ckpt"
} >"$WORK/p.yaml"
"$BIN" check -c "$WORK/p.yaml" >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }
start_consumer "$WORK/p.yaml" "$WORK/run.log"

mdb_sql -e "INSERT INTO d1.t VALUES (1, 'one'), (2, 'two'), (3, 'three');
            UPDATE d1.t SET v = 'TWO' WHERE id = 2; DELETE FROM d1.t WHERE id = 3"

# docs DB COLL: the collection's documents as "id v" lines, sorted.
docs() {
    "$DUMP" "$URI" "$1" "$2" 2>/dev/null | python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    i = d.get("id")
    print(i.get("$numberInt") if isinstance(i, dict) else i, d.get("v"))' | sort
}
for _ in $(seq 1 60); do [ "$(docs tgt d1_t)" = "1 one
2 TWO" ] && break; sleep 0.5; done
stop_consumer
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"
expect_eq "the default collection of d1.t is d1_t, with the table's rows" "1 one
2 TWO" "$(docs tgt d1_t)"
expect_eq "and nothing went to _t" "" "$(docs tgt _t)"
expect_eq "a pattern of the user's own keeps \${schema} empty: xt" "1 one
2 TWO" "$(docs own xt)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
