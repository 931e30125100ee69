#!/usr/bin/env bash
# 53_control_api.sh: the control API (issue 16, docs/API.md) and the
# monitoring endpoints on a real daemon streaming a real cluster.
#
# Every endpoint is called and its body validated against the schema
# docs/openapi.yaml gives for the operation and status (openapi_check.py,
# python3-jsonschema).  Auth: reads open on loopback by default; with
# `open_reads: false` refused without the token (401, WWW-Authenticate)
# and with a wrong one, accepted with it; the token never in the log nor
# in an answer, nor the rule's hash key.  Abuse: wrong methods (405 with
# Allow), unknown paths (404), a body where none is taken (400), huge
# bodies announced and chunked (413); /health still answers afterwards.
# TLS (a throwaway self-signed certificate made with openssl): https with
# curl --cacert and ctl, no answer to plain http; a certificate without
# its key is refused by `tributary check`.
# Listening on a non-loopback address, reads need the token even when
# open_reads is on, and are refused when no token is configured.
# `tributary ctl` prints the same documents (--json) and readable text.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=control_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/control_lib.sh"
HASH_KEY=key-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')

build_consumer
pgc_start
pgc_psql -d postgres -c "CREATE TABLE public.orders (id int PRIMARY KEY, amount numeric, email text)" >/dev/null

# write_config LISTEN OPEN_READS [TOKEN LINE]: $WORK/p.yaml; the token
# line is `token_file: $WORK/token` unless given.
write_config() {
    local token_line=${3-  token_file: \"$WORK/token\"}
    cat > "$WORK/p.yaml" <<EOF
pipeline: control
$(source_yaml)
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
transforms:
  - {type: hash, name: hide_email, tables: [public.orders], fields: [email], key: "$HASH_KEY", key_format: raw, context: email}
  - {type: quality, name: sane_amount, tables: [public.orders], fields: [amount], check: range, min: 0, max: 1000, action: tag}
checkpoint: {store: file, path: "$WORK/ckpt"}
http:
  listen: "$1"
  open_reads: $2
  max_body_bytes: 4096
$token_line
EOF
    "$BIN" check -c "$WORK/p.yaml" >/dev/null
}

# start: the daemon, logging to $WORK/run.log (the earlier runs' logs are
# kept in all.log); sets PORT, and waits until it streams.
start() {
    [ -f "$WORK/run.log" ] && cat "$WORK/run.log" >> "$WORK/all.log"
    : > "$WORK/run.log"
    serve
    wait_ready
}

# header NAME: the value of a header of the last answer.
header() { sed -n "s/^$1: \\([^\\r]*\\).*/\\1/Ip" "$WORK/headers"; }

# --- loopback, open reads ----------------------------------------------------
write_config 127.0.0.1:0 true
start
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (1, 10, 'a@example.com')" >/dev/null
wait_lines "$WORK/out.jsonl" 1 20 || fail "the row reached the sink" "no line in 20 s"

for p in /health /health/live /health/ready /status; do
    api "GET $p" 200 GET "$p"
done
call GET "/health?ready"
expect_api "GET /health?ready" 200 GET /health
call GET /metrics
expect_eq "GET /metrics: status" 200 "$CODE"

api "GET /api/v1/pipeline, open on loopback" 200 GET /api/v1/pipeline
expect_eq "pipeline: names and types" \
    'control streaming main:postgres archive:file 2' \
    "$(jq -r '[.pipeline, .state, (.sources[] | "\(.name):\(.type)"), (.sinks[] | "\(.name):\(.type)"), (.rules | tostring)] | join(" ")' <<<"$BODY")"
expect_eq "pipeline: the sink wrote the row" 1 "$(jq -r '.sinks[0].written' <<<"$BODY")"
expect_eq "the answer's content type" application/json "$(header Content-Type)"

api "GET /api/v1/rules" 200 GET /api/v1/rules
expect_eq "rules in words" 'hide_email:hash:public.orders:email:true sane_amount:quality:public.orders:amount:false' \
    "$(jq -r '[.rules[] | "\(.name):\(.type):\(.tables | join(",")):\(.fields | join(",")):\(.uses_secret)"] | join(" ")' <<<"$BODY")"
expect_absent "rules: the hash key is not shown" "$HASH_KEY" "$WORK/body"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$PORT/api/v1/rules")
expect_eq "HEAD /api/v1/rules" 200 "$CODE"

# --- abuse ------------------------------------------------------------------
api "POST /api/v1/pipeline" 405 POST /api/v1/pipeline -d '{}'
expect_eq "405 names what is allowed" "GET, HEAD" "$(header Allow)"
api "DELETE /api/v1/rules" 405 DELETE /api/v1/rules
api "GET /api/v1/nope" 404 GET /api/v1/nope
expect_match "404 names the path" 'no endpoint /api/v1/nope' "$BODY"
call POST /api/v1/sources/main/pause
expect_eq "pause needs the token (e2e 67 tests it): 401" 401 "$CODE"
api "a body where none is taken" 400 GET /api/v1/pipeline --data-binary '{"a":1}'
head -c 100000 /dev/zero | tr '\0' x > "$WORK/huge"
api "a huge announced body" 413 GET /api/v1/pipeline --data-binary @"$WORK/huge"
api "a huge chunked body" 413 GET /api/v1/pipeline -H "Transfer-Encoding: chunked" --data-binary @"$WORK/huge"
call GET /health
expect_eq "/health still answers" "200 ok" "$CODE $BODY"

# --- ctl --------------------------------------------------------------------
CTL_OUT=$("$BIN" ctl pipeline --json --url "http://127.0.0.1:$PORT" 2>&1) || true
expect_match "ctl pipeline --json: the document" '^\{"pipeline":"control",' "$CTL_OUT"
CTL_OUT=$("$BIN" ctl status -c "$WORK/p.yaml" 2>&1) || true
expect_match "ctl -c with port 0: says to pass --url" 'port 0.*pass --url' "$CTL_OUT"
CTL_OUT=$("$BIN" ctl status --url "http://127.0.0.1:$PORT/" 2>&1) || true
expect_match "ctl status: readable text" 'state:[[:space:]]+streaming' "$CTL_OUT"
CTL_OUT=$("$BIN" ctl rules --url "http://127.0.0.1:$PORT" 2>&1) || true
expect_match "ctl rules: one line per rule" 'sane_amount[[:space:]]+quality' "$CTL_OUT"
stop_consumer

# --- loopback, reads need the token ----------------------------------------------
write_config "127.0.0.1:$(pgc_free_port)" false
start
api "GET /api/v1/pipeline without the token" 401 GET /api/v1/pipeline
expect_eq "401 asks for a bearer token" Bearer "$(header WWW-Authenticate)"
api "GET /api/v1/rules with a wrong token" 401 GET /api/v1/rules -H "Authorization: Bearer wrong-token-wrong-token"
for p in /api/v1/pipeline /api/v1/rules; do
    api_tok "GET $p with the token" 200 GET "$p"
done
CTL_RC=0
CTL_OUT=$("$BIN" ctl rules --url "http://127.0.0.1:$PORT" 2>&1) || CTL_RC=$?
expect_eq "ctl without the token fails" 1 "$CTL_RC"
expect_match "ctl says why" '401' "$CTL_OUT"
CTL_OUT=$("$BIN" ctl rules --json --url "http://127.0.0.1:$PORT" --token-file "$WORK/token" 2>&1) || true
jq -e . <<<"$CTL_OUT" >/dev/null 2>&1 || echo "# ctl rules --json printed: $CTL_OUT"
expect_eq "ctl --token-file" hide_email "$(jq -r '.rules[0].name' <<<"$CTL_OUT" 2>&1)"
CTL_OUT=$("$BIN" ctl pipeline -c "$WORK/p.yaml" 2>&1) || true
expect_match "ctl -c: the config's address and token" 'sinks:[[:space:]]+1' "$CTL_OUT"
expect_absent "ctl never prints the token" "$TOKEN" <(echo "$CTL_OUT")
call GET /health
expect_eq "/health needs no token" 200 "$CODE"
stop_consumer

# --- a non-loopback address -----------------------------------------------------
write_config 0.0.0.0:0 true
start
api "0.0.0.0: reads need the token even with open_reads" 401 GET /api/v1/pipeline
api_tok "0.0.0.0: with the token" 200 GET /api/v1/pipeline
stop_consumer
write_config 0.0.0.0:0 true ""
start
api "0.0.0.0 without a token configured: refused" 401 GET /api/v1/rules
expect_match "and says what to configure" 'http.token_file' "$BODY"
stop_consumer

# --- TLS ----------------------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
chmod 600 "$WORK/tls.key"
TLS_PORT=$(pgc_free_port)
write_config "127.0.0.1:$TLS_PORT" false "  token_file: \"$WORK/token\"
  tls_cert_file: \"$WORK/tls.crt\"
  tls_key_file: \"$WORK/tls.key\""
[ -f "$WORK/run.log" ] && cat "$WORK/run.log" >> "$WORK/all.log"
: > "$WORK/run.log"
start_consumer "$WORK/p.yaml" "$WORK/run.log"
wait_log "$WORK/run.log" "listening on 127.0.0.1:$TLS_PORT (HTTPS)" 20 \
    || fail "TLS: the daemon listens" "$(cat "$WORK/run.log")"
CODE=$(curl -s --max-time 20 -o "$WORK/body" -w '%{http_code}' --cacert "$WORK/tls.crt" \
    -H "Authorization: Bearer $TOKEN" "https://127.0.0.1:$TLS_PORT/api/v1/pipeline")
BODY=$(cat "$WORK/body")
expect_api "TLS: GET /api/v1/pipeline over https with the token" 200 GET /api/v1/pipeline
CODE=$(curl -s --max-time 20 -o /dev/null -w '%{http_code}' --cacert "$WORK/tls.crt" \
    "https://127.0.0.1:$TLS_PORT/api/v1/pipeline")
expect_eq "TLS: without the token" 401 "$CODE"
CODE=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TLS_PORT/health" || true)
expect_match "TLS: plain http gets no answer" '^0+$' "$CODE"
CODE=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "https://127.0.0.1:$TLS_PORT/health" || true)
expect_match "TLS: an unknown CA is refused by the client" '^0+$' "$CODE"
CTL_OUT=$("$BIN" ctl rules -c "$WORK/p.yaml" --cacert "$WORK/tls.crt" 2>&1) || true
expect_match "TLS: ctl -c asks over https" 'hide_email[[:space:]]+hash' "$CTL_OUT"
stop_consumer
write_config 127.0.0.1:0 true "  tls_cert_file: \"$WORK/tls.crt\"" 2>/dev/null || true
CHECK_OUT=$("$BIN" check --offline -c "$WORK/p.yaml" 2>&1) || true
expect_match "TLS: a certificate without a key is refused by check" 'tls_cert_file and tls_key_file go together' "$CHECK_OUT"

cat "$WORK/run.log" >> "$WORK/all.log"
expect_absent "the token is never logged" "$TOKEN" "$WORK/all.log"
expect_absent "the hash key is never logged" "$HASH_KEY" "$WORK/all.log"
expect_no_sanitizer "no sanitizer report" "$WORK/all.log"
e2e_finish
