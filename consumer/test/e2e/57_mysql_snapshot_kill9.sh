#!/usr/bin/env bash
# 57_mysql_snapshot_kill9.sh: the MySQL/MariaDB source's initial snapshot
# killed (-9) while it copies, then resumed (issue 13 item 5), against a
# real MariaDB 10.11, with a writer committing throughout.
#
# The daemon is killed twice during the copy, once the checkpoint shows a
# third and then two thirds of the big table acknowledged, and restarted
# each time; then the writer ends, a marker row is written and the daemon
# stops cleanly.  Checks: each restart says it resumes the copy, and the
# big table is not copied again from its start (fewer than 1.3 times its
# rows are copied in all); the stream after the first snapshot's binlog
# position delivers every change exactly once (the witness is the binlog
# from there, decoded by tools/mysql_cat); the rows rebuilt from the
# events equal the server's.  A resumed copy reads its remaining rows
# under a new snapshot and may repeat the chunks written after its last
# saved progress (docs/MYSQL.md), so rows are checked by the rebuilt
# state, not counted.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
e2e_init
ROWS=300000

mysql_snapshot_servers
mysql_snapshot_pipeline k57 5757 2 2000

mdb_sql <<SQL
CREATE DATABASE shop;
USE shop;
CREATE TABLE big (id INT PRIMARY KEY, v VARCHAR(40), n INT);
CREATE TABLE small (k1 INT, k2 CHAR(3), x DECIMAL(10,2), PRIMARY KEY (k1, k2));
CREATE TABLE marker (id INT PRIMARY KEY);
INSERT INTO big SELECT seq, CONCAT('big', seq), seq FROM seq_1_to_$ROWS;
INSERT INTO small SELECT seq, 'abc', seq / 4 FROM seq_1_to_2000;
SQL

writer() {
    local t
    for t in $(seq 1 150); do
        mdb_sql shop -e "BEGIN;
            INSERT INTO big VALUES ($t + 1000000, 'w$t', $t);
            UPDATE big SET n = -n WHERE id IN ($t * 1999, $t * 997);
            DELETE FROM big WHERE id = $t * 1777;
            UPDATE small SET x = x + 1 WHERE k1 = $t;
            COMMIT;"
        sleep 0.1
    done
}

# big_at FRACTION: the checkpoint holds that part of big ($n: how much).
big_at() { n=$(acked big); n=${n:-0}; [ "$n" -ge $(( ROWS * $1 / 100 )) ]; }
# kill_at FRACTION: kill -9 once the checkpoint holds that part of big.  A
# fast machine copies big in about a second, under one progress save (one
# a second), so once big's copy has begun the daemon runs at a quarter of
# its pace until then (paced_until).
kill_at() {
    local n st
    wait_copying "$WORK/out.jsonl" big || true
    paced_until big_at "$1" || true
    kill_consumer
    echo "# killed with $n rows of big acknowledged"
    # the restart resumes the copy when the checkpoint left by the kill
    # holds an unfinished one; a kill the copy outran has nothing to resume
    st=$(jq -r '.position.snapshot.state // "none"' "$WORK/checkpoint.json" 2>/dev/null)
    echo "# the checkpoint's snapshot state: ${st:-none}"
    case "$st" in done|none|'') ;; *) MID_COPY_KILLS=$((MID_COPY_KILLS + 1)) ;; esac
    return 0
}
MID_COPY_KILLS=0

writer &
WRITER_PID=$!
start_consumer
kill_at 33
start_consumer
kill_at 66
start_consumer
wait "$WRITER_PID"; WRITER_PID=
mdb_sql shop -e "INSERT INTO marker VALUES (1)"
for _ in $(seq 1 1200); do
    grep -q '"table":"marker"' "$WORK/out.jsonl" 2>/dev/null && break
    sleep 0.1
done
stop_consumer
expect_eq "the daemon stopped cleanly" 0 "$STOP_RC"
expect_eq "at least one kill landed inside the copy" 1 "$(( MID_COPY_KILLS >= 1 ))"
# a restart killed before its snapshot phase logs anything says nothing, so
# the invariant is: one start of the copy, and the restarts resume it
expect_eq "the copy was started once, never again from its start" 1 \
    "$(grep -c 'starting the copy' "$WORK/run.log")"
expect_eq "a restart resumed the copy" 1 "$(( $(grep -c 'resuming the copy' "$WORK/run.log") >= 1 ))"
expect_eq "no restart took a new position for the stream" 1 \
    "$(grep -o 'streaming from binlog [^ ]*' "$WORK/run.log" | sort -u | wc -l)"
copied=$(jq -r 'select(.value.op == "r" and .value.source.table == "big") | .key.id' \
    "$WORK/out.jsonl" | wc -l)
echo "# $copied rows of big copied in all ($ROWS at the start)"
expect_eq "the big table was not copied again from its start" t \
    "$([ "$copied" -lt $(( ROWS * 13 / 10 )) ] && echo t || echo f)"

mdb_sql -N shop -e "SELECT JSON_OBJECT('id', id, 'v', v, 'n', n) FROM big" | sed 's/^/big /' >"$WORK/server.rows"
mdb_sql -N shop -e "SELECT JSON_OBJECT('k1', k1, 'k2', k2, 'x', x) FROM small" | sed 's/^/small /' >>"$WORK/server.rows"
snapshot_check "$WORK/out.jsonl" "$WORK/run.log" 5758 "$WORK/server.rows" --resumed

e2e_finish
