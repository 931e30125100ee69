#!/usr/bin/env bash
# test/shell/port-locks.sh: pgc_free_port (scripts/lib/pgcluster.sh) never
# gives one port to two shells that take ports at the same time, also when
# the ports' lock files are stale and taken over.
#
# Why.  The take-over of a stale lock was check-then-write: two shells
# could both read the dead owner and both write their PID, and both used
# the port (a server that cannot start, or two tests on one server).  Now
# the claim runs under flock(1) on PGC_PORT_LOCKS/.claim.
#
# Design: a private PGC_PORT_LOCKS and a small PGC_PORT_RANGE of ports
# nothing listens on, as many as there are shells.  Each round, every port
# has a stale lock (the PID of a process that has ended) or none; that
# many shells wait on a barrier (a flock the test holds), then all call
# pgc_free_port at once and stay alive (their locks are not stale) until
# the test has read what they got.  Every shell must get a port, no two
# the same, and each lock file must hold the PID of the shell that got
# its port.  The old code failed the stale rounds (a shell found no free
# port, or two got one port) most rounds on this machine.
#
# The last line is `N passed, N failed`.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/shell/lib.sh
source "$ROOT/test/shell/lib.sh"
LIB=$ROOT/scripts/lib/pgcluster.sh
N=6          # ports in the range, and shells per round
ROUNDS=12
WORK=$(mktemp -d "${TMPDIR:-/tmp}/port-locks-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export PGC_PORT_LOCKS=$WORK/locks

# a range of N ports nothing listens on
lo=
for base in $(seq 21000 50 29950); do
    busy=0
    for p in $(seq "$base" $((base + N - 1))); do
        ss -Htln "sport = :$p" 2>/dev/null | grep . >/dev/null && { busy=1; break; }
    done
    [ "$busy" = 0 ] && { lo=$base; break; }
done
if [ -z "$lo" ]; then
    report "a range of $N free ports" "none found in 21000-29999"
    summary; exit
fi
export PGC_PORT_RANGE="$lo $((lo + N - 1))"

# a PID whose process has ended: the owner of the stale locks
sh -c 'exit 0' & dead=$!
wait "$dead"

# round NAME STALE: one round; STALE 1 writes a stale lock for every port
# first.  Reports the round.
round() {
    local name=$1 stale=$2 dir=$WORK/$1 i p b why=() got
    mkdir -p "$dir"
    rm -rf "$PGC_PORT_LOCKS"
    mkdir -p "$PGC_PORT_LOCKS"
    if [ "$stale" = 1 ]; then
        for p in $(seq "$lo" $((lo + N - 1))); do echo "$dead" > "$PGC_PORT_LOCKS/$p"; done
    fi
    exec {b}>"$dir/barrier"
    flock -x "$b"
    for i in $(seq 1 "$N"); do
        # shellcheck disable=SC2016
        bash -c '
            source "$1" >/dev/null 2>&1
            flock -s "$2/barrier" true
            pgc_free_port >"$2/port.$3" 2>"$2/err.$3"
            echo "$? $$" >"$2/rc.$3.new" && mv "$2/rc.$3.new" "$2/rc.$3"
            while [ ! -e "$2/done" ]; do sleep 0.05; done' port-taker "$LIB" "$dir" "$i" &
    done
    sleep 0.5
    flock -u "$b"
    exec {b}>&-
    for _ in $(seq 1 600); do
        [ "$(find "$dir" -name 'rc.*' ! -name '*.new' | wc -l)" -ge "$N" ] && break
        sleep 0.05
    done
    for i in $(seq 1 "$N"); do
        local rc pid port
        read -r rc pid <"$dir/rc.$i" 2>/dev/null || { why+=("shell $i did not finish"); continue; }
        port=$(cat "$dir/port.$i")
        if [ "$rc" != 0 ]; then
            why+=("shell $i: status $rc: $(cat "$dir/err.$i")")
        elif [ "$(cat "$PGC_PORT_LOCKS/$port" 2>/dev/null)" != "$pid" ]; then
            why+=("shell $i ($pid) got $port, whose lock holds [$(cat "$PGC_PORT_LOCKS/$port" 2>/dev/null)]")
        fi
    done
    got=$(cat "$dir"/port.* | sort | uniq -d | tr '\n' ' ')
    [ -z "$got" ] || why+=("ports given twice: $got")
    touch "$dir/done"
    wait
    report "$name" "${why[@]}"
}

for r in $(seq 1 "$ROUNDS"); do
    round "round $r: $N shells at once, $N ports with stale locks: $N distinct ports" 1
done
round "$N shells at once, $N ports without locks: $N distinct ports" 0

# a live owner's lock is never taken over
mkdir -p "$PGC_PORT_LOCKS"
rm -f "$PGC_PORT_LOCKS"/*
for p in $(seq "$lo" $((lo + N - 1))); do echo "$$" > "$PGC_PORT_LOCKS/$p"; done
out=$(bash -c 'source "$1" >/dev/null 2>&1; pgc_free_port 2>&1; echo "rc $?"' x "$LIB")
if [[ $out == *"no free port found"*"rc 1" ]]; then
    report "every port locked by a live shell: none given"
else
    report "every port locked by a live shell: none given" "got: $out"
fi

summary
