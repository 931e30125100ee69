#!/usr/bin/env bash
# bench/e2e.sh: end-to-end benchmarks of the tributary consumer, PostgreSQL
# to Kafka, on the reference workloads of the shared bench README
# (`make bench-e2e` runs W1 W2 W3, `make bench-w4` runs W4).
#
#   bench/e2e.sh [w1] [w2] [w3] [w4] [w1lin] [w1fmt]   default: w1 w2 w3
#
# W1: ROWS (1,000,000) rows in one transaction.  W2: W2_TX (100,000)
# single-row UPDATE transactions, committed before decoding starts.  For
# both, a template slot is created before the load and every round copies
# it, so every round decodes exactly the same WAL:
#   - tributary: `tributary run` (Postgres source -> Kafka sink, idempotent
#     producer with acks=all, file checkpoint store, fresh per round) until
#     the slot is confirmed at the end LSN, which happens only once every
#     event is acknowledged by Kafka and the checkpoint covers it;
#   - peer: `pg_recvlogical -P wal2json -o format-version=2 -E <end> -f - |
#     kcat -P`, until kcat exits (it flushes every message first);
#   - decode alone: `pg_recvlogical -P tributary -E <end> -f /dev/null`, the
#     walsender's share, against which issue 15 sets end to end (target 1:
#     <= 1.15 x; W2 says where the time goes with it).
# Rounds alternate A B C / C B A; the median of ROUNDS (default 5) is reported
# with the ratio, the consumer's peak RSS (VmHWM) and its CPU time.  The end
# of a tributary round is seen by one session that polls the slot every
# 10 ms from a DO loop (no process is started per poll).
#
# W3: for each rate of W3_RATES ("1000 10000"), single-row commits at that
# rate for W3_SECS (30) s (pgbench -R with a one-UPDATE script) while the
# consumer streams (and, with BASE_TRIBUTARY, again with that binary, the
# two alternating: a same-run comparison); the commit-to-ack latency is the consumer's own
# histogram tributary_commit_to_ack_seconds (commit timestamp of the
# transaction to the moment its last event is acknowledged by every sink;
# 1 ms buckets up to 20 ms), scraped from /metrics before and after the
# window (bench/lib/latency.py).  Targets (issue 15): p99 <= 10 ms at
# 1,000/s, <= 25 ms at 10,000/s.
#
# W4: W4_ROWS (10,000,000) rows in one transaction (W4_RUNS runs, default
# 1) against W4_BASE_ROWS (1,000,000; W4_BASE_RUNS runs, default 5): the
# consumer's and the walsender's peak RSS must not grow with the
# transaction; the highest peak of each size is compared.
#
# W1LIN (`make bench-lineage-record`): W1 with the lineage stage off and
# on (`lineage: enabled: true`, recording into the same server's catalog),
# alternating off/on and on/off in the same run; the target is on <= 1.02 x
# off (docs/LINEAGE.md, section 7).
#
# W1FMT: W1 with the Kafka sink's `format: tributary` and with `format:
# debezium` + `schemas.enable: true` (BENCH_FORMAT, default "debezium";
# its options in BENCH_FORMAT_YAML), alternating in the same run; the
# target (issue 17) is debezium <= 1.15 x tributary.  Its section is
# bench-format-e2e.
#
# Kafka is librdkafka's mock cluster in a process of its own
# (consumer/tools/kafka_mock_server), the same one for both sides.  Results
# replace the sections of docs/BENCHMARKS.md the run measured (bench-e2e-w1,
# -w2, -w3 inside bench-e2e; bench-e2e-w4).  PERF_OUT=FILE records a perf
# profile of the consumer for 4 s of each W1 round.
#
# BASE_TRIBUTARY=PATH (set by `make bench-regress BASE=REV`, bench/regress.sh)
# adds a third pipeline to every W1 and W2 round: the same `tributary run`
# with an older binary, on a copy of the same template slot, in the
# rotation.  Its section (bench-regress) gives current / base: the
# no-regression check of a change, measured in one run on one machine state.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
ROWS=${ROWS:-1000000}
W2_TX=${W2_TX:-100000}
W3_RATES=${W3_RATES:-${W3_RATE:-1000 10000}}
W3_SECS=${W3_SECS:-30}
W4_ROWS=${W4_ROWS:-10000000}
W4_BASE_ROWS=${W4_BASE_ROWS:-1000000}
W4_BASE_RUNS=${W4_BASE_RUNS:-5}
W4_RUNS=${W4_RUNS:-1}
ROUNDS=${ROUNDS:-5}
DOC=${BENCH_DOC:-$ROOT/docs/BENCHMARKS.md}
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
BASE_BIN=${BASE_TRIBUTARY:-}
BASE_REV=${BASE_REV:-$BASE_BIN}
TOOLS=$ROOT/consumer/build/tools
LIB=$ROOT/bench/lib
SHARED=$ROOT/../shared/bench
[ -f "$SHARED/workload.sql" ] || SHARED=/work/shared/bench
WORKLOADS=${*:-w1 w2 w3}
for w in $WORKLOADS; do
    case $w in w1|w2|w3|w4|w1lin|w1fmt) ;; *) echo "bench-e2e: unknown workload $w (w1 w2 w3 w4 w1lin w1fmt)" >&2; exit 2;; esac
done
has() { case " $WORKLOADS " in *" $1 "*) return 0;; esac; return 1; }

MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; pgc_cleanup; }
trap cleanup EXIT
log() { echo "[bench-e2e $(date +%T)] $*" >&2; }
now() { date +%s.%N; }
sql() { pgc_psql -d postgres -Atc "$1"; }
CLK_TCK=$(getconf CLK_TCK)

make -s -C "$ROOT/consumer" build >/dev/null
command -v kcat >/dev/null || { echo "bench-e2e: kcat is missing (scripts/install-deps)" >&2; exit 2; }
if has w3; then
    command -v pgbench >/dev/null || { echo "bench-e2e: pgbench is missing" >&2; exit 2; }
    command -v curl >/dev/null || { echo "bench-e2e: curl is missing (scripts/install-deps)" >&2; exit 2; }
fi
pgc_start "shared_buffers = 1GB" "max_wal_size = 20GB" "checkpoint_timeout = 1h" "autovacuum = off"
chmod 777 "$PGC_DIR"
pgc_psql -d postgres -f "$SHARED/workload.sql" >/dev/null

"$TOOLS/kafka_mock_server" 1 > "$PGC_DIR/mock.out" 2>/dev/null &
MOCK_PID=$!
for _ in $(seq 1 50); do [ -s "$PGC_DIR/mock.out" ] && break; sleep 0.1; done
BOOT=$(head -1 "$PGC_DIR/mock.out")

MACHINE="$(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), load average before the run $(cut -d' ' -f1-3 /proc/loadavg)"

# load_rows N: N rows into bench_events in one transaction.
load_rows() {
    sql "INSERT INTO public.bench_events(name, email, amount, active, meta)
         SELECT 'name'||g, 'user'||g||'@example.com', g*1.5, g%2=0, jsonb_build_object('k', g)
         FROM generate_series(1, $1) g" >/dev/null
}

# template NAME: a slot at the current position, copied by every round.
template() {
    sql "SELECT 't' FROM pg_create_logical_replication_slot('$1', 'test_decoding')" >/dev/null
}

# wait_confirmed SLOT LSN: return once the slot is confirmed at LSN; fail
# when the slot stays inactive for 30 s (the consumer died).
wait_confirmed() {
    sql "DO \$\$
DECLARE c pg_lsn; a bool; idle int := 0;
BEGIN
  LOOP
    SELECT confirmed_flush_lsn, active INTO c, a FROM pg_replication_slots WHERE slot_name = '$1';
    EXIT WHEN c >= '$2';
    IF a THEN idle := 0; ELSE idle := idle + 1; END IF;
    IF idle > 3000 THEN RAISE EXCEPTION 'slot $1 inactive for 30 s'; END IF;
    PERFORM pg_sleep(0.01);
  END LOOP;
END \$\$" >/dev/null
}

# write_config NAME SLOT [HTTP_PORT]: a pipeline config in $PGC_DIR/NAME.yaml
write_config() {
    local http="  enabled: false"
    [ -n "${3:-}" ] && http="  enabled: true
  listen: 127.0.0.1:$3"
    cat > "$PGC_DIR/$1.yaml" <<EOF
pipeline: $1
sources:
  main:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres"
    slot: $2
    create_slot: false
    snapshot: never
    status_interval_ms: 100
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: $1
${SINK_YAML:-}
checkpoint:
  store: file
  path: $PGC_DIR/$1.ckpt
http:
$http
log:
  level: warn
${EXTRA_YAML:-}
EOF
}

# proc_kib PID FIELD: a /proc/PID/status field in kB (0 when gone).
proc_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# proc_cpu PID: user+system CPU seconds of a process.
proc_cpu() { awk -v t="$CLK_TCK" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_tributary NAME TEMPLATE END [perf [BINARY]]: one round with BINARY
# (default $BIN).  Prints
# "seconds consumer_peak_rss_kib consumer_cpu_s walsender_peak_rss_kib".
run_tributary() {
    local name=$1 slot=$1 bin=${5:-$BIN} t0 t1 pid hwm cpu wpid whwm
    sql "SELECT 'c' FROM pg_copy_logical_replication_slot('$2', '$slot', false, 'tributary')" >/dev/null
    write_config "$name" "$slot"
    t0=$(now)
    "$bin" run -c "$PGC_DIR/$name.yaml" 2>"$PGC_DIR/$name.log" &
    pid=$!
    if [ -n "${4:-}" ] && [ -n "${PERF_OUT:-}" ]; then
        perf record -g -o "$PERF_OUT" -p "$pid" -- sleep 4 >/dev/null 2>&1 &
    fi
    if ! wait_confirmed "$slot" "$3"; then
        echo "bench-e2e: the consumer did not finish" >&2; cat "$PGC_DIR/$name.log" >&2; exit 1
    fi
    t1=$(now)
    hwm=$(proc_kib "$pid" VmHWM); cpu=$(proc_cpu "$pid")
    wpid=$(sql "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$slot'")
    whwm=$( [ -n "$wpid" ] && proc_kib "$wpid" VmHWM || echo 0)
    kill -TERM "$pid"; wait "$pid" || true
    sql "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    echo "$(echo "$t1 - $t0" | bc) $hwm $cpu ${whwm:-0}"
}

# run_peer NAME TEMPLATE END: one round; prints "seconds".
run_peer() {
    local slot=$1 t0 t1
    sql "SELECT 'c' FROM pg_copy_logical_replication_slot('$2', '$slot', false, 'wal2json')" >/dev/null
    t0=$(now)
    pgc_as "$PGBIN/pg_recvlogical" -h "$PGC_SOCK" -p "$PGC_PORT" -U postgres -d postgres \
        -S "$slot" --start -E "$3" -o format-version=2 -f - |
        kcat -P -b "$BOOT" -t "$1" -X linger.ms=5 2>/dev/null
    t1=$(now)
    sql "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    echo "$t1 - $t0" | bc
}

# run_decode NAME TEMPLATE END: one round of tributary's decode alone, the
# floor of end to end (issue 15, target 1): the same WAL through the
# tributary plugin with its defaults to `pg_recvlogical -f /dev/null`, as
# bench/decode.sh times it.  Prints "seconds".
run_decode() {
    local slot=$1 t0 t1
    sql "SELECT 'c' FROM pg_copy_logical_replication_slot('$2', '$slot', false, 'tributary')" >/dev/null
    t0=$(now)
    pgc_as "$PGBIN/pg_recvlogical" -h "$PGC_SOCK" -p "$PGC_PORT" -U postgres -d postgres \
        -S "$slot" --start -E "$3" -f /dev/null
    t1=$(now)
    sql "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    echo "$t1 - $t0" | bc
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
maxof() { printf '%s\n' "$@" | sort -g | tail -1; }

# alternate W TEMPLATE END [perf]: ROUNDS rounds of both pipelines and
# of the decode alone, A B C / C B A (with BASE_BIN, three pipelines
# rotated, A B C / B C A / C A B, and no decode-only round).  Sets the
# arrays TRIB PEER RSS CPU DEC, and BASE BCPU with BASE_BIN.
alternate() {
    local r out p b="" d="" order step
    TRIB=() PEER=() RSS=() CPU=() BASE=() BCPU=() DEC=()
    for r in $(seq 1 "$ROUNDS"); do
        if [ -z "$BASE_BIN" ]; then
            if [ $((r % 2)) = 1 ]; then order="t p d"; else order="d p t"; fi
        else
            case $((r % 3)) in 1) order="t b p";; 2) order="b p t";; 0) order="p t b";; esac
        fi
        for step in $order; do
            case $step in
                t) out=$(run_tributary "${1}t$r" "$2" "$3" "${4:-}");;
                p) p=$(run_peer "${1}p$r" "$2" "$3");;
                b) b=$(run_tributary "${1}b$r" "$2" "$3" "" "$BASE_BIN");;
                d) d=$(run_decode "${1}d$r" "$2" "$3");;
            esac
        done
        read -r s h c _ <<<"$out"
        TRIB+=("$s"); RSS+=("$h"); CPU+=("$c"); PEER+=("$p")
        [ -n "$d" ] && DEC+=("$d")
        log "$1 round $r: tributary $s s (consumer CPU $c s, peak RSS $h KiB), peer $p s${d:+, decode alone $d s}"
        if [ -n "$b" ]; then
            read -r s h c _ <<<"$b"
            BASE+=("$s"); BCPU+=("$c")
            log "$1 round $r: base tributary $s s (consumer CPU $c s)"
        fi
    done
}

verdict() { [ "$(echo "$1" | bc)" = 1 ] && echo PASS || echo MISS; }

# ab_rounds LABEL NAME TEMPLATE END ASSIGN: ROUNDS rounds of run_tributary
# as is ("off") and with the variable assignment ASSIGN exported ("on",
# e.g. SINK_YAML=...; PERF_OUT profiles these), alternating off/on, then
# on/off, on the same WAL.  Sets the arrays OFF ON (seconds) and COFF CON
# (consumer CPU seconds).
ab_rounds() {
    local r mode s c
    OFF=() ON=() COFF=() CON=()
    for r in $(seq 1 "$ROUNDS"); do
        for mode in $( [ $((r % 2)) = 1 ] && echo "off on" || echo "on off"); do
            if [ "$mode" = on ]; then
                read -r s _ c _ <<<"$(export "$5"; run_tributary "${2}on$r" "$3" "$4" perf)"
                ON+=("$s"); CON+=("$c")
            else
                read -r s _ c _ <<<"$(run_tributary "${2}off$r" "$3" "$4")"
                OFF+=("$s"); COFF+=("$c")
            fi
            log "$1 round $r: $mode $s s (consumer CPU $c s)"
        done
    done
}

# regress_row LABEL: a table row of this tree's binary against the base
# one, from the arrays alternate() filled.
regress_row() {
    local mt mb mp mc mbc
    mt=$(median "${TRIB[@]}"); mb=$(median "${BASE[@]}"); mp=$(median "${PEER[@]}")
    mc=$(median "${CPU[@]}"); mbc=$(median "${BCPU[@]}")
    echo "| $1 | $mt | $mb | $(echo "scale=3; $mt / $mb" | bc) | $mc | $mbc | $mp | $(echo "scale=3; $mt / $mp" | bc) | $(echo "scale=3; $mb / $mp" | bc) | **$(verdict "$mt <= $mb * 1.03")** |"
}
REGRESS_ROWS=()

section() { python3 "$LIB/doc_section.py" "$DOC" "$@"; }

WHEN=$(date -u '+%Y-%m-%d %H:%M UTC')

if has w1 || has w2 || has w3; then
    # the parent section of W1-W3, created once; its text outside the
    # workload sections is not generated
    grep -q '<!-- bench-e2e:start -->' "$DOC" 2>/dev/null || section bench-e2e <<'EOF'
<!-- bench-e2e:start -->
## End to end: PostgreSQL to Kafka (`make bench-e2e`)
<!-- bench-e2e:end -->
EOF
fi

if has w1; then
    template w1tmpl
    log "W1: loading $ROWS rows in one transaction"
    load_rows "$ROWS"
    END1=$(sql "SELECT pg_current_wal_lsn()")
    sql CHECKPOINT >/dev/null
    alternate w1 w1tmpl "$END1" perf
    mt=$(median "${TRIB[@]}"); mp=$(median "${PEER[@]}"); mc=$(median "${CPU[@]}")
    rss=$(( $(maxof "${RSS[@]}") / 1024 ))
    ratio=$(echo "scale=3; $mt / $mp" | bc)
    DEC_ROW="" DEC_TARGETS=""
    if [ ${#DEC[@]} -gt 0 ]; then
        md=$(median "${DEC[@]}"); dratio=$(echo "scale=3; $mt / $md" | bc)
        usev=$(echo "scale=2; $mc * 1000000 / $ROWS" | bc)
        DEC_ROW="| decode alone (tributary plugin, pg_recvlogical to /dev/null) | $md | ${DEC[*]} |"
        DEC_TARGETS="- Target (issue 15) end to end <= 1.15 x tributary's decode alone, same WAL, same run: **$(verdict "$dratio <= 1.15")**: $mt s / $md s = $dratio
- Target (issue 15) consumer CPU <= 1.2 us per event, all its threads: **$(verdict "$usev <= 1.2")**: $mc s / $ROWS events = $usev us"
    fi
    section bench-e2e-w1 bench-e2e <<EOF
<!-- bench-e2e-w1:start -->
### W1: $ROWS rows in one transaction

Measured $WHEN by \`bench/e2e.sh\`. Machine: $MACHINE. $ROUNDS rounds alternating.

| pipeline | median s | all rounds (s) |
|---|---:|---|
| tributary | $mt | ${TRIB[*]} |
| peer (wal2json + kcat) | $mp | ${PEER[*]} |
$DEC_ROW

- Target tributary <= 0.8 x peer: **$(verdict "$ratio <= 0.8")**: $mt s / $mp s = $ratio
$DEC_TARGETS
- Consumer peak RSS (VmHWM, highest of the rounds): $rss MiB (target <= 256 MiB: **$(verdict "$rss <= 256")**)
- Consumer CPU time (user + system, all its threads), median: $mc s; all rounds: ${CPU[*]}
<!-- bench-e2e-w1:end -->
EOF
    W1_RSS=$rss
    if [ -n "$BASE_BIN" ]; then REGRESS_ROWS+=("$(regress_row "W1 ($ROWS rows, one transaction)")"); fi
fi

if has w1lin; then
    sql "CREATE EXTENSION IF NOT EXISTS tributary" >/dev/null
    template wltmpl
    log "W1LIN: loading $ROWS rows in one transaction"
    load_rows "$ROWS"
    ENDL=$(sql "SELECT pg_current_wal_lsn()")
    sql CHECKPOINT >/dev/null
    LIN_YAML="lineage:
  enabled: true
  dsn: \"host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres\""
    ab_rounds "W1LIN (lineage)" wl wltmpl "$ENDL" "EXTRA_YAML=$LIN_YAML"
    moff=$(median "${OFF[@]}"); mon=$(median "${ON[@]}")
    mcoff=$(median "${COFF[@]}"); mcon=$(median "${CON[@]}")
    lratio=$(echo "scale=4; $mon / $moff" | bc)
    cratio=$(echo "scale=4; $mcon / $mcoff" | bc)
    versions=$(sql "SELECT count(*) FROM tributary.lineage_graphs")
    counted=$(sql "SELECT coalesce(max(event_count), 0) FROM tributary.lineage_edge_list WHERE kind = 'read'")
    section bench-lineage-record <<EOF
<!-- bench-lineage-record:start -->
## Lineage recording cost (\`make bench-lineage-record\`)

Measured $WHEN by \`bench/e2e.sh w1lin\`. Machine: $MACHINE. Load average
at the end of the run: $(cut -d' ' -f1-3 /proc/loadavg); single rounds vary; off and on alternate (off/on, then on/off) in the same
run on the same WAL. W1: $ROWS rows in one transaction into Kafka (mock
cluster), as in bench-e2e-w1; "on" adds \`lineage: enabled: true\`
recording into the same server's catalog.

| lineage | median s | all rounds (s) | consumer CPU s, median | all rounds (CPU s) |
|---|---:|---|---:|---|
| off | $moff | ${OFF[*]} | $mcoff | ${COFF[*]} |
| on | $mon | ${ON[*]} | $mcon | ${CON[*]} |

- Target on <= 1.02 x off (wall time): **$(verdict "$lratio <= 1.02")**: $mon s / $moff s = $lratio
- Consumer CPU time (user + system, all threads; less sensitive to other
  jobs on the machine than wall time): on / off = $mcon s / $mcoff s = $cratio
- Recorded: $versions graph version(s), one per "on" round (each round is a
  pipeline of its own name, so a job of its own); the read edge of each
  counted $counted events ($ROWS per round, in batches at checkpoints).
<!-- bench-lineage-record:end -->
EOF
fi

if has w1fmt; then
    FMT=${BENCH_FORMAT:-debezium}
    FMT_YAML="    format: $FMT
${BENCH_FORMAT_YAML:-    schemas.enable: true}"
    template wftmpl
    log "W1FMT: loading $ROWS rows in one transaction"
    load_rows "$ROWS"
    ENDF=$(sql "SELECT pg_current_wal_lsn()")
    sql CHECKPOINT >/dev/null
    ab_rounds "W1FMT (off: tributary, on: $FMT)" wf wftmpl "$ENDF" "SINK_YAML=$FMT_YAML"
    mft=$(median "${OFF[@]}"); mfd=$(median "${ON[@]}")
    mct=$(median "${COFF[@]}"); mcd=$(median "${CON[@]}")
    fratio=$(echo "scale=4; $mfd / $mft" | bc)
    cfratio=$(echo "scale=4; $mcd / $mct" | bc)
    section bench-format-e2e <<EOF
<!-- bench-format-e2e:start -->
### Debezium mode end to end (\`bench/e2e.sh w1fmt\`)

Measured $WHEN by \`bench/e2e.sh w1fmt\`. Machine: $MACHINE. Load average at the
end of the run: $(cut -d' ' -f1-3 /proc/loadavg). W1 ($ROWS rows in one
transaction into Kafka, mock cluster, as in bench-e2e-w1) with the Kafka
sink's \`format: tributary\` and with \`format: $FMT\` and
$(echo "${BENCH_FORMAT_YAML:-schemas.enable: true}" | sed 's/^ *//' | paste -sd, | sed 's/,/, /g; s/^/`/; s/$/`/'), alternating (t/d, then d/t) on the
same WAL; medians of $ROUNDS rounds.

| format | median s | all rounds (s) | consumer CPU s, median | all rounds (CPU s) |
|---|---:|---|---:|---|
| tributary | $mft | ${OFF[*]} | $mct | ${COFF[*]} |
| $FMT | $mfd | ${ON[*]} | $mcd | ${CON[*]} |

- Target $FMT <= 1.15 x tributary (wall time, issue 17): **$(verdict "$fratio <= 1.15")**: $mfd s / $mft s = $fratio
- Consumer CPU time (user + system, all threads): $FMT / tributary = $mcd s / $mct s = $cfratio
<!-- bench-format-e2e:end -->
EOF
fi

if has w2; then
    log "W2: $W2_TX single-row UPDATE transactions"
    sql "SELECT count(*) FROM public.bench_events" | grep -x 0 >/dev/null && load_rows 1000
    NROWS=$(sql "SELECT count(*) FROM public.bench_events")
    sql "CREATE OR REPLACE PROCEDURE public.bench_w2(n int, nrows bigint) LANGUAGE plpgsql AS \$\$
         BEGIN FOR i IN 1..n LOOP
           UPDATE public.bench_events SET amount = amount + 1 WHERE id = 1 + (i - 1) % nrows;
           COMMIT;
         END LOOP; END \$\$" >/dev/null
    template w2tmpl
    sql "CALL public.bench_w2($W2_TX, $NROWS)" >/dev/null
    END2=$(sql "SELECT pg_current_wal_lsn()")
    sql CHECKPOINT >/dev/null
    alternate w2 w2tmpl "$END2"
    mt=$(median "${TRIB[@]}"); mp=$(median "${PEER[@]}"); mc=$(median "${CPU[@]}")
    tps=$(echo "$W2_TX / $mt" | bc); ptps=$(echo "$W2_TX / $mp" | bc)
    pratio=$(echo "scale=3; $mp / $mt" | bc)
    DEC_ROW="" DEC_NOTE=""
    if [ ${#DEC[@]} -gt 0 ]; then
        md=$(median "${DEC[@]}")
        DEC_ROW="| decode alone (tributary plugin, pg_recvlogical to /dev/null) | $md | $(echo "$W2_TX / $md" | bc) | ${DEC[*]} |"
        DEC_NOTE="- Where the time goes: the walsender alone decodes the same WAL in $md s; the daemon (CPU $mc s over $mt s) and Kafka take the rest"
    fi
    section bench-e2e-w2 bench-e2e <<EOF
<!-- bench-e2e-w2:start -->
### W2: $W2_TX single-row transactions

Measured $WHEN by \`bench/e2e.sh\`. Machine: $MACHINE. $ROUNDS rounds alternating. Each transaction is one \`UPDATE public.bench_events ... WHERE id = ...\` and its COMMIT (a PL/pgSQL procedure), all committed before decoding starts; a round ends as in W1 (tributary: slot confirmed at the end LSN; peer: kcat exits).

| pipeline | median s | transactions/s | all rounds (s) |
|---|---:|---:|---|
| tributary | $mt | $tps | ${TRIB[*]} |
| peer (wal2json + kcat) | $mp | $ptps | ${PEER[*]} |
$DEC_ROW

- Target tributary >= 20,000 transactions/s: **$(verdict "$tps >= 20000")**: $tps/s ($(echo "scale=3; $mt / $mp" | bc) x the peer's time)
- Target (issue 15) tributary >= 1.5 x the peer's transactions/s, same run: **$(verdict "$pratio >= 1.5")**: $tps/s / $ptps/s = $pratio
- Consumer CPU time, median: $mc s; peak RSS $(( $(maxof "${RSS[@]}") / 1024 )) MiB
$DEC_NOTE
<!-- bench-e2e-w2:end -->
EOF
    if [ -n "$BASE_BIN" ]; then REGRESS_ROWS+=("$(regress_row "W2 ($W2_TX single-row transactions)")"); fi
fi

if [ -n "$BASE_BIN" ] && [ ${#REGRESS_ROWS[@]} -gt 0 ]; then
    section bench-regress <<EOF
<!-- bench-regress:start -->
## No regression against an earlier commit (\`make bench-regress BASE=$BASE_REV\`)

Measured $WHEN by \`bench/regress.sh\`. Machine: $MACHINE. Each round runs three pipelines on copies of the same template slot, rotated: this tree's \`tributary run\`, the same with the binary built from $BASE_REV, and the peer (wal2json + kcat). $ROUNDS rounds; medians. The check: this tree's time within 3% of the base's, in the same run. The peer's column shows how fast the machine was.

| workload | this tree s | base s | this / base | CPU s | base CPU s | peer s | this / peer | base / peer | within 3% |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---|
$(printf '%s\n' "${REGRESS_ROWS[@]}")
<!-- bench-regress:end -->
EOF
fi

# w3_target RATE: the p99 target in ms at that rate (issue 15).
w3_target() { if [ "$1" -le 1000 ]; then echo 10; else echo 25; fi; }

# w3_run RATE [BINARY LABEL]: one W3 window at RATE commits/s with this
# tree's binary (or BINARY, named LABEL in the table: BASE_TRIBUTARY's, a
# comparison without a verdict); appends a table row to W3_ROWS.
w3_run() {
    local rate=$1 bin=${2:-$BIN} label=${3:-this tree} slot="w3_$1" port pid before after cpu tps n p50 p99 p999 share top target verdict_cell op99 op999
    sql "SELECT 't' FROM pg_create_logical_replication_slot('$slot', 'tributary')" >/dev/null
    port=$(pgc_free_port)
    write_config "$slot" "$slot" "$port"
    "$bin" run -c "$PGC_DIR/$slot.yaml" 2>"$PGC_DIR/$slot.log" &
    pid=$!
    for _ in $(seq 1 100); do
        curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
    before="$PGC_DIR/$slot.before"; after="$PGC_DIR/$slot.after"
    curl -fs "http://127.0.0.1:$port/metrics" > "$before" ||
        { echo "bench-e2e: the consumer's /metrics did not answer" >&2; cat "$PGC_DIR/$slot.log" >&2; exit 1; }
    pgc_as pgbench -n -h "$PGC_SOCK" -p "$PGC_PORT" -U postgres -c 4 -j 2 -R "$rate" -T "$W3_SECS" \
        -f "$PGC_DIR/w3.pgbench" postgres > "$PGC_DIR/$slot.pgbench.out" 2>&1
    local end
    end=$(sql "SELECT pg_current_wal_lsn()")
    # the last transactions: wait until the consumer has confirmed them
    sql "SELECT 't' FROM pg_logical_emit_message(true, 'bench', 'end')" >/dev/null
    wait_confirmed "$slot" "$end"
    curl -fs "http://127.0.0.1:$port/metrics" > "$after"
    cpu=$(proc_cpu "$pid")
    kill -TERM "$pid"; wait "$pid" || true
    sql "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    target=$(w3_target "$rate")
    read -r n p50 p99 p999 share top < <(python3 "$LIB/latency.py" "$before" "$after" "$target")
    # the daemon's own share: from its receipt of each commit to the ack
    read -r _ _ op99 op999 _ _ < <(python3 "$LIB/latency.py" "$before" "$after" "$target" tributary_receipt_to_ack_seconds)
    tps=$(awk '/^tps/ {print $3; exit}' "$PGC_DIR/$slot.pgbench.out")
    log "W3 at $rate/s ($label): $tps tx/s achieved, $n transactions, p50 $p50 ms, p99 $p99 ms, p99.9 $p999 ms, max $top ms; receipt to ack p99 $op99 ms, p99.9 $op999 ms"
    if [ "$bin" = "$BIN" ]; then verdict_cell="<= $target ms: **$(verdict "$share >= 99")**"
    else verdict_cell="<= $target ms (comparison only)"; fi
    W3_ROWS+=("| $rate | $label | $tps | $n | $p50 | $p99 | $p999 | $top | $share % | $verdict_cell | $op99 / $op999 | $cpu |")
}

if has w3; then
    log "W3: $W3_RATES commits/s for $W3_SECS s each"
    sql "SELECT count(*) FROM public.bench_events" | grep -x 0 >/dev/null && load_rows 1000
    NROWS=$(sql "SELECT count(*) FROM public.bench_events")
    printf '\\set id random(1, %s)\nUPDATE public.bench_events SET amount = amount + 1 WHERE id = :id;\n' \
        "$NROWS" > "$PGC_DIR/w3.pgbench"
    chmod 644 "$PGC_DIR/w3.pgbench"
    W3_ROWS=()
    W3_BASE_NOTE=""
    for rate in $W3_RATES; do
        if [ -z "$BASE_BIN" ]; then w3_run "$rate"
        elif [ $(( ${#W3_ROWS[@]} % 4 )) = 0 ]; then w3_run "$rate"; w3_run "$rate" "$BASE_BIN" "base $BASE_REV"
        else w3_run "$rate" "$BASE_BIN" "base $BASE_REV"; w3_run "$rate"; fi
    done
    [ -n "$BASE_BIN" ] && W3_BASE_NOTE=" With BASE_TRIBUTARY, each rate also runs the binary built from $BASE_REV in a window of its own, the two alternating (this tree first at the first rate, the base first at the next), on the same cluster and machine state: the comparison the verdicts cannot give on a shared machine."
    section bench-e2e-w3 bench-e2e <<EOF
<!-- bench-e2e-w3:start -->
### W3: commit-to-ack latency at $(echo "$W3_RATES" | sed 's/ / and /g') commits/s

Measured $WHEN by \`bench/e2e.sh\`. Machine: $MACHINE. For each rate, \`pgbench -R RATE -T $W3_SECS -c 4 -j 2\` with a one-statement script (\`UPDATE public.bench_events SET amount = amount + 1 WHERE id = :id\`, id random) while a fresh \`tributary run\` streams them to Kafka (same sink settings as W1).$W3_BASE_NOTE

Method: the consumer's own histogram \`tributary_commit_to_ack_seconds\` (/metrics), scraped before and after the window. For every transaction it measures from the commit timestamp PostgreSQL wrote in the commit record to the moment the pipeline sees the last event of the transaction acknowledged by every sink (Kafka: the delivery report of an idempotent producer with acks=all), both clocks read in milliseconds. The column \`receipt to ack\` is the daemon's own share, from the consumer's \`tributary_receipt_to_ack_seconds\`: from the moment the pipeline handled the commit to the same acknowledgement (monotonic clock); the rest of commit-to-ack is PostgreSQL's (WAL to the walsender's decoding to the socket). The buckets are 1 ms wide up to 20 ms, then 25, 30, 40, 50, 75, 100 ms and coarser: each quantile is the upper bound of the bucket it falls in (no interpolation), so below 20 ms it is exact to 1 ms. The share at or under the target is read from the target's bucket exactly: the target holds when it is at least 99 %.

| commits/s asked | binary | achieved tx/s | transactions | p50 ms | p99 ms | p99.9 ms | max ms (bucket) | share <= target | target p99 | receipt to ack p99 / p99.9 ms | consumer CPU s |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|
$(printf '%s\n' "${W3_ROWS[@]}")
<!-- bench-e2e-w3:end -->
EOF
fi

if has w4; then
    log "W4: $W4_BASE_ROWS rows ($W4_BASE_RUNS runs), then $W4_ROWS rows ($W4_RUNS runs), one transaction each"
    # w4_load TEMPLATE ROWS: a template slot, then the load; prints the end LSN
    w4_load() {
        template "$1"
        load_rows "$2"
        sql "SELECT pg_current_wal_lsn()"
        sql CHECKPOINT >/dev/null
    }
    # w4_runs TEMPLATE END RUNS: sets S H C WH (arrays, one entry per run)
    w4_runs() {
        local r s h c wh
        S=() H=() C=() WH=()
        for r in $(seq 1 "$3"); do
            read -r s h c wh <<<"$(run_tributary "${1}r$r" "$1" "$2")"
            S+=("$s"); H+=("$h"); C+=("$c"); WH+=("$wh")
            log "W4 $1 run $r: $s s, consumer peak RSS $h KiB, walsender $wh KiB"
        done
        sql "SELECT pg_drop_replication_slot('$1')" >/dev/null
    }
    kib2mib() { local v out=(); for v in "$@"; do out+=("$((v / 1024))"); done; echo "${out[*]}"; }
    end=$(w4_load w4a "$W4_BASE_ROWS")
    w4_runs w4a "$end" "$W4_BASE_RUNS"
    S1=("${S[@]}") H1=("${H[@]}") C1=("${C[@]}") WH1=("${WH[@]}")
    end=$(w4_load w4b "$W4_ROWS")
    w4_runs w4b "$end" "$W4_RUNS"
    h1=$(maxof "${H1[@]}"); h2=$(maxof "${H[@]}")
    wh1=$(maxof "${WH1[@]}"); wh2=$(maxof "${WH[@]}")
    growth=$(echo "scale=1; 100 * ($h2 - $h1) / $h1" | bc)
    wgrowth=$(echo "scale=1; 100 * ($wh2 - $wh1) / $wh1" | bc)
    flat=$(echo "$h2 <= $h1 * 1.10" | bc)
    section bench-e2e-w4 <<EOF2
<!-- bench-e2e-w4:start -->
## W4: memory against transaction size, end to end (\`make bench-w4\`)

Measured $WHEN by \`bench/e2e.sh w4\`. Machine: $MACHINE. \`tributary run\` (Kafka sink, as in W1) over a transaction of $W4_BASE_ROWS rows ($W4_BASE_RUNS runs) and over a transaction of $W4_ROWS rows ($W4_RUNS run(s)), loaded one after the other, each decoded from a template slot created just before it. Peak RSS is VmHWM, read just before the consumer stops; the walsender's is read while it still serves the slot. The consumer's peak moves from run to run with how far the producer runs ahead of librdkafka's broker thread (see the notes below), so the large transaction is compared with the highest of the small one's runs: "flat" means within 10% of it.

| rows | seconds | consumer peak RSS MiB, each run | consumer CPU s | walsender peak RSS MiB |
|---:|---|---|---|---:|
| $W4_BASE_ROWS | ${S1[*]} | $(kib2mib "${H1[@]}") | ${C1[*]} | $((wh1 / 1024)) |
| $W4_ROWS | ${S[*]} | $(kib2mib "${H[@]}") | ${C[*]} | $((wh2 / 1024)) |

- Consumer peak RSS, highest at $W4_ROWS rows against highest at $W4_BASE_ROWS: $((h2 / 1024)) / $((h1 / 1024)) MiB, $growth % (target: the same as for $W4_BASE_ROWS rows: **$([ "$flat" = 1 ] && echo PASS || echo MISS)**); walsender: $wgrowth %
- Target (issue 15, 5) consumer peak RSS at $W4_ROWS rows <= 64 MiB: **$([ $((h2 / 1024)) -le 64 ] && echo PASS || echo MISS)** ($((h2 / 1024)) MiB)
<!-- bench-e2e-w4:end -->
EOF2
fi
log "wrote the measured sections of $DOC"
