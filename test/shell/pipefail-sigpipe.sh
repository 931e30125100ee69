#!/usr/bin/env bash
# test/shell/pipefail-sigpipe.sh: the test and script shells must not read
# a pipeline's status where a reader that stops early can fail it.
#
# Why.  Under `set -o pipefail`, `big | grep -q X` fails whenever grep
# finds X and exits before `big` has written everything: `big` gets
# SIGPIPE and the pipeline's status is 141, so `&& echo t || echo f` says
# f although X is there.  Whether it happens depends on pipe buffers and
# scheduling, so it passes on a quiet machine and fails under load (CI
# failed once this way, in e2e 49).  The same holds for `| head` at the
# end of an assignment under `set -e` (the script stops) and as the last
# command of an `if` body.
#
# Design: a static scan, one case per pattern and tree.  Readers that
# consume all their input (`grep PATTERN >/dev/null`, `sed -n 1p`) are
# the accepted forms; a line may opt out with a trailing
# `# sigpipe-safe: WHY` when its producer cannot outrun a pipe buffer.
#
# The last line is `N passed, N failed`; one case counts once.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=test/shell/lib.sh
source "$ROOT/test/shell/lib.sh"

# scan NAME REGEX: report the lines of the shell files under the test and
# script trees that match REGEX and do not opt out.
scan() {
    local name=$1 re=$2 hits
    hits=$(cd "$ROOT" && grep -rnE --include='*.sh' "$re" consumer/test test scripts bench \
               | grep -v 'sigpipe-safe:' | grep -v '^test/shell/pipefail-sigpipe.sh:')
    if [ -z "$hits" ]; then
        report "$name"
    else
        # shellcheck disable=SC2086
        report "$name" "use a reader that consumes all its input (grep ... >/dev/null, sed -n 1p):" \
            $(printf '%s\n' "$hits" | cut -d: -f1,2)
    fi
}

scan "no early-exit grep (grep -q) reading a pipe" '(^|[^|])\|[[:space:]]*grep[[:space:]]+-[A-Za-z]*q'
scan "no assignment that ends in | head" '^[[:space:]]*[A-Za-z_][A-Za-z_0-9]*=\$\(.*\|[[:space:]]*head[^|]*\)[[:space:]]*$'
scan "no if body that ends in | head without || true" '^if .*; then .*\|[[:space:]]*head[^|;]*; fi$'

# the scan itself must find each pattern (a check that cannot fail is none)
probe=$(mktemp -d "${TMPDIR:-/tmp}/sigpipe-test.XXXXXX")
trap 'rm -rf "$probe"' EXIT
printf 'x=$(seq 1 9 | head -1)\nseq 1 9 | grep -q 3 && echo t\nif true; then seq 9 | head -2; fi\n' > "$probe/p.sh"
n=$(grep -cE -e '(^|[^|])\|[[:space:]]*grep[[:space:]]+-[A-Za-z]*q' \
        -e '^[[:space:]]*[A-Za-z_][A-Za-z_0-9]*=\$\(.*\|[[:space:]]*head[^|]*\)[[:space:]]*$' \
        -e '^if .*; then .*\|[[:space:]]*head[^|;]*; fi$' "$probe/p.sh")
if [ "$n" = 3 ]; then report "the patterns find a planted example of each"; else
    report "the patterns find a planted example of each" "found $n of 3"; fi

summary
