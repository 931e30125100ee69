-- The relation record comes again when the schema changes, and only then.
CREATE TABLE public.evolve (id int PRIMARY KEY, a text);
ALTER TABLE public.evolve REPLICA IDENTITY FULL;
INSERT INTO public.evolve VALUES (0, 'before');
SELECT 'init' FROM pg_create_logical_replication_slot('evo', 'tributary');
INSERT INTO public.evolve VALUES (1, 'x');
ANALYZE public.evolve;
CREATE INDEX evolve_a ON public.evolve (a);
INSERT INTO public.evolve VALUES (2, 'y');
ALTER TABLE public.evolve ADD COLUMN b int NOT NULL DEFAULT 7;
INSERT INTO public.evolve VALUES (3, 'z', 8);
-- A row written before ADD COLUMN: its old image gets the default.
DELETE FROM public.evolve WHERE id = 0;
ALTER TABLE public.evolve RENAME COLUMN a TO aa;
ALTER TABLE public.evolve ALTER COLUMN b TYPE bigint;
INSERT INTO public.evolve VALUES (4, 'w', 9);
ALTER TABLE public.evolve DROP COLUMN aa;
INSERT INTO public.evolve VALUES (5, 10);

SELECT d->>'kind' AS kind,
       CASE WHEN d->>'kind' = 'relation' THEN jsonb_path_query_array(d, '$.columns[*].type') END AS types,
       CASE WHEN d->>'kind' = 'relation' THEN jsonb_path_query_array(d, '$.columns[*].name') END AS cols,
       coalesce(d->'new', d->'old') AS row
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_get_changes('evo', NULL, NULL)) s
 WHERE d->>'kind' NOT IN ('begin', 'commit');

SELECT pg_drop_replication_slot('evo');
DROP TABLE public.evolve;
