#!/usr/bin/env bash
# test/mongo/run-against-real-mongod.sh: run the tests written against
# mongo_double (this folder's TEST DOUBLE) on a real MongoDB replica set, to
# check that what they assert is what MongoDB does.
#
#   test/mongo/run-against-real-mongod.sh          # docker compose's mongo-test
#   test/mongo/run-against-real-mongod.sh URI      # a replica set you run
#
# Without a URI it starts the `mongo-test` profile of docker/compose.yaml (a
# one-member MongoDB 6.0 replica set rs0 with enableTestCommands on
# 127.0.0.1:27018), waits until it is healthy (primary), runs the tests,
# and stops it again.  With a URI it starts nothing; that server must be a
# replica set (or sharded cluster) primary started with
# `--setParameter enableTestCommands=1`, since the tests inject faults with
# configureFailPoint.  The tests create and drop their own databases
# (interop_*, mongoc_smoke).
#
# The tests: test/interop/mongo-double.test.mjs (the Node.js driver; its
# double-only case is skipped), build/mongoc_smoke (libmongoc), and the
# MongoDB end-to-end tests that read MONGO_URI
# (consumer/test/e2e/mongo_lib.sh): 44 (the sink, kill -9), 48 (every
# event type, masking also in updateDescription, kill -9, invalidate,
# errors, 286, MongoDB to MongoDB; 286 comes from failCommand there, and
# phase I, which restarts a double, is skipped), 60 (restart by the stored
# resume token: exactly once after kill -9, catalog store, invalidate), 61
# (the initial snapshot), 62 (schemas inferred), 63 (BSON types into the
# sink), 82 (restarts inside a large transaction, the snapshot's filter),
# 92 (snapshot errors and restart), 96 (idle polling), 105 (required
# images; its check and backoff phases need the double) and 120 (MongoDB
# to MongoDB: updates without their document, int64, late dates).  Their checks of
# the test double's log are skipped there; the e2e scripts drop and
# re-create their own databases and start throwaway PostgreSQL clusters
# as the other e2e tests do (scripts/lib/pgcluster.sh).  Not run here: 95
# (Kafka, Debezium format; not tried yet), 88 (MySQL into the sink; not
# tried yet) and 100 (it freezes the double with SIGSTOP).
#
# Needs docker compose (v2, for --wait) unless a URI is given, node and npm,
# and what `make -C test/mongo` needs.  Not run by `make check`: no MongoDB
# server or Docker engine is available on the project's machines.  The last
# line is `N passed, N failed`.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
COMPOSE=(docker compose -f "$ROOT/docker/compose.yaml" --profile mongo-test)
URI=${1:-}
started=0
# shellcheck source=test/shell/lib.sh
source "$ROOT/test/shell/lib.sh"

cleanup() {
    [ "$started" = 1 ] && "${COMPOSE[@]}" down -v >/dev/null 2>&1
}
trap cleanup EXIT

# count: add a log's counts (test/shell/lib.sh's log_counts); none is a failure.
count() {
    local counts
    counts=$(log_counts "$1")
    if [ -z "$counts" ]; then
        failed=$((failed + 1))
        return
    fi
    passed=$((passed + ${counts% *}))
    failed=$((failed + ${counts#* }))
}

run_tests() {
    local log
    log=$(mktemp)
    make -s -C "$ROOT/test/mongo" build || { failed=$((failed + 1)); return; }
    if [ ! -d "$ROOT/test/interop/node_modules/mongodb" ]; then
        (cd "$ROOT/test/interop" && npm ci --no-audit --no-fund) || { failed=$((failed + 1)); return; }
    fi
    echo "# Node.js driver against $URI"
    MONGO_URI=$URI node --test --test-reporter=tap "$ROOT/test/interop/mongo-double.test.mjs" 2>&1 |
        tee "$log"
    count "$log"
    echo "# libmongoc against $URI"
    "$ROOT/test/mongo/build/mongoc_smoke" "$URI" 2>&1 | tee "$log"
    count "$log"
    for t in 44_sink_mongodb 48_mongodb_source 60_mongodb_resume_token 61_mongodb_snapshot \
        62_mongodb_schema_infer 63_mongodb_to_mongodb_types \
        82_mongodb_token_restarts_snapshot_filter 92_mongodb_snapshot_error_restart \
        96_mongodb_idle_poll 105_mongodb_check_privileges_required \
        120_mongodb_to_mongodb_edges; do
        echo "# e2e $t against $URI"
        MONGO_URI=$URI bash "$ROOT/consumer/test/e2e/$t.sh" 2>&1 | tee "$log"
        count "$log"
    done
    rm -f "$log"
}

if [ -z "$URI" ]; then
    echo "# starting docker compose profile mongo-test (mongo:6.0, replica set rs0)"
    if ! "${COMPOSE[@]}" up -d --wait mongo-test; then
        echo "run-against-real-mongod: the mongo-test service did not become healthy" >&2
        echo "0 passed, 1 failed"
        exit 1
    fi
    started=1
    URI="mongodb://127.0.0.1:27018/?replicaSet=rs0"
fi
run_tests
summary
