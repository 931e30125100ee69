#!/usr/bin/env bash
# 68_control_lineage.sh: the control API's lineage read endpoints (issue
# 16; docs/API.md, "Lineage") against a real catalog whose graph the
# daemon recorded.
#
# GET /api/v1/lineage/{asset}/upstream|downstream|impact give the rows
# of the SQL API (tributary.upstream, downstream, impact: the same nodes,
# masking included); /api/v1/lineage/flow gives the pipeline's job both
# ways as JSON and as tributary.lineage_dot.  Reads need the token with
# open_reads off (401 without, 200 with).  Abuse: an unknown asset 404
# with the server's message, a bad depth or format 400, POST 405, a
# question kept waiting by a lock 503 after the 5 s statement timeout (a
# fixed message; the server's in the log); a
# pipeline without lineage answers 404 saying how to configure it.  Every
# answer is checked against docs/openapi.yaml.
# The pause state in the catalog checkpoint store: a paused sink is kept
# in the row of source ~paused (no position), stays paused across a
# restart, gets nothing until resumed, then the row arrives once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=control_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/control_lib.sh"

build_consumer
pgc_start
chmod 777 "$WORK"
pgc_psql -d postgres -q -c "CREATE EXTENSION tributary" \
    -c "CREATE TABLE public.customers (id int PRIMARY KEY, email text, region text)" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_l68', 'tributary')" >/dev/null
DSN="$(pg_dsn)"

# config LINEAGE(true|false): $WORK/p.yaml, reads need the token.
config() {
    cat > "$WORK/p.yaml" <<YAML
pipeline: l68
sources:
  main: {type: postgres, dsn: "$DSN", snapshot: never, status_interval_ms: 200}
transforms:
  - {type: redact, name: mask_email, tables: [customers], fields: [email]}
sinks:
  f: {type: file, path: "$WORK/out.jsonl"}
checkpoint:
  store: catalog
lineage:
  enabled: $1
http:
  listen: "127.0.0.1:0"
  open_reads: false
  token_file: "$WORK/token"
YAML
    "$BIN" check --offline -c "$WORK/p.yaml" >/dev/null
}

# start: the daemon on a fresh run.log; sets PORT once it serves.
start() {
    : > "$WORK/run.log"
    serve
}

# sql_nodes FUNCTION ASSET: "node:masked" of the SQL API's rows, sorted.
sql_nodes() {
    q postgres "SELECT r.node || ':' || r.masked FROM tributary.$1('$2', 10) AS r ORDER BY 1"
}
api_nodes() { jq -r '.nodes[] | "\(.node):\(.masked)"' <<<"$BODY" | LC_ALL=C sort; }
uri() { jq -rn --arg a "$1" '$a | @uri'; }

config true
start
pgc_psql -d postgres -q -c "INSERT INTO public.customers SELECT g, 'c' || g || '@mail.example', 'eu' FROM generate_series(1, 5) g"
wait_lines "$WORK/out.jsonl" 5 30 || fail "the rows arrive" "$(cat "$WORK/run.log")"
for _ in $(seq 1 200); do
    [ "$(q postgres "SELECT count(*) > 0 FROM tributary.lineage_edge_list WHERE job = 'job:tributary/l68' AND kind = 'write' AND current")" = t ] && break
    sleep 0.1
done
SRC="postgres://localhost:$PGC_PORT/postgres.public.customers"
EMAIL=$(uri "$SRC#email")

# --- auth ------------------------------------------------------------------------
for p in "/api/v1/lineage/$EMAIL/impact" /api/v1/lineage/flow; do
    api "GET $p without the token" 401 GET "$p"
done

# --- the questions, against the SQL API --------------------------------------------------
for question in impact downstream; do
    api_tok "GET lineage/{email}/$question" 200 GET "/api/v1/lineage/$EMAIL/$question"
    expect_eq "$question: the asset as sent" "$SRC#email $question 10" \
        "$(jq -r '"\(.asset) \(.question) \(.depth)"' <<<"$BODY")"
    expect_eq "$question: the SQL API's nodes" "$(sql_nodes "$question" "$SRC#email" | LC_ALL=C sort)" "$(api_nodes)"
done
expect_match "impact: the email reaches the file only masked" \
    "field:file://[^ ]*/out.jsonl#email:true" "$(api_nodes | tr '\n' ' ')"
FIELD=$(jq -r '.nodes[] | select(.kind == "field") | .node' <<<"$BODY" | sed -n 1p)
call_tok GET "/api/v1/lineage/$(uri "$FIELD")/upstream?depth=1"
expect_api "GET lineage/{field}/upstream?depth=1" 200 GET "/api/v1/lineage/$(uri "$FIELD")/upstream"
expect_eq "upstream, depth 1: the SQL API's nodes" \
    "$(q postgres "SELECT r.node || ':' || r.masked FROM tributary.upstream('$FIELD', 1) AS r ORDER BY 1" | LC_ALL=C sort)" "$(api_nodes)"
expect_match "upstream: back to the source's email" "$SRC#email" "$(api_nodes | tr '\n' ' ')"

api_tok "GET lineage/flow" 200 GET /api/v1/lineage/flow
expect_eq "flow: the pipeline's job, json" "job:tributary/l68 json" "$(jq -r '"\(.job) \(.format)"' <<<"$BODY")"
expect_eq "flow: downstream is the SQL API's" \
    "$(q postgres "SELECT count(*) FROM tributary.downstream('job:tributary/l68', 10)")" "$(jq '.downstream | length' <<<"$BODY")"
expect_eq "flow: upstream is the SQL API's" \
    "$(q postgres "SELECT count(*) FROM tributary.upstream('job:tributary/l68', 10)")" "$(jq '.upstream | length' <<<"$BODY")"
call_tok GET "/api/v1/lineage/flow?format=dot"
expect_api "GET lineage/flow?format=dot" 200 GET /api/v1/lineage/flow
jq -r .dot <<<"$BODY" > "$WORK/api.dot"
q postgres "SELECT tributary.lineage_dot('job:tributary/l68', 'both', 10)" > "$WORK/sql.dot"
expect_eq "flow dot: tributary.lineage_dot's" "" "$(diff "$WORK/sql.dot" "$WORK/api.dot" | head -3)"
expect_eq "flow dot: the job reads the table and writes the file" "1 1" \
    "$(grep -c 'label="read"' "$WORK/api.dot") $(grep -c 'label="write"' "$WORK/api.dot")"

# --- abuse ------------------------------------------------------------------------------
call_tok GET "/api/v1/lineage/$(uri 'nope:x')/impact"
expect_api "an unknown asset" 404 GET "/api/v1/lineage/nope/impact"
expect_match "404: the server's message and hint" 'unknown lineage asset \\"nope:x\\".*hint' "$BODY"
call_tok GET "/api/v1/lineage/$EMAIL/impact?depth=abc"
expect_api "a bad depth" 400 GET "/api/v1/lineage/x/impact"
call_tok GET "/api/v1/lineage/flow?format=svg"
expect_api "a bad format" 400 GET /api/v1/lineage/flow
call_tok POST "/api/v1/lineage/$EMAIL/impact"
expect_api "POST" 405 POST "/api/v1/lineage/x/impact"
call_tok GET "/api/v1/lineage/$EMAIL/sideways"
expect_eq "an unknown question: 404" 404 "$CODE"
call GET /health
expect_eq "/health still answers" 200 "$CODE"

# A question the catalog cannot answer soon (its edges locked by another
# session) times out after 5 s, saying so (the server's own message only in
# the log): the HTTP thread, which also answers /health, is not held until
# the lock goes.
pgc_psql -d postgres -q -c "BEGIN" -c "LOCK TABLE tributary.lineage_edges IN ACCESS EXCLUSIVE MODE" \
    -c "SELECT pg_sleep(60) /* e2e68 lock */" -c "COMMIT" >/dev/null 2>&1 &
LOCKER=$!
for _ in $(seq 1 100); do
    [ "$(q postgres "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'lineage_edges' AND l.mode = 'AccessExclusiveLock' AND l.granted")" = 1 ] && break
    sleep 0.1
done
T0=$(date +%s%N)
call_tok GET "/api/v1/lineage/$EMAIL/impact"
ELAPSED_MS=$((($(date +%s%N) - T0) / 1000000))
expect_api "a locked catalog: 503" 503 GET "/api/v1/lineage/x/impact"
expect_match "a locked catalog: the statement timed out" 'statement timeout' "$BODY"
expect_eq "a locked catalog: the answer is the fixed text, not the server's" \
    'the lineage question was cancelled by the statement timeout (5000 ms)' "$(jq -r .error <<<"$BODY")"
expect_grep "a locked catalog: the log has the server's message" "$WORK/run.log" \
    'a lineage query failed \(SQLSTATE 57014\): canceling statement due to statement timeout'
if [ "$ELAPSED_MS" -lt 10000 ]; then
    pass "a locked catalog: answered within 10 s ($ELAPSED_MS ms)"
else
    fail "a locked catalog: answered within 10 s" "$ELAPSED_MS ms"
fi
q postgres "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%e2e68 lock%' AND pid <> pg_backend_pid()" >/dev/null
wait "$LOCKER" || true

# --- the pause state in the catalog store (e2e 67 covers the file store) ------------------------
api_tok "catalog store: pause sink f" 200 POST /api/v1/sinks/f/pause
expect_eq "catalog store: kept in the row of source ~paused, no position" '|["f"]' \
    "$(q postgres "SELECT commit_lsn, position->'paused_sinks' FROM tributary.checkpoint_get('l68', '~paused')" | tr -d ' ')"
stop_consumer
start
for _ in $(seq 1 100); do grep -q 'sink f stays paused' "$WORK/run.log" && break; sleep 0.1; done
expect_grep "catalog store: still paused after a restart" "$WORK/run.log" 'sink f stays paused'
pgc_psql -d postgres -q -c "INSERT INTO public.customers VALUES (6, 'c6@mail.example', 'eu')"
sleep 1
expect_eq "catalog store: the paused sink gets nothing" 5 "$(wc -l < "$WORK/out.jsonl")"
api_tok "catalog store: resume sink f" 200 POST /api/v1/sinks/f/resume
wait_lines "$WORK/out.jsonl" 6 20 || fail "catalog store: the row after the resume" "$(wc -l < "$WORK/out.jsonl") lines"
expect_eq "catalog store: resumed, the row arrives once" 6 "$(wc -l < "$WORK/out.jsonl")"
expect_eq "catalog store: the row says running" '[]' \
    "$(q postgres "SELECT position->'paused_sinks' FROM tributary.checkpoint_get('l68', '~paused')")"
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_absent "the token is never logged" "$TOKEN" "$WORK/run.log"
expect_no_sanitizer "no sanitizer report" "$WORK/run.log"

# --- without lineage ----------------------------------------------------------------------
config false
start
call_tok GET "/api/v1/lineage/$EMAIL/impact"
expect_api "lineage not configured" 404 GET "/api/v1/lineage/x/impact"
expect_match "404 says how to configure it" 'lineage is not configured.*lineage: section' "$BODY"
api_tok "flow, lineage not configured" 404 GET /api/v1/lineage/flow
stop_consumer
expect_no_sanitizer "no sanitizer report" "$WORK/run.log"
e2e_finish
