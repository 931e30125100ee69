#!/usr/bin/env bash
# 95_mongodb_debezium.sh: `format: debezium` for a MongoDB source
# (format/debezium_mongo.c; docs/FORMAT.md, "Debezium mode", "MongoDB")
# -- AGAINST THE PROJECT'S WIRE-PROTOCOL TEST DOUBLE (test/mongo/,
# mongo_double), not a real mongod: none can be installed here.
#
# Documents holding every BSON type a consumer's EJSON.parse can tell
# apart (ObjectId, int32, int64, double, Decimal128, dates before and
# after 1970, binaries of three subtypes, regex, Timestamp, MinKey,
# MaxKey, JavaScript with and without scope, DBPointer, undefined,
# strings with non-BMP and control characters, nested documents, arrays)
# go through an initial snapshot (op r), then inserts, updates ($set,
# $unset), a replace, a delete and a two-document transaction, into the
# Kafka mock with `format: debezium`:
#  A  without schemas: test/interop/debezium-mongo.test.mjs reads the
#     records with kafkajs, parses the key's id and `after` with the bson
#     package's EJSON.parse and compares every document with what the
#     server holds (read with the official driver), types included; the
#     raw text has Debezium's STRICT forms; transaction metadata (BEGIN
#     and the records' transaction block) and heartbeats.
#  B  schemas.enable: true: the same, each record {schema, payload} with
#     the Envelope/Key names and the Connect schema of every field.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init -- dbzm				# and PostgreSQL, for the pipeline lock
mock_start 1

OID1='{"$oid": "5f1b2c3d4e5f60718293a4b1"}'
OID2='{"$oid": "5f1b2c3d4e5f60718293a4b2"}'
# one document of every type; $1 its _id, $2 a value that differs
typed_doc() {
    cat <<JSON | tr -d '\n'
{"_id": $1, "i32": {"\$numberInt": "$2"}, "i64": {"\$numberLong": "500000000$2"},
 "neg64": {"\$numberLong": "-300000000$2"}, "dbl": {"\$numberDouble": "2.5"},
 "dblint": {"\$numberDouble": "3.0"}, "dblbig": {"\$numberDouble": "1e20"},
 "dec": {"\$numberDecimal": "1.50"},
 "when": {"\$date": {"\$numberLong": "171723600010$2"}},
 "old": {"\$date": {"\$numberLong": "-1000"}},
 "bin": {"\$binary": {"base64": "AQID", "subType": "00"}},
 "uuid": {"\$binary": {"base64": "MDEyMzQ1Njc4OWFiY2RlZg==", "subType": "04"}},
 "user": {"\$binary": {"base64": "/w==", "subType": "80"}},
 "re": {"\$regularExpression": {"pattern": "^a.*", "options": "i"}},
 "ts": {"\$timestamp": {"t": 1700000000, "i": $2}},
 "lo": {"\$minKey": 1}, "hi": {"\$maxKey": 1},
 "code": {"\$code": "f()"}, "scoped": {"\$code": "g()", "\$scope": {"x": 1}},
 "ptr": {"\$dbPointer": {"\$ref": "dbzm.other", "\$id": $OID1}},
 "undef": {"\$undefined": true},
 "s": "caf\u00e9 \ud83d\ude00 tab\t quote\" nl\n ctl\u0001",
 "nested": {"a": [1, "x", {"b": null}], "t": true, "f": false},
 "drop": "me", "arr": [1, 2, 3, 4]}
JSON
}

# before the start: two documents for the snapshot
drive <<CMDS
dbzm {"insert": "items", "documents": [$(typed_doc "$OID1" 1), $(typed_doc "$OID2" 2)]}
CMDS

# pipeline NAME PREFIX [EXTRA]: a snapshot-then-stream pipeline into the
# Kafka mock with format: debezium under topic prefix PREFIX
pipeline() {
    cat >"$WORK/$1.yaml" <<YAML
pipeline: $1
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: dbzm
    snapshot: initial
    max_await_ms: 200
    lock_dsn: "$(pg_dsn)"
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: $2
    format: debezium
    transaction_metadata: true
    heartbeat.interval.ms: 200
$3
$(ckpt_yaml "$WORK/$1.ckpt")
YAML
}


# ---------------------------------------------------------------- A: no schemas
pipeline a dbz ""
start_consumer "$WORK/a.yaml" "$WORK/a.log"
wait_log "$WORK/a.log" "change stream open on dbzm" 20 || true
drive <<CMDS
dbzm {"insert": "items", "documents": [$(typed_doc 3 3)]}
dbzm {"update": "items", "updates": [{"q": {"_id": $OID1}, "u": {"\$set": {"i64": {"\$numberLong": "7000000000"}, "dbl": {"\$numberDouble": "0.1"}, "when": {"\$date": {"\$numberLong": "1717236000000"}}, "nested.t": false}, "\$unset": {"drop": ""}}}]}
dbzm {"update": "items", "updates": [{"q": {"_id": 3}, "u": $(typed_doc 3 4)}]}
dbzm {"delete": "items", "deletes": [{"q": {"_id": $OID2}, "limit": 1}]}
begin
dbzm {"insert": "items", "documents": [{"_id": 4, "v": {"\$numberLong": "9000000000"}}]}
dbzm {"update": "items", "updates": [{"q": {"_id": 3}, "u": {"\$set": {"i32": {"\$numberInt": "-7"}}}}]}
commit
CMDS
# 2 snapshot reads, 1 insert, 2 updates, 1 delete (+ tombstone), 2 in the transaction
wait_dump dbz.dbzm.items "$WORK/a.dump" 9
sleep 0.5
"$TOOLS/kafka_dump" "$BOOT" dbz.transaction > "$WORK/a.tx" 2>/dev/null || true
"$TOOLS/kafka_dump" "$BOOT" __debezium-heartbeat.dbz > "$WORK/a.hb" 2>/dev/null || true
stop_consumer
expect_eq "A: the run stopped cleanly" 0 "$STOP_RC"
expect_eq "A: 9 records on dbz.dbzm.items: 2 r, c, 2 u, d and its tombstone, the transaction's c and u" 9 "$(wc -l < "$WORK/a.dump")"

# the raw text: Debezium's forms
expect_grep "A: int64 in after as {\"\$numberLong\": ...} (STRICT)" "$WORK/a.dump" \
    '\\"i64\\": {\\"\$numberLong\\": \\"5000000001\\"}'
expect_grep "A: dates as {\"\$date\": ms}" "$WORK/a.dump" '\\"when\\": {\\"\$date\\": 1717236000101}'
expect_grep "A: binaries as {\"\$binary\": ..,\"\$type\": ..}" "$WORK/a.dump" \
    '\\"user\\": {\\"\$binary\\": \\"/w==\\",\\"\$type\\": \\"80\\"}'
expect_grep "A: regexes as {\"\$regex\": ..,\"\$options\": ..}" "$WORK/a.dump" \
    '\\"re\\": \{\\"\$regex\\": \\"\^a\.\*\\",\\"\$options\\": \\"i\\"\}'
expect_grep "A: doubles as Java writes them" "$WORK/a.dump" '\\"dblbig\\": 1\.0E\+20'
expect_grep "A: the key of an ObjectId _id" "$WORK/a.dump" \
    $'\t{"id":"{\\\\"\\$oid\\\\": \\\\"5f1b2c3d4e5f60718293a4b1\\\\"}"}\t'
expect_grep "A: the key of an int _id" "$WORK/a.dump" $'\t{"id":"3"}\t'
expect_grep "A: updatedFields as relaxed text" "$WORK/a.dump" \
    '"updatedFields":"{\\"i64\\": 7000000000, \\"dbl\\": 0.1, \\"when\\": {\\"\$date\\": \\"2024-06-01T10:00:00Z\\"}, \\"nested.t\\": false}"'
expect_grep "A: removedFields" "$WORK/a.dump" '"removedFields":\["drop"\]'
expect_grep "A: the source block is the MongoDB connector's" "$WORK/a.dump" \
    '"db":"dbzm","sequence":null,"collection":"items","ord":[0-9]*,"lsid":null,"txnNumber":null,"wallTime":[0-9]*}'
expect_grep "A: a transaction's write has lsid and txnNumber" "$WORK/a.dump" \
    '"lsid":"{\\"id\\": {\\"\$binary\\": \\"[^"]*\\",\\"\$type\\": \\"04\\"}}","txnNumber":[0-9]'
expect_eq "A: a tombstone after the delete" 1 "$(awk -F'\t' '$6 == "-"' "$WORK/a.dump" | wc -l)"
# transaction metadata: the BEGIN record and the transaction block of
# both writes (no END: the MongoDB source does not mark a transaction's
# last change, docs/FORMAT.md)
expect_grep "A: transaction BEGIN" "$WORK/a.tx" '"status":"BEGIN","id":"1:[0-9]+"'
# (total_order:data_collection_order, sorted: the two keys may land in
# different partitions)
expect_eq "A: the transaction's 2 writes carry its block (orders 1 and 2)" \
    "1:1 2:2" "$(grep -oE '"transaction":\{"id":"1:[0-9]+","total_order":[0-9]+,"data_collection_order":[0-9]+' \
        "$WORK/a.dump" | sed -E 's/.*"total_order":([0-9]+),"data_collection_order":([0-9]+)/\1:\2/' |
        sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "A: heartbeats were written" t "$([ "$(wc -l < "$WORK/a.hb")" -ge 1 ] && echo t || echo f)"

interop_test "A: EJSON.parse of the records equals the server's documents:" \
    debezium-mongo.test.mjs 4 KAFKA_BOOTSTRAP="$BOOT" TOPIC=dbz.dbzm.items MONGO_URI="$URI" \
    DB=dbzm COLL=items PREFIX=dbz SCHEMAS=0 OPS=r,c,u,d

# ---------------------------------------------------------------- B: schemas.enable
pipeline b dbs "    schemas.enable: true"
start_consumer "$WORK/b.yaml" "$WORK/b.log"
wait_log "$WORK/b.log" "change stream open on dbzm" 20 || true
drive <<CMDS
dbzm {"insert": "items", "documents": [$(typed_doc 5 5)]}
dbzm {"update": "items", "updates": [{"q": {"_id": 5}, "u": {"\$set": {"s": "again"}, "\$unset": {"arr": ""}}}]}
CMDS
# the snapshot's 3 documents, then an insert and an update
wait_dump dbs.dbzm.items "$WORK/b.dump" 5
stop_consumer
expect_eq "B: the run stopped cleanly" 0 "$STOP_RC"
expect_eq "B: 5 records on dbs.dbzm.items" 5 "$(wc -l < "$WORK/b.dump")"
expect_grep "B: each value is {schema, payload} with the Envelope" "$WORK/b.dump" \
    '"name":"dbs.dbzm.items.Envelope"'
interop_test "B: with schemas.enable, the same:" \
    debezium-mongo.test.mjs 4 KAFKA_BOOTSTRAP="$BOOT" TOPIC=dbs.dbzm.items MONGO_URI="$URI" \
    DB=dbzm COLL=items PREFIX=dbs SCHEMAS=1 OPS=r,c,u

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
