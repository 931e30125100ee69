#!/usr/bin/env bash
# 45_schema_stage.sh: the consumer's schema stage (`schemas:`) under a
# steady write load, into the embedded Kafka cluster (transactional, with
# the schema headers on) and a file sink (exactly once through its
# sidecar; the mock cluster shows aborted transactions to read_committed
# readers, so Kafka is checked for nothing lost and nothing extra, and the
# file for nothing twice).
#
#   1. the table's first shape is registered as version 1 at the position
#      of the first event, and every record carries id and version;
#   2. ALTER TABLE ADD COLUMN (compatible under BACKWARD): version 2 is
#      registered at the exact event id of the first record with the new
#      shape; every record before it has version 1, every one after it 2;
#   3. DROP COLUMN (refused by BACKWARD) with on_incompatible: fail: the
#      daemon stops without publishing that event and logs the violations,
#      its error naming the table, the subject, the level and the first one;
#      a restart without a fix stops again; nothing is registered;
#   4. tributary.set_compatibility(subject, 'NONE'), restart: version 3 at
#      the first event of the new shape, and over the whole run every
#      change is in Kafka once (nothing lost, nothing twice);
#   5. on_incompatible: warn with the level back to BACKWARD, ALTER COLUMN
#      TYPE int -> text: registered as version 4 and published, counted in
#      tributary_schema_incompatible_total, the subject's level unchanged;
#   6. kill -9 under load and a restart re-register nothing (identical
#      schemas are idempotent), and every change still arrives once.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
catalog_init "CREATE TABLE public.orders (id int PRIMARY KEY, note text)" -- witness tributary_sch
SUBJECT=main.public.orders
mock_start 1

# pipeline POLICY: $WORK/p.yaml with schemas.on_incompatible POLICY
pipeline() {
    {
        echo "pipeline: sch"
        source_yaml
        cat <<EOF
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: sch
    transactional: true
    schema_headers: true
  archive:
    type: file
    path: "$WORK/out.jsonl"
schemas:
  enabled: true
  on_incompatible: $1
checkpoint:
  store: catalog
http:
  listen: "127.0.0.1:0"
EOF
    } >"$WORK/p.yaml"
    "$BIN" check -c "$WORK/p.yaml" >/dev/null
}

# The writer: one row per transaction, about 20 a second, naming only the
# key so that it survives every ALTER below.
writer() {
    local n=1
    while [ ! -e "$WORK/stop" ]; do
        pgc_psql -d postgres -c "INSERT INTO public.orders (id) VALUES ($n)" >/dev/null
        n=$((n + 1))
        sleep 0.05
    done
}

# dump: every record of the table: id, version (in offset order per
# partition); into $WORK/dump.
dump() {
    "$TOOLS/kafka_dump" "$BOOT" sch.public.orders tributary.schema_id tributary.schema_version \
        | awk -F'\t' '$6 != "-" { print $1 "\t" $7 "\t" $8 }' > "$WORK/dump"
}

# sorted_ids FILE: the event ids in FILE, in stream order.
sorted_ids() {
    echo "SELECT x FROM unnest(string_to_array(:'ids', ',')) AS x
          ORDER BY split_part(x, ':', 1)::pg_lsn, split_part(x, ':', 2)::bigint" |
        pgc_psql -d postgres -At -v ids="$(paste -sd, "$1")"
}

# first_of VERSION / last_of VERSION: the first / last event id of the
# records with that schema version.
first_of() { awk -F'\t' -v v="$1" '$3 == v { print $1 }' "$WORK/dump" > "$WORK/v.ids"; sorted_ids "$WORK/v.ids" | head -1; }
last_of() { awk -F'\t' -v v="$1" '$3 == v { print $1 }' "$WORK/dump" > "$WORK/v.ids"; sorted_ids "$WORK/v.ids" | tail -1; }

# before A B: t when event id A comes before B in the stream.
before() {
    q postgres "SELECT (split_part('$1', ':', 1)::pg_lsn, split_part('$1', ':', 2)::bigint)
                     < (split_part('$2', ':', 1)::pg_lsn, split_part('$2', ':', 2)::bigint)"
}

# position_of VERSION: the event id the catalog recorded for it.
position_of() {
    q postgres "SELECT source_position->>'event_id' FROM tributary.schema_versions
                WHERE subject = '$SUBJECT' AND version = $1"
}
versions() { q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = '$SUBJECT'"; }

# wait_version N [SECONDS]: until the subject has N versions (20 s).
wait_version() {
    for _ in $(seq 1 $((${2:-20} * 10))); do [ "$(versions)" -ge "$1" ] && return 0; sleep 0.1; done
    return 1
}

# ---- 1 and 2: version 1, then ADD COLUMN -> version 2
pipeline fail
writer &
WRITER_PID=$!
start_consumer
# (the first start waits up to 30 s for the mock's missing CreateTopics
# before the transactional sink's checkpoint topic is auto-created)
expect_eq "version 1 is registered" 0 "$(wait_version 1 60; echo $?)"
sleep 1
pgc_psql -d postgres -c "ALTER TABLE public.orders ADD COLUMN extra int" >/dev/null
expect_eq "ADD COLUMN registers version 2" 0 "$(wait_version 2; echo $?)"
sleep 1

# ---- 3: DROP COLUMN under BACKWARD and fail
pgc_psql -d postgres -c "ALTER TABLE public.orders DROP COLUMN note" >/dev/null
rc=0
for _ in $(seq 1 200); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
wait "$RUN_PID" || rc=$?
RUN_PID=
expect_eq "the incompatible DROP COLUMN stops the daemon (exit 1)" 1 "$rc"
expect_grep "it logs each violation (kind, path)" "$WORK/run.log" "against version 2: .* at #/properties"
expect_grep "and says what to do" "$WORK/run.log" "tributary.set_compatibility"
expect_grep "its error names the table, the subject, the level and the change" "$WORK/run.log" \
    "ERROR .*subject $SUBJECT: the new shape of table public.orders at event [0-9A-F/:]+ is incompatible with the subject's versions under its level BACKWARD \\(1 violation\\(s\\), the first: [A-Z_]+ at #/properties/note against version 2;"
expect_eq "nothing is registered for the refused shape" 2 "$(versions)"
dump
expect_eq "no record of the refused shape was published" 0 \
    "$(awk -F'\t' '$3 != 1 && $3 != 2' "$WORK/dump" | wc -l)"
dropped=$(q postgres "SELECT pg_current_wal_lsn()")

# A restart without a fix stops at the same place.
start_consumer
rc=0
for _ in $(seq 1 200); do kill -0 "$RUN_PID" 2>/dev/null || break; sleep 0.1; done
wait "$RUN_PID" || rc=$?
RUN_PID=
expect_eq "a restart without a fix stops again" 1 "$rc"
expect_eq "still two versions" 2 "$(versions)"

# ---- 4: the user allows it; the restart resumes
q postgres "SELECT tributary.set_compatibility('$SUBJECT', 'NONE')" >/dev/null
start_consumer
expect_eq "after set_compatibility NONE the shape is version 3" 0 "$(wait_version 3; echo $?)"
sleep 1

# ---- 5: warn, with the level back to the global BACKWARD
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
q postgres "SELECT tributary.set_compatibility('$SUBJECT', NULL)" >/dev/null
pipeline warn
start_consumer
sleep 1
pgc_psql -d postgres -c "ALTER TABLE public.orders ALTER COLUMN extra TYPE text" >/dev/null
expect_eq "warn registers the incompatible TYPE change as version 4" 0 "$(wait_version 4; echo $?)"
expect_grep "warn logs the violation" "$WORK/run.log" "WARN .*against version 3: [A-Z_]+ at #/properties/extra"
expect_eq "the subject's own level is left as it was (none)" "" \
    "$(q postgres "SELECT coalesce(own_compatibility, '') FROM tributary.subjects WHERE subject = '$SUBJECT'")"
port=$(http_port)
curl -s "http://127.0.0.1:$port/metrics" > "$WORK/metrics" || true
expect_eq "/metrics counts one incompatible change" 1 \
    "$(grep -c "^tributary_schema_incompatible_total{subject=\"$SUBJECT\"} 1$" "$WORK/metrics")"
expect_eq "/metrics counts the version registered" 1 \
    "$(grep -c "^tributary_schema_versions_registered_total{subject=\"$SUBJECT\"} 1$" "$WORK/metrics")"
sleep 1

# ---- 6: kill -9 under load, restart: nothing new is registered
kill_consumer
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
sleep 2
touch "$WORK/stop"
wait "$WRITER_PID" || true
WRITER_PID=
expect_eq "the slot was confirmed to the end" t "$(slot_caught_up tributary_sch)"
stop_consumer
expect_eq "SIGTERM drains and exits 0 (warn)" 0 "$STOP_RC"
expect_eq "the restart after kill -9 re-registers nothing" 4 "$(versions)"
expect_eq "and logs no registration" 0 "$(grep -c 'takes effect at event' "$WORK/run2.log" || true)"
expect_no_sanitizer "no sanitizer report from the last start" "$WORK/run2.log"

expect_eq "the captured table is the only subject (not the catalog's own tables)" "$SUBJECT" \
    "$(q postgres "SELECT string_agg(subject, ',') FROM tributary.subjects")"

# ---- the records
dump
for v in 1 2 3 4; do
    expect_eq "version $v took effect at the first record with it" "$(first_of $v)" "$(position_of $v)"
done
for v in 1 2 3; do
    n=$((v + 1))
    expect_eq "every version-$v record comes before version $n's position" t \
        "$(before "$(last_of $v)" "$(position_of $n)")"
done
expect_eq "the refused shape took effect after the stop point was reached" t \
    "$(q postgres "SELECT split_part('$(position_of 3)', ':', 1)::pg_lsn <= '$dropped'::pg_lsn")"
cut -f2,3 "$WORK/dump" | sort -u > "$WORK/pairs"
q postgres "SELECT id || E'\t' || version FROM tributary.schema_versions WHERE subject = '$SUBJECT'" \
    | sort > "$WORK/catalog.pairs"
expect_eq "every record carries its version's schema id" "" \
    "$(comm -23 "$WORK/pairs" "$WORK/catalog.pairs" | head -3 | tr '\n' ' ')"
pgc_psql -d postgres -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
    WHERE d->>'kind' IN ('insert','update','delete') AND d->>'table' = 'orders'" | sort > "$WORK/witness"
cut -f1 "$WORK/dump" | sort -u > "$WORK/ids"
expect_eq "the witness saw the workload" t "$([ "$(wc -l < "$WORK/witness")" -gt 100 ] && echo t || echo f)"
expect_eq "nothing lost: every change is in Kafka" "" "$(comm -23 "$WORK/witness" "$WORK/ids" | head -3 | tr '\n' ' ')"
expect_eq "nothing extra in Kafka" "" "$(comm -13 "$WORK/witness" "$WORK/ids" | head -3 | tr '\n' ' ')"
grep '"table":"orders"' "$WORK/out.jsonl" > "$WORK/lines" || true
expect_eq "the file sink holds every change" "$(wc -l < "$WORK/witness")" "$(wc -l < "$WORK/lines")"
# A change is (source.sequence, key); none may appear twice.
paste -d' ' <(grep -o '"sequence":"\[[^]]*\]"' "$WORK/lines") <(grep -o '"key":{[^}]*}' "$WORK/lines") \
    | sort | uniq -d > "$WORK/dups"
expect_eq "and none twice" 0 "$(wc -l < "$WORK/dups")"
echo "# $(wc -l < "$WORK/witness") changes; positions v1..v4: $(for v in 1 2 3 4; do printf '%s ' "$(position_of $v)"; done)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
e2e_finish
