#!/usr/bin/env bash
# bench/e2e.sh: end-to-end benchmark of the tributary consumer against the
# peer pipeline of the shared bench README (`make bench-e2e`).
#
# W1: 1,000,000 rows in one transaction (ROWS to change).  A template slot
# is created before the load; every round copies it, so both sides decode
# exactly the same WAL:
#   - tributary: `tributary run` (Postgres source -> Kafka sink, file
#     checkpoint store, fresh per round) until the slot is confirmed at the
#     end LSN, which happens only once every event is acknowledged by Kafka;
#   - peer: `pg_recvlogical -P wal2json -o format-version=2 -E <end> -f - |
#     kcat -P`, until kcat exits (it flushes every message first).
# Kafka is librdkafka's mock cluster in a process of its own
# (consumer/tools/kafka_mock_server), the same one for both sides.  Rounds
# alternate A B / B A; the median of ROUNDS (default 5) is reported with the
# ratio, and the consumer's peak RSS (VmHWM).  Results replace the
# `bench-e2e` section of docs/BENCHMARKS.md.  PERF_OUT=FILE records a perf
# profile of the consumer for 4 s of each round.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-5}
DOC=${BENCH_DOC:-$ROOT/docs/BENCHMARKS.md}
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
TOOLS=$ROOT/consumer/build/tools
SHARED=$ROOT/../shared/bench
[ -f "$SHARED/workload.sql" ] || SHARED=/work/shared/bench

MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; pgc_cleanup; }
trap cleanup EXIT
log() { echo "[bench-e2e $(date +%T)] $*" >&2; }

make -s -C "$ROOT/consumer" build >/dev/null
command -v kcat >/dev/null || { echo "bench-e2e: kcat is missing (scripts/install-deps)" >&2; exit 2; }
pgc_start "shared_buffers = 1GB" "max_wal_size = 20GB" "checkpoint_timeout = 1h" "autovacuum = off"
chmod 777 "$PGC_DIR"
pgc_psql -d postgres -f "$SHARED/workload.sql" >/dev/null
pgc_psql -d postgres -c "SELECT 't' FROM pg_create_logical_replication_slot('tmpl', 'test_decoding')" >/dev/null
log "loading $ROWS rows in one transaction"
pgc_psql -d postgres -c "INSERT INTO public.bench_events(name, email, amount, active, meta)
    SELECT 'name'||g, 'user'||g||'@example.com', g*1.5, g%2=0, jsonb_build_object('k', g)
    FROM generate_series(1, $ROWS) g" >/dev/null
END=$(pgc_psql -d postgres -Atc "SELECT pg_current_wal_lsn()")
pgc_psql -d postgres -c CHECKPOINT >/dev/null

"$TOOLS/kafka_mock_server" 1 > "$PGC_DIR/mock.out" 2>/dev/null &
MOCK_PID=$!
for _ in $(seq 1 50); do [ -s "$PGC_DIR/mock.out" ] && break; sleep 0.1; done
BOOT=$(head -1 "$PGC_DIR/mock.out")

now() { date +%s.%N; }

# run_tributary ROUND: prints "seconds peak_rss_kib"
run_tributary() {
    local r=$1 slot=tributary_b$1 cfg=$PGC_DIR/b$1.yaml t0 t1 pid hwm=0 c
    pgc_psql -d postgres -c "SELECT 'c' FROM pg_copy_logical_replication_slot('tmpl', '$slot', false, 'tributary')" >/dev/null
    cat > "$cfg" <<EOF
pipeline: b$r
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
    topic_prefix: b$r
checkpoint:
  store: file
  path: $PGC_DIR/b$r.ckpt
http:
  enabled: false
log:
  level: warn
EOF
    t0=$(now)
    "$BIN" run -c "$cfg" 2>"$PGC_DIR/b$r.log" &
    pid=$!
    if [ -n "${PERF_OUT:-}" ]; then
        perf record -g -o "$PERF_OUT" -p "$pid" -- sleep 4 >/dev/null 2>&1 &
    fi
    while :; do
        c=$(pgc_psql -d postgres -Atc "SELECT confirmed_flush_lsn >= '$END' FROM pg_replication_slots WHERE slot_name = '$slot'")
        [ "$c" = t ] && break
        h=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        [ "${h:-0}" -gt "$hwm" ] && hwm=$h
        kill -0 "$pid" 2>/dev/null || { echo "bench-e2e: the consumer died" >&2; cat "$PGC_DIR/b$r.log" >&2; exit 1; }
        sleep 0.05
    done
    t1=$(now)
    h=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
    [ "${h:-0}" -gt "$hwm" ] && hwm=$h
    kill -TERM "$pid"; wait "$pid" || true
    pgc_psql -d postgres -c "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    echo "$(echo "$t1 - $t0" | bc) $hwm"
}

# run_peer ROUND: prints "seconds"
run_peer() {
    local slot=peer_b$1 t0 t1
    pgc_psql -d postgres -c "SELECT 'c' FROM pg_copy_logical_replication_slot('tmpl', '$slot', false, 'wal2json')" >/dev/null
    t0=$(now)
    pgc_as "$PGBIN/pg_recvlogical" -h "$PGC_SOCK" -p "$PGC_PORT" -U postgres -d postgres \
        -S "$slot" --start -E "$END" -o format-version=2 -f - |
        kcat -P -b "$BOOT" -t "peer_b$1" -X linger.ms=5 2>/dev/null
    t1=$(now)
    pgc_psql -d postgres -c "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    echo "$t1 - $t0" | bc
}

trib=() peer=() rss=()
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
        out=$(run_tributary "$r"); p=$(run_peer "$r")
    else
        p=$(run_peer "$r"); out=$(run_tributary "$r")
    fi
    trib+=("${out% *}"); rss+=("${out#* }"); peer+=("$p")
    log "round $r: tributary ${out% *} s (peak RSS ${out#* } KiB), peer $p s"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mt=$(median "${trib[@]}"); mp=$(median "${peer[@]}")
maxrss=$(printf '%s\n' "${rss[@]}" | sort -g | tail -1)
ratio=$(echo "scale=3; $mt / $mp" | bc)
verdict=$(echo "$ratio <= 0.8" | bc)
rssmb=$((maxrss / 1024))

section=$(cat <<EOF
<!-- bench-e2e:start -->
## End to end: PostgreSQL to Kafka (W1, \`make bench-e2e\`)

Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/e2e.sh\`. Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'). $ROWS rows in one transaction, $ROUNDS rounds alternating. Kafka: librdkafka's mock cluster in its own process, shared by both sides.

- tributary: \`tributary run\`, Postgres source -> Kafka sink (idempotent producer, acks=all), until the slot is confirmed at the end LSN (every event acknowledged by Kafka).
- peer: \`pg_recvlogical -P wal2json -o format-version=2 -f - | kcat -P\`, until kcat exits.

| pipeline | median s | all rounds (s) |
|---|---:|---|
| tributary | $mt | ${trib[*]} |
| peer (wal2json + kcat) | $mp | ${peer[*]} |

- Target tributary <= 0.8 x peer: **$([ "$verdict" = 1 ] && echo PASS || echo MISS)**: $mt s / $mp s = $ratio
- Consumer peak RSS (VmHWM): $rssmb MiB (target <= 256 MiB: **$([ "$rssmb" -le 256 ] && echo PASS || echo MISS)**)
- Not measured yet: W2 (transactions/s), W3 (commit -> ack latency at 1,000 commits/s), W4 (10M rows), snapshot rate.
<!-- bench-e2e:end -->
EOF
)
if [ -f "$DOC" ] && grep -q '<!-- bench-e2e:start -->' "$DOC"; then
    python3 - "$DOC" "$section" <<'PYEOF'
import sys
p, sec = sys.argv[1], sys.argv[2]
s = open(p).read()
a = s.index('<!-- bench-e2e:start -->'); b = s.index('<!-- bench-e2e:end -->') + len('<!-- bench-e2e:end -->')
open(p, 'w').write(s[:a] + sec + s[b:])
PYEOF
else
    printf '\n%s\n' "$section" >> "$DOC"
fi
echo "$section"
