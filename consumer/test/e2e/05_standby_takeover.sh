#!/usr/bin/env bash
# 05_standby_takeover.sh: two consumers of one pipeline.  The first holds
# the pipeline's advisory lock and streams; the second waits as standby,
# retrying every second.  When the first is killed (-9), its session ends,
# the lock is released, and the standby takes over within 10 s, retrying
# while the old walsender still holds the slot.  With the checkpoint in the
# catalog (tributary.checkpoint_save) the combined output has every change
# exactly once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
E2E_PIDS+=" A_PID B_PID"
A_PID= B_PID=

build_tool
pgc_start
DSN=$(tcp_dsn)

pgc_psql -q >/dev/null <<'SQL'
CREATE EXTENSION tributary;
CREATE TABLE t (id int PRIMARY KEY, v text);
SELECT pg_create_logical_replication_slot('s1', 'tributary');
SELECT pg_copy_logical_replication_slot('s1', 'witness');
SQL

# start_tool NAME: a consumer of pipeline "orders" with the catalog
# checkpoint store, writing to the shared output file.
start_tool() {
    "$TOOL" --dsn "$DSN" --slot s1 --pipeline orders --leader --checkpoint-catalog \
        --output "$WORK/out.jsonl" --status-ms 100 2>"$WORK/$1.log" &
}
load() {
    pgc_psql -q >/dev/null <<SQL
DO \$\$ BEGIN
  FOR i IN $1..$2 LOOP INSERT INTO t VALUES (i, 'v' || i); COMMIT; PERFORM pg_sleep(0.003); END LOOP;
END \$\$;
SQL
}

start_tool a; A_PID=$!
wait_log "$WORK/a.log" "^pgsource_cat: streaming" 10 || true
start_tool b; B_PID=$!
sleep 2
b_waits=$(grep -q "waiting for leadership" "$WORK/b.log" && ! grep -q "leader of" "$WORK/b.log" && echo yes || echo no)
load 1 200
sleep 0.5
kill -9 "$A_PID"; wait "$A_PID" 2>/dev/null || true
t0=$(date +%s%N)
wait_log "$WORK/b.log" "^pgsource_cat: streaming" 15 || true
took_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
TOOL_PID=$B_PID
load 201 400

witness_ids witness | sort >"$WORK/witness.ids"
expected=$(wc -l <"$WORK/witness.ids")
wait_lines "$WORK/out.jsonl" "$expected" 30 || true
sleep 0.5
ckpt=$(pgc_psql -At -c "SELECT commit_lsn IS NOT NULL, position ? 'output_bytes' FROM tributary.checkpoint_get('orders', 's1')")
kill "$B_PID"; wait "$B_PID" 2>/dev/null || true; TOOL_PID=
ids_of "$WORK/out.jsonl" | sort >"$WORK/out.ids"

expect_eq "the second consumer waits as standby" "yes" "$b_waits"
expect_eq "the standby takes over within 10 s of the leader's death" "yes" \
    "$([ "$took_ms" -le 10000 ] && grep -q "leader of orders" "$WORK/b.log" && echo yes || echo "no (${took_ms} ms)")"
expect_eq "the checkpoint is in the catalog" "t|t" "$ckpt"
expect_ids_once "across the takeover every change once (count)"
echo "takeover took ${took_ms} ms"
expect_no_sanitizer "no sanitizer report from the tool" "$WORK"/*.log
e2e_finish
