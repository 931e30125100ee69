-- Bad options are errors that name the option and what it accepts; odd
-- tables and huge values decode correctly.  Nothing crashes the backend.
CREATE TABLE public.bad (id int PRIMARY KEY, v text);
SELECT 'init' FROM pg_create_logical_replication_slot('bad', 'tributary');
INSERT INTO public.bad VALUES (1, 'x');

SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'no-such-option', '1');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'include-transaction', 'maybe');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'skip-empty-xacts', '2');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'bytea-encoding', 'base32');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'actions', 'insert,upsert');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'actions', 'insert,,delete');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'actions', '');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'include-tables', 'noschema');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'include-tables', 'a.b.c');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'exclude-tables', '"unterminated.x');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'exclude-tables', 'public.');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'message-prefixes', 'a,');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'origin', 'somewhere');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'resume-after', 'garbage');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'resume-after', '0/0');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'resume-after', '0/16B3748:');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'resume-after', '0/16B3748:-1');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'resume-after', '0/16B3748:1x');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'resume-after', '0/16B3748:99999999999999999999');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'resume-after', '');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'batch-bytes', '-1');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'batch-bytes', '16777217');
SELECT data FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'batch-bytes', '64k');
-- The backend survived all of that and still decodes: begin, relation,
-- insert, commit.  Empty transactions are left out: a previous test's
-- backend may still be dropping its temporary tables at exit, a
-- transaction of its own that can commit after this slot was created.
SELECT count(*) AS records FROM pg_logical_slot_peek_changes('bad', NULL, NULL, 'skip-empty-xacts', 'true');

-- A 100 MB text value decodes whole.
CREATE TABLE public.huge (id int PRIMARY KEY, t text);
SELECT 'init' FROM pg_create_logical_replication_slot('huge', 'tributary');
INSERT INTO public.huge VALUES (1, repeat('0123456789', 10 * 1024 * 1024));
SELECT length(data) > 100 * 1024 * 1024 AS long_record,
       length(data::jsonb->'new'->>'t') AS value_length,
       md5(data::jsonb->'new'->>'t') = md5(repeat('0123456789', 10 * 1024 * 1024)) AS intact
  FROM pg_logical_slot_get_changes('huge', NULL, NULL, 'include-transaction', 'false')
 WHERE data LIKE '{"kind":"insert"%';
SELECT pg_drop_replication_slot('huge');
DROP TABLE public.huge;

SELECT pg_drop_replication_slot('bad');
DROP TABLE public.bad;
