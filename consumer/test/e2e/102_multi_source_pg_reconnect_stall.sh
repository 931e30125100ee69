#!/usr/bin/env bash
# 102_multi_source_pg_reconnect_stall.sh: one pipeline, a PostgreSQL
# source and a MariaDB source (real servers) into a file sink; the
# PostgreSQL source must reconnect while its server is stalled.  Issue 13:
# "a stalled or down source leaves the others flowing".
#
# How the reconnection meets a stalled server, every time: the postmaster
# is frozen (SIGSTOP), then the walsender is told to end (SIGTERM; it
# exits without the postmaster).  The source sees its stream end and
# reconnects; the kernel still accepts the connection on the postmaster's
# socket, and nothing answers it until connect_timeout (10 s) ends each
# attempt.  That reconnection runs off the pipeline's loop
# (source/pg/source_pg_reconnect.c), so:
#   1. with PostgreSQL stalled, MariaDB's changes arrive within 5 s, at
#      the first attempt and again after the attempts timed out (> 10 s);
#   2. once PostgreSQL is thawed (SIGCONT), the source streams again and
#      the changes of both sources made meanwhile arrive;
#   3. SIGTERM while a reconnection hangs on the stalled server exits 0
#      within 5 s;
#   4. after a restart, every change of both sources, exactly once.
# And before that:
#   0. with the backend of the source's heartbeat connection frozen while
#      the source streams, the heartbeat (every 300 ms) gets no answer; it
#      is awaited off the loop (source/pg/source_pg_heartbeat.c), so
#      MariaDB's changes arrive within 5 s.  (The whole server frozen
#      would stop the pipeline by design: its lock lives there.)
# The last line is `N passed, N failed`.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=mysql_snapshot_lib.sh
source "$ROOT/consumer/test/e2e/mysql_snapshot_lib.sh"
# shellcheck source=stall_lib.sh
source "$ROOT/consumer/test/e2e/stall_lib.sh"
e2e_init
trap '[ -n "${PGC_PID:-}" ] && kill -CONT "$PGC_PID" ${HB_PID:-} 2>/dev/null; e2e_cleanup' EXIT

multi_source_servers <<'SQL'
CREATE TABLE shop.orders (id BIGINT PRIMARY KEY, v VARCHAR(40));
SQL

cat >"$WORK/p.yaml" <<YAML
$(multi_source_yaml m102 10201 "    heartbeat_interval_ms: 300
    reconnect_backoff_ms: {initial: 100, max: 500}")
$(archive_yaml "$WORK/out.jsonl" "$WORK/checkpoint.json")
YAML
"$BIN" check -c "$WORK/p.yaml" --offline >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }

# my_insert_wait ID: MariaDB inserts row ID, and it is waited for (insert_wait).
my_insert_wait() { insert_wait mysql "orders:$1" mdb_sql shop -e "INSERT INTO orders VALUES ($1, 'row $1')"; }
pg_insert() { pgc_psql -d postgres -q -c "INSERT INTO items VALUES ($1, 'row $1')"; }
# stall_pg: freeze the postmaster, end the walsender: the source reconnects
# to a server that does not answer.
stall_pg() {
    local ws
    ws=$(pgc_psql -d postgres -At -c "SELECT active_pid FROM pg_replication_slots WHERE slot_name = 'm102'")
    kill -STOP "$PGC_PID"
    kill -TERM "$ws"
}
lost_count() { grep -c "replication connection lost" "$WORK/run.log" || true; }
# until_lost N: wait (10 s at most) until the log tells of N lost connections.
until_lost() {
    for _ in $(seq 1 100); do
        [ "$(lost_count)" -ge "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

start_consumer
wait_slot_active m102 || { echo "the pipeline did not start streaming"; cat "$WORK/run.log"; exit 1; }
pg_insert 1
mdb_sql shop -e "INSERT INTO orders VALUES (1, 'first')"
until_id postgresql items:1 && until_id mysql orders:1 ||
    { echo "the first changes did not arrive"; cat "$WORK/run.log"; exit 1; }

# ---- 0: the heartbeat's backend frozen while the source streams
for _ in $(seq 1 50); do
    HB_PID=$(pgc_psql -d postgres -At -c \
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'tributary-heartbeat'")
    [ -n "$HB_PID" ] && break
    sleep 0.1
done
expect_match "the source's heartbeat connection is there" "^[0-9]+$" "$HB_PID"
kill -STOP "$HB_PID"
sleep 1                         # a heartbeat is now unanswered
my_insert_wait 6
expect_within "with the heartbeat unanswered, MariaDB's change arrives" "$ELAPSED"
kill -CONT "$HB_PID"

# ---- 1: PostgreSQL stalled while its source reconnects
pg_insert 2                     # made just before the stall
sleep 0.5
stall_pg
t_stall=$(now_ms)
until_lost 1 || true
expect_eq "the PostgreSQL source lost its stream and reconnects" 1 "$(lost_count)"
sleep 1                         # the reconnection now hangs on the server
my_insert_wait 2
expect_within "with PostgreSQL stalled, MariaDB's change arrives" "$ELAPSED"
while [ $(( $(now_ms) - t_stall )) -lt 12000 ]; do sleep 0.2; done
my_insert_wait 3
expect_within "after the first attempt timed out, MariaDB's change still arrives" "$ELAPSED"
expect_grep "an attempt ended at connect_timeout and was retried" "$WORK/run.log" \
    "connection failed: .*timeout expired"

# ---- 2: thawed: the source streams again
kill -CONT "$PGC_PID"
pg_insert 3
mdb_sql shop -e "INSERT INTO orders VALUES (4, 'after the thaw')"
until_id postgresql items:3 30 && until_id mysql orders:4 30 || true
expect_eq "after the thaw, PostgreSQL's changes arrive" "items:1 items:2 items:3" "$(ids postgresql)"
expect_eq "MariaDB's changes, each once" "orders:1 orders:2 orders:3 orders:4 orders:6" "$(ids mysql)"

# ---- 3: SIGTERM while a reconnection hangs on the stalled server
pg_insert 4
until_id postgresql items:4 30 || true
stall_pg
until_lost 2 || true
sleep 1
stop_while_frozen "$PGC_PID" "during the reconnection"

# ---- 4: a restart: everything once
pg_insert 5
mdb_sql shop -e "INSERT INTO orders VALUES (5, 'after the restart')"
start_consumer
until_id postgresql items:5 30 && until_id mysql orders:5 30 || true
stop_consumer
expect_eq "every PostgreSQL change once" "items:1 items:2 items:3 items:4 items:5" "$(ids postgresql)"
expect_eq "every MariaDB change once" "orders:1 orders:2 orders:3 orders:4 orders:5 orders:6" "$(ids mysql)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
