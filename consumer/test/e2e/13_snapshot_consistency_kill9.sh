#!/usr/bin/env bash
# 13_snapshot_consistency_kill9.sh: rows changed while a snapshot runs end up
# exactly once in the final state, also when the consumer is killed (-9) in
# the middle of the snapshot and restarted.
#
# Part A: `tributary run` with `snapshot: initial` into a JSON Lines file
# while a writer updates, inserts and deletes.  The slot's exported
# snapshot makes the copy and the stream meet exactly: no row is copied
# twice, no change is delivered twice, and replaying the file (r/c/u
# upsert, d delete) gives the source table.
#
# Part B: the same into a Postgres sink and a file sink, killed -9 once the
# saved progress covers at least a fifth of the rows, then restarted.  The
# restart must resume (its log says so, and it copies fewer rows than a
# copy from scratch could), and in the end the target table and the
# replayed file both equal the source, row for row.
#
# Part C: `tributary snapshot` into another database, stopped by SIGTERM in
# the middle: it exits 1 with its progress saved; run again, it continues
# (the two runs together copy every row once) and exits 0.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
N0=${N0:-200000}

build_consumer
pgc_start
chmod 777 "$WORK"
pgc_psql -q -d postgres >/dev/null <<SQL
CREATE EXTENSION tributary;
CREATE DATABASE target;
CREATE TABLE public.accounts (id int PRIMARY KEY, balance bigint NOT NULL, note text, doc jsonb);
INSERT INTO public.accounts SELECT g, g * 10, 'n' || g, jsonb_build_object('g', g)
  FROM generate_series(1, $N0) g;
CREATE TABLE public.events (k text, n int, payload text, PRIMARY KEY (k, n));
INSERT INTO public.events SELECT 'k' || (g % 7), g, repeat('p', g % 50)
  FROM generate_series(1, $((N0 / 5))) g;
SQL

# writer TAG: updates, inserts and deletes in small transactions until
# $WORK/stop.TAG exists.
writer() {
    local t=0 base
    while [ ! -e "$WORK/stop.$1" ]; do
        t=$((t + 1))
        base=$(( (RANDOM * 32768 + RANDOM) % N0 + 1 ))
        pgc_psql -q -d postgres -c "BEGIN;
            UPDATE public.accounts SET balance = balance + 1, note = note || '+'
             WHERE id IN ($base, $((base * 7 % N0 + 1)), $((N0 - base + 1)));
            INSERT INTO public.accounts VALUES ($((N0 + 1000000 * ${2} + t)), $t, 'new', NULL);
            DELETE FROM public.accounts WHERE id = $(( (base * 13) % N0 + 1 ));
            UPDATE public.events SET payload = payload || 'u' WHERE k = 'k$((t % 7))' AND n = $base;
            INSERT INTO public.events VALUES ('w$1', $t, 'x');
            COMMIT;" >/dev/null 2>&1 || true
        sleep 0.02
    done
}

config() { # FILE PIPELINE SINKS...
    local f=$1 name=$2
    shift 2
    cat > "$f" <<EOF
pipeline: $name
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
$(printf '%s\n' "$@")
checkpoint:
  store: catalog
http:
  enabled: false
EOF
}

# replay.py FILE...: the table state the file's events produce, as
# "table<TAB>key<TAB>after" lines (json/jsonb compared as parsed values).
cat > "$WORK/replay.py" <<'EOF'
import json, sys
state = {}
for path in sys.argv[1:]:
    for line in open(path, encoding="utf-8"):
        rec = json.loads(line)
        v = rec["value"]
        if v is None:
            continue
        t = v["source"]["table"]
        key = json.dumps(rec["key"], sort_keys=True)
        if v["op"] in ("r", "c", "u"):
            if v["op"] == "u" and v["before"] is not None:
                state.pop((t, json.dumps(v["before"], sort_keys=True)), None)
            state[(t, key)] = v["after"]
        elif v["op"] == "d":
            state.pop((t, key), None)
for (t, key), after in sorted(state.items()):
    print(t, key, json.dumps(after, sort_keys=True), sep="\t")
EOF
# The source in the same form.
source_state() { target_state postgres; }
# The same from a copy (database $1).
target_state() {
    pgc_psql -d "$1" -Atc "
      SELECT 'accounts', json_build_object('id', id)::jsonb::text,
             jsonb_build_object('id', id, 'balance', balance, 'note', note, 'doc', doc)::text
        FROM public.accounts
      UNION ALL
      SELECT 'events', json_build_object('k', k, 'n', n)::jsonb::text,
             jsonb_build_object('k', k, 'n', n, 'payload', payload)::text
        FROM public.events ORDER BY 1, 2" | python3 -c '
import json, sys
for l in sys.stdin:
    t, k, a = l.rstrip("\n").split("|", 2)
    print(t, json.dumps(json.loads(k), sort_keys=True), json.dumps(json.loads(a), sort_keys=True), sep="\t")' | sort
}
stop_writer() { touch "$WORK/stop.$1"; wait "$WRITER_PID" || true; WRITER_PID=; }

# ---- Part A: no crash --------------------------------------------------------
config "$WORK/a.yaml" snapa "  out:" "    type: file" "    path: \"$WORK/a.jsonl\"" "    rotate_bytes: 0"
writer a 1 &
WRITER_PID=$!
start_consumer "$WORK/a.yaml" "$WORK/a.log"
for _ in $(seq 1 600); do grep -q "copy complete" "$WORK/a.log" && break; sleep 0.1; done
sleep 1
stop_writer a
expect_eq "A: the slot caught up" t "$(slot_caught_up tributary_snapa)"
stop_consumer
expect_eq "A: SIGTERM exits 0" 0 "$STOP_RC"
source_state > "$WORK/a.source"
python3 "$WORK/replay.py" "$WORK/a.jsonl" | sort > "$WORK/a.replayed"
expect_eq "A: the source has its rows" t "$([ "$(wc -l < "$WORK/a.source")" -ge "$N0" ] && echo t || echo f)"
expect_eq "A: replaying the file gives the source, row for row" "" \
    "$(diff "$WORK/a.source" "$WORK/a.replayed" | head -3)"
python3 - "$WORK/a.jsonl" > "$WORK/a.dups" <<'EOF'
import json, sys, collections
reads, changes = collections.Counter(), collections.Counter()
for line in open(sys.argv[1], encoding="utf-8"):
    v = json.loads(line)
    val, key = v["value"], json.dumps(v["key"], sort_keys=True)
    if val is None:
        continue
    t = val["source"]["table"]
    if val["op"] == "r":
        reads[(t, key)] += 1
    else:
        changes[(val["source"]["sequence"], t, key)] += 1
print(sum(1 for c in reads.values() if c > 1), sum(1 for c in changes.values() if c > 1),
      len(reads), len(changes))
EOF
read -r dup_r dup_c n_r n_c < "$WORK/a.dups"
expect_eq "A: no row copied twice" 0 "$dup_r"
expect_eq "A: no change delivered twice" 0 "$dup_c"
expect_eq "A: the writer changed rows while the copy ran" t "$([ "$n_c" -gt 0 ] && echo t || echo f)"
echo "# A: $n_r rows copied, $n_c changes streamed"

# ---- Part B: kill -9 in the middle of the snapshot ----------------------------
config "$WORK/b.yaml" snapb "  db:" "    type: postgres" \
    "    dsn: \"host=$PGC_SOCK port=$PGC_PORT dbname=target user=postgres\"" \
    "    create_tables: true" "    batch_size: 500" \
    "  out:" "    type: file" "    path: \"$WORK/b.jsonl\"" "    rotate_bytes: 0"
saved_rows() {
    pgc_psql -d postgres -Atc "SELECT coalesce(sum((t->>'rows')::bigint), 0)
        FROM tributary.source_checkpoints c, jsonb_array_elements(c.position->'snapshot'->'tables') t
        WHERE c.pipeline = 'snapb'"
}
writer b 2 &
WRITER_PID=$!
start_consumer "$WORK/b.yaml" "$WORK/b1.log"
saved=0
for _ in $(seq 1 900); do
    saved=$(saved_rows)
    [ "$saved" -ge $((N0 / 5)) ] && break
    grep -q "copy complete" "$WORK/b1.log" && break
    sleep 0.1
done
kill_consumer
saved=$(saved_rows)
expect_eq "B: killed in the middle of the snapshot" t \
    "$(grep -q 'copy complete' "$WORK/b1.log" || [ "$saved" -lt $((N0 / 5)) ] || echo t)"
echo "# B: $saved rows saved as copied at the kill"
start_consumer "$WORK/b.yaml" "$WORK/b2.log"
for _ in $(seq 1 900); do grep -q "copy complete" "$WORK/b2.log" && break; sleep 0.1; done
sleep 1
stop_writer b
expect_eq "B: the slot caught up" t "$(slot_caught_up tributary_snapb)"
stop_consumer
expect_eq "B: SIGTERM exits 0" 0 "$STOP_RC"
expect_eq "B: the restart resumed the copy" 1 "$(grep -c 'resuming the copy' "$WORK/b2.log" || true)"
second=$(sed -n 's/.*copy complete: \([0-9]*\) rows in this run.*/\1/p' "$WORK/b2.log")
inserted=$(pgc_psql -d postgres -Atc "SELECT (SELECT count(*) FROM public.accounts WHERE id > $N0)
    + (SELECT count(*) FROM public.events WHERE k LIKE 'w%')")
total0=$((N0 + N0 / 5))
echo "# B: the restart copied $second rows; $total0 rows at first, $inserted inserted since"
expect_eq "B: the restart did not copy from scratch (at most rows - saved + inserted)" t \
    "$([ -n "$second" ] && [ "$second" -le $((total0 - saved + inserted)) ] && echo t || echo f)"

source_state > "$WORK/b.source"
target_state target > "$WORK/b.target"
expect_eq "B: the Postgres sink equals the source, row for row" "" \
    "$(diff "$WORK/b.source" "$WORK/b.target" | head -3)"
python3 "$WORK/replay.py" "$WORK/b.jsonl" | sort > "$WORK/b.replayed"
expect_eq "B: replaying the file sink gives the source, row for row" "" \
    "$(diff "$WORK/b.source" "$WORK/b.replayed" | head -3)"
# ---- Part C: `tributary snapshot` stopped by SIGTERM, then run again --------
pgc_psql -q -d postgres -c "CREATE DATABASE copyc" >/dev/null
cat > "$WORK/c.yaml" <<EOF
pipeline: snapc
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: never
    snapshot_chunk_rows: 200
    include_tables: [public.accounts, public.events]
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn copyc)"
    create_tables: true
    batch_size: 100
checkpoint:
  store: catalog
http:
  enabled: false
EOF
"$BIN" snapshot -c "$WORK/c.yaml" >"$WORK/c1.log" 2>&1 &
RUN_PID=$!
for _ in $(seq 1 300); do
    [ "$(pgc_psql -d copyc -Atc "SELECT to_regclass('public.accounts') IS NOT NULL AND
        (SELECT count(*) FROM public.accounts) > 2000" 2>/dev/null)" = t ] && break
    sleep 0.1
done
stop_consumer
expect_eq "C: tributary snapshot stopped by SIGTERM exits 1 (unfinished)" 1 "$STOP_RC"
state=$(pgc_psql -d postgres -Atc "SELECT position->'snapshot'->>'state' FROM tributary.source_checkpoints WHERE pipeline = 'snapc'")
expect_eq "C: its progress is saved as running" running "$state"
c_saved=$(pgc_psql -d postgres -Atc "SELECT coalesce(sum((t->>'rows')::bigint), 0)
    FROM tributary.source_checkpoints c, jsonb_array_elements(c.position->'snapshot'->'tables') t
    WHERE c.pipeline = 'snapc'")
"$BIN" snapshot -c "$WORK/c.yaml" >"$WORK/c2.log" 2>&1 && rc=0 || rc=$?
expect_eq "C: run again, it finishes and exits 0" 0 "$rc"
expect_eq "C: and it resumed" 1 "$(grep -c 'resuming the copy' "$WORK/c2.log" || true)"
c_second=$(sed -n 's/.*copy complete: \([0-9]*\) rows in this run.*/\1/p' "$WORK/c2.log")
c_total=$(pgc_psql -d postgres -Atc "SELECT (SELECT count(*) FROM public.accounts) + (SELECT count(*) FROM public.events)")
echo "# C: $c_saved rows saved at SIGTERM, $c_second copied by the second run, $c_total in all"
expect_eq "C: the two runs copied every row once" "$c_total" "$((c_saved + ${c_second:-0}))"
target_state copyc > "$WORK/c.target"
source_state > "$WORK/c.source"
expect_eq "C: the copy equals the source, row for row" "" "$(diff "$WORK/c.source" "$WORK/c.target" | head -3)"

expect_no_sanitizer "no sanitizer report in c1.log (the stopped copy)" "$WORK/c1.log"
for f in a.log b1.log b2.log c2.log; do
    expect_eq "no error or sanitizer report in $f" 0 \
        "$(grep -c -E ' ERROR |ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$WORK/$f" || true)"
done
e2e_finish
