#!/usr/bin/env bash
# 66_reload_kill9.sh: a kill -9 in the middle of a reload is harmless
# (issue 16, item 1; docs/OPERATIONS.md).
#
# A writer commits transactions of 500 rows; ten times the file is
# switched (a mask rule added or removed), the reload asked with SIGHUP,
# and the daemon killed -9 0 to 300 ms later (while it loads, drains or
# builds the pipeline again), then started again from the new file.  At
# the end every change of the witness slot is in the file sink exactly
# once, by event id (commit position and sequence number), no
# transaction is half masked, and each of the ten kills ended a running
# daemon: none had exited by itself before it (lib.sh kill_consumer,
# kill_loop_note, kill_loop_exits).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
# shellcheck source=reload_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/reload_lib.sh"
ROWS=500

reload_setup
reload_config reloadkill 0
reload_start reloadkill

start_writer "$ROWS" 0.05

KILLS=0 SELF_EXITS=0
for r in $(seq 1 10); do
    sleep 0.$((RANDOM % 5 + 3))
    reload_config reloadkill $((r % 2))
    for _ in $(seq 1 50); do sigterm_caught "$RUN_PID" && break; sleep 0.1; done
    kill -HUP "$RUN_PID" 2>/dev/null || true
    sleep "0.$(printf '%03d' $((RANDOM % 300)))"
    kill_consumer
    kill_loop_note
    start_consumer "$WORK/p.yaml" "$WORK/run.log"
done
stop_writer
kill_loop_exits
expect_eq "10 kills in the middle of reloads" 10 "$KILLS"
expect_eq "the slot caught up" t "$(slot_caught_up tributary_reloadkill)"
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_eq "some reloads were under way when killed" t \
    "$([ "$(grep -c 'audit.*config reload of .* accepted' "$WORK/run.log")" -gt 0 ] && echo t || echo f)"
expect_exactly_once "$ROWS" "every change once, across 10 kills during reloads"
expect_whole_transactions
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
