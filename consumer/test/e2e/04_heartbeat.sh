#!/usr/bin/env bash
# 04_heartbeat.sh: while the captured tables are idle and WAL grows
# elsewhere, the heartbeat (a transactional logical message in its own
# transaction) lets the consumer confirm the slot forward; a consumer
# without heartbeat stays behind.  Heartbeats never reach the output.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=../../../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
WORK=$(mktemp -d)
TOOL_PID= TOOL2_PID=
cleanup() {
    [ -n "$TOOL2_PID" ] && kill -9 "$TOOL2_PID" 2>/dev/null || true
    [ -n "$TOOL_PID" ] && kill -9 "$TOOL_PID" 2>/dev/null || true
    pgc_cleanup
    rm -rf "$WORK"
}
trap cleanup EXIT
passed=0 failed=0
# expect_eq NAME EXPECTED ACTUAL
expect_eq() {
    if [ "$2" = "$3" ]; then echo "ok - $1"; passed=$((passed + 1))
    else echo "not ok - $1: expected [$2], got [$3]"; failed=$((failed + 1)); fi
}

# build_tool: the driver, through consumer/Makefile when it can, else gcc.
build_tool() {
    local c=$ROOT/consumer s=$ROOT/consumer/src libs
    libs=$(pkg-config --libs libpq yajl)
    if make -s -C "$c" -n tools >/dev/null 2>&1 && make -s -C "$c" tools >&2 &&
        [ -x "$c/build/pgsource_cat" ]; then
        TOOL=$c/build/pgsource_cat; return
    fi
    TOOL=$WORK/pgsource_cat
    if make -s -C "$c" build >/dev/null 2>&1 && [ -f "$c/build/libtributary.a" ]; then
        gcc -std=c11 -D_GNU_SOURCE -O1 -g ${E2E_CFLAGS:-} -I"$s" $(pkg-config --cflags libpq yajl) \
            "$c/test/tools/pgsource_cat.c" "$c/build/libtributary.a" $libs -o "$TOOL" && return
    fi
    gcc -std=c11 -D_GNU_SOURCE -O1 -g ${E2E_CFLAGS:-} -I"$s" $(pkg-config --cflags libpq yajl) \
        "$c/test/tools/pgsource_cat.c" "$s/pgrecord.c" "$s/source_pg.c" \
        "$s/checkpoint.c" "$s/leader.c" $([ -f "$s/event.c" ] && echo "$s/event.c") \
        ${TRIB_E2E_EXTRA_SRCS:-} $libs -o "$TOOL"
}

# ids_of FILE: the event ids of the tool's output, one per line.
ids_of() { sed -E 's/^\{"id":"([^"]+)".*/\1/' "$1"; }

# witness_ids SLOT: the ids of every change a copy of the slot decodes.
witness_ids() {
    pgc_psql -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq')
        FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('$1', NULL, NULL,
              'include-transaction', 'off')) x
        WHERE d->>'kind' IN ('insert','update','delete','truncate','message')
          AND coalesce(d->>'prefix', '') <> 'tributary.heartbeat'
          AND coalesce(d->>'schema', '') <> 'tributary'"
}

# wait_lines FILE N SECONDS: wait until FILE has N lines.
wait_lines() {
    local i
    for i in $(seq 1 $(($3 * 10))); do
        [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
        sleep 0.1
    done
    return 1
}

build_tool
pgc_start
DSN="host=127.0.0.1 port=$PGC_PORT user=postgres dbname=postgres"

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
expect_eq "no sanitizer report from the tool" "" "$(grep -l 'Sanitizer\|runtime error' "$WORK"/*.log 2>/dev/null | tr '\n' ' ')"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
