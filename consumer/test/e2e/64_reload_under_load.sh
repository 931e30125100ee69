#!/usr/bin/env bash
# 64_reload_under_load.sh: config reload without loss (issue 16, item 1;
# docs/OPERATIONS.md "Reloading the configuration").
#
# A writer commits a transaction of 2000 rows (more than the pipeline
# polls at once, so a transaction spans polls; each row carries its
# transaction's number) every 0.1 s, which keeps the pipeline inside
# transactions much of the time, while the pipeline file is switched 20
# times between "no rule" and "a redact rule on email", each reload asked
# in turn through POST /api/v1/reload (curl, with the token), `tributary
# ctl reload` and SIGHUP.  Then: every change of the witness slot is in
# the file sink exactly once (by event id), every transaction is either
# wholly masked or wholly clear (a rule change applies at a transaction
# boundary), both kinds occur, and each reload is in the audit log with
# the fingerprint (SHA-256) of the file it loaded.  A reload builds the
# pipeline again in the same process: it takes its own pipeline lock back
# at once, never waiting as a standby of itself nor for a takeover (it
# used to when the old lock session had not ended yet, and the waits
# made the run outgrow the sink's first file: the checks read every
# segment, reload_lib.sh's sink_lines).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=reload_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
ROWS=2000

reload_setup
reload_config reload 0
reload_start reload

start_writer "$ROWS" 0.1

via_curl=0 via_ctl=0 via_hup=0
for r in $(seq 1 20); do
    reload_config reload $((r % 2))
    sleep 0.$((RANDOM % 3 + 1))
    case $((r % 3)) in
        0)
            CODE=$(curl -s -o "$WORK/body" -w '%{http_code}' -X POST \
                -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/reload")
            [ "$CODE" = 200 ] && [ "$(jq -r .result "$WORK/body")" = accepted ] &&
                via_curl=$((via_curl + 1))
            [ "$r" = 3 ] && expect_fits "POST /api/v1/reload, accepted" POST ;;
        1)
            out=$("$BIN" ctl reload --url "http://127.0.0.1:$PORT" --token-file "$WORK/token" 2>&1) &&
                grep -q 'accepted' <<<"$out" && via_ctl=$((via_ctl + 1)) ;;
        2)
            kill -HUP "$RUN_PID"
            via_hup=$((via_hup + 1)) ;;
    esac
    wait_streaming reload $((r + 1)) || { fail "reload $r: the pipeline streams again" "not in 30 s"; break; }
done
expect_eq "20 reloads asked: curl, ctl, SIGHUP" "6 7 7" "$via_curl $via_ctl $via_hup"
expect_eq "20 reloads applied" 21 "$(starts reload)"
stop_writer
expect_eq "the slot caught up" t "$(slot_caught_up tributary_reload)"
stop_consumer
expect_eq "SIGTERM after the reloads exits 0" 0 "$STOP_RC"

expect_exactly_once "$ROWS" "every change once, across 20 reloads"
expect_whole_transactions
expect_eq "both masked and clear transactions" 2 "$KINDS"

# the audit log: every reload with the fingerprint of the file it loaded
expect_eq "each reload audited" 20 \
    "$(grep -c 'audit.*config reload of .* accepted: fingerprint [0-9a-f]\{64\}' "$WORK/run.log")"
reload_config reload 1
expect_grep "the audit line names the file's SHA-256" "$WORK/run.log" \
    "fingerprint $(sha256sum "$WORK/p.yaml" | cut -d' ' -f1)"
expect_no_grep "no reload waited as a standby of itself or for a takeover" "$WORK/run.log" \
    'waiting as standby|took the pipeline lock .* over'
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
