#!/usr/bin/env bash
# 49_schema_migrate.sh: schema migrations (`schemas.migrations`) under a
# steady write load, into the embedded Kafka cluster (transactional, with
# the schema headers on) and a file sink.  The table public.orders starts
# as (id int PRIMARY KEY, note text, qty int) = version 1, and the
# migration pins every event to version 1, whatever ALTER TABLE does:
#
#   1. ADD COLUMN extra (version 2) with a migration that does not drop
#      it: the daemon stops before publishing the first event of version 2,
#      naming the field left over; nothing of that shape is published;
#   2. the step added (drop: extra), restart: the stream resumes there;
#   3. RENAME note TO memo (version 3): rename memo back to note;
#   4. kill -9 under load and a restart, mid-stream;
#   5. ALTER qty TYPE text (version 4): cast qty back to an integer;
#   6. DROP COLUMN memo (version 5): add note with its default, null;
#   then: every record in Kafka carries version 1's id and version, every
#   row image has exactly version 1's fields in its order (byte-checked
#   with a pattern, and exactly for one marker row per version), every
#   change arrives once in Kafka (nothing lost, nothing extra) and never
#   twice in the file, and versions 2 to 5 were registered at events that
#   reached Kafka (stamped as version 1).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=schema_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/schema_lib.sh"
e2e_init

orders_start "note text, qty int" tributary_mig

# pipeline STEPS: $WORK/p.yaml whose migration to version 1 has STEPS
# (YAML flow maps, one a line, indented by the caller).
pipeline() {
    {
        echo "pipeline: mig"
        source_yaml
        cat <<EOF
sinks:
$(kafka_sink_yaml mig)
  archive:
    type: file
    path: "$WORK/out.jsonl"
$(migration_yaml "$1")
EOF
    } >"$WORK/p.yaml"
    "$BIN" check -c "$WORK/p.yaml" >/dev/null
}


position_of() {
    q postgres "SELECT source_position->>'event_id' FROM tributary.schema_versions
                WHERE subject = '$SUBJECT' AND version = $1"
}
# dump: every record of the table: id, schema id, version, value; into
# $WORK/dump.
dump() {
    "$TOOLS/kafka_dump" "$BOOT" mig.public.orders tributary.schema_id tributary.schema_version \
        | awk -F'\t' '$6 != "-" { print $1 "\t" $7 "\t" $8 "\t" $6 }' > "$WORK/dump"
}
# marker SQL: one row written with the shape of the moment.
marker() { pgc_psql -d postgres -c "$1" >/dev/null; }
# after_or_at A B: how many of the event ids in file A come at or after
# event id B in the stream.
after_or_at() {
    echo "SELECT count(*) FROM unnest(string_to_array(:'ids', ',')) AS x
          WHERE (split_part(x, ':', 1)::pg_lsn, split_part(x, ':', 2)::bigint)
             >= (split_part(:'b', ':', 1)::pg_lsn, split_part(:'b', ':', 2)::bigint)" |
        pgc_psql -d postgres -At -v ids="$(paste -sd, "$1")" -v b="$2"
}

STEPS_NO_DROP='        - {rename: memo, to: note}
        - {cast: qty, as: integer, type: integer}
        - {add: note, default: "null", type: text}'
STEPS="$STEPS_NO_DROP
        - {drop: extra}"

# ---- 1: version 1, then ADD COLUMN that the migration does not handle
pipeline "$STEPS_NO_DROP"
writer &
WRITER_PID=$!
start_consumer
expect_eq "version 1 is registered" 0 "$(wait_version 1 60; echo $?)"
# RENAME and DROP are refused by the default level (BACKWARD): the subject
# takes every shape, and the migration keeps the sinks on version 1
q postgres "SELECT tributary.set_compatibility('$SUBJECT', 'NONE')" >/dev/null
marker "INSERT INTO public.orders VALUES (900001, 'one', 1)"
sleep 1
pgc_psql -d postgres -c "ALTER TABLE public.orders ADD COLUMN extra int" >/dev/null
marker "INSERT INTO public.orders (id, note, qty, extra) VALUES (900002, 'two', 2, 22)"
wait_exit
expect_eq "a migration that leaves a field over stops the daemon (exit 1)" 1 "$EXIT_RC"
expect_grep "it names the subject, the versions and the field" "$WORK/run.log" \
    "migration of subject $SUBJECT from version 2 to 1: field extra is not in version 1"
dump
cut -f1 "$WORK/dump" > "$WORK/stop.ids"
p2=$(position_of 2)
expect_match "version 2 is registered at the refused event" '^[0-9A-F]+/[0-9A-F]+:[0-9]+$' "$p2"
expect_eq "nothing from the refused event on is published" 0 "$(after_or_at "$WORK/stop.ids" "$p2")"
expect_eq "the refused shape's marker is not in Kafka" 0 "$(grep -c '"id":900002' "$WORK/dump" || true)"

# ---- 2: the step added; the stream resumes where it stopped
pipeline "$STEPS"
start_consumer
sleep 2
# ---- 3: RENAME
pgc_psql -d postgres -c "ALTER TABLE public.orders RENAME COLUMN note TO memo" >/dev/null
marker "INSERT INTO public.orders (id, memo, qty, extra) VALUES (900003, 'three', 3, 33)"
expect_eq "RENAME registers version 3" 0 "$(wait_version 3; echo $?)"
sleep 1
# ---- 4: kill -9 mid-stream
kill_consumer
sleep 0.5
start_consumer "$WORK/p.yaml" "$WORK/run2.log"
sleep 1
# ---- 5: TYPE
pgc_psql -d postgres -c "ALTER TABLE public.orders ALTER COLUMN qty TYPE text" >/dev/null
marker "INSERT INTO public.orders (id, memo, qty, extra) VALUES (900004, 'four', '4', 44)"
expect_eq "ALTER TYPE registers version 4" 0 "$(wait_version 4; echo $?)"
sleep 1
# ---- 6: DROP
pgc_psql -d postgres -c "ALTER TABLE public.orders DROP COLUMN memo" >/dev/null
marker "INSERT INTO public.orders (id, qty, extra) VALUES (900005, '5', 55)"
marker "UPDATE public.orders SET qty = '6' WHERE id = 900004"
expect_eq "DROP registers version 5" 0 "$(wait_version 5; echo $?)"
sleep 1
touch "$WORK/stop"
wait "$WRITER_PID" || true
WRITER_PID=
expect_eq "the slot was confirmed to the end" t "$(slot_caught_up tributary_mig)"
stop_consumer
expect_eq "SIGTERM drains and exits 0" 0 "$STOP_RC"
expect_grep "the log says which versions are migrated" "$WORK/run2.log" \
    "subject $SUBJECT: events of version [2-5] are migrated to version 1"

# ---- the records
dump
v1_id=$(q postgres "SELECT id FROM tributary.schema_versions WHERE subject = '$SUBJECT' AND version = 1")
expect_eq "every record carries version 1's id and version" "$v1_id	1" \
    "$(cut -f2,3 "$WORK/dump" | sort -u | tr '\n' ' ' | sed 's/ $//')"
# every image: exactly version 1's fields, in its (sorted) order
grep -oE '"(after|before)":(\{[^}]*\}|null)' "$WORK/dump" | grep -v ':null$' > "$WORK/images"
expect_eq "every row image has version 1's shape, byte for byte" "" \
    "$(grep -vE '^"(after|before)":\{"id":[0-9]+,"note":(null|"[a-z]+"),"qty":(null|[0-9]+)\}$' "$WORK/images" | head -3 | tr '\n' ' ')"
expect_eq "each kind of change had images to check" t \
    "$([ "$(wc -l < "$WORK/images")" -gt 100 ] && echo t || echo f)"
expect_grep "version 1's marker as written" "$WORK/dump" '"after":\{"id":900001,"note":"one","qty":1\}'
expect_grep "version 2's marker without extra" "$WORK/dump" '"after":\{"id":900002,"note":"two","qty":2\}'
expect_grep "version 3's marker: memo renamed back to note" "$WORK/dump" '"after":\{"id":900003,"note":"three","qty":3\}'
expect_grep "version 4's marker: qty cast back to an integer" "$WORK/dump" '"after":\{"id":900004,"note":"four","qty":4\}'
expect_grep "version 5's marker: note added as null" "$WORK/dump" '"after":\{"id":900005,"note":null,"qty":5\}'
expect_grep "version 5's update: the after image migrated too" "$WORK/dump" '"after":\{"id":900004,"note":null,"qty":6\}'
for v in 2 3 4 5; do
    expect_eq "version $v was registered at an event that reached Kafka (as version 1)" t \
        "$(cut -f1 "$WORK/dump" | grep -xF "$(position_of $v)" >/dev/null && echo t || echo f)"
done
expect_eq "after the fix the refused event was published" t \
    "$(cut -f1 "$WORK/dump" | grep -xF "$p2" >/dev/null && echo t || echo f)"

pgc_psql -d postgres -At -c "SELECT (d->>'commit_lsn') || ':' || (d->>'seq')
    FROM (SELECT data::json AS d FROM pg_logical_slot_peek_changes('witness', NULL, NULL)) x
    WHERE d->>'kind' IN ('insert','update','delete') AND d->>'table' = 'orders'" | sort > "$WORK/witness"
cut -f1 "$WORK/dump" | sort -u > "$WORK/ids"
expect_eq "nothing lost: every change is in Kafka" "" "$(comm -23 "$WORK/witness" "$WORK/ids" | head -3 | tr '\n' ' ')"
expect_eq "nothing extra in Kafka" "" "$(comm -13 "$WORK/witness" "$WORK/ids" | head -3 | tr '\n' ' ')"
grep '"table":"orders"' "$WORK/out.jsonl" > "$WORK/lines" || true
expect_eq "the file sink holds every change" "$(wc -l < "$WORK/witness")" "$(wc -l < "$WORK/lines")"
paste -d' ' <(grep -o '"sequence":"\[[^]]*\]"' "$WORK/lines") <(grep -o '"key":{[^}]*}' "$WORK/lines") \
    | sort | uniq -d > "$WORK/dups"
expect_eq "and none twice" 0 "$(wc -l < "$WORK/dups")"
expect_eq "the file's images have version 1's shape too" "" \
    "$(grep -oE '"after":\{[^}]*\}' "$WORK/lines" | grep -vE '^"after":\{"id":[0-9]+,"note":(null|"[a-z]+"),"qty":(null|[0-9]+)\}$' | head -3 | tr '\n' ' ')"
echo "# $(wc -l < "$WORK/witness") changes; positions v1..v5: $(for v in 1 2 3 4 5; do printf '%s ' "$(position_of $v)"; done)"
expect_no_sanitizer "no sanitizer report from the consumer" "$WORK/run.log"
expect_no_sanitizer "no sanitizer report after kill -9" "$WORK/run2.log"
e2e_finish
