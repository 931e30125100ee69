#!/usr/bin/env bash
# 116_rules_toast_lua_limits.sh: transform rules that used to stop or hang
# a running pipeline, through `tributary run` from PostgreSQL into a JSON
# Lines file and a dead-letter file.
#
#   - An update that leaves a TOASTed column alone carries it in neither
#     image (the plugin lists it as unchanged): a not_null quality rule on
#     that column with action: fail stopped the daemon on every such
#     update ("field doc is missing").  It must pass the update.
#   - Lua filters whose work is in C, where the instruction hook does not
#     fire: table.move over 2^50 elements and table.insert under a __len
#     of 2^60 ran for ever (the daemon hung, nothing more was delivered);
#     string.rep of an empty string 2^62 times likewise.  The first two
#     must send their event to the dead-letter sink naming the instruction
#     limit, the third must finish at once, and later rows must flow.
#   - A filter that sets a __gc finalizer (Lua runs finalizers with hooks
#     off: one that loops hangs a later evaluation or the shutdown) must be
#     refused the same way, and SIGTERM must stop the daemon cleanly.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
catalog_init "CREATE TABLE public.docs (id int PRIMARY KEY, doc text, n int)" \
    "CREATE TABLE public.jobs (id int PRIMARY KEY, kind text)" \
    -- tributary_l116

write_pipeline l116 <<YAML
transforms:
  - {type: quality, name: doc_set, tables: [public.docs], fields: [doc], check: not_null, action: fail}
  - type: filter
    name: c_loops
    tables: [public.jobs]
    lua: |
      if after.kind == 'move' then table.move({}, 1, 1 << 50, 1, {}) end
      if after.kind == 'insert' then
        table.insert(setmetatable({}, {__len = function() return 1 << 60 end}), 1, 0)
      end
      if after.kind == 'rep' then return #string.rep('', 1 << 62) == 0 end
      if after.kind == 'gc' then
        setmetatable({}, {__gc = function() while true do end end})
      end
      return true
dead_letter: dlq
sinks:
  archive: {type: file, path: "$WORK/out.jsonl"}
  dlq: {type: file, path: "$WORK/dlq.jsonl"}
YAML
: > "$WORK/out.jsonl"
: > "$WORK/dlq.jsonl"
start_consumer
wait_slot_active tributary_l116 || true
sql() { pgc_psql -d postgres -q -c "$1"; }
# kept ID TABLE [OP]: how many records of out.jsonl are row ID of TABLE
# (with operation OP, default any).
kept() {
    jq -c --argjson id "$1" --arg t "$2" --arg op "${3:-}" \
        'select(.value.source.table == $t and .value.after.id == $id and ($op == "" or .value.op == $op))' \
        "$WORK/out.jsonl" | wc -l
}

# ---- the unchanged TOAST column: ~40 kB of incompressible text
sql "ALTER TABLE public.docs ALTER COLUMN doc SET STORAGE EXTERNAL"
sql "INSERT INTO public.docs SELECT 1, string_agg(md5(g::text), ''), 0 FROM generate_series(1, 1250) g"
sql "UPDATE public.docs SET n = 1 WHERE id = 1"
sql "INSERT INTO public.docs VALUES (2, 'small', 0)"
expect_eq "the insert, the update and the next row are delivered" 0 \
    "$(wait_lines "$WORK/out.jsonl" 3 60; echo $?)"
expect_eq "the update that left doc alone was delivered" 1 "$(kept 1 docs u)"
expect_eq "its doc was unchanged TOAST (the placeholder, not the value)" __debezium_unavailable_value \
    "$(jq -r 'select(.value.op == "u") | .value.after.doc' "$WORK/out.jsonl")"
expect_eq "the daemon still runs" 0 "$(kill -0 "$RUN_PID" 2>/dev/null; echo $?)"
expect_no_grep "no quality failure in the log" "$WORK/run.log" "doc_set"

# ---- Lua work in C
sql "INSERT INTO public.jobs VALUES (1, 'move')"
sql "INSERT INTO public.jobs VALUES (2, 'insert')"
sql "INSERT INTO public.jobs VALUES (3, 'rep')"
sql "INSERT INTO public.jobs VALUES (4, 'gc')"
sql "INSERT INTO public.jobs VALUES (5, 'plain')"
expect_eq "three refused rows reach the dead-letter file" 0 \
    "$(wait_lines "$WORK/dlq.jsonl" 3 60; echo $?)"
expect_eq "the rows after them are delivered (nothing hangs)" 0 \
    "$(for _ in $(seq 1 300); do [ "$(kept 5 jobs)" -ge 1 ] && break; sleep 0.1; done
       [ "$(kept 5 jobs)" -ge 1 ]; echo $?)"
expect_eq "string.rep of an empty string finished: row 3 kept" 1 "$(kept 3 jobs)"
expect_eq "table.move and table.insert hit the instruction limit" 2 \
    "$(grep -c 'instruction limit of 1000000 exceeded' "$WORK/dlq.jsonl" || true)"
expect_eq "the __gc finalizer was refused" 1 \
    "$(grep -c '__gc metamethods are not available' "$WORK/dlq.jsonl" || true)"
expect_eq "rows 1, 2 and 4 were not delivered" 0 \
    "$(( $(kept 1 jobs) + $(kept 2 jobs) + $(kept 4 jobs) ))"

stop_consumer
expect_eq "SIGTERM stops the daemon (exit 0)" 0 "$STOP_RC"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
