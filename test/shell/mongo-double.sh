#!/usr/bin/env bash
# test/shell/mongo-double.sh: mongo_double, the MongoDB wire-protocol TEST
# DOUBLE of test/mongo/, checked against what clients expect of MongoDB.
#
# Design: build test/mongo (the double and its C checks), start the double
# on a free port of 127.0.0.1, then run three clients against it, each
# counting its own assertions:
#   1. build/wire_checks: hand-made wire messages (checksums, the legacy
#      handshake, document sequences, moreToCome, exhaust);
#   2. build/mongoc_smoke: libmongoc 1.23, the driver the MongoDB source
#      will use (change stream, resume across failCommand, 286);
#   3. test/interop/mongo-double.test.mjs: the official Node.js driver
#      (pinned in test/interop/package-lock.json; `npm ci` installs it into
#      test/interop/node_modules when missing).
# The counts add up; a client that prints no summary counts as one failure.
# Then the double must stop on SIGTERM with exit status 0.
# MONGO_DOUBLE_ASAN=1 runs the double built with ASan+UBSan instead (and
# fails on any sanitizer report, leaks included, in its log).
#
# Needs libbson-dev, libmongoc-dev, nodejs and npm (scripts/install-deps)
# and the npm registry for the first `npm ci`.  The last line is
# `N passed, N failed`.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/shell/lib.sh
source "$ROOT/test/shell/lib.sh"
MONGO=$ROOT/test/mongo
INTEROP=$ROOT/test/interop
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mongo-double-test.XXXXXX")
DOUBLE_PID=

cleanup() {
    if [ -n "$DOUBLE_PID" ]; then
        kill "$DOUBLE_PID" 2>/dev/null
        wait "$DOUBLE_PID" 2>/dev/null
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# add_counts NAME LOG: add a client's counts (lib.sh's log_counts) to the
# totals; no summary is one failure.
add_counts() {
    local counts
    counts=$(log_counts "$2")
    if [ -z "$counts" ]; then
        report "$1 printed a summary" "no 'N passed, N failed' or TAP counts; see above"
        return
    fi
    echo "# $1: ${counts% *} passed, ${counts#* } failed"
    passed=$((passed + ${counts% *}))
    failed=$((failed + ${counts#* }))
}

# build: the double and its C checks (plain or ASan).
build() {
    local target=build
    [ "${MONGO_DOUBLE_ASAN:-0}" = 1 ] && target=asan
    if ! make -s -C "$MONGO" "$target" >"$WORK/build.log" 2>&1; then
        report "test/mongo builds" "$(tail -n 20 "$WORK/build.log")"
        return 1
    fi
    report "test/mongo builds (make -C test/mongo $target)"
}

# start_double: run it on a free port; sets PORT and URI.
start_double() {
    local bin=$MONGO/build/mongo_double i
    [ "${MONGO_DOUBLE_ASAN:-0}" = 1 ] && bin=$MONGO/build/asan/mongo_double
    "$bin" --port-file "$WORK/port" >"$WORK/double.log" 2>&1 &
    DOUBLE_PID=$!
    for i in $(seq 50); do
        [ -s "$WORK/port" ] && break
        sleep 0.1
    done
    if [ ! -s "$WORK/port" ]; then
        report "mongo_double starts" "$(cat "$WORK/double.log")"
        return 1
    fi
    PORT=$(cat "$WORK/port")
    URI="mongodb://127.0.0.1:$PORT/?replicaSet=rs0"
    if grep -q 'TEST DOUBLE' "$WORK/double.log"; then
        report "mongo_double starts on a free port and says it is a test double"
    else
        report "mongo_double says it is a test double" "$(cat "$WORK/double.log")"
    fi
}

# stop_double: SIGTERM; it must exit 0, and (under ASan) report nothing.
stop_double() {
    local rc
    if ! kill -0 "$DOUBLE_PID" 2>/dev/null; then
        report "mongo_double still runs after the clients" "$(tail -n 40 "$WORK/double.log")"
        DOUBLE_PID=
        return
    fi
    kill -TERM "$DOUBLE_PID"
    wait "$DOUBLE_PID"
    rc=$?
    DOUBLE_PID=
    if [ "$rc" -ne 0 ] || grep -qE 'Sanitizer|runtime error' "$WORK/double.log"; then
        report "mongo_double stops cleanly on SIGTERM (exit 0, no sanitizer report)" \
            "exit status $rc" "$(grep -A 20 -E 'Sanitizer|runtime error' "$WORK/double.log" | head -40)"
    else
        report "mongo_double stops cleanly on SIGTERM (exit 0, no sanitizer report)"
    fi
}

# node_ready: node and npm present, and the pinned driver installed.
node_ready() {
    local want
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        report "node and npm are installed" "run scripts/install-deps (it installs nodejs and npm)"
        return 1
    fi
    want=$(sed -n 's/.*"mongodb": "\([0-9.]*\)".*/\1/p' "$INTEROP/package.json")
    if [ "$(node -p "require('$INTEROP/node_modules/mongodb/package.json').version" 2>/dev/null)" \
        != "$want" ]; then
        echo "# npm ci in test/interop (mongodb $want)"
        if ! (cd "$INTEROP" && npm ci --no-audit --no-fund) >"$WORK/npm.log" 2>&1; then
            report "npm ci installs the pinned mongodb driver" "$(tail -n 20 "$WORK/npm.log")"
            return 1
        fi
    fi
}

run_client() {
    local name=$1
    shift
    echo "# $name"
    "$@" 2>&1 | tee "$WORK/client.log"
    add_counts "$name" "$WORK/client.log"
}

if build && start_double; then
    run_client "wire_checks" "$MONGO/build/wire_checks" "$PORT"
    run_client "mongoc_smoke (libmongoc)" "$MONGO/build/mongoc_smoke" "$URI"
    if node_ready; then
        run_client "Node.js driver" env MONGO_URI="$URI" MONGO_DOUBLE=1 \
            node --test --test-reporter=tap "$INTEROP/mongo-double.test.mjs"
    fi
    stop_double
    if [ "$failed" -ne 0 ]; then
        echo "# mongo_double's log (last 40 lines):"
        tail -n 40 "$WORK/double.log" | sed 's/^/#   /'
    fi
fi
summary
