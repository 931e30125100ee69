#!/usr/bin/env bash
# 98_mysql_snapshot_retry_limit.sh: the 3-try limit of the MySQL/MariaDB
# snapshot for a table altered after the snapshot's consistent point
# (issue 13; docs/MYSQL.md, "DDL during the copy"), against a real
# MariaDB 10.11, one snapshot worker, small chunks.
#
# A pipeline copies `a2` (first, the larger) and `alt`, while `alt` is
# rebuilt (ALTER TABLE alt FORCE) over and over in the background, and a
# test hook makes each table's first read wait 1.5 s after its snapshot
# began (TRIBUTARY_TEST_MYSQL_SNAPSHOT_READ_DELAY_MS, mysql_snapshot_read.c),
# so that an ALTER commits between every snapshot and its read: the
# server refuses the read of `alt` under the shared snapshot and under
# each of the 3 new snapshots taken for it.  Checks: the copy fails after
# the third (3 new snapshots logged, no fourth) with the plain error and
# the way out; no row of `alt` is delivered or counted in the checkpoint;
# `a2`, copied before, keeps its progress (each row once).  Then, the
# ALTERs stopped, a plain restart (nothing removed) copies `alt` whole
# under a new snapshot of its own and streams: every row once, `a2` not
# copied again, an insert after the copy delivered once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init
E2E_PIDS+=" ALTER_PID"

# copied TABLE: "rows distinct-ids" of TABLE's op r in the sink's file
copied() {
    jq -r --arg t "$1" 'select(.value.op == "r" and .value.source.table == $t) | .key.id' \
        "$WORK/out.jsonl" 2>/dev/null | awk '{ n++; ids[$1] = 1 } END { printf "%d %d\n", n, length(ids) }'
}

mysql_snapshot_servers
mysql_snapshot_pipeline k98 9898 1 500 "shop.a2, shop.alt"
mdb_sql <<SQL
CREATE DATABASE shop;
USE shop;
CREATE TABLE a2 (id INT PRIMARY KEY, v VARCHAR(40));
CREATE TABLE alt (id INT PRIMARY KEY, v VARCHAR(40));
INSERT INTO a2 SELECT seq, CONCAT('a', seq) FROM seq_1_to_3000;
INSERT INTO alt SELECT seq, CONCAT('t', seq) FROM seq_1_to_1000;
SQL
( while :; do mdb_sql shop -e "ALTER TABLE alt FORCE" >/dev/null 2>&1 || true; done ) &
ALTER_PID=$!
sleep 0.5
export TRIBUTARY_TEST_MYSQL_SNAPSHOT_READ_DELAY_MS=1500
start_consumer "$WORK/p.yaml" "$WORK/run.log"
unset TRIBUTARY_TEST_MYSQL_SNAPSHOT_READ_DELAY_MS
for _ in $(seq 1 1200); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$RUN_PID" 2>/dev/null; then
    fail "the copy with every try refused ends within 120 s" "still running"
    stop_consumer
    RC3=0
else
    set +e
    wait "$RUN_PID"; RC3=$?
    set -e
    RUN_PID=
fi
kill "$ALTER_PID" 2>/dev/null || true
wait "$ALTER_PID" 2>/dev/null || true
ALTER_PID=
grep -E 'ERROR|attempt' "$WORK/run.log" | sed 's/^/# /'
expect_eq "every try refused: the daemon failed" 1 "$(( RC3 != 0 ))"
expect_eq "three new snapshots were taken for alt, no fourth" "1 2 3" \
    "$(grep -oE 'table shop.alt was altered .*attempt [0-9]+ of 3' "$WORK/run.log" |
        grep -oE '[0-9]+ of 3' | cut -d' ' -f1 | paste -sd' ')"
expect_grep "the error says so plainly, with the way out" "$WORK/run.log" \
    "snapshot of shop.alt: altered \(ALTER TABLE\) after the snapshot's consistent point, so not readable as of that point, nor under each of the 3 new snapshots taken for it; take a new snapshot"
expect_eq "no row of alt was delivered" "0 0" "$(copied alt)"
expect_eq "a2, copied before, each row once" "3000 3000" "$(copied a2)"
expect_eq "the checkpoint holds the copy's progress, still running" "running" \
    "$(jq -r '.position.snapshot.state // "none"' "$WORK/checkpoint.json")"
expect_eq "the progress counts a2's rows, and none of alt" "3000 0" \
    "$(jq -r '[([.position.snapshot.tables[] | select(.table == "a2") | .rows] | add // 0),
              ([.position.snapshot.tables[] | select(.table == "alt") | .rows] | add // 0)] | join(" ")' \
        "$WORK/checkpoint.json")"

# the ALTERs stopped, a plain restart copies alt (under a new snapshot of
# its own) and streams: nothing lost, nothing twice
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
if ! wait_log "$WORK/run2.log" 'streaming from binlog' 120; then
    fail "the restart finished the copy and streams" "see below"
    sed 's/^/#   /' "$WORK/run2.log"
fi
mdb_sql shop -e "INSERT INTO alt VALUES (900001, 'after')"
for _ in $(seq 1 600); do
    grep -q '"id":900001' "$WORK/out.jsonl" 2>/dev/null && break
    sleep 0.1
done
stop_consumer
expect_eq "the restart stopped cleanly" 0 "$STOP_RC"
expect_no_grep "the restart did not fail" "$WORK/run2.log" "ERROR"
expect_eq "alt copied whole by the restart, each row once" "1000 1000" "$(copied alt)"
expect_eq "a2 not copied again" "3000 3000" "$(copied a2)"
expect_eq "the stream delivered the insert after the copy once" 1 \
    "$(jq -r 'select(.value.op == "c" and .value.source.table == "alt") | .key.id' \
        "$WORK/out.jsonl" | grep -c '^900001$')"
expect_no_sanitizer "no sanitizer report" "$WORK/run.log" "$WORK/run2.log"

e2e_finish
