-- resume-after=<commit_lsn>[:<seq>]: changes at or before the event id are
-- suppressed inside PostgreSQL, so a consumer that restarts from its own
-- checkpoint receives no duplicate, even from an older slot position.
-- Wait until this is the database's only session: a session that ended
-- with temporary objects drops them in a transaction of its own as it
-- exits, and if that commits after the slot below is made it shows up as
-- one more (empty) transaction in this test's stream.
DO $$
BEGIN
  FOR i IN 1..3000 LOOP
    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity
                           WHERE datname = pg_catalog.current_database()
                             AND pid <> pg_catalog.pg_backend_pid()
                             AND backend_type = 'client backend');
    PERFORM pg_catalog.pg_sleep(0.01);
  END LOOP;
END
$$;
CREATE TABLE public.res (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('res', 'tributary');
-- A copy at the same position stands for the slot's state before a crash.
SELECT 'copy' FROM pg_copy_logical_replication_slot('res', 'res_old');

INSERT INTO public.res VALUES (1);
BEGIN;
INSERT INTO public.res VALUES (2), (3), (4);
SELECT 'msg' FROM pg_logical_emit_message(true, 'res', 'in txn');
COMMIT;
INSERT INTO public.res VALUES (5);

CREATE TEMP TABLE full_stream AS
  SELECT row_number() OVER () AS n, data::jsonb AS d
    FROM pg_logical_slot_peek_changes('res', NULL, NULL);
SELECT d->>'commit_lsn' AS b_lsn FROM full_stream WHERE d->'new'->>'id' = '2' \gset
SELECT d->>'commit_lsn' AS a_lsn FROM full_stream WHERE d->'new'->>'id' = '1' \gset
SELECT d->>'commit_lsn' AS c_lsn FROM full_stream WHERE d->'new'->>'id' = '5' \gset

CREATE FUNCTION pg_temp.after(point text) RETURNS SETOF text LANGUAGE sql AS $$
  SELECT (d->>'kind') || coalesce(' seq=' || (d->>'seq'), '') || coalesce(' id=' || (d->'new'->>'id'), '')
    FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('res', NULL, NULL, 'resume-after', point)) s
   WHERE d->>'kind' <> 'relation'
$$;
-- Inside the second transaction: its begin and commit frame what is left.
SELECT * FROM pg_temp.after(:'b_lsn' || ':1');
SELECT * FROM pg_temp.after(:'b_lsn' || ':3');
-- The last change of a transaction: only begin and commit remain ...
SELECT * FROM pg_temp.after(:'b_lsn' || ':4');
-- ... and with skip-empty-xacts nothing of it.
SELECT (d->>'kind') AS kind, d->'new'->>'id' AS id
  FROM pg_logical_slot_peek_changes('res', NULL, NULL, 'resume-after', :'b_lsn' || ':4', 'skip-empty-xacts', '1') x,
       LATERAL (SELECT x.data::jsonb AS d) s WHERE d->>'kind' <> 'relation';
-- A bare LSN means the whole transaction committed there is done.
SELECT * FROM pg_temp.after(:'b_lsn');
SELECT * FROM pg_temp.after(:'a_lsn' || ':0');
-- A point past everything suppresses everything.
SELECT * FROM pg_temp.after(:'c_lsn');
-- A point before everything suppresses nothing.
SELECT count(*) = (SELECT count(*) FROM pg_logical_slot_peek_changes('res', NULL, NULL)) AS all_back
  FROM pg_logical_slot_peek_changes('res', NULL, NULL, 'resume-after', '0/1');

-- Restart from an older position.  The consumer processed the stream up to
-- (b_lsn, 1) and checkpointed; the slot "res" moved on, but after a crash
-- decoding restarts from "res_old", whose position is older.
SELECT count(*) > 0 AS consumed FROM pg_logical_slot_get_changes('res', NULL, NULL);
SELECT (SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'res_old') <
       (SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'res') AS old_is_older;
CREATE TEMP TABLE before_crash AS
  SELECT d FROM full_stream
   WHERE d ? 'seq' AND ((d->>'commit_lsn')::pg_lsn, (d->>'seq')::int) <= (:'b_lsn'::pg_lsn, 1);
CREATE TEMP TABLE after_restart AS
  SELECT data::jsonb AS d
    FROM pg_logical_slot_get_changes('res_old', NULL, NULL, 'resume-after', :'b_lsn' || ':1')
   WHERE data::jsonb ? 'seq';
-- Together they are the full stream: nothing lost, nothing twice.
SELECT (SELECT count(*) FROM before_crash) AS before_crash,
       (SELECT count(*) FROM after_restart) AS after_restart,
       (SELECT count(*) FROM full_stream WHERE d ? 'seq') AS full_stream,
       (SELECT count(*) FROM (SELECT d FROM before_crash INTERSECT ALL SELECT d FROM after_restart) x) AS duplicates,
       (SELECT count(*) FROM (SELECT d FROM full_stream WHERE d ? 'seq'
                              EXCEPT ALL (SELECT d FROM before_crash UNION ALL SELECT d FROM after_restart)) x) AS lost;

SELECT pg_drop_replication_slot('res');
SELECT pg_drop_replication_slot('res_old');
DROP TABLE public.res;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
