#!/usr/bin/env bash
# 48_mongodb_source.sh: the MongoDB change-stream source (source/mongodb/)
# -- AGAINST THE PROJECT'S WIRE-PROTOCOL TEST DOUBLE (test/mongo/,
# mongo_double), not a real mongod: none can be installed here.  libmongoc
# reads change streams from the double as from a one-member replica set.
#
# Changes are driven by test/mongo/build/mongo_drive (libmongoc); every
# event the file sink writes is compared with the changes the test drove.
#
#  A  every event type on a database stream: insert, update (with its
#     updateDescription), replace, delete, a two-document transaction
#     (one cluster time, its order kept), rename, drop, dropDatabase;
#     a `pipeline` $match leaves a collection out; `tributary check`
#     reports the preconditions.
#  B  masking: redact and hash rules on nested and array fields reach
#     `after`, `before` and updateDescription.updatedFields: no original
#     value of a masked field appears anywhere in the output.
#  C  kill -9 while a writer inserts: after restarts every insert is
#     in the output exactly once.
#  D  a collection stream: drop -> invalidate, then startAfter: the
#     re-created collection's inserts still arrive.
#  F  lost connections and resumable errors: resumed from the last
#     token, every change once; a non-resumable error stops run.
#  G  MongoDB to MongoDB: through a redact rule into the MongoDB sink;
#     the sink's series in /metrics.
#  H  start_at_operation_time: a first start at a given cluster time.
#  E  history lost: the oplog shrunk under a stopped daemon -> the
#     documented ChangeStreamHistoryLost (286) error, and run exits
#     (it shrinks the double's oplog: after every phase that needs it).
#  I  the deployment down when run starts: waited for, then streamed.
#
# With MONGO_URI set it runs against that real replica set instead
# (test/mongo/run-against-real-mongod.sh): E has the server answer 286
# through failCommand, I (which restarts a double) is skipped.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init --verbose -- shop crm load inv flaky gsrc gdst early hist later

# pipeline NAME SCOPE-YAML EXTRA-YAML: the config file $WORK/NAME.yaml
# (its sink and checkpoint: out_yaml NAME).
pipeline() {
    {
        echo "pipeline: $1"
        mongo_source_yaml "$2"
        out_yaml "$1"
        printf '%s\n' "$3"
    } >"$WORK/$1.yaml"
}

# values FILE: the JSON lines' op, collection and after (jq-free: python).
# summary FILE: one line per record: op, ns, key, after, updateDescription,
# source members (rs collection ord txnNumber), message content.
summary() {
    python3 - "$1" <<'PY'
import base64, json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)["value"]
    if r is None:
        print("tombstone")
        continue
    s = r.get("source", {})
    if r.get("op") == "m":
        c = json.loads(base64.b64decode(r["message"]["content"]))
        print("m", r["message"]["prefix"], json.dumps(c, sort_keys=True))
        continue
    print(r["op"], s.get("db"), s.get("table"), json.dumps(r.get("before"), sort_keys=True),
          json.dumps(r.get("after"), sort_keys=True),
          json.dumps(r.get("updateDescription"), sort_keys=True), s.get("rs"),
          s.get("collection"), "txn" if s.get("txnNumber") is not None else "-")
PY
}

# ---------------------------------------------------------------- A: every event type
pipeline a "    database: shop
    full_document: default
    pipeline: '[{\"\$match\": {\"ns.coll\": {\"\$ne\": \"ignored\"}}}]'" ""
rc=0; "$BIN" check -c "$WORK/a.yaml" >"$WORK/check.a" 2>&1 || rc=$?
expect_eq "check passes against the double" "0" "$rc"
expect_grep "check names the replica set" "$WORK/check.a" "ok   deployment: replica set rs0"
expect_grep "check opens the change stream" "$WORK/check.a" "ok   change stream on shop opens"
start_consumer "$WORK/a.yaml" "$WORK/a.log"
wait_log "$WORK/a.log" "change stream open on shop" 10 || true
drive <<'CMDS'
shop {"insert": "people", "documents": [{"_id": 1, "name": "Ann", "address": {"city": "Oslo", "zip": "0150"}, "tags": ["a"]}]}
shop {"insert": "ignored", "documents": [{"_id": 1, "left": "out by the pipeline's $match"}]}
shop {"update": "people", "updates": [{"q": {"_id": 1}, "u": {"$set": {"address.city": "Bergen", "n": 5}, "$unset": {"tags": ""}}}]}
shop {"update": "people", "updates": [{"q": {"_id": 1}, "u": {"name": "Ann B", "v": 2}}]}
begin
shop {"insert": "orders", "documents": [{"_id": 10, "amount": 5}]}
shop {"insert": "orders", "documents": [{"_id": 11, "amount": 6}]}
commit
shop {"delete": "people", "deletes": [{"q": {"_id": 1}, "limit": 1}]}
admin {"renameCollection": "shop.orders", "to": "shop.orders2"}
shop {"drop": "orders2"}
shop {"dropDatabase": 1}
CMDS
wait_lines "$WORK/a.jsonl" 9 15 || true
stop_consumer
summary "$WORK/a.jsonl" >"$WORK/a.sum"
cat >"$WORK/a.want" <<'WANT'
c shop people null {"_id": 1, "address": {"city": "Oslo", "zip": "0150"}, "name": "Ann", "tags": ["a"]} null rs0 people -
u shop people null null {"removedFields": ["tags"], "truncatedArrays": [], "updatedFields": {"address.city": "Bergen", "n": 5}} rs0 people -
u shop people null {"_id": 1, "name": "Ann B", "v": 2} null rs0 people -
c shop orders null {"_id": 10, "amount": 5} null rs0 orders txn
c shop orders null {"_id": 11, "amount": 6} null rs0 orders txn
d shop people null null null rs0 people -
tombstone
m mongodb.rename {"ns": {"coll": "orders", "db": "shop"}, "operationType": "rename", "to": {"coll": "orders2", "db": "shop"}}
m mongodb.drop {"ns": {"coll": "orders2", "db": "shop"}, "operationType": "drop"}
m mongodb.drop {"ns": {"coll": "people", "db": "shop"}, "operationType": "drop"}
m mongodb.dropDatabase {"ns": {"db": "shop"}, "operationType": "dropDatabase"}
m mongodb.invalidate {"operationType": "invalidate"}
WANT
expect_eq "A: every event type, in order, as the test drove them" "" \
    "$(diff "$WORK/a.want" "$WORK/a.sum" | head -20)"
# the transaction's two inserts: one cluster time (commit_lsn), seq 0 and 1,
# and nothing else at that time
txn=$(python3 - "$WORK/a.jsonl" <<'PY'
import json, sys
rows = [json.loads(l)["value"] for l in open(sys.argv[1])]
rows = [r for r in rows if r and r.get("op") != "m"]
seqs = {}
for r in rows:
    seqs.setdefault(r["source"]["lsn"], []).append(r["after"]["_id"] if r["after"] else None)
print(sorted(v for v in seqs.values() if len(v) > 1))
PY
)
expect_eq "A: the transaction keeps its boundary and order (one cluster time)" "[[10, 11]]" "$txn"
keys=$(python3 -c '
import json, sys
print(" ".join(json.dumps(json.loads(l)["key"], sort_keys=True) for l in open(sys.argv[1])
               if (json.loads(l)["value"] or {}).get("op") != "m"))' "$WORK/a.jsonl")
expect_eq "A: each change (and the tombstone) is keyed by its documentKey" \
    '{"_id": 1} {"_id": 1} {"_id": 1} {"_id": 10} {"_id": 11} {"_id": 1} {"_id": 1}' "$keys"
# the source block's ord (the cluster time's increment) and lsid: an lsid
# (and txnNumber) on the transaction's writes only
src=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)["value"]
    if r and r.get("op") != "m":
        s = r["source"]
        print(type(s.get("ord")).__name__, "lsid" if isinstance(s.get("lsid"), dict) else s.get("lsid"),
              s.get("txnNumber"))' "$WORK/a.jsonl" | sort | uniq -c | sed 's/^ *//' | tr '\n' '|')
expect_match "A: the source block has ord, and lsid and txnNumber on the transaction's writes" \
    '^4 int None None\|2 int lsid [0-9]+\|$' "$src"
expect_grep "A: after the invalidate the stream is opened again with startAfter" "$WORK/a.log" \
    "invalidated; opening it again with startAfter"
expect_eq "A: a clean stop" "0" "$STOP_RC"

# ---------------------------------------------------------------- B: masking
# Pre- and post-images, so that before, after and updateDescription all
# carry the values.  The PII below must not appear anywhere in the output.
drive <<'CMDS'
crm {"create": "users", "changeStreamPreAndPostImages": {"enabled": true}}
CMDS
pipeline b "    database: crm
    collection: users
    full_document: whenAvailable
    full_document_before_change: whenAvailable" "transforms:
  - {type: redact, fields: [email, contacts.email, profile.phone]}
  - {type: hash, fields: [ssn], key: \"0123456789abcdef0123456789abcdef\", key_format: raw, context: ssn}
  - {type: drop, fields: [secret]}"
start_consumer "$WORK/b.yaml" "$WORK/b.log"
wait_log "$WORK/b.log" "change stream open on crm.users" 10 || true
drive <<'CMDS'
crm {"insert": "users", "documents": [{"_id": 1, "email": "ann@example.com", "ssn": "078-05-1120", "profile": {"phone": "555-0101", "city": "Oslo"}, "contacts": [{"email": "c1@example.com", "name": "C1"}, {"email": "c2@example.com", "name": "C2"}], "secret": {"note": "TOPSECRET1"}}]}
crm {"update": "users", "updates": [{"q": {"_id": 1}, "u": {"$set": {"profile.phone": "555-0202", "contacts.1.email": "c2new@example.com", "email": "ann2@example.com", "ssn": "219-09-9999"}}}]}
crm {"update": "users", "updates": [{"q": {"_id": 1}, "u": {"$set": {"profile": {"phone": "555-0303", "city": "Rome"}, "secret.note": "TOPSECRET2"}}}]}
crm {"update": "users", "updates": [{"q": {"_id": 1}, "u": {"$push": {"contacts": {"email": "c3@example.com", "name": "C3"}}}}]}
crm {"update": "users", "updates": [{"q": {"_id": 1}, "u": {"$set": {"contacts": [{"email": "c4@example.com", "name": "C4"}]}}}]}
crm {"delete": "users", "deletes": [{"q": {"_id": 1}, "limit": 1}]}
CMDS
wait_lines "$WORK/b.jsonl" 7 15 || true
stop_consumer
expect_eq "B: six changes (and the delete's tombstone) written" "7" "$(wc -l <"$WORK/b.jsonl")"
for pii in ann@example.com ann2@example.com c1@example.com c2@example.com c2new@example.com \
    c3@example.com c4@example.com 555-0101 555-0202 555-0303 078-05-1120 219-09-9999 TOPSECRET; do
    expect_absent "B: no original $pii anywhere in the output" "$pii" "$WORK/b.jsonl"
done
ud=$(python3 - "$WORK/b.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)["value"]
    if r and r.get("updateDescription"):
        print(json.dumps(r["updateDescription"]["updatedFields"], sort_keys=True))
PY
)
echo "$ud" | sed 's/^/# updatedFields: /'
expect_match "B: updatedFields keeps its dotted keys, masked (nested, array element)" \
    '"contacts.1.email": "\*{17}", "email": "\*{16}", "profile.phone": "\*{8}", "ssn": "[0-9a-f]{64}"' \
    "$(sed -n 1p <<<"$ud")"
expect_eq "B: a subdocument set: its leaves masked; drop removed secret.note" \
    '{"profile.city": "Rome", "profile.phone": "********"}' "$(sed -n 2p <<<"$ud")"
expect_eq "B: a key above the field (an element pushed): the rule walks its value" \
    '{"contacts.2": {"email": "**************", "name": "C3"}}' "$(sed -n 3p <<<"$ud")"
expect_eq "B: an array replaced, masked inside" \
    '{"contacts.0.email": "**************", "contacts.0.name": "C4"}' "$(sed -n 4p <<<"$ud")"
expect_grep "B: before (the pre-image) is there, masked" "$WORK/b.jsonl" \
    '"before":\{"_id":1,"email":"\*{15}"'

# ---------------------------------------------------------------- C: kill -9
# A writer drives inserts, updates and transactions (every change
# unique: an insert's _id, an update's v); the daemon is killed -9 at
# random points and restarted.  The output must be exactly the changes
# driven, in their order.  A first start has no stored position and
# begins now, so the kills start once a first change is checkpointed.
pipeline c "    database: load" ""
start_consumer "$WORK/c.yaml" "$WORK/c.log"
wait_log "$WORK/c.log" "change stream open on load" 10 || true
echo 'load {"insert": "items", "documents": [{"_id": 0, "v": 0}]}' | drive
wait_lines "$WORK/c.jsonl" 1 10 || true
for _ in $(seq 1 50); do [ -s "$WORK/c.ckpt" ] && break; sleep 0.1; done
load_writer
kill_while_writing "$WORK/c.yaml" "$WORK/c.log"
# the last change: _id 999, then everything before it is in
echo 'load {"insert": "items", "documents": [{"_id": 999, "v": 0}]}' | drive
for _ in $(seq 1 150); do grep -q '"_id" : 999' "$WORK/c.jsonl" && break; sleep 0.1; done
stop_consumer
load_check "C: after kill -9 (at least 3), every change exactly once, in order" "$WORK/c.jsonl"
echo "# $KILLS kills; $(wc -l <"$WORK/load.got") changes written"
expect_match "C: killed at least 3 times" "^([3-9]|[1-9][0-9]+)$" "$KILLS"
expect_grep "C: restarts resumed from the stored cluster time" "$WORK/c.log" \
    "resuming after cluster time"

# ---------------------------------------------------------------- D: invalidate
# A collection stream ends with invalidate when its collection is
# dropped; the source delivers it and opens the stream again with
# startAfter: the re-created collection's changes still arrive, also
# after a kill -9 that follows the invalidate.
pipeline d "    database: inv
    collection: things" ""
start_consumer "$WORK/d.yaml" "$WORK/d.log"
wait_log "$WORK/d.log" "change stream open on inv.things" 10 || true
drive <<'CMDS'
inv {"insert": "things", "documents": [{"_id": 1}]}
inv {"drop": "things"}
inv {"insert": "things", "documents": [{"_id": 2}]}
CMDS
wait_lines "$WORK/d.jsonl" 4 10 || true
sleep 1.5	# the checkpoint of _id 2 is saved (CHECKPOINT_MS)
kill_consumer
start_consumer "$WORK/d.yaml" "$WORK/d.log"
wait_log "$WORK/d.log" "resuming after cluster time" 10 || true
echo 'inv {"insert": "things", "documents": [{"_id": 3}]}' | drive
wait_lines "$WORK/d.jsonl" 5 10 || true
stop_consumer
got=$(ops_of "$WORK/d.jsonl")
expect_eq "D: insert, drop, invalidate, then the re-created collection's inserts once" \
    "c 1|mongodb.drop|mongodb.invalidate|c 2|c 3" "$got"
expect_grep "D: startAfter the invalidate" "$WORK/d.log" "invalidated; opening it again with startAfter"

# ---------------------------------------------------------------- F: errors
# Lost connections (failCommand closeConnection on getMore and on the
# aggregate of libmongoc's own resume, so that the error reaches the
# source, and again on its own reopening) and labelled resumable errors
# (which libmongoc resumes from): the source pauses
# (reconnect_backoff_ms, doubling) and resumes after its last token,
# losing and repeating nothing.  A non-resumable error (216)
# stops run with an error naming it.
pipeline f "    database: flaky" ""
start_consumer "$WORK/f.yaml" "$WORK/f.log"
wait_log "$WORK/f.log" "change stream open on flaky" 10 || true
drive <<'CMDS'
flaky {"insert": "x", "documents": [{"_id": 1}]}
admin {"configureFailPoint": "failCommand", "mode": {"times": 4}, "data": {"failCommands": ["getMore", "aggregate"], "closeConnection": true}}
flaky {"insert": "x", "documents": [{"_id": 2}]}
CMDS
wait_lines "$WORK/f.jsonl" 2 15 || true
drive <<'CMDS'
admin {"configureFailPoint": "failGetMoreAfterCursorCheckout", "mode": {"times": 3}, "data": {"errorCode": 10107}}
flaky {"insert": "x", "documents": [{"_id": 3}]}
flaky {"insert": "x", "documents": [{"_id": 4}]}
CMDS
wait_lines "$WORK/f.jsonl" 4 15 || true
got=$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["value"]["after"]["_id"]) for l in open(sys.argv[1])))' "$WORK/f.jsonl")
expect_eq "F: through dropped connections and resumable errors, every change once" "1 2 3 4" "$got"
expect_grep "F: the source paused and resumed after its last token" "$WORK/f.log" \
    "mongodb change stream: .*; resuming in [0-9]+ ms"
drive <<'CMDS'
admin {"configureFailPoint": "failGetMoreAfterCursorCheckout", "mode": {"times": 1}, "data": {"errorCode": 216}}
CMDS
run_exits
expect_match "F: a non-resumable error stops run with an error" "^[1-9][0-9]*$" "$RUN_RC"
expect_grep "F: ... naming it" "$WORK/f.log" "non-resumable error 216"

# ---------------------------------------------------------------- G: into the MongoDB sink
# MongoDB to MongoDB, masked: the source's changes through a redact rule
# into the MongoDB sink (another database of the same double); the
# sink's counters in /metrics.
cat >"$WORK/g.yaml" <<YAML
pipeline: g
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: gsrc
    max_await_ms: 200
    lock_dsn: "$(pg_dsn)"
sinks:
  copy:
    type: mongodb
    uri: "$URI"
    database: gdst
    collection: "\${table}"
    batch_ms: 20
checkpoint:
  store: file
  path: "$WORK/g.ckpt"
http:
  listen: "127.0.0.1:0"
transforms:
  - {type: redact, fields: [email]}
YAML
start_consumer "$WORK/g.yaml" "$WORK/g.log"
wait_log "$WORK/g.log" "change stream open on gsrc" 10 || true
drive <<'CMDS'
gsrc {"insert": "users", "documents": [{"_id": 1, "email": "g1@example.com", "n": 1}, {"_id": 2, "email": "g2@example.com", "n": 2}, {"_id": 3, "email": "g3@example.com", "n": 3}]}
gsrc {"update": "users", "updates": [{"q": {"_id": 2}, "u": {"$set": {"n": 20}}}]}
gsrc {"delete": "users", "deletes": [{"q": {"_id": 3}, "limit": 1}]}
CMDS
port=$(sed -nE 's/.*serving .* on 127\.0\.0\.1 port ([0-9]+).*/\1/p' "$WORK/g.log" | sed -n 1p)
metric=
for _ in $(seq 1 100); do
    metric=$(curl -s "http://127.0.0.1:$port/metrics" | grep '^tributary_mongodb_sink_changes_total{sink="copy",result="written"}' || true)
    [ "${metric##* }" = 5 ] && break
    sleep 0.1
done
expect_eq "G: the sink's written changes in /metrics" \
    'tributary_mongodb_sink_changes_total{sink="copy",result="written"} 5' "$metric"
for _ in $(seq 1 100); do
    curl -s "http://127.0.0.1:$port/metrics" >"$WORK/g.metrics"
    grep -q '^tributary_mongodb_sink_batches_total{sink="copy",result="applied"} [1-9]' \
        "$WORK/g.metrics" && break
    sleep 0.1
done
expect_grep "G: ... its applied batches" "$WORK/g.metrics" \
    '^tributary_mongodb_sink_batches_total\{sink="copy",result="applied"\} [1-9]'
expect_grep "G: ... and the time they took" "$WORK/g.metrics" \
    '^tributary_mongodb_sink_batch_seconds_count\{sink="copy"\} [1-9]'
stop_consumer
echo 'gdst {"find": "users", "sort": {"_id": 1}}' | "$DRIVE" "$URI" >"$WORK/g.find" 2>>"$WORK/drive.log" || true
got=$(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    if line.startswith("{"):
        r = json.loads(line)
        print(json.dumps(r["cursor"]["firstBatch"], sort_keys=True))
        break
else:
    print("no reply: " + open(sys.argv[1]).read()[:300])' "$WORK/g.find")
expect_eq "G: the copy holds the documents, masked" \
    '[{"_id": 1, "email": "**************", "n": 1}, {"_id": 2, "email": "**************", "n": 20}]' "$got"

# ---------------------------------------------------------------- H: start_at_operation_time
# A first start at a given cluster time: a change made before the daemon
# started (at that time) is captured; the one before it is not.
echo 'early {"insert": "e", "documents": [{"_id": 1}]}' | drive
echo 'early {"insert": "e", "documents": [{"_id": 2}]}' | "$DRIVE" "$URI" >"$WORK/h.reply"
at=$(python3 -c 'import json,sys; t=json.loads(open(sys.argv[1]).read())["operationTime"]["$timestamp"]; print("%d.%d" % (t["t"], t["i"]))' "$WORK/h.reply")
pipeline h "    database: early
    start_at_operation_time: \"$at\"" ""
start_consumer "$WORK/h.yaml" "$WORK/h.log"
echo 'early {"insert": "e", "documents": [{"_id": 3}]}' | drive
wait_lines "$WORK/h.jsonl" 2 10 || true
stop_consumer
got=$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["value"]["after"]["_id"]) for l in open(sys.argv[1])))' "$WORK/h.jsonl")
expect_eq "H: from start_at_operation_time $at: the change at it and after, not before" "2 3" "$got"

# ---------------------------------------------------------------- E: history lost
# The daemon stops; the oplog is shrunk and overrun; the restart's start
# point is gone: ChangeStreamHistoryLost (286), the documented error and
# recovery, and run exits with an error rather than skip changes.
pipeline e "    database: hist" ""
start_consumer "$WORK/e.yaml" "$WORK/e.log"
wait_log "$WORK/e.log" "change stream open on hist" 10 || true
echo 'hist {"insert": "h", "documents": [{"_id": 1}]}' | drive
wait_lines "$WORK/e.jsonl" 1 10 || true
for _ in $(seq 1 50); do [ -s "$WORK/e.ckpt" ] && break; sleep 0.1; done
stop_consumer
{
    # A real oplog (990 MB at least) cannot be overrun here: against a
    # real server (MONGO_URI) the server answers the restart's aggregate
    # with 286 through failCommand instead.
    if on_double; then
        echo 'admin {"doubleSetOplogSize": 5}'
    else
        echo 'admin {"configureFailPoint": "failCommand", "mode": {"times": 1}, "data": {"failCommands": ["aggregate"], "errorCode": 286, "appName": "tributary-source"}}'
    fi
    for i in $(seq 2 20); do echo "hist {\"insert\": \"h\", \"documents\": [{\"_id\": $i}]}"; done
} | drive
rc=0; timeout 30 "$BIN" run -c "$WORK/e.yaml" >>"$WORK/e.log" 2>&1 || rc=$?
expect_match "E: run exits with an error (not a timeout)" "^([1-9]|[1-9][0-9])$" "$rc"
expect_grep "E: the error names ChangeStreamHistoryLost (286)" "$WORK/e.log" \
    "ChangeStreamHistoryLost \(286\)"
expect_grep "E: ... and the documented recovery" "$WORK/e.log" "recovery: .*docs/MONGODB.md"
expect_eq "E: nothing after the lost history was written" "1" "$(wc -l <"$WORK/e.jsonl")"

# ---------------------------------------------------------------- I: not reachable at start
# The deployment is down when run starts: the source waits for it as
# after a lost connection (capped backoff) instead of failing, then
# streams.  A second double, stopped, then started again on its port
# (so not against a real server: MONGO_URI).
if on_double; then
    E2E_PIDS+=" MONGO2_PID"
    "$ROOT/test/mongo/build/mongo_double" --port-file "$WORK/mongo2.port" 2>"$WORK/mongo2.log" &
    MONGO2_PID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/mongo2.port" ] && break; sleep 0.1; done
    PORT2=$(cat "$WORK/mongo2.port")
    kill -TERM "$MONGO2_PID"; wait "$MONGO2_PID" || true
    URI2="mongodb://127.0.0.1:$PORT2/?replicaSet=rs0"
    sed -e "s|$URI|$URI2|" -e "s|database: early|database: later|" -e '/start_at_operation_time/d' \
        -e "s|/h\.|/i.|g" -e "s|pipeline: h|pipeline: i|" "$WORK/h.yaml" >"$WORK/i.yaml"
    start_consumer "$WORK/i.yaml" "$WORK/i.log"
    wait_log "$WORK/i.log" "resuming in" 10 || true
    expect_grep "I: an unreachable deployment at start is retried" "$WORK/i.log" \
        "mongodb change stream: hello: .*; resuming in [0-9]+ ms"
    "$ROOT/test/mongo/build/mongo_double" --port "$PORT2" 2>>"$WORK/mongo2.log" &
    MONGO2_PID=$!
    wait_log "$WORK/i.log" "change stream open on later" 20 || true
    echo 'later {"insert": "l", "documents": [{"_id": 7}]}' | "$DRIVE" "$URI2" >/dev/null
    wait_lines "$WORK/i.jsonl" 1 10 || true
    expect_eq "I: run is still up and streams once the deployment is back" "t" \
        "$(kill -0 "$RUN_PID" 2>/dev/null && echo t || echo f)"
    stop_consumer
    got=$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["value"]["after"]["_id"]) for l in open(sys.argv[1])))' "$WORK/i.jsonl" 2>/dev/null || true)
    expect_eq "I: ... its change arrives" "7" "$got"
fi

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
