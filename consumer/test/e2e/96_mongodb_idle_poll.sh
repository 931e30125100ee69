#!/usr/bin/env bash
# 96_mongodb_idle_poll.sh: an idle MongoDB source does not hold the
# pipeline for a long max_await_ms -- AGAINST THE PROJECT'S WIRE-PROTOCOL
# TEST DOUBLE (test/mongo/, mongo_double), not a real mongod.  The double
# holds a getMore that has nothing to return up to its maxTimeMS, as the
# server does, so that the wait is the one libmongoc asked for.
#
# The source has max_await_ms: 30000.  libmongoc fixes a change stream's
# getMore wait when it opens it, so the source asks for at most 100 ms a
# getMore (mongo_stream.h) and its poll asks again until the pipeline's
# timeout is over:
#   1. an event written while the stream is idle reaches the file sink,
#      and the checkpoint, within 3 s (not after the 30 s getMore that
#      follows it), twice;
#   2. SIGTERM while the stream is idle: the daemon exits 0 within 3 s;
#   3. a restart resumes after the stored token: every change once, in
#      order (nothing lost or repeated by the shorter waits).
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init -- idle

cat >"$WORK/p.yaml" <<YAML
pipeline: idle
sources:
  shop:
    type: mongodb
    uri: "$URI"
    database: idle
    max_await_ms: 30000
    lock_dsn: "$(pg_dsn)"
YAML
out_yaml p >>"$WORK/p.yaml"

# now_ms: the monotonic-enough wall clock in ms.
now_ms() { date +%s%3N; }
# ids: the _id of every record of the file sink, in order, joined by " ".
ids() {
    python3 - "$WORK/p.jsonl" <<'PY'
import json, sys
print(" ".join(str(json.loads(l)["value"]["after"]["_id"]) for l in open(sys.argv[1])))
PY
}
# insert_wait ID: insert {_id: ID} and wait (10 s at most) until the
# file sink has it; ELAPSED the ms it took.
insert_wait() {
    local t0
    t0=$(now_ms)
    echo "idle {\"insert\": \"c\", \"documents\": [{\"_id\": $1}]}" | drive
    for _ in $(seq 1 200); do grep -q "\"_id\" : $1\b" "$WORK/p.jsonl" 2>/dev/null && break; sleep 0.05; done
    ELAPSED=$(( $(now_ms) - t0 ))
}
# settle: wait until the stream is idle: 1 s without a record.
settle() { sleep 1; }

# ---- 1: an event while idle
start_consumer "$WORK/p.yaml"
wait_log "$WORK/run.log" "change stream open on idle" 20 || true
settle
insert_wait 1
expect_match "an idle stream's event reaches the sink within 3 s (took ${ELAPSED} ms)" \
    "^([0-9]{1,3}|[0-2][0-9]{3})$" "$ELAPSED"
ck=""
for _ in $(seq 1 60); do
    ck=$(grep -o '"token"' "$WORK/p.ckpt" 2>/dev/null || true)
    [ -n "$ck" ] && break
    sleep 0.05
done
expect_eq "the checkpoint holds its token soon after (3 s)" '"token"' "$ck"
settle
insert_wait 2
expect_match "a second event while idle reaches the sink within 3 s (took ${ELAPSED} ms)" \
    "^([0-9]{1,3}|[0-2][0-9]{3})$" "$ELAPSED"

# ---- 2: SIGTERM while idle
settle
t0=$(now_ms)
stop_consumer
took=$(( $(now_ms) - t0 ))
expect_eq "the daemon exits 0 on SIGTERM while idle" 0 "$STOP_RC"
expect_match "it exits within 3 s (took ${took} ms)" "^([0-9]{1,3}|[0-2][0-9]{3})$" "$took"

# ---- 3: restart: after the stored token, nothing lost or repeated
start_consumer "$WORK/p.yaml"
wait_log "$WORK/run.log" "change stream open on idle" 20 || true
echo 'idle {"insert": "c", "documents": [{"_id": 3}]}' | drive
settle
insert_wait 4
stop_consumer
expect_eq "the restarted daemon exits 0" 0 "$STOP_RC"
expect_eq "every change once, in order" "1 2 3 4" "$(ids)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
