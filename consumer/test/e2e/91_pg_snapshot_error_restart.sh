#!/usr/bin/env bash
# 91_pg_snapshot_error_restart.sh: a PostgreSQL snapshot that fails with an
# error keeps the progress the sink acknowledged in the checkpoint, and a
# restart once the cause is gone copies the rest once (e2e 90 is the same
# for MySQL).  Against a real PostgreSQL 15, one snapshot worker, small
# chunks, a file sink; reading `big` is slowed down (a row security
# policy that sleeps 0.1 s per 1000 rows); the pipeline connects as a role `trib` (LOGIN
# REPLICATION, SELECT granted per table), not a superuser, so that a
# REVOKE can fail the copy.
#
# Part A, `snapshot: initial` (tributary run): tables in copy order `big`
# (being copied when the error is caused), `small` (not yet copied).  While
# `big` is copied, SELECT on `small` is revoked from `trib`: the copy fails
# when it opens `small` ("permission denied").  Checks: the daemon fails;
# the checkpoint still holds the running snapshot's progress, counting
# exactly the rows the file has (each once) and none of `small`.  After the
# GRANT, a restart copies `small` (not `big` again), then streams: every
# row of both tables is in the file once, equal to the server's rows, and
# a row inserted afterwards arrives once, from the stream.
#
# Part B, `snapshot: only` (tributary snapshot): the same failure; the
# second run after the GRANT exits 0, and both runs together copied every
# row once.
#
# Part C, an error in the middle of a chunk (docs/SNAPSHOT.md, "Progress,
# crashes and stops"): a quality rule with `action: fail` refuses one row
# of a chunk of 500.  The rows of that chunk before it reached the file;
# the rest did not.  Checks: the checkpoint counts no row the file lacks
# (the bug: the failed chunk was counted whole, with its last key, once the
# sink acknowledged the row held back after the refused one, and a restart
# skipped the refused row and the chunk's rest).  After the row is fixed,
# a second run copies every row, none missing; the rows of the failed
# chunk that the file had before the failure (the sink was ahead of the
# checkpoint) are cut from the file before the copy resumes, so none is
# there twice (docs/SNAPSHOT.md, Positions).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
pgc_psql -q -d postgres >/dev/null <<SQL
CREATE ROLE trib LOGIN REPLICATION;
CREATE TABLE public.big (id int PRIMARY KEY, v text);
CREATE TABLE public.small (id int PRIMARY KEY, v text);
CREATE TABLE public.marker (id int PRIMARY KEY);
CREATE TABLE public.q (id int PRIMARY KEY, n int NOT NULL);
INSERT INTO public.big SELECT g, 'b' || g FROM generate_series(1, 200000) g;
INSERT INTO public.small SELECT g, 's' || g FROM generate_series(1, 2000) g;
INSERT INTO public.q SELECT g, CASE WHEN g = 1250 THEN -1 ELSE g END FROM generate_series(1, 3000) g;
GRANT SELECT ON public.big, public.small, public.marker, public.q TO trib;
-- reading big as trib takes about 20 s (0.1 s per 1000 rows), so that the
-- REVOKE comes while big is copied, before small is opened
CREATE FUNCTION public.slowly(id int) RETURNS bool LANGUAGE plpgsql AS
  'BEGIN IF id % 1000 = 0 THEN PERFORM pg_sleep(0.1); END IF; RETURN true; END';
CREATE POLICY slowly ON public.big FOR SELECT USING (public.slowly(id));
ALTER TABLE public.big ENABLE ROW LEVEL SECURITY;
SQL
TRIB_DSN="host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=trib"

# config NAME MODE TABLES [TRANSFORMS]: $WORK/NAME.yaml, pipeline NAME
# copying TABLES (a YAML list) in MODE into $WORK/NAME.jsonl, checkpoint
# $WORK/NAME.ckpt.
config() {
    cat >"$WORK/$1.yaml" <<YAML
pipeline: $1
sources:
  main:
    type: postgres
    dsn: "$TRIB_DSN"
    snapshot: $2
    snapshot_tables: $3
    snapshot_workers: 1
    snapshot_chunk_rows: 500
    heartbeat_interval_ms: 500
    status_interval_ms: 200
${4:-}
sinks:
  archive: {type: file, path: "$WORK/$1.jsonl", rotate_bytes: 0}
checkpoint: {store: file, path: "$WORK/$1.ckpt"}
http: {enabled: false}
YAML
}
# acked NAME TABLE: rows of TABLE the checkpoint of NAME counts.
acked() {
    jq -r --arg t "$2" '.position.snapshot.tables[]? | select(.table == $t) | .rows' \
        "$WORK/$1.ckpt" 2>/dev/null || true
}
# copied NAME TABLE: "rows distinct-ids" of TABLE's op r in NAME's file.
copied() {
    jq -r --arg t "$2" 'select(.value.op == "r" and .value.source.table == $t) | .key.id' \
        "$WORK/$1.jsonl" | awk '{ n++; ids[$1] = 1 } END { printf "%d %d\n", n, length(ids) }'
}
# same_ids NAME TABLE: empty when the ids of TABLE's op r in NAME's file
# are exactly the server's (each once), else the first differences.
same_ids() {
    diff <(jq -r --arg t "$2" 'select(.value.op == "r" and .value.source.table == $t) | .key.id' \
               "$WORK/$1.jsonl" | sort -n) \
         <(pgc_psql -d postgres -Atc "SELECT id FROM public.$2 ORDER BY id") | head -3 | tr '\n' ' '
}
# revoke_mid_copy NAME TABLE: once NAME's sink has rows of TABLE, hold the
# daemon (a fast machine copies all of TABLE in well under a second),
# revoke SELECT on small, and let it go on.
revoke_mid_copy() {
    wait_copying "$WORK/$1.jsonl" "$2" || true
    freeze_consumer
    echo "# SELECT on small revoked with $(acked "$1" "$2") rows of $2 acknowledged, the daemon held mid-copy"
    pgc_psql -d postgres -c "REVOKE SELECT ON public.small FROM trib" >/dev/null
    thaw_consumer
}
# wait_failed WHAT: wait (up to 120 s) for the daemon $RUN_PID to exit,
# which should fail; kill it if it still runs.
wait_failed() {
    local rc=0
    for _ in $(seq 1 1200); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$RUN_PID" 2>/dev/null || true
    wait "$RUN_PID" || rc=$?
    RUN_PID=
    expect_eq "$1 failed" 1 "$(( rc != 0 && rc != 137 ))"
}
# failed_copy NAME LOG: the checks of a copy that failed on small.
failed_copy() {
    local n ids
    grep ERROR "$2" | sed 's/^/# /' || true
    expect_grep "$1: the error names the table" "$2" "permission denied for table small"
    expect_eq "$1: the checkpoint holds the snapshot's progress, still running" running \
        "$(jq -r '.position.snapshot.state // "none"' "$WORK/$1.ckpt")"
    read -r n ids < <(copied "$1" big)
    echo "# $1: $n rows of big delivered before the failure"
    expect_eq "$1: big's delivered rows, each once" "$n" "$ids"
    expect_eq "$1: the progress counts every row of big the sink has, no more, no less" "$n" \
        "$(acked "$1" big)"
    expect_eq "$1: no row of small was copied" "0 0" "$(copied "$1" small)"
}

# ---- A: snapshot: initial
config a initial "[public.big, public.small]"
start_consumer "$WORK/a.yaml" "$WORK/a1.log"
revoke_mid_copy a big
wait_failed "A: the daemon"
failed_copy a "$WORK/a1.log"

pgc_psql -d postgres -c "GRANT SELECT ON public.small TO trib" >/dev/null
start_consumer "$WORK/a.yaml" "$WORK/a2.log"
if ! wait_log "$WORK/a2.log" 'copy complete' 120; then
    fail "A: the restart completes the copy" "see below"
    sed 's/^/#   /' "$WORK/a2.log"
fi
expect_grep "A: the restart resumed the copy" "$WORK/a2.log" "resuming the copy"
pgc_psql -d postgres -c "INSERT INTO public.marker VALUES (1)" >/dev/null
for _ in $(seq 1 600); do
    grep -q '"table":"marker"' "$WORK/a.jsonl" 2>/dev/null && break
    sleep 0.1
done
stop_consumer
expect_eq "A: the restarted daemon stopped cleanly" 0 "$STOP_RC"
expect_no_grep "A: the restart did not fail" "$WORK/a2.log" "ERROR"
expect_eq "A: big, each row once over both runs" "200000 200000" "$(copied a big)"
expect_eq "A: big's rows are the server's" "" "$(same_ids a big)"
expect_eq "A: small, each row once" "2000 2000" "$(copied a small)"
expect_eq "A: small's rows are the server's" "" "$(same_ids a small)"
expect_eq "A: the stream delivered the marker once" 1 \
    "$(jq -r 'select(.value.op == "c" and .value.source.table == "marker") | .key.id' \
        "$WORK/a.jsonl" | wc -l)"

# ---- B: tributary snapshot (snapshot: only)
config b only "[public.big, public.small]"
"$BIN" snapshot -c "$WORK/b.yaml" >"$WORK/b1.log" 2>&1 &
RUN_PID=$!
revoke_mid_copy b big
wait_failed "B: tributary snapshot"
failed_copy b "$WORK/b1.log"
pgc_psql -d postgres -c "GRANT SELECT ON public.small TO trib" >/dev/null
rc=0
timeout 120 "$BIN" snapshot -c "$WORK/b.yaml" >"$WORK/b2.log" 2>&1 || rc=$?
expect_eq "B: the second tributary snapshot finished" 0 "$rc"
expect_grep "B: it resumed the copy" "$WORK/b2.log" "resuming the copy"
expect_eq "B: big, each row once over both runs" "200000 200000" "$(copied b big)"
expect_eq "B: big's rows are the server's" "" "$(same_ids b big)"
expect_eq "B: small, each row once" "2000 2000" "$(copied b small)"
expect_eq "B: small's rows are the server's" "" "$(same_ids b small)"

# ---- C: a row refused in the middle of a chunk
config c only "[public.q]" "transforms:
  - {type: quality, name: positive, tables: [public.q], fields: [n], check: range, min: 0, action: fail}"
rc=0
timeout 120 "$BIN" snapshot -c "$WORK/c.yaml" >"$WORK/c1.log" 2>&1 || rc=$?
grep ERROR "$WORK/c1.log" | sed 's/^/# /' || true
expect_eq "C: the refused row failed the copy" 1 "$(( rc != 0 ))"
ck=$(acked c q)
echo "# C: the checkpoint counts ${ck:-none} rows of q; the file has $(copied c q)"
expect_eq "C: the file holds every row the checkpoint counts as copied (ids 1..${ck:-0})" "" \
    "$(jq -r 'select(.value.op == "r") | .key.id' "$WORK/c.jsonl" | sort -n | uniq |
        awk -v ck="${ck:-0}" '$1 <= ck { n++ } END { if (n != ck) printf "%d of %d", n, ck }')"
expect_eq "C: no row after the refused one reached the file" "" \
    "$(jq -r 'select(.value.op == "r" and .key.id >= 1250) | .key.id' "$WORK/c.jsonl" | head -3 | tr '\n' ' ')"
pgc_psql -d postgres -c "UPDATE public.q SET n = 1250 WHERE id = 1250" >/dev/null
rc=0
timeout 120 "$BIN" snapshot -c "$WORK/c.yaml" >"$WORK/c2.log" 2>&1 || rc=$?
expect_eq "C: the second run finished" 0 "$rc"
expect_eq "C: every row of q is in the file, none missing" "" \
    "$(comm -13 <(jq -r 'select(.value.op == "r") | .key.id' "$WORK/c.jsonl" | sort -u) \
        <(pgc_psql -d postgres -Atc "SELECT id::text FROM public.q ORDER BY 1") | head -3 | tr '\n' ' ')"
expect_eq "C: rows written twice are only the failed chunk's before the refused row" "" \
    "$(jq -r 'select(.value.op == "r") | .key.id' "$WORK/c.jsonl" | sort -n | uniq -d |
        awk '$1 < 1001 || $1 >= 1250' | head -3 | tr '\n' ' ')"
expect_eq "C: and none twice: the restart cut the file back to the checkpoint first" "" \
    "$(jq -r 'select(.value.op == "r") | .key.id' "$WORK/c.jsonl" | sort -n | uniq -d |
        head -3 | tr '\n' ' ')"
echo "# C: $(jq -r 'select(.value.op == "r") | .key.id' "$WORK/c.jsonl" | sort -n | uniq -d | wc -l) rows written twice"

expect_no_sanitizer "no sanitizer report" "$WORK"/a1.log "$WORK"/a2.log "$WORK"/b1.log \
    "$WORK"/b2.log "$WORK"/c1.log "$WORK"/c2.log

e2e_finish
