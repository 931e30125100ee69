# stall_lib.sh: helpers of the scripts where one source's server stalls
# while the pipeline's other source must flow (102, 103); sourced after
# lib.sh, with the file sink writing $WORK/out.jsonl (archive_yaml).  Not
# a test itself (not executable).
# shellcheck shell=bash

# now_ms: the wall clock in ms.
now_ms() { date +%s%3N; }

# ids CONNECTOR: the rows of CONNECTOR (postgresql | mysql) in the file
# sink as TABLE:KEY, sorted, joined by " ".
ids() {
    [ -f "$WORK/out.jsonl" ] || return 0
    jq -r "select(.value.source.connector == \"$1\" and .key.id != null) | \"\(.value.source.table):\(.key.id)\"" \
        "$WORK/out.jsonl" | sort | paste -sd' '
}

# until_id CONNECTOR TABLE:KEY [SECONDS]: wait until the sink holds that
# row (at most SECONDS, 30 by default).
until_id() {
    local end=$(( $(now_ms) + ${3:-30} * 1000 ))
    while [ "$(now_ms)" -lt "$end" ]; do
        [[ " $(ids "$1") " == *" $2 "* ]] && return 0
        sleep 0.1
    done
    return 1
}

# insert_wait CONNECTOR TABLE:KEY COMMAND...: run COMMAND (which writes
# that row), then wait for the row (at most 15 s); ELAPSED the ms it took.
insert_wait() {
    local t0
    t0=$(now_ms)
    "${@:3}"
    until_id "$1" "$2" 15 || true
    ELAPSED=$(( $(now_ms) - t0 ))
}

# expect_within_5s NAME MS: MS (a time taken) is under 5000.
expect_within_5s() {
    expect_match "$1 within 5 s (took $2 ms)" "^[0-9]{1,3}$|^[0-4][0-9]{3}$" "$2"
}
