#!/usr/bin/env bash
# 92_mongodb_snapshot_error_restart.sh: a MongoDB snapshot that fails with
# an error keeps the progress the sink acknowledged in the checkpoint, and
# a restart once the cause is gone copies the rest once (e2e 90 MySQL, 91
# PostgreSQL) -- AGAINST THE PROJECT'S WIRE-PROTOCOL TEST DOUBLE
# (test/mongo/, mongo_double), not a real mongod.  One worker, chunks of
# 100, a file sink.
#
#  A  `snapshot: initial`, 40 collections of 500 documents (each read by a
#     find of its own): the snapshot's reads are slowed down (failCommand
#     blockConnection on find and getMore), and once the checkpoint holds
#     some progress, the double fails every further find and getMore of the
#     source with error 13 (Unauthorized, not retried).  Checks: the daemon
#     fails; the checkpoint holds the running snapshot's progress, counting
#     exactly the documents the file has (each once).  After the fail point
#     is switched off, a restart resumes the snapshot, copies the rest once
#     (the output equals the collection), then streams an insert once.
#  B  `tributary snapshot`, a document refused in the middle of a chunk (a
#     quality rule, action fail): the checkpoint counts no document the
#     file lacks; after the document is fixed, a second run copies every
#     document, none missing, and repeats none (the file sink cuts back
#     to the checkpoint's last counted id before the copy resumes).
#     A resumed MongoDB snapshot reads at its first cluster time, so the
#     document cannot be fixed: the second run has the rule tag instead.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init --verbose -- snap92 q92
N=20000
python3 - "$N" <<'PY' | drive
import json, sys
n = int(sys.argv[1])
for b in range(0, n, 500):
    docs = [{"_id": i, "v": i} for i in range(b + 1, min(b + 500, n) + 1)]
    print("snap92 " + json.dumps({"insert": "c%02d" % (b // 500), "documents": docs}))
for b in range(0, 3000, 500):
    docs = [{"_id": i, "n": -1 if i == 1250 else i} for i in range(b + 1, b + 501)]
    print("q92 " + json.dumps({"insert": "q", "documents": docs}))
PY

# config NAME DB MODE [TRANSFORMS]: pipeline NAME copying database DB in
# MODE into $WORK/NAME.jsonl, checkpoint $WORK/NAME.ckpt: $WORK/NAME.yaml.
config() {
    cat >"$WORK/$1.yaml" <<YAML
pipeline: $1
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: $2
    snapshot: $3
    snapshot_workers: 1
    snapshot_chunk_rows: 100
    max_await_ms: 200
    reconnect_backoff_ms: {initial: 50, max: 400}
    lock_dsn: "$(pg_dsn)"
${4:-}
$(out_yaml "$1")
YAML
}
# acked NAME: documents the checkpoint of NAME counts (over its ranges).
acked() {
    jq -r '[.position.snapshot.ranges[]?.rows] | add // 0' "$WORK/$1.ckpt" 2>/dev/null || echo 0
}
# copied NAME: "documents distinct-ids" of op r in NAME's file.
copied() {
    jq -r 'select(.value.op == "r") | .value.after._id' "$WORK/$1.jsonl" |
        awk '{ n++; ids[$1] = 1 } END { printf "%d %d\n", n, length(ids) }'
}
failpoint() { echo "admin {\"configureFailPoint\": \"failCommand\", $1}" | drive; }

# ---------------------------------------------------------------- A
config a snap92 initial
failpoint '"mode": "alwaysOn", "data": {"failCommands": ["getMore", "find"], "blockConnection": true, "blockTimeMS": 300, "appName": "tributary-source"}'
start_consumer "$WORK/a.yaml" "$WORK/a1.log"
for _ in $(seq 1 600); do [ "$(acked a)" -gt 0 ] && break; sleep 0.05; done
echo "# the reads fail from now on, with $(acked a) documents acknowledged"
failpoint '"mode": "alwaysOn", "data": {"failCommands": ["getMore", "find"], "errorCode": 13, "appName": "tributary-source"}'
rc=0
for _ in $(seq 1 600); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
kill -9 "$RUN_PID" 2>/dev/null || true
wait "$RUN_PID" || rc=$?
RUN_PID=
grep ERROR "$WORK/a1.log" | sed 's/^/# /' || true
expect_eq "A: the daemon failed" 1 "$(( rc != 0 && rc != 137 ))"
expect_eq "A: the checkpoint holds the snapshot's progress, still running" running \
    "$(jq -r '.position.snapshot.state // "none"' "$WORK/a.ckpt")"
read -r n ids < <(copied a)
echo "# A: $n documents delivered before the failure"
expect_eq "A: delivered documents, each once" "$n" "$ids"
expect_eq "A: the progress counts every document the sink has, no more, no less" "$n" "$(acked a)"

failpoint '"mode": "off"'
start_consumer "$WORK/a.yaml" "$WORK/a2.log"
wait_log "$WORK/a2.log" "snapshot done" 120 || true
expect_grep "A: the restart resumed the snapshot" "$WORK/a2.log" "resuming the snapshot"
echo 'snap92 {"insert": "c00", "documents": [{"_id": 999999, "v": -1}]}' | drive
for _ in $(seq 1 300); do grep -q '"op":"c"' "$WORK/a.jsonl" && break; sleep 0.1; done
stop_consumer
expect_eq "A: the restarted daemon stopped cleanly" 0 "$STOP_RC"
expect_no_grep "A: the restart did not fail" "$WORK/a2.log" "ERROR"
expect_eq "A: every document once over both runs" "$N $N" "$(copied a)"
expect_eq "A: the documents are the collection's" "" \
    "$(diff <(jq -r 'select(.value.op == "r") | "\(.value.after._id) \(.value.after.v)"' \
                 "$WORK/a.jsonl" | sort -n) <(seq 1 "$N" | awk '{ print $1, $1 }') | head -3 | tr '\n' ' ')"
expect_eq "A: the stream delivered the insert once" 999999 \
    "$(jq -r 'select(.value.op == "c") | .value.after._id' "$WORK/a.jsonl" | tr '\n' ' ' | sed 's/ $//')"

# ---------------------------------------------------------------- B
config b q92 only "transforms:
  - {type: quality, name: positive, tables: [q92.q], fields: [n], check: range, min: 0, action: fail}"
rc=0
timeout 120 "$BIN" snapshot -c "$WORK/b.yaml" >"$WORK/b1.log" 2>&1 || rc=$?
grep ERROR "$WORK/b1.log" | sed 's/^/# /' || true
expect_eq "B: the refused document failed the copy" 1 "$(( rc != 0 ))"
ck=$(acked b)
echo "# B: the checkpoint counts $ck documents; the file has $(copied b)"
expect_eq "B: the file holds every document the checkpoint counts as copied (1..$ck)" "" \
    "$(jq -r 'select(.value.op == "r") | .value.after._id' "$WORK/b.jsonl" | sort -n | uniq |
        awk -v ck="$ck" '$1 <= ck { n++ } END { if (n != ck) printf "%d of %d", n, ck }')"
expect_eq "B: no document after the refused one reached the file" "" \
    "$(jq -r 'select(.value.op == "r" and .value.after._id >= 1250) | .value.after._id' \
        "$WORK/b.jsonl" | head -3 | tr '\n' ' ')"
sed -i 's/action: fail/action: tag/' "$WORK/b.yaml"
rc=0
timeout 120 "$BIN" snapshot -c "$WORK/b.yaml" >"$WORK/b2.log" 2>&1 || rc=$?
expect_eq "B: the second run finished" 0 "$rc"
expect_eq "B: every document is in the file, none missing" "" \
    "$(comm -13 <(jq -r 'select(.value.op == "r") | .value.after._id' "$WORK/b.jsonl" | sort -u) \
        <(seq 1 3000 | sort) | head -3 | tr '\n' ' ')"
expect_eq "B: documents written twice are only the failed chunk's before the refused one" "" \
    "$(jq -r 'select(.value.op == "r") | .value.after._id' "$WORK/b.jsonl" | sort -n | uniq -d |
        awk '$1 < 1201 || $1 >= 1250' | head -3 | tr '\n' ' ')"
expect_eq "B: and none twice: the restart cut the file back to the checkpoint first" "" \
    "$(jq -r 'select(.value.op == "r") | .value.after._id' "$WORK/b.jsonl" | sort -n | uniq -d |
        head -3 | tr '\n' ' ')"

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/a1.log "$WORK"/a2.log \
    "$WORK"/b1.log "$WORK"/b2.log
e2e_finish
