-- jsonb columns: the plugin writes jsonb itself (pg_ext/src/jsonbout.c),
-- and must write exactly the bytes of jsonb's text output.  Many values
-- are decoded through a slot, the plugin's text of each is cut out of its
-- record, and compared with the value's ::text.  The expected output is the
-- comparison's count of differences: 0.
CREATE TABLE public.jb_gen (id int PRIMARY KEY, j jsonb);
SELECT 'init' FROM pg_create_logical_replication_slot('jbgen', 'tributary');

-- Hand-picked values: empty containers, raw scalars, every escape,
-- unicode, numerics big and tiny, duplicate keys, long keys, deep nesting.
INSERT INTO public.jb_gen
SELECT row_number() OVER (), v::jsonb FROM (VALUES
  ('{}'), ('[]'), ('[[]]'), ('[{}]'), ('{"a": {}}'), ('{"a": []}'),
  ('null'), ('true'), ('false'), ('0'), ('-0'), ('0.0'), ('-0.000'),
  ('1'), ('-1'), ('1.5'), ('1e3'), ('1E-3'), ('-1.25e+10'), ('1e-300'),
  ('123456789012345678901234567890.123456789012345678901234567890'),
  ('1e1000'), ('-9.99999999999999999999e-999'), ('0.1000000'),
  ('""'), ('"x"'), ('"null"'), ('"true"'), ('[null]'), ('[null, null]'),
  ('{"k": null}'), ('[true, false, null, 0, "", [], {}]'),
  ('"\" \\ \/ \b \f \n \r \t"'),
  ('"\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u000b\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f\u007f"'),
  ('"é ü ß 漢字 😀 \u00e9 \u6f22 \ud83d\ude00 \u2028 \u2029 \ufeff"'),
  ('{"é": "ü", "漢": ["字", {"😀": "\n"}]}'),
  ('{"quote\"key": "back\\slash", "a\u0001b": 1}'),
  ('{"a": 1, "a": 2, "b": 3, "b": {"c": 4, "c": 5}}'),
  ('{"b": 1, "a": 2, "aa": 3, "": 4, "ab": 5}'),
  ('{"  ": "  ", "\t": "\t"}'),
  ('[1, [2, [3, [4, [5, [6, [7, [8, [9, [10]]]]]]]]]]'),
  ('{"a": {"b": {"c": {"d": {"e": {"f": {"g": {}}}}}}}}'),
  ('[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]'),
  ('"' || repeat('long string ', 500) || '"'),
  ('{"' || repeat('k', 3000) || '": "' || repeat('v', 3000) || '"}')
) AS t(v);

-- More than 32 children per container (jsonb then stores an offset in
-- every 32nd entry instead of a length), of mixed kinds and lengths.
INSERT INTO public.jb_gen
SELECT 1000 + n, (SELECT jsonb_agg(CASE i % 6
           WHEN 0 THEN to_jsonb(repeat('s', i % 40))
           WHEN 1 THEN to_jsonb(i * 1.5)
           WHEN 2 THEN to_jsonb(i % 4 = 0)
           WHEN 3 THEN 'null'::jsonb
           WHEN 4 THEN jsonb_build_object('i', i, 'n', repeat('x', i % 7))
           ELSE jsonb_build_array(i, -i, to_jsonb(i::text)) END)
          FROM generate_series(1, n) i)
FROM generate_series(30, 140, 11) n;
INSERT INTO public.jb_gen
SELECT 2000 + n, (SELECT jsonb_object_agg('key' || i || repeat('_', i % 9),
           CASE i % 4 WHEN 0 THEN to_jsonb(i) WHEN 1 THEN to_jsonb(repeat('v', i))
                      WHEN 2 THEN jsonb_build_array(i, jsonb_build_object('deep', i))
                      ELSE to_jsonb(i % 3 = 0) END)
          FROM generate_series(1, n) i)
FROM generate_series(30, 140, 11) n;

-- Random documents: strings over all of Unicode's planes and every control
-- character, numerics of every scale, containers nested up to 6 deep.
CREATE FUNCTION pg_temp.rnd_str() RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(CASE WHEN r < 0.15 THEN chr(1 + (random() * 30)::int)
                         WHEN r < 0.25 THEN (ARRAY['"', '\', '/', E'\x7f'])[1 + (random() * 3)::int]
                         WHEN r < 0.35 THEN chr(128 + (random() * 1900)::int)
                         WHEN r < 0.40 THEN chr(19968 + (random() * 20000)::int)
                         WHEN r < 0.45 THEN chr(65536 + (random() * 60000)::int)
                         ELSE chr(32 + (random() * 94)::int) END, '')
    FROM (SELECT random() AS r FROM generate_series(0, (random() * 12)::int)) s
$$;
CREATE FUNCTION pg_temp.rnd_num() RETURNS jsonb LANGUAGE sql AS $$
  SELECT to_jsonb(CASE (random() * 5)::int
      WHEN 0 THEN (random() * 10)::int::numeric
      WHEN 1 THEN round((random() - 0.5)::numeric * 1e6, (random() * 8)::int)
      WHEN 2 THEN random()::numeric * power(10::numeric, (random() * 60)::int - 30)
      WHEN 3 THEN -(random() * 1e18)::bigint::numeric
      WHEN 4 THEN trunc(random()::numeric, 20) * 1e-100
      ELSE 0.000 END)
$$;
CREATE FUNCTION pg_temp.rnd_json(depth int) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
  k int := (random() * (CASE WHEN depth > 0 THEN 7 ELSE 4 END))::int;
  n int := (random() * 6)::int;
  res jsonb;
BEGIN
  CASE k
    WHEN 0 THEN RETURN 'null';
    WHEN 1 THEN RETURN to_jsonb(random() < 0.5);
    WHEN 2 THEN RETURN pg_temp.rnd_num();
    WHEN 3, 4 THEN RETURN to_jsonb(pg_temp.rnd_str());
    WHEN 5 THEN
      res := '[]';
      FOR i IN 1..n LOOP res := res || jsonb_build_array(pg_temp.rnd_json(depth - 1)); END LOOP;
      RETURN res;
    ELSE
      res := '{}';
      FOR i IN 1..n LOOP
        res := res || jsonb_build_object(pg_temp.rnd_str(), pg_temp.rnd_json(depth - 1));
      END LOOP;
      RETURN res;
  END CASE;
END $$;
SELECT setseed(0.15);
INSERT INTO public.jb_gen SELECT 10000 + g, pg_temp.rnd_json(6) FROM generate_series(1, 3000) g;

-- Cut each value out of its insert record ("new":{"id":N,"j":VALUE}, then
-- "}" or a json_nulls list) and compare it with jsonb's own text.
CREATE TEMP TABLE jb_decoded AS
SELECT (data::jsonb->'new'->>'id')::int AS id,
       regexp_replace(data, ',"json_nulls":\["j"\]}$', '}') AS rec
  FROM pg_logical_slot_get_changes('jbgen', NULL, NULL)
 WHERE data LIKE '{"kind":"insert"%';
CREATE TEMP TABLE jb_cmp AS
SELECT g.id, g.j::text AS jsonb_out_text,
       substr(d.rec, p, length(d.rec) - p - 1) AS plugin_text
  FROM public.jb_gen g
  JOIN jb_decoded d USING (id)
  CROSS JOIN LATERAL (SELECT strpos(d.rec, '"new":{"id":' || g.id || ',"j":')
                             + length('"new":{"id":' || g.id || ',"j":') AS p) x;

-- Every row decoded once, with the plugin's text identical to jsonb's.
SELECT (SELECT count(*) FROM public.jb_gen) AS generated,
       (SELECT count(*) FROM jb_decoded) AS decoded,
       (SELECT count(*) FROM jb_cmp) AS compared,
       (SELECT count(*) FROM jb_cmp WHERE plugin_text IS DISTINCT FROM jsonb_out_text) AS differ;
-- The differing values, if any, to read in the diff.
SELECT id, jsonb_out_text, plugin_text FROM jb_cmp
 WHERE plugin_text IS DISTINCT FROM jsonb_out_text ORDER BY id LIMIT 5;
-- The generator covered what it was meant to.
SELECT count(*) FILTER (WHERE jsonb_out_text ~ '\\u00') > 0 AS u_escapes,
       count(*) FILTER (WHERE jsonb_out_text ~ '[\\][bfnrt"\\]') > 0 AS named_escapes,
       count(*) FILTER (WHERE jsonb_out_text ~ '[^\x01-\x7f]') > 0 AS non_ascii,
       count(*) FILTER (WHERE jsonb_out_text ~ '0\.0{50}') > 0 AS tiny_numbers,
       count(*) FILTER (WHERE jsonb_out_text ~ '[0-9]{25}') > 0 AS big_numbers,
       count(*) FILTER (WHERE jsonb_out_text ~ '^[^[{]') > 0 AS raw_scalars,
       max(length(jsonb_out_text)) > 6000 AS long_values
  FROM jb_cmp;

SELECT 'drop' FROM pg_drop_replication_slot('jbgen');
DROP TABLE public.jb_gen;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DROP TABLE jb_cmp, jb_decoded;
DROP FUNCTION pg_temp.rnd_json(int), pg_temp.rnd_num(), pg_temp.rnd_str();
