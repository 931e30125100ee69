#!/usr/bin/env bash
# 81_pause_sink_buffer.sh: a paused sink buffers while the other sinks go
# on, then applies backpressure at its bound (issue 16; docs/API.md, "Pause
# and resume"), on a real daemon streaming a real cluster under load into a
# file sink and a Postgres sink (another database).
#
# File sink paused: the Postgres sink keeps receiving (it grows), the file
# gets nothing more, the slot's confirmed position holds, the buffered
# count grows in /metrics and /status, /api/v1/pipeline shows the pause
# (its answer checked against docs/openapi.yaml).  kill -9 while paused,
# restarted with pause_buffer_mb: 1: the sink stays paused, its buffer fills
# to the bound and backpressure starts (the Postgres sink stops growing,
# the slot holds, /metrics and /status say so); `tributary check` shows the
# pause state as such, not as a source.  Resumed: the file drains, every
# insert is in the file once (each id once, none missing) and the Postgres
# sink equals the source row for row.
# Postgres sink paused: the file grows meanwhile; resumed, the target
# equals the source row for row (its buffered transactions applied whole).
# Several sources: one of two file sinks paused holds both sources' events
# (with their merged positions) while the other goes on; kill -9 while
# paused; resumed, each database's rows are in each file once.
# A transactional Kafka sink (Debezium format with transaction records)
# paused next to a file sink, kill -9 while paused, resumed: every change
# once in Kafka, one BEGIN and one END per transaction with the right
# count (the held events keep their transaction framing).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=control_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/control_lib.sh"

build_consumer
pgc_start
pgc_psql -d postgres -q -c "CREATE EXTENSION tributary" -c "CREATE DATABASE target" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, v text)" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_p81', 'tributary')" >/dev/null

# config [EXTRA]: the pipeline, with EXTRA top-level lines.
config() {
    cat > "$WORK/p.yaml" <<EOF
pipeline: p81
$(source_yaml)
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
  db: {type: postgres, dsn: "$(pg_dsn target)", batch_size: 50}
checkpoint: {store: catalog}
http:
  listen: "127.0.0.1:0"
  token_file: "$WORK/token"
${1:-}
EOF
    "$BIN" check -c "$WORK/p.yaml" >/dev/null
}

# metric NAME LABEL: its value for that label.
metric() {
    curl -s "http://127.0.0.1:$PORT/metrics" |
        sed -n "s/^$1{[a-z]*=\"$2\"} \\([0-9.e+-]*\\)$/\\1/p" | head -1
}
status() { curl -s "http://127.0.0.1:$PORT/status"; }
lines() { grep -c '"value":{' "$WORK/out.jsonl" 2>/dev/null || echo 0; }
dbrows() { pgc_psql -d target -Atc "SELECT count(*) FROM public.orders" 2>/dev/null || echo 0; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0) ? "t" : "f" }'; }
# writer FROM TO: two inserts of 4 kB rows per transaction, 20 a second.
writer() {
    for i in $(seq "$1" 2 "$2"); do
        pgc_psql -d postgres -q -c "INSERT INTO public.orders
            SELECT g, 'v' || g || repeat('x', 4000) FROM generate_series($i, $i + 1) g"
        sleep 0.05
    done
}
# rows_equal NAME: the target equals the source row for row.
rows_equal() {
    local q="SELECT id, md5(v) FROM public.orders ORDER BY id"
    expect_eq "$1" "" "$(diff <(pgc_psql -d postgres -Atc "$q") <(pgc_psql -d target -Atc "$q") | head -3 | tr '\n' ' ')"
}

config
start
# --- pause the file sink under load: the Postgres sink goes on ----------------------
writer 1 600 &
WRITER_PID=$!
wait_lines "$WORK/out.jsonl" 20 20 || fail "rows flow before the pause" "$(lines) lines"
api_tok "pause sink archive" 200 POST /api/v1/sinks/archive/pause
sleep 1
n_file=$(lines)
n_db=$(dbrows)
slot_paused=$(slot_confirmed tributary_p81)
held1=$(metric tributary_sink_buffered_events archive)
sleep 2
expect_eq "paused: nothing more reaches the file" "$n_file" "$(lines)"
expect_eq "paused: the Postgres sink keeps receiving ($n_db -> $(dbrows))" t "$(gt "$(dbrows)" "$n_db")"
expect_eq "paused: the slot's confirmed position holds" "$slot_paused" "$(slot_confirmed tributary_p81)"
held2=$(metric tributary_sink_buffered_events archive)
expect_eq "/metrics: the buffered events grow ($held1 -> $held2)" t "$(gt "$held2" "$held1")"
expect_eq "/metrics: bytes buffered" t "$(gt "$(metric tributary_sink_buffered_bytes archive)" 100000)"
expect_eq "/metrics: nothing buffered for db" 0 "$(metric tributary_sink_buffered_events db)"
expect_eq "/metrics: no backpressure yet" 0 "$(metric tributary_pause_backpressure p81)"
st=$(status)
expect_eq "/status: archive paused, since a time, buffering" "true true true" \
    "$(jq -r '.sinks[] | select(.name == "archive") | "\(.paused) \(.paused_since | test("^20[0-9-]+T[0-9:.]+Z$")) \(.buffered_events > 0 and .buffered_bytes > .buffered_events)"' <<<"$st")"
expect_eq "/status: db runs, holds nothing" "false null 0" \
    "$(jq -r '.sinks[] | select(.name == "db") | "\(.paused) \(.paused_since) \(.buffered_events)"' <<<"$st")"
expect_eq "/status: source main runs" "main false" "$(jq -r '.sources[0] | "\(.name) \(.paused)"' <<<"$st")"
api_tok "GET /api/v1/pipeline while a sink is paused" 200 GET /api/v1/pipeline
expect_eq "/api/v1/pipeline: archive paused with events held, db not, main not" "true true false false" \
    "$(jq -r '"\(.sinks[] | select(.name == "archive") | .paused) \(.sinks[] | select(.name == "archive") | .buffered_events > 0) \(.sinks[] | select(.name == "db") | .paused) \(.sources[0].paused)"' <<<"$BODY")"

# --- kill -9 while paused; restart with a small bound: backpressure --------------------
kill_consumer
config "pause_buffer_mb: 1"
start
expect_grep "after kill -9: the sink stays paused" "$WORK/run.log" 'sink archive stays paused'
for _ in $(seq 1 300); do
    [ "$(metric tributary_pause_backpressure p81)" = 1 ] && break
    sleep 0.1
done
expect_eq "/metrics: backpressure at the bound" 1 "$(metric tributary_pause_backpressure p81)"
expect_grep "the log says why no source is read" "$WORK/run.log" "paused sink's buffer is full"
expect_eq "the buffer stopped near its bound (1 MiB)" t \
    "$(awk -v b="$(metric tributary_sink_buffered_bytes archive)" 'BEGIN { print (b >= 1048576 && b < 8 * 1048576) ? "t" : "f" }')"
sleep 1
n_db=$(dbrows)
slot_pressed=$(slot_confirmed tributary_p81)
sleep 2
expect_eq "backpressure: the Postgres sink stops growing" "$n_db" "$(dbrows)"
expect_eq "backpressure: the slot holds" "$slot_pressed" "$(slot_confirmed tributary_p81)"
expect_eq "backpressure: the file still gets nothing" "$n_file" "$(lines)"
expect_eq "/status: backpressure" true "$(status | jq -r .backpressure)"
"$BIN" check -c "$WORK/p.yaml" > "$WORK/check.out" 2>&1 || true
expect_grep "check: shows the pause state" "$WORK/check.out" 'pause state \(kept for `run`\): \{"paused_sinks": \["archive"\]'
expect_grep "check: lists the source's own checkpoint" "$WORK/check.out" '^  source main: commit '
expect_no_grep "check: the pause row is no source" "$WORK/check.out" 'source ~paused'

# --- resume: the file drains, then every row is everywhere once -------------------------
CTL_OUT=$("$BIN" ctl resume sink archive --url "http://127.0.0.1:$PORT" --token-file "$WORK/token" 2>&1) || true
expect_match "ctl resume sink archive" 'changed:[[:space:]]+true' "$CTL_OUT"
wait "$WRITER_PID"
WRITER_PID=
wait_lines "$WORK/out.jsonl" 600 60 || fail "every row after the resume" "$(lines) lines"
expect_eq "resumed: the slot is confirmed to the end" t "$(slot_caught_up tributary_p81)"
st=$(status)
expect_eq "/status after the resume: nothing held, no backpressure" "false 0 0 false" \
    "$(jq -r '"\(.sinks[] | select(.name == "archive") | "\(.paused) \(.buffered_events) \(.buffered_bytes)") \(.backpressure)"' <<<"$st")"
jq -r 'select(.value != null) | .key.id' "$WORK/out.jsonl" | sort -n > "$WORK/ids"
expect_eq "file: every insert arrived" 600 "$(sort -nu "$WORK/ids" | wc -l)"
expect_eq "file: none twice" "" "$(uniq -d "$WORK/ids" | head -3 | tr '\n' ' ')"
expect_eq "file: nothing else" "" "$(diff <(seq 1 600) "$WORK/ids" | head -3 | tr '\n' ' ')"
rows_equal "db: equals the source row for row"

# --- pause the Postgres sink: the file goes on; resumed, the target catches up ------------
api_tok "pause sink db" 200 POST /api/v1/sinks/db/pause
writer 601 1000 &
WRITER_PID=$!
sleep 2
n_db=$(dbrows)
n_file=$(lines)
sleep 2
expect_eq "db paused: no more rows in the target" "$n_db" "$(dbrows)"
expect_eq "db paused: the file keeps receiving" t "$(gt "$(lines)" "$n_file")"
expect_eq "db paused: its events are held" t "$(gt "$(metric tributary_sink_buffered_events db)" 0)"
api_tok "resume sink db" 200 POST /api/v1/sinks/db/resume
wait "$WRITER_PID"
WRITER_PID=
wait_lines "$WORK/out.jsonl" 1000 60 || fail "every row in the file" "$(lines) lines"
for _ in $(seq 1 300); do [ "$(dbrows)" -ge 1000 ] && break; sleep 0.1; done
expect_eq "db resumed: the slot is confirmed to the end" t "$(slot_caught_up tributary_p81)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
rows_equal "db after its pause: equals the source row for row"
jq -r 'select(.value != null) | .key.id' "$WORK/out.jsonl" | sort -n > "$WORK/ids"
expect_eq "file: every id of 1000 once" "" "$(diff <(seq 1 1000) "$WORK/ids" | head -3 | tr '\n' ' ')"
# --- several sources: a paused sink holds both; kill -9; resumed, each row once ----------
two_databases m81
control_config m81 "$(two_sources_yaml m81)" "$WORK/mckpt" live="$WORK/live.jsonl" held="$WORK/held.jsonl"
# of FILE DB: the ids of database DB's rows in $WORK/FILE.jsonl.
of() { ids_from "$WORK/$1.jsonl" "$2"; }
start
mwriter 1 200 &
WRITER_PID=$!
wait_rows 10 of held da
api_tok "several sources: pause sink held" 200 POST /api/v1/sinks/held/pause
sleep 1
nh=$(cat "$WORK/held.jsonl" | wc -l)
nl=$(cat "$WORK/live.jsonl" | wc -l)
sleep 2
expect_eq "several sources: the paused sink gets nothing" "$nh" "$(cat "$WORK/held.jsonl" | wc -l)"
expect_eq "several sources: the other sink keeps receiving both" "t t" \
    "$(gt "$(of live da | wc -l)" 0) $(gt "$(cat "$WORK/live.jsonl" | wc -l)" "$nl")"
expect_eq "several sources: events held" t "$(gt "$(metric tributary_sink_buffered_events held)" 0)"
kill_consumer
start
expect_grep "several sources: the sink stays paused after kill -9" "$WORK/run.log" 'sink held stays paused'
sleep 1
expect_eq "several sources, restarted: the paused sink still gets nothing" "$nh" "$(cat "$WORK/held.jsonl" | wc -l)"
api_tok "several sources: resume sink held" 200 POST /api/v1/sinks/held/resume
wait "$WRITER_PID"
WRITER_PID=
for _ in $(seq 1 300); do
    [ "$(of held da | wc -l)" -ge 200 ] && [ "$(of held db | wc -l)" -ge 200 ] &&
        [ "$(of live db | wc -l)" -ge 200 ] && break
    sleep 0.1
done
stop_consumer
expect_eq "several sources: SIGTERM drains and exits 0" 0 "$STOP_RC"
for f in live held; do
    for d in da db; do
        expect_eq "several sources: $d's rows in $f, each once" "" "$(diff <(seq 1 200) <(of "$f" "$d") | head -3 | tr '\n' ' ')"
    done
done
# --- a transactional Kafka sink paused (Debezium transaction records), kill -9 -----------
pgc_psql -d postgres -q -c "CREATE TABLE public.k (id int PRIMARY KEY, qty int)" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness81', 'tributary')" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_k81', 'tributary')" >/dev/null
mock_start 1
cat > "$WORK/p.yaml" <<EOF
pipeline: k81
$(source_yaml)
sinks:
  files: {type: file, path: "$WORK/k.jsonl"}
  k: {type: kafka, bootstrap_servers: "$BOOT", topic_prefix: k81, transactional: true,
      format: debezium, transaction_metadata: true}
checkpoint: {store: catalog}
http:
  listen: "127.0.0.1:0"
  token_file: "$WORK/token"
EOF
"$BIN" check -c "$WORK/p.yaml" >/dev/null
# kwriter: 200 transactions of 1 to 5 rows.
kwriter() {
    for t in $(seq 1 200); do
        pgc_psql -d postgres -q -c "INSERT INTO public.k
            SELECT g, $t FROM generate_series($t * 10, $t * 10 + $t % 5) g"
        sleep 0.05
    done
}
krecords() { "$TOOLS/kafka_dump" "$BOOT" k81.public.k 2>/dev/null | wc -l; }
klines() { wc -l < "$WORK/k.jsonl" 2>/dev/null || echo 0; }
start
# the writer once the pipeline streams (the transactional producer's
# start-up takes a while, and the backlog would then stream before the pause)
for _ in $(seq 1 300); do [ "$(status | jq -r .state)" = streaming ] && break; sleep 0.1; done
kwriter &
WRITER_PID=$!
wait_lines "$WORK/k.jsonl" 10 20 || fail "rows flow before the Kafka sink's pause" "$(klines) lines"
api_tok "pause the Kafka sink" 200 POST /api/v1/sinks/k/pause
sleep 1
nk=$(krecords)
nf=$(klines)
sleep 2
expect_eq "Kafka paused: no more records" "$nk" "$(krecords)"
expect_eq "Kafka paused: the file keeps receiving ($nf -> $(klines))" t "$(gt "$(klines)" "$nf")"
kill_consumer
start
expect_grep "Kafka: stays paused after kill -9" "$WORK/run.log" 'sink k stays paused'
sleep 1
expect_eq "Kafka, restarted: still no more records" "$nk" "$(krecords)"
api_tok "resume the Kafka sink" 200 POST /api/v1/sinks/k/resume
wait "$WRITER_PID"
WRITER_PID=
total=$(pgc_psql -d postgres -Atc "SELECT count(*) FROM public.k")
wait_lines "$WORK/k.jsonl" "$total" 60 || fail "every row in the file" "$(klines) of $total"
expect_eq "Kafka resumed: the slot is confirmed to the end" t "$(slot_caught_up tributary_k81)"
stop_consumer
expect_eq "Kafka: SIGTERM drains and exits 0" 0 "$STOP_RC"
pgc_psql -d postgres -At -F $'\t' -c "SELECT (d->>'xid') || ':' ||
        ((d->>'commit_lsn')::pg_lsn - '0/0'::pg_lsn)::bigint::text, (d->>'commit_lsn') || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness81', NULL, NULL)) x
    WHERE d->>'kind' = 'insert' AND d->>'table' = 'k'" > "$WORK/kwitness"
"$TOOLS/kafka_dump" "$BOOT" k81.public.k > "$WORK/kdata"
"$TOOLS/kafka_dump" "$BOOT" k81.transaction > "$WORK/ktx"
cat > "$WORK/kcheck.py" <<'PY'
import collections, json, sys
want, ids = collections.Counter(), []
for line in open(sys.argv[1]):
    txn, eid = line.rstrip("\n").split("\t")
    want[txn] += 1
    ids.append(eid)
got = [line.split("\t")[0] for line in open(sys.argv[2])]
problems = []
if sorted(got) != sorted(ids):
    problems.append("data: %d records, %d changes, %d distinct" % (len(got), len(ids), len(set(got))))
seen = collections.Counter()
for line in open(sys.argv[3]):
    v = json.loads(line.rstrip("\n").split("\t")[5])
    seen[(v["id"], v["status"])] += 1
    if v["status"] == "END" and v["event_count"] != want.get(v["id"]):
        problems.append("%s: END event_count %s, %s changes" % (v["id"], v["event_count"], want.get(v["id"])))
for txn in want:
    for st in ("BEGIN", "END"):
        if seen[(txn, st)] != 1:
            problems.append("%s: %d %s records" % (txn, seen[(txn, st)], st))
print("; ".join(problems[:10]) or "%d transactions, %d changes" % (len(want), len(ids)))
sys.exit(1 if problems else 0)
PY
if out=$(python3 "$WORK/kcheck.py" "$WORK/kwitness" "$WORK/kdata" "$WORK/ktx"); then
    pass "Kafka: every change once, one BEGIN and one END per transaction ($out)"
else
    fail "Kafka: the records against the committed transactions" "$out"
fi
expect_eq "Kafka: the witness saw the workload" 200 "$(cut -f1 "$WORK/kwitness" | sort -u | wc -l)"
jq -r 'select(.value != null and .value.source.table == "k") | .key.id' "$WORK/k.jsonl" | sort -n > "$WORK/kids"
expect_eq "Kafka phase: the file has every row once" "" \
    "$(diff <(pgc_psql -d postgres -Atc "SELECT id FROM public.k ORDER BY id") "$WORK/kids" | head -3 | tr '\n' ' ')"
expect_absent "the token is never logged" "$TOKEN" "$WORK/run.log"
expect_no_sanitizer "no sanitizer report" "$WORK/run.log"
e2e_finish
