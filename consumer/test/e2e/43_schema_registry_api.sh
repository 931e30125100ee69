#!/usr/bin/env bash
# 43_schema_registry_api.sh: the Confluent-compatible schema registry REST
# API (issue 11 #6, docs/SCHEMA_REGISTRY.md section 6) against a real
# catalog, through the daemon's HTTP endpoint.
#
# One daemon with `schema_registry` on, its catalog reached as a role that
# has only tributary_reader and tributary_writer, and a token file.  Every
# endpoint's documented answers are checked with curl, status and body:
# registering (idempotent, 409 when incompatible, 42201 for an invalid
# schema), the reads and their 40401/40402/40403/42202, lookups,
# compatibility checks (against all versions and one, verbose), levels
# (42203, 40408, defaultToGlobal), the auth rules (40101 without or with a
# wrong token; the token never in the log), malformed JSON, huge bodies
# (announced and chunked), a wrong content type, unknown paths; /health
# and the registry still answer afterwards.  DELETE needs extension 0.5
# (soft delete: schema_versions_with_deleted, delete_subject()): on 0.4
# the API answers 501/50101 and the delete checks are skipped, saying so.  Then test/interop/schema-registry.test.mjs runs
# the official Confluent JavaScript client (@confluentinc/schemaregistry,
# pinned in test/interop/package-lock.json; `npm ci` when missing)
# against the same daemon, and test/interop/http-keepalive.test.mjs Node's
# keep-alive agent across idle gaps around the server's idle timeout (the
# Keep-Alive header of every answer).  A terminated catalog session is reopened by the
# next request.  With `open_reads: false` reads need the token too.  With
# an unreachable catalog the API answers 50001 "the schema catalog is
# unavailable" (never the password, nor libpq's message naming the host and
# port: that goes to the log) while /health still answers.
#
# SR_EXT_VERSION=0.4 installs that version of the extension instead of the
# default (the API's stand-in for the views without soft deletes).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
CT=application/vnd.schemaregistry.v1+json
TOKEN=tok-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')

build_consumer
pgc_start
pgc_psql -d postgres -c "CREATE EXTENSION tributary${SR_EXT_VERSION:+ VERSION '$SR_EXT_VERSION'}" \
    -c "CREATE ROLE registry_api LOGIN IN ROLE tributary_reader, tributary_writer" >/dev/null
EXTVERSION=$(pgc_psql -d postgres -Atc "SELECT extversion FROM pg_extension WHERE extname = 'tributary'")
HAS_DELETE=$(pgc_psql -d postgres -Atc \
    "SELECT to_regprocedure('tributary.delete_subject(text,boolean)') IS NOT NULL")
echo "# extension $EXTVERSION, delete_subject: $HAS_DELETE"
printf '%s' "$TOKEN" > "$WORK/token"
chmod 600 "$WORK/token"

# write_config OPEN_READS
write_config() {
    cat > "$WORK/p.yaml" <<EOF
pipeline: registry
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: never
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
checkpoint: {store: catalog}
http: {listen: "127.0.0.1:0"}
schema_registry:
  enabled: true
  dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=registry_api"
  token_file: "$WORK/token"
  open_reads: $1
  max_body_bytes: 65536
EOF
}

# start: the daemon; sets PORT.
start() {
    : > "$WORK/run.log"
    start_consumer
    PORT=
    for _ in $(seq 1 100); do
        PORT=$(http_port)
        [ -n "$PORT" ] && break
        sleep 0.1
    done
    [ -n "$PORT" ] || { cat "$WORK/run.log"; echo "the daemon did not start"; exit 1; }
}

# sr METHOD PATH [BODY [CURL ARGS...]]: sets CODE (HTTP status) and BODY,
# with the token.  sr_anon: the same without it.
sr() { sr_as "Authorization: Bearer $TOKEN" "$@"; }
sr_anon() { sr_as "X-No-Token: 1" "$@"; }
sr_as() {
    local auth=$1 method=$2 path=$3 data=${4-} args=()
    shift 3; [ $# -gt 0 ] && shift
    [ -n "$data" ] && args=(--data-binary "$data")
    CODE=$(curl -s --max-time 20 -o "$WORK/body" -w '%{http_code}' -X "$method" \
        -H "$auth" -H "Content-Type: $CT" "${args[@]}" "$@" "http://127.0.0.1:$PORT$path")
    BODY=$(cat "$WORK/body")
}
# expect_sr NAME STATUS JQ-FILTER EXPECTED: the status, and the body through jq.
expect_sr() {
    expect_eq "$1: status" "$2" "$CODE"
    expect_eq "$1: body" "$4" "$(jq -c "$3" <<<"$BODY" 2>&1)"
}
# body_of SCHEMA [TYPE]: a registration body.
body_of() {
    if [ -n "${2-}" ]; then jq -nc --arg s "$1" --arg t "$2" '{schema: $s, schemaType: $t}'
    else jq -nc --arg s "$1" '{schema: $s}'; fi
}

V1='{"type":"object","properties":{"id":{"type":"integer"}},"required":["id"],"additionalProperties":false}'
V2='{"type":"object","properties":{"id":{"type":"integer"},"note":{"type":"string"}},"required":["id"],"additionalProperties":false}'
BAD='{"type":"object","properties":{"id":{"type":"integer"},"must":{"type":"string"}},"required":["id","must"],"additionalProperties":false}'
AVRO='{"type":"record","name":"pay","fields":[{"name":"id","type":"long"}]}'

write_config true
start

# --- reads on an empty registry --------------------------------------------
sr GET /schemas/types
expect_sr "GET /schemas/types" 200 . '["JSON","AVRO"]'
sr GET /subjects
expect_sr "GET /subjects, empty" 200 . '[]'
sr GET /subjects/nope/versions
expect_sr "unknown subject's versions" 404 .error_code 40401
sr GET /subjects/nope/versions/latest
expect_sr "unknown subject's latest" 404 .error_code 40401
expect_eq "the answer's content type" "$CT" \
    "$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$PORT/subjects")"

# --- auth -------------------------------------------------------------------
sr_anon POST /subjects/orders-value/versions "$(body_of "$V1" JSON)"
expect_sr "register without a token" 401 .error_code 40101
sr_as "Authorization: Bearer wrong-token-wrong-token" POST /subjects/orders-value/versions \
    "$(body_of "$V1" JSON)"
expect_sr "register with a wrong token" 401 .error_code 40101
sr_anon PUT /config '{"compatibility":"NONE"}'
expect_sr "PUT /config without a token" 401 .error_code 40101
sr GET /subjects
expect_sr "nothing was registered" 200 . '[]'

# --- register ---------------------------------------------------------------
sr POST /subjects/orders-value/versions "$(body_of "$V1" JSON)"
expect_eq "register JSON v1: status" 200 "$CODE"
ID1=$(jq -r .id <<<"$BODY")
expect_match "register answers {\"id\": N}" '^[0-9]+$' "$ID1"
sr POST /subjects/orders-value/versions "$(body_of "$V1" JSON)"
expect_sr "registering it again gives the same id" 200 .id "$ID1"
sr POST /subjects/pay-value/versions "$(body_of "$AVRO")"
expect_eq "register Avro (no schemaType: AVRO): status" 200 "$CODE"
IDA=$(jq -r .id <<<"$BODY")
sr GET /subjects
expect_sr "GET /subjects" 200 . '["orders-value","pay-value"]'
sr GET /subjects/orders-value/versions
expect_sr "GET versions" 200 . '[1]'
sr GET /subjects/orders-value/versions/1
expect_sr "GET version 1" 200 '[.subject, .version, .id, .schemaType]' \
    "[\"orders-value\",1,$ID1,\"JSON\"]"
expect_eq "its schema is the canonical document" \
    '{"additionalProperties":false,"properties":{"id":{"type":"integer"}},"required":["id"],"type":"object"}' \
    "$(jq -r .schema <<<"$BODY")"
sr GET /subjects/pay-value/versions/latest
expect_sr "GET latest Avro: no schemaType (Confluent's default)" 200 \
    '[.version, .id, has("schemaType")]' "[1,$IDA,false]"
sr GET /subjects/orders-value/versions/1/schema
expect_sr "GET version/schema: the document itself" 200 .required '["id"]'
sr GET /subjects/orders-value/versions/7
expect_sr "unknown version" 404 .error_code 40402
sr GET /subjects/orders-value/versions/abc
expect_sr "version abc" 422 .error_code 42202
sr GET /subjects/orders-value/versions/0
expect_sr "version 0" 422 .error_code 42202

# --- invalid schemas ----------------------------------------------------------
sr POST /subjects/orders-value/versions "$(body_of 'not json' JSON)"
expect_sr "a schema that is not JSON" 422 .error_code 42201
sr POST /subjects/x-value/versions "$(body_of '{"type":"record","name":"r"}')"
expect_sr "an invalid Avro schema" 422 .error_code 42201
sr POST /subjects/x-value/versions "$(body_of "$V1" PROTOBUF)"
expect_sr "schemaType PROTOBUF" 422 .error_code 42201
sr POST /subjects/x-value/versions \
    "$(jq -nc --arg s "$V1" '{schema: $s, schemaType: "JSON", references: [{name: "a", subject: "b", version: 1}]}')"
expect_sr "schema references" 422 .error_code 42201
sr POST /subjects/x-value/versions '{"schemaType":"JSON"}'
expect_sr "no schema" 422 .error_code 42201

# --- lookup -----------------------------------------------------------------
sr POST /subjects/orders-value "$(body_of "$V1" JSON)"
expect_sr "lookup a registered schema" 200 '[.subject, .version, .id]' "[\"orders-value\",1,$ID1]"
sr POST /subjects/orders-value "$(body_of "$V2" JSON)"
expect_sr "lookup an unregistered schema" 404 .error_code 40403
sr POST /subjects/nope "$(body_of "$V1" JSON)"
expect_sr "lookup in an unknown subject" 404 .error_code 40401

# --- compatibility ------------------------------------------------------------
sr POST /compatibility/subjects/orders-value/versions/latest "$(body_of "$V2" JSON)"
expect_sr "compatible change (optional property, closed model)" 200 . '{"is_compatible":true}'
sr POST "/compatibility/subjects/orders-value/versions/latest?verbose=true" "$(body_of "$V2" JSON)"
expect_sr "verbose, compatible" 200 . '{"is_compatible":true,"messages":[]}'
sr POST /compatibility/subjects/orders-value/versions "$(body_of "$BAD" JSON)"
expect_sr "incompatible change, against all versions" 200 .is_compatible false
sr POST "/compatibility/subjects/orders-value/versions/1?verbose=true" "$(body_of "$BAD" JSON)"
expect_sr "verbose names the violation" 200 \
    '[.is_compatible, (.messages[0] | test("REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"))]' \
    '[false,true]'
sr POST /compatibility/subjects/orders-value/versions/9 "$(body_of "$V2" JSON)"
expect_sr "compatibility against an unknown version" 404 .error_code 40402
sr POST /compatibility/subjects/nope/versions/latest "$(body_of "$V2" JSON)"
expect_sr "compatibility in an unknown subject" 404 .error_code 40401
sr POST /compatibility/subjects/orders-value/versions/latest "$(body_of 'nope' JSON)"
expect_sr "compatibility of an invalid schema" 422 .error_code 42201
sr POST /subjects/orders-value/versions "$(body_of "$BAD" JSON)"
expect_sr "registering an incompatible schema" 409 .error_code 409
expect_match "the 409 names the violation" REQUIRED_PROPERTY_ADDED "$(jq -r .message <<<"$BODY")"

# --- config -------------------------------------------------------------------
sr GET /config
expect_sr "GET /config" 200 . '{"compatibilityLevel":"BACKWARD"}'
sr GET /config/orders-value
expect_sr "GET /config/{s} with no level of its own" 404 .error_code 40408
sr GET "/config/orders-value?defaultToGlobal=true"
expect_sr "GET /config/{s}?defaultToGlobal=true" 200 . '{"compatibilityLevel":"BACKWARD"}'
sr PUT /config/orders-value '{"compatibility":"BOGUS"}'
expect_sr "PUT an unknown level" 422 .error_code 42203
sr PUT /config/orders-value '{"level":"NONE"}'
expect_sr "PUT without compatibility" 422 .error_code 42203
sr PUT /config/orders-value '{"compatibility":"none"}'
expect_sr "PUT /config/{s}" 200 . '{"compatibility":"NONE"}'
sr GET /config/orders-value
expect_sr "GET /config/{s} after" 200 . '{"compatibilityLevel":"NONE"}'
sr POST /subjects/orders-value/versions "$(body_of "$BAD" JSON)"
expect_eq "under NONE the change registers" 200 "$CODE"
ID2=$(jq -r .id <<<"$BODY")
sr GET /subjects/orders-value/versions
expect_sr "as version 2" 200 . '[1,2]'
sr PUT /config '{"compatibility":"FULL"}'
expect_sr "PUT /config" 200 . '{"compatibility":"FULL"}'
sr PUT /config '{"compatibility":"BACKWARD"}'
sr DELETE /config/orders-value
expect_sr "DELETE /config/{s} answers the level it had" 200 . '{"compatibilityLevel":"NONE"}'
sr GET /config/orders-value
expect_sr "and it is gone" 404 .error_code 40408

# --- schemas by id ------------------------------------------------------------
sr GET "/schemas/ids/$ID1"
expect_sr "GET /schemas/ids/{id}" 200 '[.schemaType, (.schema | fromjson | .required)]' '["JSON",["id"]]'
sr GET "/schemas/ids/$IDA?subject=pay-value"
expect_sr "GET /schemas/ids/{id} of an Avro schema" 200 '[has("schemaType"), (.schema | fromjson | .name)]' '[false,"pay"]'
sr GET "/schemas/ids/$ID2/versions"
expect_sr "GET /schemas/ids/{id}/versions" 200 . '[{"subject":"orders-value","version":2}]'
sr GET "/schemas/ids/$ID1/subjects"
expect_sr "GET /schemas/ids/{id}/subjects" 200 . '["orders-value"]'
sr GET /schemas/ids/999999
expect_sr "unknown schema id" 404 .error_code 40403
sr GET /schemas/ids/abc
expect_sr "schema id abc" 404 .error_code 40403
sr GET /schemas/ids/999999/versions
expect_sr "versions of an unknown id" 404 .error_code 40403

# --- bad requests -------------------------------------------------------------
sr POST /subjects/orders-value/versions '{"schema": '
expect_sr "malformed JSON" 400 .error_code 400
sr POST /subjects/orders-value/versions '["schema"]'
expect_sr "a body that is not an object" 400 .error_code 400
sr POST /subjects/orders-value/versions ''
expect_sr "no body" 400 .error_code 400
head -c 200000 /dev/zero | tr '\0' ' ' > "$WORK/huge"
sr POST /subjects/orders-value/versions "@$WORK/huge"
expect_sr "a body over max_body_bytes (Content-Length)" 413 .error_code 413
sr POST /subjects/orders-value/versions "@$WORK/huge" -H "Transfer-Encoding: chunked"
expect_sr "a chunked body over max_body_bytes" 413 .error_code 413
CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: text/plain" --data-binary "$(body_of "$V1" JSON)" \
    "http://127.0.0.1:$PORT/subjects/orders-value/versions")
BODY=$(cat "$WORK/body")
expect_sr "a text/plain body" 415 .error_code 415
CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H "Content-Type: application/json" --data-binary "$(body_of "$V1" JSON)" \
    "http://127.0.0.1:$PORT/subjects/orders-value/versions")
BODY=$(cat "$WORK/body")
expect_sr "application/json is accepted too" 200 .id "$ID1"
sr GET /subjects/orders-value/nothing
expect_sr "an unknown path" 404 .error_code 404
sr PATCH /subjects
expect_sr "an unknown method" 405 .error_code 405

# --- delete -------------------------------------------------------------------
if [ "$HAS_DELETE" = t ]; then
    sr_anon DELETE /subjects/pay-value
    expect_sr "DELETE without a token" 401 .error_code 40101
    sr DELETE /subjects/nope
    expect_sr "DELETE an unknown subject" 404 .error_code 40401
    sr DELETE "/subjects/pay-value?permanent=true"
    expect_sr "permanent DELETE before a soft one" 404 .error_code 40405
    sr DELETE /subjects/pay-value
    expect_sr "soft DELETE /subjects/{s}" 200 . '[1]'
    sr DELETE /subjects/pay-value
    expect_sr "soft DELETE again" 404 .error_code 40404
    sr GET /subjects
    expect_sr "a soft-deleted subject is not listed" 200 . '["orders-value"]'
    sr GET "/subjects?deleted=true"
    expect_sr "unless ?deleted=true" 200 . '["orders-value","pay-value"]'
    sr DELETE "/subjects/pay-value?permanent=true"
    expect_sr "permanent DELETE /subjects/{s}" 200 . '[1]'
    sr GET "/subjects?deleted=true"
    expect_sr "then it is gone" 200 . '["orders-value"]'
    sr DELETE "/subjects/orders-value/versions/1?permanent=true"
    expect_sr "permanent DELETE of a live version" 404 .error_code 40407
    sr DELETE /subjects/orders-value/versions/1
    expect_sr "soft DELETE /subjects/{s}/versions/{v}" 200 . 1
    sr DELETE /subjects/orders-value/versions/1
    expect_sr "soft DELETE of a soft-deleted version" 404 .error_code 40406
    sr GET /subjects/orders-value/versions
    expect_sr "the version is not listed" 200 . '[2]'
    sr DELETE "/subjects/orders-value/versions/1?permanent=true"
    expect_sr "permanent DELETE of the version" 200 . 1
    sr DELETE /subjects/orders-value/versions/5
    expect_sr "DELETE of an unknown version" 404 .error_code 40402
    sr GET "/schemas/ids/$ID1"
    expect_sr "a schema id read before (cached), gone with its last version" 404 .error_code 40403
else
    sr DELETE /subjects/pay-value
    expect_sr "DELETE on extension $EXTVERSION: a clean 501" 501 .error_code 50101
    echo "ok - # SKIP the soft and permanent DELETE checks: needs extension 0.5 (installed: $EXTVERSION)"
fi

# --- a lost catalog connection ---------------------------------------------------
killed=$(pgc_psql -d postgres -Atc "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                                    WHERE application_name = 'tributary-registry'")
expect_eq "the registry's catalog session is terminated" 1 "$killed"
sr GET /subjects/orders-value/versions/latest
expect_sr "the next read reconnects and answers" 200 .version 2
pgc_psql -d postgres -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                         WHERE application_name = 'tributary-registry'" >/dev/null
sr PUT /config/orders-value '{"compatibility":"FORWARD"}'
expect_sr "so does the next write" 200 . '{"compatibility":"FORWARD"}'

# --- still working ------------------------------------------------------------
expect_eq "/health still answers" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")"
sr GET "/schemas/ids/$ID2"
expect_sr "the registry still answers" 200 .schemaType '"JSON"'
expect_eq "the token is never logged" 0 "$(grep -c -F "$TOKEN" "$WORK/run.log" || true)"

# --- the official Confluent client ---------------------------------------------
interop_test "the Confluent client's tests" schema-registry.test.mjs 6 \
    SR_URL="http://127.0.0.1:$PORT" SR_TOKEN="$TOKEN"
# --- kept-alive connections across the server's idle timeout ------------------
# Keep-Alive: timeout=N on every answer; Node's agent reuses a connection
# after idle gaps around the old 3 s timeout and no request fails.
interop_test "Node's keep-alive agent across idle gaps" http-keepalive.test.mjs 4 \
    SR_URL="http://127.0.0.1:$PORT"
# --- subjects with URL-special characters, percent-encoded in the path ------
# "a/b c?%#+": a '/' (%2F) is part of the subject, not a path separator;
# '%' (%25) is decoded once, so "%252F" is the three characters %2F.
sr POST '/subjects/ns%2Fa%2Fb%20c%3F%25%23+/versions' "$(body_of "$V1" JSON)"
expect_eq "register under a subject with '/' and other URL-special characters: status" 200 "$CODE"
SPECIAL_ID=$(jq -r .id <<<"$BODY")
sr GET '/subjects/ns%2Fa%2Fb%20c%3F%25%23+/versions/latest'
expect_sr "the subject's latest, by its encoded name" 200 '[.subject, .version, (.id|tostring)]' \
    "$(jq -nc --arg id "$SPECIAL_ID" '["ns/a/b c?%#+", 1, $id]')"
sr GET '/subjects/ns%2fa%2fb%20c%3f%25%23+/versions/1/schema'
expect_sr "lower-case escapes too, and the schema of version 1" 200 .properties.id.type '"integer"'
sr GET /subjects
expect_sr "GET /subjects lists the decoded name" 200 'index("ns/a/b c?%#+") != null' true
sr GET '/subjects/ns%252Fa%252Fb%20c%3F%25%23+/versions'
expect_sr "%25 is decoded once: %252F is another subject" 404 .error_code 40401
sr GET '/schemas/ids/'"$SPECIAL_ID"'/versions'
expect_sr "the id's subject-versions name it decoded" 200 '[.[] | .subject] | index("ns/a/b c?%#+") != null' true
sr DELETE '/subjects/ns%2Fa%2Fb%20c%3F%25%23+'
expect_sr "delete it by its encoded name" 200 . '[1]'
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_no_sanitizer "the daemon's log" "$WORK/run.log"

# --- open_reads: false ----------------------------------------------------------
write_config false
start
sr_anon GET /subjects
expect_sr "open_reads: false: a read without the token" 401 .error_code 40101
sr GET /subjects/orders-value/versions/latest
expect_sr "and with it" 200 .version 2
stop_consumer
expect_eq "SIGTERM exits 0 again" 0 "$STOP_RC"
expect_no_sanitizer "the second run's log" "$WORK/run.log"

# --- an unreachable catalog ------------------------------------------------------
DEAD=$(pgc_free_port)
write_config true
sed -i "s|  dsn: \"host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=registry_api\"|  dsn: \"host=127.0.0.1 port=$DEAD dbname=postgres user=registry_api password=pw-never-shown connect_timeout=2\"|" "$WORK/p.yaml"
start
sr GET /subjects
expect_sr "an unreachable catalog: a clean 50001" 500 .error_code 50001
expect_eq "its message has no password" 0 "$(grep -c pw-never-shown <<<"$BODY" || true)"
sr_anon GET /subjects/orders-value/versions/latest
expect_sr "an unreachable catalog, read without a token: a fixed message" 500 . \
    '{"error_code":50001,"message":"the schema catalog is unavailable"}'
expect_eq "the answer names neither the catalog's host nor its port" 0 \
    "$(grep -c -e 127.0.0.1 -e "$DEAD" <<<"$BODY" || true)"
expect_grep "the daemon's log has libpq's message, naming the port" "$WORK/run.log" \
    "cannot connect to the catalog: .*port $DEAD"
expect_eq "/health still answers" 200 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")"
sr GET /schemas/types
expect_sr "and the registry answers what needs no catalog" 200 . '["JSON","AVRO"]'
stop_consumer
expect_eq "the password is never logged" 0 "$(grep -c pw-never-shown "$WORK/run.log" || true)"
expect_no_sanitizer "the third run's log" "$WORK/run.log"
e2e_finish
