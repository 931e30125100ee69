# test/shell/lib.sh: counting and reporting for the shell tests (sourced;
# not executable, so scripts/check.sh does not run it as a test).
#
#   report NAME [WHY...]   "ok - NAME" when no WHY is given; otherwise
#                          "not ok - NAME" and each WHY indented; counts it
#   summary                the last line, `N passed, N failed`; false when
#                          a case failed
#   log_counts LOG         "P Q" from a test program's log: its last
#                          `P passed, Q failed` line, or node --test's TAP
#                          "# pass P" / "# fail Q"; nothing when neither

passed=0
failed=0

report() {
    local name=$1
    shift
    if [ $# -eq 0 ]; then
        echo "ok - $name"
        passed=$((passed + 1))
    else
        echo "not ok - $name"
        printf '    %s\n' "$@"
        failed=$((failed + 1))
    fi
}

summary() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

log_counts() {
    local line p q
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$1" | tail -n 1)
    if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        p=${BASH_REMATCH[1]} q=${BASH_REMATCH[2]}
    else
        p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$1" | tail -n 1)
        q=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$1" | tail -n 1)
    fi
    [ -n "$p" ] && [ -n "$q" ] && echo "$p $q"
}
