#!/usr/bin/env bash
# 64_reload_under_load.sh: config reload without loss (issue 16, item 1;
# docs/OPERATIONS.md "Reloading the configuration").
#
# A writer commits a transaction of 2000 rows (more than the pipeline
# polls at once, so a transaction spans polls; each row carries its
# transaction's number) every 0.1 s, which keeps the pipeline busy inside
# transactions much of the time, while the pipeline file is switched 20 times
# between "no rule" and "a redact rule on email", each reload asked in turn
# through POST /api/v1/reload (curl, with the token), `tributary ctl
# reload` and SIGHUP.  Then: every change of the witness slot is in the
# file sink exactly once (by event id), every transaction is either wholly
# masked or wholly clear (a rule change applies at a transaction
# boundary), both kinds occur, and each reload is in the audit log with
# the fingerprint (SHA-256) of the file it loaded.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
SPEC=$ROOT/docs/openapi.yaml
CHECK="python3 $(dirname "${BASH_SOURCE[0]}")/openapi_check.py"
TOKEN=tok-$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')

build_consumer
pgc_start
pgc_psql -d postgres -c "CREATE EXTENSION tributary" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, tx int, email text)" \
    -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" >/dev/null
printf '%s' "$TOKEN" > "$WORK/token"
chmod 600 "$WORK/token"

# write_config MASKED: $WORK/p.yaml, with the redact rule when MASKED is 1.
write_config() {
    {
        echo "pipeline: reload"
        source_yaml
        cat <<EOF
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
checkpoint: {store: file, path: "$WORK/ckpt"}
http:
  listen: "127.0.0.1:0"
  token_file: "$WORK/token"
EOF
        [ "$1" = 1 ] && printf 'transforms:\n  - {type: redact, name: mask_email, tables: [public.orders], fields: [email], with: value, value: MASKED}\n'
        true
    } > "$WORK/p.yaml.new"
    mv "$WORK/p.yaml.new" "$WORK/p.yaml"
}

# wait_streaming N: wait until the pipeline was started N times and serves.
wait_streaming() {
    local i
    for i in $(seq 1 300); do
        [ "$(grep -c 'tributary [0-9.]* starting pipeline reload' "$WORK/run.log")" -ge "$1" ] &&
            [ "$(curl -s "http://127.0.0.1:$PORT/health/ready")" = ready ] && return 0
        sleep 0.1
    done
    return 1
}

write_config 0
"$BIN" check -c "$WORK/p.yaml" >/dev/null
start_consumer "$WORK/p.yaml" "$WORK/run.log"
wait_log "$WORK/run.log" 'serving /health' 20 || { cat "$WORK/run.log"; exit 1; }
PORT=$(sed -n 's/.*serving \/health, \/metrics and \/status on [0-9.]* port \([0-9]*\).*/\1/p' "$WORK/run.log" | head -1)
wait_streaming 1 || fail "the daemon streams" "not ready"

ROWS=2000
writer() {
    local t=0
    while [ ! -e "$WORK/stop" ] || [ "$t" -lt 20 ]; do
        t=$((t + 1))
        pgc_psql -d postgres -c "INSERT INTO public.orders SELECT $t * 10000 + g, $t, 'u' || g || '@example.com' FROM generate_series(1, $ROWS) g" >/dev/null
        sleep 0.1
    done
}
writer &
WRITER_PID=$!

starts=1 via_curl=0 via_ctl=0 via_hup=0
for r in $(seq 1 20); do
    write_config $((r % 2))
    sleep 0.$((RANDOM % 3 + 1))
    case $((r % 3)) in
        0)
            CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST \
                -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/reload")
            [ "$CODE" = 200 ] && [ "$(jq -r .result "$WORK/body")" = accepted ] &&
                via_curl=$((via_curl + 1))
            if [ "$r" = 3 ]; then
                if out=$($CHECK "$SPEC" /api/v1/reload POST "$CODE" "$WORK/body" 2>&1); then
                    pass "POST /api/v1/reload: the answer fits docs/openapi.yaml"
                else
                    fail "POST /api/v1/reload: the answer fits docs/openapi.yaml" "$out"
                fi
            fi ;;
        1)
            out=$("$BIN" ctl reload --url "http://127.0.0.1:$PORT" --token-file "$WORK/token" 2>&1) &&
                grep -q 'accepted' <<<"$out" && via_ctl=$((via_ctl + 1)) ;;
        2)
            kill -HUP "$RUN_PID"
            via_hup=$((via_hup + 1)) ;;
    esac
    starts=$((starts + 1))
    wait_streaming "$starts" || { fail "reload $r: the pipeline streams again" "not in 30 s"; break; }
done
touch "$WORK/stop"
expect_eq "20 reloads asked: curl, ctl, SIGHUP" "6 7 7" "$via_curl $via_ctl $via_hup"
expect_eq "20 reloads applied" 21 "$(grep -c 'tributary [0-9.]* starting pipeline reload' "$WORK/run.log")"
wait "$WRITER_PID"
WRITER_PID=
expect_eq "the slot caught up" t "$(slot_caught_up tributary_reload)"
stop_consumer
expect_eq "SIGTERM after the reloads exits 0" 0 "$STOP_RC"

# event ids (commit position, decimal, and sequence number in the
# transaction): the witness slot's, and the sink's (a transaction is one
# INSERT of rows t*10000+1 .. t*10000+ROWS, in order)
pgc_psql -At -c "SELECT ((d->>'commit_lsn')::pg_lsn - '0/0')::bigint || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL,
          'include-transaction', 'off')) x
    WHERE d->>'kind' = 'insert' AND d->>'table' = 'orders'" | sort > "$WORK/witness.ids"
jq -r '"\(.value.source.sequence | fromjson | .[0]):\(.key.id % 10000 - 1)"' "$WORK/out.jsonl" |
    sort > "$WORK/out.ids"
expect_eq "the writer's rows were captured" 0 "$(( $(wc -l < "$WORK/witness.ids") % ROWS ))"
expect_ids_once "every change once, across 20 reloads"

# per transaction: how many rows masked, how many clear
jq -r '"\(.value.after.tx) \(if .value.after.email == "MASKED" then "m" else "c" end)"' \
    "$WORK/out.jsonl" | sort | uniq | awk '{k[$1] = k[$1] $2} END {for (t in k) print k[t]}' |
    sort | uniq -c > "$WORK/kinds"
expect_eq "no transaction half masked" "" "$(grep -E 'cm|mc' "$WORK/kinds" || true)"
expect_eq "both masked and clear transactions" 2 "$(grep -cE ' (m|c)$' "$WORK/kinds")"

# the audit log: every reload with the fingerprint of the file it loaded
expect_eq "each reload audited" 20 "$(grep -c 'audit.*config reload of .* accepted: fingerprint [0-9a-f]\{64\}' "$WORK/run.log")"
write_config 1
FP1=$(sha256sum "$WORK/p.yaml" | cut -d' ' -f1)
expect_grep "the audit line names the file's SHA-256" "$WORK/run.log" "fingerprint $FP1"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
