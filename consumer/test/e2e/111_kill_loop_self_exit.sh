#!/usr/bin/env bash
# 111_kill_loop_self_exit.sh: lib.sh's kill loops (kill_while_writing,
# kill_while_writing_ckpt) tell a kill that ended a running daemon from a
# daemon that had already ended by itself, and fail on the second.
#
# The loops restart the daemon after every kill -9.  Before, a daemon that
# exited with an error or crashed between two kills (under load, a fault
# of its own) was restarted like a killed one, and the script passed as
# long as the data came out right: the exit was never seen.  Now each
# reaped status is read (kill_consumer's KILL_RC: 137 for the kill) and
# the loop ends with the check "no daemon exited by itself between the
# kills".  Here, with stand-in daemons (no server, no build):
#   1. one that runs until killed: every loop is a kill, the check passes;
#   2. one that exits 3 at once: the loop names the status and its check
#      fails (the loop runs in a subshell whose counts are read, so that
#      failure is the one expected, not this script's);
#   3. the same through kill_while_writing_ckpt (a stand-in kafka_dump).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init

printf '#!/bin/sh\nexec sleep 60\n' > "$WORK/runs"
printf '#!/bin/sh\nexit 3\n' > "$WORK/dies"
mkdir "$WORK/tools"
printf '#!/bin/sh\n:\n' > "$WORK/tools/kafka_dump"
chmod +x "$WORK/runs" "$WORK/dies" "$WORK/tools/kafka_dump"

# loop HOW DAEMON: in a subshell, 3 s of "writing" (a sleep) under
# kill_while_writing (HOW plain) or kill_while_writing_ckpt (HOW ckpt) of
# the stand-in DAEMON; prints the loop's output, then a line
# "counts KILLS SELF_EXITS failed".
loop() {
    (
        BIN=$WORK/$2 TOOLS=$WORK/tools BOOT=none passed=0 failed=0
        sleep 3 &
        WRITER_PID=$!
        start_consumer "$WORK/none.yaml" "$WORK/$1.$2.log"
        if [ "$1" = ckpt ]; then
            kill_while_writing_ckpt "$1.$2" "$WORK/none.yaml" "$WORK/$1.$2.log"
        else
            kill_while_writing "$WORK/none.yaml" "$WORK/$1.$2.log"
        fi
        kill_consumer
        echo "counts $KILLS $SELF_EXITS $failed"
    )
}
# counts OUTPUT: its "KILLS SELF_EXITS failed".
counts() { sed -n 's/^counts //p' <<<"$1"; }

for how in plain ckpt; do
    out=$(loop "$how" runs)
    sed 's/^/#   /' <<<"$out"
    read -r kills self fails < <(counts "$out")
    expect_eq "$how, a daemon that runs until killed: kills counted" t "$([ "$kills" -ge 1 ] && echo t || echo f)"
    expect_eq "$how: none counted as an exit of its own" 0 "$self"
    expect_eq "$how: the loop's check passes" 0 "$fails"
    expect_grep "$how: and says so" <(echo "$out") '^ok - no daemon exited by itself between the kills$'

    out=$(loop "$how" dies)
    sed 's/^/#   /' <<<"$out"
    read -r kills self fails < <(counts "$out")
    expect_eq "$how, a daemon that exits 3 by itself: counted" t "$([ "$self" -ge 1 ] && echo t || echo f)"
    expect_eq "$how: its status named" t "$(grep -q 'exited by itself (status 3)' <<<"$out" && echo t || echo f)"
    expect_eq "$how: the loop's check fails" 1 "$fails"
    expect_grep "$how: naming the check" <(echo "$out") '^not ok - no daemon exited by itself between the kills'
done
e2e_finish
