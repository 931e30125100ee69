-- Position tags: xid, commit_lsn, lsn, seq, ts on every change; the event
-- id (commit_lsn, seq) is unique and totally ordered in stream order.
CREATE TABLE public.pos (id int PRIMARY KEY, v text);
SELECT 'init' FROM pg_create_logical_replication_slot('pos', 'tributary');
INSERT INTO public.pos VALUES (1, 'a');
BEGIN;
INSERT INTO public.pos VALUES (2, 'b');
SAVEPOINT s1;
INSERT INTO public.pos VALUES (3, 'c');
ROLLBACK TO s1;
INSERT INTO public.pos VALUES (4, 'd');
UPDATE public.pos SET v = 'aa' WHERE id = 1;
SELECT 'msg' FROM pg_logical_emit_message(true, 'pos', 'm');
COMMIT;
INSERT INTO public.pos SELECT g, 'x' FROM generate_series(10, 12) g;
TRUNCATE public.pos;

CREATE TEMP TABLE out AS
  SELECT row_number() OVER () AS n, data::jsonb AS d
    FROM pg_logical_slot_peek_changes('pos', NULL, NULL);

-- The changes (the rolled-back savepoint's row is not there).
SELECT n, d->>'kind' AS kind, d->>'seq' AS seq, d->'new' AS new
  FROM out WHERE d ? 'seq' ORDER BY n;

-- Every change carries all tags, with sane values.
SELECT bool_and(d ? 'xid' AND d ? 'commit_lsn' AND d ? 'lsn' AND d ? 'seq' AND d ? 'ts') AS all_tagged,
       bool_and((d->>'lsn')::pg_lsn <= (d->>'commit_lsn')::pg_lsn) AS lsn_before_commit,
       bool_and((d->>'ts')::timestamptz BETWEEN now() - interval '1 hour' AND now() + interval '1 hour') AS ts_recent,
       bool_and((d->>'xid')::bigint > 0) AS xid_set
  FROM out WHERE d ? 'seq';

-- Within a transaction: one xid, one commit_lsn, one ts, and seq counts
-- 0..n-1; begin and commit carry the same tags; commit counts the changes.
SELECT count(*) AS transactions,
       bool_and(xids = 1 AND tss = 1) AS one_xid_one_ts,
       bool_and(seqs = (SELECT array_agg(g) FROM generate_series(0, commit_changes - 1) g)) AS seq_dense
  FROM (SELECT d->>'commit_lsn' AS c, count(DISTINCT d->>'xid') AS xids,
               count(DISTINCT d->>'ts') AS tss,
               array_agg((d->>'seq')::int ORDER BY n) FILTER (WHERE d ? 'seq') AS seqs,
               max((d->>'changes')::int) AS commit_changes
          FROM out GROUP BY d->>'commit_lsn') t;

-- (commit_lsn, seq) is unique and increases strictly in stream order.
SELECT count(*) = count(DISTINCT (d->>'commit_lsn', d->>'seq')) AS ids_unique,
       bool_and(ok) AS ids_increasing
  FROM (SELECT d, coalesce(((d->>'commit_lsn')::pg_lsn, (d->>'seq')::int) >
                 lag(((d->>'commit_lsn')::pg_lsn, (d->>'seq')::int)) OVER (ORDER BY n), true) AS ok
          FROM out WHERE d ? 'seq') s;

-- commit_lsn is the commit record's LSN, end_lsn lies after it, and
-- transactions arrive in commit order.
SELECT bool_and(end_ok) AS end_after_commit, bool_and(order_ok) AS commit_order
  FROM (SELECT (d->>'end_lsn')::pg_lsn > (d->>'commit_lsn')::pg_lsn AS end_ok,
               coalesce((d->>'commit_lsn')::pg_lsn > lag((d->>'commit_lsn')::pg_lsn) OVER (ORDER BY n), true) AS order_ok
          FROM out WHERE d->>'kind' = 'commit') s;

-- ts is the commit timestamp in ISO 8601 UTC whatever the session says.
SET TimeZone = 'America/New_York';
SET DateStyle = 'SQL, DMY';
SELECT bool_and(d->>'ts' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$') AS iso_utc
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('pos', NULL, NULL)) s
 WHERE d ? 'ts';
RESET TimeZone;
RESET DateStyle;

SELECT pg_drop_replication_slot('pos');
DROP TABLE public.pos;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
