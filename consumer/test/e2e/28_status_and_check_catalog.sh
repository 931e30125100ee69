#!/usr/bin/env bash
# 28_status_and_check_catalog.sh: two things an operator reads (issue 9 #6,
# cosmetic).
#
# /status shows positions as event ids: "L:S", or "L" alone when the whole
# transaction committed at L is covered (a heartbeat, or a transaction
# whose last event is durable), never the internal sentinel
# "L:9223372036854775807".  The pipeline runs with heartbeats every 200 ms,
# so once it is quiet its checkpoint is such a whole transaction; the
# "stopped cleanly" log line follows the same form.
#
# `check` lists the tables the pipeline captures; the extension's own
# tributary.* tables (tributary.source_checkpoints) are never captured, so
# they are not in the list, even without include_tables.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
ID_RE='^[0-9A-F]+/[0-9A-F]+(:[0-9]{1,18})?$'
# is_id VALUE: t when VALUE is an event id in the documented form.
is_id() { [[ $1 =~ $ID_RE ]] && echo t || echo f; }

build_consumer
pgc_start
pgc_psql -d postgres -c "CREATE EXTENSION tributary" \
    -c "CREATE TABLE public.orders (id int PRIMARY KEY, note text)" \
    -c "CREATE TABLE public.lines (order_id int, n int)" >/dev/null

cat > "$WORK/p.yaml" <<EOF
pipeline: status
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: never
    heartbeat_interval_ms: 200
    status_interval_ms: 200
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
checkpoint: {store: catalog}
http: {listen: "127.0.0.1:0"}
EOF

# --- check: the catalog is not in the table list ---------------------------
"$BIN" check -c "$WORK/p.yaml" > "$WORK/report" 2>&1 || true
sed 's/^/#   /' "$WORK/report"
expect_eq "check lists the two user tables" t \
    "$(grep -q 'tables captured: 2 (every table: no filters)' "$WORK/report" && echo t || echo f)"
expect_eq "and no tributary.* table" "" "$(grep -o 'tributary\.[a-z_]*:' "$WORK/report" || true)"

# --- /status ---------------------------------------------------------------
start_consumer
port=
for _ in $(seq 1 100); do
    port=$(http_port)
    [ -n "$port" ] && grep -q "pipeline status is active" "$WORK/run.log" && break
    sleep 0.1
done
wait_slot_active tributary_status || true
pgc_psql -d postgres -c "INSERT INTO public.orders SELECT g, 'n' FROM generate_series(1, 3) g" >/dev/null
wait_lines "$WORK/out.jsonl" 3 30 2>/dev/null || true
sleep 1.5   # several heartbeats: the checkpoint is now a whole transaction
status=$(curl -s --max-time 5 "http://127.0.0.1:$port/status")
echo "# /status: $status"
expect_eq "/status never shows the sentinel sequence number" f \
    "$(grep -q 9223372036854775807 <<<"$status" && echo t || echo f)"
ck=$(sed -n 's/.*"checkpoint":"\([^"]*\)".*/\1/p' <<<"$status")
acked=$(sed -n 's/.*"acked":"\([^"]*\)".*/\1/p' <<<"$status")
expect_eq "the checkpoint is an event id ($ck)" t "$(is_id "$ck")"
expect_eq "so is the sink's acked position ($acked)" t "$(is_id "$acked")"
expect_eq "a whole transaction is its commit LSN alone" t \
    "$([[ $ck != *:* ]] && echo t || echo f)"
stop_consumer
expect_eq "SIGTERM exits 0" 0 "$STOP_RC"
expect_eq "the stop line has no sentinel either" t \
    "$(grep -q -E "stopped cleanly; checkpoint [0-9A-F]+/[0-9A-F]+(:[0-9]{1,18})?$" "$WORK/run.log" && echo t || echo f)"
e2e_finish
