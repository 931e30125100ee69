#!/usr/bin/env bash
# bench/transforms.sh: the cost of transform rules end to end (`make
# bench-transforms`), on workload W1 (../shared/bench/README.md).
#
# The same pipeline (Postgres source -> Kafka sink on librdkafka's mock
# cluster in its own process, file checkpoint) decodes the same WAL (a copy
# of a template slot made before the load) in five variants, alternating
# round by round:
#   none   no rules;
#   mask5  five masking rules: substitute the name, hash the email, perturb
#          the amount, partial on meta.k (W1 has no phone column: a number
#          inside the jsonb, keep the last 2 characters) and FF1 on the id
#          (W1 has no card column: the bigint key, digits), on the rules
#          pool's default of two threads (transform/rules_pool.h);
#   mask5one  the same rules with transform_workers: 1 (no pool), so the
#          pool's gain is measured in the same run; the pool's log line
#          (how long the pipeline thread waited for its workers) is
#          printed for each mask5 round;
#   mask5three  the same rules with transform_workers: 3 (two workers):
#          on two busy cores a worker reaches a core late after each
#          hand-over, and with two the pipeline thread masks fewer chunks
#          itself (docs/BENCHMARKS.md, "the rules pool, thread by
#          thread"); whether that is faster end to end is this row;
#   lua    one Lua filter, `after.amount > 100 and op ~= 'd'`.
# Each round is timed until the slot is confirmed at the end LSN (every event
# acknowledged by Kafka).  Each round also prints, to stderr, the CPU time
# and the run-queue wait (/proc/PID/task/*/schedstat: time runnable but
# not running) of the consumer's threads and of the walsender up to that
# point: on a shared machine these, not the wall time, say where the
# time went (docs/BENCHMARKS.md, "the rules pool, thread by thread").  Medians of ROUNDS rounds; the throughput drop of
# mask5 against none is the issue's target (<= 15%), the Lua filter's cost
# per event is (lua - none) / rows (target <= 1 us), next to the
# microbenchmark of bench/lua.sh.  Results replace the bench-transforms
# section of docs/BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-5}
DOC=${BENCH_DOC:-$ROOT/docs/BENCHMARKS.md}
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
TOOLS=$ROOT/consumer/build/tools
# shellcheck source=lib/w1.sh
source "$ROOT/bench/lib/w1.sh"
# shellcheck source=lib/load.sh
source "$ROOT/bench/lib/load.sh"

MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; pgc_cleanup; }
trap cleanup EXIT
log() { echo "[bench-transforms $(date +%T)] $*" >&2; }

w1_load
w1_mock_start
export BENCH_KEY=00112233445566778899aabbccddeeff

rules_for() {
    case $1 in
        none) echo "transforms: []" ;;
        mask5|mask5one|mask5three) [ "$1" = mask5one ] && echo "transform_workers: 1"
            [ "$1" = mask5three ] && echo "transform_workers: 3"
            cat <<'YAML'
transforms:
  - {type: substitute, fields: [name], kind: full_name, key: "${BENCH_KEY}"}
  - {type: hash, fields: [email], key: "${BENCH_KEY}", context: email}
  - {type: perturb, fields: [amount], percent: 5, key: "${BENCH_KEY}"}
  - {type: partial, fields: [meta.k], keep_last: 2}
  - {type: tokenize, fields: [id], key: "${BENCH_KEY}", alphabet: digits}
YAML
        ;;
        lua) cat <<'YAML'
transforms:
  - {type: filter, lua: "after.amount > 100 and op ~= 'd'"}
YAML
        ;;
    esac
}

# w1_run's hook (bench/lib/w1.sh): CPU s (run-queue wait s) of each of the
# consumer's threads (the pipeline thread is "main", unnamed others add up
# as "other") and of the walsender, threads under 10 ms left out.
w1_on_confirmed() {
    local slot=$1 pid=$2 ws t name run wait
    ws=$(pgc_psql -d postgres -Atc "SELECT active_pid FROM pg_replication_slots WHERE slot_name = '$slot'")
    {
        for t in /proc/"$pid"/task/*; do
            name=$(cat "$t/comm" 2>/dev/null) || continue
            [ "${t##*/}" = "$pid" ] && name=main
            [ "$name" = "${BIN##*/}" ] && name=other
            read -r run wait _ < "$t/schedstat" || continue
            echo "$name $run $wait"
        done
        if [ -n "$ws" ] && read -r run wait _ < "/proc/$ws/schedstat"; then echo "walsender $run $wait"; fi
    } | awk '{r[$1] += $2; w[$1] += $3; if (!($1 in o)) o[$1] = NR}
        END {for (n in r) if (r[n] >= 1e7) printf "%d %s %.2f (%.2f)\n", o[n], n, r[n] / 1e9, w[n] / 1e9}' |
        sort -n | cut -d' ' -f2- | paste -sd' ' | sed 's/) /), /g' > "$PGC_DIR/threads.last"
}

# run VARIANT ROUND: prints seconds
run() {
    local v=$1 r=$2 slot=b_$1_$2 cfg=$PGC_DIR/$1_$2.yaml
    cat > "$cfg" <<YAML
pipeline: b$v$r
sources:
  main:
    type: postgres
    dsn: "$DSN"
    slot: $slot
    create_slot: false
    snapshot: never
    status_interval_ms: 100
$(rules_for "$v")
sinks:
  k: {type: kafka, bootstrap_servers: "$BOOT", topic_prefix: b$v$r}
checkpoint: {store: file, path: $PGC_DIR/$v$r.ckpt}
http: {enabled: false}
log: {level: info}
YAML
    w1_run "$slot" "$cfg" "$PGC_DIR/$v$r.log"
    grep -h "rules pool:" "$PGC_DIR/$v$r.log" | sed "s/^/[$v round $r] /" >&2 || true
    echo "[$v round $r] threads, CPU s (run-queue wait s): $(cat "$PGC_DIR/threads.last" 2>/dev/null)" >&2
}

declare -A times
LOAD0=$(load_now)
variants=(none mask5 lua mask5one mask5three)
for r in $(seq 1 "$ROUNDS"); do
    # rotate the order each round so no variant always runs first
    for i in 0 1 2 3 4; do
        v=${variants[$(( (i + r) % 5 ))]}
        t=$(run "$v" "$r")
        times[$v]="${times[$v]:-} $t"
        log "round $r: $v $t s"
    done
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# shellcheck disable=SC2086
mn=$(median ${times[none]}); mm=$(median ${times[mask5]}); ml=$(median ${times[lua]})
# shellcheck disable=SC2086
mo=$(median ${times[mask5one]}); m3=$(median ${times[mask5three]})
drop=$(echo "scale=1; 100 - 100 * $mn / $mm" | bc)
luans=$(echo "scale=0; ($ml - $mn) * 1000000000 / $ROWS" | bc)
micro=$("$TOOLS/bench_lua" 2>/dev/null | grep -m1 -o -E '[0-9.]+ ns/event' || echo "n/a")
LOAD1=$(load_now)
pass_mask=$(echo "$drop <= 15" | bc)
pass_lua=$(echo "$luans <= 1000" | bc)
# A Lua variant faster than no rules at all is the rounds' noise, not a
# cost: no verdict from it.
lua_verdict=$([ "$pass_lua" = 1 ] && echo PASS || echo MISS)
[ "$(echo "$luans < 0" | bc)" = 1 ] &&
    lua_verdict="not resolved: below the rounds' noise, rerun on a quiet machine"

section=$(cat <<MD
<!-- bench-transforms:start -->
## Transform rules (W1, \`make bench-transforms\`)

Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/transforms.sh\`. Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(load_note "$LOAD0" "$LOAD1"). $ROWS rows in one transaction, $ROUNDS rounds, the five variants in rotating order each round, each decoding a copy of the same template slot, timed until the slot is confirmed (every event acknowledged by the mock Kafka cluster).

| variant | median s | events/s | all rounds (s) |
|---|---:|---:|---|
| no rules | $mn | $(echo "$ROWS / $mn" | bc) |${times[none]} |
| 5 masking rules | $mm | $(echo "$ROWS / $mm" | bc) |${times[mask5]} |
| 5 masking rules, one thread | $mo | $(echo "$ROWS / $mo" | bc) |${times[mask5one]} |
| 5 masking rules, three threads | $m3 | $(echo "$ROWS / $m3" | bc) |${times[mask5three]} |
| 1 Lua filter | $ml | $(echo "$ROWS / $ml" | bc) |${times[lua]} |

The five rules: substitute \`name\` (full_name), hash \`email\`, perturb \`amount\` (5%), partial on \`meta.k\` and FF1 (tokenize, digits) on \`id\`. W1 has no phone or card column, so partial takes the jsonb number \`meta.k\` and FF1 the bigint key.

- The rules pool against one thread (transform_workers 1 / 2, wall): $(echo "scale=3; $mo / $mm" | bc); three threads against two (transform_workers 2 / 3, wall): $(echo "scale=3; $mm / $m3" | bc)
- Throughput drop with 5 masking rules: **${drop}%** (target <= 15%: **$([ "$pass_mask" = 1 ] && echo PASS || echo MISS)**)
- Lua filter, end to end: **${luans} ns/event** over the pipeline without rules (target <= 1 us: **$lua_verdict**); the microbenchmark (\`bench/lua.sh\`, no I/O) in the same run: $micro.
<!-- bench-transforms:end -->
MD
)
if [ -f "$DOC" ] && grep -q '<!-- bench-transforms:start -->' "$DOC"; then
    python3 - "$DOC" "$section" <<'PYEOF'
import sys
p, sec = sys.argv[1], sys.argv[2]
s = open(p).read()
a = s.index('<!-- bench-transforms:start -->'); b = s.index('<!-- bench-transforms:end -->') + len('<!-- bench-transforms:end -->')
open(p, 'w').write(s[:a] + sec + s[b:])
PYEOF
else
    printf '\n%s\n' "$section" >> "$DOC"
fi
echo "$section"
