#!/usr/bin/env bash
# 73_schema_snapshot_migrate.sh: the schema stage and a migration on a
# table whose first events come from the initial snapshot (op r), into the
# embedded Kafka cluster with the schema headers on.
#
#   1. the snapshot's rows register version 1 (from the snapshot's
#      relation: int, text, numeric(10,2), timestamptz, a NOT NULL column)
#      at the first snapshot event, and carry its id;
#   2. the stream that follows has the same shape: its first change
#      registers nothing new (the snapshot's relation and the plugin's give
#      the same schema, byte for byte);
#   3. ADD COLUMN extra, with a migration pinned to version 1 that drops
#      it: version 2 is registered, and its events reach Kafka as version
#      1 (its id, its fields, no `extra`);
#   4. kill -9 and a restart (the snapshot is not taken again) register
#      nothing new; every row, snapshot and stream, is in Kafka once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=schema_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/schema_lib.sh"
e2e_setup
catalog_init "CREATE TABLE public.orders (id int PRIMARY KEY, note text NOT NULL,
            price numeric(10,2), at timestamptz)" \
    "INSERT INTO public.orders SELECT g, 'n' || g, g * 1.25, '2024-01-01Z'
            FROM generate_series(1, 40) AS g"
SUBJECT=main.public.orders
mock_start 1

{
    echo "pipeline: snapmig"
    source_yaml | sed 's/snapshot: never/snapshot: initial/'
    cat <<EOF
sinks:
$(kafka_sink_yaml snapmig)
$(migration_yaml "        - {drop: extra}")
EOF
} > "$WORK/p.yaml"
"$BIN" check -c "$WORK/p.yaml" >/dev/null

# dump: id, schema id, version, value of every record of the table.
dump() {
    "$TOOLS/kafka_dump" "$BOOT" snapmig.public.orders tributary.schema_id \
        tributary.schema_version | awk -F'\t' '$6 != "-" { print $1 "\t" $7 "\t" $8 "\t" $6 }' \
        > "$WORK/dump"
}
# wait_records N: until Kafka holds N records of the table (30 s).
wait_records() {
    for _ in $(seq 1 300); do dump; [ "$(wc -l < "$WORK/dump")" -ge "$1" ] && return 0; sleep 0.1; done
    return 1
}

# ---- 1: the snapshot
start_consumer
expect_eq "the 40 snapshot rows reach Kafka" 0 "$(wait_records 40; echo $?)"
expect_eq "one version, from the snapshot's relation" 1 "$(versions)"
ID1=$(q postgres "SELECT id FROM tributary.schema_versions WHERE subject = '$SUBJECT' AND version = 1")
expect_eq "every snapshot record is op r with version 1's id" 40 \
    "$(awk -F'\t' -v id="$ID1" '$2 == id && $3 == 1 && $4 ~ /"op":"r"/' "$WORK/dump" | wc -l)"
# the first event in stream order: the smallest (lsn, seq) of the records
FIRST=$(echo "SELECT x FROM unnest(string_to_array(:'ids', ',')) AS x
              ORDER BY split_part(x, ':', 1)::pg_lsn, split_part(x, ':', 2)::bigint LIMIT 1" |
        pgc_psql -d postgres -At -v ids="$(cut -f1 "$WORK/dump" | paste -sd,)")
expect_eq "version 1 takes effect at the first snapshot event" "$FIRST" \
    "$(q postgres "SELECT source_position->>'event_id' FROM tributary.schema_versions
                   WHERE subject = '$SUBJECT' AND version = 1")"

# ---- 2: the stream, same shape
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (41, 'n41', 51.25, '2024-01-01Z')" >/dev/null
expect_eq "the first streamed change reaches Kafka" 0 "$(wait_records 41; echo $?)"
expect_eq "and registers nothing: the stream's relation is the snapshot's schema" 1 "$(versions)"

# ---- 3: ADD COLUMN, migrated back to version 1
q postgres "SELECT tributary.set_compatibility('$SUBJECT', 'NONE')" >/dev/null
pgc_psql -d postgres -c "ALTER TABLE public.orders ADD COLUMN extra int" \
    -c "INSERT INTO public.orders VALUES (42, 'n42', 52.5, '2024-01-01Z', 7)" \
    -c "UPDATE public.orders SET extra = 8 WHERE id = 3" >/dev/null
expect_eq "version 2 is registered" 0 "$(wait_version 2; echo $?)"
expect_eq "its events reach Kafka" 0 "$(wait_records 43; echo $?)"

# ---- 4: kill -9, restart, one more change
kill_consumer
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
pgc_psql -d postgres -c "INSERT INTO public.orders VALUES (43, 'n43', 1, NULL, 9)" >/dev/null
expect_eq "the change after the restart reaches Kafka" 0 "$(wait_records 44; echo $?)"
stop_consumer
expect_eq "the daemon exits 0" 0 "$STOP_RC"
dump
expect_eq "no version was registered after the restart (no second snapshot)" 2 "$(versions)"
expect_eq "every record carries version 1's id and version" "$(wc -l < "$WORK/dump")" \
    "$(awk -F'\t' -v id="$ID1" '$2 == id && $3 == 1' "$WORK/dump" | wc -l)"
expect_eq "no record has the added column" 0 "$(grep -c '"extra"' "$WORK/dump" || true)"
expect_grep "the migrated insert has version 1's fields in order" "$WORK/dump" \
    '"after":\{"at":"2024-01-01T00:00:00Z","id":42,"note":"n42","price":52.50\}'
expect_eq "every change once (40 snapshot rows, 4 stream changes)" 44 \
    "$(cut -f1 "$WORK/dump" | sort -u | wc -l)"
expect_eq "and nothing twice" "$(wc -l < "$WORK/dump")" "$(cut -f1 "$WORK/dump" | sort -u | wc -l)"
expect_no_sanitizer "the daemon's logs" "$WORK/run.log" "$WORK/run2.log"
e2e_finish
