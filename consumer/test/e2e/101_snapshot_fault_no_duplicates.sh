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
# Part A, PostgreSQL 15 (read slowly: a row security policy sleeps 10 ms
# per 100 rows), `snapshot: initial`, three tables (an int key, a
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
# Part C, two file sinks, one ahead of the other (the first rotates often,
# and a rotation makes its rows durable between the pipeline's flushes):
# kill -9 while the first's sidecar is past the second's; after the
# restart both were cut back and each file has every row exactly once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=../../../scripts/lib/mariadb.sh
source "$ROOT/scripts/lib/mariadb.sh"
e2e_init
trap 'mdb_cleanup; e2e_cleanup' EXIT
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
-- reading takes a few seconds (10 ms per 100 rows, two workers), so that
-- kills land inside the copy; the pipeline connects as trib, not a
-- superuser, for the row security policies to apply
CREATE ROLE trib LOGIN REPLICATION;
GRANT SELECT ON public.big, public.mid, public.small TO trib;
CREATE FUNCTION public.slowly(n bigint) RETURNS bool LANGUAGE plpgsql AS
  'BEGIN IF n % 100 = 0 THEN PERFORM pg_sleep(0.01); END IF; RETURN true; END';
CREATE POLICY slowly ON public.big FOR SELECT USING (public.slowly(id));
CREATE POLICY slowly ON public.mid FOR SELECT USING (public.slowly(n));
CREATE POLICY slowly ON public.small FOR SELECT USING (public.slowly(id));
ALTER TABLE public.big ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.mid ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.small ENABLE ROW LEVEL SECURITY;
SQL
TOTAL=$((BIG + MID + SMALL))

# pg_config NAME SINKS: $WORK/NAME.yaml, pipeline NAME copying the three
# tables (two workers, chunks of 500) then streaming, into SINKS (the
# lines of `sinks:`), checkpoint $WORK/NAME.ckpt.
pg_config() {
    cat >"$WORK/$1.yaml" <<YAML
pipeline: $1
sources:
  main:
    type: postgres
    dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=trib"
    snapshot: initial
    snapshot_workers: 2
    snapshot_chunk_rows: 500
    heartbeat_interval_ms: 500
    status_interval_ms: 200
sinks:
$2
checkpoint: {store: file, path: "$WORK/$1.ckpt"}
http: {enabled: false}
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

# ---- C: two file sinks, one ahead of the other -----------------------------
# `first` rotates every 300 kB, and a rotation makes what it wrote durable
# (its sidecar moves, it acknowledges) between the pipeline's flushes;
# `second` never rotates.  So `first` is mostly ahead of `second`, and the
# checkpoint follows `second`.  The kill comes when the sidecars show it.
pg_config c "  first: {type: file, path: \"$WORK/c1.jsonl\", rotate_bytes: 300000}
  second: {type: file, path: \"$WORK/c2.jsonl\", rotate_bytes: 0}"
# pos_seq FILE: the seq of the position FILE's sidecar records.
pos_seq() { jq -r '.seq // 0' "$1.pos" 2>/dev/null || echo 0; }
first_ahead() {
    [ "$(acked_total c)" -ge $(( TOTAL * 40 / 100 )) ] &&
        [ "$(pos_seq "$WORK/c1.jsonl")" -gt "$(pos_seq "$WORK/c2.jsonl")" ]
}
start_consumer "$WORK/c.yaml" "$WORK/c.log"
wait_copying "$WORK/c1.jsonl" big || true
paced_until first_ahead || true
kill_consumer
ck=$(jq -r '.seq // 0' "$WORK/c.ckpt")
echo "# C: killed with the first sink at id $(pos_seq "$WORK/c1.jsonl"), the second at" \
    "$(pos_seq "$WORK/c2.jsonl"), the checkpoint at $ck ($(acked_total c) rows)"
expect_eq "C: the first sink was ahead of the second, the second not behind the checkpoint" t \
    "$([ "$(pos_seq "$WORK/c1.jsonl")" -gt "$(pos_seq "$WORK/c2.jsonl")" ] &&
       [ "$(pos_seq "$WORK/c2.jsonl")" -ge "$ck" ] && echo t || echo f)"
start_consumer "$WORK/c.yaml" "$WORK/c.log"
wait_log "$WORK/c.log" "copy complete" 180 || fail "C: the copy completed" "see c.log"
pgc_psql -d postgres -q -c "INSERT INTO public.big VALUES ($BIG + 2, 'new')"
stream_once C1 "$WORK/c1.jsonl" big c
stream_once C2 "$WORK/c2.jsonl" big c
stop_consumer
expect_eq "C: the restart cut both files back" 2 "$(grep -c 'cut back to byte' "$WORK/c.log" || true)"
copy_check "C, first sink" "$WORK/c1.jsonl" "big:$((BIG + 1))" "mid:$MID" "small:$((SMALL - 1))"
copy_check "C, second sink" "$WORK/c2.jsonl" "big:$((BIG + 1))" "mid:$MID" "small:$((SMALL - 1))"

# ---- B: MariaDB, one kill ---------------------------------------------------
mdb_start
mdb_sql <<SQL
CREATE DATABASE shop;
USE shop;
CREATE TABLE items (id INT PRIMARY KEY, v VARCHAR(60));
CREATE TABLE tags (name VARCHAR(20) COLLATE utf8mb4_general_ci, n INT, PRIMARY KEY (name, n));
INSERT INTO items SELECT seq, CONCAT(REPEAT('i', 60 - LENGTH(seq)), seq) FROM seq_1_to_300000;
INSERT INTO tags SELECT CONCAT(IF(seq % 2, 'a', 'B'), seq % 5), seq FROM seq_1_to_20000;
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
TOTAL=320000
start_consumer "$WORK/b.yaml" "$WORK/b.log"
at_half() { [ "$(acked_total b)" -ge $(( TOTAL / 2 )) ]; }
wait_copying "$WORK/b.jsonl" items || true
paced_until at_half || true
kill_consumer
echo "# B: killed with $(acked_total b) of $TOTAL rows counted"
start_consumer "$WORK/b.yaml" "$WORK/b.log"
wait_log "$WORK/b.log" "copy complete" 180 || fail "B: the copy completed" "see b.log"
mdb_sql shop -e "INSERT INTO items VALUES (300001, 'new')"
stream_once B "$WORK/b.jsonl" items c
stop_consumer
expect_eq "B: the restart resumed the copy" 1 "$(grep -c 'resuming the copy' "$WORK/b.log" || true)"
expect_eq "B: the restart cut the file back to the checkpoint" 1 \
    "$(grep -c 'cut back to byte' "$WORK/b.log" || true)"
copy_check B "$WORK/b.jsonl" "items:300000" "tags:20000"

expect_no_sanitizer "no sanitizer report" "$WORK"/a.log "$WORK"/c.log "$WORK"/b.log
e2e_finish
