-- Values of every kind of type, and that each record parses as JSON.
CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN public.posint AS int CHECK (VALUE > 0);
CREATE DOMAIN public.email AS text CHECK (VALUE LIKE '%@%');
CREATE TYPE public.addr AS (street text, zip int, tags text[]);
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
    c_generated int GENERATED ALWAYS AS (c_int4 * 2) STORED
);
SELECT 'init' FROM pg_create_logical_replication_slot('types', 'tributary');

-- Session settings that must not change what the plugin writes.
SET TimeZone = 'Asia/Kolkata';
SET DateStyle = 'German, DMY';
SET IntervalStyle = 'sql_standard';
SET extra_float_digits = -3;
SET lc_monetary = 'C';

INSERT INTO public.types (id, c_int2, c_int4, c_int8, c_oid, c_float4, c_float8,
    c_numeric, c_num_typmod, c_money, c_bool, c_text, c_varchar, c_bpchar, c_name,
    c_char, c_json, c_jsonb, c_bytea, c_date, c_time, c_timetz, c_ts, c_tstz,
    c_interval, c_uuid, c_inet, c_cidr, c_macaddr, c_bit, c_varbit, c_enum,
    c_domain, c_domain_text, c_composite, c_range, c_userrange, c_multirange,
    c_tsvector, c_point, c_xml, c_int_arr, c_text_arr, c_2d, c_enum_arr,
    c_comp_arr, c_empty_arr)
VALUES (1, -32768, 1000000, -9223372036854775808, 4294967295, 0.1, 1.0000000000000002,
    '123456789012345678901234567890.123456789012345678901234567890', 1234567890.12,
    '-1234.56', true, E'tab\there "quote" back\\slash \u00e9\u4e2d\U0001F600 ctl\x01', 'varchar', 'ab', 'a_name',
    'x', '{"b": 1, "a": [true, null, "s"]}', '{"nested": {"k": [1, 2.5, "v"]}}', '\x0001feff',
    '2024-02-29', '23:59:59.999999', '12:00:00+05:30', '1999-12-31 23:59:59.5', '2024-06-01 12:00:00+02',
    '1 year 2 months 3 days 04:05:06.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    '192.168.1.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', B'1010', B'110',
    'happy', 42, 'me@example.com', ROW('Main St 1', 12345, '{a,b}'), '[1,10)', '[1.5,2.5]',
    '{[1,3), [5,7)}', 'a fat cat', '(1,2)', '<a>x</a>', '{1,NULL,3}', '{"a,b","c\"d",NULL}',
    '{{1.5,2},{3,NaN}}', '{sad,ok}', ARRAY[ROW('s', 1, '{}')::public.addr], '{}');

-- Special values: NaN and infinities are strings, never null.
INSERT INTO public.types (id, c_float4, c_float8, c_numeric, c_date, c_ts, c_tstz)
VALUES (2, 'NaN', 'Infinity', 'NaN', 'infinity', '-infinity', 'infinity'),
       (3, '-Infinity', '-0', 'Infinity', '0044-03-15 BC', '0044-03-15 12:00:00 BC', '10000-01-01 00:00:00+00'),
       (4, 1e30, 1.5e-10, '-Infinity', '0001-01-01', '2000-01-01 00:00:00', '1970-01-01 00:00:00+00'),
       (5, NULL, NULL, 0.000, NULL, NULL, NULL);

-- The records parse as JSON (each cast to jsonb) and carry these values.
SELECT jsonb_pretty(d->'new') FROM (
  SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('types', NULL, NULL)) s
 WHERE d->>'kind' = 'insert' AND (d->'new'->>'id')::int = 1;
SELECT d->'new' FROM (
  SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('types', NULL, NULL)) s
 WHERE d->>'kind' = 'insert' AND (d->'new'->>'id')::int > 1;

-- Floats as written (jsonb would reformat them): shortest exact text.
SELECT substring(data from '"c_float4":[^,]*') AS f4, substring(data from '"c_float8":[^,]*') AS f8
  FROM pg_logical_slot_peek_changes('types', NULL, NULL)
 WHERE data LIKE '{"kind":"insert"%' ORDER BY data;

-- JSON types: numbers are numbers, json/jsonb are objects, arrays are arrays.
SELECT key, jsonb_typeof(value) FROM (
  SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('types', NULL, NULL)) s,
  jsonb_each(d->'new')
 WHERE d->>'kind' = 'insert' AND (d->'new'->>'id')::int = 1 ORDER BY key;

-- The numeric arrives with every digit.
SELECT (d->'new'->>'c_numeric')::numeric = '123456789012345678901234567890.123456789012345678901234567890'::numeric AS numeric_exact,
       d->'new'->'c_numeric' AS raw
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('types', NULL, NULL)) s
 WHERE d->>'kind' = 'insert' AND (d->'new'->>'id')::int = 1;

-- The relation record names every type (user types lose their OIDs here).
SELECT c->>'name' AS col, c->>'type' AS type, c->>'typmod' AS typmod, c->>'nullable' AS nullable
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('types', NULL, NULL)) s,
       jsonb_array_elements(d->'columns') c
 WHERE d->>'kind' = 'relation';

-- bytea-encoding=hex.
SELECT d->'new'->'c_bytea' AS hex FROM (
  SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('types', NULL, NULL, 'bytea-encoding', 'hex')) s
 WHERE d->>'kind' = 'insert' AND (d->'new'->>'id')::int = 1;

-- The same WAL decoded under other session settings gives the same bytes.
CREATE TEMP TABLE a AS SELECT data FROM pg_logical_slot_peek_changes('types', NULL, NULL);
RESET ALL;
SET TimeZone = 'UTC';
SELECT count(*) AS records,
       (SELECT count(*) FROM (SELECT data FROM a EXCEPT SELECT data FROM pg_logical_slot_peek_changes('types', NULL, NULL)) x) AS differing
  FROM a;

SELECT pg_drop_replication_slot('types');
DROP TABLE public.types;
DROP TYPE public.addr, public.mood, public.floatrange;
DROP DOMAIN public.posint, public.email;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
