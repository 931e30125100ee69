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
# apart (ObjectId, int32, int64 -- also an int32 42 beside an int64 42
# --, double, ...) go through an initial snapshot (op r), then inserts,
# updates ($set, $unset), a replace, a delete, a two-document transaction
# and a three-document transaction over two collections, into the Kafka
# mock with `format: debezium`:
#  A  without schemas: test/interop/debezium-mongo.test.mjs reads the
#     records with kafkajs, parses the key's id and `after` with the bson
#     package's EJSON.parse and compares every document with what the
#     server holds (read with the official driver), types included; the
#     raw text has Debezium's STRICT forms; transaction metadata (one
#     BEGIN and one END per transaction, END's event_count and
#     data_collections, the records' transaction block) and heartbeats.
#  B  schemas.enable: true: the same, each record {schema, payload} with
#     the Envelope/Key names and the Connect schema of every field.
#  C  kill -9: a transactional Kafka sink, transaction metadata, a writer
#     committing transactions over two collections (and writes outside
#     any) while the consumer is killed and restarted: every committed
#     transaction has its BEGIN and, last, its END with the right counts,
#     and every change is written (read_committed).  Exactly once in the
#     committed log, as far as the mock cluster lets a reader tell (it
#     shows the records of aborted Kafka transactions, so the copies a
#     killed run left uncommitted are in the dump; printed as # copies):
#     after each kill the next run resumes after the newest checkpoint
#     record, the checkpoints only grow, and no record at or before the
#     checkpoint of a kill is written again.
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
 "l42": {"\$numberLong": "42"}, "n42": {"\$numberInt": "42"},
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
begin
dbzm {"insert": "other", "documents": [{"_id": 1, "w": 1}, {"_id": 2, "w": {"\$numberLong": "2"}}]}
dbzm {"update": "items", "updates": [{"q": {"_id": 4}, "u": {"\$set": {"w": {"\$numberLong": "7"}}}}]}
commit
CMDS
# 2 snapshot reads, 1 insert, 2 updates, 1 delete (+ tombstone), 2 in the
# first transaction, 1 in the second
wait_dump dbz.dbzm.items "$WORK/a.dump" 10
wait_dump dbz.transaction "$WORK/a.tx" 4
sleep 0.5
"$TOOLS/kafka_dump" "$BOOT" dbz.transaction > "$WORK/a.tx" 2>/dev/null || true
"$TOOLS/kafka_dump" "$BOOT" __debezium-heartbeat.dbz > "$WORK/a.hb" 2>/dev/null || true
stop_consumer
expect_eq "A: the run stopped cleanly" 0 "$STOP_RC"
expect_eq "A: 10 records on dbz.dbzm.items: 2 r, c, 2 u, d and its tombstone, the transactions' c, u and u" 10 "$(wc -l < "$WORK/a.dump")"

# the raw text: Debezium's forms
expect_grep "A: int64 in after as {\"\$numberLong\": ...} (STRICT)" "$WORK/a.dump" \
    '\\"i64\\": {\\"\$numberLong\\": \\"5000000001\\"}'
expect_grep "A: an int64 42 as {\"\$numberLong\": \"42\"} (STRICT)" "$WORK/a.dump" \
    '\\"l42\\": \{\\"\$numberLong\\": \\"42\\"\}'
expect_no_grep "A: ... in every record (none bare)" "$WORK/a.dump" '\\"l42\\": 42'
expect_grep "A: an int32 42 bare" "$WORK/a.dump" '\\"n42\\": 42,'
expect_no_grep "A: ... in every record (none as \$numberLong)" "$WORK/a.dump" '\\"n42\\": \{'
expect_grep "A: an int64 in a transaction's update" "$WORK/a.dump" '\\"w\\": {\\"\$numberLong\\": \\"7\\"}'
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
# transaction metadata: one BEGIN and one END per transaction, the END
# after the BEGIN with the transaction's counts, and the transaction block
# of its writes
expect_grep "A: transaction BEGIN" "$WORK/a.tx" '"status":"BEGIN","id":"1:[0-9]+"'
expect_eq "A: 2 BEGIN and 2 END records" "2 2" \
    "$(grep -c '"status":"BEGIN"' "$WORK/a.tx") $(grep -c '"status":"END"' "$WORK/a.tx")"
expect_eq "A: the ENDs: 2 changes in dbzm.items; 3 in dbzm.other (2) and dbzm.items (1)" \
    '2 [{"data_collection":"dbzm.items","event_count":2}]|3 [{"data_collection":"dbzm.other","event_count":2},{"data_collection":"dbzm.items","event_count":1}]' \
    "$(python3 - "$WORK/a.tx" <<'PY'
import json, sys
# in the order of the ENDs' positions (the id header "H/L:S"): the
# dump goes partition by partition, and the two transactions' keys may
# land in different partitions (a BEGIN and its END share one)
def pos_of(eid):
    lsn, seq = eid.rsplit(":", 1)
    hi, lo = lsn.split("/")
    return (int(hi, 16), int(lo, 16), int(seq))
out, seen = [], {}
for l in open(sys.argv[1]):
    f = l.rstrip("\n").split("\t")
    v = json.loads(f[5])
    if v["status"] == "BEGIN":
        seen[v["id"]] = True
    elif seen.get(v["id"]):
        out.append((pos_of(f[0]), "%d %s" % (v["event_count"], json.dumps(v["data_collections"], separators=(",", ":")))))
    else:
        out.append(((-1,), "END before BEGIN: " + v["id"]))
print("|".join(t for _, t in sorted(out)))
PY
)"
# (total_order:data_collection_order, sorted: the two keys may land in
# different partitions)
expect_eq "A: the transaction's 2 writes carry its block (orders 1 and 2)" \
    "1:1 2:2" "$(grep -oE '"transaction":\{"id":"1:[0-9]+","total_order":[0-9]+,"data_collection_order":[0-9]+' \
        "$WORK/a.dump" | sed -E 's/.*"total_order":([0-9]+),"data_collection_order":([0-9]+)/\1:\2/' |
        sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "A: heartbeats were written" t "$([ "$(wc -l < "$WORK/a.hb")" -ge 1 ] && echo t || echo f)"

interop_test "A: EJSON.parse of the records equals the server's documents:" \
    debezium-mongo.test.mjs 5 KAFKA_BOOTSTRAP="$BOOT" TOPIC=dbz.dbzm.items MONGO_URI="$URI" \
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
    debezium-mongo.test.mjs 5 KAFKA_BOOTSTRAP="$BOOT" TOPIC=dbs.dbzm.items MONGO_URI="$URI" \
    DB=dbzm COLL=items PREFIX=dbs SCHEMAS=1 OPS=r,c,u

# ---------------------------------------------------------------- C: kill -9
# A transactional Kafka sink with transaction metadata on database kdb
# (stream only), killed -9 at random points while the writer commits
# transactions, each: two inserts and an update in kdb.items, an insert in
# kdb.other (4 changes), after one insert outside any transaction.
cat >"$WORK/c.yaml" <<YAML
pipeline: c
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: kdb
    max_await_ms: 100
    lock_dsn: "$(pg_dsn)"
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: kx
    transactional: true
    format: debezium
    transaction_metadata: true
$(ckpt_yaml "$WORK/c.ckpt")
YAML
# kdb_batch B: batch B's commands
kdb_batch() {
    echo "kdb {\"insert\": \"solo\", \"documents\": [{\"_id\": $1}]}"
    echo "begin"
    echo "kdb {\"insert\": \"items\", \"documents\": [{\"_id\": $(($1 * 10 + 1))}, {\"_id\": $(($1 * 10 + 2))}]}"
    echo "kdb {\"insert\": \"other\", \"documents\": [{\"_id\": $1}]}"
    echo "kdb {\"update\": \"items\", \"updates\": [{\"q\": {\"_id\": $(($1 * 10 + 1))}, \"u\": {\"\$set\": {\"v\": $1}}}]}"
    echo "commit"
}
# The checkpoint topic made through the mock's control port: the sink's
# CreateTopics waits 30 s for a controller the mock (librdkafka 2.0)
# never names, then relies on auto-creation
mock_ctl create __tributary_checkpoints 1
ckpt_start c "$WORK/c.yaml" "$WORK/c.log"
wait_log "$WORK/c.log" "change stream open on kdb" 90 || true
# batch 0 in Kafka first: the stream starts from now, so the first kill
# must come after a stored position: a checkpoint record, not the
# transaction topic's BEGIN/END (the mock shows records of a Kafka
# transaction before it commits, see below)
kdb_batch 0 | drive
wait_dump __tributary_checkpoints "$WORK/c.ck.0" 1
(
    for b in $(seq 1 25); do
        kdb_batch "$b" | "$DRIVE" "$URI" >>"$WORK/drive.log" 2>&1
        sleep 0.3
    done
) &
WRITER_PID=$!
# The kill loop of kill_while_writing, instrumented: the mock cluster
# (librdkafka 2.0) shows the records of aborted Kafka transactions to
# read_committed readers, so every record a killed run produced after its
# last commit stays visible, and the next run rightly writes it again;
# the newest checkpoint record at each kill tells committed from aborted
# (kafka_txn_check.py)
kill_while_writing_ckpt c "$WORK/c.yaml" "$WORK/c.log"
wait_dump kx.transaction "$WORK/c.tx" 52
wait_dump kx.kdb. "$WORK/c.dump" 130
stop_consumer
expect_eq "C: the run stopped cleanly after $KILLS kill(s)" 0 "$STOP_RC"
# read again once the drain has committed everything: with the copies of
# aborted transactions the line counts above can be reached before the
# last transaction is there
"$TOOLS/kafka_dump" "$BOOT" kx.transaction > "$WORK/c.tx"
"$TOOLS/kafka_dump" "$BOOT" kx.kdb. > "$WORK/c.dump"
# the transaction topic as a read_committed reader of a real broker sees
# it (kafka_txn_check.py committed; the exactly-once check below reads the
# whole dump): a kill after an END was written and before its Kafka
# transaction committed leaves that END visible here, and the next run
# writes it again
python3 "$ROOT/consumer/test/e2e/kafka_txn_check.py" committed "$WORK/c.tx" > "$WORK/c.txc"
python3 - "$WORK/c.txc" "$WORK/c.dump" >"$WORK/c.check" 2>&1 <<'PY' || true
import json, sys
from collections import Counter
bad = []
want = Counter()
for b in range(26):
    for k in (("solo", "c", b), ("other", "c", b), ("items", "c", b * 10 + 1),
              ("items", "c", b * 10 + 2), ("items", "u", b * 10 + 1)):
        want[k] += 1
got = Counter()
tx_ids = set()
for l in open(sys.argv[2]):
    f = l.rstrip("\n").split("\t")
    if f[5] == "-":
        continue
    v = json.loads(f[5])
    got[(v["source"]["collection"], v["op"], json.loads(json.loads(f[4])["id"]))] += 1
    if v["transaction"] is not None:
        tx_ids.add(v["transaction"]["id"])
if set(got) != set(want):
    bad.append("changes missing %s, unknown %s" % (sorted(set(want) - set(got))[:5],
                                                   sorted(set(got) - set(want))[:5]))
last, ends = {}, Counter()
for l in open(sys.argv[1]):
    v = json.loads(l.rstrip("\n").split("\t")[5])
    i = v["id"]
    if v["status"] == "BEGIN":
        last[i] = "BEGIN"
        continue
    if last.get(i) != "BEGIN":
        bad.append("%s: an END not after its BEGIN" % i)
    last[i] = "END"
    ends[i] += 1
    dc = [(d["data_collection"], d["event_count"]) for d in v["data_collections"]]
    if v["event_count"] != 4 or dc != [("kdb.items", 3), ("kdb.other", 1)]:
        bad.append("%s: END event_count %s, %s" % (i, v["event_count"], dc))
open_ = [i for i, s in last.items() if s != "END"]
if open_:
    bad.append("transactions whose last record is not END: %s" % open_[:3])
if len(last) != 26:
    bad.append("%d transactions on the transaction topic, want 26" % len(last))
if tx_ids != set(last):
    bad.append("transaction ids of data records without BEGIN/END: %s" % sorted(tx_ids - set(last))[:3])
print("\n".join(bad) if bad else "ok: 26 transactions")
# copies of records of aborted Kafka transactions (see the next check)
print("# copies: %d data records for %d changes, %d END records for 26 transactions"
      % (sum(got.values()), sum(want.values()), sum(ends.values())))
PY
grep '^# copies' "$WORK/c.check" || true
expect_eq "C: every committed transaction on the transaction topic, its last record an END with the right event_count and data_collections, every change written ($KILLS kills)" \
    "ok: 26 transactions" "$(grep -v '^#' "$WORK/c.check" | head -5)"

# Exactly once, as far as the mock lets a reader tell.  The committed
# log is the records of each run up to its last checkpoint record; it
# holds every change exactly once when (1) each run resumes after the
# newest checkpoint record there was when it started (never an older
# one), (2) the checkpoint records' positions only grow, and (3) a
# record is written again only by runs that resumed before it: a change
# (and a BEGIN) at or before the newest checkpoint at a kill is never
# written again after it (an END, keyed by its transaction's last change,
# may be written once more after a checkpoint at that very change: the
# checkpoint inside the transaction holds no END yet).
"$TOOLS/kafka_dump" "$BOOT" __tributary_checkpoints > "$WORK/c.ck.final"
python3 "$ROOT/consumer/test/e2e/kafka_txn_check.py" once "$WORK/c.log" "$WORK/c" \
    "$WORK/c.ck.final" "$WORK/c.tx" "$WORK/c.dump" >"$WORK/c.once" 2>&1 || true
expect_match "C: exactly once in the committed log: each restart resumes after the newest checkpoint record, checkpoints only grow, no record at or before one is written again ($KILLS kills)" \
    '^ok: ' "$(head -10 "$WORK/c.once")"

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
