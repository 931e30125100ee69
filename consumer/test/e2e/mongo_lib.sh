# mongo_lib.sh: helpers of the MongoDB e2e scripts (44, 48, 60, 61, 62,
# 63, 82, 88, 92, 95, 96, 100, 105, 120, 125, 126), which run against the project's
# wire-protocol TEST DOUBLE (test/mongo/, mongo_double).  Sourced after lib.sh; not executable, so
# test/run.sh does not run it.

# mongo_init [DOUBLE-ARGS...] [-- DB...]: the set-up of a script with a
# MongoDB source: e2e_init, build_consumer, mongo_start DOUBLE-ARGS,
# mongo_fresh DB... (when some are given), then pgc_start (the cluster that
# holds the pipeline lock, lock_dsn, and what else a script puts there).
mongo_init() {
    local args=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    e2e_init
    build_consumer
    mongo_start "${args[@]}"
    [ $# -eq 0 ] || mongo_fresh "$@"
    pgc_start
}

# mongo_start [DOUBLE-ARGS...]: build test/mongo, start the double (its
# log: $WORK/mongo.log) and wait for its port; sets URI, DRIVE and
# MONGO_PID (killed at cleanup); checks that it is the test double.
# With MONGO_URI set (test/mongo/run-against-real-mongod.sh) it starts
# nothing and uses that server: a real replica set (started with
# enableTestCommands=1); on_double is then false.
mongo_start() {
    locked make -s -C "$ROOT/test/mongo" >/dev/null
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

# mongo_source_yaml SCOPE-YAML: the `sources:` block of a pipeline file:
# source `shop`, type mongodb on $URI, SCOPE-YAML (its scope and options,
# indented four spaces), a short getMore wait and reconnect pause, and the
# pipeline lock on the PostgreSQL cluster.
mongo_source_yaml() {
    cat <<YAML
sources:
  shop:
    type: mongodb
    uri: "$URI"
$1
    max_await_ms: 200
    reconnect_backoff_ms: {initial: 50, max: 400}
    lock_dsn: "$(pg_dsn)"
YAML
}

# run_exits: wait up to 10 s for the daemon (RUN_PID) to exit by itself,
# as after an error that stops run; RUN_RC is its exit status, or "still
# running" (and the daemon is then killed) when it did not exit.
run_exits() {
    RUN_RC=0
    for _ in $(seq 1 100); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$RUN_PID" 2>/dev/null; then
        kill -KILL "$RUN_PID"
        wait "$RUN_PID" || true
        RUN_RC="still running"
    else
        wait "$RUN_PID" || RUN_RC=$?
    fi
    RUN_PID=
}

# out_yaml NAME [null]: the end of pipeline NAME's file: the sinks (with
# `null`, first a null sink `nothing`; then `out`, the file
# $WORK/NAME.jsonl) and ckpt_yaml $WORK/NAME.ckpt.
out_yaml() {
    echo "sinks:"
    [ "${2:-}" = null ] && printf '  nothing:\n    type: "null"\n'
    printf '  out:\n    type: file\n    path: "%s"\n' "$WORK/$1.jsonl"
    ckpt_yaml "$WORK/$1.ckpt"
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
# insert's _id, an update's v).  The kill -9 phases drive it.  Every sixth
# batch waits (writer_gate) until the kill loop has restarted the consumer
# once more, so five restarts land under load however fast the writer runs.
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
            [ $((b % 6)) -eq 0 ] && writer_gate $((b / 6))
            sleep 0.1
        done
    ) &
    WRITER_PID=$!
}

# writer_gate N: in a background writer, wait until restart has run N times
# since restart_counts_reset (the count file $WORK/restarts), at most 60 s;
# after that the writer goes on and the script's count checks fail.
writer_gate() {
    local _i
    for _i in $(seq 1 600); do
        [ "$(cat "$WORK/restarts" 2>/dev/null || echo 0)" -ge "$1" ] && return 0
        sleep 0.1
    done
    echo "# writer_gate: still fewer than $1 restarts after 60 s"
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

# stored_token CKPT SIDECAR [SOURCE]: "TOKEN INSIDE" for the older of the
# two stored positions (the checkpoint file's, the file sink's sidecar; a
# missing file counts as none): TOKEN the _data of the resume token stored
# with it ("none" when it has none), INSIDE "inside" when the position is
# an event inside a transaction, else "end".  With SOURCE, the sidecar
# holds a merged position (several sources, merge.h): that source's entry
# and its opaque text are read from it.
stored_token() {
    python3 - "$1" "$2" "${3:-}" <<'PY'
import json, os, sys
ALL = 1 << 63
def lsn(t):
    hi, lo = t.split("/")
    return int(hi, 16) << 32 | int(lo, 16)
def token(o):
    if isinstance(o, str):
        o = json.loads(o)
    return ((o or {}).get("token") or {}).get("_data", "none")
name = sys.argv[3]
cands = []
for path, key in ((sys.argv[1], "position"), (sys.argv[2], "opaque")):
    if not path or not os.path.exists(path):
        continue
    d = json.load(open(path))
    if "commit_lsn" not in d:
        continue
    o = d.get(key)
    if name and key == "opaque":
        m = json.loads(o) if isinstance(o, str) else (o or {})
        e = m.get("sources", {}).get(name)
        if e is None:
            continue
        k, seq = e.rsplit(":", 1)
        cands.append(((lsn(k), int(seq)), token(m.get("opaque", {}).get(name))))
    else:
        cands.append(((lsn(d["commit_lsn"]), d["seq"]), token(o)))
if not cands:
    print("none end")
else:
    pos, tok = min(cands)
    print(tok, "inside" if pos[1] < ALL else "end")
PY
}

# started_with FROM: the start option of the first change stream the
# double opened after line FROM of its log ("resumeAfter 8263..."), waiting
# up to 10 s for it.
started_with() {
    local line=""
    on_double || return 0
    for _ in $(seq 1 100); do
        line=$(tail -n +"$(($1 + 1))" "$WORK/mongo.log" | grep -m1 "change stream start:" || true)
        [ -n "$line" ] && break
        sleep 0.1
    done
    sed -E 's/.*change stream start: ([A-Za-z]+) *(\{ *"_data" *: *"([0-9A-Fa-f]+)".*)?.*/\1 \3/' \
        <<<"$line"
}

# kill_restart CONFIG LOG: kill -9, start again; GOT = the start option
# the stream opened with (started_with).
kill_restart() {
    local n
    kill_consumer
    n=$(wc -l <"$WORK/mongo.log")
    start_consumer "$1" "$2"
    GOT=$(started_with "$n")
}

# restart_counts_reset: zero restart's counters.
# RESTARTS (and the file $WORK/restarts, which writer_gate reads) counts
# restart's runs.
restart_counts_reset() {
    MATCHED=0 NO_TOKEN=0 WRONG=0 INSIDE=0 INSIDE_MATCHED=0 RESTARTS=0
    echo 0 >"$WORK/restarts"
}

# restart CONFIG LOG CKPT SIDECAR [SOURCE]: kill -9, note the stored token
# (stored_token), start again; counts in MATCHED / NO_TOKEN / WRONG what
# the stream opened with, and in INSIDE / INSIDE_MATCHED the restarts
# from a position inside a transaction / those that resumed after its
# token.
restart() {
    local want where
    kill_consumer
    read -r want where < <(stored_token "$3" "$4" "${5:-}")
    kill_restart "$1" "$2"		# (already killed: starts it again)
    RESTARTS=$((RESTARTS + 1))
    echo "$RESTARTS" >"$WORK/restarts.new" && mv "$WORK/restarts.new" "$WORK/restarts"
    on_double || return 0		# no log of the start options
    [ "$where" = inside ] && INSIDE=$((INSIDE + 1))
    if [ "$want" = none ]; then
        NO_TOKEN=$((NO_TOKEN + 1))
        echo "# no token stored ($where), the stream opened with: $GOT"
    elif [ "$GOT" = "resumeAfter $want" ]; then
        MATCHED=$((MATCHED + 1))
        [ "$where" = inside ] && INSIDE_MATCHED=$((INSIDE_MATCHED + 1))
    else
        WRONG=$((WRONG + 1))
        echo "# stored token $want, the stream opened with: $GOT"
    fi
    return 0
}
