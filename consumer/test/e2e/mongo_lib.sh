# mongo_lib.sh: helpers of the MongoDB source's e2e scripts (48, 60, 61,
# 62), which run against the project's wire-protocol TEST DOUBLE
# (test/mongo/, mongo_double).  Sourced after lib.sh; not executable, so
# test/run.sh does not run it.

# mongo_start [DOUBLE-ARGS...]: build test/mongo, start the double (its
# log: $WORK/mongo.log) and wait for its port; sets URI, DRIVE and
# MONGO_PID (killed at cleanup); checks that it is the test double.
# With MONGO_URI set (test/mongo/run-against-real-mongod.sh) it starts
# nothing and uses that server: a real replica set (started with
# enableTestCommands=1); on_double is then false.
mongo_start() {
    make -s -C "$ROOT/test/mongo" >/dev/null
    DRIVE=$ROOT/test/mongo/build/mongo_drive
    if [ -n "${MONGO_URI:-}" ]; then
        URI=$MONGO_URI
        : >"$WORK/mongo.log"
        echo "# against $URI (not the test double): the double-only checks are skipped"
        return
    fi
    E2E_PIDS+=" MONGO_PID"
    "$ROOT/test/mongo/build/mongo_double" --port-file "$WORK/mongo.port" "$@" \
        2>"$WORK/mongo.log" &
    MONGO_PID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/mongo.port" ] && break; sleep 0.1; done
    URI="mongodb://127.0.0.1:$(cat "$WORK/mongo.port")/?replicaSet=rs0"
    expect_grep "the server is the test double" "$WORK/mongo.log" "TEST DOUBLE"
}

# on_double: true when the tests run against the test double (whose
# --verbose log some checks read), false against a real server.
on_double() { [ -z "${MONGO_URI:-}" ]; }

# mongo_fresh DB...: drop these databases (a real server keeps them from
# an earlier run; the double starts empty).
mongo_fresh() {
    local db
    on_double && return 0
    for db in "$@"; do echo "$db {\"dropDatabase\": 1}"; done | drive
}

# drive: run mongo_drive with the script on stdin; its replies go to
# drive.log, and a failed command fails the test.
drive() {
    if ! "$DRIVE" "$URI" >>"$WORK/drive.log" 2>&1; then
        echo "# mongo_drive failed:"; tail -5 "$WORK/drive.log" | sed 's/^/#   /'
        fail "drive" "a command failed"
    fi
}

# ops_of JSONL: the file sink's records as "op _id" (messages: their
# prefix), joined by "|".
ops_of() {
    python3 - "$1" <<'PY'
import json, sys
out = []
for l in open(sys.argv[1]):
    r = json.loads(l)["value"]
    out.append(r["message"]["prefix"] if r["op"] == "m" else "%s %s" % (r["op"], r["after"]["_id"]))
print("|".join(out))
PY
}

# load_writer: in the background (WRITER_PID), 30 batches into database
# `load`, each: three inserts, a transaction (an insert, an update, an
# insert into another collection), a delete; every change unique (an
# insert's _id, an update's v).  The kill -9 phases drive it.
load_writer() {
    (
        for b in $(seq 1 30); do
            {
                for j in 1 2 3; do
                    echo "load {\"insert\": \"items\", \"documents\": [{\"_id\": $((b * 10 + j)), \"v\": 0}]}"
                done
                echo "begin"
                echo "load {\"insert\": \"items\", \"documents\": [{\"_id\": $((b * 10 + 4)), \"v\": 0}]}"
                echo "load {\"update\": \"items\", \"updates\": [{\"q\": {\"_id\": $((b * 10 + 1))}, \"u\": {\"\$set\": {\"v\": $b}}}]}"
                echo "load {\"insert\": \"other\", \"documents\": [{\"_id\": $((b * 10 + 5)), \"v\": 0}]}"
                echo "commit"
                echo "load {\"delete\": \"items\", \"deletes\": [{\"q\": {\"_id\": $((b * 10 + 2))}, \"limit\": 1}]}"
            } | "$DRIVE" "$URI" >>"$WORK/drive.log" 2>&1
            sleep 0.1
        done
    ) &
    WRITER_PID=$!
}

# load_check NAME JSONL: the file sink's output of the load phase is
# exactly the changes driven (_id 0 first, load_writer's, _id 999 last),
# in order, each once.
load_check() {
    python3 - "$2" >"$WORK/load.got" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)["value"]
    if r is None:
        continue
    k = r["source"]["collection"]
    if r["op"] == "d":
        print("d", k, "deleted")
    else:
        print(r["op"], k, r["after"]["_id"], r["after"]["v"])
PY
    python3 - >"$WORK/load.want" <<'PY'
print("c items 0 0")
for b in range(1, 31):
    for j in (1, 2, 3):
        print("c items", b * 10 + j, 0)
    print("c items", b * 10 + 4, 0)
    print("u items", b * 10 + 1, b)
    print("c other", b * 10 + 5, 0)
    print("d items deleted")
print("c items 999 0")
PY
    expect_eq "$1" "" "$(diff "$WORK/load.want" "$WORK/load.got" | head -10)"
}
