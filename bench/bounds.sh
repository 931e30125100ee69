#!/usr/bin/env bash
# bench/bounds.sh: what limits issue 15's targets 1 and 2 on this machine,
# measured (docs/BENCHMARKS.md, "Issue 15: what limits targets 1 and 2").
#
#   bench/bounds.sh [OUTDIR]       (default /tmp/trib-bounds; ROUNDS=3, ROWS=1000000)
#
# W1 (bench/lib/w1.sh: ROWS rows in one transaction, a template slot made
# before the load, every round on a copy of it) through four pipelines,
# the order rotated each round:
#   dec     pg_recvlogical -P tributary (plugin defaults) -f /dev/null:
#           tributary's decode alone, target 1's reference;
#   decopt  the same with the daemon's plugin options (include-transaction,
#           skip-empty-xacts off, exclude-tables tributary.*): the sink-less
#           floor of the daemon's stream;
#   null    `tributary run` with the null sink: the daemon's source and
#           pipeline, nothing produced (the oracle of a cheap sink);
#   kafka   `tributary run` with bench/e2e.sh's W1 Kafka sink (idempotent,
#           acks=all) into a kafka_mock_server of its own process.
# A round of a daemon ends when its slot is confirmed at the end LSN (10 ms
# polls from one DO loop, as bench/e2e.sh).  bench/lib/phase_sampler.py
# samples every 10 ms the walsender's, the client's and the mock's CPU and
# /proc/stat; bench/lib/phases.py splits the round at the first byte of
# output (START to first byte: the WAL read and the reorder buffer's spill,
# when no consumer can work; then the output phase).  One line per round
# goes to OUTDIR/rounds.txt and stderr.
#
# Then librdkafka's own floor: `kcat -P` producing ROWS messages shaped like
# the daemon's (key and value of one message the kafka round produced,
# read back from the mock with kcat -C; the id made unique per message)
# with the daemon's producer settings, without and with one header per
# message (-H), into the same mock; kcat's CPU (user + system) per message,
# KCAT_ROUNDS (3) times each; with KCAT_CG=1 also kcat's instructions per
# message by object (callgrind at 20,000 and 60,000 messages,
# bench/lib/cg_objects.py).  Results in OUTDIR/kcat.txt.  The daemon's own
# instructions by object: bench/daemon_callgrind.sh OUT, then
# bench/lib/cg_objects.py OUT/10000 OUT/30000 20000.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
OUT=${1:-/tmp/trib-bounds}
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-3}
KCAT_ROUNDS=${KCAT_ROUNDS:-3}
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
# shellcheck disable=SC2034  # lib/w1.sh's w1_mock_start runs $TOOLS/kafka_mock_server (and sets BOOT)
TOOLS=$ROOT/consumer/build/tools
LIB=$ROOT/bench/lib
# shellcheck source=lib/w1.sh
source "$LIB/w1.sh"
MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; pgc_cleanup; }
trap cleanup EXIT
log() { echo "[bounds $(date +%T)] $*" >&2; }
sql() { pgc_psql -d postgres -Atc "$1"; }
now() { date +%s.%N; }
rm -rf "$OUT"; mkdir -p "$OUT"
command -v kcat >/dev/null || { echo "bounds: kcat is missing" >&2; exit 2; }

w1_load
w1_mock_start
PM=$(head -1 "$PGC_DIR/data/postmaster.pid")
log "machine: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

wait_confirmed() {
    sql "DO \$\$
DECLARE c pg_lsn;
BEGIN
  LOOP
    SELECT confirmed_flush_lsn INTO c FROM pg_replication_slots WHERE slot_name = '$1';
    EXIT WHEN c >= '$2';
    PERFORM pg_sleep(0.01);
  END LOOP;
END \$\$" >/dev/null
}

# config NAME SLOT SINK_YAML: a daemon config in $PGC_DIR/NAME.yaml (log
# level debug: the source's timeline lines, "first record received" among
# them, a handful per run, bench/lib/timeline_wrap.sh)
config() {
    cat > "$PGC_DIR/$1.yaml" <<EOC
pipeline: $1
sources:
  main:
    type: postgres
    dsn: "$DSN"
    slot: $2
    create_slot: false
    snapshot: never
    status_interval_ms: 100
sinks:
$3
checkpoint:
  store: file
  path: $PGC_DIR/$1.ckpt
http:
  enabled: false
log:
  level: debug
EOC
}

# round KIND NAME: one round; appends "KIND key=value..." to rounds.txt
round() {
    local kind=$1 name=$2 slot=$2 t0 t1 pid sp opts=()
    sql "SELECT 'c' FROM pg_copy_logical_replication_slot('tmpl', '$slot', false, 'tributary')" >/dev/null
    # the sampler first, its first line written, then the client
    python3 "$LIB/phase_sampler.py" "$PM" "$OUT/$name.pid" "$OUT/$name.samples" "$MOCK_PID" &
    sp=$!
    while [ ! -s "$OUT/$name.samples" ]; do sleep 0.01; done
    case $kind in
        dec|decopt)
            [ "$kind" = decopt ] && opts=(-o include-transaction=on -o skip-empty-xacts=off -o 'exclude-tables=tributary.*')
            t0=$(now)
            # run directly (the cluster trusts local connections), so that
            # $! is pg_recvlogical itself, whose reads the sampler watches
            "$PGBIN/pg_recvlogical" -h "$PGC_SOCK" -p "$PGC_PORT" -U postgres -d postgres \
                -S "$slot" --start -E "$END" "${opts[@]}" -f /dev/null &
            pid=$!
            echo "$pid" > "$OUT/$name.pid"
            wait "$pid"
            t1=$(now)
            wait "$sp";;
        null|kafka)
            if [ "$kind" = null ]; then config "$name" "$slot" "  n: {type: \"null\"}"
            else config "$name" "$slot" "  k:
    type: kafka
    bootstrap_servers: \"${BOOT:?}\"
    topic_prefix: $name"; fi
            t0=$(now)
            "$BIN" run -c "$PGC_DIR/$name.yaml" 2>"$PGC_DIR/$name.log" &
            pid=$!
            echo "$pid" > "$OUT/$name.pid"
            wait_confirmed "$slot" "$END"
            t1=$(now)
            touch "$OUT/$name.samples.stop"; wait "$sp" || true
            kill -TERM "$pid"; wait "$pid" || true;;
    esac
    for _ in $(seq 1 100); do
        sql "SELECT pg_drop_replication_slot('$slot')" >/dev/null 2>&1 && break
        sleep 0.1
    done
    local line tf=""
    if [ "$kind" = null ] || [ "$kind" = kafka ]; then
        cp "$PGC_DIR/$name.log" "$OUT/$name.log"
        tf=$(grep -m1 'first record received' "$OUT/$name.log" | cut -d' ' -f1 | sed 's/Z$//')
        tf=$(date -u -d "${tf/T/ } UTC" +%s.%N)
    fi
    line="$kind $(python3 "$LIB/phases.py" "$OUT/$name.samples" "$t0" "$t1" ${tf:+"$tf"}) load=$(cut -d' ' -f1 /proc/loadavg)"
    echo "$line" >> "$OUT/rounds.txt"
    log "$name: $line"
}

KINDS=(dec decopt null kafka)
for r in $(seq 1 "$ROUNDS"); do
    n=${#KINDS[@]}
    for i in $(seq 0 $((n - 1))); do
        k=${KINDS[$(( (i + r - 1) % n ))]}
        round "$k" "${k}$r"
    done
done

# librdkafka's floor: kcat -P with messages shaped like the daemon's
sample=$(kcat -C -b "$BOOT" -t kafka1.public.bench_events -o beginning -c 1 -e -f '%k\t%s\n' 2>/dev/null | sed -n 1p)
[ -n "$sample" ] || { echo "bounds: no message read back from the mock" >&2; exit 1; }
echo "$sample" > "$OUT/sample.txt"
python3 - "$OUT/sample.txt" "$ROWS" > "$OUT/msgs.txt" <<'EOP'
import re, sys
key, val = open(sys.argv[1]).read().rstrip("\n").split("\t", 1)
n = int(sys.argv[2])
out = sys.stdout
for i in range(1, n + 1):
    s = str(i)
    # the sample's id is 1 (the first row): every message gets its own, as W1's do
    out.write(re.sub(r'\b1\b', s, key, count=1) + "\t" + re.sub(r'"id":1\b', '"id":' + s, val, count=1) + "\n")
EOP
log "kcat messages: $(wc -c < "$OUT/msgs.txt") bytes for $ROWS (sample key+value $(( ${#sample} )) bytes)"
: > "$OUT/kcat.txt"
for r in $(seq 1 "$KCAT_ROUNDS"); do
    for mode in plain header; do
        hdr=(); [ "$mode" = header ] && hdr=(-H "tributary.id=0/1000000:0000000000000001")
        /usr/bin/time -f "%U %S %e" -o "$OUT/kcat.time" \
            kcat -P -b "$BOOT" -t "kcat_${mode}_$r" -K $'\t' "${hdr[@]}" \
            -X enable.idempotence=true -X acks=all -X partitioner=murmur2_random -X linger.ms=1 \
            -X queue.buffering.max.messages=20000 < "$OUT/msgs.txt" 2>/dev/null
        read -r u s e < "$OUT/kcat.time"
        echo "$mode user=$u sys=$s wall=$e us_per_msg=$(echo "scale=3; ($u + $s) * 1000000 / $ROWS" | bc) load=$(cut -d' ' -f1 /proc/loadavg)" | tee -a "$OUT/kcat.txt" >&2
    done
done
# the same in instructions (KCAT_CG=1): kcat under callgrind (threads
# summed) at 20,000 and 60,000 messages, per message by object
if [ -n "${KCAT_CG:-}" ]; then
    for mode in plain header; do
        hdr=(); [ "$mode" = header ] && hdr=(-H "tributary.id=0/1000000:0000000000000001")
        for n in 20000 60000; do
            head -"$n" "$OUT/msgs.txt" |
                valgrind --tool=callgrind --callgrind-out-file="$OUT/kcat_cg.$mode.$n" \
                    kcat -P -b "$BOOT" -t "kcat_cg_${mode}_$n" -K $'\t' "${hdr[@]}" \
                    -X enable.idempotence=true -X acks=all -X partitioner=murmur2_random -X linger.ms=1 \
                    -X queue.buffering.max.messages=20000 2>/dev/null
        done
        { echo "kcat $mode, instructions per message:"
          python3 "$LIB/cg_objects.py" "$OUT/kcat_cg.$mode.20000" "$OUT/kcat_cg.$mode.60000" 40000; } | tee -a "$OUT/kcat.txt" >&2
    done
fi
log "done: $OUT/rounds.txt $OUT/kcat.txt"
