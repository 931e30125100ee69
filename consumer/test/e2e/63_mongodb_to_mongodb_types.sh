#!/usr/bin/env bash
# 63_mongodb_to_mongodb_types.sh: a MongoDB source into the MongoDB sink
# keeps the BSON types of the documents: the sink turns the source's
# relaxed Extended JSON back into ObjectId, date, Decimal128, binary and
# int64 (sink_mongodb_doc.c, trib_mongosink_ejson) -- AGAINST THE
# PROJECT'S WIRE-PROTOCOL TEST DOUBLE (test/mongo/, mongo_double).
#
# Each copied document is found in the target by an equality filter on
# every typed field (MongoDB's equality compares types: a subdocument
# {"$oid": ...} does not equal an ObjectId, nor a string a Decimal128),
# after an insert, an update and a replace.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init -- ej ej_copy

cat >"$WORK/p.yaml" <<YAML
pipeline: p
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: ej
    max_await_ms: 200
    lock_dsn: "$(pg_dsn)"
sinks:
  copy:
    type: mongodb
    uri: "$URI"
    database: ej_copy
    collection: "\${table}"
    batch_ms: 50
$(tail_yaml)
YAML
start_consumer "$WORK/p.yaml" "$WORK/run.log"
wait_log "$WORK/run.log" "change stream open on ej" 15 || true

OID='{"$oid": "65a1b2c3d4e5f60718293a4b"}'
drive <<CMDS
ej {"insert": "t", "documents": [{"_id": $OID, "d": {"\$date": "2024-01-02T03:04:05.678Z"}, "n": {"\$numberDecimal": "12.50"}, "b": {"\$binary": {"base64": "AQID", "subType": "00"}}, "l": {"\$numberLong": "9007199254740993"}, "i": 5, "s": "x", "sub": {"a": [1, {"\$oid": "65a1b2c3d4e5f60718293a4c"}]}}]}
ej {"insert": "t", "documents": [{"_id": 7, "v": {"\$numberDecimal": "1E+400"}}]}
CMDS

# count FILTER: documents of ej_copy.t matching it (the count command)
count() {
    echo "ej_copy {\"count\": \"t\", \"query\": $1}" | "$DRIVE" "$URI" 2>/dev/null |
        python3 -c 'import json,sys; print(json.loads(sys.stdin.read()).get("n", "error"))'
}
wait_count() {
    for _ in $(seq 1 100); do [ "$(count "$1")" = 1 ] && return 0; sleep 0.1; done
    return 1
}
TYPED='{"_id": '"$OID"', "d": {"$date": "2024-01-02T03:04:05.678Z"}, "n": {"$numberDecimal": "12.50"}, "b": {"$binary": {"base64": "AQID", "subType": "00"}}, "l": {"$numberLong": "9007199254740993"}, "i": 5, "s": "x", "sub.a": {"$oid": "65a1b2c3d4e5f60718293a4c"}}'
wait_count "$TYPED" || true
expect_eq "insert: ObjectId _id, date, Decimal128, binary, int64, nested ObjectId kept" "1" \
    "$(count "$TYPED")"
expect_eq "insert: a Decimal128 beyond double's range kept" "1" \
    "$(count '{"_id": 7, "v": {"$numberDecimal": "1E+400"}}')"

drive <<CMDS
ej {"update": "t", "updates": [{"q": {"_id": $OID}, "u": {"\$set": {"d": {"\$date": "2025-05-06T07:08:09.010Z"}}}}]}
ej {"update": "t", "updates": [{"q": {"_id": 7}, "u": {"w": {"\$numberDecimal": "0.10"}}}]}
CMDS
wait_count '{"_id": '"$OID"', "d": {"$date": "2025-05-06T07:08:09.010Z"}}' || true
expect_eq "update: the new date is a date" "1" \
    "$(count '{"_id": '"$OID"', "d": {"$date": "2025-05-06T07:08:09.010Z"}, "n": {"$numberDecimal": "12.50"}}')"
wait_count '{"_id": 7, "w": {"$numberDecimal": "0.10"}}' || true
expect_eq "replace: the new document, typed, the old field gone" "1" \
    "$(count '{"_id": 7, "w": {"$numberDecimal": "0.10"}, "v": {"$exists": false}}')"
expect_eq "one document per _id" "2" "$(count '{}')"
stop_consumer

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
