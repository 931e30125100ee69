#!/usr/bin/env bash
# bench/decode.sh: decode-only benchmark of the tributary output plugin
# against its peers (workload W1 of the shared bench README), plus a
# W4-style check that the walsender's memory stays flat as the transaction
# grows.  `make bench-decode` runs it with no arguments.
#
#   bench/decode.sh [all|decode|memory]      (default: all)
#
#   decode  W1: ROWS rows in one transaction, decoded by every plugin in
#           PLUGINS, ROUNDS rounds in alternating order.
#   memory  peak walsender RSS for MEM_PLUGINS at MEM_ROWS_SMALL and
#           MEM_ROWS_LARGE rows in one transaction.
#   all     decode, then memory when MEMCHECK=1.
#
# Environment (defaults in brackets; QUICK=1 shrinks them for iteration):
#   ROWS [1000000; quick 100000]      ROUNDS [5; quick 3]
#   PLUGINS ["tributary pgoutput wal2json test_decoding floor"]
#   MEMCHECK [1]   MEM_PLUGINS ["tributary pgoutput"]
#   MEM_ROWS_SMALL [1000000; quick 300000]
#   MEM_ROWS_LARGE [5000000; quick 900000]
#   BENCH_DOC [docs/BENCHMARKS.md; empty: do not write it]
#   BENCH_SHARED [<repo>/../shared/bench, else /work/shared/bench]
#   KEEP_WORK=1 keeps the raw per-run results (printed path) after exit.
#
# Design
# - One throwaway cluster (scripts/lib/pgcluster.sh: runs as the unprivileged
#   test user on a free port, removed by the EXIT trap), tuned so nothing but
#   decoding runs during the timed window: shared_buffers=1GB,
#   max_wal_size=20GB and checkpoint_timeout=1h (no checkpoint mid-run),
#   logical_decoding_work_mem=64MB spelled with its unit (a bare 64 would be
#   64kB), autovacuum off (the load is checkpointed explicitly before the
#   first round).
# - Same WAL for every run: a template slot `tmpl` (test_decoding) is created
#   BEFORE the load and never consumed.  Each run copies it with the run's
#   plugin (pg_copy_logical_replication_slot keeps restart_lsn and
#   confirmed_flush, so the copy decodes the load), decodes to the end LSN
#   recorded right after the load, and drops the copy.  An untimed check
#   first counts the rows a copy actually decodes (and warms the page cache).
# - Each run's copy gets its own name (run_<plugin>_r<round>), never a reused
#   "run_x": while testing, a reused name once failed mid-run with "could not
#   open file pg_replslot/run_x/xid-...spill: No such file or directory" (the
#   slot directory had vanished under the running walsender).  A run whose
#   pg_recvlogical fails is retried once under a new name; retries are logged
#   and listed in the doc, a second failure aborts.
# - pg_recvlogical -E stops at the first message whose LSN is >= the end LSN,
#   or at a keepalive past it.  pgoutput and test_decoding tag their COMMIT
#   with the commit's end, which is the end LSN; the floor sends nothing and
#   tributary sends its commit in a message of its own tagged with the
#   commit's end too; the floor stops on the keepalive the walsender sends
#   once it has caught up.  Any
#   decodable WAL after the end LSN would therefore be decoded by them too:
#   nothing but a checkpoint record may follow a load while it is measured.
# - Only pg_recvlogical is timed (date +%s.%N around it): slot copy and drop
#   are outside the window.  Order alternates: odd rounds in PLUGINS order,
#   even rounds reversed.  "floor" is pgoutput with an empty publication:
#   WAL read plus reorder buffer, no output.
# - Memory: bench/lib/walsender_rss.py finds the run's walsender among the
#   postmaster's children in /proc (no extra connection in the timed window)
#   and polls /proc/PID/status every 50 ms; VmHWM, re-read on every poll,
#   gives the peak RSS.  spill_bytes from pg_stat_replication_slots is read
#   before each drop (a transaction that fits in logical_decoding_work_mem
#   does not spill and says nothing about flatness).
# - bench/lib/decode_report.py takes medians/ratios, prints the table and
#   rewrites only the part of docs/BENCHMARKS.md between
#   <!-- bench-decode:start --> and <!-- bench-decode:end -->.
set -euo pipefail

MODE=${1:-all}
case $MODE in
    all|decode|memory) ;;
    -h|--help|help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: $0 [all|decode|memory]" >&2; exit 2 ;;
esac

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(git -C "$HERE" rev-parse --show-toplevel 2>/dev/null || (cd "$HERE/.." && pwd))

log() { printf '[bench-decode %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- configuration ---------------------------------------------------------
QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    ROWS=${ROWS:-100000}; ROUNDS=${ROUNDS:-3}
    # both above the ~250,000 rows that fill 64MB of reorder buffer, so
    # that both sizes spill and the comparison means something
    MEM_ROWS_SMALL=${MEM_ROWS_SMALL:-300000}; MEM_ROWS_LARGE=${MEM_ROWS_LARGE:-900000}
fi
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-5}
PLUGINS=${PLUGINS:-tributary tributary-b0 pgoutput wal2json test_decoding floor}
MEMCHECK=${MEMCHECK:-1}
MEM_PLUGINS=${MEM_PLUGINS:-tributary pgoutput}
MEM_ROWS_SMALL=${MEM_ROWS_SMALL:-1000000}
MEM_ROWS_LARGE=${MEM_ROWS_LARGE:-5000000}
BENCH_DOC=${BENCH_DOC-$ROOT/docs/BENCHMARKS.md}
KEEP_WORK=${KEEP_WORK:-0}

if [ -z "${BENCH_SHARED:-}" ]; then
    for d in "$ROOT/../shared/bench" /work/shared/bench; do
        if [ -f "$d/workload.sql" ]; then BENCH_SHARED=$(cd "$d" && pwd); break; fi
    done
fi
[ -f "${BENCH_SHARED:-}/workload.sql" ] || die "shared bench workloads not found (set BENCH_SHARED)"

# shellcheck source=scripts/lib/pgcluster.sh disable=SC1091
source "$ROOT/scripts/lib/pgcluster.sh"
PKGLIBDIR=$("$PG_CONFIG" --pkglibdir)

# plugin_setup NAME: sets PLUGIN_LIB (the output plugin a slot copy gets)
# and PLUGIN_OPTS (the pg_recvlogical options of the run).
plugin_setup() {
    case $1 in
        tributary)     PLUGIN_LIB=tributary;     PLUGIN_OPTS=() ;;
        # The same plugin with one record per CopyData message (no batching).
        tributary-b0)  PLUGIN_LIB=tributary;     PLUGIN_OPTS=(-o batch-bytes=0) ;;
        pgoutput)      PLUGIN_LIB=pgoutput;      PLUGIN_OPTS=(-o proto_version=1 -o publication_names=bench_pub) ;;
        wal2json)      PLUGIN_LIB=wal2json;      PLUGIN_OPTS=(-o format-version=2) ;;
        test_decoding) PLUGIN_LIB=test_decoding; PLUGIN_OPTS=() ;;
        floor)         PLUGIN_LIB=pgoutput;      PLUGIN_OPTS=(-o proto_version=1 -o publication_names=bench_empty) ;;
        *) die "unknown plugin '$1' (known: tributary tributary-b0 pgoutput wal2json test_decoding floor)" ;;
    esac
}

# available_plugins LIST: sets AVAIL to the plugins of LIST whose library
# is installed, warns about the others (tributary before it is built) and
# adds them to SKIPPED.
SKIPPED=""
available_plugins() {
    local p
    AVAIL=""
    for p in $1; do
        plugin_setup "$p"
        if [ -f "$PKGLIBDIR/$PLUGIN_LIB.so" ]; then
            AVAIL="${AVAIL:+$AVAIL }$p"
        else
            log "WARNING: $PLUGIN_LIB.so is not in $PKGLIBDIR; skipping '$p'"
            case " $SKIPPED " in *" $p "*) ;; *) SKIPPED="${SKIPPED:+$SKIPPED }$p" ;; esac
        fi
    done
}

# elapsed T0 T1: T1 - T0 in seconds, 3 decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ---- cluster and cleanup ---------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/bench-decode.XXXXXX")
SAMPLER_PID=""
cleanup() {
    local rc=$?
    if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
    if [ "$rc" != 0 ] && [ -n "${PGC_DIR:-}" ] && [ -f "$PGC_DIR/server.log" ]; then
        cp "$PGC_DIR/server.log" "$WORK/server.log" 2>/dev/null || true
        log "last lines of the server log:"
        tail -n 20 "$PGC_DIR/server.log" >&2 || true
    fi
    pgc_cleanup
    if [ "$KEEP_WORK" = 1 ]; then log "raw results kept in $WORK"; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_cluster() {
    log "starting a cluster (shared_buffers=1GB, logical_decoding_work_mem=64MB)"
    pgc_start \
        "shared_buffers = 1GB" \
        "max_wal_size = 20GB" \
        "checkpoint_timeout = 1h" \
        "logical_decoding_work_mem = 64MB" \
        "autovacuum = off" \
        "log_min_messages = warning"
    local ldwm
    ldwm=$(pgc_psql -Atc "SELECT pg_size_pretty(setting::bigint * 1024) FROM pg_settings WHERE name = 'logical_decoding_work_mem'")
    [ "$ldwm" = "64 MB" ] || die "logical_decoding_work_mem is $ldwm, expected 64 MB"
    PG_VERSION_STR=$(pgc_psql -Atc "SELECT 'PostgreSQL ' || current_setting('server_version')")
    log "cluster up: port $PGC_PORT, $PG_VERSION_STR"
}

# setup_db DB: the workload table and both publications in a new database.
setup_db() {
    pgc_psql -c "CREATE DATABASE $1"
    pgc_psql -d "$1" -f "$BENCH_SHARED/workload.sql"
    pgc_psql -d "$1" -c "CREATE PUBLICATION bench_pub FOR ALL TABLES" \
                     -c "CREATE PUBLICATION bench_empty"
}

# make_template DB SLOT: the never-consumed slot every run copies.
make_template() {
    pgc_psql -d "$1" -Atc \
        "SELECT 1 FROM pg_create_logical_replication_slot('$2', 'test_decoding')" >/dev/null
}

# load_rows DB N: N rows in ONE transaction (the W1 insert); prints the
# end LSN, pg_current_wal_lsn() right after the commit.
load_rows() {
    local t0 t1
    t0=$(date +%s.%N)
    pgc_psql -d "$1" -c "
        INSERT INTO public.bench_events(name, email, amount, active, meta)
        SELECT 'name' || g, 'user' || g || '@example.com', g * 1.5, g % 2 = 0, jsonb_build_object('k', g)
        FROM generate_series(1, $2) g"
    t1=$(date +%s.%N)
    log "loaded $2 rows into $1 in $(elapsed "$t0" "$t1") s"
    pgc_psql -d "$1" -Atc "SELECT pg_current_wal_lsn()"
}

# settle DB: flush the load's dirty buffers before timing starts.  Only a
# checkpoint record follows the end LSN (no VACUUM/ANALYZE: their WAL would
# be read past the end LSN by the plugins that stop on a keepalive).
settle() {
    pgc_psql -d "$1" -c "CHECKPOINT"
}

# drop_slot DB SLOT: drop once the walsender has let go of it.
drop_slot() {
    pgc_psql -d "$1" -c "
DO \$\$
BEGIN
    FOR i IN 1..600 LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_replication_slots
                       WHERE slot_name = '$2' AND active) THEN
            PERFORM pg_drop_replication_slot('$2');
            RETURN;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
    RAISE EXCEPTION 'slot $2 still active after 30 s';
END \$\$"
}

# verify DB TEMPLATE END ROWS: untimed; a test_decoding copy of the template
# must decode exactly ROWS inserts up to END.  Guards against timing a copy
# that starts after the load (and warms the WAL into the page cache).
verify() {
    local n
    pgc_psql -d "$1" -Atc \
        "SELECT 1 FROM pg_copy_logical_replication_slot('$2', 'verify_x', false, 'test_decoding')" >/dev/null
    n=$(pgc_psql -d "$1" -Atc "
        SELECT count(*) FROM pg_logical_slot_peek_changes('verify_x', '$3', NULL)
        WHERE data LIKE 'table public.bench_events: INSERT:%'")
    drop_slot "$1" verify_x
    [ "$n" = "$4" ] || die "a copy of slot $2 decodes $n inserts up to $3, expected $4"
    log "check: a copy of $2 decodes all $n inserts up to $3"
}

# slot_spill DB SLOT: the slot's spill_bytes once its walsender has let go.
slot_spill() {
    pgc_psql -d "$1" -Atc "
DO \$\$
BEGIN
    FOR i IN 1..600 LOOP
        EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_replication_slots
                              WHERE slot_name = '$2' AND active);
        PERFORM pg_sleep(0.05);
    END LOOP;
END \$\$" -c "SELECT coalesce((SELECT spill_bytes FROM pg_stat_replication_slots
                               WHERE slot_name = '$2'), 0)"
}

# decode_once DB TEMPLATE END PLUGIN SLOT: copy TEMPLATE to SLOT with the
# plugin, time pg_recvlogical up to END, drop SLOT.  Prints "seconds pid
# vmrss_peak vmhwm rssanon_peak rssshmem_peak samples spill_bytes"; returns 1
# (slot dropped, error in $WORK/recvlogical.err) if pg_recvlogical fails.
decode_once() {
    local db=$1 tmpl=$2 end=$3 slot=$5 t0 t1 i rss spill ok=1
    plugin_setup "$4"
    pgc_psql -d "$db" -Atc \
        "SELECT 1 FROM pg_copy_logical_replication_slot('$tmpl', '$slot', false, '$PLUGIN_LIB')" >/dev/null

    rm -f "$WORK/ready" "$WORK/stop"
    python3 "$HERE/lib/walsender_rss.py" "$PGC_PID" "$WORK/ready" "$WORK/stop" >"$WORK/rss" &
    SAMPLER_PID=$!
    for i in $(seq 1 200); do [ -e "$WORK/ready" ] && break; sleep 0.05; done
    [ -e "$WORK/ready" ] || die "memory sampler did not start"

    t0=$(date +%s.%N)
    pgc_as "$PGBIN/pg_recvlogical" -h "$PGC_SOCK" -p "$PGC_PORT" -U postgres -d "$db" \
        -S "$slot" --start -E "$end" --no-loop -f /dev/null "${PLUGIN_OPTS[@]}" \
        2>"$WORK/recvlogical.err" || ok=0
    t1=$(date +%s.%N)

    touch "$WORK/stop"
    wait "$SAMPLER_PID" || true
    SAMPLER_PID=""
    rss=$(cat "$WORK/rss")
    spill=$(slot_spill "$db" "$slot")
    drop_slot "$db" "$slot"
    [ "$ok" = 1 ] || return 1
    echo "$(elapsed "$t0" "$t1") $rss $spill"
}

# decode_run DB TEMPLATE END PLUGIN SLOT: decode_once, retried once (with a
# new slot name) if pg_recvlogical fails; the failure is logged, kept in
# $WORK/retries and reported in the doc.  A second failure is fatal.
decode_run() {
    local res
    if res=$(decode_once "$@"); then echo "$res"; return 0; fi
    log "WARNING: pg_recvlogical failed for $4 (slot $5), retrying once: $(tr '\n' ' ' <"$WORK/recvlogical.err")"
    echo "$4 $5: $(tr '\n' ' ' <"$WORK/recvlogical.err")" >>"$WORK/retries"
    if res=$(decode_once "$1" "$2" "$3" "$4" "${5}_retry"); then echo "$res"; return 0; fi
    cat "$WORK/recvlogical.err" >&2
    die "pg_recvlogical failed twice for plugin $4"
}

# fmt_run PLUGIN RESULT: one progress line.
fmt_run() {
    local s hwm anon spill
    read -r s _ _ hwm anon _ _ spill <<<"$2"
    if [ "$hwm" = NA ]; then
        printf '%-13s %7.3f s  (walsender not sampled)' "$1" "$s"
    else
        printf '%-13s %7.3f s  peak RSS %4d MiB (anon %4d MiB), spilled %d MiB' \
            "$1" "$s" $((hwm / 1024)) $((anon / 1024)) $((spill / 1048576))
    fi
}

# ---- W1: decode-only timing ------------------------------------------------
run_decode() {
    local plugins order r p res i
    available_plugins "$PLUGINS"; plugins=$AVAIL
    [ -n "$plugins" ] || die "no plugin to benchmark"
    log "W1 decode-only: $ROWS rows, $ROUNDS rounds, plugins: $plugins"

    setup_db bench
    make_template bench tmpl
    W1_END=$(load_rows bench "$ROWS")
    settle bench
    verify bench tmpl "$W1_END" "$ROWS"

    read -r -a order <<<"$plugins"
    : >"$WORK/timings.tsv"
    for ((r = 1; r <= ROUNDS; r++)); do
        local this=("${order[@]}")
        if ((r % 2 == 0)); then
            this=()
            for ((i = ${#order[@]} - 1; i >= 0; i--)); do this+=("${order[i]}"); done
        fi
        log "round $r/$ROUNDS: ${this[*]}"
        for p in "${this[@]}"; do
            res=$(decode_run bench tmpl "$W1_END" "$p" "run_${p//-/_}_r$r")
            echo "$p $r $res" >>"$WORK/timings.tsv"
            log "  $(fmt_run "$p" "$res")"
        done
    done
    DECODE_PLUGINS=$plugins
    # release the W1 WAL before the memory check writes a lot more
    drop_slot bench tmpl
}

# ---- W4-style memory check ---------------------------------------------------
run_memory() {
    local plugins size rows end p res
    available_plugins "$MEM_PLUGINS"; plugins=$AVAIL
    [ -n "$plugins" ] || die "no plugin for the memory check"
    log "memory check: $MEM_ROWS_SMALL and $MEM_ROWS_LARGE rows in one transaction, plugins: $plugins"

    # A fresh database: its own table, publications and template slots.  One
    # stage per size, the large load only after the small runs, so that no
    # decodable WAL follows a run's end LSN (see the note on -E at the top).
    setup_db bench_mem
    : >"$WORK/memory.tsv"
    for size in small large; do
        if [ "$size" = small ]; then rows=$MEM_ROWS_SMALL; else rows=$MEM_ROWS_LARGE; fi
        make_template bench_mem "tmpl_$size"
        end=$(load_rows bench_mem "$rows")
        settle bench_mem
        verify bench_mem "tmpl_$size" "$end" "$rows"
        for p in $plugins; do
            res=$(decode_run bench_mem "tmpl_$size" "$end" "$p" "mem_${p}_$size")
            echo "$p $rows $res" >>"$WORK/memory.tsv"
            log "  $rows rows: $(fmt_run "$p" "$res")"
        done
        drop_slot bench_mem "tmpl_$size"
    done
}

# trib_lib_info: which tributary.so is installed (mtime and a short sha256),
# taken at start and end to catch a reinstall in the middle of a run.
trib_lib_info() {
    local so=$PKGLIBDIR/tributary.so
    if [ -f "$so" ]; then
        echo "$so, built $(date -u -r "$so" '+%Y-%m-%d %H:%M:%S UTC'), sha256 $(sha256sum "$so" | cut -c1-12)"
    else
        echo "not installed"
    fi
}

# ---- main --------------------------------------------------------------------
TRIB_LIB=$(trib_lib_info)
start_cluster
DECODE_PLUGINS=""
if [ "$MODE" != memory ]; then run_decode; fi
if [ "$MODE" = memory ] || { [ "$MODE" = all ] && [ "$MEMCHECK" = 1 ]; }; then run_memory; fi

TRIB_LIB_END=$(trib_lib_info)
if [ "$TRIB_LIB_END" != "$TRIB_LIB" ]; then
    log "WARNING: tributary.so changed during the run (was: $TRIB_LIB; now: $TRIB_LIB_END)"
    TRIB_LIB="$TRIB_LIB; WARNING: replaced during the run (now $TRIB_LIB_END), so the tributary runs may mix two builds"
fi
report=(python3 "$HERE/lib/decode_report.py"
    --rows "$ROWS" --rounds "$ROUNDS" --plugins "$DECODE_PLUGINS" --skipped "$SKIPPED"
    --mem-rows "$MEM_ROWS_SMALL $MEM_ROWS_LARGE" --pg-version "$PG_VERSION_STR"
    --tributary-lib "$TRIB_LIB" --quick "$QUICK" --doc "$BENCH_DOC")
if [ -s "$WORK/retries" ]; then report+=(--retries "$WORK/retries"); fi
if [ -s "$WORK/timings.tsv" ] 2>/dev/null; then report+=(--timings "$WORK/timings.tsv"); fi
if [ -s "$WORK/memory.tsv" ] 2>/dev/null; then report+=(--memory "$WORK/memory.tsv"); fi
"${report[@]}"
[ -z "$BENCH_DOC" ] || log "wrote the bench-decode section of $BENCH_DOC"
