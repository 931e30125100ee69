-- two-phase=true: a prepared transaction is decoded at PREPARE; COMMIT
-- PREPARED and ROLLBACK PREPARED follow as their own records.
CREATE TABLE public.tp (id int PRIMARY KEY, v text);
SELECT 'init' FROM pg_create_logical_replication_slot('tp', 'tributary', false, true);

BEGIN;
INSERT INTO public.tp VALUES (1, 'a'), (2, 'b');
PREPARE TRANSACTION 'gid-1';
SELECT * FROM public.trib_get('tp', 'two-phase', 'on', 'include-transaction', 'on');
COMMIT PREPARED 'gid-1';
SELECT * FROM public.trib_get('tp', 'two-phase', 'on');

BEGIN;
DELETE FROM public.tp WHERE id = 1;
PREPARE TRANSACTION 'gid-"2"';
SELECT * FROM public.trib_get('tp', 'two-phase', 'on');
ROLLBACK PREPARED 'gid-"2"';
SELECT * FROM public.trib_get('tp', 'two-phase', 'on');
-- Rolled back before it was decoded: PostgreSQL stops decoding the
-- aborted transaction; the records still frame it and say what was sent.
BEGIN;
DELETE FROM public.tp WHERE id = 2;
PREPARE TRANSACTION 'gid-4';
ROLLBACK PREPARED 'gid-4';
SELECT * FROM public.trib_get('tp', 'two-phase', 'on');

-- Changes of a prepared transaction carry the PREPARE's LSN as commit_lsn.
BEGIN;
INSERT INTO public.tp VALUES (3, 'c');
PREPARE TRANSACTION 'gid-3';
SELECT d->>'kind' AS kind, d->>'commit_lsn' = first_value(d->>'commit_lsn') OVER () AS same_lsn, d->>'gid' AS gid
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('tp', NULL, NULL, 'two-phase', '1')) x;
COMMIT PREPARED 'gid-3';
-- Without the option the transaction is decoded at COMMIT PREPARED.
SELECT * FROM public.trib_get('tp', 'include-transaction', 'on');

-- Streaming and two-phase together: stream_prepare.
BEGIN;
INSERT INTO public.tp SELECT g, repeat('p', 100) FROM generate_series(100, 1500) g;
PREPARE TRANSACTION 'gid-big';
SELECT d->>'kind' AS kind, count(*) > 0 AS seen
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_get_changes('tp', NULL, NULL, 'two-phase', '1', 'stream', '1')) x
 GROUP BY 1 ORDER BY 1;
COMMIT PREPARED 'gid-big';
SELECT * FROM public.trib_get('tp', 'two-phase', '1', 'stream', '1');

SELECT pg_drop_replication_slot('tp');
DROP TABLE public.tp;
