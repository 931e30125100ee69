#!/usr/bin/env bash
# 03_server_crash_reconnect.sh: PostgreSQL restarts in immediate mode (a
# crash) while the consumer streams.  The consumer reconnects with backoff,
# passes resume-after again, and delivers every change of a witness slot
# exactly once although the server restarts decoding from an older
# confirmed position.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_tool
pgc_start
DSN=$(tcp_dsn)

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
expect_ids_once "every change once (count)"
kill "$TOOL_PID"; wait "$TOOL_PID" 2>/dev/null || true; TOOL_PID=
expect_no_sanitizer "no sanitizer report from the tool" "$WORK"/*.log
e2e_finish
