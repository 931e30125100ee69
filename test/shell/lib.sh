# test/shell/lib.sh: counting and reporting for the shell tests (sourced;
# not executable, so scripts/check.sh does not run it as a test).
#
#   report NAME [WHY...]   "ok - NAME" when no WHY is given; otherwise
#                          "not ok - NAME" and each WHY indented; counts it
#   summary                the last line, `N passed, N failed`; false when
#                          a case failed

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
