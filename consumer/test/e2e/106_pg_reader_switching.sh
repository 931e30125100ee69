#!/usr/bin/env bash
# 106_pg_reader_switching.sh: the PostgreSQL source's adaptive reader
# (source/pg/source_pg_reader.c) made to switch between the loop and its
# thread on every turn, under two kill -9 scripts.
#
# In production the source reads its socket on the pipeline's loop while
# the stream is light and hands reading to a thread of its own only while
# it is heavy (a backlog in the socket), so short e2e scripts rarely
# cross a switch.  With TRIBUTARY_TEST_PG_READER_SWITCH set, every turn
# that read anything hands reading to the thread, and the thread gives it
# back after 1 ms without input: hundreds of switches in a few seconds.
# e2e 02 (file sink: every change of a witness slot exactly once, in
# order, across kills) and e2e 72 (transactional Kafka, Debezium's
# transaction topic: exactly once, BEGIN/END counts, total_order without
# gap) run as they are under it; each must pass in full, and the daemons'
# logs must show that reading changed hands (the reader logs its count of
# hand-overs when it is freed, under the test switch only).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

total=0
for s in 02 72; do
    script=$(ls "$HERE/${s}"_*.sh)
    # the servers the script starts run as an unprivileged user, in dirs
    # made under TMPDIR: it must reach them
    mkdir -p "$WORK/$s"
    chmod 755 "$WORK" "$WORK/$s"
    rc=0
    TRIBUTARY_TEST_PG_READER_SWITCH=1 KEEP_WORK=1 TMPDIR="$WORK/$s" \
        bash "$script" > "$WORK/$s.out" 2>&1 || rc=$?
    last=$(tail -n 1 "$WORK/$s.out")
    expect_match "e2e $s with the reader switching on every turn: all its checks pass" \
        '^[1-9][0-9]* passed, 0 failed \(exit 0\)$' "$last (exit $rc)"
    [ "$rc" = 0 ] || { grep '^not ok' "$WORK/$s.out" | head -5 >&2 || true; }
    n=$({ grep -rhoE '[0-9]+ hand-overs to the thread' "$WORK/$s" 2>/dev/null || true; } |
        awk '{s += $1} END {print s + 0}')
    expect_match "e2e $s: reading changed hands between the loop and the thread ($n hand-overs)" \
        '^[1-9][0-9]*$' "$n"
    total=$((total + n))
done
# e2e 72's many small transactions with pauses between make most of them
expect_match "at least 20 hand-overs in all ($total)" '^([2-9][0-9]|[1-9][0-9]{2,})$' "$total"
e2e_finish
