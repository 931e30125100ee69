-- stream=true: large in-progress transactions are streamed before their
-- commit (logical_decoding_work_mem is 64kB in the test cluster).  After
-- dropping what stream_abort withdraws, the streamed changes carry exactly
-- the event ids the same transaction gets without streaming.
CREATE TABLE public.big (id int PRIMARY KEY, pad text);
SELECT 'init' FROM pg_create_logical_replication_slot('strm', 'tributary');
SELECT 'copy' FROM pg_copy_logical_replication_slot('strm', 'plain');

BEGIN;
INSERT INTO public.big SELECT g, repeat('x', 100) FROM generate_series(1, 2000) g;
SAVEPOINT s1;
INSERT INTO public.big SELECT g, repeat('y', 100) FROM generate_series(3001, 3800) g;
ROLLBACK TO s1;
INSERT INTO public.big SELECT g, 'z' FROM generate_series(4001, 4010) g;
SAVEPOINT s2;
INSERT INTO public.big VALUES (5001, 'kept');
RELEASE s2;
SELECT 'msg' FROM pg_logical_emit_message(true, 'strm', 'inside');
COMMIT;
-- A streamed transaction that aborts.
BEGIN;
INSERT INTO public.big SELECT g, repeat('w', 100) FROM generate_series(10001, 12000) g;
ROLLBACK;

CREATE TEMP TABLE s AS
  SELECT row_number() OVER () AS n, data::jsonb AS d
    FROM pg_logical_slot_get_changes('strm', NULL, NULL, 'stream', 'on');
CREATE TEMP TABLE p AS
  SELECT row_number() OVER () AS n, data::jsonb AS d
    FROM pg_logical_slot_get_changes('plain', NULL, NULL);

-- The stream's control records.
SELECT d->>'kind' AS kind, count(*) > 0 AS seen, bool_and(d ? 'xid') AS tagged
  FROM s WHERE d->>'kind' LIKE 'stream%' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS subxact_aborts FROM s WHERE d->>'kind' = 'stream_abort' AND d ? 'subxid';
-- Changes really went out before the commit, in several blocks.
SELECT count(*) FILTER (WHERE d->>'kind' = 'stream_start') > 1 AS several_blocks,
       count(*) FILTER (WHERE d ? 'seq' AND n < (SELECT max(n) FROM s WHERE d->>'kind' = 'stream_start')) > 100 AS sent_early
  FROM s;
-- No begin/commit for streamed transactions; stream_commit closes them.
SELECT count(*) FILTER (WHERE d->>'kind' = 'begin') AS begins,
       count(*) FILTER (WHERE d->>'kind' = 'stream_commit') AS stream_commits
  FROM s;

-- A consumer's view: changes of the committed transaction, minus those of
-- aborted subtransactions, in stream order.
CREATE TEMP TABLE committed AS
  SELECT d->>'xid' AS xid, d->>'commit_lsn' AS commit_lsn, (d->>'changes')::int AS changes
    FROM s WHERE d->>'kind' = 'stream_commit';
CREATE TEMP TABLE kept AS
  SELECT c.commit_lsn, (x.d->>'seq')::int AS seq, x.d->>'kind' AS kind, x.d->'new'->>'id' AS id, x.n
    FROM s x JOIN committed c ON x.d->>'xid' = c.xid
   WHERE x.d ? 'seq'
     AND coalesce(x.d->>'subxid', '') NOT IN
         (SELECT d->>'subxid' FROM s WHERE d->>'kind' = 'stream_abort' AND d ? 'subxid');
SELECT count(*) AS kept, min(seq), max(seq), count(DISTINCT seq) AS distinct_seq FROM kept;
-- Identical (commit_lsn, seq, kind, id) to the plain decoding.
SELECT (SELECT count(*) FROM kept) AS streamed,
       (SELECT count(*) FROM p WHERE d ? 'seq') AS plain,
       (SELECT count(*) FROM (
          SELECT commit_lsn, seq, kind, id FROM kept
          EXCEPT
          SELECT d->>'commit_lsn', (d->>'seq')::int, d->>'kind', d->'new'->>'id' FROM p WHERE d ? 'seq') x) AS differing,
       (SELECT changes FROM committed) AS commit_changes,
       (SELECT max((d->>'changes')::int) FROM p WHERE d->>'kind' = 'commit') AS plain_commit_changes;
-- Seq increases in stream order among the kept changes.
SELECT bool_and(ok) AS seq_in_order FROM (
  SELECT coalesce(seq > lag(seq) OVER (ORDER BY n), true) AS ok FROM kept) x;

-- resume-after with streaming: the commit says what the point covers.
BEGIN;
INSERT INTO public.big SELECT g, repeat('v', 100) FROM generate_series(20001, 21000) g;
COMMIT;
SELECT 'copy' FROM pg_copy_logical_replication_slot('strm', 'strm2');
CREATE TEMP TABLE s2 AS SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('strm', NULL, NULL, 'stream', 'on');
SELECT d->>'commit_lsn' AS lsn3 FROM s2 WHERE d->>'kind' = 'stream_commit' \gset
SELECT d - '{xid,commit_lsn,end_lsn,ts}'::text[] AS commit_rec
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('strm', NULL, NULL, 'stream', 'on', 'resume-after', :'lsn3' || ':499')) x
 WHERE d->>'kind' = 'stream_commit';
SELECT d - '{xid,commit_lsn,end_lsn,ts}'::text[] AS commit_rec
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('strm', NULL, NULL, 'stream', 'on', 'resume-after', :'lsn3')) x
 WHERE d->>'kind' = 'stream_commit';
-- Without stream=on the same slot decodes normally.
SELECT count(*) FILTER (WHERE data LIKE '{"kind":"stream%') AS stream_records,
       count(*) FILTER (WHERE data LIKE '{"kind":"insert"%') AS inserts
  FROM pg_logical_slot_peek_changes('strm', NULL, NULL);

SELECT pg_drop_replication_slot('strm');
SELECT pg_drop_replication_slot('strm2');
SELECT pg_drop_replication_slot('plain');
DROP TABLE public.big;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
