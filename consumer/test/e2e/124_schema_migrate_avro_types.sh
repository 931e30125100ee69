#!/usr/bin/env bash
# 124_schema_migrate_avro_types.sh: a migration (`schemas.migrations`,
# pinned to version 1) across ALTERs that keep a column's name and change
# its type, with `value_format: avro`: every record is stamped with
# version 1's id, so it must be encoded with version 1's schema.
#
#   0. public.m (id int PRIMARY KEY, qty int, ratio real, flag boolean
#      NOT NULL) is version 1:
#      its rows are read, and the daemon stops;
#   1. one transaction drops qty and adds it again as text, turns ratio
#      into double precision, drops flag and writes a row (version 2: the
#      same field names but flag, other types).  The restarted daemon meets that shape first,
#      so no relation of version 1's shape tells the Avro encoder what id
#      1 is.  A migration whose steps do not bring those types back stops
#      the daemon before the first event of version 2 (exit 1), naming
#      the subject, the versions, the field and both types, as
#      `tributary check` says before it runs (it used to
#      publish that row as version 1, encoded with version 2's types: qty
#      a string, ratio a double, which version 1's schema decodes wrong);
#      the registry keeps version 2 (registered first);
#   2. with casts back to version 1's types, and flag added with a
#      default (so NOT NULL, as in version 1), the daemon resumes at that
#      event; later rows of version 2, a NULL among them, follow;
#   3. the catalog ends the stage's connection (pg_terminate_backend),
#      then ADD COLUMN (version 3, its column dropped by a step): the
#      stage registers it on a new connection, and the pipeline is not
#      restarted (that would send again what it had not confirmed);
#   then a real client (test/interop/schema-migrate-avro.test.mjs:
#   kafkajs and the Confluent AvroDeserializer, which fetches each
#   record's schema from the daemon's registry API by the id in its
#   header) decodes every record with version 1's schema into the values
#   the source wrote, and each record's headers say version 1.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
catalog_init "CREATE ROLE registry_api LOGIN IN ROLE tributary_reader, tributary_writer" \
    "CREATE TABLE public.m (id int PRIMARY KEY, qty int, ratio real, flag boolean NOT NULL)" \
    "SELECT tributary.set_compatibility(NULL, 'NONE')" \
    -- tributary_sma
mock_start 1
SUBJECT=main.public.m
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/token"
chmod 600 "$WORK/token"

# pipeline STEPS: $WORK/p.yaml, Avro to the mock cluster, the registry API
# served, the migration of public.m to version 1 with STEPS (YAML flow
# maps, one a line).
pipeline() {
    {
        echo "pipeline: sma"
        source_yaml
        cat <<EOF2
sinks:
  k:
    type: kafka
    bootstrap_servers: "$BOOT"
    topic_prefix: sma
    value_format: avro
    schema_headers: true
schemas:
  enabled: true
  format: avro
  migrations:
    - subject: $SUBJECT
      target: 1
      steps:
$1
checkpoint: {store: catalog}
http: {listen: "127.0.0.1:0"}
schema_registry:
  enabled: true
  dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=registry_api"
  token_file: "$WORK/token"
  open_reads: true
EOF2
    } > "$WORK/p.yaml"
    "$BIN" check -c "$WORK/p.yaml" >/dev/null
}

# ---- 0: version 1's rows, read by a daemon that then stops (its steps
# give version 2 version 1's names, not its types)
pipeline "        - {add: flag, default: 'true', type: boolean}"
pgc_psql -d postgres -c "INSERT INTO public.m VALUES (1, 1, 0.5, false)" \
    -c "INSERT INTO public.m VALUES (2, 2, 0.75, true)" >/dev/null
start_consumer
expect_eq "version 1's rows are read" t "$(slot_caught_up tributary_sma)"
stop_consumer
expect_eq "and the daemon stops cleanly" 0 "$STOP_RC"

# ---- 1: one transaction drops qty and adds it again as text, turns ratio
# into double precision and writes a row; the next run meets that shape
# first (no row of version 1's shape before it in the process)
pgc_psql -d postgres >/dev/null <<'SQL'
BEGIN;
ALTER TABLE public.m DROP COLUMN qty;
ALTER TABLE public.m ADD COLUMN qty text;
ALTER TABLE public.m ALTER COLUMN ratio TYPE double precision;
ALTER TABLE public.m DROP COLUMN flag;
INSERT INTO public.m (id, qty, ratio) VALUES (3, '7', 0.25);
COMMIT;
SQL
"$BIN" check -c "$WORK/p.yaml" > "$WORK/check.out" 2>&1 || true
expect_grep "tributary check says so first, as a problem" "$WORK/check.out" \
    "subject $SUBJECT: after migration rules, field qty is [^ ]*\"string\"[^ ]* but [^ ]*\"int\"[^ ]* in version 1; \`run\` stops before the first event of this shape"
expect_grep "one problem" "$WORK/check.out" "^1 problem\(s\) found"
start_consumer
wait_exit 30
expect_eq "a migration that leaves a field of another type stops the daemon (exit 1)" 1 "$EXIT_RC"
expect_grep "it names the subject, the versions, the field and both types" "$WORK/run.log" \
    "migration of subject $SUBJECT from version 2 to 1: after the steps, field qty is [^ ]*\"string\"[^ ]* but [^ ]*\"int\"[^ ]* in version 1 \\(accepted: a cast step"
expect_eq "version 2 is registered before the refusal" 2 \
    "$(q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = '$SUBJECT'")"

# ---- 2: casts back to version 1's types
pipeline "        - {cast: qty, as: integer, type: integer}
        - {cast: ratio, as: number, type: real}
        - {add: flag, default: 'true', type: boolean}
        - {drop: note}"
: > "$WORK/run.log"
start_consumer
pgc_psql -d postgres -c "UPDATE public.m SET qty = '8', ratio = 1.5 WHERE id = 3" \
    -c "INSERT INTO public.m (id, ratio) VALUES (4, -2.5)" >/dev/null
expect_eq "the daemon reads every change" t "$(slot_caught_up tributary_sma)"
# ---- 3: the catalog ends the stage's connection (idle_session_timeout, a
# pooler, an administrator); the next shape is registered on a new one,
# without restarting the pipeline (which would send again what it had not
# confirmed)
expect_eq "the stage's catalog connection is ended" t \
    "$(q postgres "SELECT bool_or(pg_terminate_backend(pid)) FROM pg_stat_activity
                   WHERE application_name = 'tributary-schemas'")"
pgc_psql -d postgres -c "ALTER TABLE public.m ADD COLUMN note text" \
    -c "INSERT INTO public.m (id, qty, ratio, note) VALUES (5, '9', 3.5, 'n')" >/dev/null
expect_eq "the daemon reads the new shape's row" t "$(slot_caught_up tributary_sma)"
expect_eq "version 3 is registered" 3 \
    "$(q postgres "SELECT count(*) FROM tributary.schema_versions WHERE subject = '$SUBJECT'")"
expect_no_grep "the pipeline was not restarted for it" "$WORK/run.log" "lost its database connection"
expect_eq "one start of the pipeline in this run" 1 "$(grep -c "starting pipeline sma" "$WORK/run.log")"
wait_log "$WORK/run.log" "serving /health" 10 || true
PORT=$(http_port)
expect_match "the registry API is up" '^[0-9]+$' "$PORT"
cat > "$WORK/expect.json" <<'EOF2'
[{"id": 1, "qty": 1, "ratio": 0.5, "flag": false},
 {"id": 2, "qty": 2, "ratio": 0.75, "flag": true},
 {"id": 3, "qty": 7, "ratio": 0.25, "flag": true},
 {"id": 3, "qty": 8, "ratio": 1.5, "flag": true},
 {"id": 4, "qty": null, "ratio": -2.5, "flag": true},
 {"id": 5, "qty": 9, "ratio": 3.5, "flag": true}]
EOF2
interop_test "kafkajs and the Confluent AvroDeserializer" schema-migrate-avro.test.mjs 1 \
    KAFKA_BOOTSTRAP="$BOOT" SR_URL="http://127.0.0.1:$PORT" EXPECT="$WORK/expect.json" \
    TOPIC=sma.public.m SUBJECT="$SUBJECT"
stop_consumer
expect_eq "the daemon exits 0" 0 "$STOP_RC"
expect_no_sanitizer "the daemon's log" "$WORK/run.log"
e2e_finish
