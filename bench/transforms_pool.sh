#!/usr/bin/env bash
# bench/transforms_pool.sh: the five masking rules of bench/transforms.sh
# on W1 with the rules pool (transform_workers: 2) against one thread
# (transform_workers: 1), alternating round by round in one run, so both
# see the same machine load.  Prints each round's seconds, the medians,
# their ratio and the pool's own account of the time the pipeline thread
# waited for the workers (its "rules pool:" log line).  Nothing is written
# to docs/: the figures go into BENCHMARKS.md's prose by hand.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-5}
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
TOOLS=$ROOT/consumer/build/tools
# shellcheck source=lib/w1.sh
source "$ROOT/bench/lib/w1.sh"
# shellcheck source=lib/load.sh
source "$ROOT/bench/lib/load.sh"

MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; pgc_cleanup; }
trap cleanup EXIT
log() { echo "[bench-transforms-pool $(date +%T)] $*" >&2; }

w1_load
w1_mock_start
export BENCH_KEY=00112233445566778899aabbccddeeff

# run WORKERS ROUND: prints seconds
run() {
    local w=$1 r=$2 slot=p_$1_$2 cfg=$PGC_DIR/p$1_$2.yaml
    cat > "$cfg" <<YAML
pipeline: p$w$r
sources:
  main:
    type: postgres
    dsn: "$DSN"
    slot: $slot
    create_slot: false
    snapshot: never
    status_interval_ms: 100
transform_workers: $w
transforms:
  - {type: substitute, fields: [name], kind: full_name, key: "${BENCH_KEY}"}
  - {type: hash, fields: [email], key: "${BENCH_KEY}", context: email}
  - {type: perturb, fields: [amount], percent: 5, key: "${BENCH_KEY}"}
  - {type: partial, fields: [meta.k], keep_last: 2}
  - {type: tokenize, fields: [id], key: "${BENCH_KEY}", alphabet: digits}
sinks:
  k: {type: kafka, bootstrap_servers: "$BOOT", topic_prefix: p$w$r}
checkpoint: {store: file, path: $PGC_DIR/p$w$r.ckpt}
http: {enabled: false}
log: {level: info}
YAML
    w1_run "$slot" "$cfg" "$PGC_DIR/p$w$r.log"
    grep -h "rules pool:" "$PGC_DIR/p$w$r.log" >&2 || true
}

declare -A times
LOAD0=$(load_now)
for r in $(seq 1 "$ROUNDS"); do
    for w in $([ $((r % 2)) = 1 ] && echo "1 2" || echo "2 1"); do
        t=$(run "$w" "$r")
        times[$w]="${times[$w]:-} $t"
        log "round $r: transform_workers $w: $t s"
    done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# shellcheck disable=SC2086
m1=$(median ${times[1]}); m2=$(median ${times[2]})
echo "$ROWS rows, $ROUNDS rounds, $(load_note "$LOAD0" "$(load_now)")"
echo "one thread: median $m1 s (${times[1]} )"
echo "pool of 2:  median $m2 s (${times[2]} )"
echo "one / pool: $(echo "scale=3; $m1 / $m2" | bc)"
