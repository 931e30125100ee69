#!/usr/bin/env bash
# scripts/check.sh: run every test suite of the project and print one total.
# `make check` and CI (.ci/run) run it after installing the extension.
#
# Design: each suite is a function that runs its tests, shows their output,
# and adds what it counted to the totals through `record`.  A failing suite
# never stops the others.  Counts are of single tests (pg_regress tests, TAP
# assertions, shell scripts), not of suites.  A suite whose harness breaks
# before it can report (pg_regress cannot start, a TAP script dies) counts as
# one failure, so a broken harness can never look like success.
#
# Suites:
#   regress  test/regress via scripts/run-regress.sh
#   tap      test/tap/*.pl with prove and PostgreSQL::Test::Cluster, run as
#            the unprivileged test user in a temp dir it owns
#   shell    executable test/shell/*.sh; one that prints `N passed, N failed`
#            as its last line counts that, otherwise its exit status counts
#   parts    `make check` of consumer/, schema_registry/, lineage/; each
#            prints `N passed, N failed` (alone on its line) last; a part
#            that prints no such line counts as one failure
#
# Usage: scripts/check.sh [suite...]       (default: all suites)
# The very last line printed is always `N passed, N failed`.  The exit status
# is non-zero when a test failed or when no test ran.  KEEP_TMP=1 keeps the
# TAP temp dir.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"

PG_LIBDIR=$("$PG_CONFIG" --pkglibdir)
PG_REGRESS=$PG_LIBDIR/pgxs/src/test/regress/pg_regress
PG_TAP_LIB=$PG_LIBDIR/pgxs/src/test/perl
PARTS=(consumer schema_registry lineage)
COUNT_RE='^([0-9]+) passed, ([0-9]+) failed$'

total_passed=0
total_failed=0
suite_lines=()
tmp_dirs=()

# cleanup: remove the temp dirs of the suites unless asked to keep them.
cleanup() {
    local d
    for d in "${tmp_dirs[@]}"; do
        if [ "${KEEP_TMP:-0}" = 1 ]; then
            echo "check: kept $d" >&2
        else
            rm -rf "$d"
        fi
    done
}
trap cleanup EXIT

# record: add one suite's counts to the totals and to the summary table,
# with the seconds since `started` (set before each test or suite).
started=$SECONDS
record() {
    local name=$1 passed=$2 failed=$3
    total_passed=$((total_passed + passed))
    total_failed=$((total_failed + failed))
    suite_lines+=("$(printf '  %-32s %4d passed, %4d failed %5d s' "$name" "$passed" "$failed" $((SECONDS - started)))")
}

# banner: a header line before a suite's own output.
banner() {
    printf '\n==== %s ====\n' "$1"
}

# suite_regress: the pg_regress suite.
suite_regress() {
    local log line
    banner "regress (test/regress)"
    if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/tributary.control" ]; then
        echo "check: the extension is not installed; run make -C pg_ext install" >&2
        record regress 0 1
        return
    fi
    log=$(mktemp)
    started=$SECONDS
    bash "$ROOT/scripts/run-regress.sh" 2>&1 | tee "$log" || true
    line=$(grep -E '^regress: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n 1 || true)
    rm -f "$log"
    if [[ ${line#regress: } =~ $COUNT_RE ]]; then
        record regress "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
    else
        echo "check: run-regress.sh printed no summary" >&2
        record regress 0 1
    fi
}

# tap_count: count TAP assertions in a prove -v log; prints "passed failed".
# "not ok ... # TODO" is an expected failure and counts as passed, as TAP
# says ("\#" in a test name is not a directive); skipped tests count as
# passed.  Subtest lines are indented and
# counted through their parent.
tap_count() {
    awk '
        /^(not )?ok [0-9]+/ {
            if ($1 == "ok") { p++ }
            else if ($0 ~ /[^\\]# *TODO/) { p++ }
            else { f++ }
        }
        END { printf "%d %d\n", p, f }' "$1"
}

# suite_tap: every test/tap/*.pl under prove, one file at a time.
suite_tap() {
    local files=("$ROOT"/test/tap/*.pl)
    [ -e "${files[0]}" ] || return 0
    banner "tap (test/tap)"
    local tmp f name log rc counts p q regress_log
    tmp=$(pgc_mktemp)
    tmp_dirs+=("$tmp")
    # The test user may not be able to read the checkout (CI clones under
    # root's home), so the scripts run from a copy it owns.
    cp -r "$ROOT/test/tap" "$tmp/tap"
    [ "$(id -u)" = 0 ] && chown -R "$TRIB_TEST_USER" "$tmp"
    for f in "${files[@]}"; do
        name=$(basename "$f")
        log=$tmp/${name%.pl}.prove.log
        started=$SECONDS
        set +e
        (cd "$tmp" && pgc_as env \
            PATH="$PGBIN:$PATH" \
            PERL5LIB="$PG_TAP_LIB${PERL5LIB:+:$PERL5LIB}" \
            PG_REGRESS="$PG_REGRESS" \
            PG_CONFIG="$PG_CONFIG" \
            TESTDIR="$tmp" \
            TESTDATADIR="$tmp/tmp_check/${name%.pl}" \
            TRIB_TAP_DIR="$tmp/tap" \
            prove -v "tap/$name") 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        set -e
        counts=$(tap_count "$log")
        p=${counts% *} q=${counts#* }
        if [ "$rc" -ne 0 ] && [ "$q" -eq 0 ]; then
            echo "check: $name failed without a failing assertion (died or bad plan)" >&2
            q=1
        fi
        regress_log=$tmp/tmp_check/log/regress_log_${name%.pl}
        if [ "$q" -ne 0 ] && [ -f "$regress_log" ]; then
            echo "check: $regress_log (last 60 lines):" >&2
            tail -n 60 "$regress_log" >&2
        fi
        record "tap/$name" "$p" "$q"
    done
}

# suite_shell: every executable test/shell/*.sh.
suite_shell() {
    local files=("$ROOT"/test/shell/*.sh)
    [ -e "${files[0]}" ] || return 0
    banner "shell (test/shell)"
    local f name log rc line
    for f in "${files[@]}"; do
        [ -x "$f" ] || continue
        name=$(basename "$f")
        log=$(mktemp)
        started=$SECONDS
        set +e
        "$f" 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        set -e
        line=$(tail -n 1 "$log")
        rm -f "$log"
        if [[ $line =~ $COUNT_RE ]]; then
            local p=${BASH_REMATCH[1]} q=${BASH_REMATCH[2]}
            [ "$rc" -ne 0 ] && [ "$q" -eq 0 ] && q=1
            record "shell/$name" "$p" "$q"
        elif [ "$rc" -eq 0 ]; then
            record "shell/$name" 1 0
        else
            record "shell/$name" 0 1
        fi
    done
}

# suite_parts: `make check` of the parts that are not pg_ext.
suite_parts() {
    local part log rc line
    for part in "${PARTS[@]}"; do
        [ -f "$ROOT/$part/Makefile" ] || continue
        banner "$part"
        log=$(mktemp)
        started=$SECONDS
        set +e
        make -s --no-print-directory -C "$ROOT/$part" check PG_CONFIG="$PG_CONFIG" 2>&1 | tee "$log"
        rc=${PIPESTATUS[0]}
        set -e
        # make prints its own error line after a failing runner's summary,
        # so take the last summary line, not the last line.
        line=$(grep -E "$COUNT_RE" "$log" | tail -n 1 || true)
        rm -f "$log"
        if [[ $line =~ $COUNT_RE ]]; then
            local p=${BASH_REMATCH[1]} q=${BASH_REMATCH[2]}
            [ "$rc" -ne 0 ] && [ "$q" -eq 0 ] && q=1
            record "$part" "$p" "$q"
        else
            # every part has tests: one that prints no summary line (or
            # prefixes it, so that it does not match) is a broken harness
            echo "check: $part printed no \`N passed, N failed\` line (exit $rc)" >&2
            record "$part" 0 1
        fi
    done
}

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(regress tap shell parts)
for s in "${suites[@]}"; do
    case "$s" in
        regress|tap|shell|parts) "suite_$s" ;;
        *) echo "check: unknown suite '$s' (regress, tap, shell, parts)" >&2
           record "$s" 0 1 ;;
    esac
done

banner "summary ($SECONDS s)"
for l in "${suite_lines[@]}"; do
    echo "$l"
done
if [ $((total_passed + total_failed)) -eq 0 ]; then
    echo "check: no tests ran" >&2
fi
echo "$total_passed passed, $total_failed failed"
[ "$total_failed" -eq 0 ] && [ "$total_passed" -gt 0 ]
