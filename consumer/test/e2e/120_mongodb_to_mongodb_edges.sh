#!/usr/bin/env bash
# 120_mongodb_to_mongodb_edges.sh: a MongoDB source into the MongoDB sink
# with the values and events found to stop or change the copy (M5) --
# AGAINST THE PROJECT'S WIRE-PROTOCOL TEST DOUBLE (test/mongo/,
# mongo_double), not a real mongod.
#
#   A  an update whose fullDocument is null: with the default
#      `full_document: updateLookup` the server looks the document up when
#      the event is read, and one deleted since then is null (after a
#      restart, every update of a document deleted later is such an event).
#      The copy must go on: the document ends deleted, the documents
#      written after it arrive.
#   B  an int64 that fits in 32 bits stays an int64 in the copy (relaxed
#      Extended JSON writes it like an int32).
#   C  dates after 9999 and before 1970 stay dates.
#   D  with `full_document: default` (no update carries its document)
#      each update is applied from its updateDescription.
#   E  the target drops the connection during the sink's writes
#      (failCommand closeConnection for the sink's appName, `transactions:
#      false`): the pipeline starts again and the batch is applied again
#      from the stored position, every document once.
#
# Each document of the copy is read back with tools/mongo_dump (canonical
# Extended JSON: every BSON type spelled out).  The last line is `N passed,
# N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init -- ed ed_copy
build_tool mongo_dump
DUMP=$TOOL

cat >"$WORK/p.yaml" <<YAML
pipeline: p
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: ed
    max_await_ms: 200
    lock_dsn: "$(pg_dsn)"
sinks:
  copy:
    type: mongodb
    uri: "$URI"
    database: ed_copy
    collection: "\${table}"
    batch_ms: 50
$(tail_yaml)
YAML

# has NAME TEXT IN / lacks NAME TEXT IN: IN holds (lacks) the fixed TEXT
has() { if [[ $3 == *"$2"* ]]; then pass "$1"; else fail "$1" "[$2] not in [$3]"; fi; }
lacks() { if [[ $3 != *"$2"* ]]; then pass "$1"; else fail "$1" "[$2] found in [$3]"; fi; }
# dump: the copy of ed.t, one canonical document a line
dump() { "$DUMP" "$URI" ed_copy t 2>&1; }
# wait_copy TEXT: until a line of the copy holds TEXT (10 s)
wait_copy() {
    for _ in $(seq 1 100); do dump | grep -F -- "$1" >/dev/null && return 0; sleep 0.1; done
    return 1
}

start_consumer "$WORK/p.yaml" "$WORK/run.log"
wait_log "$WORK/run.log" "change stream open on ed" 15 || true
drive <<'CMDS'
ed {"insert": "t", "documents": [{"_id": 1, "v": "first"}]}
CMDS
wait_copy '"_id" : { "$numberInt" : "1" }' || true
stop_consumer

# A: while the daemon is down, document 2 is inserted, updated and
# deleted; on the restart the update is read with fullDocument null
drive <<'CMDS'
ed {"insert": "t", "documents": [{"_id": 2, "v": "gone soon"}]}
ed {"update": "t", "updates": [{"q": {"_id": 2}, "u": {"$set": {"v": "updated"}}}]}
ed {"delete": "t", "deletes": [{"q": {"_id": 2}, "limit": 1}]}
ed {"update": "t", "updates": [{"q": {"_id": 1}, "u": {"$set": {"v": "after the null"}}}]}
CMDS
start_consumer "$WORK/p.yaml" "$WORK/run.log"
wait_copy '"v" : "after the null"' || true
has "A: the changes after an update without fullDocument are copied" \
    '"v" : "after the null"' "$(dump)"
lacks "A: the document deleted after its update is not in the copy" \
    '"_id" : { "$numberInt" : "2" }' "$(dump)"
if kill -0 "$RUN_PID" 2>/dev/null; then pass "A: the daemon still runs"
else fail "A: the daemon still runs" "it exited: $(tail -3 "$WORK/run.log")"; fi

# B and C: an int64 that fits in 32 bits (top level, nested, in an
# array), dates after 9999 and before 1970
drive <<'CMDS'
ed {"insert": "t", "documents": [{"_id": 3, "l": {"$numberLong": "5"}, "o": {"m": {"$numberLong": "-7"}}, "a": [1, {"$numberLong": "2"}], "i": 4, "late": {"$date": {"$numberLong": "253402300800000"}}, "early": {"$date": {"$numberLong": "-1000"}}}]}
CMDS
wait_copy '"_id" : { "$numberInt" : "3" }' || true
doc3=$(dump | grep -F '"_id" : { "$numberInt" : "3" }' || true)
has "B: an int64 that fits in 32 bits stays an int64" \
    '"l" : { "$numberLong" : "5" }' "$doc3"
has "B: nested, and in an array, too; an int32 stays an int32" \
    '"o" : { "m" : { "$numberLong" : "-7" } }, "a" : [ { "$numberInt" : "1" }, { "$numberLong" : "2" } ], "i" : { "$numberInt" : "4" }' "$doc3"
has "C: a date after 9999 stays a date" \
    '"late" : { "$date" : { "$numberLong" : "253402300800000" } }' "$doc3"
has "C: a date before 1970 stays a date" \
    '"early" : { "$date" : { "$numberLong" : "-1000" } }' "$doc3"
stop_consumer

# D: `full_document: default`: no update carries its document, each is
# applied from its updateDescription ($set, $unset) to the copy's
# document, whose other fields keep their values and types
sed -i 's/^    database: ed$/    database: ed\n    full_document: default/' "$WORK/p.yaml"
start_consumer "$WORK/p.yaml" "$WORK/run.log"
wait_log "$WORK/run.log" "change stream open on ed" 15 || true
drive <<'CMDS'
ed {"update": "t", "updates": [{"q": {"_id": 3}, "u": {"$set": {"v": "set", "o.m": {"$numberLong": "-8"}}, "$unset": {"i": ""}}}]}
ed {"update": "t", "updates": [{"q": {"_id": 9}, "u": {"$set": {"v": "not in the copy"}}}]}
ed {"insert": "t", "documents": [{"_id": 4, "v": "after D"}]}
CMDS
wait_copy '"v" : "after D"' || true
doc3=$(dump | grep -F '"_id" : { "$numberInt" : "3" }' || true)
has "D: updatedFields set on the copy's document" '"v" : "set"' "$doc3"
has "D: a dotted updated field set in place" '"o" : { "m" : { "$numberLong" : "-8" } }' "$doc3"
lacks "D: removedFields unset" '"i" :' "$doc3"
has "D: the other fields keep their values and types" \
    '"late" : { "$date" : { "$numberLong" : "253402300800000" } }' "$doc3"
lacks "D: an update of a document the copy lacks creates none" '"not in the copy"' "$(dump)"
if kill -0 "$RUN_PID" 2>/dev/null; then pass "D: the daemon still runs"
else fail "D: the daemon still runs" "it exited: $(tail -3 "$WORK/run.log")"; fi

stop_consumer

# E: the target drops the connection in the middle of the sink's batches
# (failCommand closeConnection on its writes, 3 times, for its appName),
# with `transactions: false`, where no transaction retry hides it: the
# sink fails with a lost connection, the pipeline is built again and the
# batch applied again from the stored position, nothing lost, nothing
# twice
sed -i 's/^    batch_ms: 50$/    batch_ms: 50\n    transactions: false/' "$WORK/p.yaml"
start_consumer "$WORK/p.yaml" "$WORK/run.log"
wait_log "$WORK/run.log" "change stream open on ed" 15 || true
drive <<'CMDS'
admin {"configureFailPoint": "failCommand", "mode": {"times": 3}, "data": {"failCommands": ["update"], "appName": "tributary", "closeConnection": true}}
CMDS
for i in $(seq 10 59); do
    echo "ed {\"insert\": \"t\", \"documents\": [{\"_id\": $i, \"v\": \"e\"}]}"
    echo "ed {\"update\": \"t\", \"updates\": [{\"q\": {\"_id\": $i}, \"u\": {\"\$inc\": {\"n\": 1}}}]}"
done | drive
for _ in $(seq 1 300); do
    dump | grep -F '"_id" : { "$numberInt" : "59" }, "v" : "e", "n" : { "$numberInt" : "1" }' >/dev/null && break
    sleep 0.1
done
e_docs=$(dump | grep -c '"v" : "e", "n" : { "$numberInt" : "1" }' || true)
expect_eq "E: after lost connections every document once, updated once" "50" "$e_docs"
expect_eq "E: no other document" "53" "$(dump | grep -c '"_id"' || true)"
expect_grep "E: the sink lost its connection and the pipeline started again" "$WORK/run.log" \
    "pipeline p lost its database connection .sink copy: .*collection t: code 4: .*starting it again"
if kill -0 "$RUN_PID" 2>/dev/null; then pass "E: the daemon still runs"
else fail "E: the daemon still runs" "it exited: $(tail -3 "$WORK/run.log")"; fi
stop_consumer

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
