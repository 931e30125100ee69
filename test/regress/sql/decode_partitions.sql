-- Partitioned tables: by default changes name the leaf partition; with
-- publish-via-root they name the root and use its column order.
CREATE TABLE public.meas (id int, region text, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE public.meas_eu PARTITION OF public.meas FOR VALUES IN ('eu');
CREATE TABLE public.meas_us (v int, region text NOT NULL, id int NOT NULL, PRIMARY KEY (id, region));
ALTER TABLE public.meas ATTACH PARTITION public.meas_us FOR VALUES IN ('us');
SELECT 'init' FROM pg_create_logical_replication_slot('part', 'tributary');
INSERT INTO public.meas VALUES (1, 'eu', 10), (2, 'us', 20);
UPDATE public.meas SET v = 21 WHERE id = 2;
UPDATE public.meas SET region = 'us' WHERE id = 1;
TRUNCATE public.meas;

SELECT d->>'kind' AS kind, d->>'table' AS tbl, d->'old' AS old, d->'new' AS new, d->'relations' AS relations
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('part', NULL, NULL)) s
 WHERE d ? 'seq';
SELECT d->>'kind' AS kind, d->>'table' AS tbl, d->'old' AS old, d->'new' AS new, d->'relations' AS relations
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('part', NULL, NULL, 'publish-via-root', 'true')) s
 WHERE d ? 'seq';
-- The root's relation record, once.
SELECT d->>'table' AS tbl, d->'primary_key' AS pk, jsonb_path_query_array(d, '$.columns[*].name') AS cols
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('part', NULL, NULL, 'publish-via-root', 'true')) s
 WHERE d->>'kind' = 'relation';
-- Filters apply to the published name.
SELECT count(*) AS via_root_selected
  FROM pg_logical_slot_peek_changes('part', NULL, NULL, 'publish-via-root', '1', 'include-tables', 'public.meas')
 WHERE data::jsonb ? 'seq';
SELECT count(*) AS leaf_pattern_with_root
  FROM pg_logical_slot_peek_changes('part', NULL, NULL, 'publish-via-root', '1', 'include-tables', 'public.meas_*')
 WHERE data::jsonb ? 'seq';

SELECT pg_drop_replication_slot('part');
DROP TABLE public.meas;
