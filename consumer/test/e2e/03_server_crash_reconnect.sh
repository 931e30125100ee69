#!/usr/bin/env bash
# 03_server_crash_reconnect.sh: PostgreSQL restarts in immediate mode (a
# crash) while the consumer streams.  The consumer reconnects with backoff,
# passes resume-after again, and delivers every change of a witness slot
# exactly once although the server restarts decoding from an older
# confirmed position.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
# shellcheck source=../../../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
WORK=$(mktemp -d)
TOOL_PID=
cleanup() {
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
CREATE TABLE t (id int PRIMARY KEY, v text);
SELECT pg_create_logical_replication_slot('s1', 'tributary');
SELECT pg_copy_logical_replication_slot('s1', 'witness');
SQL

# load FIRST LAST: one transaction per row, a few ms apart.
load() {
    pgc_psql -q >/dev/null 2>&1 <<SQL || true
DO \$\$ BEGIN
  FOR i IN $1..$2 LOOP
    INSERT INTO t VALUES (i, 'v' || i);
    IF i % 10 = 0 THEN UPDATE t SET v = 'u' WHERE id = i - 1; END IF;
    COMMIT;
    PERFORM pg_sleep(0.005);
  END LOOP;
END \$\$;
SQL
}

"$TOOL" --dsn "$DSN" --slot s1 --output "$WORK/out.jsonl" --checkpoint "$WORK/ck.json" \
    --status-ms 100 2>"$WORK/tool.log" &
TOOL_PID=$!
load 1 300 &
LOAD_PID=$!
sleep 0.7
# Crash the server while the tool streams and the load writes.
pgc_as "$PGBIN/pg_ctl" -D "$PGC_DIR/data" -m immediate -w -t 60 restart \
    -l "$PGC_DIR/server.log" >/dev/null
wait "$LOAD_PID" || true
load 1001 1200
alive=$(kill -0 "$TOOL_PID" 2>/dev/null && echo yes || echo no)

witness_ids witness | sort >"$WORK/witness.ids"
expected=$(wc -l <"$WORK/witness.ids")
wait_lines "$WORK/out.jsonl" "$expected" 30 || true
sleep 0.5
ids_of "$WORK/out.jsonl" | sort >"$WORK/out.ids"

expect_eq "the tool survived the server crash" "yes" "$alive"
expect_eq "it saw the connection drop and reconnected" "yes" \
    "$(grep -q 'connection lost\|retrying' "$WORK/tool.log" && echo yes || echo no)"
expect_eq "changes before and after the crash" "yes" \
    "$([ "$expected" -gt 220 ] && echo yes || echo "no ($expected)")"
expect_eq "every change once (count)" "$expected" "$(wc -l <"$WORK/out.ids")"
expect_eq "no change twice" "" "$(uniq -d "$WORK/out.ids" | head -3 | tr '\n' ' ')"
expect_eq "ids equal the witness's" "" "$(comm -3 "$WORK/witness.ids" "$WORK/out.ids" | head -3 | tr '\n' ' ')"
kill "$TOOL_PID"; wait "$TOOL_PID" 2>/dev/null || true; TOOL_PID=
expect_eq "no sanitizer report from the tool" "" "$(grep -l 'Sanitizer\|runtime error' "$WORK"/*.log 2>/dev/null | tr '\n' ' ')"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
