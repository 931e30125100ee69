--
-- decode_stream_interleaved: a streamed transaction that changed the
-- catalogs (an enum label, a schema name) keeps its own view of them in
-- every block it streams, also when another transaction was decoded between
-- two blocks and filled the caches with the committed view.  A prepared
-- transaction lets one session commit another transaction between the
-- streamed transaction's changes and its commit: PostgreSQL streams the
-- first blocks while decoding its inserts (logical_decoding_work_mem is
-- 64kB in the test cluster) and the rest at COMMIT PREPARED, after the
-- other transaction.  The streamed rows must equal those of the same
-- transaction decoded without streaming.
--
\set VERBOSITY terse

CREATE TYPE public.si_mood AS ENUM ('calm', 'other');
CREATE SCHEMA si_a;
CREATE TABLE si_a.t (id int PRIMARY KEY, m public.si_mood, pad text);
SELECT 'init' FROM pg_create_logical_replication_slot('si', 'tributary');
SELECT 'copy' FROM pg_copy_logical_replication_slot('si', 'si_plain');

BEGIN;
ALTER TYPE public.si_mood RENAME VALUE 'calm' TO 'serene';
ALTER SCHEMA si_a RENAME TO si_b;
INSERT INTO si_b.t SELECT g, 'serene', repeat('p', 100) FROM generate_series(1, 700) g;
PREPARE TRANSACTION 'si_prep';
-- Committed while the prepared transaction is open: the old names.
INSERT INTO si_a.t VALUES (100000, 'calm', 'between');
COMMIT PREPARED 'si_prep';
INSERT INTO si_b.t VALUES (100001, 'serene', 'after');

CREATE TEMP TABLE s AS
  SELECT row_number() OVER () AS n, data::jsonb AS d
    FROM pg_logical_slot_get_changes('si', NULL, NULL, 'stream', 'on');
CREATE TEMP TABLE p AS
  SELECT row_number() OVER () AS n, data::jsonb AS d
    FROM pg_logical_slot_get_changes('si_plain', NULL, NULL);

-- The prepared transaction was streamed in several blocks, and the other
-- transaction was decoded between two of them.
SELECT count(*) FILTER (WHERE d->>'kind' = 'stream_start') > 1 AS several_blocks,
       (SELECT n FROM s WHERE d->'new'->>'pad' = 'between')
         BETWEEN min(n) FILTER (WHERE d->>'kind' = 'stream_start')
             AND max(n) FILTER (WHERE d->>'kind' = 'stream_start') AS interleaved
  FROM s;
-- Each change's names and enum label, streamed and plain: the prepared
-- transaction's rows all have its names, the other's the old ones.
SELECT d->>'schema' AS schema, d->'new'->>'m' AS m,
       CASE WHEN (d->'new'->>'id')::int < 100000 THEN 'prepared'
            ELSE d->'new'->>'pad' END AS txn, count(*)
  FROM s WHERE d->>'kind' = 'insert' GROUP BY 1, 2, 3 ORDER BY 3, 1, 2;
SELECT d->>'schema' AS schema, d->'new'->>'m' AS m,
       CASE WHEN (d->'new'->>'id')::int < 100000 THEN 'prepared'
            ELSE d->'new'->>'pad' END AS txn, count(*)
  FROM p WHERE d->>'kind' = 'insert' GROUP BY 1, 2, 3 ORDER BY 3, 1, 2;
-- Every change comes after a relation record with its own schema name: the
-- one last written before it, in stream order.
SELECT count(*) AS inserts,
       count(*) FILTER (WHERE r.d->>'schema' IS DISTINCT FROM c.d->>'schema') AS wrong_relation
  FROM s c
  JOIN LATERAL (SELECT d FROM s WHERE d->>'kind' = 'relation' AND n < c.n
                ORDER BY n DESC LIMIT 1) r ON true
 WHERE c.d->>'kind' = 'insert';

SELECT pg_drop_replication_slot('si');
SELECT pg_drop_replication_slot('si_plain');
DROP SCHEMA si_b CASCADE;
DROP TYPE public.si_mood;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
