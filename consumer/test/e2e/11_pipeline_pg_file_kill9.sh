#!/usr/bin/env bash
# 11_pipeline_pg_file_kill9.sh: `tributary run` from PostgreSQL into a
# Postgres sink (another database) and a JSON Lines file sink, with the
# consumer killed (-9) at random points while a writer commits, and
# restarted each time.
#
# Both sinks store their position atomically with their data (the Postgres
# sink in the same transaction as the rows; the file sink in a sidecar
# written at each flush, cutting anything past it at open), so the result
# must be exactly once: the target table equals the source row for row, and
# the file holds every change once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE DATABASE target" \
    "CREATE TABLE public.orders (id int PRIMARY KEY, customer text, amount numeric(30,10), doc jsonb, tags text[], big text)" \
    "ALTER TABLE public.orders ALTER COLUMN big SET STORAGE EXTERNAL" \
    -- witness tributary_e2e2

write_pipeline e2e2 <<EOF
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn target)"
    create_tables: true
    batch_size: 50
  archive:
    type: file
    path: "$WORK/out.jsonl"
    rotate_bytes: 200000
EOF

# The writer: 50 transactions of inserts, an update that leaves the TOAST
# value unchanged, a delete, and large values.
writer() {
    local t n
    for t in $(seq 1 50); do
        n=$(( (t * 7) % 30 + 2 ))
        pgc_psql -d postgres -c "BEGIN;
            INSERT INTO public.orders SELECT g, 'c''' || g, 123456789012345678.0123456789 + g,
                   jsonb_build_object('t', $t, 'q', 'x\"y'), ARRAY['a,b', 'c\"d', NULL],
                   CASE WHEN g % 5 = 0 THEN repeat('big', 5000) END
              FROM generate_series($t * 1000, $t * 1000 + $n - 1) g;
            UPDATE public.orders SET amount = amount + 1 WHERE id = $t * 1000 + 5;
            DELETE FROM public.orders WHERE id = $t * 1000 + 1;
            COMMIT;" >/dev/null
        sleep 0.05
    done
}
writer &
WRITER_PID=$!

start_consumer
kill_while_writing
expect_eq "the slot was confirmed to the end after $KILLS kill(s)" t "$(slot_caught_up tributary_e2e2)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

q="SELECT id, customer, amount, doc, tags, md5(big) FROM public.orders ORDER BY id"
pgc_psql -d postgres -Atc "$q" > "$WORK/source.rows"
pgc_psql -d target -Atc "$q" > "$WORK/target.rows" || true
expect_eq "the source has rows" t "$([ "$(wc -l < "$WORK/source.rows")" -gt 300 ] && echo t || echo f)"
expect_eq "the Postgres sink equals the source, row for row" "" "$(diff "$WORK/source.rows" "$WORK/target.rows" | head -3)"

changes=$(pgc_psql -d postgres -Atc "SELECT count(*) FROM pg_logical_slot_peek_changes('witness', NULL, NULL)
    WHERE data::json->>'kind' IN ('insert','update','delete') AND data::json->>'table' = 'orders'")
# rotated segments first, oldest (highest number) first
for f in $(ls "$WORK"/out.jsonl.* 2>/dev/null | grep -v '\.pos$' | sort -t. -k3 -n -r) "$WORK/out.jsonl"; do
    cat "$f"
done | grep '"value":{' > "$WORK/lines" || true
expect_eq "the file sink holds every change" "$changes" "$(wc -l < "$WORK/lines")"
# A change is (source.sequence, key); none may appear twice.
paste -d' ' <(grep -o '"sequence":"\[[^]]*\]"' "$WORK/lines") <(grep -o '"key":{[^}]*}' "$WORK/lines") | sort | uniq -d > "$WORK/dups"
expect_eq "and none twice" 0 "$(wc -l < "$WORK/dups")"
expect_eq "the file sink rotated" t "$(ls "$WORK"/out.jsonl.1 >/dev/null 2>&1 && echo t || echo f)"
if grep -q "ERROR" "$WORK/run.log"; then echo "# errors logged:"; grep "ERROR" "$WORK/run.log" | cut -c1-160 | sort | uniq -c | head -5 || true; fi
echo "# $changes changes, $KILLS kills"
# A sanitizer build (make check-asan) reports into the consumer's log.
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
