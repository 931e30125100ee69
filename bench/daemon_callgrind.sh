#!/usr/bin/env bash
# bench/daemon_callgrind.sh: instructions per W1 event of the real daemon,
# stream path included (issue 15, target 1).
#
#   bench/daemon_callgrind.sh [OUTDIR]      (default /tmp/trib-daemon-cg)
#
# Unlike consumer/tools/replay_bench (records replayed from a file), this
# runs `tributary run` (Postgres source -> Kafka sink, the settings of
# bench/e2e.sh's W1) under callgrind --separate-threads=yes against a
# throwaway cluster (scripts/lib/pgcluster.sh) and a kafka_mock_server, so
# libpq, the reader thread and its queue, the XLogData parse, the split of
# batched CopyData messages, keepalives and syscalls are all counted.
#
# Two loads, each in its own slot created just before it: N1 (10,000) and
# N2 (30,000) W1 rows in one transaction.  For each the daemon runs until
# the slot is confirmed at the load's end LSN (every event acknowledged by
# Kafka and checkpointed), then gets SIGTERM.  Per event = (Ir at N2 - Ir
# at N1) / (N2 - N1), which cancels start-up and shutdown.  Prints, per
# thread kind and in total, the per-event figure, then the top functions
# (inclusive, whole process) per event; the callgrind files stay in OUTDIR.
# TRIBUTARY=PATH measures another binary.  REPLAY=1 also records each load
# with pg_recvlogical (a second slot, the daemon's plugin options) and runs
# consumer/tools/replay_bench on it under callgrind into the same mock, for
# the same table without the stream path (OUTDIR/replay).  ~1 minute, 2
# with REPLAY=1.
#
# LOAD=w2 measures W2 instead (issue 15, target 4): each load is N
# single-row UPDATE transactions (bench/e2e.sh's bench_w2 procedure over
# 1,000 rows), committed before the daemon starts, and the figures are per
# transaction.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
OUT=${1:-/tmp/trib-daemon-cg}
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
N1=${N1:-10000}
N2=${N2:-30000}
TOOLS=$ROOT/consumer/build/tools
SHARED=$ROOT/../shared/bench
[ -f "$SHARED/workload.sql" ] || SHARED=/work/shared/bench

MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; pgc_cleanup; }
trap cleanup EXIT
sql() { pgc_psql -d postgres -Atc "$1"; }

rm -rf "$OUT"; mkdir -p "$OUT"
pgc_start "shared_buffers = 256MB" "max_wal_size = 4GB" "autovacuum = off"
chmod 777 "$PGC_DIR"
pgc_psql -d postgres -f "$SHARED/workload.sql" >/dev/null
LOAD=${LOAD:-w1}
if [ "$LOAD" = w2 ]; then
    sql "INSERT INTO public.bench_events(name, email, amount, active, meta)
         SELECT 'name'||g, 'user'||g||'@example.com', g*1.5, g%2=0, jsonb_build_object('k', g)
         FROM generate_series(1, 1000) g" >/dev/null
    sql "CREATE OR REPLACE PROCEDURE public.bench_w2(n int, nrows bigint) LANGUAGE plpgsql AS \$\$
         BEGIN FOR i IN 1..n LOOP
           UPDATE public.bench_events SET amount = amount + 1 WHERE id = 1 + (i - 1) % nrows;
           COMMIT;
         END LOOP; END \$\$" >/dev/null
fi
"$TOOLS/kafka_mock_server" 1 > "$PGC_DIR/mock.out" 2>/dev/null &
MOCK_PID=$!
for _ in $(seq 1 50); do [ -s "$PGC_DIR/mock.out" ] && break; sleep 0.1; done
BOOT=$(head -1 "$PGC_DIR/mock.out")

# run N: a slot, N W1 rows in one transaction, the daemon under callgrind
# until the slot is confirmed at the end, then SIGTERM.
run() {
    local n=$1 slot="cg$1" end pid
    sql "SELECT 't' FROM pg_create_logical_replication_slot('$slot', 'tributary')" >/dev/null
    [ -n "${REPLAY:-}" ] && sql "SELECT 't' FROM pg_create_logical_replication_slot('rp$n', 'tributary')" >/dev/null
    if [ "$LOAD" = w2 ]; then
        sql "CALL public.bench_w2($n, 1000)" >/dev/null
    else
        sql "INSERT INTO public.bench_events(name, email, amount, active, meta)
         SELECT 'name'||g, 'user'||g||'@example.com', g*1.5, g%2=0, jsonb_build_object('k', g)
         FROM generate_series(1, $n) g" >/dev/null
    fi
    end=$(sql "SELECT pg_current_wal_lsn()")
    cat > "$PGC_DIR/$slot.yaml" <<YAML
pipeline: $slot
sources:
  main:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres"
    slot: $slot
    create_slot: false
    snapshot: never
    status_interval_ms: 100
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: $slot
checkpoint:
  store: file
  path: $PGC_DIR/$slot.ckpt
http:
  enabled: false
log:
  level: warn
YAML
    mkdir -p "$OUT/$n"
    valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$OUT/$n/callgrind.out.%p" \
        "$BIN" run -c "$PGC_DIR/$slot.yaml" 2>"$OUT/$n/log" &
    pid=$!
    sql "DO \$\$
DECLARE c pg_lsn;
BEGIN
  FOR i IN 1..60000 LOOP
    SELECT confirmed_flush_lsn INTO c FROM pg_replication_slots WHERE slot_name = '$slot';
    EXIT WHEN c >= '$end';
    PERFORM pg_sleep(0.01);
  END LOOP;
  IF c < '$end' THEN RAISE EXCEPTION 'slot $slot not confirmed at $end'; END IF;
END \$\$" >/dev/null
    kill -TERM "$pid"; wait "$pid" || true
    sql "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    [ -n "${REPLAY:-}" ] || return 0
    # the options the daemon sets that shape W1's records (source_pg.c)
    pgc_as "$PGBIN/pg_recvlogical" -h "$PGC_SOCK" -p "$PGC_PORT" -U postgres -d postgres \
        -S "rp$n" --start -E "$end" -o include-transaction=on -f "$PGC_DIR/rp$n.jsonl"
    sql "SELECT pg_drop_replication_slot('rp$n')" >/dev/null
    mkdir -p "$OUT/replay/$n"
    valgrind --tool=callgrind --separate-threads=yes \
        --callgrind-out-file="$OUT/replay/$n/callgrind.out.%p" \
        "$TOOLS/replay_bench" "$PGC_DIR/rp$n.jsonl" "$BOOT" >"$OUT/replay/$n/log" 2>&1
}
run "$N1"
run "$N2"
python3 "$ROOT/bench/lib/cg_threads.py" "$OUT/$N1" "$OUT/$N2" $((N2 - N1))
if [ -n "${REPLAY:-}" ]; then
    echo; echo "replay_bench on the same records:"
    python3 "$ROOT/bench/lib/cg_threads.py" "$OUT/replay/$N1" "$OUT/replay/$N2" $((N2 - N1))
fi
