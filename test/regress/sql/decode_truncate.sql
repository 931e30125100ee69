-- TRUNCATE, with its CASCADE and RESTART IDENTITY flags and several tables.
CREATE TABLE public.tr_parent (id serial PRIMARY KEY);
CREATE TABLE public.tr_child (id int PRIMARY KEY, parent int REFERENCES public.tr_parent);
CREATE TABLE public.tr_other (id int);
INSERT INTO public.tr_parent DEFAULT VALUES;
INSERT INTO public.tr_child VALUES (1, 1);
SELECT 'init' FROM pg_create_logical_replication_slot('tr', 'tributary');

TRUNCATE public.tr_other;
TRUNCATE public.tr_parent RESTART IDENTITY CASCADE;
TRUNCATE public.tr_other, public.tr_child;

SELECT * FROM public.trib_peek('tr', 'include-transaction', 'false');
-- A filter keeps only the selected tables; a truncate of none is not sent,
-- but it still counts towards seq (ids do not depend on filters).
SELECT * FROM public.trib_get('tr', 'exclude-tables', 'public.tr_child,public.tr_other');
-- actions without truncate drop them all.
TRUNCATE public.tr_other;
SELECT * FROM public.trib_get('tr', 'actions', 'insert,update,delete', 'skip-empty-xacts', 'on');

SELECT pg_drop_replication_slot('tr');
DROP TABLE public.tr_child, public.tr_parent, public.tr_other;
