#!/usr/bin/env bash
# 05_standby_takeover.sh: two consumers of one pipeline.  The first holds
# the pipeline's advisory lock and streams; the second waits as standby,
# retrying every second.  When the first is killed (-9), its session ends,
# the lock is released, and the standby takes over within 10 s, retrying
# while the old walsender still holds the slot.  With the checkpoint in the
# catalog (tributary.checkpoint_save) the combined output has every change
# exactly once.
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
# shellcheck source=lib.sh
source "$ROOT/consumer/test/e2e/lib.sh"

build_tool
pgc_start
DSN="host=127.0.0.1 port=$PGC_PORT user=postgres dbname=postgres"

pgc_psql -q >/dev/null <<'SQL'
CREATE EXTENSION tributary;
CREATE TABLE t (id int PRIMARY KEY, v text);
SELECT pg_create_logical_replication_slot('s1', 'tributary');
SELECT pg_copy_logical_replication_slot('s1', 'witness');
SQL

# start_consumer NAME: a consumer of pipeline "orders" with the catalog
# checkpoint store, writing to the shared output file.
start_consumer() {
    "$TOOL" --dsn "$DSN" --slot s1 --pipeline orders --leader --checkpoint-catalog \
        --output "$WORK/out.jsonl" --status-ms 100 2>"$WORK/$1.log" &
}
# wait_log FILE TEXT SECONDS
wait_log() {
    local i
    for i in $(seq 1 $(($3 * 10))); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    return 1
}
load() {
    pgc_psql -q >/dev/null <<SQL
DO \$\$ BEGIN
  FOR i IN $1..$2 LOOP INSERT INTO t VALUES (i, 'v' || i); COMMIT; PERFORM pg_sleep(0.003); END LOOP;
END \$\$;
SQL
}

start_consumer a; A_PID=$!
wait_log "$WORK/a.log" "^pgsource_cat: streaming" 10 || true
start_consumer b; B_PID=$!
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
expect_eq "across the takeover every change once (count)" "$expected" "$(wc -l <"$WORK/out.ids")"
expect_eq "no change twice" "" "$(uniq -d "$WORK/out.ids" | head -3 | tr '\n' ' ')"
expect_eq "ids equal the witness's" "" "$(comm -3 "$WORK/witness.ids" "$WORK/out.ids" | head -3 | tr '\n' ' ')"
echo "takeover took ${took_ms} ms"
expect_eq "no sanitizer report from the tool" "" "$(grep -l 'Sanitizer\|runtime error' "$WORK"/*.log 2>/dev/null | tr '\n' ' ')"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
