-- timestamp and timestamptz columns, and the commit time "ts": the plugin
-- formats them itself (pg_ext/src/jsonout.c: the date part once per day, the
-- time of day by division), and must write what PostgreSQL's ISO output
-- writes, with "T" for the space and, for timestamptz, "Z" for "+00".  Many
-- values are decoded through a slot and each is compared with its ::text
-- under DateStyle ISO and TimeZone UTC.  The expected output is the
-- comparison's count of differences: 0.
SET DateStyle = ISO;
SET TimeZone = 'UTC';
CREATE TABLE public.ts_gen (id int PRIMARY KEY, ts timestamp, tz timestamptz);
SELECT 'init' FROM pg_create_logical_replication_slot('tsgen', 'tributary');

-- Hand-picked: the epoch of 2000-01-01 and the microseconds on each side,
-- 1970, leap days, the ends of the range of four-digit years, every length
-- of fraction.
INSERT INTO public.ts_gen
SELECT row_number() OVER (), v::timestamp, v::timestamptz FROM (VALUES
  ('2000-01-01 00:00:00'), ('2000-01-01 00:00:00.000001'),
  ('1999-12-31 23:59:59.999999'), ('1999-12-31 00:00:00'),
  ('1970-01-01 00:00:00'), ('1969-12-31 23:59:59.5'),
  ('0001-01-01 00:00:00'), ('0001-01-01 00:00:00.000001'),
  ('9999-12-31 23:59:59.999999'), ('2000-02-29 12:00:00'),
  ('1900-02-28 23:59:59.1'), ('1900-03-01 00:00:00'), ('2100-03-01 00:00:00'),
  ('2024-02-29 23:59:59.99'), ('1600-01-01 00:00:00.123'),
  ('2026-12-07 05:40:00.1'), ('2026-12-07 05:40:00.12'),
  ('2026-12-07 05:40:00.123'), ('2026-12-07 05:40:00.1234'),
  ('2026-12-07 05:40:00.12345'), ('2026-12-07 05:40:00.123456'),
  ('2026-12-07 05:40:00.100001'), ('2026-12-07 05:40:00.000010'),
  ('2026-12-07 23:59:59.999999'), ('2026-12-08 00:00:00')
) AS t(v);

-- Runs through midnight, after and before 2000 (negative timestamps), in
-- order (the same day over and over, then the next), and in a row whose two
-- columns are on different days (a new day at every value).
INSERT INTO public.ts_gen
SELECT 100 + g, timestamp '2023-12-31 23:58:00' + g * interval '0.37 second',
       timestamptz '1999-12-31 23:59:00+00' + g * interval '0.0731 second'
  FROM generate_series(0, 1999) g;
INSERT INTO public.ts_gen
SELECT 3000 + g, timestamp '1969-12-31 23:59:59.9' + g * interval '1 ms',
       timestamptz '1700-06-01 00:00:00+00' + g * interval '1 day 1 hour 1.000001 second'
  FROM generate_series(0, 499) g;

-- Random values in years 1 to 9999, to the microsecond.
SELECT setseed(0.4);
INSERT INTO public.ts_gen
SELECT 10000 + g,
       timestamp '0001-01-01' + (random() * 3652058)::int * interval '1 day'
         + (random() * 86400000000)::bigint * interval '1 microsecond',
       timestamptz '0001-01-01 00:00:00+00' + (random() * 3652058)::int * interval '1 day'
         + (random() * 86400000000)::bigint * interval '1 microsecond'
  FROM generate_series(1, 3000) g;

CREATE TEMP TABLE ts_decoded AS
SELECT (data::jsonb->'new'->>'id')::int AS id,
       data::jsonb->'new'->>'ts' AS ts, data::jsonb->'new'->>'tz' AS tz
  FROM pg_logical_slot_get_changes('tsgen', NULL, NULL)
 WHERE data LIKE '{"kind":"insert"%';

-- Every row decoded once, with the plugin's text identical to PostgreSQL's.
SELECT (SELECT count(*) FROM public.ts_gen) AS generated,
       (SELECT count(*) FROM ts_decoded) AS decoded,
       count(*) FILTER (WHERE d.ts IS DISTINCT FROM replace(g.ts::text, ' ', 'T')) AS ts_differ,
       count(*) FILTER (WHERE d.tz IS DISTINCT FROM
                        regexp_replace(replace(g.tz::text, ' ', 'T'), '\+00$', 'Z')) AS tz_differ
  FROM public.ts_gen g JOIN ts_decoded d USING (id);

-- Outside four-digit years and the infinities, where PostgreSQL's ISO
-- output differs ("BC"): the plugin's signed ISO 8601 years.
INSERT INTO public.ts_gen VALUES
  (90001, '0001-12-31 23:59:59.5 BC', '0001-12-31 23:59:59.5+00 BC'),
  (90002, '4713-01-01 00:00:00 BC', '4713-01-01 00:00:00+00 BC'),
  (90003, '10000-01-01 00:00:00', '10000-01-01 00:00:00+00'),
  (90004, '294276-12-31 23:59:59.999999', '294276-12-31 23:59:59.999999+00'),
  (90005, 'infinity', '-infinity');
SELECT (data::jsonb->'new'->>'id')::int AS id,
       data::jsonb->'new'->>'ts' AS ts, data::jsonb->'new'->>'tz' AS tz
  FROM pg_logical_slot_get_changes('tsgen', NULL, NULL)
 WHERE data LIKE '{"kind":"insert"%';

-- The commit time of a transaction ("ts" of begin and commit) is the
-- commit's timestamp, formatted the same way.
CREATE TEMP TABLE ts_commit AS SELECT now() AS t0;
INSERT INTO public.ts_gen VALUES (90010, NULL, NULL);
SELECT count(*) AS records,
       bool_and((data::jsonb->>'ts')::timestamptz BETWEEN (SELECT t0 FROM ts_commit) AND now() + interval '1 hour') AS ts_in_range,
       bool_and(data::jsonb->>'ts' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$') AS ts_iso
  FROM pg_logical_slot_get_changes('tsgen', NULL, NULL)
 WHERE data::jsonb->>'kind' IN ('begin', 'commit');

SELECT pg_drop_replication_slot('tsgen');
DROP TABLE public.ts_gen;
RESET DateStyle;
RESET TimeZone;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
