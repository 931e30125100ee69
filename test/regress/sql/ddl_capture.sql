--
-- ddl_capture: every DDL command is recorded by the extension's event
-- triggers in tributary.ddl_events, in the command's own transaction, and
-- the output plugin turns each row into a "ddl" record at the command's
-- exact position (include-ddl).  The rows take no seq and, without
-- include-ddl, are not written at all, so no other record changes.  Only
-- the extension's owner can write the table: a forged logical message or
-- insert from another role records nothing.  DDL that rolls back leaves
-- nothing.
--
\set VERBOSITY terse

-- The ddl record without the values that vary from run to run.
CREATE FUNCTION pg_temp.ddl_norm(r text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN r::jsonb->>'kind' = 'ddl'
              THEN jsonb_set(r::jsonb, '{ddl}',
                     (r::jsonb->'ddl') - '{id,txid,objid,created_at,role_name}'::text[])::text
              ELSE r END
$$;

SELECT 'init' FROM pg_create_logical_replication_slot('ddl_slot', 'tributary');
TRUNCATE tributary.ddl_events;

-- Column changes: ADD, RENAME, TYPE, DROP, with rows in between.
CREATE TABLE ddl_t (id int PRIMARY KEY, a text);
INSERT INTO ddl_t VALUES (1, 'one');
ALTER TABLE ddl_t ADD COLUMN b int;
INSERT INTO ddl_t VALUES (2, 'two', 2);
ALTER TABLE ddl_t RENAME COLUMN b TO c;
ALTER TABLE ddl_t ALTER COLUMN c TYPE bigint;
ALTER TABLE ddl_t DROP COLUMN a;
INSERT INTO ddl_t VALUES (3, 3);

-- The table renamed, dropped and created again under the same name.
ALTER TABLE ddl_t RENAME TO ddl_t2;
DROP TABLE ddl_t2;
CREATE TABLE ddl_t2 (id bigint PRIMARY KEY, note text);
INSERT INTO ddl_t2 VALUES (4, 'four');

-- What the table holds, in order.
SELECT event, command_tag, object_type, schema_name, object_identity, in_extension, statement
  FROM tributary.ddl_events ORDER BY id;

-- Without include-ddl the stream is what it always was: row changes only,
-- numbered as if the DDL log did not exist.
SELECT data FROM trib_peek('ddl_slot', 'include-transaction', 'off') AS data;

-- With include-ddl each command is a ddl record just before the first
-- change that follows it; next_seq is that change's seq.
SELECT pg_temp.ddl_norm(data) FROM trib_get('ddl_slot', 'include-transaction', 'off',
    'include-ddl', 'on', 'skip-empty-xacts', 'on') AS data;

-- DDL inside a transaction that also writes rows: the ddl record sits
-- between the two inserts; the inserts keep seq 0 and 1 and the commit
-- counts 2 changes.
BEGIN;
INSERT INTO ddl_t2 VALUES (5, 'five');
ALTER TABLE ddl_t2 ADD COLUMN qty int NOT NULL DEFAULT 0;
INSERT INTO ddl_t2 VALUES (6, 'six', 6);
COMMIT;
SELECT pg_temp.ddl_norm(data) FROM trib_peek('ddl_slot', 'include-ddl', 'on') AS data;

-- resume-after: a ddl record is suppressed only once the change after it
-- is covered.  Covered through seq 0: the ddl record and seq 1 remain.
SELECT r::jsonb->>'commit_lsn' AS txn_lsn
  FROM (SELECT data AS r FROM pg_logical_slot_peek_changes('ddl_slot', NULL, NULL,
        'include-ddl', 'on', 'include-transaction', 'off')) AS x
 WHERE r::jsonb->>'kind' = 'insert' LIMIT 1 \gset
SELECT r::jsonb->>'kind' AS kind, r::jsonb->'seq' AS seq, r::jsonb->'next_seq' AS next_seq
  FROM pg_logical_slot_peek_changes('ddl_slot', NULL, NULL, 'include-ddl', 'on',
       'include-transaction', 'off', 'resume-after', :'txn_lsn' || ':0') AS x(l, x, r);
-- Covered through seq 1: nothing of the transaction remains.
SELECT count(*) AS after_seq_1
  FROM pg_logical_slot_peek_changes('ddl_slot', NULL, NULL, 'include-ddl', 'on',
       'include-transaction', 'off', 'resume-after', :'txn_lsn' || ':1');
-- The ddl record as written: kind, the transaction's tags, lsn, next_seq,
-- then the row of tributary.ddl_events in column order.
SELECT regexp_replace(r, '"(id|txid|objid|created_at|role_name)":("[^"]*"|[0-9]+)', '"\1":_', 'g') AS raw
  FROM trib_raw('ddl_slot', 'include-ddl', 'on') AS r
 WHERE r LIKE '{"kind":"ddl"%' OR r LIKE '{"kind":"commit"%';

-- DDL rolled back, whole or to a savepoint, leaves no row and no record.
SELECT count(*) AS rows_before FROM tributary.ddl_events \gset
BEGIN;
ALTER TABLE ddl_t2 ADD COLUMN gone int;
CREATE TABLE ddl_never (id int);
ROLLBACK;
BEGIN;
INSERT INTO ddl_t2 VALUES (7, 'seven', 7);
SAVEPOINT s;
ALTER TABLE ddl_t2 DROP COLUMN note;
ROLLBACK TO SAVEPOINT s;
INSERT INTO ddl_t2 VALUES (8, 'eight', 8);
COMMIT;
SELECT count(*) - :rows_before AS rows_added FROM tributary.ddl_events;
SELECT pg_temp.ddl_norm(data) FROM trib_get('ddl_slot', 'include-ddl', 'on') AS data;

-- A partitioned table: its partitions, a column added through the parent,
-- a partition detached.  With publish-via-root the rows name the parent.
CREATE TABLE ddl_p (id int, k int, PRIMARY KEY (id, k)) PARTITION BY RANGE (k);
CREATE TABLE ddl_p1 PARTITION OF ddl_p FOR VALUES FROM (0) TO (10);
CREATE TABLE ddl_p2 PARTITION OF ddl_p FOR VALUES FROM (10) TO (20);
INSERT INTO ddl_p VALUES (1, 1), (2, 12);
ALTER TABLE ddl_p ADD COLUMN z text;
INSERT INTO ddl_p VALUES (3, 3, 'z');
ALTER TABLE ddl_p DETACH PARTITION ddl_p2;
DROP TABLE ddl_p2;
SELECT pg_temp.ddl_norm(data) FROM trib_get('ddl_slot', 'include-ddl', 'on',
    'include-transaction', 'off', 'publish-via-root', 'on') AS data;

-- Temporary objects are never decoded, and not recorded.
SELECT count(*) AS rows_before FROM tributary.ddl_events \gset
CREATE TEMP TABLE ddl_tmp (id int);
ALTER TABLE ddl_tmp ADD COLUMN x int;
DROP TABLE ddl_tmp;
SELECT count(*) - :rows_before AS temp_rows FROM tributary.ddl_events;

-- A statement longer than a page travels whole (TOAST).
SELECT format('COMMENT ON TABLE ddl_t2 IS %L',
              (SELECT string_agg(md5(i::text), ' ') FROM generate_series(1, 300) AS i)) AS long_ddl \gset
:long_ddl;
SELECT d.r::jsonb->'ddl'->>'statement' = :'long_ddl' || ';' AS statement_whole,
       length(d.r::jsonb->'ddl'->>'statement') AS statement_length,
       d.r::jsonb->'ddl'->>'command_tag' AS command_tag
  FROM (SELECT data AS r FROM pg_logical_slot_get_changes('ddl_slot', NULL, NULL, 'include-ddl', 'on')) AS d
 WHERE d.r::jsonb->>'kind' = 'ddl';

-- Streaming: a large transaction with DDL in the middle streams its ddl
-- record in place; the inserts on each side keep their numbering.
BEGIN;
INSERT INTO ddl_t2 (id, note, qty) SELECT i, repeat('x', 100), i FROM generate_series(100, 1099) AS i;
ALTER TABLE ddl_t2 ADD COLUMN streamed boolean;
INSERT INTO ddl_t2 (id, note, qty, streamed) SELECT i, 'y', i, true FROM generate_series(2000, 2999) AS i;
COMMIT;
SELECT count(*) FILTER (WHERE r::jsonb->>'kind' = 'stream_start') > 0 AS streamed,
       count(*) FILTER (WHERE r::jsonb->>'kind' = 'insert') AS inserts,
       string_agg(r::jsonb->>'next_seq', ',') FILTER (WHERE r::jsonb->>'kind' = 'ddl') AS ddl_next_seq,
       max((r::jsonb->>'seq')::int) AS last_seq,
       max(r::jsonb->>'changes') AS commit_changes
  FROM (SELECT data AS r FROM pg_logical_slot_get_changes('ddl_slot', NULL, NULL,
        'include-ddl', 'on', 'stream', 'on')) AS d;

-- Authority.  Any role may emit a logical message that looks like DDL; it
-- stays a message, never becomes a ddl record, and writes no row.  The
-- role can neither write nor read the DDL log.  Its real DDL is recorded,
-- under the session user (which SET ROLE does not change).
CREATE ROLE regress_ddl_nobody;
CREATE SCHEMA ddl_own AUTHORIZATION regress_ddl_nobody;
SELECT count(*) AS rows_before FROM tributary.ddl_events \gset
SET ROLE regress_ddl_nobody;
SELECT pg_logical_emit_message(true, 'tributary.ddl',
    '{"command_tag":"DROP TABLE","object_identity":"public.ddl_t2"}') IS NOT NULL AS emitted;
INSERT INTO tributary.ddl_events (event, command_tag, object_identity)
    VALUES ('ddl_command_end', 'DROP TABLE', 'public.ddl_t2');
SELECT count(*) FROM tributary.ddl_events;
CREATE TABLE ddl_own.mine (id int);
RESET ROLE;
SELECT count(*) - :rows_before AS rows_added FROM tributary.ddl_events;
SELECT command_tag, object_identity, role_name = session_user AS by_session_user
  FROM tributary.ddl_events
 WHERE id > (SELECT max(id) - 1 FROM tributary.ddl_events);
SELECT r::jsonb->>'kind' AS kind, r::jsonb->>'prefix' AS prefix,
       r::jsonb->'ddl'->>'command_tag' AS command_tag,
       r::jsonb->'ddl'->>'role_name' = session_user AS by_session_user
  FROM (SELECT data AS r FROM pg_logical_slot_get_changes('ddl_slot', NULL, NULL,
        'include-ddl', 'on', 'include-transaction', 'off')) AS d;
-- The owner's own writes to the log are not changes either: an update, a
-- delete and a truncate of it are never written and take no seq.
BEGIN;
INSERT INTO ddl_t2 (id) VALUES (9);
UPDATE tributary.ddl_events SET statement = 'rewritten';
INSERT INTO ddl_t2 (id) VALUES (10);
DELETE FROM tributary.ddl_events;
INSERT INTO ddl_t2 (id) VALUES (11);
TRUNCATE tributary.ddl_events;
INSERT INTO ddl_t2 (id) VALUES (12);
COMMIT;
SELECT data FROM trib_get('ddl_slot', 'include-ddl', 'on', 'include-transaction', 'off') AS data;

SELECT 'drop' FROM pg_drop_replication_slot('ddl_slot');
DROP TABLE ddl_own.mine;
DROP SCHEMA ddl_own;
DROP ROLE regress_ddl_nobody;
DROP TABLE ddl_t2, ddl_p;
TRUNCATE tributary.ddl_events;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
