#!/usr/bin/env bash
# 82_mongodb_token_restarts_snapshot_filter.sh: the MongoDB source
# restarts by the resume token in the two cases that used to go by cluster
# time (A, B), and its snapshot copies only what the stream's $match
# passes (C) -- AGAINST THE PROJECT'S WIRE-PROTOCOL TEST DOUBLE
# (test/mongo/, mongo_double), not a real mongod.  The double (--verbose) logs the start option of every
# change stream it opens; that log is where the checks see what each
# restart resumed from (mongo_lib.sh restart).
#
#  A  one source, a null sink (the checkpoint speaks for it) and a file
#     sink: transactions of 30,000 inserts each (the events of one
#     transaction share one cluster time; each has its own token).  Each
#     kill -9 lands once the checkpoint stands inside a transaction; the
#     restart must open the stream with resumeAfter the token of the very
#     event the stored position names (then the events of the transaction
#     after it follow, numbered on), and the file holds every insert once.
#  B  two sources, MongoDB and PostgreSQL (as e2e 51 merges two), into a
#     null sink and a file sink (which stores merged positions, merge.h):
#     kill -9 at random points while both are written (MongoDB writes
#     alone and in transactions of 300); each restart must open the
#     stream with resumeAfter the token stored with the MongoDB source's
#     position (the older of its checkpoint's and the file sink's merged
#     one), and the file holds every change of each source once.
#  C  `snapshot: initial` with `pipeline: [{$match: {fullDocument.keep:
#     true}}]`: the copy holds only the documents with keep: true, as the
#     stream then does; a $match on operationType with a snapshot is
#     refused by `tributary check` (exit 2), naming the key.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
# --oplog-size: 150,000 inserts in A, read slowly under ASan; the cluster
# (pgc_start) is also B's PostgreSQL source
mongo_init --verbose --oplog-size 1000000 -- big multi filt
pgc_psql -d postgres -q -c "CREATE TABLE public.items (id int PRIMARY KEY, v text)"

# big_tx B N: one transaction of N inserts into big.docs, _id B*1000000+j.
big_tx() {
    python3 - "$1" "$2" <<'PY'
import sys
b, n = int(sys.argv[1]), int(sys.argv[2])
print("begin")
for s in range(0, n, 1000):
    docs = ",".join('{"_id": %d, "v": %d}' % (b * 1000000 + j, b) for j in range(s, min(n, s + 1000)))
    print('big {"insert": "docs", "documents": [%s]}' % docs)
print("commit")
PY
}

# ckpt_inside FILE: true when the checkpoint FILE stands inside a
# transaction (an event's seq, not a whole transaction's).
ckpt_inside() {
    python3 - "$1" <<'PY' 2>/dev/null
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d.get("seq", 1 << 64) < 1 << 63 else 1)
PY
}

# ids_once NAME JSONL KIND WANT: the file's records of KIND ("mongo": an
# _id; "pg": an id) are the ids in file WANT, each once.
ids_once() {
    python3 - "$2" "$3" >"$WORK/ids.got" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)["value"]
    a = (r or {}).get("after") or {}
    k = "_id" if sys.argv[2] == "mongo" else "id"
    if k in a:
        print(a[k])
PY
    sort -n "$WORK/ids.got" >"$WORK/ids.sorted"
    expect_eq "$1: no change twice" "" "$(uniq -d "$WORK/ids.sorted" | head -3 | tr '\n' ' ')"
    expect_eq "$1: every change, and nothing else" "" \
        "$(sort -n "$4" | diff - "$WORK/ids.sorted" | head -4 | tr '\n' ' ')"
}

# ---------------------------------------------------------------- A: inside a transaction
cat >"$WORK/a.yaml" <<YAML
pipeline: a82
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: big
    max_await_ms: 200
    batch_size: 500
    reconnect_backoff_ms: {initial: 50, max: 400}
    lock_dsn: "$(pg_dsn)"
$(out_yaml a null)
YAML
start_consumer "$WORK/a.yaml" "$WORK/a.log"
wait_log "$WORK/a.log" "change stream open on big" 10 || true
echo 'big {"insert": "docs", "documents": [{"_id": 0, "v": 0}]}' | drive
echo 0 >"$WORK/a.want"
restart_counts_reset
KILLS=0 CK_TOKEN=0
for b in 1 2 3 4 5; do
    big_tx "$b" 30000 | drive
    seq "$((b * 1000000))" "$((b * 1000000 + 29999))" >>"$WORK/a.want"
    for _ in $(seq 1 300); do ckpt_inside "$WORK/a.ckpt" && break; sleep 0.02; done
    if ckpt_inside "$WORK/a.ckpt"; then
        restart "$WORK/a.yaml" "$WORK/a.log" "$WORK/a.ckpt" "$WORK/a.jsonl.pos"
        KILLS=$((KILLS + 1))
        grep -qE '"position":\{"token":\{' "$WORK/a.ckpt" && CK_TOKEN=$((CK_TOKEN + 1))
    fi
done
echo 'big {"insert": "docs", "documents": [{"_id": 999, "v": 0}]}' | drive
echo 999 >>"$WORK/a.want"
for _ in $(seq 1 300); do grep -q '"_id" *: *999\b' "$WORK/a.jsonl" && break; sleep 0.1; done
stop_consumer
echo "# A: $KILLS kills inside a transaction: $INSIDE restarts from a position inside one," \
    "$INSIDE_MATCHED of them by its token; $MATCHED by a stored token, $NO_TOKEN with none, $WRONG other"
expect_match "A: at least 3 kills landed with the checkpoint inside a transaction" \
    "^[3-9]$" "$KILLS"
expect_eq "A: each checkpoint inside a transaction held its event's token" "$KILLS" "$CK_TOKEN"
if on_double; then
    expect_eq "A: every restart from inside a transaction opened resumeAfter that event's token" \
        "$INSIDE" "$INSIDE_MATCHED"
    expect_match "A: at least 3 of them" "^[3-9]$" "$INSIDE_MATCHED"
    expect_eq "A: no restart without a stored token, or by another one" "0 0" "$NO_TOKEN $WRONG"
fi
ids_once "A" "$WORK/a.jsonl" mongo "$WORK/a.want"

# ---------------------------------------------------------------- B: two sources
cat >"$WORK/b.yaml" <<YAML
pipeline: b82
sources:
  pgdb:
    type: postgres
    dsn: "$(pg_dsn)"
    slot: b82
    snapshot: never
    heartbeat_interval_ms: 500
    status_interval_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 1000}
  shop:
    type: mongodb
    uri: "$URI"
    database: multi
    max_await_ms: 200
    reconnect_backoff_ms: {initial: 50, max: 400}
    lock_dsn: "$(pg_dsn)"
$(out_yaml b null)
YAML
start_consumer "$WORK/b.yaml" "$WORK/b.log"
wait_log "$WORK/b.log" "change stream open on multi" 20 || true
wait_log "$WORK/b.log" "streaming" 20 || true
echo 'multi {"insert": "m", "documents": [{"_id": 0}]}' | drive
q postgres "INSERT INTO items VALUES (0, 'x')" >/dev/null
for _ in $(seq 1 100); do [ -s "$WORK/b.ckpt.shop" ] && break; sleep 0.1; done
restart_counts_reset
(
    for b in $(seq 1 25); do
        {
            for j in 1 2 3; do
                echo "multi {\"insert\": \"m\", \"documents\": [{\"_id\": $((b * 1000 + j))}]}"
            done
            echo "begin"
            for j in $(seq 10 309); do
                echo "multi {\"insert\": \"m\", \"documents\": [{\"_id\": $((b * 1000 + j))}]}"
            done
            echo "commit"
        } | "$DRIVE" "$URI" >>"$WORK/drive.log" 2>&1
        pgc_psql -d postgres -q -c "INSERT INTO items SELECT g, 'b$b' FROM generate_series($((b * 1000)), $((b * 1000 + 49))) g"
        [ $((b % 4)) -eq 0 ] && writer_gate $((b / 4))	# six restarts under load
        sleep 0.2
    done
) &
WRITER_PID=$!
KILLS=0
while kill -0 "$WRITER_PID" 2>/dev/null; do
    sleep "0.$(( RANDOM % 9 + 4 ))"
    restart "$WORK/b.yaml" "$WORK/b.log" "$WORK/b.ckpt.shop" "$WORK/b.jsonl.pos" shop
    KILLS=$((KILLS + 1))
done
wait "$WRITER_PID" || true
echo 'multi {"insert": "m", "documents": [{"_id": 999999}]}' | drive
q postgres "INSERT INTO items VALUES (999999, 'x')" >/dev/null
for _ in $(seq 1 300); do
    [ "$(grep -c '999999' "$WORK/b.jsonl" 2>/dev/null || true)" -ge 2 ] && break
    sleep 0.1
done
stop_consumer
echo "# B: $KILLS kills: $MATCHED resumed after the stored token ($INSIDE_MATCHED of $INSIDE" \
    "inside a transaction), $NO_TOKEN stored none, $WRONG other"
python3 - >"$WORK/b.want.m" <<'PY'
print(0)
for b in range(1, 26):
    for j in [1, 2, 3] + list(range(10, 310)):
        print(b * 1000 + j)
print(999999)
PY
python3 - >"$WORK/b.want.pg" <<'PY'
print(0)
for b in range(1, 26):
    for j in range(50):
        print(b * 1000 + j)
print(999999)
PY
if on_double; then
    expect_match "B: at least 5 restarts resumed with resumeAfter the stored token" \
        "^([5-9]|[1-9][0-9]+)$" "$MATCHED"
    expect_eq "B: no restart without a stored token, or by another one" "0 0" "$NO_TOKEN $WRONG"
fi
expect_grep "B: the file sink's merged position carries the MongoDB token" "$WORK/b.jsonl.pos" \
    '\\"opaque\\":\{\\"shop\\":\{\\"token\\"'
expect_grep "B: the MongoDB source's checkpoint holds its token" "$WORK/b.ckpt.shop" \
    '"position":\{"token":\{ *"_data" *: *"[0-9A-Fa-f]+" *\}'
ids_once "B MongoDB" "$WORK/b.jsonl" mongo "$WORK/b.want.m"
ids_once "B PostgreSQL" "$WORK/b.jsonl" pg "$WORK/b.want.pg"

# ---------------------------------------------------------------- C: the snapshot's filter
echo 'filt {"insert": "docs", "documents": [{"_id": 1, "keep": true}, {"_id": 2, "keep": false}, {"_id": 3, "keep": true}, {"_id": 4}, {"_id": 5, "keep": true, "n": {"a": 1}}, {"_id": 6, "keep": false}]}' | drive
# cpipeline PIPELINE: $WORK/c.yaml, a snapshot of database filt
cpipeline() {
    cat >"$WORK/c.yaml" <<YAML
pipeline: c82
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: filt
    snapshot: initial
    pipeline: '$1'
    max_await_ms: 200
    lock_dsn: "$(pg_dsn)"
$(out_yaml c)
YAML
}
cpipeline '[{"$match": {"fullDocument.keep": true}}]'
start_consumer "$WORK/c.yaml" "$WORK/c.log"
wait_log "$WORK/c.log" "change stream open on filt" 20 || true
drive <<'CMDS'
filt {"insert": "docs", "documents": [{"_id": 7, "keep": false}]}
filt {"insert": "docs", "documents": [{"_id": 8, "keep": true}]}
CMDS
for _ in $(seq 1 100); do grep -q '"_id" *: *8\b' "$WORK/c.jsonl" 2>/dev/null && break; sleep 0.1; done
stop_consumer
expect_eq "C: the snapshot copied only what the stream's \$match passes, and the stream went on" \
    "r 1|r 3|r 5|c 8" "$(ops_of "$WORK/c.jsonl")"
cpipeline '[{"$match": {"fullDocument.keep": true, "operationType": "insert"}}]'
rc=0
"$BIN" check -c "$WORK/c.yaml" >"$WORK/c.check" 2>&1 || rc=$?
expect_eq "C: check refuses a snapshot with a \$match on operationType (exit 2)" 2 "$rc"
expect_grep "C: the error names the key and what is accepted" "$WORK/c.check" \
    'c\.yaml:[0-9]+:[0-9]+: sources\.shop\.pipeline: with `snapshot: initial`.*pipeline\[0\]\.\$match\.operationType: cannot apply.*accepted'

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
