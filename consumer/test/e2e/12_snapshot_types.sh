#!/usr/bin/env bash
# 12_snapshot_types.sh: a snapshot row (op r) carries exactly the bytes the
# output plugin writes for the same row when it is streamed (op c), for
# every kind of type the plugin's regression test covers (test/regress
# decode_types) and a few more (timestamptz and bytea arrays, box arrays
# with their ';' delimiter, int2vector, money arrays, tstzrange, nested
# composite types, non-default array bounds, json, jsonb and json[] values
# that are JSON null), under a database whose TimeZone and DateStyle are
# not the defaults.
#
# `tributary run` with `snapshot: initial` creates the slot, copies rows
# 1-5 under the slot's exported snapshot, then streams; the same values are
# then inserted as rows 101-105.  Each snapshot image must equal the
# streamed image of id + 100, byte for byte (apart from the id), and so
# must its source.json_nulls (the plugin's json_nulls list).  Also
# checked: op, source.snapshot true/last, the key and that `tributary
# snapshot` (copy only) writes the same images, and that a table without a
# primary key is copied whole (one pass through a cursor) while
# snapshot_tables keeps it out of the first pipeline.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
e2e_setup
chmod 777 "$WORK"
pgc_psql -q -d postgres >/dev/null <<'SQL'
CREATE EXTENSION tributary;
ALTER DATABASE postgres SET TimeZone = 'America/St_Johns';
ALTER DATABASE postgres SET DateStyle = 'ISO, DMY';
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN public.posint AS int CHECK (VALUE > 0);
CREATE DOMAIN public.email AS text CHECK (VALUE LIKE '%@%');
CREATE TYPE public.addr AS (street text, zip int, tags text[]);
CREATE TYPE public.outer_t AS (a public.addr, at timestamptz, b bytea, n numeric);
CREATE TYPE public.floatrange AS RANGE (subtype = float8);
CREATE TABLE public.types (
    id int PRIMARY KEY,
    c_int2 int2, c_int4 int4, c_int8 int8, c_oid oid,
    c_float4 float4, c_float8 float8, c_numeric numeric, c_num_typmod numeric(12,2),
    c_money money, c_bool bool,
    c_text text, c_varchar varchar(10), c_bpchar char(5), c_name name, c_char "char",
    c_json json, c_jsonb jsonb, c_bytea bytea,
    c_date date, c_time time, c_timetz timetz, c_ts timestamp, c_tstz timestamptz,
    c_interval interval,
    c_uuid uuid, c_inet inet, c_cidr cidr, c_macaddr macaddr, c_bit bit(4), c_varbit varbit,
    c_enum public.mood, c_domain public.posint, c_domain_text public.email,
    c_composite public.addr, c_range int4range, c_userrange public.floatrange,
    c_multirange int4multirange, c_tsvector tsvector, c_point point, c_xml xml,
    c_int_arr int[], c_text_arr text[], c_2d numeric[], c_enum_arr public.mood[],
    c_comp_arr public.addr[], c_empty_arr int[],
    c_generated int GENERATED ALWAYS AS (c_int4 * 2) STORED,
    x_tstz_arr timestamptz[], x_bytea_arr bytea[], x_box_arr box[], x_int2vector int2vector,
    x_money_arr money[], x_tstzrange tstzrange, x_outer public.outer_t, x_bounds int[],
    x_json_arr jsonb[], x_date_arr date[], x_interval_arr interval[], x_float_arr float8[],
    x_jnull json, x_jbnull jsonb, x_jnull_arr json[]
);
SQL

# The rows, as decode_types inserts them, plus the extra columns.
rows() { # ID_OFFSET
    local o=$1
    cat <<SQL
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'German, DMY';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = -3;
INSERT INTO public.types (id, c_int2, c_int4, c_int8, c_oid, c_float4, c_float8,
    c_numeric, c_num_typmod, c_money, c_bool, c_text, c_varchar, c_bpchar, c_name,
    c_char, c_json, c_jsonb, c_bytea, c_date, c_time, c_timetz, c_ts, c_tstz,
    c_interval, c_uuid, c_inet, c_cidr, c_macaddr, c_bit, c_varbit, c_enum,
    c_domain, c_domain_text, c_composite, c_range, c_userrange, c_multirange,
    c_tsvector, c_point, c_xml, c_int_arr, c_text_arr, c_2d, c_enum_arr,
    c_comp_arr, c_empty_arr, x_tstz_arr, x_bytea_arr, x_box_arr, x_int2vector,
    x_money_arr, x_tstzrange, x_outer, x_bounds, x_json_arr, x_date_arr,
    x_interval_arr, x_float_arr, x_jnull, x_jbnull, x_jnull_arr)
VALUES ($o + 1, -32768, 1000000, -9223372036854775808, 4294967295, 0.1, 1.0000000000000002,
    '123456789012345678901234567890.123456789012345678901234567890', 1234567890.12,
    '-1234.56', true, E'tab\there "quote" back\\\\slash \u00e9\u4e2d\U0001F600 ctl\x01', 'varchar', 'ab', 'a_name',
    'x', '{"b": 1, "a": [true, null, "s"]}', '{"nested": {"k": [1, 2.5, "v"]}}', '\x0001feff',
    '2024-02-29', '23:59:59.999999', '12:00:00+05:30', '1999-12-31 23:59:59.5', '2024-06-01 12:00:00+02',
    '1 year 2 months 3 days 04:05:06.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '192.168.1.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'110',
    'happy', 42, 'me@example.com', ROW('Main St 1', 12345, '{a,b}'), '[1,10)', '[1.5,2.5]',
    '{[1,3), [5,7)}', 'a fat cat', '(1,2)', '<a>x</a>', '{1,NULL,3}', '{"a,b","c\"d",NULL}',
    '{{1.5,2},{3,NaN}}', '{sad,ok}', ARRAY[ROW('s', 1, '{}')::public.addr], '{}',
    ARRAY['2024-01-01 00:00:00+00', '0044-03-15 12:00:00+00 BC', 'infinity']::timestamptz[],
    ARRAY['\x00'::bytea, '', NULL, '\xdeadbeef'], ARRAY['(1,2),(3,4)'::box, '(0,0),(1,1)'],
    '1 2 3'::int2vector, ARRAY['12.34'::money, NULL], '["2024-01-01 10:00+01","2024-02-01 00:00+00")',
    ROW(ROW('in "q" (x)', NULL, '{"x y",NULL}')::public.addr, '2000-01-01 00:00:00.000001+00', '\x01', 'NaN')::public.outer_t,
    '[0:2]={7,8,9}', ARRAY['{"a": 1}'::jsonb, '[]'], ARRAY['10000-01-01'::date, '0001-01-01 BC'],
    ARRAY['-1 day 02:00'::interval, '0'], ARRAY[1e300::float8, -0.0, 'NaN', '-Infinity', 5e-324],
    ' null ', 'null', '{{"null",NULL},{"\\"s\\"","null"}}'),
   ($o + 2, NULL, NULL, NULL, NULL, 'NaN', 'Infinity', 'NaN', NULL, NULL, false, '', NULL, NULL, NULL,
    NULL, NULL, NULL, '', 'infinity', '24:00:00', '00:00:00-03:30:15', '-infinity', 'infinity',
    '-1 day -02:00:03.25', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, '[null]', NULL, '{NULL}'),
   ($o + 3, NULL, NULL, NULL, NULL, '-Infinity', '-0', 'Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, '0044-03-15 BC', NULL, NULL, '0044-03-15 12:00:00 BC', '10000-01-01 00:00:00+00',
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, 'null', '"null"', '{"null"}'),
   ($o + 4, NULL, NULL, NULL, NULL, 1e30, 1.5e-10, '-Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, '0001-01-01', NULL, NULL, '2000-01-01 00:00:00', '0001-01-01 00:00:00+00 BC',
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
   ($o + 5, NULL, NULL, NULL, NULL, NULL, NULL, 0.000, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '1970-01-01 00:00:00+00',
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
SQL
}
rows 0 | pgc_psql -q -d postgres >/dev/null
pgc_psql -q -d postgres -c "CREATE TABLE public.nopk (a int, b text)" \
    -c "INSERT INTO public.nopk SELECT g % 3, 'v' || g FROM generate_series(1, 7) g" >/dev/null

config() { # FILE OUT MODE [SNAPSHOT_TABLES]
    cat > "$1" <<EOF
pipeline: snaptypes
sources:
  main:
    type: postgres
    dsn: "$(pg_dsn)"
    snapshot: $3
    snapshot_tables: [${4:-}]
    snapshot_workers: 2
    snapshot_chunk_rows: 2
    heartbeat_interval_ms: 500
    status_interval_ms: 200
sinks:
  out:
    type: file
    path: "$2"
checkpoint:
  store: file
  path: "$2.ck"
http:
  enabled: false
EOF
}
config "$WORK/p.yaml" "$WORK/out.jsonl" initial public.types
"$BIN" check -c "$WORK/p.yaml" >/dev/null
start_consumer
wait_lines "$WORK/out.jsonl" 5 30 || true
rows 100 | pgc_psql -q -d postgres >/dev/null
wait_lines "$WORK/out.jsonl" 10 30 || true
stop_consumer
expect_eq "run exits 0 on SIGTERM" 0 "$STOP_RC"

# `tributary snapshot` into another file: the same images, copy only.
config "$WORK/q.yaml" "$WORK/copy.jsonl" never
"$BIN" snapshot -c "$WORK/q.yaml" >"$WORK/snap.log" 2>&1 && rc=0 || rc=$?
expect_eq "tributary snapshot exits 0" 0 "$rc"

# split.py FILE: per line "op id snapshot key after json_nulls" with after,
# key and source.json_nulls ("-" when absent) spliced out of the line byte
# for byte (raw_decode gives their end).
cat > "$WORK/split.py" <<'EOF'
import json, sys
dec = json.JSONDecoder()
for line in open(sys.argv[1], encoding="utf-8"):
    v = line.index('"after":') + len('"after":')
    after, end = dec.raw_decode(line, v)
    raw = line[v:end]
    k = line.index('"key":') + len('"key":')
    _, kend = dec.raw_decode(line, k)
    rec = json.loads(line)
    val = rec["value"]
    if "id" not in after:
        continue
    jn = "-"
    if "json_nulls" in val["source"]:
        j = line.index('"json_nulls":', line.index('"source":')) + len('"json_nulls":')
        _, jend = dec.raw_decode(line, j)
        jn = line[j:jend]
    print(val["op"], after["id"], val["source"]["snapshot"], line[k:kend],
          raw.replace('{"id":%d,' % after["id"], '{"id":_,', 1), jn, sep="\t")
EOF
python3 "$WORK/split.py" "$WORK/out.jsonl" > "$WORK/all.tsv"
python3 "$WORK/split.py" "$WORK/copy.jsonl" > "$WORK/copy.tsv"
expect_eq "5 snapshot rows then 5 streamed rows" "r r r r r c c c c c" \
    "$(cut -f1 "$WORK/all.tsv" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "snapshot rows are marked true, the last one last" "true true true true last" \
    "$(awk -F'\t' '$1=="r"{print $3}' "$WORK/all.tsv" | tr '\n' ' ' | sed 's/ $//')"
expect_eq "the key is the primary key object" '{"id":1}' \
    "$(awk -F'\t' '$1=="r" && $2==1 {print $4}' "$WORK/all.tsv")"
for id in 1 2 3 4 5; do
    snap=$(awk -F'\t' -v i=$id '$1=="r" && $2==i {print $5}' "$WORK/all.tsv")
    strm=$(awk -F'\t' -v i=$((id + 100)) '$1=="c" && $2==i {print $5}' "$WORK/all.tsv")
    copy=$(awk -F'\t' -v i=$id '$2==i {print $5}' "$WORK/copy.tsv")
    if [ "$snap" = "$strm" ] && [ -n "$snap" ]; then
        expect_eq "row $id: snapshot image equals the streamed image" same same
    else
        expect_eq "row $id: snapshot image equals the streamed image" "$strm" "$snap"
    fi
    expect_eq "row $id: tributary snapshot writes the same image" "$snap" "$copy"
    snap=$(awk -F'\t' -v i=$id '$1=="r" && $2==i {print $6}' "$WORK/all.tsv")
    strm=$(awk -F'\t' -v i=$((id + 100)) '$1=="c" && $2==i {print $6}' "$WORK/all.tsv")
    copy=$(awk -F'\t' -v i=$id '$2==i {print $6}' "$WORK/copy.tsv")
    expect_eq "row $id: the snapshot's JSON null list equals the stream's" "$strm" "$snap"
    expect_eq "row $id: tributary snapshot writes the same JSON null list" "$snap" "$copy"
done
expect_eq "JSON null: json (with white space), jsonb and json[] elements are listed" \
    '{"after":["x_jnull","x_jbnull",["x_jnull_arr",0,3]]}' \
    "$(awk -F'\t' '$1=="c" && $2==101 {print $6}' "$WORK/all.tsv")"
expect_eq "JSON null: [null], the string \"null\" and SQL NULL elements are not" \
    '2 - 3 {"after":["x_jnull",["x_jnull_arr",0]]} 4 -' \
    "$(awk -F'\t' '$1=="r" && $2>=2 && $2<=4 {print $2, $6}' "$WORK/all.tsv" | sort -n | tr '\n' ' ' | sed 's/ $//')"
expect_eq "tributary snapshot copied the 10 rows" 10 "$(wc -l < "$WORK/copy.tsv")"
expect_eq "the table without a primary key is copied whole, without a key" 7 \
    "$(grep '"table":"nopk"' "$WORK/copy.jsonl" | grep -c '"key":null,"value":{"before":null,"after":{"a":[0-9],"b":"v[0-9]"}')"
expect_eq "snapshot_tables kept it out of the first pipeline" 0 "$(grep -c '"table":"nopk"' "$WORK/out.jsonl")"
expect_no_sanitizer "no sanitizer report in $WORK/run.log" "$WORK/run.log"
expect_no_sanitizer "no sanitizer report in $WORK/snap.log" "$WORK/snap.log"
e2e_finish
