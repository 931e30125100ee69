#!/usr/bin/env bash
# 77_lineage_dead_letter.sh: the dead-letter sink in the recorded lineage
# graph (lineage_graph.c, docs/LINEAGE.md section 7).
#
#   1. with `dead_letter_images: none` the dead-letter sink is a dataset
#      without fields: the job writes it and the source table feeds it
#      INDIRECT/CONDITIONAL (the rows a rule rejects); no field reaches
#      it, so unmasked_paths() shows no way out through it;
#   2. with `dead_letter_images: original` (a config change) its records
#      carry the event as the source sent it: every source field reaches
#      it DIRECT/IDENTITY, unmasked, and unmasked_paths() says so for the
#      email that the ordinary sink only gets masked.
# Each graph is compared as a whole (every current edge of the job).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=lineage_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lineage_lib.sh"
e2e_setup
chmod 777 "$WORK"
catalog_init "CREATE TABLE public.customers (id int PRIMARY KEY, email text, age int)" \
    -- tributary_dlq
DSN="$(pg_dsn)"

# pipeline IMAGES: $WORK/p.yaml with dead_letter_images IMAGES.
pipeline() {
    cat > "$WORK/p.yaml" <<YAML
pipeline: dlq
sources:
  main: {type: postgres, dsn: "$DSN", snapshot: never, status_interval_ms: 200}
transforms:
  - {type: redact, name: mask_email, tables: [customers], fields: [email]}
  - {type: quality, name: adult, tables: [customers], fields: [age], check: range, min: 18}
dead_letter: rejected
dead_letter_images: $1
sinks:
  out: {type: file, path: "$WORK/out.jsonl"}
  rejected: {type: file, path: "$WORK/rejected.jsonl"}
checkpoint:
  store: catalog
lineage:
  enabled: true
http:
  enabled: false
YAML
    "$BIN" check --offline -c "$WORK/p.yaml" >/dev/null
}

SRC="postgres://localhost:$PGC_PORT"
F="file://$(cd "$WORK" && pwd -P)"
JOB="job:tributary/dlq"
C="$SRC/postgres.public.customers"

edges() { job_edges "$JOB"; }
# expected [original]: the graph we expect, the same way.
expected() {
    {
        echo "read dataset:$C -> $JOB - DIRECT/IDENTITY"
        echo "write $JOB -> dataset:$F/out.jsonl - DIRECT/IDENTITY"
        echo "derive field:$C#id -> field:$F/out.jsonl#id - DIRECT/IDENTITY"
        echo "derive field:$C#email -> field:$F/out.jsonl#email mask_email DIRECT/TRANSFORMATION masked"
        echo "derive field:$C#age -> field:$F/out.jsonl#age - DIRECT/IDENTITY"
        echo "derive field:$C#age -> dataset:$F/out.jsonl adult INDIRECT/FILTER"
        echo "write $JOB -> dataset:$F/rejected.jsonl - DIRECT/IDENTITY"
        echo "derive dataset:$C -> dataset:$F/rejected.jsonl - INDIRECT/CONDITIONAL"
        if [ "${1:-}" = original ]; then
            for col in id email age; do
                echo "derive field:$C#$col -> field:$F/rejected.jsonl#$col - DIRECT/IDENTITY"
            done
        fi
    } | LC_ALL=C sort
}
# unmasked_to_dlq: the unmasked paths from the table into the dead-letter sink.
unmasked_to_dlq() {
    q postgres "SELECT source || ' -> ' || sink FROM tributary.unmasked_paths('$C')
                 WHERE sink LIKE '%rejected.jsonl%' ORDER BY 1"
}

# ---- 1: no row images in the dead letters
pipeline none
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.customers VALUES (1, 'a@mail.example', 30), (2, 'b@mail.example', 12)" >/dev/null
wait_lines "$WORK/rejected.jsonl" 1 30 2>/dev/null || true
expect_eq "the minor went to the dead-letter sink" 1 "$(wc -l < "$WORK/rejected.jsonl")"
expect_eq "the graph is recorded" 0 \
    "$(wait_until "SELECT count(*) > 0 FROM tributary.lineage_edge_list WHERE job = '$JOB' AND kind = 'read' AND current" 60; echo $?)"
expect_eq "the graph has the dead-letter sink, fed by the table as a whole" "" \
    "$(diff <(expected) <(edges) || true)"
expect_eq "no field reaches it, so no unmasked path goes there" "" "$(unmasked_to_dlq)"
stop_consumer
expect_eq "the daemon stops cleanly" 0 "$STOP_RC"

# ---- 2: original images (a config change)
pipeline original
start_consumer
pgc_psql -d postgres -c "INSERT INTO public.customers VALUES (3, 'c@mail.example', 9), (4, 'd@mail.example', 40)" >/dev/null
wait_lines "$WORK/rejected.jsonl" 2 30 || true
expect_grep "the dead letter carries the original email" "$WORK/rejected.jsonl" "c@mail.example"
expect_eq "a new graph version is recorded" 0 \
    "$(wait_until "SELECT count(DISTINCT config_fingerprint) = 2 FROM tributary.lineage_graphs" 60; echo $?)"
wait_until "SELECT count(*) > 0 FROM tributary.lineage_edge_list WHERE job = '$JOB' AND current AND to_asset = 'field:$F/rejected.jsonl#email'" 30 || true
expect_eq "every source field reaches the dead-letter sink unmasked" "" \
    "$(diff <(expected original) <(edges) || true)"
expect_eq "unmasked_paths() shows the email leaving in clear through it" \
    "$(printf '%s\n' "field:$C#age -> field:$F/rejected.jsonl#age" "field:$C#email -> field:$F/rejected.jsonl#email" "field:$C#id -> field:$F/rejected.jsonl#id")" \
    "$(unmasked_to_dlq)"
stop_consumer
expect_eq "the daemon stops cleanly" 0 "$STOP_RC"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
