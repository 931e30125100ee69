-- UPDATE and DELETE under each REPLICA IDENTITY setting: "old" holds what
-- the WAL has (the old key, the full old row, or null).
CREATE TABLE public.ri_default (id int PRIMARY KEY, k2 int, v text);
CREATE TABLE public.ri_index (id int NOT NULL, code text NOT NULL, v text);
CREATE UNIQUE INDEX ri_index_code ON public.ri_index (code);
ALTER TABLE public.ri_index REPLICA IDENTITY USING INDEX ri_index_code;
CREATE TABLE public.ri_full (id int, v text, n numeric);
ALTER TABLE public.ri_full REPLICA IDENTITY FULL;
CREATE TABLE public.ri_nothing (id int PRIMARY KEY, v text);
ALTER TABLE public.ri_nothing REPLICA IDENTITY NOTHING;
CREATE TABLE public.ri_nokey (id int, v text);
INSERT INTO public.ri_default VALUES (1, 1, 'a'), (2, 2, 'b');
INSERT INTO public.ri_index VALUES (1, 'c1', 'a');
INSERT INTO public.ri_full VALUES (1, 'a', 1.5);
INSERT INTO public.ri_nothing VALUES (1, 'a');
INSERT INTO public.ri_nokey VALUES (1, 'a');

SELECT 'init' FROM pg_create_logical_replication_slot('ri', 'tributary');
-- DEFAULT: old key only when the key changes; delete always has it.
UPDATE public.ri_default SET v = 'a2' WHERE id = 1;
UPDATE public.ri_default SET id = 10 WHERE id = 2;
DELETE FROM public.ri_default WHERE id = 1;
-- INDEX: the index columns.
UPDATE public.ri_index SET code = 'c2' WHERE id = 1;
DELETE FROM public.ri_index WHERE id = 1;
-- FULL: the whole old row.
UPDATE public.ri_full SET v = 'b' WHERE id = 1;
DELETE FROM public.ri_full WHERE id = 1;
-- NOTHING, and DEFAULT without a primary key: no old data, old is null.
UPDATE public.ri_nothing SET v = 'b' WHERE id = 1;
DELETE FROM public.ri_nothing WHERE id = 1;
UPDATE public.ri_nokey SET v = 'b';
DELETE FROM public.ri_nokey;

SELECT * FROM public.trib_get('ri', 'include-transaction', '0');

SELECT pg_drop_replication_slot('ri');
DROP TABLE public.ri_default, public.ri_index, public.ri_full, public.ri_nothing, public.ri_nokey;
