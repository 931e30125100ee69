#!/usr/bin/env bash
# 114_partition_identity_alternation.sh: a partitioned table published via
# its root, with partitions whose replica identities differ (pa DEFAULT,
# pb FULL).  The plugin then sends the root's relation record again
# whenever the next change comes from the other partition, so the
# description alternates between two signatures for one table; the table's
# schema must stay the same all along.
#
#   1. the daemon (publish-via-root, schemas with keys, a Postgres sink
#      with create_tables, a file sink), 40 single-row transactions
#      alternating between the partitions: the stream has 40 relation
#      changes' worth of alternation, the root's subject and its key
#      subject have one version each, every row reaches the target with the
#      root's key, and the sink read the target table's catalog a few times
#      (counted in the target cluster's statement log), not once per
#      alternation;
#   2. the sink alone (tools/pgsink_apply, a new relation per event,
#      alternating identity flags, then one with a column more): the
#      catalog is read once for the table, once after creating it and once
#      after adding the column (catalog_reads=3), not per event.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_init
build_consumer
export PG_CONFIG
build_tool pgsink_apply
pgc_start "log_statement = 'all'"
pgc_psql -c "CREATE DATABASE target"
pgc_psql -c "CREATE DATABASE dst"
catalog_init \
    "CREATE TABLE public.pt (id int PRIMARY KEY, v text) PARTITION BY RANGE (id)" \
    "CREATE TABLE public.pa PARTITION OF public.pt FOR VALUES FROM (0) TO (1000)" \
    "CREATE TABLE public.pb PARTITION OF public.pt FOR VALUES FROM (1000) TO (2000)" \
    "ALTER TABLE public.pb REPLICA IDENTITY FULL" \
    -- tributary_pid tributary_peek

# catalog_reads: how often the target's table catalog query was run.
catalog_reads() { grep -c 'a\.atttypid::pg_catalog\.int8' "$PGC_DIR/server.log" || true; }

# ---- 1: the daemon
{
    echo "pipeline: pid"
    source_yaml
    printf '    include_tables: ["public.pt*", "public.pa", "public.pb"]\n'
    printf '    plugin_options:\n      publish-via-root: "true"\n'
    cat <<YAML
sinks:
  db:
    type: postgres
    dsn: "$(pg_dsn target)"
    create_tables: true
    batch_size: 1
  archive:
    type: file
    path: "$WORK/out.jsonl"
schemas:
  enabled: true
  keys: true
checkpoint:
  store: catalog
http:
  enabled: false
YAML
} >"$WORK/p.yaml"
"$BIN" check -c "$WORK/p.yaml" >/dev/null
start_consumer
for i in $(seq 1 20); do
    pgc_psql -d postgres -c "INSERT INTO public.pt VALUES ($i, 'a$i')" >/dev/null
    pgc_psql -d postgres -c "INSERT INTO public.pt VALUES ($((1000 + i)), 'b$i')" >/dev/null
done
wait_lines "$WORK/out.jsonl" 40 60 || true
for _ in $(seq 1 100); do
    [ "$(q target "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'pt'")" = 1 ] &&
        [ "$(q target "SELECT count(*) FROM public.pt")" = 40 ] && break
    sleep 0.1
done
stop_consumer
expect_eq "the plugin describes the root again at each alternation" 40 \
    "$(q postgres "SELECT count(*) FROM pg_logical_slot_peek_changes('tributary_peek', NULL, NULL, 'publish-via-root', 'on') WHERE data LIKE '{\"kind\":\"relation\"%' AND data LIKE '%\"table\":\"pt\"%'")"
expect_eq "every change reaches the file sink under the root's name" 40 \
    "$(grep -c '"table":"pt"' "$WORK/out.jsonl" || true)"
expect_eq "every row reaches the target" 40 "$(q target "SELECT count(*) FROM public.pt")"
expect_eq "the root's subject has one version" 1 \
    "$(q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = 'main.public.pt'")"
expect_eq "the root's key subject has one version" 1 \
    "$(q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = 'main.public.pt-key'")"
expect_eq "every event is keyed by the root's primary key" 40 \
    "$(grep -cE '"key":\{"id":[0-9]+\}' "$WORK/out.jsonl" || true)"
reads=$(catalog_reads)
echo "# target catalog reads: $reads"
if [ "$reads" -ge 1 ] && [ "$reads" -le 4 ]; then
    pass "the sink does not re-read the target table per alternation ($reads reads)"
else
    fail "the sink does not re-read the target table per alternation" "$reads catalog reads for 40 alternating changes"
fi

# ---- 2: the sink alone, a new relation per event
TOOL=$TOOLS/pgsink_apply
RA='"rel":{"version":1,"columns":[{"name":"id","type":"integer","pk":true,"identity":true},{"name":"v","type":"text"}]}'
RB='"rel":{"version":2,"columns":[{"name":"id","type":"integer","pk":true},{"name":"v","type":"text"}]}'
RC='"rel":{"version":3,"columns":[{"name":"id","type":"integer","pk":true},{"name":"v","type":"text"},{"name":"w","type":"text"}]}'
: >"$WORK/ev.jsonl"
for i in $(seq 1 20); do
    if [ $((i % 2)) -eq 0 ]; then r=$RA; else r=$RB; fi
    printf '{"id":"0/%X:0","op":"c","schema":"public","table":"pt","after":{"id":%d,"v":"x%d"},%s}\n' \
        $((4096 + i)) "$i" "$i" "$r" >>"$WORK/ev.jsonl"
done
printf '{"id":"0/%X:0","op":"c","schema":"public","table":"pt","after":{"id":99,"v":"y","w":"z"},%s}\n' \
    $((4096 + 99)) "$RC" >>"$WORK/ev.jsonl"
out=$(apply dst --create-tables --batch-size 1 --stats --events "$WORK/ev.jsonl")
expect_eq "sink alone: every event applied" 21 "$(q dst "SELECT count(*) FROM public.pt")"
expect_eq "sink alone: the table created once" 1 "$(stat_of "$out" created)"
expect_eq "sink alone: the new column added" 1 "$(stat_of "$out" added)"
expect_eq "sink alone: the catalog read when needed only" 3 "$(stat_of "$out" catalog_reads)"
e2e_finish
