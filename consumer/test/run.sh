#!/usr/bin/env bash
# test/run.sh: run the consumer's tests and print `N passed, N failed` last.
#
# Usage: test/run.sh --unit BIN... --e2e SCRIPT... --fuzz BIN...
# (`make check` calls it with every test it knows of.)
#
# Counting, one line per test binary or script in the summary:
#   unit  cmocka binaries: the tests cmocka reports ("[  PASSED  ] N test(s)."
#         and "[  FAILED  ] N test(s), listed below:", summed over groups).
#         A binary that is missing (did not build), crashes, or exits
#         non-zero without reporting a failure (a sanitizer report at exit)
#         adds one failure.
#   e2e   executable scripts: one test each by exit status, or the counts
#         of a last line `N passed, N failed`.
#   fuzz  libFuzzer targets replay their committed corpus once (-runs=0):
#         one test each.
# A failure never stops the run.  Exit status: non-zero when anything
# failed or nothing ran.
set -uo pipefail

COUNT_RE='^([0-9]+) passed, ([0-9]+) failed$'
mode=""
unit=() e2e=() fuzz=()
for arg in "$@"; do
    case "$arg" in
        --unit|--e2e|--fuzz) mode=${arg#--} ;;
        *) case "$mode" in
               unit) unit+=("$arg") ;;
               e2e) e2e+=("$arg") ;;
               fuzz) fuzz+=("$arg") ;;
               *) echo "run.sh: unexpected argument $arg" >&2; exit 2 ;;
           esac ;;
    esac
done

total_p=0 total_f=0
lines=()
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# record NAME PASSED FAILED: add to the totals and the summary, with the
# seconds since the test started (started, set before each test), so that
# the slow tests show in every log.
started=$SECONDS
record() {
    total_p=$((total_p + $2))
    total_f=$((total_f + $3))
    lines+=("$(printf '  %-36s %4d passed, %4d failed %5d s' "$1" "$2" "$3" $((SECONDS - started)))")
}

# libmongoc's counters segments that killed processes left (see
# drop_mongoc_shm in test/e2e/lib.sh): a new process with such a PID
# warns on stderr.  Remove those of processes that no longer run.
for seg in /dev/shm/mongoc-*; do
    pid=${seg##*-}
    [[ $pid =~ ^[0-9]+$ ]] && [ -O "$seg" ] && ! kill -0 "$pid" 2>/dev/null && rm -f "$seg"
done

# Sanitizer reports must fail the run; leaks are errors.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export CMOCKA_MESSAGE_OUTPUT=stdout
unset CMOCKA_XML_FILE

for bin in "${unit[@]}"; do
    name=$(basename "$bin")
    started=$SECONDS
    printf '\n---- unit: %s ----\n' "$name"
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin was not built"
        record "unit/$name" 0 1
        continue
    fi
    timeout 600 "$bin" >"$log" 2>&1
    rc=$?
    cat "$log"
    p=$(sed -nE 's/^\[  PASSED  \] ([0-9]+) test\(s\)\.$/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    f=$(sed -nE 's/^\[  FAILED  \] ([0-9]+) test\(s\), listed below:$/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "run.sh: $name exited with status $rc"
        f=1
    fi
    if [ "$rc" -eq 0 ] && [ $((p + f)) -eq 0 ]; then
        echo "run.sh: $name reported no tests"
        f=1
    fi
    record "unit/$name" "$p" "$f"
done

# e2e_report NAME LOG RC: show a finished script's output and count it.
e2e_report() {
    local name=$1 out=$2 rc=$3 last p f
    printf '\n---- e2e: %s ----\n' "$name"
    cat "$out"
    last=$(tail -n 1 "$out")
    if [[ $last =~ $COUNT_RE ]]; then
        p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
        [ "$rc" -ne 0 ] && [ "$f" -eq 0 ] && f=1
        record "e2e/$name" "$p" "$f"
    elif [ "$rc" -eq 0 ]; then
        record "e2e/$name" 1 0
    else
        record "e2e/$name" 0 1
    fi
}

# The e2e scripts run E2E_JOBS at a time (default 2).  Each starts its own
# servers in its own temp dir on ports it reserves (scripts/lib/pgcluster.sh),
# so they do not meet; most of a script's time is spent waiting on its
# servers, so two at a time nearly halve the suite on two cores.  A
# script's output is shown whole when it ends, in the order they end.
E2E_JOBS=${E2E_JOBS:-2}
[[ $E2E_JOBS =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: E2E_JOBS must be a positive integer, not '$E2E_JOBS'" >&2; exit 2; }
e2e_dir=$(mktemp -d)
# While the scripts run, the daemon's default HTTP address 127.0.0.1:8080
# is held (test/e2e/default_port_guard.py), so that a daemon without an
# `http:` section fails every time rather than when another one has the port
# at that moment; lib.sh's e2e_finish names the cause.  When the port is
# taken already (a second suite, a program of the developer's), the note
# says so: a daemon on the default still cannot listen, and the guard's
# waiter holds the port from the moment it is free.
guard_pid=
trap 'rm -f "$log"; rm -rf "$e2e_dir"; [ -z "$guard_pid" ] || kill "$guard_pid" 2>/dev/null' EXIT
if [ ${#e2e[@]} -gt 0 ]; then
    guard=$(python3 "$(dirname "${BASH_SOURCE[0]}")/e2e/default_port_guard.py" $$ 2>&1) || true
    case $guard in
        "held "*) guard_pid=${guard#held } ;;
        "busy: "*"; waiter "*)
            guard_pid=${guard##*; waiter }
            echo "run.sh: note: the default HTTP port is taken; it is guarded from when it is free (${guard})" ;;
        *) echo "run.sh: note: the default HTTP port is not guarded (${guard:-no answer})" ;;
    esac
    export E2E_DEFAULT_PORT_GUARD=${guard:-none}
fi
declare -A e2e_name=() e2e_start=()

# e2e_reap: wait for one running script to end and report it.
e2e_reap() {
    local pid rc
    wait -n -p pid "${!e2e_name[@]}"
    rc=$?
    started=${e2e_start[$pid]}
    e2e_report "${e2e_name[$pid]}" "$e2e_dir/${e2e_name[$pid]}.out" "$rc"
    unset "e2e_name[$pid]" "e2e_start[$pid]"
}

for script in "${e2e[@]}"; do
    name=$(basename "$script")
    # NN_name.sh is a test; anything else (lib.sh, *_lib.sh) is sourced by them
    [[ $name =~ ^[0-9] ]] || continue
    if [ ! -x "$script" ]; then
        started=$SECONDS
        printf '\n---- e2e: %s ----\nnot ok - %s is not executable (chmod +x): it was not run\n' "$name" "$script"
        record "e2e/$name" 0 1
        continue
    fi
    while [ ${#e2e_name[@]} -ge "$E2E_JOBS" ]; do
        e2e_reap
    done
    timeout 1800 "$script" >"$e2e_dir/$name.out" 2>&1 </dev/null &
    e2e_name[$!]=$name
    e2e_start[$!]=$SECONDS
done
while [ ${#e2e_name[@]} -gt 0 ]; do
    e2e_reap
done

for bin in "${fuzz[@]}"; do
    name=$(basename "$bin")
    corpus=fuzz/corpus/${name#fuzz_}
    started=$SECONDS
    printf '\n---- fuzz corpus: %s ----\n' "$name"
    if [ ! -x "$bin" ]; then
        echo "run.sh: $bin was not built"
        record "fuzz/$name" 0 1
        continue
    fi
    args=(-runs=0)
    [ -d "$corpus" ] && args+=("$corpus")
    if timeout 600 "$bin" "${args[@]}" >"$log" 2>&1; then
        tail -n 2 "$log"
        record "fuzz/$name" 1 0
    else
        cat "$log"
        record "fuzz/$name" 0 1
    fi
done

printf '\n---- consumer summary (%d s) ----\n' "$SECONDS"
for l in "${lines[@]}"; do
    echo "$l"
done
echo "$total_p passed, $total_f failed"
[ "$total_f" -eq 0 ] && [ "$total_p" -gt 0 ]
