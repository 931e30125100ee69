#!/usr/bin/env bash
# 88_mysql_to_mongodb_names.sh: a MySQL/MariaDB table into the MongoDB
# sink under the sink's default `collection` (`${schema}_${table}`).  A
# MySQL table has a database and no schema; under the default patterns
# the database takes the schema's slot (config.h, trib_name_expand), so
# the table d1.t lands in collection `d1_t`, never `_t`.  A second sink
# with a pattern written by the user (`${schema}x${table}`) gets ${schema}
# as it is: empty.  A table of MySQL's types (integers, BIGINT UNSIGNED
# beyond int64, YEAR, DECIMAL, DOUBLE, DATETIME, TIMESTAMP, DATE, BLOB,
# VARBINARY, JSON, TEXT, NULL) becomes the BSON types of the sink's type
# mapping (docs/MONGODB.md), read back in canonical Extended JSON.
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
mdb_sql -e "CREATE DATABASE d1; CREATE TABLE d1.t (id INT PRIMARY KEY, v VARCHAR(20));
            CREATE TABLE d1.ty (id INT PRIMARY KEY, ti TINYINT, bb BIGINT, bu BIGINT UNSIGNED,
              yr YEAR, de DECIMAL(10,2), db DOUBLE, dt DATETIME(6), ts TIMESTAMP(3) NULL,
              d DATE, bl BLOB, vb VARBINARY(8), j JSON, t TEXT, n INT)"
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

mdb_sql -e "SET time_zone = '+00:00';
            INSERT INTO d1.ty VALUES (1, -7, 9000000000, 18446744073709551615, 2024, 12.50, 1.5,
              '2024-06-01 10:00:00.123456', '2024-06-01 10:00:00.500', '2024-02-29',
              x'0102ff', x'00ff', '{\"a\": [1, 2.5, \"x\"], \"n\": null}', 'O''Brien', NULL);
            INSERT INTO d1.t VALUES (1, 'one'), (2, 'two'), (3, 'three');
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
# MySQL's types as the sink's type mapping says (docs/MONGODB.md, "Type
# mapping"), each BSON type spelled out by mongo_dump's canonical JSON.
"$DUMP" "$URI" tgt d1_ty >"$WORK/ty.json" 2>&1 || true
echo "# d1.ty: $(cat "$WORK/ty.json")"
got=$(python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).readline())
for k in ("id", "ti", "bb", "bu", "yr", "de", "db", "dt", "ts", "d", "bl", "vb", "j", "t", "n"):
    print(k, json.dumps(d.get(k, "MISSING"), sort_keys=True))' "$WORK/ty.json" 2>&1)
expect_eq "MySQL types into BSON: int32, int64, Decimal128 beyond int64, decimal, double, dates, binaries, JSON embedded" \
'id {"$numberInt": "1"}
ti {"$numberInt": "-7"}
bb {"$numberLong": "9000000000"}
bu {"$numberDecimal": "18446744073709551615"}
yr {"$numberInt": "2024"}
de {"$numberDecimal": "12.50"}
db {"$numberDouble": "1.5"}
dt {"$date": {"$numberLong": "1717236000123"}}
ts {"$date": {"$numberLong": "1717236000500"}}
d {"$date": {"$numberLong": "1709164800000"}}
bl {"$binary": {"base64": "AQL/", "subType": "00"}}
vb {"$binary": {"base64": "AP8=", "subType": "00"}}
j {"a": [{"$numberInt": "1"}, {"$numberDouble": "2.5"}, "x"], "n": null}
t "O'"'"'Brien"
n null' "$got"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
