#!/usr/bin/env bash
# test/shell/demo.sh: the README's first command, `./demo` (scripts/demo.sh
# behind it), must do what it says, not only exit 0.
#
# Design: runs scripts/demo.sh once with the consumer built (make check
# builds it before the shell suite; run alone, the test builds it) and checks its output: every section is there, the raw
# and masked files got the live changes, masked values differ from the raw
# ones, a token turns back into its card number, and the copy-and-sanitize
# tool's own example ran its three steps with no production value left in
# the sanitized copy.  The demo removes its cluster itself (EXIT trap); the
# test checks that no server it started is left.
#
# The last line is `N passed, N failed`; one case counts once.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/demo-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=test/shell/lib.sh
source "$ROOT/test/shell/lib.sh"

# has NAME PATTERN: the demo's output matches the extended regex PATTERN.
has() {
    if grep -Eq -- "$2" "$WORK/out"; then
        report "$1"
    else
        report "$1" "no line matches: $2"
    fi
}

# hasnt NAME PATTERN: no line of the copy section's tables matches.
hasnt() {
    if ! grep -q 'financial_data_clean (staging' "$WORK/out"; then
        report "$1" "the sanitized copy's tables are not in the output"
    elif sed -n '/financial_data_clean (staging/,/financial_data_sample/p' "$WORK/out" |
        grep -Eq -- "$2"; then
        report "$1" "found: $(grep -E -- "$2" "$WORK/out" | head -n 1)"
    else
        report "$1"
    fi
}

if [ ! -x "$ROOT/consumer/build/tributary" ]; then
    make -s -C "$ROOT/consumer" build PG_CONFIG="${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}" >"$WORK/build" 2>&1 ||
        { cat "$WORK/build" >&2; }
fi
rc=0
bash "$ROOT/scripts/demo.sh" > "$WORK/out" 2>&1 || rc=$?
if [ "$rc" -eq 0 ]; then report "the demo exits 0"; else report "the demo exits 0" "exit $rc" "$(tail -n 20 "$WORK/out")"; fi
for s in "1. A throwaway PostgreSQL 15 cluster" "2. The tributary extension" \
    "5. Live changes" "6. The events" "7. The same changes, raw and masked" \
    "8. Monitoring" "10. Production into staging" "11. Cleaning up"; do
    has "section: $s" "^== $s"
done
has "the raw pipeline streamed" "streaming from slot"
has "the raw file shows the live insert" '"samuel.okafor@example.com"'
has "the masked side shows the email hashed, not in clear" '^    email +"maria.g@example.com" +"[0-9a-f]{32}"'
has "a card token turns back into its number" ' -> 4000 0566 5566 5556$'
if [ "$(grep -c 'INFO  pipeline: stopped cleanly; checkpoint ' "$WORK/out")" -eq 2 ]; then
    report "both consumers stopped cleanly on SIGTERM"
else
    report "both consumers stopped cleanly on SIGTERM" "$(sed -n '/^== 9/,/^== 10/p' "$WORK/out")"
fi
for n in 1 2 3; do
    has "copy-and-sanitize: step $n of 3 ran" "^    step $n of 3: "
done
hasnt "no production username, name, email, ssn or tax id in the sanitized copy" \
    'mgonzalez|Maria Gonzalez|maria\.gonzalez@|078051120|TX-88-1021|obennett|Aiko Tanaka'
has "the ssn is redacted" '^  1 \| .*\| XXXXXXXXX \|'
has "a sample of the accounts and their transactions" '^  financial_data_sample: [0-9]+ of 10 accounts'
pgdir=$(sed -n 's/^  running as user [^ ]* in \([^,]*\), port.*/\1/p' "$WORK/out")
if [ -n "$pgdir" ] && [ ! -e "$pgdir" ]; then
    report "the demo removed its cluster directory"
else
    report "the demo removed its cluster directory" "still there: ${pgdir:-(not found in the output)}"
fi
summary
