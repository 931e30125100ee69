#!/usr/bin/env bash
# 101_snapshot_fault_no_duplicates.sh: an append-only file sink holds every
# snapshot row exactly once after faults during the copy (docs/SNAPSHOT.md,
# Positions).  A sink is usually ahead of the snapshot's checkpoint (the
# progress is saved about once a second, only for chunks every sink
# acknowledged); the copy resumes after the checkpoint's key, and the file
# sink, told what the checkpoint counts, cuts its files back to the end of
# the last line it counts (sink.h rewind, sink_file_ids.h) before the rest
# is sent again.  Before, the file had those rows twice.
#
# Part A, PostgreSQL 15, `snapshot: initial`, three tables (an int key, a
# composite text+int key, a bigint key), `snapshot_workers: 2`, chunks of
# 500 rows, a file sink rotated every 2 MB (cuts go back into rotated
# segments): kill -9 at 20%, 45% and 70% of the rows acknowledged, a
# restart each time, then a copy to the end and a few changes streamed.
# Checks: each restart resumed the copy and at least one cut the file
# back; every row of each table is in the file exactly once (by key), the
# streamed changes once each.
# Part B, MariaDB 10.11 (`snapshot: initial`, two workers, a composite key
# under a case-insensitive collation): one kill -9 at half the rows, a
# restart; every row once, a streamed insert once.
# Part C, two file sinks, one ahead of the other: the second is paused
# through the control API (pause_buffer_mb: 1) while the first goes on, so
# the checkpoint follows the paused one; kill -9; restart, resume the
# paused sink; each file has every row exactly once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../../../scripts/lib/mariadb.sh
source "$ROOT/scripts/lib/mariadb.sh"
e2e_init
trap 'mdb_cleanup; e2e_cleanup' EXIT
# shellcheck source=control_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/control_lib.sh"
build_consumer
pgc_start

BIG=60000 MID=30000 SMALL=6000
pgc_psql -q -d postgres >/dev/null <<SQL
CREATE TABLE public.big (id int PRIMARY KEY, v text);
CREATE TABLE public.mid (k text, n int, v text, PRIMARY KEY (k, n));
CREATE TABLE public.small (id bigint PRIMARY KEY, v text);
INSERT INTO public.big SELECT g, repeat('b', 60) || g FROM generate_series(1, $BIG) g;
INSERT INTO public.mid SELECT 'K' || (g % 7) || CASE WHEN g % 2 = 0 THEN 'a' ELSE 'B' END, g,
  'm' || g FROM generate_series(1, $MID) g;
INSERT INTO public.small SELECT g, 's' || g FROM generate_series(1, $SMALL) g;
SQL
TOTAL=$((BIG + MID + SMALL))
NO_HTTP='http: {enabled: false}'

# pg_config NAME SINKS [EXTRA]: $WORK/NAME.yaml, pipeline NAME copying the
# three tables (two workers, chunks of 500) then streaming, into SINKS (the
# lines of `sinks:`), checkpoint $WORK/NAME.ckpt; EXTRA top-level lines.
pg_config() {
    cat >"$WORK/$1.yaml" <<YAML
pipeline: $1
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: initial
    snapshot_workers: 2
    snapshot_chunk_rows: 500
    heartbeat_interval_ms: 500
    status_interval_ms: 200
sinks:
$2
checkpoint: {store: file, path: "$WORK/$1.ckpt"}
${3:-$NO_HTTP}
YAML
    "$BIN" check -c "$WORK/$1.yaml" >/dev/null
}
# acked_total NAME: rows the checkpoint of NAME counts, all tables.
acked_total() {
    jq -r '[.position.snapshot.tables[]?.rows] | add // 0' "$WORK/$1.ckpt" 2>/dev/null || echo 0
}
# lines_of FILE: the file sink's lines, its rotated segments first, in order.
lines_of() {
    local n=1
    while [ -f "$1.$n" ]; do cat "$1.$n"; n=$((n + 1)); done
    cat "$1"
}
# rows_of FILE: "table key" of every op r line.
rows_of() {
    lines_of "$1" | jq -r 'select(.value.op == "r") | "\(.value.source.table) \(.key | tojson)"'
}
# copy_check WHAT FILE TABLE:ROWS...: every row of each table in FILE once.
copy_check() {
    local what=$1 file=$2 t rows
    shift 2
    rows_of "$file" | sort >"$WORK/rows"
    expect_eq "$what: no row twice" "" "$(uniq -d "$WORK/rows" | head -3 | tr '\n' ' ')"
    echo "# $what: $(uniq -d "$WORK/rows" | wc -l) rows twice, $(wc -l <"$WORK/rows") lines of op r"
    for t in "$@"; do
        rows=${t#*:} t=${t%%:*}
        expect_eq "$what: $t, every row once" "$rows $rows" \
            "$(awk -v t="$t" '$1 == t { n++; k[$2] = 1 } END { printf "%d %d", n, length(k) }' "$WORK/rows")"
    done
}
# stream_once WHAT FILE TABLE OP: a streamed change of TABLE with op OP is
# in FILE exactly once (waits up to 60 s for it).
stream_once() {
    local n=0
    for _ in $(seq 1 600); do
        n=$(lines_of "$2" | jq -r --arg t "$3" --arg op "$4" \
            'select(.value.op == $op and .value.source.table == $t) | 1' | wc -l)
        [ "$n" -ge 1 ] && break
        sleep 0.1
    done
    sleep 0.5
    n=$(lines_of "$2" | jq -r --arg t "$3" --arg op "$4" \
        'select(.value.op == $op and .value.source.table == $t) | 1' | wc -l)
    expect_eq "$1: the streamed $4 of $3 once" 1 "$n"
}
# kill_at NAME FILE PERCENT: once the copy has begun, run the daemon at a
# quarter of its pace until the checkpoint counts PERCENT of the rows,
# then kill -9 it.
kill_at() {
    at_pct() { [ "$(acked_total "$1")" -ge $(( TOTAL * $2 / 100 )) ]; }
    wait_copying "$2" big || true
    paced_until at_pct "$1" "$3" || true
    kill_consumer
    echo "# $1: killed with $(acked_total "$1") of $TOTAL rows counted," \
        "state $(jq -r '.position.snapshot.state // "none"' "$WORK/$1.ckpt")"
}

# ---- A: PostgreSQL, three kills, rotated file -------------------------------
pg_config a "  archive: {type: file, path: \"$WORK/a.jsonl\", rotate_bytes: 2000000}"
start_consumer "$WORK/a.yaml" "$WORK/a.log"
for pct in 20 45 70; do
    kill_at a "$WORK/a.jsonl" "$pct"
    start_consumer "$WORK/a.yaml" "$WORK/a.log"
done
wait_log "$WORK/a.log" "copy complete" 180 || fail "A: the copy completed" "see a.log"
pgc_psql -d postgres -q -c "INSERT INTO public.big VALUES ($BIG + 1, 'new')" \
    -c "UPDATE public.mid SET v = 'changed' WHERE n = 7" -c "DELETE FROM public.small WHERE id = 1"
stream_once A "$WORK/a.jsonl" big c
stream_once A "$WORK/a.jsonl" mid u
stream_once A "$WORK/a.jsonl" small d
stop_consumer
expect_eq "A: the daemon stopped cleanly" 0 "$STOP_RC"
expect_eq "A: each restart resumed the copy" 3 "$(grep -c 'resuming the copy' "$WORK/a.log" || true)"
expect_eq "A: a restart cut the file back to the checkpoint" 1 \
    "$(( $(grep -c 'cut back to byte' "$WORK/a.log" || true) >= 1 ))"
echo "# A: $(grep -c 'an earlier segment' "$WORK/a.log" || true) cut(s) into a rotated segment," \
    "$(ls "$WORK"/a.jsonl.[0-9]* 2>/dev/null | wc -l) segments"
copy_check A "$WORK/a.jsonl" "big:$BIG" "mid:$MID" "small:$SMALL"
expect_no_grep "A: no error" "$WORK/a.log" "ERROR"

# ---- C: two file sinks, one ahead of the other -------------------------------
C_SINKS="  first: {type: file, path: \"$WORK/c1.jsonl\", rotate_bytes: 0}
  second: {type: file, path: \"$WORK/c2.jsonl\", rotate_bytes: 0}"
C_HTTP="pause_buffer_mb: 1
http:
  listen: \"127.0.0.1:0\"
  token_file: \"$WORK/token\""
pg_config c "$C_SINKS" "$C_HTTP"
cp "$WORK/c.yaml" "$WORK/p.yaml"
serve
wait_copying "$WORK/c1.jsonl" big || true
freeze_consumer
api_tok "C: pause the second sink" 200 POST /api/v1/sinks/second/pause
thaw_consumer
# the first sink goes on until the second's buffer (1 MiB) is full
sleep 3
first=$(rows_of "$WORK/c1.jsonl" | wc -l) second=$(rows_of "$WORK/c2.jsonl" | wc -l)
echo "# C: killed with $first rows in the first file, $second in the second," \
    "$(acked_total c) counted"
expect_eq "C: the first sink was ahead of the second" t "$([ "$first" -gt "$second" ] && echo t || echo f)"
kill_consumer
serve
api_tok "C: resume the second sink" 200 POST /api/v1/sinks/second/resume
wait_log "$WORK/run.log" "copy complete" 180 || fail "C: the copy completed" "see run.log"
pgc_psql -d postgres -q -c "INSERT INTO public.big VALUES ($BIG + 2, 'new')"
stream_once C1 "$WORK/c1.jsonl" big c
stream_once C2 "$WORK/c2.jsonl" big c
stop_consumer
copy_check "C, first sink" "$WORK/c1.jsonl" "big:$((BIG + 1))" "mid:$MID" "small:$((SMALL - 1))"
copy_check "C, second sink" "$WORK/c2.jsonl" "big:$((BIG + 1))" "mid:$MID" "small:$((SMALL - 1))"

# ---- B: MariaDB, one kill ---------------------------------------------------
mdb_start
mdb_sql <<SQL
CREATE DATABASE shop;
USE shop;
CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(60));
CREATE TABLE tags (name VARCHAR(20) COLLATE utf8mb4_general_ci, n INT, PRIMARY KEY (name, n));
INSERT INTO items SELECT seq, CONCAT(REPEAT('i', 60 - LENGTH(seq)), seq) FROM seq_1_to_60000;
INSERT INTO tags SELECT CONCAT(IF(seq % 2, 'a', 'B'), seq % 5), seq, NULL FROM seq_1_to_20000;
SQL
cat >"$WORK/b.yaml" <<YAML
pipeline: b101
sources:
$(mysql_yaml 10101 "" db)
    heartbeat_ms: 200
    snapshot_workers: 2
    snapshot_chunk_rows: 500
$(archive_yaml "$WORK/b.jsonl" "$WORK/b.ckpt")
YAML
TOTAL=80000
start_consumer "$WORK/b.yaml" "$WORK/b.log"
at_half() { [ "$(acked_total b)" -ge $(( TOTAL / 2 )) ]; }
wait_copying "$WORK/b.jsonl" items || true
paced_until at_half || true
kill_consumer
echo "# B: killed with $(acked_total b) of $TOTAL rows counted"
start_consumer "$WORK/b.yaml" "$WORK/b.log"
wait_log "$WORK/b.log" "copy complete" 180 || fail "B: the copy completed" "see b.log"
mdb_sql shop -e "INSERT INTO items VALUES (60001, 'new')"
stream_once B "$WORK/b.jsonl" items c
stop_consumer
expect_eq "B: the restart resumed the copy" 1 "$(grep -c 'resuming the copy' "$WORK/b.log" || true)"
copy_check B "$WORK/b.jsonl" "items:60000" "tags:20000"

expect_no_sanitizer "no sanitizer report" "$WORK"/a.log "$WORK"/run.log "$WORK"/b.log
e2e_finish
