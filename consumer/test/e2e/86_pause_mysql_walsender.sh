#!/usr/bin/env bash
# 86_pause_mysql_walsender.sh: the two pause cases 67 and 81 leave out
# (issue 16; docs/OPERATIONS.md, "Pausing"), on real servers.
#
# A PostgreSQL source paused longer than wal_sender_timeout (5 s here)
# while a writer commits: the walsender must keep the connection (the
# daemon sends status updates while paused): no "terminating walsender
# process due to replication timeout" in the server's log, the same
# walsender pid before and after, no reconnect in the daemon's log; the
# slot holds; resumed, every insert arrives exactly once.
#
# A MariaDB source (type: mysql) paused while a writer commits several
# MiB, with queue_mb 1 and the server's net_write_timeout at 3 s (so the
# server drops the dump connection the paused reader stops reading):
# the checkpoint does not move, /metrics shows the paused gauge and the
# lag growing, the daemon's memory stays bounded (the reader's queue holds
# at queue_mb), nothing reaches the sink; kill -9 while paused and a
# restart: still paused; resumed, every change made during the pause
# arrives exactly once.  Then a pipeline with both a PostgreSQL and a
# MariaDB source: the MariaDB one paused while the PostgreSQL one flows,
# resumed, each source's rows arrive once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=control_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/control_lib.sh"

build_consumer
pgc_start "wal_sender_timeout = '5s'" "log_min_messages = 'log'"
mdb_start "net_write_timeout = 3" "max_allowed_packet = 16M"

# metric NAME SRC: its value for source SRC.
metric() {
    curl -s "http://127.0.0.1:$PORT/metrics" |
        sed -n "s/^$1{source=\"$2\"} \\([0-9.e+-]*\\)$/\\1/p" | head -1
}
lines() { grep -c '"value":{' "$1" 2>/dev/null || echo 0; }
# once NAME EXPECTED ACTUAL: the ids (files of sorted ids) match, none twice.
once() {
    expect_eq "$1: none twice" "" "$(uniq -d "$3" | head -3 | tr '\n' ' ')"
    expect_eq "$1: every change, nothing else" "" "$(diff "$2" <(sort -nu "$3") | head -3 | tr '\n' ' ')"
}
walsender_pid() {
    pgc_psql -d postgres -Atc "SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'p86'"
}
# pg_yaml SLOT: the source main, streaming this cluster from SLOT.
pg_yaml() { echo "  main: {type: postgres, dsn: \"$(pg_dsn)\", slot: $1, snapshot: never}"; }
rss_kb() { awk '$1 == "VmRSS:" {print $2}' "/proc/$RUN_PID/status"; }

# ---- 1. PostgreSQL, paused longer than wal_sender_timeout ----------------------------
pgc_psql -d postgres -q -c "CREATE TABLE public.t (id int PRIMARY KEY)" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('p86', 'tributary')" >/dev/null
control_config p86 "sources:
$(pg_yaml p86)" "$WORK/pgckpt" archive="$WORK/pg.jsonl"
start
pgwriter() {
    for i in $(seq "$1" "$2"); do
        pgc_psql -d postgres -q -c "INSERT INTO public.t VALUES ($i)"
        sleep 0.1
    done
}
pgwriter 1 200 &
WRITER_PID=$!
wait_lines "$WORK/pg.jsonl" 10 20 || fail "rows flow before the pause" "$(lines "$WORK/pg.jsonl")"
wpid=$(walsender_pid)
api_tok "pg: pause" 200 POST /api/v1/sources/main/pause
sleep 1
n=$(lines "$WORK/pg.jsonl")
slot=$(slot_confirmed p86)
sleep 14						# nearly three times wal_sender_timeout
expect_eq "pg paused 15 s: nothing more reaches the sink" "$n" "$(lines "$WORK/pg.jsonl")"
expect_eq "pg paused 15 s: the slot holds" "$slot" "$(slot_confirmed p86)"
expect_no_grep "pg paused 15 s: the walsender did not time out" "$PGC_DIR/server.log" \
    'terminating walsender process due to replication timeout'
expect_eq "pg paused 15 s: the same walsender streams" "$wpid" "$(walsender_pid)"
api_tok "pg: resume" 200 POST /api/v1/sources/main/resume
wait "$WRITER_PID"
WRITER_PID=
wait_lines "$WORK/pg.jsonl" 200 30 || fail "pg: every row after the resume" "$(lines "$WORK/pg.jsonl")"
expect_eq "pg: the slot is confirmed to the end" t "$(slot_caught_up p86)"
stop_consumer
expect_eq "pg: SIGTERM exits 0" 0 "$STOP_RC"
expect_no_grep "pg: the daemon never lost its connection" "$WORK/run.log" 'trying again|reconnect'
jq -r 'select(.value != null) | .key.id' "$WORK/pg.jsonl" | sort -n > "$WORK/pg.ids"
once "pg: paused past wal_sender_timeout, resumed" <(seq 1 200) "$WORK/pg.ids"

# ---- 2. MariaDB, paused while several MiB are written ---------------------------------
mdb_sql <<'SQL'
CREATE DATABASE shop;
CREATE TABLE shop.o (id INT PRIMARY KEY, pad TEXT);
SQL
binlog_now
my_yaml() {
    cat <<YAML
$(mysql_yaml 8686 start)
    heartbeat_ms: 200
    queue_mb: 1
    reconnect_backoff_ms: {initial: 100, max: 1000}
    lock_dsn: "$(pg_dsn)"
YAML
}
control_config m86 "sources:
$(my_yaml)" "$WORK/myckpt" archive="$WORK/my.jsonl"
: > "$WORK/run.log"
# The RSS below measures the reader's queue.  In a sanitizer build (make
# check-asan) ASan keeps freed memory in its quarantine (256 MiB by
# default) and RSS counts it, so what this daemon frees while paused
# would look like growth: its quarantine is 1 MiB here (ignored by a
# build without ASan).
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1 start
# mywriter FROM TO: one insert of 8 KiB per transaction.
mywriter() {
    for i in $(seq "$1" "$2"); do
        echo "INSERT INTO shop.o VALUES ($i, REPEAT('x', 8192));"
    done | mdb_sql
}
mywriter 1 100
wait_lines "$WORK/my.jsonl" 100 30 || fail "mysql: rows flow before the pause" "$(lines "$WORK/my.jsonl")"
for _ in $(seq 1 50); do [ -s "$WORK/myckpt" ] && break; sleep 0.1; done
sleep 1
api_tok "mysql: pause" 200 POST /api/v1/sources/shopdb/pause
sleep 1
n=$(lines "$WORK/my.jsonl")
ckpt=$(md5sum < "$WORK/myckpt")
rss0=$(rss_kb)
lag1=$(metric tributary_source_lag_seconds shopdb)
mywriter 101 1100				# about 8 MiB while paused, queue_mb 1
sleep 8							# past net_write_timeout
expect_eq "mysql paused: nothing more reaches the sink" "$n" "$(lines "$WORK/my.jsonl")"
expect_eq "mysql paused: the checkpoint does not move" "$ckpt" "$(md5sum < "$WORK/myckpt")"
expect_eq "mysql paused: /metrics tributary_source_paused 1" 1 "$(metric tributary_source_paused shopdb)"
lag2=$(metric tributary_source_lag_seconds shopdb)
expect_eq "mysql paused: the lag grows ($lag1 -> $lag2)" t \
    "$(awk -v a="$lag1" -v b="$lag2" 'BEGIN { print (b > a && b >= 8) ? "t" : "f" }')"
rss1=$(rss_kb)
expect_eq "mysql paused: memory bounded by queue_mb (RSS $rss0 -> $rss1 KiB for 8 MiB written)" t \
    "$([ $((rss1 - rss0)) -lt 6144 ] && echo t || echo f)"
kill_consumer
start
expect_grep "mysql, kill -9 and restart: still paused" "$WORK/run.log" 'source shopdb stays paused'
sleep 2
expect_eq "mysql, restarted: nothing more reaches the sink" "$n" "$(lines "$WORK/my.jsonl")"
expect_eq "mysql, restarted: the gauge says paused" 1 "$(metric tributary_source_paused shopdb)"
sleep 5							# the new dump connection idles past net_write_timeout too
api_tok "mysql: resume" 200 POST /api/v1/sources/shopdb/resume
mywriter 1101 1200
wait_lines "$WORK/my.jsonl" 1200 60 || fail "mysql: every row after the resume" "$(lines "$WORK/my.jsonl")"
sleep 1
expect_eq "mysql resumed: the gauge says running" 0 "$(metric tributary_source_paused shopdb)"
stop_consumer
expect_eq "mysql: SIGTERM exits 0" 0 "$STOP_RC"
echo "# the binlog connection was lost and re-made $(grep -c 'binlog stream lost' "$WORK/run.log" || true) time(s) while paused or on resume"
grep 'binlog stream lost' "$WORK/run.log" | head -3 | sed 's/^/#   /'
jq -r 'select(.value != null) | .key.id' "$WORK/my.jsonl" | sort -n > "$WORK/my.ids"
once "mysql: paused, kill -9, restart, resumed" <(seq 1 1200) "$WORK/my.ids"
expect_no_sanitizer "mysql: no sanitizer report" "$WORK/run.log"

# ---- 3. PostgreSQL and MariaDB sources: MariaDB paused, PostgreSQL flows ---------------
pgc_psql -d postgres -q -c "SELECT 's' FROM pg_create_logical_replication_slot('p86b', 'tributary')" >/dev/null
binlog_now
control_config b86 "sources:
$(pg_yaml p86b)
$(my_yaml)" "$WORK/bckpt" archive="$WORK/b.jsonl"
# of CONNECTOR: the ids of that source's rows in the sink, sorted.
of() {
    jq -r --arg c "$1" 'select(.value != null and .value.source.connector == $c) | .key.id' \
        "$WORK/b.jsonl" 2>/dev/null | sort -n
}
start
pgwriter 1001 1150 &
WRITER_PID=$!
mywriter 2001 2010
wait_rows 10 of mysql
api_tok "both: pause the MariaDB source" 200 POST /api/v1/sources/shopdb/pause
sleep 1
nm=$(of mysql | wc -l)
np=$(of postgresql | wc -l)
mywriter 2011 2400
sleep 6
expect_eq "both: MariaDB paused, none of its rows more" "$nm" "$(of mysql | wc -l)"
expect_eq "both: PostgreSQL flows meanwhile" t "$([ "$(of postgresql | wc -l)" -gt "$np" ] && echo t || echo f)"
expect_eq "both: /metrics, shopdb paused, main not" "1 0" \
    "$(metric tributary_source_paused shopdb) $(metric tributary_source_paused main)"
api_tok "both: resume" 200 POST /api/v1/sources/shopdb/resume
wait "$WRITER_PID"
WRITER_PID=
for _ in $(seq 1 600); do
    [ "$(of mysql | wc -l)" -ge 400 ] && [ "$(of postgresql | wc -l)" -ge 150 ] && break
    sleep 0.1
done
stop_consumer
expect_eq "both: SIGTERM exits 0" 0 "$STOP_RC"
of mysql > "$WORK/b.my"
of postgresql > "$WORK/b.pg"
once "both: MariaDB's rows" <(seq 2001 2400) "$WORK/b.my"
once "both: PostgreSQL's rows" <(seq 1001 1150) "$WORK/b.pg"
expect_no_grep "the walsender never timed out" "$PGC_DIR/server.log" \
    'terminating walsender process due to replication timeout'
expect_absent "the token is never logged" "$TOKEN" "$WORK/run.log"
expect_no_sanitizer "no sanitizer report" "$WORK/run.log"
e2e_finish
