#!/usr/bin/env bash
# bench/mysql.sh: the MySQL/MariaDB binlog source end to end, MariaDB to
# Kafka (`make bench-mysql`; issue 13, Performance).
#
#   bench/mysql.sh [m1] [m2] [m3]      default: all three
#
# M1: ROWS (1,000,000) rows inserted in one transaction, read from the
# binlog and delivered to Kafka, ROUNDS (5) times each, alternating:
#   - tributary: `tributary run` (mysql source from the transaction's
#     start, Kafka sink: idempotent producer, acks=all; file checkpoint,
#     fresh per round) until its checkpoint covers the whole transaction,
#     which happens only once Kafka acknowledged every record;
#   - peer: `mariadb-binlog --read-from-remote-server
#     --base64-output=DECODE-ROWS --verbose` over the same binlog range,
#     piped into `kcat -P`, until kcat exits (it flushes every message).
#     --verbose writes a row image as several lines (`### INSERT INTO`,
#     `### SET`, one `###   @N=value` per column); kcat sends each line.
# The median of each side and their ratio are reported (target <= 0.8),
# and the median of the daemon's CPU time (user + system, from
# /proc/PID/stat before it stops), which other jobs on a shared machine
# disturb far less than the seconds.
# M2: M2_TX (100,000) single-row transactions (autocommit INSERTs of a
# stored procedure), committed before the consumer starts: its
# transactions per second to the checkpoint after the last one.
# M3: M3_ROWS (10,000,000) rows in one transaction, one run: the
# consumer's peak RSS (VmHWM, read before it stops) against M1's highest.
# The source reads ahead into a queue of QUEUE_MB (4, queue_mb's default)
# MiB, which M1's binlog (about 32 MB) fills as M3's does; a QUEUE_MB
# larger than M1's binlog (64 was the default before) is never full at
# M1 and shows as M3's extra memory.
#
# MariaDB 10.11 runs unprivileged in a temp dir (scripts/lib/mariadb.sh)
# with innodb_flush_log_at_trx_commit=0 (loading is not measured); a
# throwaway PostgreSQL holds the pipeline lock; Kafka is librdkafka's mock
# cluster in a process of its own (consumer/tools/kafka_mock_server), the
# same for both sides.  The result replaces the bench-mysql section of
# docs/BENCHMARKS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib/mariadb.sh
source "$ROOT/scripts/lib/mariadb.sh"
# shellcheck source=lib/load.sh
source "$ROOT/bench/lib/load.sh"
ROWS=${ROWS:-1000000}
M2_TX=${M2_TX:-100000}
M3_ROWS=${M3_ROWS:-10000000}
ROUNDS=${ROUNDS:-5}
QUEUE_MB=${QUEUE_MB:-4}		# the source's read-ahead queue (queue_mb, its default)
DOC=${BENCH_DOC:-$ROOT/docs/BENCHMARKS.md}
BIN=${TRIBUTARY:-$ROOT/consumer/build/tributary}
TOOLS=$ROOT/consumer/build/tools
WORKLOADS=${*:-m1 m2 m3}
has() { case " $WORKLOADS " in *" $1 "*) return 0 ;; esac; return 1; }
log() { echo "[bench-mysql $(date +%T)] $*" >&2; }
now() { date +%s.%N; }
proc_kib() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
# proc_cpu PID: its user + system CPU seconds so far (fields 14 and 15 of
# /proc/PID/stat, after the command's parenthesis).
proc_cpu() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    echo "${s##*) }" | awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($12 + $13) / hz}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

LOAD0=$(load_now)
make -s -C "$ROOT/consumer" build >/dev/null
command -v kcat >/dev/null || { echo "bench-mysql: kcat is missing (scripts/install-deps)" >&2; exit 2; }
MOCK_PID=
cleanup() { [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null; mdb_cleanup; pgc_cleanup; }
trap cleanup EXIT
pgc_start
mdb_start "innodb_flush_log_at_trx_commit = 0" "max_binlog_size = 1073741824"
WORK=$MDB_DIR/bench
pgc_as mkdir -p "$WORK"
chmod 0777 "$WORK"
"$TOOLS/kafka_mock_server" 1 >"$WORK/mock.out" 2>/dev/null &
MOCK_PID=$!
for _ in $(seq 1 50); do [ -s "$WORK/mock.out" ] && break; sleep 0.1; done
BOOT=$(sed -n 1p "$WORK/mock.out")
mdb_sql -e "CREATE DATABASE bench; CREATE TABLE bench.t (id BIGINT PRIMARY KEY, a INT, b VARCHAR(40), c DOUBLE);
    CREATE TABLE bench.marker (id INT PRIMARY KEY)"

# master_pos: "FILE POS" of the binlog's end; packed FILE POS: the source's
# commit_lsn for a transaction starting there (file number << 32 | pos).
master_pos() { mdb_sql -N -e "SHOW MASTER STATUS" | awk '{print $1, $2}'; }
packed() { local n=${1##*.}; echo $(( (10#$n << 32) | $2 )); }

# run_tributary NAME FILE POS DONE: one round from FILE:POS until the
# checkpoint covers the transaction packed as DONE.  Prints "seconds
# peak_rss_kib cpu_seconds".
run_tributary() {
    local name=$1 t0 t1 pid ck seq c hwm cpu
    cat >"$WORK/$name.yaml" <<EOF
pipeline: $name
sources:
  my:
    type: mysql
    host: 127.0.0.1
    port: $MDB_PORT
    user: root
    server_id: $((7000 + RANDOM % 1000))
    start_file: $2
    start_pos: $3
    heartbeat_ms: 100
    queue_mb: $QUEUE_MB
    lock_dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=postgres"
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: $name
checkpoint:
  store: file
  path: $WORK/$name.ckpt
http:
  enabled: false
log:
  level: warn
EOF
    t0=$(now)
    "$BIN" run -c "$WORK/$name.yaml" 2>"$WORK/$name.log" &
    pid=$!
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "bench-mysql: tributary stopped early" >&2; cat "$WORK/$name.log" >&2; exit 1
        fi
        c=$(cat "$WORK/$name.ckpt" 2>/dev/null || true)
        if [[ $c =~ \"commit_lsn\":\"([0-9A-F]+)/([0-9A-F]+)\",\"seq\":([0-9]+) ]]; then
            ck=$(( (16#${BASH_REMATCH[1]} << 32) | 16#${BASH_REMATCH[2]} ))
            seq=${BASH_REMATCH[3]}
            if [ "$ck" -gt "$4" ] || { [ "$ck" -eq "$4" ] && [ "$seq" = 9223372036854775807 ]; }; then
                break
            fi
        fi
        sleep 0.02
    done
    t1=$(now)
    hwm=$(proc_kib "$pid" VmHWM)
    cpu=$(proc_cpu "$pid")
    kill -TERM "$pid"; wait "$pid" || true
    echo "$(echo "$t1 - $t0" | bc) $hwm $cpu"
}

# run_peer NAME FILE POS END: mariadb-binlog | kcat -P over FILE:POS..END.
run_peer() {
    local t0 t1
    t0=$(now)
    mariadb-binlog --no-defaults --read-from-remote-server --host=127.0.0.1 --port="$MDB_PORT" \
        --user=root --base64-output=DECODE-ROWS --verbose --start-position="$3" \
        --stop-position="$4" "$2" | kcat -P -b "$BOOT" -t "$1" -X acks=all \
        -X enable.idempotence=true 2>"$WORK/$1.kcat"
    t1=$(now)
    echo "$t1 - $t0" | bc
}

# load_one_tx N TABLE_OFFSET: N rows in one transaction; prints "FILE POS
# END" (its start, and the binlog's end after it).
load_one_tx() {
    local f p e
    read -r f p < <(master_pos)
    mdb_sql bench -e "INSERT INTO bench.t SELECT seq + $2, seq % 1000, CONCAT('row ', seq), seq / 7 FROM seq_1_to_$1"
    e=$(master_pos | awk '{print $2}')
    echo "$f $p $e"
}

M1=""
m1_hwm=0
if has m1 || has m3; then
    log "M1: loading $ROWS rows in one transaction"
    read -r F P E < <(load_one_tx "$ROWS" 0)
    DONE=$(packed "$F" "$P")
    ts=() ps=() cs=()
    for r in $(seq 1 "$ROUNDS"); do
        if [ $((r % 2)) = 1 ]; then order="t p"; else order="p t"; fi
        for side in $order; do
            if [ "$side" = t ]; then
                out=$(run_tributary "m1t$r" "$F" "$P" "$DONE"); read -r secs hwm cpu <<<"$out"
                ts+=("$secs")
                cs+=("$cpu")
                [ "$hwm" -gt "$m1_hwm" ] && m1_hwm=$hwm
                log "round $r tributary: $secs s (peak RSS $hwm KiB, CPU $cpu s)"
            else
                s=$(run_peer "m1p$r" "$F" "$P" "$E")
                ps+=("$s")
                log "round $r peer: $s s"
            fi
        done
    done
    mt=$(median "${ts[@]}"); mp=$(median "${ps[@]}")
    ratio=$(echo "scale=3; $mt / $mp" | bc)
    verdict=$([ "$(echo "$ratio <= 0.8" | bc)" = 1 ] && echo PASS || echo MISS)
    M1="| M1: $ROWS rows, one transaction | $mt s ($(echo "$ROWS / $mt" | bc) rows/s) | $mp s | $ratio (target <= 0.8: **$verdict**) | tributary ${ts[*]}; peer ${ps[*]}; daemon CPU $(median "${cs[@]}") s median (${cs[*]}) |"
fi

M2=""
if has m2; then
    log "M2: $M2_TX single-row transactions"
    read -r F P < <(master_pos)
    mdb_sql bench <<EOF
CREATE TABLE t2 (id INT PRIMARY KEY, v VARCHAR(20));
DELIMITER //
CREATE PROCEDURE many(n INT) BEGIN DECLARE i INT DEFAULT 0;
  WHILE i < n DO INSERT INTO t2 VALUES (i, 'x'); SET i = i + 1; END WHILE; END//
DELIMITER ;
CALL many($M2_TX);
EOF
    read -r MF MP < <(master_pos)
    mdb_sql -e "INSERT INTO bench.marker VALUES (1)"
    out=$(run_tributary m2 "$F" "$P" "$(packed "$MF" "$MP")"); read -r secs hwm cpu <<<"$out"
    tps=$(echo "($M2_TX + 1) / $secs" | bc)
    log "M2: $secs s, $tps transactions/s, CPU $cpu s"
    M2="| M2: $M2_TX single-row transactions | $secs s ($tps transactions/s) | | | peak RSS $((hwm / 1024)) MiB; daemon CPU $cpu s |"
fi

M3=""
if has m3; then
    log "M3: loading $M3_ROWS rows in one transaction"
    read -r F P E < <(load_one_tx "$M3_ROWS" 100000000)
    out=$(run_tributary m3 "$F" "$P" "$(packed "$F" "$P")"); read -r secs big cpu <<<"$out"
    flat=$([ "$big" -le $((m1_hwm * 11 / 10)) ] && echo PASS || echo MISS)
    log "M3: $secs s, peak RSS $big KiB, CPU $cpu s (M1: $m1_hwm KiB)"
    M3="| M3: $M3_ROWS rows, one transaction | $secs s ($(echo "$M3_ROWS / $secs" | bc) rows/s) | | | peak RSS $((big / 1024)) MiB vs $((m1_hwm / 1024)) MiB at $ROWS rows: flat (within 10%): **$flat** |"
fi

LOAD1=$(load_now)
section=$(cat <<EOF
<!-- bench-mysql:start -->
## MySQL/MariaDB source to Kafka (\`make bench-mysql\`)

Measured $(date -u '+%Y-%m-%d %H:%M UTC') by \`bench/mysql.sh $WORKLOADS\` (queue_mb $QUEUE_MB). Machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(free -g | awk '/Mem:/ {print $2}') GiB RAM, $(mariadbd --version 2>/dev/null | awk '{print $3}' || echo MariaDB), $(load_note "$LOAD0" "$LOAD1"). Table bench.t (BIGINT key, INT, VARCHAR(40), DOUBLE); binlog_format=ROW, binlog_row_image=FULL, binlog_row_metadata=FULL. tributary: \`tributary run\` from the transaction's binlog position into Kafka (librdkafka's mock cluster in its own process; idempotent producer, acks=all) until its checkpoint covers the transaction (checkpoints are written every 200 ms). Peer: \`mariadb-binlog --read-from-remote-server --base64-output=DECODE-ROWS --verbose | kcat -P\` over the same range (a row image is 2 + 4 lines there, each a Kafka message). Median of $ROUNDS alternating rounds.

| workload | tributary | peer | ratio | notes |
|---|---:|---:|---:|---|
$M1
$M2
$M3
<!-- bench-mysql:end -->
EOF
)
python3 "$ROOT/bench/lib/doc_section.py" "$DOC" bench-mysql <<<"$section"
echo "$section"
