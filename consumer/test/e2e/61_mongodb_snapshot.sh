#!/usr/bin/env bash
# 61_mongodb_snapshot.sh: the MongoDB source's initial snapshot
# (source/mongodb/mongo_snapshot.c) -- AGAINST THE PROJECT'S WIRE-PROTOCOL
# TEST DOUBLE (test/mongo/, mongo_double), not a real mongod.
#
#  A  `snapshot: initial`, 3 workers, small chunks: collections with int
#     `_id`s (split into ranges), string `_id`s, mixed `_id` types (one
#     range without a key) and an empty one, copied while a writer
#     updates and inserts, with kill -9 during the copy.  Then: the
#     output, folded by key, equals the collections' final content
#     (nothing lost); no streamed change arrives twice, no document is
#     copied twice (docs/SNAPSHOT.md, Positions); the stream opened
#     with startAtOperationTime just after the snapshot's cluster time
#     (the double's log); restarts resumed the snapshot.
#  B  `tributary snapshot` (snapshot only): copies and exits 0.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init --verbose -- snap

# the data before the first start
N=60000
python3 - "$N" <<'PY' | drive
import json, sys
n = int(sys.argv[1])
for b in range(0, n, 500):
    docs = [{"_id": i, "v": 0, "sub": {"k": "x%d" % i}} for i in range(b + 1, min(b + 500, n) + 1)]
    print("snap " + json.dumps({"insert": "items", "documents": docs}))
print("snap " + json.dumps({"insert": "strs", "documents": [{"_id": "k%04d" % i, "v": 0} for i in range(300)]}))
print("snap " + json.dumps({"insert": "mixed", "documents": [{"_id": 1, "v": 0}, {"_id": "a", "v": 0}, {"_id": 2.5, "v": 0}]}))
print("snap " + json.dumps({"create": "empty"}))
PY

cat >"$WORK/a.yaml" <<YAML
pipeline: a
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: snap
    snapshot: initial
    snapshot_workers: 3
    snapshot_chunk_rows: 100
    snapshot_buffer_mb: 1
    max_await_ms: 200
    reconnect_backoff_ms: {initial: 50, max: 400}
    lock_dsn: "$(pg_dsn)"
$(out_yaml a)
YAML

# ---------------------------------------------------------------- A
# the snapshot's reads slowed down (each getMore held 100 ms), so that the
# writer and the kills happen during the copy
echo 'admin {"configureFailPoint": "failCommand", "mode": "alwaysOn", "data": {"failCommands": ["getMore", "find"], "blockConnection": true, "blockTimeMS": 700, "appName": "tributary-source"}}' | drive
start_consumer "$WORK/a.yaml" "$WORK/a.log"
wait_log "$WORK/a.log" "taking the snapshot" 20 || true
# a writer: updates with unique values and inserts, during the copy
(
    for k in $(seq 1 60); do
        echo "snap {\"update\": \"items\", \"updates\": [{\"q\": {\"_id\": $(( (k * 337) % N + 1 ))}, \"u\": {\"\$set\": {\"v\": $k}}}]}"
        echo "snap {\"insert\": \"items\", \"documents\": [{\"_id\": $((N + k)), \"v\": $k}]}"
        echo "snap {\"update\": \"strs\", \"updates\": [{\"q\": {\"_id\": \"k$(printf %04d $((k % 300)))\"}, \"u\": {\"\$set\": {\"v\": $((1000 + k))}}}]}"
    done | while read -r line; do echo "$line" | "$DRIVE" "$URI" >>"$WORK/drive.log" 2>&1; sleep 0.02; done
) &
WRITER_PID=$!
KILLS=0
seen=""
for _ in 1 2 3; do
    # kill once a new progress (a range's last acknowledged _id) is saved
    for _ in $(seq 1 100); do
        now=$(grep -o '"after":"[^"]*' "$WORK/a.ckpt" 2>/dev/null | md5sum || true)
        grep -q "snapshot done" "$WORK/a.log" && break
        grep -q '"after":"' "$WORK/a.ckpt" 2>/dev/null && [ "$now" != "$seen" ] && break
        sleep 0.05
    done
    grep -q "snapshot done" "$WORK/a.log" && break
    seen=$now
    sleep "0.$(( RANDOM % 5 ))"
    kill_consumer; KILLS=$((KILLS + 1))
    start_consumer "$WORK/a.yaml" "$WORK/a.log"
done
wait "$WRITER_PID" || true
WRITER_PID=
echo 'admin {"configureFailPoint": "failCommand", "mode": "off"}' | drive
wait_log "$WORK/a.log" "snapshot done" 60 || true
echo 'snap {"insert": "items", "documents": [{"_id": 999999, "v": -1}]}' | drive
for _ in $(seq 1 150); do grep -q '"_id" : 999999' "$WORK/a.jsonl" && break; sleep 0.1; done
stop_consumer

# expected final content, from the writer's deterministic changes
python3 - "$N" >"$WORK/a.want" <<'PY'
import sys
n = int(sys.argv[1])
docs = {("items", i): 0 for i in range(1, n + 1)}
docs.update({("strs", "k%04d" % i): 0 for i in range(300)})
docs.update({("mixed", 1): 0, ("mixed", "a"): 0, ("mixed", 2.5): 0})
for k in range(1, 61):
    docs[("items", (k * 337) % n + 1)] = k
    docs[("items", n + k)] = k
    docs[("strs", "k%04d" % (k % 300))] = 1000 + k
docs[("items", 999999)] = -1
for (c, i), v in sorted(docs.items(), key=lambda x: (x[0][0], str(x[0][1]))):
    print(c, repr(i), v)
PY
python3 - "$WORK/a.jsonl" >"$WORK/a.got" 2>"$WORK/a.stats" <<'PY'
import collections, json, sys
state, ups, ops, reads = {}, collections.Counter(), collections.Counter(), collections.Counter()
for l in open(sys.argv[1]):
    r = json.loads(l)["value"]
    if r is None:
        continue
    c = r["source"]["collection"]
    ops[r["op"]] += 1
    a = r["after"]
    i = a["_id"]
    state[(c, i)] = a["v"]
    if r["op"] in ("u", "c"):
        ups[(r["op"], c, json.dumps(i), a["v"])] += 1
    if r["op"] == "r":
        reads[(c, json.dumps(i))] += 1
for (c, i), v in sorted(state.items(), key=lambda x: (x[0][0], str(x[0][1]))):
    print(c, repr(i), v)
print(" ".join("%s=%d" % kv for kv in sorted(ops.items())), file=sys.stderr)
print("twice=%d" % sum(1 for n in ups.values() if n > 1), file=sys.stderr)
print("copied twice=%d" % sum(1 for n in reads.values() if n > 1), file=sys.stderr)
PY
t=$(sed -nE 's/.*(taking|resuming) the snapshot at cluster time Timestamp\(([0-9]+), ([0-9]+)\).*/\2 \3/p' "$WORK/a.log" | sed -n 1p)
echo "# $KILLS kills during the copy; records: $(head -1 "$WORK/a.stats")"
expect_eq "A: the output folded by key equals the collections' final content" "" \
    "$(diff "$WORK/a.want" "$WORK/a.got" | head -10)"
expect_eq "A: no streamed change (unique values) arrived twice" "twice=0" "$(sed -n 2p "$WORK/a.stats")"
expect_eq "A: no document copied twice (each restart cut the file back to the checkpoint)" \
    "copied twice=0" "$(sed -n 3p "$WORK/a.stats")"
expect_match "A: the snapshot's events are op r" "r=6[0-9]{4}" "$(head -1 "$WORK/a.stats")"
want_start="startAtOperationTime Timestamp(${t% *}, $(( ${t#* } + 1 )))"
on_double && expect_grep "A: the stream opened just after the snapshot's cluster time" \
    "$WORK/mongo.log" "change stream start: $(sed 's/[()]/\\&/g' <<<"$want_start")"
expect_grep "A: parallel by _id ranges (items split in 3, 3 workers)" "$WORK/a.log" \
    "taking the snapshot at cluster time .*: ([6-9]|[1-9][0-9]+) _id ranges, 3 workers"
expect_match "A: killed during the copy" "^[1-9]" "$KILLS"
expect_grep "A: a restart resumed the snapshot where it was" "$WORK/a.log" "resuming the snapshot"
expect_grep "A: ... after documents the sinks had" "$WORK/a.log" \
    "pipeline: resuming after change [1-9][0-9]* at cluster time Timestamp\\(${t% *}, ${t#* }\\)"
expect_grep "A: the streamed changes during the copy arrived" "$WORK/a.jsonl" '"op":"u"'

# ---------------------------------------------------------------- B: snapshot only
sed -e 's/pipeline: a/pipeline: b/' -e "s|$WORK/a\\.|$WORK/b.|g" -e 's/database: snap/database: snap\n    collection: strs/' \
    "$WORK/a.yaml" >"$WORK/b.yaml"
rc=0; "$BIN" snapshot -c "$WORK/b.yaml" >"$WORK/b.log" 2>&1 || rc=$?
expect_eq "B: tributary snapshot exits 0" "0" "$rc"
expect_eq "B: it copied the collection, op r" "300" \
    "$(grep -c '"op":"r"' "$WORK/b.jsonl" 2>/dev/null || echo 0)"

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
