-- JSON null: a json or jsonb value that is the JSON literal null reads like
-- SQL NULL in a row image, so the record lists such columns in
-- "json_nulls" (the new image) and "old_json_nulls" (the old image), only
-- when there are any.  Arrays of json/jsonb list the positions of their
-- JSON null elements: ["column", i, ...], counted row-major from 0.
CREATE DOMAIN public.jdom AS jsonb;
CREATE TYPE public.jpair AS (a json, b int);
CREATE TABLE public.jn (id int PRIMARY KEY, j json, jb jsonb, d public.jdom,
                        ja json[], jba jsonb[], c public.jpair, t text);
ALTER TABLE public.jn REPLICA IDENTITY FULL;
SELECT 'init' FROM pg_create_logical_replication_slot('jnulls', 'tributary');

-- 1: JSON null in every kind of column; json keeps its white space.  A
-- json attribute of a composite value is not listed (docs/PLUGIN.md).
INSERT INTO public.jn VALUES (1, ' null ', 'null', 'null',
    ARRAY['null'::json, NULL, '{"a": null}'], '{{"null",1},{NULL,"null"}}'::jsonb[],
    ROW('null', 1), 'null');
-- 2: SQL NULL everywhere: no list.
INSERT INTO public.jn VALUES (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
-- 3: values that merely contain null, or are the string "null": no list.
INSERT INTO public.jn VALUES (3, '[null]', '{"k": null}', '"null"', ARRAY[NULL::json], '{}', NULL, NULL);
-- Updates and deletes: the old image has its own list.
UPDATE public.jn SET jb = '{"x": 1}', t = 'u' WHERE id = 1;
UPDATE public.jn SET j = 'null' WHERE id = 2;
DELETE FROM public.jn WHERE id = 1;

SELECT d->>'kind' AS kind, d->'new'->'id' AS new_id, d->'old'->'id' AS old_id,
       d->'json_nulls' AS json_nulls, d->'old_json_nulls' AS old_json_nulls
  FROM (SELECT data::jsonb AS d
          FROM pg_logical_slot_peek_changes('jnulls', NULL, NULL, 'include-transaction', 'false')) s
 WHERE d->>'kind' <> 'relation';

-- The exact text: the lists come last, after unchanged_toast.
SELECT regexp_replace(r, '^.*"table":"jn",', '') AS tail
  FROM public.trib_raw('jnulls', 'include-transaction', 'false') r
 WHERE r NOT LIKE '{"kind":"relation"%';

-- With the default replica identity, the old key has no list (a key
-- cannot be null), and an unchanged TOAST json value is not listed.
CREATE TABLE public.jt (id int PRIMARY KEY, big jsonb, small json);
ALTER TABLE public.jt ALTER COLUMN big SET STORAGE EXTERNAL;
INSERT INTO public.jt VALUES (1, (SELECT jsonb_agg(g) FROM generate_series(1, 5000) g), '1');
UPDATE public.jt SET small = 'null' WHERE id = 1;
SELECT d->>'kind' AS kind, d->'unchanged_toast' AS unchanged_toast, d->'json_nulls' AS json_nulls
  FROM (SELECT data::jsonb AS d
          FROM pg_logical_slot_get_changes('jnulls', NULL, NULL, 'include-transaction', 'false',
                                           'include-tables', 'public.jt')) s
 WHERE d->>'kind' <> 'relation';

SELECT pg_drop_replication_slot('jnulls');
DROP TABLE public.jn, public.jt;
DROP TYPE public.jpair;
DROP DOMAIN public.jdom;
