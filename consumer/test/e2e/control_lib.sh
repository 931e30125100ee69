# control_lib.sh: what the scripts of the control API share (53, 64-69,
# 81, 86, 87; docs/API.md); sourced after lib.sh and e2e_init.  Not a test
# itself (not executable).
#
# A daemon with its HTTP endpoint on a free port of loopback and the token
# $TOKEN (in $WORK/token); its log is $WORK/run.log.  Each answer of the
# control API is checked against docs/openapi.yaml.

SPEC=$ROOT/docs/openapi.yaml
CHECK="python3 $(dirname "${BASH_SOURCE[0]}")/openapi_check.py"
TOKEN=tok-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')
printf '%s' "$TOKEN" > "$WORK/token"
chmod 600 "$WORK/token"

# serve: the daemon from $WORK/p.yaml (log appended to run.log); sets PORT
# once it serves (20 s).
serve() {
    local before
    before=$(grep -c 'serving /health' "$WORK/run.log" 2>/dev/null || true)
    start_consumer "$WORK/p.yaml" "$WORK/run.log"
    PORT=
    for _ in $(seq 1 200); do
        [ "$(grep -c 'serving /health' "$WORK/run.log" || true)" -gt "${before:-0}" ] && break
        sleep 0.1
    done
    PORT=$(http_port)
    [ -n "$PORT" ] || { cat "$WORK/run.log"; echo "the daemon did not start"; exit 1; }
}
# wait_ready: wait (10 s) until /health/ready says ready (a paused pipeline
# streams too).
wait_ready() {
    for _ in $(seq 1 100); do
        [ "$(curl -s "http://127.0.0.1:$PORT/health/ready")" = ready ] && break
        sleep 0.1
    done
}
# start: serve, then wait_ready.
start() { serve; wait_ready; }

# starts NAME: how many times pipeline NAME was started (the first start
# and every reload applied).
starts() { grep -c "tributary [0-9.]* starting pipeline $1\$" "$WORK/run.log" || true; }

# wait_streaming NAME N: wait (30 s) until NAME was started N times and the
# endpoint says ready.
wait_streaming() {
    for _ in $(seq 1 300); do
        [ "$(starts "$1")" -ge "$2" ] &&
            [ "$(curl -s "http://127.0.0.1:$PORT/health/ready")" = ready ] && return 0
        sleep 0.1
    done
    return 1
}

# call METHOD PATH [CURL ARGS...]: sets CODE and BODY, no token.
call() {
    local method=$1 path=$2
    shift 2
    CODE=$(curl -s --max-time 20 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' \
        -X "$method" "$@" "http://127.0.0.1:$PORT$path")
    BODY=$(cat "$WORK/body")
}
# call_tok METHOD PATH [CURL ARGS...]: the same with the token.
call_tok() { local m=$1 p=$2; shift 2; call "$m" "$p" -H "Authorization: Bearer $TOKEN" "$@"; }

# expect_api NAME STATUS METHOD PATH: the status, and the body fits the spec.
expect_api() {
    local out
    expect_eq "$1: status" "$2" "$CODE"
    if out=$($CHECK "$SPEC" "$4" "$3" "$CODE" "$WORK/body" 2>&1); then
        pass "$1: body fits docs/openapi.yaml"
    else
        fail "$1: body fits docs/openapi.yaml" "$out; body: $BODY"
    fi
}

# api NAME STATUS METHOD PATH [CURL ARGS...]: call, then expect_api;
# api_tok the same with the token.
api() { local n=$1 s=$2 m=$3 p=$4; shift 4; call "$m" "$p" "$@"; expect_api "$n" "$s" "$m" "$p"; }
api_tok() { local n=$1 s=$2 m=$3 p=$4; shift 4; call_tok "$m" "$p" "$@"; expect_api "$n" "$s" "$m" "$p"; }

# wait_rows N COMMAND...: wait (10 s) until COMMAND prints N lines or more.
wait_rows() {
    local n=$1
    shift
    for _ in $(seq 1 100); do [ "$("$@" | wc -l)" -ge "$n" ] && break; sleep 0.1; done
}

# control_yaml CKPT: the file checkpoint at CKPT and the `http:` block
# (loopback, a free port, the token file).
control_yaml() {
    cat <<YAML
checkpoint: {store: file, path: "$1"}
http:
  listen: "127.0.0.1:0"
  token_file: "$WORK/token"
YAML
}
# control_config NAME SOURCES CKPT SINK=PATH...: $WORK/p.yaml for pipeline
# NAME with the `sources:` block SOURCES, a file sink SINK writing PATH for
# each SINK=PATH, and control_yaml CKPT; checked with `tributary check`.
control_config() {
    local name=$1 sources=$2 ckpt=$3 s
    shift 3
    {
        echo "pipeline: $name"
        echo "$sources"
        echo "sinks:"
        for s in "$@"; do echo "  ${s%%=*}: {type: file, path: \"${s#*=}\"}"; done
        control_yaml "$ckpt"
    } > "$WORK/p.yaml"
    "$BIN" check -c "$WORK/p.yaml" >/dev/null
}
# two_databases PREFIX: databases da and db of the current cluster, each
# with table public.t (id) and the slot PREFIX_da / PREFIX_db.
two_databases() {
    local d
    for d in da db; do
        pgc_psql -d postgres -q -c "CREATE DATABASE $d"
        pgc_psql -d "$d" -q -c "CREATE TABLE public.t (id int PRIMARY KEY)" \
            -c "SELECT 's' FROM pg_create_logical_replication_slot('$1_$d', 'tributary')" >/dev/null
    done
}
# two_sources_yaml PREFIX: the `sources:` block streaming both.
two_sources_yaml() {
    cat <<YAML
sources:
  a: {type: postgres, dsn: "$(pg_dsn da)", slot: $1_da, snapshot: never, status_interval_ms: 200}
  b: {type: postgres, dsn: "$(pg_dsn db)", slot: $1_db, snapshot: never, status_interval_ms: 200}
YAML
}
# mwriter FROM TO: one insert into each database per step.
mwriter() {
    for i in $(seq "$1" "$2"); do
        pgc_psql -d da -q -c "INSERT INTO public.t VALUES ($i)"
        pgc_psql -d db -q -c "INSERT INTO public.t VALUES ($i)"
        sleep 0.05
    done
}
# ids_from FILE DB: the ids of database DB's rows in the file sink's FILE,
# sorted.
ids_from() {
    jq -r --arg d "$2" 'select(.value != null and .value.source.db == $d) | .key.id' "$1" 2>/dev/null | sort -n
}
