#!/usr/bin/env bash
# 47_lineage_record.sh: the consumer's lineage recording stage (`lineage:`)
# and `tributary lineage`, against a real server and the embedded Kafka
# cluster.
#
#   1. a pipeline with masking (redact), drop, route, lookup and a Lua
#      computed field records the column-level graph we expect, compared
#      as a whole (every current edge: kind, ends, rule, subtype, masking);
#   2. counts: each edge of a table carries the number of its events, in
#      batches (never one call per event), with the last position;
#   3. the run is recorded (START then COMPLETE) and its OpenLineage
#      events come out of tributary.openlineage_events;
#   3b. a restart with the same config records no new version, even
#      before every table's first event;
#   4. a config change (a drop more) records a new graph version with the
#      new config fingerprint; the edges it removes are retired and keep
#      their last_seen and counts;
#   5. the CLI: impact, unmasked, --format json and dot, dot --all;
#   5b. a Lua rule whose inputs static analysis cannot see
#      (`after[string.lower('REGION')]`) is traced at run time: the
#      column it read gets its edges, marked "inputs": "runtime" in the
#      recorded document, next to the dataset's "dynamic" edge, and no
#      column it did not read does;
#   6. a lineage catalog that cannot be reached never stops the pipeline:
#      the failure is logged and counted in /metrics, and the rows arrive.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=lineage_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lineage_lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE TABLE public.customers (id int PRIMARY KEY, email text, name text, ssn text, region text)" \
    "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, qty int, price numeric)" \
    "CREATE TABLE public.tiers (customer_id int PRIMARY KEY, tier text)" \
    "INSERT INTO public.tiers SELECT g, 't' || (g % 3) FROM generate_series(1, 50) g" \
    -- tributary_lin
mock_start 1
DSN="$(pg_dsn)"

# pipeline EXTRA_RULE [LINEAGE_DSN]: $WORK/p.yaml; EXTRA_RULE is one more
# transforms entry (or empty); LINEAGE_DSN the lineage section's dsn.
pipeline() {
    cat > "$WORK/p.yaml" <<YAML
pipeline: lin
sources:
  main: {type: postgres, dsn: "$DSN", snapshot: never, status_interval_ms: 200,
         include_tables: [public.customers, public.orders]}
transforms:
  - {type: redact, name: mask_email, tables: [customers], fields: [email]}
  - {type: drop, name: drop_ssn, tables: [customers], fields: [ssn]}
  - {type: route, name: by_region, tables: [customers], topic: "cust.\${after.region}"}
  - type: lookup
    name: tier
    tables: [orders]
    dsn: "$DSN"
    query: "SELECT tier FROM public.tiers WHERE customer_id = \$1"
    params: [customer_id]
    into: customer
  - {type: compute, name: total, tables: [orders], field: total, lua: "after.qty * after.price", column_type: numeric}
$1
sinks:
  k: {type: kafka, bootstrap_servers: "$BOOT", topic_prefix: lin}
  f: {type: file, path: "$WORK/out.jsonl"}
checkpoint:
  store: catalog
lineage:
  enabled: true
  dsn: "${2:-$DSN}"
http:
  listen: "127.0.0.1:0"
YAML
    "$BIN" check --offline -c "$WORK/p.yaml" >/dev/null
}

# write FROM TO: customers and orders FROM..TO, one transaction each.
write() {
    pgc_psql -d postgres \
        -c "INSERT INTO public.customers SELECT g, 'c' || g || '@mail.example', 'N' || g, '000-' || g, 'eu' FROM generate_series($1, $2) g" \
        -c "INSERT INTO public.orders SELECT g, g, 2, 1.5 FROM generate_series($1, $2) g" >/dev/null
}


SRC="postgres://localhost:$PGC_PORT"
K="kafka://${BOOT%%,*}"
F="file://$(cd "$WORK" && pwd -P)"
JOB="job:tributary/lin"

edges() { job_edges "$JOB"; }

# expected [DROP_NAME]: the graph we expect, the same way.
expected() {
    local c="$SRC/postgres.public.customers" o="$SRC/postgres.public.orders" t
    {
        echo "read dataset:$c -> $JOB - DIRECT/IDENTITY"
        echo "read dataset:$o -> $JOB - DIRECT/IDENTITY"
        for t in "$K/cust.\${after.region}" "$F/out.jsonl"; do
            echo "write $JOB -> dataset:$t - DIRECT/IDENTITY"
            echo "derive field:$c#id -> field:$t#id - DIRECT/IDENTITY"
            echo "derive field:$c#email -> field:$t#email mask_email DIRECT/TRANSFORMATION masked"
            [ -n "${1:-}" ] || echo "derive field:$c#name -> field:$t#name - DIRECT/IDENTITY"
            echo "derive field:$c#region -> field:$t#region - DIRECT/IDENTITY"
            echo "derive field:$c#region -> dataset:$t by_region INDIRECT/CONDITIONAL"
        done
        for t in "$K/lin.public.orders" "$F/out.jsonl"; do
            echo "write $JOB -> dataset:$t - DIRECT/IDENTITY"
            for col in id customer_id qty price; do
                echo "derive field:$o#$col -> field:$t#$col - DIRECT/IDENTITY"
            done
            echo "derive field:$o#customer_id -> field:$t#customer tier INDIRECT/JOIN"
            echo "derive field:$o#qty -> field:$t#total total DIRECT/TRANSFORMATION"
            echo "derive field:$o#price -> field:$t#total total DIRECT/TRANSFORMATION"
        done
    } | LC_ALL=C sort -u
}

# ---- 1-3: the graph, counts and the run
pipeline ""
start_consumer
write 1 10
expect_eq "the graph is recorded" 0 \
    "$(wait_until "SELECT count(*) = 2 FROM tributary.lineage_edge_list WHERE job = '$JOB' AND kind = 'read' AND current" 60; echo $?)"
expect_eq "both tables' counts arrive" 0 \
    "$(wait_until "SELECT bool_and(event_count = 10) FROM tributary.lineage_edge_list WHERE job = '$JOB' AND kind = 'read'" 30; echo $?)"
edges | LC_ALL=C sort > "$WORK/edges.1"
expected | LC_ALL=C sort > "$WORK/expected.1"
expect_eq "the column-level graph is the one expected, as a whole" "" \
    "$(diff "$WORK/expected.1" "$WORK/edges.1" || true)"
expect_eq "every edge of a table counts its events" "t" \
    "$(q postgres "SELECT bool_and(event_count = 10) FROM tributary.lineage_edge_list WHERE job = '$JOB' AND kind = 'derive'")"
expect_match "the last position is the checkpoint's event id" '^[0-9A-F]+/[0-9A-F]+(:[0-9]+)?$' \
    "$(q postgres "SELECT max(last_position->>'event_id') FROM tributary.lineage_edge_list WHERE job = '$JOB'")"
write 11 30
expect_eq "later events add up (in batches)" 0 \
    "$(wait_until "SELECT bool_and(event_count = 30) FROM tributary.lineage_edge_list WHERE job = '$JOB' AND kind = 'read'" 30; echo $?)"
v1=$(q postgres "SELECT max(version) FROM tributary.lineage_graphs")
stop_consumer
expect_eq "the daemon stops cleanly" 0 "$STOP_RC"
expect_eq "one run, COMPLETE" "COMPLETE" "$(q postgres "SELECT string_agg(state, ',') FROM tributary.lineage_runs")"
RUN=$(q postgres "SELECT run_id FROM tributary.lineage_runs")
expect_eq "its OpenLineage events: START, then COMPLETE last" "START COMPLETE" \
    "$(q postgres "SELECT (array_agg(e->>'eventType'))[1] || ' ' || (array_agg(e->>'eventType'))[count(*)] FROM tributary.openlineage_events('$RUN') AS e")"
expect_eq "the email reaches the sinks masked only" 0 "$(grep -c '@mail.example' "$WORK/out.jsonl" || true)"
before=$(q postgres "SELECT last_seen, event_count FROM tributary.lineage_edge_list
                     WHERE job = '$JOB' AND kind = 'derive' AND to_asset = 'field:$F/out.jsonl#name'")

# ---- 3b: a restart with the same config records nothing new, even
# before every table has been seen again
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.customers VALUES (1000, 'x@y', 'n', 's', 'eu')" >/dev/null
expect_eq "a restart: the new events are counted" 0 \
    "$(wait_until "SELECT event_count = 31 FROM tributary.lineage_edge_list WHERE job = '$JOB' AND kind = 'read' AND from_asset LIKE '%customers'" 30; echo $?)"
expect_eq "  ... and no new graph version is recorded" "$v1" "$(q postgres "SELECT max(version) FROM tributary.lineage_graphs")"
expect_eq "  ... so the tables not seen yet keep their current edges" "" \
    "$(diff "$WORK/expected.1" <(edges | LC_ALL=C sort) || true)"
stop_consumer
before=$(q postgres "SELECT last_seen, event_count FROM tributary.lineage_edge_list
                     WHERE job = '$JOB' AND kind = 'derive' AND to_asset = 'field:$F/out.jsonl#name'")

# ---- 4: a config change
pipeline "  - {type: drop, name: drop_name, tables: [customers], fields: [name]}"
start_consumer
write 31 35
expect_eq "a config change records a new version" 0 \
    "$(wait_until "SELECT max(version) > $v1 AND count(DISTINCT config_fingerprint) = 2 FROM tributary.lineage_graphs" 60; echo $?)"
wait_until "SELECT count(*) = 4 FROM tributary.lineage_edge_list WHERE job = '$JOB' AND kind = 'write' AND current" 30 || true
expect_eq "the new graph is the one expected" "" \
    "$(diff <(expected drop_name) <(edges | LC_ALL=C sort) || true)"
expect_eq "the edges it removed are retired, keeping last_seen and counts" "$before" \
    "$(q postgres "SELECT last_seen, event_count FROM tributary.lineage_edge_list
                   WHERE job = '$JOB' AND kind = 'derive' AND to_asset = 'field:$F/out.jsonl#name' AND NOT current")"

# ---- 5: the CLI
CLI=("$BIN" lineage)
out=$("${CLI[@]}" impact "$SRC/postgres.public.customers#email" -c "$WORK/p.yaml")
printf '%s\n' "$out" | head -8 | sed 's/^/# /'
expect_match "impact: the masked email field in Kafka" "field:$K/cust.\\\$\\{after.region\\}#email \\[field\\] \\(masked\\)" "$out"
out=$("${CLI[@]}" unmasked "$SRC/postgres.public.customers" --dsn "$DSN")
expect_match "unmasked: the region leaves in clear" "field:$SRC/postgres.public.customers#region -> field:$F/out.jsonl#region" "$out"
expect_eq "unmasked: the email never does" 0 "$(grep -c '#email ->' <<<"$out" || true)"
"${CLI[@]}" downstream "$SRC/postgres.public.orders#qty" --format json --dsn "$DSN" > "$WORK/ds.json"
expect_eq "json: downstream of qty is the total in both sinks" \
    "field:$F/out.jsonl#total field:$K/lin.public.orders#total" \
    "$(python3 -c 'import json,sys; print(" ".join(sorted(r["node"] for r in json.load(open(sys.argv[1])) if r["node"].endswith("#total"))))' "$WORK/ds.json")"
out=$("${CLI[@]}" upstream "$F/out.jsonl#total" --format dot --depth 1 --dsn "$DSN")
expect_match "dot: a digraph" '^digraph lineage \{' "$out"
"${CLI[@]}" dot --all --dsn "$DSN" > "$WORK/all.dot"
expect_eq "dot --all: one digraph with the masked edge dashed" "1 1" \
    "$(grep -c '^digraph' "$WORK/all.dot") $(grep -c -m1 'mask_email.*style=dashed' "$WORK/all.dot")"
if command -v dot >/dev/null; then
    expect_eq "dot --all renders" 0 "$(dot -Tsvg "$WORK/all.dot" >/dev/null; echo $?)"
fi
rc=0; "${CLI[@]}" impact "nope:x" --dsn "$DSN" 2>"$WORK/cli.err" >/dev/null || rc=$?
expect_eq "an unknown asset: exit 1 with the server's message" "1" "$rc"
expect_grep "  ... naming it" "$WORK/cli.err" 'unknown lineage asset "nope:x"'
rc=0; "${CLI[@]}" impact --dsn "$DSN" 2>/dev/null || rc=$?
expect_eq "a missing asset is a usage error" "2" "$rc"
stop_consumer

# ---- 5b: a Lua rule whose inputs show only at run time
pipeline "  - {type: compute, name: dyn, tables: [customers], field: shout, lua: \"after[string.lower('REGION')]\"}"
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.customers VALUES (41, 'd@mail.example', 'n', 's', 'us')" >/dev/null
# runtime_inputs: the `from` fields of rule dyn's edges in the latest
# recorded document, with their "inputs" mark, sorted.
runtime_inputs() {
    q postgres "SELECT string_agg(DISTINCT coalesce(e->'from'->>'field', '(dataset)') || ':' || coalesce(e->>'inputs', '-'), ' ')
                  FROM tributary.lineage_graphs AS g, jsonb_array_elements(g.graph->'edges') AS e
                 WHERE g.version = (SELECT max(version) FROM tributary.lineage_graphs) AND e->>'rule' = 'dyn'"
}
expect_eq "the column the Lua read at run time gets its edges" 0 \
    "$(wait_until "SELECT count(*) = 2 FROM tributary.lineage_edge_list WHERE job = '$JOB' AND current AND rule = 'dyn' AND from_asset = 'field:$SRC/postgres.public.customers#region'" 30; echo $?)"
expect_eq "  ... marked runtime, next to the dataset's dynamic edge, and nothing else" \
    "(dataset):dynamic region:runtime" "$(runtime_inputs)"
stop_consumer

# ---- 6: a catalog that cannot be reached never stops the pipeline
pipeline "" "host=127.0.0.1 port=1 dbname=nowhere connect_timeout=1"
start_consumer
write 36 40
wait_lines "$WORK/out.jsonl" 82 30 || true
expect_eq "the rows still arrive" 82 "$(wc -l < "$WORK/out.jsonl")"
port=$(http_port)
expect_match "the failure is counted in /metrics" 'tributary_lineage_errors_total\{operation="run_start"\} [1-9]' \
    "$(curl -s "http://127.0.0.1:$port/metrics")"
expect_grep "and logged" "$WORK/run.log" 'run_start failed .the pipeline goes on'
stop_consumer
expect_eq "and the daemon still stops cleanly" 0 "$STOP_RC"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"

e2e_finish
