#!/usr/bin/env bash
# 02_kill9_resume.sh: kill -9 the consumer at random points while changes
# stream, restart it each time from the checkpoint it wrote (file store),
# and check that the concatenated output holds every change of a witness
# slot exactly once, in order.  The output file is cut back to the size
# recorded in the checkpoint, so what was written after it is not repeated.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_tool
pgc_start "logical_decoding_work_mem = 64kB"
DSN=$(tcp_dsn)

pgc_psql -q >/dev/null <<'SQL'
CREATE TABLE acct (id int PRIMARY KEY, bal numeric, note text);
SELECT pg_create_logical_replication_slot('s1', 'tributary');
SELECT pg_copy_logical_replication_slot('s1', 'witness');
SQL

# The load: many small transactions of every kind and a few large ones
# (so kills also land inside a transaction), about four seconds long.
pgc_psql -q >/dev/null 2>&1 <<'SQL' &
DO $$
BEGIN
  FOR i IN 1..400 LOOP
    -- A non-transactional message right before a commit record would share
    -- its id with that transaction (its LSN is the record's end); see the
    -- report.  Emit it first in the transaction.
    IF i % 97 = 0 THEN PERFORM pg_logical_emit_message(false, 'app.nt', 'nt ' || i); END IF;
    INSERT INTO acct VALUES (i, i * 1.10, 'n' || i);
    IF i % 3 = 0 THEN UPDATE acct SET bal = bal + 1 WHERE id = i - 1; END IF;
    IF i % 7 = 0 THEN DELETE FROM acct WHERE id = i - 2; END IF;
    IF i % 50 = 0 THEN
      INSERT INTO acct SELECT 100000 * i + g, g, repeat('z', 50) FROM generate_series(1, 1500) g;
      PERFORM pg_logical_emit_message(true, 'app', 'big ' || i);
    END IF;
    COMMIT;
    PERFORM pg_sleep(0.008);
  END LOOP;
  TRUNCATE acct;
  INSERT INTO acct VALUES (-1, 0, 'done');
  COMMIT;
END $$;
SQL
LOAD_PID=$!

# run_tool: start the tool with the file checkpoint, in the background.
run_tool() {
    "$TOOL" --dsn "$DSN" --slot s1 --output "$WORK/out.jsonl" \
        --checkpoint "$WORK/ck.json" --status-ms 100 2>>"$WORK/tool.log" &
    TOOL_PID=$!
}

kills=0
for round in 1 2 3 4 5 6; do
    run_tool
    # A random point between 0.2 and 0.9 s into the run.
    sleep "0.$((RANDOM % 8 + 2))"
    kill -9 "$TOOL_PID"; wait "$TOOL_PID" 2>/dev/null || true; TOOL_PID=
    kills=$((kills + 1))
done
wait "$LOAD_PID"
run_tool

witness_ids witness | sort >"$WORK/witness.ids"
expected=$(wc -l <"$WORK/witness.ids")
wait_lines "$WORK/out.jsonl" "$expected" 60 || true
sleep 0.5
kill "$TOOL_PID"; wait "$TOOL_PID" 2>/dev/null || true; TOOL_PID=
ids_of "$WORK/out.jsonl" | sort >"$WORK/out.ids"

expect_eq "the tool was killed with -9 six times" "6" "$kills"
expect_eq "the load made many changes" "yes" "$([ "$expected" -gt 8000 ] && echo yes || echo "no ($expected)")"
expect_ids_once "after the kills, every change once (count)"
expect_eq "output is in id order" "" "$(ids_of "$WORK/out.jsonl" | perl -ne '
    my ($h, $l, $s) = /^([0-9A-F]+)\/([0-9A-F]+):(\d+)$/ or do { print "bad id $_"; exit };
    my $k = sprintf("%08X%08X%020d", hex($h), hex($l), $s);
    if (defined $p && $k le $p) { print "$.: $_"; exit } $p = $k;')"
expect_eq "every line is complete JSON" "0" "$(grep -vc '}$' "$WORK/out.jsonl" || true)"
expect_eq "restarts resumed from the checkpoint" "yes" \
    "$([ "$(grep -c 'resume-after' "$WORK/tool.log")" -ge 5 ] && echo yes || echo no)"
expect_no_sanitizer "no sanitizer report from the tool" "$WORK"/*.log
e2e_finish
