#!/usr/bin/env bash
# scripts/run-regress.sh: run the pg_regress suite in test/regress against the
# installed extension (run `make -C pg_ext install` first).
#
# Design: pg_regress refuses to run as root, and the suite must not depend on
# a hand-configured server.  So the script copies test/regress into a private
# temp dir owned by the unprivileged test user (scripts/lib/pgcluster.sh) and
# runs pg_regress there as that user, with --temp-instance: pg_regress does
# initdb, appends test/regress/tributary.conf (logical decoding, the
# output_plugin_libraries allow-list), starts the server on a free port, and
# creates database contrib_regression with the extension loaded.  Only the
# install/upgrade test creates the extension itself, in a database of its own.
#
# Tests run in the order of test/regress/schedule; without a schedule, in the
# sorted order of test/regress/sql/*.sql.  Arguments name tests to run
# instead (`scripts/run-regress.sh catalog`).
#
# Output: pg_regress's own report, regression.diffs (first 200 lines) on
# failure, and as the last line `regress: N passed, N failed`.  Exit status
# is non-zero when any test failed or pg_regress could not run.
#
# Environment: PG_CONFIG (default PostgreSQL 15), KEEP_TMP=1 keeps the temp
# dir for inspection.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"

SUITE=$ROOT/test/regress
PG_REGRESS=$("$PG_CONFIG" --pkglibdir)/pgxs/src/test/regress/pg_regress

# report: print the machine-readable summary line and exit.
report() {
    echo "regress: $1 passed, $2 failed"
    if [ "$2" -eq 0 ] && [ "$1" -gt 0 ]; then
        exit 0
    fi
    exit 1
}

if [ ! -x "$PG_REGRESS" ]; then
    echo "run-regress: $PG_REGRESS not found (install postgresql-server-dev-15)" >&2
    report 0 1
fi

pgc_init
TMP=$(pgc_mktemp)

# cleanup: remove the temp dir unless asked to keep it.
cleanup() {
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "run-regress: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT

# The suite's files (sql/, expected/, data files, schedule, tributary.conf);
# never results of an earlier run.
cp -r "$SUITE/." "$TMP/"
rm -rf "$TMP/results" "$TMP/regression.diffs" "$TMP/regression.out" "$TMP/log"
[ "$(id -u)" = 0 ] && chown -R "$TRIB_TEST_USER" "$TMP"

if [ $# -gt 0 ]; then
    tests=("$@")
elif [ -f "$TMP/schedule" ]; then
    tests=("--schedule=$TMP/schedule")
else
    tests=()
    for f in "$TMP"/sql/*.sql; do
        [ -e "$f" ] && tests+=("$(basename "$f" .sql)")
    done
fi
if [ ${#tests[@]} -eq 0 ]; then
    echo "run-regress: no tests in $SUITE" >&2
    report 0 1
fi

port=$(pgc_free_port)

cd "$TMP"
set +e
pgc_as "$PG_REGRESS" \
    --temp-instance="$TMP/instance" \
    --temp-config="$TMP/tributary.conf" \
    --port="$port" \
    --inputdir="$TMP" \
    --outputdir="$TMP" \
    --bindir="$PGBIN" \
    --dbname=contrib_regression \
    --load-extension=tributary \
    --encoding=UTF8 --no-locale \
    "${tests[@]}" 2>&1 | tee "$TMP/pg_regress.log"
rc=${PIPESTATUS[0]}
set -e

# pg_regress ends with "All N tests passed." or "N of M tests failed."
# (possibly followed by ", K of these failures ignored.").  The per-test
# lines ("... ok", "... FAILED") are counted as a cross-check.
passed=0 failed=0
if line=$(grep -E '^ *All [0-9]+ tests passed' "$TMP/pg_regress.log"); then
    passed=$(echo "$line" | sed -E 's/^ *All ([0-9]+) tests.*/\1/')
elif line=$(grep -E '^ *[0-9]+ of [0-9]+ tests (failed|passed)' "$TMP/pg_regress.log"); then
    n=$(echo "$line" | sed -E 's/^ *([0-9]+) of ([0-9]+) tests.*/\1/')
    m=$(echo "$line" | sed -E 's/^ *([0-9]+) of ([0-9]+) tests.*/\2/')
    if [[ $line == *'tests failed'* ]]; then
        failed=$n passed=$((m - n))
    else
        passed=$n failed=$((m - n))
    fi
fi
ok_lines=$(grep -cE '\.\.\. ok ' "$TMP/pg_regress.log" || true)
bad_lines=$(grep -cE '\.\.\. (FAILED|failed)' "$TMP/pg_regress.log" || true)
if [ $((passed + failed)) -eq 0 ] || [ "$ok_lines" -ne "$passed" ] ||
   [ "$bad_lines" -ne "$failed" ]; then
    echo "run-regress: summary ($passed passed, $failed failed) disagrees with" \
         "per-test lines ($ok_lines ok, $bad_lines failed)" >&2
    passed=$ok_lines
    failed=$bad_lines
fi
# pg_regress failed without a failing test (initdb, server start, bad
# schedule): count the run itself as a failure.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi

if [ -s "$TMP/regression.diffs" ]; then
    echo "run-regress: regression.diffs (first 200 lines):" >&2
    head -n 200 "$TMP/regression.diffs" >&2
fi
if [ "$rc" -ne 0 ] && [ -f "$TMP/log/postmaster.log" ]; then
    echo "run-regress: server log (last 50 lines):" >&2
    tail -n 50 "$TMP/log/postmaster.log" >&2
fi

report "$passed" "$failed"
