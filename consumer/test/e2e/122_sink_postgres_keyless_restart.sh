#!/usr/bin/env bash
# 122_sink_postgres_keyless_restart.sh: `tributary run` from PostgreSQL into
# a Postgres sink whose target table has no key (the source's is keyless
# under REPLICA IDENTITY FULL), while the server restarts in immediate mode
# (every connection cut, the target's batch in flight lost) twice under a
# write load.
#
# A keyless target cannot absorb a change applied twice: an insert twice is
# a second row, an update or delete twice changes another row equal to the
# first (the sink finds a row by its old image, LIMIT 1).  The rows are
# written so that such a repeat shows: several equal rows per value, and
# updates and deletes of one of them.  Exactly once means the target's
# rows, as a multiset, equal the source's.  (Source and target are
# databases of one server, as in e2e 16: the restart cuts both; the
# pipeline is built again and resumes from the position the sink stored
# with its data.)
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE DATABASE target" \
    "CREATE TABLE public.nokey (g int, v text, n int)" \
    "ALTER TABLE public.nokey REPLICA IDENTITY FULL"

write_pipeline e2e122 <<YAML
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn target)"
    create_tables: true
    batch_size: 50
YAML

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
expect_eq "the consumer streams from its slot" t "$(wait_slot_active tributary_e2e122 && echo t || echo f)"

# The writer: 120 transactions, each inserting equal rows in threes, then
# updating one of a group and deleting one of another (by ctid, so one of
# the equal rows).  Those that meet the restart fail.
(
    for t in $(seq 1 120); do
        n=$(( (t * 7) % 15 + 2 ))
        pgc_psql -d postgres -c "BEGIN;
            INSERT INTO public.nokey SELECT $t, 'v' || (g % 3), 0 FROM generate_series(1, $n) g;
            UPDATE public.nokey SET n = n + 1
             WHERE ctid = (SELECT ctid FROM public.nokey WHERE g = $t AND v = 'v1' LIMIT 1);
            DELETE FROM public.nokey
             WHERE ctid = (SELECT ctid FROM public.nokey WHERE g = $t - 1 AND v = 'v2' LIMIT 1);
            COMMIT;" >/dev/null 2>&1 || true
        sleep 0.05
    done
) &
WRITER_PID=$!

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
expect_eq "the slot was confirmed to the end" t "$(slot_caught_up tributary_e2e122)"
supervise
echo "# consumer exits during the restarts:${EXITS:- none}"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"

q="SELECT g, v, n FROM public.nokey ORDER BY g, v, n"
pgc_psql -d postgres -Atc "$q" > "$WORK/source.rows"
pgc_psql -d target -Atc "$q" > "$WORK/target.rows" || true
expect_eq "the source has rows, updated and deleted ones among them" t \
    "$([ "$(wc -l < "$WORK/source.rows")" -gt 500 ] && grep -q '|1$' "$WORK/source.rows" && echo t || echo f)"
expect_eq "the keyless target equals the source, each row as often (no change lost or applied twice)" \
    "" "$(diff "$WORK/source.rows" "$WORK/target.rows" | head -3)"
expect_eq "the consumer lost its connections mid-stream and resumed from the stored position" t \
    "$(grep -q 'lost its database connection' "$WORK/run.log" && grep -q 'resuming after event' "$WORK/run.log" && echo t || echo f)"
echo "# batches the sink retried after its connection closed: $(grep -c 'sink.postgres: .*retrying' "$WORK/run.log" || true)"
if grep -q "ERROR" "$WORK/run.log"; then echo "# errors logged:"; grep "ERROR" "$WORK/run.log" | cut -c1-200 | sort | uniq -c | head -5 || true; fi
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
