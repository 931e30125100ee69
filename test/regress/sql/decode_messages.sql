-- Logical messages, transactional or not; binary content intact.
CREATE TABLE public.msg_flush (id int);
SELECT 'init' FROM pg_create_logical_replication_slot('msg', 'tributary');

BEGIN;
SELECT 'm1' FROM pg_logical_emit_message(true, 'app.audit', 'user "x" logged in');
SELECT 'm2' FROM pg_logical_emit_message(true, 'app.bin', '\x00010200ff'::bytea);
COMMIT;
SELECT 'm3' FROM pg_logical_emit_message(false, 'app.heartbeat', 'beat');
SELECT 'm4' FROM pg_logical_emit_message(false, 'other', convert_to('ünïcödé', 'UTF8'));
-- A message immediately followed by a commit: ids stay distinct.
BEGIN;
INSERT INTO public.msg_flush VALUES (0);
SELECT 'm5' FROM pg_logical_emit_message(false, 'app.last', 'right before a commit');
COMMIT;
-- Non-transactional messages are not flushed by themselves in PostgreSQL
-- 15; a commit afterwards makes them visible to decoding.
INSERT INTO public.msg_flush VALUES (1);

SELECT * FROM public.trib_peek('msg', 'actions', 'message');
-- The binary payload decodes back to the same bytes, NUL bytes included.
SELECT decode(d->>'content', 'base64') = '\x00010200ff'::bytea AS bytes_intact
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('msg', NULL, NULL)) s
 WHERE d->>'prefix' = 'app.bin';
-- A non-transactional message is its own event: (its LSN - 1, 0), no ts.
-- PostgreSQL's message LSN is the end of its WAL record, where the next
-- record (maybe a commit) starts; the last byte of its own record is not
-- the start of any record, so the id is never a transaction's.
SELECT (d->>'commit_lsn')::pg_lsn = (d->>'lsn')::pg_lsn - 1 AS id_is_own_record, d ? 'ts' AS has_ts
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('msg', NULL, NULL)) s
 WHERE d->>'prefix' = 'app.heartbeat';
-- Here the message's LSN is the commit LSN of the transaction around it ...
SELECT (SELECT d->>'lsn' FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('msg', NULL, NULL)) s
         WHERE d->>'prefix' = 'app.last') =
       (SELECT d->>'commit_lsn' FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('msg', NULL, NULL)) s
         WHERE d->'new'->>'id' = '0') AS message_lsn_is_next_commit;
-- ... and still every event id in the stream is unique.
SELECT count(*) = count(DISTINCT (d->>'commit_lsn', d->>'seq')) AS ids_unique
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('msg', NULL, NULL)) s
 WHERE d ? 'seq';
-- Prefix filter with wildcards.
SELECT * FROM public.trib_get('msg', 'actions', 'message', 'message-prefixes', 'app.*', 'include-transaction', '0');

SELECT pg_drop_replication_slot('msg');
DROP TABLE public.msg_flush;
