#!/usr/bin/env bash
# 100_multi_source_mongodb_stall.sh: one pipeline, a PostgreSQL source
# (a real server) and a MongoDB source -- AGAINST THE PROJECT'S
# WIRE-PROTOCOL TEST DOUBLE (test/mongo/, mongo_double), not a real
# mongod -- into a file sink; the double stalls (SIGSTOP) while the
# pipeline streams.  Issue 16: "a stalled or down source leaves the others
# flowing".
#
# The MongoDB source reads its change stream on a thread of its own
# (source/mongodb/mongo_feed.h): the pipeline's loop never waits on the
# server, so a getMore that a frozen server never answers (libmongoc
# would wait socketTimeoutMS, 300 s by default) holds nothing but that
# thread; the thread's read times out (TRIB_MONGO_IO_TIMEOUT_MS) and is
# resumed like a lost connection.  Checks:
#   1. with the double frozen, a PostgreSQL change reaches the sink within
#      10 s, and again after the MongoDB source began to retry;
#   2. once the double is thawed (SIGCONT), the MongoDB changes made before
#      the freeze and after the thaw arrive, each exactly once, and so does
#      every PostgreSQL change;
#   3. the stream was resumed after its token (nothing repeated or lost);
#      SIGTERM with the double frozen again exits 0 within 20 s (the
#      thread's blocked getMore ends at its client's timeouts).
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
# shellcheck source=stall_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/stall_lib.sh"
mongo_init --verbose -- stall
trap '[ -n "${MONGO_PID:-}" ] && kill -CONT "$MONGO_PID" 2>/dev/null; e2e_cleanup' EXIT

pgc_psql -d postgres -q -c "CREATE TABLE public.items (id int PRIMARY KEY, v text)"
cat >"$WORK/p.yaml" <<YAML
pipeline: m100
sources:
  pgdb:
    type: postgres
    dsn: "$(pg_dsn)"
    slot: m100
    snapshot: never
    status_interval_ms: 200
  shop:
    type: mongodb
    uri: "$URI"
    database: stall
    max_await_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 500}
    lock_dsn: "$(pg_dsn)"
YAML
out_yaml p >>"$WORK/p.yaml"
"$BIN" check -c "$WORK/p.yaml" --offline >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }

# side_ids SIDE: the ids the file sink holds, in order, joined by " ":
# SIDE pg (after.id of the PostgreSQL rows) or mongo (after._id of the
# documents); stall_lib.sh's until_id waits on them.
STALL_IDS=side_ids
side_ids() {
    python3 - "$WORK/p.jsonl" "$1" <<'PY'
import json, os, sys
path, side = sys.argv[1], sys.argv[2]
out = []
if os.path.exists(path):
    for l in open(path):
        v = json.loads(l).get("value") or {}
        a = v.get("after") or {}
        if side == "mongo" and "_id" in a:
            out.append(str(a["_id"]))
        elif side == "pg" and "id" in a and "_id" not in a:
            out.append(str(a["id"]))
print(" ".join(out))
PY
}
# pg_insert_wait ID: insert PostgreSQL row ID and wait for it
# (insert_wait: at most 15 s, ELAPSED the ms it took).
pg_insert_wait() {
    insert_wait pg "$1" pgc_psql -d postgres -q -c "INSERT INTO items VALUES ($1, 'row $1')"
}
mongo_insert() { echo "stall {\"insert\": \"c\", \"documents\": [{\"_id\": $1}]}" | drive; }

start_consumer
wait_slot_active m100 || { echo "the pipeline did not start streaming"; cat "$WORK/run.log"; exit 1; }
wait_log "$WORK/run.log" "change stream open on stall" 20 || true
pgc_psql -d postgres -q -c "INSERT INTO items VALUES (1, 'first')"
mongo_insert 1
until_id pg 1 && until_id mongo 1 ||
    { echo "the first changes did not arrive"; cat "$WORK/run.log"; exit 1; }

# ---- 1: the double frozen while the pipeline streams
mongo_insert 2                  # made before the freeze
kill -STOP "$MONGO_PID"
sleep 1                         # the source's getMore is now unanswered
pg_insert_wait 2
expect_match "with the MongoDB server frozen, a PostgreSQL change arrives within 10 s (took ${ELAPSED} ms)" \
    "^[0-9]{1,4}$" "$ELAPSED"
wait_log "$WORK/run.log" "mongodb change stream: .*resuming in" 20 || true
expect_grep "the frozen server's read timed out and the source retries" "$WORK/run.log" \
    "mongodb change stream: .*resuming in"
pg_insert_wait 3
expect_match "while the MongoDB source retries, a PostgreSQL change arrives within 10 s (took ${ELAPSED} ms)" \
    "^[0-9]{1,4}$" "$ELAPSED"

# ---- 2: thawed: the MongoDB changes before and after, each once
n=$(wc -l <"$WORK/mongo.log")
kill -CONT "$MONGO_PID"
mongo_insert 3                  # made after the thaw
until_id mongo 3 60 || true
pg_insert_wait 4
GOT=$(started_with "$n")
expect_eq "after the thaw the stream resumed after a token" resumeAfter "${GOT%% *}"

# ---- 3: SIGTERM with the double frozen again: the stream's thread is in
# an unanswered getMore, which its client's timeouts end (mongo_feed.h)
kill -STOP "$MONGO_PID"
sleep 1
stop_while_frozen "$MONGO_PID" "with the MongoDB server frozen" 20
expect_eq "every MongoDB change once, in order (before the freeze and after the thaw)" \
    "1 2 3" "$(side_ids mongo)"
expect_eq "every PostgreSQL change once" "1 2 3 4" "$(side_ids pg | tr ' ' '\n' | sort -n | paste -sd' ')"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
