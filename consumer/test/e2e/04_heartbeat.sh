#!/usr/bin/env bash
# 04_heartbeat.sh: while the captured tables are idle and WAL grows
# elsewhere, the heartbeat (a transactional logical message in its own
# transaction) lets the consumer confirm the slot forward; a consumer
# without heartbeat stays behind.  Heartbeats never reach the output.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
E2E_PIDS+=" TOOL2_PID"
TOOL2_PID=

build_tool
pgc_start
DSN=$(tcp_dsn)

pgc_psql -q >/dev/null <<'SQL'
CREATE TABLE captured (id int PRIMARY KEY);
CREATE DATABASE other;
SELECT pg_create_logical_replication_slot('hb', 'tributary');
SELECT pg_create_logical_replication_slot('nohb', 'tributary');
SQL
pgc_psql -d other -q -c "CREATE TABLE busy (id int)"

# Without heartbeat: WAL moves on in another database while the captured
# tables stay idle, and the slot cannot be confirmed past it.
"$TOOL" --dsn "$DSN" --slot nohb --pipeline nohbtest --status-ms 100 \
    --output "$WORK/nohb.jsonl" 2>"$WORK/nohb.log" &
TOOL2_PID=$!
sleep 0.5
pgc_psql -d other -q -c "INSERT INTO busy SELECT generate_series(1, 10000)"
target=$(pgc_psql -At -c "SELECT pg_current_wal_lsn()")
sleep 1.5
without=$(pgc_psql -At -c "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'nohb'")
kill "$TOOL2_PID"; wait "$TOOL2_PID" 2>/dev/null || true

# With heartbeat every 200 ms the slot follows.
"$TOOL" --dsn "$DSN" --slot hb --pipeline hbtest --heartbeat-ms 200 --status-ms 100 \
    --output "$WORK/hb.jsonl" 2>"$WORK/hb.log" &
TOOL_PID=$!
sleep 0.5
pgc_psql -d other -q -c "INSERT INTO busy SELECT generate_series(1, 10000)"
target=$(pgc_psql -At -c "SELECT pg_current_wal_lsn()")
advanced=no
for i in $(seq 1 50); do
    if [ "$(pgc_psql -At -c "SELECT confirmed_flush_lsn >= '$target' FROM pg_replication_slots WHERE slot_name = 'hb'")" = t ]; then
        advanced=yes; break
    fi
    sleep 0.1
done

expect_eq "without heartbeat the idle slot stays behind" "f" "$without"
expect_eq "heartbeat advances confirmed_flush_lsn while tables are idle" "yes" "$advanced"
expect_eq "heartbeats are not delivered as events" "0" "$(wc -l <"$WORK/hb.jsonl")"
pgc_psql -q -c "INSERT INTO captured VALUES (1)"
wait_lines "$WORK/hb.jsonl" 1 10 || true
expect_eq "a real change still arrives" "1" "$(grep -c '"table":"captured"' "$WORK/hb.jsonl")"
kill "$TOOL_PID"; wait "$TOOL_PID" 2>/dev/null || true; TOOL_PID=
# The heartbeats are in the WAL, with the pipeline's name as content.
expect_eq "heartbeat messages were emitted" "yes" \
    "$(pgc_psql -At -c "SELECT count(*) > 0 FROM pg_logical_slot_peek_changes('nohb', NULL, NULL)
        WHERE data::json->>'prefix' = 'tributary.heartbeat' AND data::json->>'content' = 'hbtest'" | sed 's/t/yes/;s/f/no/')"
expect_no_sanitizer "no sanitizer report from the tool" "$WORK"/*.log
e2e_finish
