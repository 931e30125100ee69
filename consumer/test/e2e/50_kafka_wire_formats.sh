#!/usr/bin/env bash
# 50_kafka_wire_formats.sh: the Kafka sink's value formats json_sr and
# avro (docs/FORMAT.md, "Wire formats") end to end, proved with a real
# Kafka client and the official Confluent deserializers
# (test/interop/kafka-wire-formats.test.mjs: kafkajs reads what tributary
# wrote into the mock cluster, @confluentinc/schemaregistry decodes it
# against the daemon's registry API).
#
#   1. `tributary check` refuses json_sr without the schema stage, and avro
#      with a stage that registers JSON Schema, naming the key;
#   2. one pipeline writes each change twice, as plain JSON and as json_sr:
#      the json_sr value is a 0 byte, the schema id of the row's version
#      (before and after ALTER TABLE ADD COLUMN), then the plain record
#      byte for byte, and the JsonDeserializer decodes it; a third pipeline
#      with a flatten rule writes the rows themselves as json_sr, which the
#      JsonDeserializer validates against the registered JSON Schema;
#   3. another pipeline (its own slot, the same changes) writes avro: the
#      AvroDeserializer decodes every row into the source's values (int,
#      bigint, numeric(10,2), float8, bool, text, date, timestamptz, bytea,
#      jsonb, int[], NULLs), each under its version's id, and a delete is
#      one null value;
#   4. keys (schemas.keys): `check` refuses key_format json_sr without
#      it; the JSON pipeline's json_sr keys and the avro pipeline's avro
#      keys carry the id of the table's key schema, registered once under
#      "<subject>-key", and the Confluent deserializers (SerdeType.KEY)
#      decode them into the source's keys.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
catalog_init "CREATE ROLE registry_api LOGIN IN ROLE tributary_reader, tributary_writer" \
    "CREATE TABLE public.t (id int PRIMARY KEY, big bigint, price numeric(10,2),
        ratio float8, ok bool, name text, day date, at timestamptz, blob bytea,
        doc jsonb, tags int[])" \
    -- tributary_wfj tributary_wfa tributary_wff
mock_start 1

# kafka_sink NAME TOPIC FORMAT [KEY_FORMAT]: one member of sinks:, writing
# table t to topic TOPIC.public.t (one topic prefix, so that the envelopes'
# source.name is the same in every sink).
kafka_sink() {
    printf '  %s:\n    type: kafka\n    bootstrap_servers: "%s"\n    topic_prefix: wf\n' "$1" "$BOOT"
    printf '    topic_pattern: "%s.${schema}.${table}"\n    value_format: %s\n' "$2" "$3"
    printf '    key_format: %s\n' "${4:-json}"
}

# ---- 1: the config check
{
    echo "pipeline: wfj"
    source_yaml
    echo "sinks:"
    kafka_sink sr wfjsr json_sr
} > "$WORK/bad.yaml"
rc=0
"$BIN" check -c "$WORK/bad.yaml" > "$WORK/check.out" 2>&1 || rc=$?
expect_eq "check refuses json_sr without schemas" 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)"
expect_grep "naming the key and what is accepted" "$WORK/check.out" \
    "sinks.sr.value_format: json_sr frames each value with its schema id, which needs the schema stage"
{ cat "$WORK/bad.yaml"; printf 'schemas:\n  enabled: true\n'; } | sed 's/json_sr/avro/' > "$WORK/bad2.yaml"
rc=0
"$BIN" check -c "$WORK/bad2.yaml" > "$WORK/check.out" 2>&1 || rc=$?
expect_grep "and avro with JSON Schema registration" "$WORK/check.out" \
    "sinks.sr.value_format: avro needs the schema stage to register Avro schemas"
{ cat "$WORK/bad.yaml"; printf 'schemas:\n  enabled: true\n'; } |
    sed 's/key_format: json/key_format: json_sr/; s/value_format: json_sr/value_format: json/' \
    > "$WORK/bad3.yaml"
rc=0
"$BIN" check -c "$WORK/bad3.yaml" > "$WORK/check.out" 2>&1 || rc=$?
expect_eq "check refuses key_format json_sr without schemas.keys" 1 "$([ "$rc" -ne 0 ] && echo 1 || echo 0)"
expect_grep "naming the key" "$WORK/check.out" \
    "sinks.sr.key_format: json_sr needs the schema stage to register key schemas \\(accepted: schemas.keys: true, or key_format: json\\)"

# ---- the changes: both slots see them
pgc_psql -d postgres \
    -c "INSERT INTO public.t VALUES (1, 1234567890123, -12.50, -0.0015, true, 'hé', '1969-12-31',
            '2024-06-01 10:00:00.25+00', '\x000102ff', '{\"a\": [1, null]}', '{1,NULL,3}')" \
    -c "INSERT INTO public.t (id) VALUES (2)" \
    -c "INSERT INTO public.t VALUES (3, 5, 99999999.99, 1e300, false, '', '2000-02-29',
            '1900-01-01 00:00:00+00', '', '[]', '{}')" \
    -c "UPDATE public.t SET name = 'x', price = 0.01 WHERE id = 2" \
    -c "DELETE FROM public.t WHERE id = 3" \
    -c "ALTER TABLE public.t ADD COLUMN extra text" \
    -c "INSERT INTO public.t (id, extra) VALUES (4, 'new')" \
    -c "UPDATE public.t SET extra = 'later' WHERE id = 1" >/dev/null
EVENTS=7

# json_pipeline NAME TRANSFORMS SINK...: run pipeline NAME (JSON Schema
# registration, the transforms YAML given, each SINK "name topic format")
# over every change, then stop it.
json_pipeline() {
    local name=$1 transforms=$2 sink
    shift 2
    {
        echo "pipeline: $name"
        source_yaml
        echo "$transforms"
        echo "sinks:"
        for sink in "$@"; do
            # shellcheck disable=SC2086
            kafka_sink $sink
        done
        cat <<'EOF'
schemas:
  enabled: true
  keys: true
  subject: "jsr.${schema}.${table}"
checkpoint: {store: catalog}
http: {listen: "127.0.0.1:0"}
EOF
    } > "$WORK/p.yaml"
    "$BIN" check -c "$WORK/p.yaml" >/dev/null
    : > "$WORK/run.log"
    start_consumer
    expect_eq "pipeline $name reads every change" t "$(slot_caught_up "tributary_$name")"
    stop_consumer
    expect_eq "and exits 0" 0 "$STOP_RC"
    expect_no_sanitizer "pipeline $name's log" "$WORK/run.log"
}

# ---- 2: plain JSON and json_sr from one pipeline
json_pipeline wfj "transforms: []" "plain wfplain json" "sr wfjsr json_sr" \
    "srk wfjsrkey json_sr json_sr"

# ---- 2b: json_sr of flattened rows (the value is the row, exactly the
# registered JSON Schema's shape: the interop test validates it)
json_pipeline wff "transforms: [{type: flatten, deletes: tombstone}]" "flat wfflat json_sr"

# ---- 3: avro from the second pipeline, which serves the registry API
{
    echo "pipeline: wfa"
    source_yaml
    echo "sinks:"
    kafka_sink av wfavro avro
    kafka_sink avk wfavrokey avro avro
    cat <<EOF
schemas:
  enabled: true
  keys: true
  format: avro
  subject: "avr.\${schema}.\${table}"
checkpoint: {store: catalog}
http: {listen: "127.0.0.1:0"}
schema_registry:
  enabled: true
  dsn: "host=$PGC_SOCK port=$PGC_PORT dbname=postgres user=registry_api"
  token_file: "$WORK/token"
  open_reads: true
EOF
} > "$WORK/p.yaml"
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$WORK/token"
chmod 600 "$WORK/token"
"$BIN" check -c "$WORK/p.yaml" >/dev/null
: > "$WORK/run.log"
start_consumer
expect_eq "the avro pipeline reads every change" t "$(slot_caught_up tributary_wfa)"
wait_log "$WORK/run.log" "serving /health" 10 || true
PORT=$(http_port)
expect_match "the registry API is up" '^[0-9]+$' "$PORT"

# The source rows at the end, in the forms the interop test decodes to.
q postgres "SELECT json_build_object('events', $EVENTS, 'deleted', json_build_array(3),
    'rows', json_agg(json_build_object('id', id, 'big', big::text,
        'price', (price * 100)::bigint::text, 'ratio', ratio, 'ok', ok, 'name', name,
        'day', day - date '1970-01-01', 'at', (extract(epoch FROM at) * 1000000)::bigint::text,
        'blob', encode(blob, 'hex'), 'doc', doc, 'tags', to_json(tags), 'extra', extra)))
    FROM public.t" > "$WORK/expect.json"
interop_test "kafkajs and the Confluent deserializers" kafka-wire-formats.test.mjs 7 \
    KAFKA_BOOTSTRAP="$BOOT" SR_URL="http://127.0.0.1:$PORT" EXPECT="$WORK/expect.json" \
    TOPIC_PLAIN=wfplain.public.t TOPIC_JSON_SR=wfjsr.public.t TOPIC_AVRO=wfavro.public.t \
    TOPIC_FLAT=wfflat.public.t TOPIC_JSON_SR_KEY=wfjsrkey.public.t \
    TOPIC_AVRO_KEY=wfavrokey.public.t \
    SUBJECT_JSON=jsr.public.t SUBJECT_AVRO=avr.public.t
stop_consumer
expect_eq "the avro pipeline exits 0" 0 "$STOP_RC"
expect_no_sanitizer "the avro pipeline's log" "$WORK/run.log"
e2e_finish
