#!/usr/bin/env bash
# 84_mysql_lock_and_keyless_snapshot.sh: two things of issue 13 against a
# real MariaDB 10.11 and no PostgreSQL at all.
#
# Part 1, the pipeline lock in MySQL/MariaDB itself (docs/MYSQL.md,
# Pipeline lock): a mysql source without lock_dsn takes
# GET_LOCK('tributary.pipeline:NAME', 0) on its own connection.
# Two `tributary run` of the same pipeline share one config: one file sink
# (append-only, so a write by two consumers at once shows as a duplicate)
# and one checkpoint file.  Checks:
#   - check reports the lock free, then held by the leader's connection;
#   - one consumer leads, the other waits as standby (logs), and
#     IS_USED_LOCK names the leader's lock connection;
#   - kill -9 of the leader while a writer commits: the standby takes
#     over, and the killed one, started again, waits as standby;
#   - KILL of the leader's lock connection from an admin session while the
#     writer commits: that leader logs the loss and stops writing, the
#     standby takes over, and the old leader goes back to standby;
#   - every inserted row reaches the sink exactly once (by id and by
#     event id), nothing else.
#
# Part 2, the snapshot of tables without a primary key killed (-9) mid-copy
# and resumed (docs/MYSQL.md, Initial snapshot): a table with a unique
# index on NOT NULL columns is chunked by that index and resumes after its
# last saved key (copied less than 1.3 times in all, every row at least
# once); a table with no unique key at all is copied whole again, so the
# restart repeats its rows.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
E2E_PIDS+=" A_PID B_PID"
A_PID= B_PID=
LOCK=tributary.pipeline:my84

build_consumer
mdb_start
mdb_sql <<'SQL'
CREATE DATABASE shop;
CREATE TABLE shop.t (id INT PRIMARY KEY, v VARCHAR(40));
SQL
binlog_now

cat >"$WORK/p.yaml" <<YAML
pipeline: my84
sources:
$(mysql_yaml 8484 start)
    snapshot: never
    heartbeat_ms: 200
    reconnect_backoff_ms: {initial: 100, max: 1000}
$(archive_yaml "$WORK/out.jsonl" "$WORK/checkpoint.json")
YAML

# start NAME: a consumer logging to NAME.log; its pid in NAME_PID.
start() {
    "$BIN" run -c "$WORK/p.yaml" >>"$WORK/$1.log" 2>&1 &
    printf -v "${1^}_PID" '%s' "$!"
}
# kill9 NAME: kill -9 the consumer NAME and reap it.
kill9() {
    local v="${1^}_PID"
    kill -9 "${!v}" 2>/dev/null || true
    wait "${!v}" 2>/dev/null || true
    printf -v "$v" '%s' ""
}
# stop NAME: SIGTERM and wait; its exit status in STOP_RC.
stop() {
    local v="${1^}_PID"
    STOP_RC=0
    kill -TERM "${!v}"
    wait "${!v}" || STOP_RC=$?
    printf -v "$v" '%s' ""
}
holder() { mdb_sql -N -e "SELECT IS_USED_LOCK('$LOCK')"; }
# write FROM TO: one autocommitted insert per row, a few ms apart.
write() {
    mdb_sql shop --delimiter='//' -e "BEGIN NOT ATOMIC
        FOR i IN $1 .. $2 DO INSERT INTO t VALUES (i, CONCAT('v', i)); DO SLEEP(0.004); END FOR;
        END //"
}
# count_active NAME: how often NAME's log says it became the active one.
count_active() { grep -c "pipeline my84 is active" "$WORK/$1.log" || true; }

"$BIN" check -c "$WORK/p.yaml" >"$WORK/check.free" 2>&1 || { cat "$WORK/check.free"; exit 1; }
expect_grep "check: the lock is free, named after the pipeline" "$WORK/check.free" \
    "pipeline lock \\(MySQL GET_LOCK\\): $LOCK is free"

# ---- one leads, the other waits ---------------------------------------------
start a
wait_log "$WORK/a.log" "pipeline my84 is active" 30 || true
start b
wait_log "$WORK/b.log" "waiting as standby" 30 || true
sleep 1.5
expect_eq "a leads, b waits as standby (logs)" "1 0 1" \
    "$(count_active a) $(count_active b) $(grep -c 'another consumer runs pipeline my84 (MySQL GET_LOCK); waiting as standby' "$WORK/b.log")"
id_a=$(holder)
expect_eq "IS_USED_LOCK names a connection of a's (not NULL)" t \
    "$([ "$id_a" != NULL ] && [ -n "$id_a" ] && echo t || echo "f ($id_a)")"
"$BIN" check -c "$WORK/p.yaml" >"$WORK/check.held" 2>&1 || true
expect_grep "check names the holder's connection" "$WORK/check.held" \
    "pipeline lock \\(MySQL GET_LOCK\\): $LOCK is held by connection $id_a "

# ---- kill -9 of the leader under load: b takes over -------------------------
write 1 600 &
WRITER_PID=$!
sleep 1
kill9 a
t0=$(date +%s%N)
wait_log "$WORK/b.log" "pipeline my84 is active" 30 || true
took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
expect_eq "after kill -9 of a, b takes the lock over within 10 s" t \
    "$([ "$(count_active b)" = 1 ] && [ "$took_ms" -le 10000 ] && echo t || echo "f (${took_ms} ms)")"
expect_grep "b waited for the old leader to stop writing" "$WORK/b.log" \
    "took the pipeline lock \\(MySQL GET_LOCK\\) over; waiting 3000 ms"
start a
wait_log "$WORK/a.log" "waiting as standby" 30 || true
wait "$WRITER_PID"; WRITER_PID=
id_b=$(holder)
expect_eq "the restarted a waits as standby; the lock is b's, another connection" "1 t" \
    "$(count_active a) $([ "$id_b" != NULL ] && [ "$id_b" != "$id_a" ] && echo t || echo "f ($id_b)")"

# ---- KILL of the leader's lock connection: it stops, a takes over -----------
write 601 1200 &
WRITER_PID=$!
sleep 1
mdb_sql -e "KILL $id_b"
wait_log "$WORK/a.log" "pipeline my84 is active.*" 30 || true
for _ in $(seq 1 300); do [ "$(count_active a)" -ge 2 ] && break; sleep 0.1; done
expect_grep "b notices the loss and stops writing" "$WORK/b.log" \
    "lost the pipeline lock; stopping without writing more: leader: lock lost"
expect_eq "a takes over (its second time active)" 2 "$(count_active a)"
wait "$WRITER_PID"; WRITER_PID=
wait_log "$WORK/b.log" "waiting as standby" 30 || true
id_a2=$(holder)
expect_eq "b goes back to standby; the lock is a's new connection" "1 t" \
    "$(count_active b) $([ "$id_a2" != NULL ] && [ "$id_a2" != "$id_b" ] && echo t || echo "f ($id_a2)")"

# ---- every row once ---------------------------------------------------------
mdb_sql shop -e "INSERT INTO t VALUES (1201, 'the end')"
rows() { jq -r 'select(.value != null) | .value.after.id' "$WORK/out.jsonl" 2>/dev/null; }
for _ in $(seq 1 300); do
    [ "$(rows | wc -l)" -ge 1201 ] && break
    sleep 0.1
done
sleep 1							# anything more would show now
stop b; rc_b=$STOP_RC
stop a; rc_a=$STOP_RC
expect_eq "both stop cleanly on SIGTERM" "0 0" "$rc_a $rc_b"
seq 1 1201 >"$WORK/want"
rows | sort -n >"$WORK/got"
expect_eq "every row reached the sink" "" "$(comm -23 <(sort "$WORK/want") <(sort -u "$WORK/got") | head -3 | tr '\n' ' ')"
expect_eq "and none twice" "" "$(uniq -d "$WORK/got" | head -3 | tr '\n' ' ')"
expect_eq "and nothing else ($(wc -l <"$WORK/got") events)" 1201 "$(wc -l <"$WORK/got")"
expect_eq "no event id twice" "" \
    "$(jq -r 'select(.value != null) | .id // .value.source.sequence' "$WORK/out.jsonl" | sort | uniq -d | head -3 | tr '\n' ' ')"

# ---- part 2: keyless tables, kill -9 mid-copy -------------------------------
UQ_ROWS=300000 NOKEY_ROWS=5000
mdb_sql shop <<SQL
CREATE TABLE uq (a INT NOT NULL, b VARCHAR(20) NOT NULL, v INT, UNIQUE KEY ab (a, b),
                 UNIQUE KEY vv (v));
CREATE TABLE nokey (x INT, v VARCHAR(20));
INSERT INTO uq SELECT seq DIV 3, CONCAT('b', seq MOD 3), NULL FROM seq_1_to_$UQ_ROWS;
INSERT INTO nokey SELECT seq, CONCAT('n', seq) FROM seq_1_to_$NOKEY_ROWS;
SQL
cat >"$WORK/s.yaml" <<YAML
pipeline: my84s
sources:
$(mysql_yaml 8485)
    heartbeat_ms: 200
    snapshot_tables: [shop.nokey, shop.uq]
    snapshot_workers: 1
    snapshot_chunk_rows: 2000
$(archive_yaml "$WORK/snap.jsonl" "$WORK/snap.checkpoint.json")
YAML
# acked_uq: rows of uq the checkpoint says the sink acknowledged.
acked_uq() {
    jq -r '.position.snapshot.tables[]? | select(.table == "uq") | .rows' \
        "$WORK/snap.checkpoint.json" 2>/dev/null || echo 0
}
start_consumer "$WORK/s.yaml" "$WORK/snap.log"
# A fast machine copies uq in under a second, before the first progress
# save (one a second): once uq's copy has begun, the daemon runs at a
# quarter of its pace until the checkpoint counts a third of uq.
uq_third() { n=$(acked_uq); n=${n:-0}; [ "$n" -ge $(( UQ_ROWS / 3 )) ]; }
wait_copying "$WORK/snap.jsonl" uq || true
paced_until uq_third || true
kill_consumer
echo "# killed with $n rows of uq acknowledged"
expect_eq "the kill landed inside the copy of uq" t \
    "$([ "$n" -ge $(( UQ_ROWS / 3 )) ] && [ "$n" -lt "$UQ_ROWS" ] && echo t || echo "f ($n)")"
start_consumer "$WORK/s.yaml" "$WORK/snap.log"
wait_log "$WORK/snap.log" "copy complete" 120 || true
stop_consumer
expect_eq "the restart resumed the copy; it completed" "1 1" \
    "$(grep -c 'resuming the copy' "$WORK/snap.log") $(grep -c 'copy complete' "$WORK/snap.log")"
copied() { jq -r "select(.value.op == \"r\" and .value.source.table == \"$1\") | .value.after | $2" "$WORK/snap.jsonl"; }
copied uq '"\(.a) \(.b)"' | sort >"$WORK/uq.copied"
mdb_sql -N shop -e "SELECT a, b FROM uq" | tr '\t' ' ' | sort >"$WORK/uq.server"
echo "# $(wc -l <"$WORK/uq.copied") rows of uq copied in all ($UQ_ROWS in the table)"
expect_eq "uq (unique NOT NULL index, no primary key) was not copied again from its start" t \
    "$([ "$(wc -l <"$WORK/uq.copied")" -lt $(( UQ_ROWS * 13 / 10 )) ] && echo t || echo f)"
expect_eq "every row of uq was copied" "" \
    "$(comm -23 "$WORK/uq.server" <(sort -u "$WORK/uq.copied") | head -3 | tr '\n' ' ')"
expect_eq "nothing else" "" "$(comm -13 "$WORK/uq.server" <(sort -u "$WORK/uq.copied") | head -3 | tr '\n' ' ')"
nokey=$(copied nokey .x | sort -u | wc -l)
expect_eq "nokey (no unique key) was copied whole, every row" "$NOKEY_ROWS" "$nokey"
expect_no_sanitizer "no sanitizer report" "$WORK"/a.log "$WORK"/b.log "$WORK"/snap.log
e2e_finish
