# reload_lib.sh: what the reload scripts (64-66, docs/OPERATIONS.md) share;
# sourced after lib.sh and e2e_init.  Not a test itself (not executable).
#
# The pipeline NAME streams public.orders (id, tx, email) of the current
# cluster into the file sink $WORK/out.jsonl, with the HTTP endpoint on a
# free port of loopback and the token $TOKEN ($WORK/token); a slot
# `witness` records every change for the exactly-once checks.  The token,
# the spec and the waits for a start come from control_lib.sh.

# shellcheck source=control_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/control_lib.sh"

# reload_setup: the cluster, the table, the witness slot.
reload_setup() {
    build_consumer
    pgc_start
    pgc_psql -d postgres -c "CREATE EXTENSION tributary" \
        -c "CREATE TABLE public.orders (id int PRIMARY KEY, tx int, email text)" \
        -c "SELECT 'w' FROM pg_create_logical_replication_slot('witness', 'tributary')" >/dev/null
}

# reload_config NAME MASKED [SINK LINE] [SOURCE LINE] [LISTEN]: write
# $WORK/p.yaml at once (a rename), with the rule mask_email (email ->
# MASKED) when MASKED is 1, the extra lines under sinks: and under the
# source main, and http.listen (default 127.0.0.1:0); with RELOAD_LINEAGE
# set, the lineage section on (recording into the cluster's catalog).
reload_config() {
    {
        echo "pipeline: $1"
        source_yaml
        [ -n "${4:-}" ] && echo "$4"
        cat <<EOF
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
${3:-}
checkpoint: {store: file, path: "$WORK/ckpt"}
http:
  listen: "${5:-127.0.0.1:0}"
  token_file: "$WORK/token"
EOF
        [ -n "${RELOAD_LINEAGE:-}" ] && printf 'lineage: {enabled: true, dsn: "%s"}\n' "$(pg_dsn)"
        [ "$2" = 1 ] && printf 'transforms:\n  - {type: redact, name: mask_email, tables: [public.orders], fields: [email], with: value, value: MASKED}\n'
        true
    } > "$WORK/p.yaml.new"
    mv "$WORK/p.yaml.new" "$WORK/p.yaml"
}

# reload_start NAME: the daemon on $WORK/p.yaml (checked first); sets PORT
# and waits until it streams.
reload_start() {
    "$BIN" check -c "$WORK/p.yaml" >/dev/null
    serve
    wait_streaming "$1" 1 || fail "the daemon streams" "not ready in 30 s"
}

# write_tx T ROWS: transaction T, one INSERT of rows T*10000+1 .. +ROWS.
write_tx() {
    pgc_psql -d postgres -c "INSERT INTO public.orders SELECT $1 * 10000 + g, $1, 'u' || g || '@example.com' FROM generate_series(1, $2) g" >/dev/null
}

# start_writer ROWS PAUSE: in the background (WRITER_PID), transactions
# 1, 2, ... of ROWS rows, PAUSE seconds apart, until $WORK/stop exists and
# at least 20 were written; stop_writer ends it.
start_writer() {
    (
        t=0
        while [ ! -e "$WORK/stop" ] || [ "$t" -lt 20 ]; do
            t=$((t + 1))
            write_tx "$t" "$1"
            sleep "$2"
        done
    ) &
    WRITER_PID=$!
}
stop_writer() {
    touch "$WORK/stop"
    wait "$WRITER_PID"
    WRITER_PID=
}

# expect_fits NAME METHOD: the last answer ($CODE, $WORK/body) of
# /api/v1/reload fits docs/openapi.yaml.
expect_fits() {
    local out
    if out=$($CHECK "$SPEC" /api/v1/reload "$2" "$CODE" "$WORK/body" 2>&1); then
        pass "$1: the answer fits docs/openapi.yaml"
    else
        fail "$1: the answer fits docs/openapi.yaml" "$out; body: $(cat "$WORK/body")"
    fi
}

# sink_lines: every line of the file sink, oldest first: its rotated
# segments out.jsonl.1, .2, ... (rotate_bytes, 100 MB by default: a long
# run under load writes more; e2e 64 once read only the active file and
# reported the earlier segments' rows as lost), then the active file.
sink_lines() {
    local n=1
    while [ -e "$WORK/out.jsonl.$n" ]; do
        cat "$WORK/out.jsonl.$n"
        n=$((n + 1))
    done
    cat "$WORK/out.jsonl"
}

# expect_exactly_once ROWS NAME: every insert of the witness slot is in the
# file sink once, by event id (commit position, decimal, and the sequence
# number in the transaction: row T*10000+g is number g-1 of its INSERT),
# in any of its segments (sink_lines), and the count is a multiple of ROWS.
expect_exactly_once() {
    pgc_psql -At -c "SELECT ((d->>'commit_lsn')::pg_lsn - '0/0')::bigint || ':' || (d->>'seq')
        FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL,
              'include-transaction', 'off')) x
        WHERE d->>'kind' = 'insert' AND d->>'table' = 'orders'" | sort > "$WORK/witness.ids"
    sink_lines | jq -r '"\(.value.source.sequence | fromjson | .[0]):\(.key.id % 10000 - 1)"' |
        sort > "$WORK/out.ids"
    expect_eq "whole transactions were captured" 0 "$(( $(wc -l < "$WORK/witness.ids") % $1 ))"
    expect_ids_once "$2"
}

# expect_whole_transactions: no transaction has both masked and clear
# rows; sets KINDS to how many kinds of transactions there were (1 or 2).
expect_whole_transactions() {
    sink_lines |
        jq -r '"\(.value.after.tx) \(if .value.after.email == "MASKED" then "m" else "c" end)"' |
        sort -u | awk '{k[$1] = k[$1] $2} END {for (t in k) print k[t]}' |
        sort | uniq -c > "$WORK/kinds"
    expect_eq "no transaction half masked" "" "$(grep -E 'cm|mc' "$WORK/kinds" || true)"
    KINDS=$(grep -cE ' (m|c)$' "$WORK/kinds" || true)
}
