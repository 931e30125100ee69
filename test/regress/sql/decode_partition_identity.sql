--
-- decode_partition_identity: with publish-via-root, "old" and the relation
-- record's replica identity describe what the WAL holds, and that is the
-- partition's REPLICA IDENTITY, not the root's: PostgreSQL does not pass
-- ALTER TABLE ... REPLICA IDENTITY on a partitioned table on to its
-- partitions, and logs the old row of each change by the partition's own
-- setting.  A column the WAL does not have is left out of "old"; it is never
-- written as null.  Without publish-via-root the partition's own record and
-- images come out as before, and both streams agree.
--
\set VERBOSITY terse

-- The kind, replica identity, key and images of each record but begin/commit.
CREATE FUNCTION pg_temp.pi_rows(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS TABLE (kind text, tbl text, ri text, ik jsonb, old jsonb, new jsonb)
LANGUAGE sql AS $$
  SELECT d->>'kind', d->>'table', d->>'replica_identity', d->'identity_key',
         d->'old', d->'new'
    FROM (SELECT data::jsonb AS d
            FROM pg_catalog.pg_logical_slot_peek_changes(slot, NULL, NULL,
                                                         VARIADIC opts)) s
   WHERE d->>'kind' NOT IN ('begin', 'commit')
$$;

-- The root is FULL, its partitions keep DEFAULT (their primary key) or have
-- their own setting; pi_d's columns are in another order than the root's.
CREATE TABLE public.pi (id int, k text, v int, PRIMARY KEY (id)) PARTITION BY RANGE (id);
CREATE TABLE public.pi_a PARTITION OF public.pi FOR VALUES FROM (0) TO (10);
CREATE TABLE public.pi_b PARTITION OF public.pi FOR VALUES FROM (10) TO (20);
CREATE TABLE public.pi_c PARTITION OF public.pi FOR VALUES FROM (20) TO (30);
CREATE TABLE public.pi_d (v int, k text NOT NULL, id int NOT NULL, PRIMARY KEY (id));
CREATE UNIQUE INDEX pi_d_k ON public.pi_d (k);
ALTER TABLE public.pi ATTACH PARTITION public.pi_d FOR VALUES FROM (30) TO (40);
ALTER TABLE public.pi REPLICA IDENTITY FULL;
ALTER TABLE public.pi_b REPLICA IDENTITY FULL;
ALTER TABLE public.pi_c REPLICA IDENTITY NOTHING;
ALTER TABLE public.pi_d REPLICA IDENTITY USING INDEX pi_d_k;
SELECT c.relname, c.relreplident FROM pg_class c
 WHERE c.relname IN ('pi', 'pi_a', 'pi_b', 'pi_c', 'pi_d') ORDER BY 1;
INSERT INTO public.pi VALUES (1, 'a', 1), (2, 'b', 2), (11, 'c', 11),
  (12, 'd', 12), (21, 'e', 21), (31, 'f', 31), (32, 'g', 32);

SELECT 'init' FROM pg_create_logical_replication_slot('pi', 'tributary');
UPDATE public.pi SET v = 10 WHERE id = 1;
UPDATE public.pi SET id = 3 WHERE id = 2;
DELETE FROM public.pi WHERE id = 3;
UPDATE public.pi SET v = 110 WHERE id = 11;
DELETE FROM public.pi WHERE id = 12;
DELETE FROM public.pi WHERE id = 21;
UPDATE public.pi SET k = 'f2' WHERE id = 31;
DELETE FROM public.pi WHERE id = 32;
-- The root's identity changes back to DEFAULT: the images do not, since the
-- partitions' settings did not change.
ALTER TABLE public.pi REPLICA IDENTITY DEFAULT;
DELETE FROM public.pi WHERE id = 1;
-- A partition's own change of identity, inside a transaction.
BEGIN;
ALTER TABLE public.pi_a REPLICA IDENTITY FULL;
INSERT INTO public.pi VALUES (4, 'h', 4);
DELETE FROM public.pi WHERE id = 4;
ALTER TABLE public.pi_a REPLICA IDENTITY DEFAULT;
INSERT INTO public.pi VALUES (5, 'i', 5);
DELETE FROM public.pi WHERE id = 5;
COMMIT;

SELECT * FROM pg_temp.pi_rows('pi', 'publish-via-root', 'on');
-- The same changes per partition: the same old images, under their names.
SELECT * FROM pg_temp.pi_rows('pi');
-- Both streams carry the same old images, change by change.
SELECT count(*) AS changes,
       count(*) FILTER (WHERE r.old IS DISTINCT FROM l.old) AS old_differs
  FROM (SELECT row_number() OVER () AS n, old FROM pg_temp.pi_rows('pi', 'publish-via-root', 'on')
         WHERE kind <> 'relation') r
  JOIN (SELECT row_number() OVER () AS n, old FROM pg_temp.pi_rows('pi')
         WHERE kind <> 'relation') l USING (n);

SELECT pg_drop_replication_slot('pi');
DROP TABLE public.pi;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
