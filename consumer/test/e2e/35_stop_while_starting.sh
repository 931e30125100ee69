#!/usr/bin/env bash
# 35_stop_while_starting.sh: a SIGTERM that reaches `tributary run` while
# it is still starting is a clean stop (exit 0), not a death by the
# signal's default action (exit 143).
#
# A supervisor may stop a daemon it has just started, and the e2e scripts
# do the same after a kill -9 and restart.  The daemon now installs its
# handlers before it reads its configuration.  To hold it at a known point
# of its start, its log file is a FIFO: opening a FIFO for writing blocks
# until a reader opens it, so the daemon waits there, after the
# configuration is loaded and before any database is reached.  The test
# reads /proc/PID/status while it waits: SIGTERM must already be caught
# (SigCgt), then a SIGTERM must end it with 0, having connected nowhere.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

build_consumer
mkfifo "$WORK/log.fifo"
# The source points at a port nobody listens on: reaching it would fail
# loudly, and the daemon must not get that far.
cat > "$WORK/p.yaml" <<YAML
pipeline: stopstart
sources:
  main:
    type: postgres
    dsn: "host=127.0.0.1 port=1 dbname=postgres user=postgres"
    snapshot: never
sinks:
  archive:
    type: file
    path: "$WORK/out.jsonl"
checkpoint:
  store: file
  path: $WORK/ckpt
http:
  enabled: false
log:
  file: $WORK/log.fifo
YAML

start_consumer "$WORK/p.yaml" "$WORK/run.log"
# It blocks opening the FIFO: wait until it is there (state S, in open).
blocked=no
for _ in $(seq 1 100); do
    if [ "$(awk '$1 == "State:" {print $2}' "/proc/$RUN_PID/status" 2>/dev/null)" = S ] &&
       grep -Eq "wait_for_partner|fifo" "/proc/$RUN_PID/wchan" 2>/dev/null; then
        blocked=yes; break
    fi
    sleep 0.1
done
expect_eq "the daemon waits in opening its log (a FIFO)" yes "$blocked"
expect_eq "SIGTERM is caught while the daemon starts" yes \
    "$(sigterm_caught "$RUN_PID" && echo yes || echo no)"
stop_consumer
expect_eq "a SIGTERM while starting exits 0 (not 143)" 0 "$STOP_RC"
expect_eq "nothing was written to the sink" no "$([ -s "$WORK/out.jsonl" ] && echo yes || echo no)"
expect_eq "no connection was attempted" 0 "$(grep -c 'port 1\|127.0.0.1' "$WORK/run.log" || true)"

e2e_finish
