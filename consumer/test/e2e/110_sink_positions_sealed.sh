#!/usr/bin/env bash
# 110_sink_positions_sealed.sh: checkpoint.encryption_key seals the
# positions the sinks store for themselves too (core/sink_seal.c), not only
# the checkpoint store's -- the Postgres sink's tributary_sink.positions,
# the Kafka sink's __tributary_checkpoints, the file sink's PATH.pos --
# AGAINST THE PROJECT'S WIRE-PROTOCOL TEST DOUBLE for MongoDB (test/mongo/,
# mongo_double) and librdkafka's mock cluster.  A real resume token encodes
# the event's documentKey; the double's encodes only its place in the oplog,
# so the checks look for the token itself ("_data") as the clear bytes.
#
#  A  one pipeline, a key, four sinks (postgres, mongodb, transactional
#     kafka, file) from database `load`; kill -9 at random points under load:
#     every change once, in order, in the file; the Postgres target holds
#     the source's final state; the restarts resumed by the stored (sealed)
#     token; no stored position of any sink holds a token, every one is
#     sealed; the key is not in the log.
#  B  a wrong key, or none, for A's sealed sink positions (the checkpoint
#     file moved away, so the sinks are asked): run stops with an error
#     naming the pipeline, the sink and its store, starts nothing over, and
#     the stored positions stay as they were.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init --verbose -- load load_copy
build_tool mongo_dump
DUMP=$TOOL

KEY=5e1f0a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7
OTHER=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff
export TRIB_E2E_CKPT_KEY=$KEY

mock_start 1
mock_ctl create __tributary_checkpoints 1
for t in items other; do mock_ctl create "e110.load.$t" 1; done
pgc_psql -d postgres -c "CREATE SCHEMA tgt;
    CREATE TABLE tgt.items (_id bigint PRIMARY KEY, v bigint);
    CREATE TABLE tgt.other (_id bigint PRIMARY KEY, v bigint);" >/dev/null

PG_SINK="  pg:
    type: postgres
    dsn: \"$(pg_dsn)\"
    schema: tgt
    batch_ms: 20"
MG_SINK="  mg:
    type: mongodb
    uri: \"$URI\"
    database: load_copy
    collection: \"\${table}\"
    batch_ms: 20"
K_SINK="  k:
    type: kafka
    bootstrap_servers: \"$BOOT\"
    topic_prefix: e110
    transactional: true"
OUT_SINK="  out:
    type: file
    path: \"$WORK/p.jsonl\""

# pipeline FILE SINKS-YAML: pipeline e110 into FILE.
pipeline() {
    {
        echo "pipeline: e110"
        mongo_source_yaml "    database: load"
        printf 'sinks:\n%s\ncheckpoint:\n  store: file\n  path: "%s"\n' "$2" "$WORK/p.ckpt"
        # shellcheck disable=SC2016 # the daemon expands ${TRIB_E2E_CKPT_KEY}
        printf '  encryption_key: "${TRIB_E2E_CKPT_KEY}"\nhttp:\n  enabled: false\n'
    } >"$1"
}
pipeline "$WORK/p.yaml" "$PG_SINK
$MG_SINK
$K_SINK
$OUT_SINK"

# ---------------------------------------------------------------- A: kill -9 under load
start_consumer "$WORK/p.yaml" "$WORK/p.log"
wait_log "$WORK/p.log" "change stream open on load" 10 || true
echo 'load {"insert": "items", "documents": [{"_id": 0, "v": 0}]}' | drive
wait_lines "$WORK/p.jsonl" 1 10 || true
for _ in $(seq 1 50); do [ -s "$WORK/p.ckpt" ] && break; sleep 0.1; done
load_writer
kill_while_writing "$WORK/p.yaml" "$WORK/p.log"
echo 'load {"insert": "items", "documents": [{"_id": 999, "v": 0}]}' | drive
for _ in $(seq 1 150); do grep -q '"_id" : 999' "$WORK/p.jsonl" && break; sleep 0.1; done
for _ in $(seq 1 100); do
    [ "$(q postgres "SELECT count(*) FROM tgt.items WHERE _id = 999")" = 1 ] && break
    sleep 0.1
done
sleep 1		# the last commit's positions
stop_consumer
echo "# A: $KILLS kills"
expect_match "A: at least 3 kills" "^([3-9]|[1-9][0-9]+)$" "$KILLS"
load_check "A: after kill -9, the file sink holds every change exactly once, in order" "$WORK/p.jsonl"
expect_eq "A: the Postgres target holds the source's items" \
    "92 465" "$(q postgres "SELECT count(*) || ' ' || sum(v) FROM tgt.items")"
expect_eq "A: and its others" "30" "$(q postgres "SELECT count(*) FROM tgt.other")"
expect_match "A: at least 3 restarts resumed by the stored token" "^([3-9]|[1-9][0-9]+)$" \
    "$(grep -c 'by its stored resume token' "$WORK/p.log" || true)"

PGPOS=$(q postgres "SELECT opaque FROM tributary_sink.positions WHERE pipeline = 'e110' AND sink = 'pg'")
expect_match "A: the Postgres sink's stored position is sealed" \
    '^\{"tributary_sealed":1,"alg":"AES-256-GCM","data":"[A-Za-z0-9+/=]+"\}$' "$PGPOS"
"$DUMP" "$URI" load_copy tributary_positions >"$WORK/mg.pos" 2>&1
expect_grep "A: the MongoDB sink's stored position is sealed" "$WORK/mg.pos" \
    '"opaque" : "\{\\"tributary_sealed\\":1,'
expect_absent "A: and holds no token" "_data" "$WORK/mg.pos"
expect_eq "A: the MongoDB copy holds the source's items" "92" \
    "$("$DUMP" "$URI" load_copy items 2>/dev/null | wc -l)"
"$TOOLS/kafka_dump" "$BOOT" __tributary_checkpoints >"$WORK/ck.dump"
echo "# A: $(wc -l <"$WORK/ck.dump") checkpoint records"
expect_match "A: the Kafka sink committed checkpoint records" "^[1-9][0-9]*$" "$(wc -l <"$WORK/ck.dump")"
expect_eq "A: every one holds a sealed opaque" "$(wc -l <"$WORK/ck.dump")" \
    "$(grep -c '"opaque":"{\\"tributary_sealed\\":1,' "$WORK/ck.dump" || true)"
expect_absent "A: no checkpoint record holds a token" "_data" "$WORK/ck.dump"
expect_grep "A: the file sink's sidecar is sealed" "$WORK/p.jsonl.pos" '"opaque":"\{\\"tributary_sealed\\":1,'
expect_absent "A: and holds no token" "_data" "$WORK/p.jsonl.pos"
expect_absent "A: the Postgres sink's position holds no token" "_data" <(echo "$PGPOS")
expect_grep "A: the checkpoint file is sealed" "$WORK/p.ckpt" '"position":\{"tributary_sealed":1,'
expect_absent "A: the key is not in the log" "$KEY" "$WORK/p.log"

# ---------------------------------------------------------------- B: wrong key, no key
mv "$WORK/p.ckpt" "$WORK/p.ckpt.away"
SIDE=$(md5sum <"$WORK/p.jsonl.pos")
# wrong_key NAME SINKS-YAML WORDS: run NAME with the other key; it stops
# with an error naming the pipeline, the sink and WORDS (its store).
wrong_key() {
    pipeline "$WORK/$1.yaml" "$2"
    TRIB_E2E_CKPT_KEY=$OTHER start_consumer "$WORK/$1.yaml" "$WORK/$1.log"
    run_exits
    expect_match "B $1: a wrong key stops run with an error" "^[1-9][0-9]*$" "$RUN_RC"
    expect_grep "B $1: naming the pipeline, the sink and the store" "$WORK/$1.log" \
        "pipeline e110, sink $3: the stored position cannot be read: it does not open with the key given"
    expect_absent "B $1: it did not start the stream over" "change stream open" "$WORK/$1.log"
    expect_absent "B $1: no key material in the log" "$OTHER" "$WORK/$1.log"
}
wrong_key bpg "$PG_SINK" "pg \(table tributary_sink.positions\)"
wrong_key bmg "$MG_SINK" "mg \(collection load_copy.tributary_positions\)"
wrong_key bk "$K_SINK" "k \(topic __tributary_checkpoints\)"
wrong_key bout "$OUT_SINK" "out \(file $WORK/p.jsonl.pos\)"
expect_eq "B: the Postgres sink's position is as it was" "$PGPOS" \
    "$(q postgres "SELECT opaque FROM tributary_sink.positions WHERE pipeline = 'e110' AND sink = 'pg'")"
expect_eq "B: the MongoDB sink's position is as it was" "$(cat "$WORK/mg.pos")" \
    "$("$DUMP" "$URI" load_copy tributary_positions 2>&1)"
expect_eq "B: the file sink's sidecar is as it was" "$SIDE" "$(md5sum <"$WORK/p.jsonl.pos")"
pipeline "$WORK/b0.yaml" "$PG_SINK"
grep -v encryption_key "$WORK/b0.yaml" >"$WORK/b00.yaml"
start_consumer "$WORK/b00.yaml" "$WORK/b0.log"
run_exits
expect_match "B: no key stops run with an error" "^[1-9][0-9]*$" "$RUN_RC"
expect_grep "B: saying to set the key" "$WORK/b0.log" \
    "pipeline e110, sink pg \(table tributary_sink.positions\): the stored position cannot be read: it is sealed and no key was given \(set checkpoint.encryption_key\)"

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
