#!/usr/bin/env bash
# 69_quality_check.sh: POST /api/v1/quality/check (issue 16; docs/API.md,
# "Quality check") on a real daemon streaming a real cluster.
#
# A row in, the verdicts of the configured quality rules out: a good row
# passes every rule that selects its table; a bad one fails the range,
# regex and allowed checks with their reasons and the action the stream
# would take, and a missing column fails not_null; a table no rule selects
# gets no verdict; a rule limited to another source is not run for this
# one.  No value of the row is ever in an answer.  The stream is not
# touched: nothing reaches the sink and the rules' counters in /metrics
# stay at zero, until a real row flows (tagged by the stream, as the check
# said).  Auth: with open_reads off, refused without the token and
# accepted with it.  Abuse: bad JSON, not a row, an unknown source, a huge
# body, GET.  Every answer checked against docs/openapi.yaml.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=control_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/control_lib.sh"
SECRET=s3cret-$(head -c 6 /dev/urandom | od -An -tx1 | tr -d ' \n')

build_consumer
pgc_start
pgc_psql -d postgres -q -c "CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric, email text, currency text)" \
    -c "SELECT 's' FROM pg_create_logical_replication_slot('tributary_q69', 'tributary')" >/dev/null

cat > "$WORK/p.yaml" <<YAML
pipeline: q69
$(source_yaml)
transforms:
  - {type: quality, name: has_id, tables: [public.orders], fields: [id], check: not_null, action: fail}
  - {type: quality, name: sane_amount, tables: [public.orders], fields: [amount], check: range, min: 0, max: 1000, action: tag}
  - {type: quality, name: mail_shape, tables: [public.orders], fields: [email], check: regex, pattern: "^[^@]+@[^@]+\$", action: dead_letter}
  - {type: quality, name: known_currency, tables: [public.orders], fields: [currency], check: allowed, values: [EUR, USD], action: drop}
  - {type: quality, name: other_source_only, sources: [elsewhere], tables: [public.orders], fields: [amount], check: not_null, action: fail}
  - {type: quality, name: other_table, tables: [public.items], fields: [qty], check: not_null, action: fail}
  - {type: redact, name: hide_email, tables: [public.orders], fields: [email]}
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
  dlq: {type: file, path: "$WORK/dlq.jsonl"}
dead_letter: dlq
checkpoint: {store: file, path: "$WORK/ckpt"}
http:
  listen: "127.0.0.1:0"
  open_reads: false
  max_body_bytes: 4096
  token_file: "$WORK/token"
YAML
"$BIN" check --offline -c "$WORK/p.yaml" >"$WORK/check.out" 2>&1 || { cat "$WORK/check.out"; exit 1; }

: > "$WORK/run.log"
start

# check [CURL ARGS...]: POST /api/v1/quality/check with the token; sets
# CODE and BODY (the answer also goes to answers.log).
check() {
    call_tok POST /api/v1/quality/check -H 'Content-Type: application/json' "$@"
    cat "$WORK/body" >> "$WORK/answers.log"
}
# expect_check NAME STATUS [METHOD]: expect_api for POST (or METHOD)
# /api/v1/quality/check.
expect_check() { expect_api "$1" "$2" "${3:-POST}" /api/v1/quality/check; }
verdicts() { jq -r '[.verdicts[] | "\(.rule):\(.field):\(.pass):\(.action)"] | join(" ")' <<<"$BODY"; }
rule_events() {
    curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" |
        awk '/^tributary_rule_events_total/ { s += $2 } END { print s + 0 }'
}

# --- auth ----------------------------------------------------------------------------
call POST /api/v1/quality/check -d '{"relation":"public.orders","columns":{}}'
expect_check "without the token (open_reads off)" 401

# --- verdicts -----------------------------------------------------------------------------
check -d '{"relation":"public.orders","columns":{"id":1,"amount":12.5,"email":"a@example.com","currency":"EUR"}}'
expect_check "a good row" 200
expect_eq "a good row passes every rule of its table and source" \
    "true has_id:id:true:fail sane_amount:amount:true:tag mail_shape:email:true:dead_letter known_currency:currency:true:drop" \
    "$(jq -r .pass <<<"$BODY") $(verdicts)"
expect_eq "relation and source named" "public.orders main" "$(jq -r '"\(.relation) \(.source)"' <<<"$BODY")"

check -d "{\"relation\":\"public.orders\",\"source\":\"main\",\"columns\":{\"amount\":\"5000.75\",\"email\":\"$SECRET\",\"currency\":\"$SECRET-GBP\"}}"
expect_check "a bad row" 200
expect_eq "a bad row fails each check" \
    "false has_id:id:false:fail sane_amount:amount:false:tag mail_shape:email:false:dead_letter known_currency:currency:false:drop" \
    "$(jq -r .pass <<<"$BODY") $(verdicts)"
expect_eq "the reasons name the check, not the value" \
    "is missing|is out of range|is not an allowed value" \
    "$(jq -r '[.verdicts[] | select(.rule != "mail_shape") | .reason] | join("|")' <<<"$BODY")"
expect_match "the regex's reason names its pattern" 'mail_shape' "$(jq -r '.verdicts[2].reason' <<<"$BODY")"
expect_absent "no value of the row in the answer" "$SECRET" "$WORK/body"
expect_absent "nor the amount" "5000.75" "$WORK/body"

check -d '{"relation":"public.items","columns":{"qty":null}}'
expect_eq "another table: its own rule only" "false other_table:qty:false:fail" "$(jq -r .pass <<<"$BODY") $(verdicts)"
check -d '{"relation":"orders","columns":{"id":1}}'
expect_eq "a relation without schema: no rule selects it" "true " "$(jq -r .pass <<<"$BODY") $(verdicts)"

# --- the stream is not touched ---------------------------------------------------------------
expect_eq "nothing reached the sinks" "0 0" \
    "$(cat "$WORK/out.jsonl" 2>/dev/null | wc -l) $(cat "$WORK/dlq.jsonl" 2>/dev/null | wc -l)"
expect_eq "the rules' counters did not move" 0 "$(rule_events)"
pgc_psql -d postgres -q -c "INSERT INTO public.orders VALUES (1, 5000, 'a@example.com', 'EUR')"
wait_lines "$WORK/out.jsonl" 1 20 || fail "a real row flows" "$(cat "$WORK/run.log")"
expect_eq "the stream tags the real row as the check said" '["sane_amount"]' \
    "$(jq -c 'select(.value != null) | .tags // .value.tags // empty' "$WORK/out.jsonl" 2>/dev/null | head -1)"

# --- abuse ------------------------------------------------------------------------------------
check -d '{"relation":'
expect_check "bad JSON" 400
expect_match "bad JSON: says what is taken" 'not JSON.*relation' "$BODY"
check -d '[1,2]'
expect_check "not a row" 400
check -d '{"relation":"public.orders","columns":[1]}'
expect_check "columns not an object" 400
check
expect_check "no body" 400
check -d '{"relation":"public.orders","source":"nope","columns":{}}'
expect_check "an unknown source" 404
head -c 100000 /dev/zero | tr '\0' x > "$WORK/huge"
check --data-binary @"$WORK/huge"
expect_check "a huge body" 413
check -H "Transfer-Encoding: chunked" --data-binary @"$WORK/huge"
expect_check "a huge chunked body" 413
call_tok GET /api/v1/quality/check
expect_check "GET" 405 GET
expect_eq "/health still answers" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")"

stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_absent "no value of the checked rows in the log" "$SECRET" "$WORK/run.log"
expect_absent "the token is never logged" "$TOKEN" "$WORK/run.log"
expect_no_sanitizer "no sanitizer report" "$WORK/run.log"
e2e_finish
