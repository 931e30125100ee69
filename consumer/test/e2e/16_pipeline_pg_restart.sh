#!/usr/bin/env bash
# 16_pipeline_pg_restart.sh: `tributary run` from PostgreSQL into a Postgres
# sink (another database of the same server) and a JSON Lines file sink,
# while PostgreSQL restarts in immediate mode (a crash: no shutdown
# checkpoint, every connection cut) twice under a write load.
#
# Every connection of the consumer is cut at once: the replication
# connection, the checkpoint store, the Postgres sink, and the session
# holding the pipeline's advisory lock.  Losing the lock means another
# consumer may take over, so the pipeline stops rather than risk two
# writers, and the process builds it again after a backoff (main.c), as a
# supervisor restarting it would: it waits for the lock, and resumes from
# the positions the sinks stored with their data.  The process itself
# never exits (the script would restart it, and reports it if it does).
# Result, exactly once: the target table equals the source row for row,
# and the file holds every change once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE DATABASE target" \
    "CREATE TABLE public.orders (id int PRIMARY KEY, customer text, amount numeric(30,10), doc jsonb, big text)" \
    "ALTER TABLE public.orders ALTER COLUMN big SET STORAGE EXTERNAL" \
    -- witness tributary_e2e3

write_pipeline e2e3 <<YAML
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn target)"
    create_tables: true
    batch_size: 50
  archive:
    type: file
    path: "$WORK/out.jsonl"
YAML

# The writer: 120 transactions; those that meet the crash fail, and the
# witness slot says which committed.
(
    for t in $(seq 1 120); do
        n=$(( (t * 7) % 15 + 2 ))
        pgc_psql -d postgres -c "BEGIN;
            INSERT INTO public.orders SELECT g, 'c''' || g, 123456789012345678.0123456789 + g,
                   jsonb_build_object('t', $t), CASE WHEN g % 5 = 0 THEN repeat('big', 5000) END
              FROM generate_series($t * 100, $t * 100 + $n - 1) g;
            UPDATE public.orders SET amount = amount + 1 WHERE id = $t * 100 + 5;
            DELETE FROM public.orders WHERE id = $t * 100 + 1;
            COMMIT;" >/dev/null 2>&1 || true
        sleep 0.05
    done
) &
WRITER_PID=$!

# supervise: if the consumer has exited, note its status and start it again.
EXITS=
supervise() {
    if ! kill -0 "$RUN_PID" 2>/dev/null; then
        local rc=0
        wait "$RUN_PID" || rc=$?
        EXITS="$EXITS $rc"
        sleep 0.5
        start_consumer
    fi
}
start_consumer
for round in 1 2; do
    for _ in $(seq 1 20); do supervise; sleep 0.1; done
    pgc_as "$PGBIN/pg_ctl" -D "$PGC_DIR/data" -m immediate -w -t 60 restart \
        -l "$PGC_DIR/server.log" >/dev/null
    echo "# immediate restart $round done"
done
while kill -0 "$WRITER_PID" 2>/dev/null; do supervise; sleep 0.1; done
wait "$WRITER_PID" || true
WRITER_PID=
for _ in $(seq 1 30); do supervise; sleep 0.1; done
expect_eq "the slot was confirmed to the end" t "$(slot_caught_up tributary_e2e3)"
supervise
echo "# consumer exits during the crashes:${EXITS:- none}"
expect_eq "the consumer survived both restarts without exiting" "" "$EXITS"
expect_eq "it rebuilt the pipeline after losing its database connection" t \
    "$(grep -q 'lost its database connection' "$WORK/run.log" && echo t || echo f)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

q="SELECT id, customer, amount, doc, md5(big) FROM public.orders ORDER BY id"
pgc_psql -d postgres -Atc "$q" > "$WORK/source.rows"
pgc_psql -d target -Atc "$q" > "$WORK/target.rows" || true
expect_eq "the source has rows" t "$([ "$(wc -l < "$WORK/source.rows")" -gt 500 ] && echo t || echo f)"
expect_eq "the Postgres sink equals the source, row for row" "" "$(diff "$WORK/source.rows" "$WORK/target.rows" | head -3)"

changes=$(pgc_psql -d postgres -Atc "SELECT count(*) FROM pg_logical_slot_peek_changes('witness', NULL, NULL)
    WHERE data::json->>'kind' IN ('insert','update','delete') AND data::json->>'table' = 'orders'")
grep '"value":{' "$WORK/out.jsonl" > "$WORK/lines" || true
expect_eq "the file sink holds every change" "$changes" "$(wc -l < "$WORK/lines")"
# A change is (source.sequence, key); none may appear twice.
paste -d' ' <(grep -o '"sequence":"\[[^]]*\]"' "$WORK/lines") <(grep -o '"key":{[^}]*}' "$WORK/lines") | sort | uniq -d > "$WORK/dups"
expect_eq "and none twice" 0 "$(wc -l < "$WORK/dups")"
echo "# $changes changes"
if grep -q "ERROR" "$WORK/run.log"; then echo "# errors logged:"; grep "ERROR" "$WORK/run.log" | cut -c1-200 | sort | uniq -c | head -5 || true; fi
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
