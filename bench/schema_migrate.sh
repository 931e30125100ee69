#!/usr/bin/env bash
# bench/schema_migrate.sh: the cost of schema migrations end to end (`make
# bench-schema`, its migration part), on workload W1
# (../shared/bench/README.md).
#
# The W1 table's first shape is registered as version 1 of its subject;
# then the table is altered (name renamed to full_name, a column extra
# added, active retyped to text) and W1's rows are loaded in one
# transaction in the new shape.  The same pipeline (Postgres source ->
# Kafka sink on librdkafka's mock cluster, file checkpoint, the schema
# stage on, its catalog in the same database) decodes the same WAL (a copy
# of a template slot made before the load) in two variants, alternating
# round by round:
#   none   the schema stage without migrations (every event stamped with
#          version 2, its own);
#   mig3   three migration steps pin the subject to version 1: rename
#          full_name back to name, drop extra, cast active to a boolean.
# With BASE=/path/to/an/older/tributary the same two variants also run
# with that binary (base_none, base_mig3), in the same rounds, so that a
# change is measured before and after in one machine state.
# Each round is timed until the slot is confirmed at the end LSN (every
# event acknowledged by Kafka).  Medians of ROUNDS rounds; the target is
# mig3's throughput within 10% of none's.  Results replace the
# bench-schema-migrate section of docs/BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/pgcluster.sh
source "$ROOT/scripts/lib/pgcluster.sh"
# shellcheck source=lib/load.sh
source "$ROOT/bench/lib/load.sh"
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-5}
DOC=${BENCH_DOC:-$ROOT/docs/BENCHMARKS.md}
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
BASE=${BASE:-}
BASE_LABEL=${BASE_LABEL:-$BASE}
TOOLS=$ROOT/consumer/build/tools
SHARED=$ROOT/../shared/bench
[ -f "$SHARED/workload.sql" ] || SHARED=/work/shared/bench
SUBJECT=main.public.bench_events

MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; pgc_cleanup; }
trap cleanup EXIT
log() { echo "[bench-schema $(date +%T)] $*" >&2; }
sql() { pgc_psql -d postgres -v ON_ERROR_STOP=1 -Atc "$1"; }

LOAD0=$(load_now)
make -s -C "$ROOT/consumer" build >/dev/null
pgc_start "shared_buffers = 1GB" "max_wal_size = 20GB" "checkpoint_timeout = 1h" "autovacuum = off"
chmod 777 "$PGC_DIR"
pgc_psql -d postgres -f "$SHARED/workload.sql" >/dev/null
sql "CREATE EXTENSION tributary" >/dev/null
sql "SELECT tributary.register_schema('$SUBJECT', tributary.table_schema('public.bench_events'))" >/dev/null
sql "SELECT tributary.set_compatibility('$SUBJECT', 'NONE')" >/dev/null
sql "ALTER TABLE public.bench_events RENAME COLUMN name TO full_name" >/dev/null
sql "ALTER TABLE public.bench_events ADD COLUMN extra int" >/dev/null
sql "ALTER TABLE public.bench_events ALTER COLUMN active TYPE text" >/dev/null
sql "SELECT 't' FROM pg_create_logical_replication_slot('tmpl', 'test_decoding')" >/dev/null
log "loading $ROWS rows in one transaction"
sql "INSERT INTO public.bench_events(full_name, email, amount, active, meta, extra)
    SELECT 'name'||g, 'user'||g||'@example.com', g*1.5, (g%2=0)::text, jsonb_build_object('k', g), g
    FROM generate_series(1, $ROWS) g" >/dev/null
END=$(sql "SELECT pg_current_wal_lsn()")
sql CHECKPOINT >/dev/null

"$TOOLS/kafka_mock_server" 1 > "$PGC_DIR/mock.out" 2>/dev/null &
MOCK_PID=$!
for _ in $(seq 1 50); do [ -s "$PGC_DIR/mock.out" ] && break; sleep 0.1; done
BOOT=$(head -1 "$PGC_DIR/mock.out")

migrations_for() {
    [ "${1#base_}" = mig3 ] || return 0
    cat <<YAML
  migrations:
    - subject: $SUBJECT
      target: 1
      steps:
        - {rename: full_name, to: name}
        - {drop: extra}
        - {cast: active, as: boolean, type: boolean}
YAML
}

now() { date +%s.%N; }

# run VARIANT ROUND: prints wall seconds and the consumer's CPU seconds
run() {
    local v=$1 r=$2 slot=b_$1_$2 cfg=$PGC_DIR/$1_$2.yaml dsn t0 t1 pid c bin cpu
    dsn="host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres"
    sql "SELECT 'c' FROM pg_copy_logical_replication_slot('tmpl', '$slot', false, 'tributary')" >/dev/null
    cat > "$cfg" <<YAML
pipeline: b$v$r
sources:
  main:
    type: postgres
    dsn: "$dsn"
    slot: $slot
    create_slot: false
    snapshot: never
    status_interval_ms: 100
sinks:
  k: {type: kafka, bootstrap_servers: "$BOOT", topic_prefix: b$v$r}
schemas:
  enabled: true
  dsn: "$dsn"
$(migrations_for "$v")
checkpoint: {store: file, path: $PGC_DIR/$v$r.ckpt}
http: {enabled: false}
log: {level: warn}
YAML
    bin=$BIN
    [ "${v#base_}" = "$v" ] || bin=$BASE
    t0=$(now)
    "$bin" run -c "$cfg" 2>"$PGC_DIR/$v$r.log" &
    pid=$!
    while :; do
        c=$(sql "SELECT confirmed_flush_lsn >= '$END' FROM pg_replication_slots WHERE slot_name = '$slot'")
        [ "$c" = t ] && break
        kill -0 "$pid" 2>/dev/null || { echo "bench-schema: the consumer died" >&2; cat "$PGC_DIR/$v$r.log" >&2; exit 1; }
        sleep 0.05
    done
    t1=$(now)
    # the consumer's CPU time (user + system) until then: on a shared
    # machine wall time mostly measures the other jobs
    cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$pid/stat")
    kill -TERM "$pid"; wait "$pid" || true
    # the walsender may outlive its client by a moment
    for _ in $(seq 1 100); do
        sql "SELECT pg_drop_replication_slot('$slot')" >/dev/null 2>&1 && break
        sleep 0.1
    done
    echo "$(echo "$t1 - $t0" | bc) $cpu"
}

declare -A times cpus
variants=(none mig3)
[ -z "$BASE" ] || variants+=(base_none base_mig3)
nv=${#variants[@]}
for r in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 $((nv - 1))); do
        v=${variants[$(( (i + r) % nv ))]}
        read -r t c < <(run "$v" "$r")
        times[$v]="${times[$v]:-} $t"
        cpus[$v]="${cpus[$v]:-} $c"
        log "round $r: $v $t s (consumer CPU $c s)"
    done
done
LOAD1=$(load_now)

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# row LABEL VARIANT: a table row (medians of wall and consumer CPU time)
row() {
    # shellcheck disable=SC2086
    local w c
    w=$(median ${times[$2]}); c=$(median ${cpus[$2]})
    echo "| $1 | $w | $(echo "$ROWS / $w" | bc) | $c |${times[$2]} |${cpus[$2]} |"
}
# drop NONE MIG3 ARRAY: the throughput drop in % (of wall or CPU time)
drop() {
    local -n a=$3
    # shellcheck disable=SC2086
    echo "scale=1; 100 - 100 * $(median ${a[$1]}) / $(median ${a[$2]})" | bc
}
drop=$(drop none mig3 times)
cdrop=$(drop none mig3 cpus)
pass=$(echo "$drop <= 10" | bc)
base_rows=
base_line=
if [ -n "$BASE" ]; then
    base_rows="$(row "base binary ($BASE_LABEL), no migration" base_none)
$(row "base binary ($BASE_LABEL), 3 migration steps" base_mig3)"
    base_line="- The base binary in the same rounds: **$(drop base_none base_mig3 times)%** of wall time, $(drop base_none base_mig3 cpus)% of consumer CPU time"
fi

section=$(cat <<MD
<!-- bench-schema-migrate:start -->
## Schema migrations (W1, \`make bench-schema\`)

Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/schema_migrate.sh\`. Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(load_note "$LOAD0" "$LOAD1"). $ROWS rows in one transaction, $ROUNDS rounds, the variants taking turns, each decoding a copy of the same template slot, timed until the slot is confirmed (every event acknowledged by the mock Kafka cluster). Both variants run the schema stage; the rows have version 2's shape (name renamed to full_name, extra added, active retyped to text).

| variant | median s | events/s | consumer CPU s (median) | all rounds (s) | consumer CPU, all rounds (s) |
|---|---:|---:|---:|---|---|
$(row "schema stage, no migration" none)
$(row "3 migration steps to version 1" mig3)
$base_rows

The three steps: rename \`full_name\` to \`name\`, drop \`extra\`, cast \`active\` to a boolean (their result is tested by consumer/test/e2e/49_schema_migrate.sh, not here).

- Throughput drop with 3 migration steps: **${drop}%** (target <= 10%: **$([ "$pass" = 1 ] && echo PASS || echo MISS)**); of the consumer's CPU time: ${cdrop}%
$base_line
<!-- bench-schema-migrate:end -->
MD
)
printf '%s\n' "$section" | python3 "$ROOT/bench/lib/doc_section.py" "$DOC" bench-schema-migrate
echo "$section"
