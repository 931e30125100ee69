# shellcheck shell=bash disable=SC2034  # sourced: sets END, DSN, MOCK_PID, BOOT for its callers
# bench/lib/w1.sh: workload W1 (../shared/bench/README.md) for the
# end-to-end benchmarks that time the consumer on copies of one template
# slot (bench/transforms.sh, bench/schema.sh).  Sourced after
# scripts/lib/pgcluster.sh, with ROOT, ROWS, BIN and TOOLS set.
#
#   w1_load [SQL...]   start a cluster, create the W1 table, run each SQL
#                      (e.g. CREATE EXTENSION), make the template slot
#                      `tmpl`, load ROWS rows in one transaction; sets END
#                      (the LSN after the load) and DSN
#   w1_mock_start      librdkafka's mock cluster in its own process; sets
#                      MOCK_PID and BOOT
#   w1_run SLOT CFG LOG  copy `tmpl` to SLOT, run the consumer with CFG
#                      (its log to LOG) until SLOT is confirmed at END,
#                      stop it, drop SLOT; prints the seconds it took
#                      (a caller that defines w1_on_confirmed gets SLOT and
#                      the consumer's PID once the slot is confirmed, before
#                      the consumer is stopped: bench/transforms.sh reads
#                      its threads' CPU time there)
SHARED=$ROOT/../shared/bench
[ -f "$SHARED/workload.sql" ] || SHARED=/work/shared/bench

w1_load() {
    local sql
    make -s -C "$ROOT/consumer" build >/dev/null
    pgc_start "shared_buffers = 1GB" "max_wal_size = 20GB" "checkpoint_timeout = 1h" "autovacuum = off"
    chmod 777 "$PGC_DIR"
    pgc_psql -d postgres -f "$SHARED/workload.sql" >/dev/null
    for sql in "$@"; do pgc_psql -d postgres -c "$sql" >/dev/null; done
    pgc_psql -d postgres -c "SELECT 't' FROM pg_create_logical_replication_slot('tmpl', 'test_decoding')" >/dev/null
    echo "[w1 $(date +%T)] loading $ROWS rows in one transaction" >&2
    pgc_psql -d postgres -c "INSERT INTO public.bench_events(name, email, amount, active, meta)
        SELECT 'name'||g, 'user'||g||'@example.com', g*1.5, g%2=0, jsonb_build_object('k', g)
        FROM generate_series(1, $ROWS) g" >/dev/null
    END=$(pgc_psql -d postgres -Atc "SELECT pg_current_wal_lsn()")
    pgc_psql -d postgres -c CHECKPOINT >/dev/null
    DSN="host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres"
}

w1_mock_start() {
    "$TOOLS/kafka_mock_server" 1 > "$PGC_DIR/mock.out" 2>/dev/null &
    MOCK_PID=$!
    for _ in $(seq 1 50); do [ -s "$PGC_DIR/mock.out" ] && break; sleep 0.1; done
    BOOT=$(head -1 "$PGC_DIR/mock.out")
}

w1_run() {
    local slot=$1 cfg=$2 log=$3 t0 t1 pid c
    pgc_psql -d postgres -c "SELECT 'c' FROM pg_copy_logical_replication_slot('tmpl', '$slot', false, 'tributary')" >/dev/null
    t0=$(date +%s.%N)
    "$BIN" run -c "$cfg" 2>"$log" &
    pid=$!
    while :; do
        c=$(pgc_psql -d postgres -Atc "SELECT confirmed_flush_lsn >= '$END' FROM pg_replication_slots WHERE slot_name = '$slot'")
        [ "$c" = t ] && break
        kill -0 "$pid" 2>/dev/null || { echo "w1_run: the consumer died" >&2; cat "$log" >&2; exit 1; }
        sleep 0.05
    done
    t1=$(date +%s.%N)
    if declare -F w1_on_confirmed >/dev/null; then w1_on_confirmed "$slot" "$pid"; fi
    kill -TERM "$pid"; wait "$pid" || true
    # the walsender may outlive the consumer by a moment
    for _ in $(seq 1 100); do
        pgc_psql -d postgres -c "SELECT pg_drop_replication_slot('$slot')" >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo "$t1 - $t0" | bc
}
