#!/usr/bin/env bash
# test/shell/jsonspan.sh: scripts/lib/jsonspan.py, which the demo uses to
# print what a sink wrote, must print the sink's own bytes.
#
# Design: small JSON Lines files whose values a parser would re-render
# (129.90, 1e400, a 30-digit integer, \u escapes, odd spacing) go through
# each mode; the output must contain those values exactly as written.
#
# The last line is `N passed, N failed`; one case counts once.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SPAN=$ROOT/scripts/lib/jsonspan.py
WORK=$(mktemp -d "${TMPDIR:-/tmp}/jsonspan-test.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# shellcheck source=test/shell/lib.sh
source "$ROOT/test/shell/lib.sh"

# expect: NAME, the actual output, then the exact expected output.
expect() {
    if [ "$2" = "$3" ]; then
        report "$1"
    else
        report "$1" "expected: $3" "actual:   $2"
    fi
}

raw=$WORK/raw.jsonl
masked=$WORK/masked.jsonl
cat > "$raw" <<'EOF'
{"topic":"t.public.orders","key":{"id":1},"value":{"before":null,"after":{"id":1,"total":129.90,"big":123456789012345678901234567890,"f":1e400,"name":"Jos\u00e9 \"J\""},"source":{"schema":"public","table":"orders","lsn":42},"op":"c"}}
{"topic":"t.public.orders","key":{"id":1},"value": {"before" : {"id":1} , "after":null,"source":{"schema":"public","table":"orders","lsn":43},"op":"d"}}
{"topic":"t.message","key":{"prefix":"demo"},"value":{"source":{"lsn":44},"op":"m"}}
EOF
cat > "$masked" <<'EOF'
{"topic":"m.public.orders","key":{"id":1},"value":{"before":null,"after":{"id":1,"total":129.90,"big":123456789012345678901234567890,"f":1e400},"source":{"schema":"public","table":"orders","lsn":42},"op":"c"}}
{"topic":"m.public.orders","key":{"id":1},"value":{"before":{"id":1},"after":null,"source":{"schema":"public","table":"orders","lsn":43},"op":"d"}}
{"topic":"m.message","key":{"prefix":"demo"},"value":{"source":{"lsn":44},"op":"m"}}
EOF

out=$(python3 "$SPAN" pick "$raw" key value.op value.after | sed -n 1,2p)
expect "pick: numbers and escapes as written, absent paths left out" "$out" \
'{"key":{"id":1},"op":"c","after":{"id":1,"total":129.90,"big":123456789012345678901234567890,"f":1e400,"name":"Jos\u00e9 \"J\""}}
{"key":{"id":1},"op":"d","after":null}'

out=$(python3 "$SPAN" strings "$raw" value.after.name)
expect "strings: the decoded text of a string" "$out" 'José "J"'

out=$(python3 "$SPAN" sidebyside "$raw" "$masked")
expect "sidebyside: column by column, a dropped column named, records without images counted" "$out" \
'  insert into public.orders
                 raw                            masked
    key          {"id":1}                       {"id":1}
    id           1                              1
    total        129.90                         129.90
    big          123456789012345678901234567890 123456789012345678901234567890
    f            1e400                          1e400
    name         "Jos\u00e9 \"J\""              (dropped)
  delete from public.orders
                 raw      masked
    key          {"id":1} {"id":1}
    id           1        1
  records without a row image (tombstones, truncates, messages): 1'

head -n 2 "$masked" > "$WORK/short.jsonl"
python3 "$SPAN" sidebyside "$raw" "$WORK/short.jsonl" > "$WORK/out" 2>&1
rc=$?
expect "sidebyside: files that do not pair up are an error" "$rc $(cat "$WORK/out")" \
    "1 jsonspan: $raw has 3 records, $WORK/short.jsonl has 2"

summary
