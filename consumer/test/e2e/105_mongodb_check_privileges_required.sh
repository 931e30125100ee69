#!/usr/bin/env bash
# 105_mongodb_check_privileges_required.sh: two parts of issue 14's source
# that no other script reached -- AGAINST THE PROJECT'S WIRE-PROTOCOL TEST
# DOUBLE (test/mongo/, mongo_double), not a real mongod: none can be
# installed here.
#
#  A  `tributary check` and the privileges `changeStream` and `find` on the
#     watched scope (source/mongodb/mongo_check.c): the double's
#     doubleSetAuthInfo makes connectionStatus answer as for a user
#     authenticated on a server with access control; check must pass with
#     the privileges on the database, on the collection or on any
#     database, and report each missing one as a problem (counted in its
#     last line; the exit status stays 0 for a valid configuration): a
#     privilege on one collection does not cover a database stream, one on
#     a database does not cover the deployment.
#  B  `full_document: required` and `full_document_before_change:
#     required` (mongo_stream.c): with pre- and post-images enabled the
#     update and the delete carry `before` and `after`; once they are
#     disabled the server refuses the next event (NoMatchingDocument, 47)
#     and run stops naming the error instead of writing the event without
#     its images.
#  C  capped backoff (mongo_reader.c): a deployment that cannot be
#     reached is tried again after reconnect_backoff_ms.initial, the
#     pause doubling up to max and staying there.
#  D  a stream on the whole deployment (no `database`): check opens it,
#     and the changes of two databases arrive, each with its database and
#     collection.
#  E  a standalone server (a double started with --standalone, whose
#     hello has no replica set): check reports it as a problem, and run
#     stops with the same error instead of retrying.
#
# With MONGO_URI set (test/mongo/run-against-real-mongod.sh) only B and D
# run, against that real replica set; A, C and E need the double.
#
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mongo_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/mongo_lib.sh"
mongo_init --verbose -- shop req dep1 dep2

# pipeline NAME SCOPE-YAML: the config file $WORK/NAME.yaml.
pipeline() {
    {
        echo "pipeline: $1"
        mongo_source_yaml "$2"
        out_yaml "$1"
    } >"$WORK/$1.yaml"
}

# auth_info JSON: what connectionStatus reports from now on (the double's
# doubleSetAuthInfo; {} is no authenticated user).
auth_info() {
    echo "admin {\"doubleSetAuthInfo\": $1}" | drive
}

# privs RESOURCE ACTIONS: an authInfo of user `cdc` granted ACTIONS (a JSON
# array) on RESOURCE (a JSON document).
privs() {
    printf '{"authenticatedUsers": [{"user": "cdc", "db": "admin"}], "authenticatedUserRoles": [{"role": "cdcRole", "db": "admin"}], "authenticatedUserPrivileges": [{"resource": %s, "actions": %s}]}' "$1" "$2"
}

# check_with NAME WHAT: run `tributary check` on $WORK/NAME.yaml into
# $WORK/check.NAME.WHAT; sets CHECK_OUT, and CHECK_RC to its exit status
# and the number of problems it found ("0 0": it passed).
check_with() {
    local rc=0
    CHECK_OUT=$WORK/check.$1.$2
    "$BIN" check -c "$WORK/$1.yaml" >"$CHECK_OUT" 2>&1 || rc=$?
    CHECK_RC="$rc $(sed -nE 's/^([0-9]+) problem\(s\) found.*/\1/p' "$CHECK_OUT")"
}

# ---------------------------------------------------------------- A: check's privileges
# The double only: a real server (MONGO_URI) has no doubleSetAuthInfo.
if on_double; then
    pipeline db "    database: shop"
    pipeline coll "    database: shop
    collection: users"
    pipeline all ""

    check_with db noauth
    expect_eq "A: without access control check passes" "0 0" "$CHECK_RC"
    expect_grep "A: ... and says there is nothing to check" "$CHECK_OUT" \
        "ok   privileges: the server runs without access control"

    auth_info "$(privs '{"db": "shop", "collection": ""}' '["find", "changeStream"]')"
    check_with db dbgrant
    expect_eq "A: both privileges on the database: check passes" "0 0" "$CHECK_RC"
    expect_grep "A: ... changeStream ok" "$CHECK_OUT" "ok   privilege changeStream on the watched scope$"
    expect_grep "A: ... find ok" "$CHECK_OUT" "ok   privilege find on the watched scope$"
    check_with coll dbgrant
    expect_eq "A: a database's privileges cover its collection's stream" "0 0" "$CHECK_RC"
    check_with all dbgrant
    expect_eq "A: a database's privileges do not cover the deployment: two problems" "0 2" \
        "$CHECK_RC"
    expect_grep "A: ... changeStream reported missing" "$CHECK_OUT" \
        "FAIL privilege changeStream on the watched scope: missing"

    auth_info "$(privs '{"db": "shop", "collection": ""}' '["find"]')"
    check_with db findonly
    expect_eq "A: without changeStream check reports a problem" "0 1" "$CHECK_RC"
    expect_grep "A: ... naming changeStream as missing" "$CHECK_OUT" \
        "FAIL privilege changeStream on the watched scope: missing"
    expect_grep "A: ... and find as there" "$CHECK_OUT" "ok   privilege find on the watched scope$"

    auth_info "$(privs '{"db": "shop", "collection": "users"}' '["find", "changeStream"]')"
    check_with coll collgrant
    expect_eq "A: privileges on the collection: its collection stream passes" "0 0" "$CHECK_RC"
    check_with db collgrant
    expect_eq "A: ... but not a stream on its whole database: two problems" "0 2" "$CHECK_RC"
    expect_grep "A: ... find reported missing there" "$CHECK_OUT" \
        "FAIL privilege find on the watched scope: missing"

    auth_info "$(privs '{"db": "", "collection": ""}' '["find", "changeStream"]')"
    check_with all anydb
    expect_eq "A: privileges on every database: the deployment stream passes" "0 0" "$CHECK_RC"
    auth_info '{}'
fi

# ---------------------------------------------------------------- B: required images
drive <<'CMDS'
req {"create": "users", "changeStreamPreAndPostImages": {"enabled": true}}
req {"insert": "users", "documents": [{"_id": 1, "v": 0}]}
CMDS
pipeline b "    database: req
    collection: users
    full_document: required
    full_document_before_change: required"
start_consumer "$WORK/b.yaml" "$WORK/b.log"
wait_log "$WORK/b.log" "change stream open on req.users" 10 || true
drive <<'CMDS'
req {"insert": "users", "documents": [{"_id": 2, "v": 0}]}
req {"update": "users", "updates": [{"q": {"_id": 1}, "u": {"$set": {"v": 1}}}]}
req {"delete": "users", "deletes": [{"q": {"_id": 2}, "limit": 1}]}
CMDS
wait_lines "$WORK/b.jsonl" 4 15 || true
got=$(python3 - "$WORK/b.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)["value"]
    if r is None:
        print("tombstone")
    else:
        print(r["op"], json.dumps(r.get("before"), sort_keys=True), json.dumps(r.get("after"), sort_keys=True))
PY
)
expect_eq "B: required images: the update and the delete carry before and after" \
    'c null {"_id": 2, "v": 0}
u {"_id": 1, "v": 0} {"_id": 1, "v": 1}
d {"_id": 2, "v": 0} null
tombstone' "$got"
drive <<'CMDS'
req {"collMod": "users", "changeStreamPreAndPostImages": {"enabled": false}}
req {"update": "users", "updates": [{"q": {"_id": 1}, "u": {"$set": {"v": 2}}}]}
CMDS
run_exits
expect_match "B: an image gone while required: run stops with an error" "^[1-9][0-9]*$" "$RUN_RC"
expect_grep "B: ... naming the server's error (NoMatchingDocument, 47)" "$WORK/b.log" \
    "non-resumable error 47: .*(pre|post)-image was not found"
expect_eq "B: ... and the event is not written without its images" "4" \
    "$(wc -l <"$WORK/b.jsonl")"

# ---------------------------------------------------------------- C: capped backoff
# The double only: a second one gives a port where nothing listens.
if on_double; then
    E2E_PIDS+=" MONGO2_PID"
    "$ROOT/test/mongo/build/mongo_double" --port-file "$WORK/mongo2.port" 2>"$WORK/mongo2.log" &
    MONGO2_PID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/mongo2.port" ] && break; sleep 0.1; done
    kill -TERM "$MONGO2_PID"; wait "$MONGO2_PID" || true
    MONGO2_PID=
    sed -e "s|$URI|mongodb://127.0.0.1:$(cat "$WORK/mongo2.port")/?replicaSet=rs0|" \
        -e "s|/b\.|/c.|g" -e "s|pipeline: b|pipeline: c|" "$WORK/b.yaml" >"$WORK/c.yaml"
    start_consumer "$WORK/c.yaml" "$WORK/c.log"
    for _ in $(seq 1 100); do
        [ "$(grep -c 'resuming in' "$WORK/c.log")" -ge 7 ] && break
        sleep 0.1
    done
    stop_consumer
    delays=$(sed -nE 's/.*mongodb change stream: .*; resuming in ([0-9]+) ms.*/\1/p' "$WORK/c.log" |
        head -n 7 | tr '\n' ' ')
    expect_eq "C: retries after 50 ms, doubling, capped at 400 ms" "50 100 200 400 400 400 400 " "$delays"
fi

# ---------------------------------------------------------------- D: the deployment
pipeline d "    full_document: default"
check_with d deployment
expect_grep "D: check opens a stream on the whole deployment" "$CHECK_OUT" \
    "ok   change stream on the deployment opens"
start_consumer "$WORK/d.yaml" "$WORK/d.log"
wait_log "$WORK/d.log" "change stream open on the deployment" 10 || true
drive <<'CMDS'
dep1 {"insert": "a", "documents": [{"_id": 1, "w": "one"}]}
dep2 {"insert": "b", "documents": [{"_id": 2, "w": "two"}]}
dep1 {"update": "a", "updates": [{"q": {"_id": 1}, "u": {"$set": {"w": "uno"}}}]}
CMDS
wait_lines "$WORK/d.jsonl" 3 15 || true
stop_consumer
got=$(python3 - "$WORK/d.jsonl" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)["value"]
    s = r["source"]
    if s.get("db") in ("dep1", "dep2"):
        print(r["op"], s["db"], s["collection"], json.dumps(r.get("updateDescription") or r.get("after"), sort_keys=True))
PY
)
expect_eq "D: both databases' changes, in order, each with its db and collection" \
    'c dep1 a {"_id": 1, "w": "one"}
c dep2 b {"_id": 2, "w": "two"}
u dep1 a {"removedFields": [], "truncatedArrays": [], "updatedFields": {"w": "uno"}}' "$got"

# ---------------------------------------------------------------- E: standalone
# The double only: started with --standalone.
if on_double; then
    E2E_PIDS+=" MONGO3_PID"
    "$ROOT/test/mongo/build/mongo_double" --standalone --port-file "$WORK/mongo3.port" \
        2>"$WORK/mongo3.log" &
    MONGO3_PID=$!
    for _ in $(seq 1 100); do [ -s "$WORK/mongo3.port" ] && break; sleep 0.1; done
    sed -e "s|$URI|mongodb://127.0.0.1:$(cat "$WORK/mongo3.port")/?directConnection=true|" \
        -e "s|/d\.|/e.|g" -e "s|pipeline: d|pipeline: e|" "$WORK/d.yaml" >"$WORK/e.yaml"
    check_with e standalone
    expect_eq "E: a standalone server: check finds one problem" "0 1" "$CHECK_RC"
    expect_grep "E: ... the deployment, with the reason" "$CHECK_OUT" \
        "deployment: the server is neither a replica-set member nor a mongos .*change streams need a replica set"
    start_consumer "$WORK/e.yaml" "$WORK/e.log"
    run_exits
    expect_match "E: run stops with an error" "^[1-9][0-9]*$" "$RUN_RC"
    expect_grep "E: ... naming it, not retried" "$WORK/e.log" \
        "neither a replica-set member nor a mongos"
    expect_no_grep "E: ... no retry" "$WORK/e.log" "resuming in"
    kill -TERM "$MONGO3_PID"; wait "$MONGO3_PID" || true
    MONGO3_PID=
fi

expect_no_sanitizer "no sanitizer report from the consumer" "$WORK"/*.log
e2e_finish
