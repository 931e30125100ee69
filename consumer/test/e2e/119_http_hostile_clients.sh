#!/usr/bin/env bash
# 119_http_hostile_clients.sh: the daemon's HTTP endpoint (/health, the
# control API, the schema registry API) against an attacker and a careless
# client, on the real daemon with a real catalog.
#
# Authorization: every state-changing control call (pause, resume, reload)
# and registry write without a token, with a wrong one, with the token cut
# by one byte or followed by junk answers 401 and changes nothing; the
# token never reaches the log.  Bad input answers a clear error, always as
# JSON: a path that is not UTF-8 once decoded (400, not the catalog's 500
# in the registry or 503 for a lineage asset; the control API's 404 quotes
# the path with U+FFFD, not the raw bytes, which made it invalid JSON), a
# JSON string holding \u0000 (400: yajl cut the schema there and the
# registry registered its prefix), a NUL byte (the control API parsed what
# came before it), a schema id past bigint (40403, not 500), deep JSON, a
# wrong content type, huge headers and paths (431, 414).  A method a path
# does not take answers 405 with Allow naming the ones it does (the
# registry's had no Allow).  Slow and idle clients (a hundred half-sent
# requests, clients that never read their answers) do not keep /health
# from answering.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
CT=application/vnd.schemaregistry.v1+json
TOKEN=tok-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')

build_consumer
pgc_start
pgc_psql -d postgres -c "CREATE EXTENSION tributary" \
    -c "CREATE ROLE registry_api LOGIN IN ROLE tributary_reader, tributary_writer" >/dev/null
printf '%s' "$TOKEN" > "$WORK/token"
chmod 600 "$WORK/token"
cat > "$WORK/p.yaml" <<EOF
pipeline: hostile
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: never
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
checkpoint: {store: catalog}
lineage: {enabled: true}
http:
  listen: "127.0.0.1:0"
  token_file: "$WORK/token"
schema_registry:
  enabled: true
  dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=registry_api"
  token_file: "$WORK/token"
  max_body_bytes: 65536
EOF
: > "$WORK/run.log"
start_consumer
PORT=
for _ in $(seq 1 100); do
    PORT=$(http_port)
    [ -n "$PORT" ] && break
    sleep 0.1
done
[ -n "$PORT" ] || { cat "$WORK/run.log"; echo "the daemon did not start"; exit 1; }
URL=http://127.0.0.1:$PORT

# call AUTH METHOD PATH [BODY]: CODE, BODY and HEADERS of one request
# (--path-as-is: the path goes as written).
call() {
    local auth=$1 method=$2 path=$3 data=${4-} args=()
    [ -n "$data" ] && args=(--data-binary "$data")
    CODE=$(curl -s --path-as-is --max-time 20 -o "$WORK/body" -D "$WORK/headers" \
        -w '%{http_code}' -X "$method" -H "$auth" -H "Content-Type: $CT" "${args[@]}" "$URL$path")
    BODY=$(cat "$WORK/body")
    HEADERS=$(tr -d '\r' < "$WORK/headers")
}
tok() { call "Authorization: Bearer $TOKEN" "$@"; }
anon() { call "X-No-Token: 1" "$@"; }
# is_json: the body is UTF-8 and parses as JSON (jq would read ill-formed
# UTF-8 as U+FFFD).
is_json() {
    python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' \
        "$WORK/body" 2>/dev/null && echo yes || echo no
}
allow() { sed -n 's/^Allow: //Ip' <<<"$HEADERS"; }
paused() {
    curl -s -H "Authorization: Bearer $TOKEN" "$URL/api/v1/pipeline" |
        jq -c '[.sources[].paused, .sinks[].paused]'
}
SCHEMA='{"schema":"{\"type\":\"string\"}"}'

# --- authorization -------------------------------------------------------------
AUTHS=("X-No-Token: 1" "Authorization: Bearer wrong-token-wrong-token"
    "Authorization: Bearer ${TOKEN%?}" "Authorization: Bearer ${TOKEN}x"
    "Authorization: Basic $(printf 'u:%s' "$TOKEN" | base64 -w0)" "Authorization: $TOKEN")
WHAT=("no token" "a wrong token" "the token cut by a byte" "the token and a byte more"
    "the token as Basic" "the token without Bearer")
for p in /api/v1/sources/main/pause /api/v1/sinks/archive/pause /api/v1/sources/main/resume \
    /api/v1/reload; do
    for i in "${!AUTHS[@]}"; do
        call "${AUTHS[$i]}" POST "$p"
        expect_eq "POST $p with ${WHAT[$i]}: 401" 401 "$CODE"
    done
done
expect_eq "and nothing was paused" '[false,false]' "$(paused)"
expect_eq "nor reloaded" 1 "$(grep -c 'starting pipeline hostile' "$WORK/run.log")"
anon POST /subjects/s/versions "$SCHEMA"
expect_eq "a registry write without a token: 40101" 40101 "$(jq .error_code <<<"$BODY")"
call "Authorization: Bearer ${TOKEN%?}" POST /subjects/s/versions "$SCHEMA"
expect_eq "with the token cut by a byte: 40101" 40101 "$(jq .error_code <<<"$BODY")"
tok GET /subjects/s/versions
expect_eq "nothing was registered" 40401 "$(jq .error_code <<<"$BODY")"
call "Host: attacker.example" GET /api/v1/pipeline
expect_eq "a read with a Host that is not loopback needs the token" 401 "$CODE"

# --- paths that are not UTF-8 ----------------------------------------------------
tok GET /subjects/%FF/versions
expect_eq "registry: a subject that is not UTF-8: 400, not the catalog's 500" 400 "$CODE"
expect_match "which says what is wrong" 'not valid UTF-8' "$(jq -r .message <<<"$BODY")"
tok POST /subjects/a%C3/versions "$SCHEMA"
expect_eq "registry: registering under a cut UTF-8 sequence: 400" 400 "$CODE"
tok GET /subjects/caf%C3%A9/versions
expect_eq "a UTF-8 subject is still a subject (40401 here)" 40401 "$(jq .error_code <<<"$BODY")"
for p in /schemas/ids/99999999999999999999 /schemas/ids/99999999999999999999/versions; do
    tok GET "$p"
    expect_eq "GET $p, past bigint: 40403, not the catalog's 500" 40403 \
        "$(jq .error_code <<<"$BODY")"
done
tok POST '/subjects/..%2F..%2Fx/versions' "$SCHEMA"
expect_eq "a subject named ../../x is a name, not a path" 200 "$CODE"
tok GET /subjects
expect_eq "listed as such" '["../../x"]' "$BODY"
tok GET /api/v1/%FF%FE
expect_eq "control API: an unknown path that is not UTF-8: 404" 404 "$CODE"
expect_eq "answered as JSON" yes "$(is_json)"
expect_eq "quoting the path with U+FFFD" 'no endpoint /api/v1/\ufffd\ufffd (docs/API.md lists them)' \
    "$(python3 -c 'import json, sys; print(ascii(json.load(open(sys.argv[1])).get("error"))[1:-1])' \
        "$WORK/body" 2>&1)"
tok POST /api/v1/sources/%FF/pause
expect_eq "control API: pausing a source named by bytes that are not UTF-8: 400" 400 "$CODE"
expect_eq "answered as JSON" yes "$(is_json)"
tok GET /api/v1/lineage/%FF/impact
expect_eq "control API: a lineage asset that is not UTF-8: 400, not the catalog's 503" 400 "$CODE"
expect_match "which says so" 'not UTF-8' "$(jq -r .error <<<"$BODY")"

# --- bodies -----------------------------------------------------------------------
tok POST /subjects/nul/versions '{"schema":"{\"type\":\"string\"}\u0000{\"type\":\"int\"}"}'
expect_eq "a schema holding \\u0000: 400" 400 "$CODE"
expect_match "which names it" 'u0000' "$(jq -r .message <<<"$BODY")"
tok POST /subjects/nul/versions '{"schema":"{\"type\":\"string\"}","schemaType":"AVRO\u0000x"}'
expect_eq "a schemaType holding \\u0000: 400" 400 "$CODE"
tok GET /subjects/nul/versions
expect_eq "nothing was registered under it" 40401 "$(jq .error_code <<<"$BODY")"
tok POST /subjects/esc/versions '{"schema":"{\"type\":\"record\",\"name\":\"r\",\"doc\":\"a\\\\u0000b\",\"fields\":[]}"}'
expect_eq "an escaped backslash before u0000 is text, not a NUL" 200 "$CODE"
printf '{"relation":"public.t","columns":{"id":1}}\0{"junk":' > "$WORK/nul.json"
CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
    --data-binary "@$WORK/nul.json" "$URL/api/v1/quality/check")
expect_eq "control API: a body with a NUL byte: 400" 400 "$CODE"
expect_match "which says so" 'NUL byte' "$(jq -r .error "$WORK/body")"
tok POST /subjects/deep/versions "$(printf '[%.0s' $(seq 1 500))$(printf ']%.0s' $(seq 1 500))"
expect_eq "JSON 500 levels deep: 400" 400 "$CODE"
tok POST /subjects/t/versions "$SCHEMA"
expect_eq "a registration to compare with" 200 "$CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: text/plain' --data-binary "$SCHEMA" "$URL/subjects/t/versions")
expect_eq "a wrong content type: 415" 415 "$CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 100000 /dev/zero | tr '\0' a)" \
    "$URL/health")
expect_eq "a 100 kB header: 431" 431 "$CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code}' "$URL/subjects/$(head -c 100000 /dev/zero | tr '\0' a)")
expect_eq "a 100 kB path: 414" 414 "$CODE"

# --- methods ----------------------------------------------------------------------
check_405() {
    tok "$1" "$2"
    expect_eq "$1 $2: 405" 405 "$CODE"
    expect_eq "$1 $2: Allow" "$3" "$(allow)"
}
check_405 PUT /subjects "GET, HEAD"
check_405 GET /subjects/t "POST, DELETE"
check_405 DELETE /subjects/t/versions "GET, HEAD, POST"
check_405 POST /subjects/t/versions/1 "GET, HEAD, DELETE"
check_405 OPTIONS /subjects/t/versions/1/schema "GET, HEAD"
check_405 GET /compatibility/subjects/t/versions "POST"
check_405 POST /config "GET, HEAD, PUT, DELETE"
check_405 OPTIONS /schemas/ids/1 "GET, HEAD"
check_405 OPTIONS /api/v1/pipeline "GET, HEAD"
check_405 GET /api/v1/reload "POST"
check_405 DELETE /health "GET, HEAD"
tok GET /subjects/t/versions/1/schema/x
expect_eq "a path below a known one is 404, not 405" 404 "$CODE"
CODE=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -I -H "Authorization: Bearer $TOKEN" \
    "$URL/subjects/t/versions/1")
expect_eq "HEAD: 200 without a body" "200 0" "$CODE"

# --- slow and idle clients --------------------------------------------------------
python3 - "$PORT" > "$WORK/slow.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
held = []
for i in range(100):          # half-sent headers, a slow loris
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /health HTTP/1.1\r\nHo")
    held.append(s)
for i in range(80):           # clients that never read what they asked for
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    try:
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 300)
    except OSError:
        pass
    held.append(s)
t = time.time()
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
print(s.recv(64).split(b"\r\n")[0].decode(), "fast" if time.time() - t < 2 else "slow")
PY
expect_eq "/health answers at once behind 180 hostile connections" "HTTP/1.1 200 OK fast" \
    "$(cat "$WORK/slow.out")"

stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_eq "the token is never logged" 0 "$(grep -c -F "${TOKEN#tok-}" "$WORK/run.log" || true)"
expect_no_sanitizer "the daemon's log" "$WORK/run.log"
e2e_finish
