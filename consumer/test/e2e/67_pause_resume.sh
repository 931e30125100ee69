#!/usr/bin/env bash
# 67_pause_resume.sh: pause and resume of a source and of a sink through
# the control API (issue 16; docs/API.md, "Pause and resume") on a real
# daemon streaming a real cluster under load.
#
# Source: paused while a writer commits transactions, the slot's confirmed
# position holds, nothing more reaches the sink, /metrics shows the paused
# gauge and the lag growing; the daemon is restarted while paused and stays
# paused (the state is kept beside the file checkpoint); resumed, every
# insert arrives exactly once (each id once, none missing).
# Sink: paused (nothing more is written; its events are held for it, so
# the slot holds at what it acknowledged), restarted, resumed with
# `tributary ctl`, exactly once again (81 tests the buffer, its bound and a
# second sink that goes on).
# Several sources: one paused (its slot holds, across a restart) while the
# other flows; resumed, each database's rows arrive once.
# Auth: every pause/resume refused without the token and with a wrong one,
# accepted with it (ctl too); unknown names 404 with the accepted names,
# GET 405, a huge body 413; every answer checked against docs/openapi.yaml.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=control_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/control_lib.sh"

build_consumer
pgc_start
pgc_psql -d postgres -q -c "CREATE TABLE public.orders (id int PRIMARY KEY, v text)" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_p67', 'tributary')" >/dev/null

cat > "$WORK/p.yaml" <<EOF
pipeline: p67
$(source_yaml)
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
checkpoint: {store: file, path: "$WORK/ckpt"}
http:
  listen: "127.0.0.1:0"
  max_body_bytes: 4096
  token_file: "$WORK/token"
EOF
"$BIN" check -c "$WORK/p.yaml" >/dev/null

# metric NAME: its value for source main or sink archive.
metric() {
    curl -s "http://127.0.0.1:$PORT/metrics" |
        sed -n "s/^$1{[a-z]*=\"\\(main\\|archive\\)\"} \\([0-9.e+-]*\\)$/\\2/p" | head -1
}
lines() { grep -c '"value":{' "$WORK/out.jsonl" 2>/dev/null || echo 0; }
# writer FROM TO: one insert per transaction, 20 a second.
writer() {
    for i in $(seq "$1" "$2"); do
        pgc_psql -d postgres -q -c "INSERT INTO public.orders VALUES ($i, 'v$i')"
        sleep 0.05
    done
}
# exactly_once NAME N: the sink holds ids 1..N, each once.
exactly_once() {
    jq -r 'select(.value != null) | .key.id' "$WORK/out.jsonl" | sort -n > "$WORK/ids"
    expect_eq "$1: every insert arrived" "$2" "$(sort -nu "$WORK/ids" | wc -l)"
    expect_eq "$1: none twice" "" "$(uniq -d "$WORK/ids" | head -3 | tr '\n' ' ')"
    expect_eq "$1: nothing else" "" "$(diff <(seq 1 "$2") "$WORK/ids" | head -3 | tr '\n' ' ')"
}

start
# --- auth and abuse ----------------------------------------------------------------
for p in sources/main/pause sources/main/resume sinks/archive/pause sinks/archive/resume; do
    api "POST /api/v1/$p without the token" 401 POST "/api/v1/$p"
    call POST "/api/v1/$p" -H "Authorization: Bearer wrong-token-wrong-token"
    expect_eq "POST /api/v1/$p with a wrong token" 401 "$CODE"
done
expect_eq "nothing was paused by refused requests" 0 "$(metric tributary_source_paused)"
api_tok "an unknown source" 404 POST /api/v1/sources/nope/pause
expect_eq "404 lists the accepted sources" 'no source named "nope" (accepted: main)' "$(jq -r .error <<<"$BODY")"
api_tok "an unknown sink" 404 POST /api/v1/sinks/nope/resume
expect_match "404 lists the accepted sinks" 'accepted: archive' "$BODY"
api_tok "GET on pause" 405 GET /api/v1/sources/main/pause
expect_eq "405 names the method" POST "$(sed -n 's/^Allow: \([^\r]*\).*/\1/Ip' "$WORK/headers")"
head -c 100000 /dev/zero | tr '\0' x > "$WORK/huge"
api_tok "a huge body" 413 POST /api/v1/sources/main/pause --data-binary @"$WORK/huge"
api_tok "a body where none is taken" 400 POST /api/v1/sources/main/pause -d '{"a":1}'
expect_eq "still not paused" 0 "$(metric tributary_source_paused)"

# --- pause a source under load -------------------------------------------------------
writer 1 200 &
WRITER_PID=$!
wait_lines "$WORK/out.jsonl" 20 20 || fail "rows flow before the pause" "$(lines) lines"
api_tok "pause source main" 200 POST /api/v1/sources/main/pause
expect_eq "paused, changed" "true true source" "$(jq -r '"\(.paused) \(.changed) \(.kind)"' <<<"$BODY")"
sleep 1
n_paused=$(lines)
slot_paused=$(slot_confirmed tributary_p67)
lag1=$(metric tributary_source_lag_seconds)
sleep 2
expect_eq "paused: nothing more reaches the sink" "$n_paused" "$(lines)"
expect_eq "paused: the slot's confirmed position holds" "$slot_paused" "$(slot_confirmed tributary_p67)"
expect_eq "the writer goes on meanwhile" t "$(kill -0 "$WRITER_PID" 2>/dev/null && echo t || echo f)"
expect_eq "/metrics: tributary_source_paused 1" 1 "$(metric tributary_source_paused)"
lag2=$(metric tributary_source_lag_seconds)
expect_eq "/metrics: the lag grows while paused ($lag1 -> $lag2)" t \
    "$(awk -v a="$lag1" -v b="$lag2" 'BEGIN { print (b > a && b >= 2) ? "t" : "f" }')"
call_tok POST /api/v1/sources/main/pause
expect_eq "pausing again: unchanged" "true false" "$(jq -r '"\(.paused) \(.changed)"' <<<"$BODY")"
expect_eq "the state is kept beside the checkpoint" '["main"]' "$(jq -c '.position.paused_sources' "$WORK/ckpt.paused")"
"$BIN" check -c "$WORK/p.yaml" > "$WORK/check.out" 2>&1 || true
expect_grep "check: says where the pause state is kept" "$WORK/check.out" "pause state kept in $WORK/ckpt.paused"

# --- restart while paused ----------------------------------------------------------------
stop_consumer
expect_eq "SIGTERM while paused exits 0" 0 "$STOP_RC"
start
expect_grep "after a restart: still paused" "$WORK/run.log" 'source main stays paused'
sleep 2
expect_eq "after a restart: nothing more reaches the sink" "$n_paused" "$(lines)"
expect_eq "after a restart: the slot holds" "$slot_paused" "$(slot_confirmed tributary_p67)"
expect_eq "after a restart: the gauge says paused" 1 "$(metric tributary_source_paused)"

# --- resume ---------------------------------------------------------------------------
api_tok "resume source main" 200 POST /api/v1/sources/main/resume
expect_eq "resumed, changed" "false true" "$(jq -r '"\(.paused) \(.changed)"' <<<"$BODY")"
wait "$WRITER_PID"
WRITER_PID=
wait_lines "$WORK/out.jsonl" 200 30 || fail "every row after the resume" "$(lines) lines"
expect_eq "resumed: the slot is confirmed to the end" t "$(slot_caught_up tributary_p67)"
expect_eq "the gauge says running" 0 "$(metric tributary_source_paused)"
exactly_once "source pause, restart, resume" 200

# --- pause the sink, with tributary ctl ---------------------------------------------------
CTL_RC=0
CTL_OUT=$("$BIN" ctl pause sink archive --url "http://127.0.0.1:$PORT" 2>&1) || CTL_RC=$?
expect_eq "ctl pause without the token fails" 1 "$CTL_RC"
expect_match "ctl says why" '401' "$CTL_OUT"
CTL_OUT=$("$BIN" ctl pause sink archive --url "http://127.0.0.1:$PORT" --token-file "$WORK/token" 2>&1) || true
expect_match "ctl pause sink archive" 'paused:[[:space:]]+true' "$CTL_OUT"
expect_absent "ctl never prints the token" "$TOKEN" <(echo "$CTL_OUT")
writer 201 300 &
WRITER_PID=$!
sleep 1
n_sink=$(lines)
slot_sink=$(slot_confirmed tributary_p67)
sleep 2
expect_eq "sink paused: nothing more is written" "$n_sink" "$(lines)"
expect_eq "sink paused: the slot holds at its acks" "$slot_sink" "$(slot_confirmed tributary_p67)"
expect_eq "/metrics: tributary_sink_paused 1" 1 "$(metric tributary_sink_paused)"
stop_consumer
start
expect_grep "after a restart: the sink stays paused" "$WORK/run.log" 'sink archive stays paused'
sleep 1
expect_eq "after a restart: nothing more is written" "$n_sink" "$(lines)"
CTL_OUT=$("$BIN" ctl resume sink archive --json --url "http://127.0.0.1:$PORT" --token-file "$WORK/token" 2>&1) || true
expect_eq "ctl resume --json" '{"kind":"sink","name":"archive","paused":false,"changed":true}' "$CTL_OUT"
CTL_RC=0
CTL_OUT=$("$BIN" ctl resume sink 2>&1) || CTL_RC=$?
expect_eq "ctl resume without a name: usage" 2 "$CTL_RC"
wait "$WRITER_PID"
WRITER_PID=
wait_lines "$WORK/out.jsonl" 300 30 || fail "every row after the sink's resume" "$(lines) lines"
expect_eq "resumed: the slot is confirmed to the end" t "$(slot_caught_up tributary_p67)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
exactly_once "sink pause, restart, resume" 300
expect_absent "the token is never logged" "$TOKEN" "$WORK/run.log"
expect_no_sanitizer "no sanitizer report" "$WORK/run.log"

# --- several sources: one paused, the other flows ------------------------------------------
two_databases m67
control_config m67 "$(two_sources_yaml m67)" "$WORK/mckpt" archive="$WORK/m.jsonl"
# of DB: the ids of database DB's rows in the sink, sorted.
of() { ids_from "$WORK/m.jsonl" "$1"; }
start
mwriter 1 150 &
WRITER_PID=$!
wait_rows 10 of da
api_tok "several sources: pause source a" 200 POST /api/v1/sources/a/pause
sleep 1
na=$(of da | wc -l)
nb=$(of db | wc -l)
slot_a=$(slot_confirmed m67_da)
sleep 2
expect_eq "several sources: a paused, none of its rows more" "$na" "$(of da | wc -l)"
expect_eq "several sources: a's slot holds" "$slot_a" "$(slot_confirmed m67_da)"
expect_eq "several sources: b flows meanwhile" t "$([ "$(of db | wc -l)" -gt "$nb" ] && echo t || echo f)"
stop_consumer
start
expect_grep "several sources: a stays paused after a restart" "$WORK/run.log" 'source a stays paused'
nb=$(of db | wc -l)
sleep 2
expect_eq "several sources, restarted: a still holds" "$na" "$(of da | wc -l)"
expect_eq "several sources, restarted: b flows" t "$([ "$(of db | wc -l)" -gt "$nb" ] && echo t || echo f)"
CTL_OUT=$("$BIN" ctl resume source a --url "http://127.0.0.1:$PORT" --token-file "$WORK/token" 2>&1) || true
expect_match "several sources: ctl resume source a" 'changed:[[:space:]]+true' "$CTL_OUT"
wait "$WRITER_PID"
WRITER_PID=
for _ in $(seq 1 300); do [ "$(of da | wc -l)" -ge 150 ] && [ "$(of db | wc -l)" -ge 150 ] && break; sleep 0.1; done
stop_consumer
expect_eq "several sources: SIGTERM drains and exits 0" 0 "$STOP_RC"
for d in da db; do
    expect_eq "several sources: $d's rows, each once" "" "$(diff <(seq 1 150) <(of "$d") | head -3 | tr '\n' ' ')"
done
expect_no_sanitizer "several sources: no sanitizer report" "$WORK/run.log"
e2e_finish
