-- INSERT, UPDATE, DELETE, begin/commit and relation records, and the
-- transaction options.
CREATE TABLE public.basic (id int PRIMARY KEY, name text, qty int NOT NULL DEFAULT 0);
SELECT 'init' FROM pg_create_logical_replication_slot('basic', 'tributary');

INSERT INTO public.basic (id, name, qty) VALUES (1, 'one', 10);
BEGIN;
INSERT INTO public.basic (id, name) VALUES (2, 'two'), (3, NULL);
UPDATE public.basic SET qty = qty + 1 WHERE id = 2;
DELETE FROM public.basic WHERE id = 3;
COMMIT;

-- Exact text of the records (key order and formatting), volatile tags masked.
SELECT * FROM public.trib_raw('basic');

-- A relation record comes once per session: a second session repeats it.
UPDATE public.basic SET name = 'uno' WHERE id = 1;
SELECT * FROM public.trib_get('basic');

-- include-transaction=false leaves out begin and commit.
INSERT INTO public.basic (id, name) VALUES (4, 'four');
SELECT * FROM public.trib_get('basic', 'include-transaction', 'false');

-- Boolean options accept PostgreSQL's boolean words (a bare option, which
-- means true, is tested through the walsender in test/tap).
INSERT INTO public.basic (id, name) VALUES (5, 'five');
SELECT * FROM public.trib_get('basic', 'include-transaction', 'no', 'skip-empty-xacts', 'yes');

-- skip-empty-xacts: a transaction with no change for us (here: only a
-- change to an excluded table, and one with only DDL) produces nothing ...
CREATE TABLE public.basic_other (id int PRIMARY KEY);
INSERT INTO public.basic_other VALUES (1);
SELECT * FROM public.trib_peek('basic', 'exclude-tables', 'public.basic_other');
SELECT * FROM public.trib_peek('basic', 'exclude-tables', 'public.basic_other', 'skip-empty-xacts', 'true');
-- ... and still lets the slot advance past it.
SELECT confirmed_flush_lsn AS before_lsn FROM pg_replication_slots WHERE slot_name = 'basic' \gset
SELECT count(*) FROM pg_logical_slot_get_changes('basic', NULL, NULL, 'exclude-tables', 'public.basic_other', 'skip-empty-xacts', 'true');
SELECT confirmed_flush_lsn > :'before_lsn'::pg_lsn AS advanced FROM pg_replication_slots WHERE slot_name = 'basic';

-- Many rows in one transaction: no collecting into one buffer, one record
-- per change, seq 0..n-1 and a commit that counts them.
INSERT INTO public.basic (id, name) SELECT g, 'n' || g FROM generate_series(100, 5099) g;
SELECT count(*) FILTER (WHERE d->>'kind' = 'insert') AS inserts,
       min((d->>'seq')::int) AS min_seq, max((d->>'seq')::int) AS max_seq,
       count(DISTINCT d->>'seq') FILTER (WHERE d->>'kind' = 'insert') AS distinct_seq,
       max((d->>'changes')::int) AS commit_changes
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_get_changes('basic', NULL, NULL)) s;

SELECT pg_drop_replication_slot('basic');
DROP TABLE public.basic, public.basic_other;

-- batch-bytes: several records share one message, one per line (the
-- walsender default); the SQL functions send one record per row unless asked.
CREATE TABLE public.batched (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('batch', 'tributary');
INSERT INTO public.batched SELECT generate_series(1, 100);
SELECT count(*) AS rows_default FROM pg_logical_slot_peek_changes('batch', NULL, NULL);
-- (How many messages depends on the length of LSNs and timestamps.)
SELECT count(*) BETWEEN 2 AND 60 AS several_messages,
       sum(array_length(string_to_array(data, E'\n'), 1)) AS records,
       bool_and(NOT EXISTS (SELECT 1 FROM unnest(string_to_array(data, E'\n')) l WHERE l::jsonb IS NULL)) AS each_line_json
  FROM pg_logical_slot_peek_changes('batch', NULL, NULL, 'batch-bytes', '1000');
SELECT pg_drop_replication_slot('batch');
DROP TABLE public.batched;

-- With batch-bytes, a record that closes a transaction ends the message it
-- shares with the transaction's other records (one message, one send, per
-- small transaction; through a walsender the message takes the commit's
-- end position, test/tap/002_walsender.pl).
CREATE TABLE public.batched1 (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('batch1', 'tributary');
INSERT INTO public.batched1 VALUES (1);
INSERT INTO public.batched1 VALUES (2);
SELECT count(*) AS messages,
       string_agg((SELECT string_agg(l::jsonb->>'kind', ' ')
                     FROM unnest(string_to_array(data, E'\n')) l), ' | ' ORDER BY lsn) AS records,
       bool_and(lsn = (regexp_replace(data, '^.*\n', '')::jsonb->>'end_lsn')::pg_lsn) AS at_commit_end
  FROM pg_logical_slot_peek_changes('batch1', NULL, NULL, 'batch-bytes', '65536');
SELECT pg_drop_replication_slot('batch1');
DROP TABLE public.batched1;
