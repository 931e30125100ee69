--
-- erasure_catalog: erasure requests come from tables that only
-- tributary_eraser may write.  An unprivileged role can emit any logical
-- message (a message carries no authority, so the consumer refuses it), but
-- it can neither write nor read the erasure tables; tributary_reader can
-- read them; a member of tributary_eraser can insert requests and keys and
-- change nothing else.  The inserts are decoded like any change, in place.
--
\set VERBOSITY terse

SELECT tributary.version();
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'tributary_eraser';

CREATE ROLE regress_trib_eraser IN ROLE tributary_eraser;
CREATE ROLE regress_trib_reader2 IN ROLE tributary_reader;
CREATE ROLE regress_trib_nobody;

SELECT 'init' FROM pg_create_logical_replication_slot('erasure_slot', 'tributary');

-- Anybody may emit a message that looks like an erasure: PostgreSQL grants
-- pg_logical_emit_message to PUBLIC.  That is why it carries no authority.
SET ROLE regress_trib_nobody;
SELECT pg_logical_emit_message(true, 'tributary.erasure', '{"schema":"public","table":"t","key":{"id":1}}') IS NOT NULL AS emitted;
-- but no role without a grant can make a request, read one or write a key
INSERT INTO tributary.erasure_requests (subject) VALUES ('1');
INSERT INTO tributary.erasure_keys (request_id, schema_name, table_name, key)
    VALUES (1, 'public', 't', '{"id":1}');
SELECT count(*) FROM tributary.erasure_requests;
SELECT count(*) FROM tributary.erasure_keys;
RESET ROLE;

-- The eraser inserts a request (the identity column needs no sequence
-- grant; RETURNING needs and has SELECT) and a key.
SET ROLE regress_trib_eraser;
INSERT INTO tributary.erasure_requests (subject, reason) VALUES ('42', 'ticket 7')
    RETURNING id, subject, requested_by = session_user AS by_session_user, reason;
INSERT INTO tributary.erasure_keys (request_id, schema_name, table_name, key)
    VALUES (1, 'public', 'customers', '{"id": 42}');
-- It may not rewrite or remove what is there, nor pick the ids.
UPDATE tributary.erasure_requests SET subject = '43';
DELETE FROM tributary.erasure_requests;
UPDATE tributary.erasure_keys SET key = '{"id":43}';
DELETE FROM tributary.erasure_keys;
SELECT count(*) FROM tributary.erasure_keys;
INSERT INTO tributary.erasure_requests (id, subject) VALUES (99, '1');
-- The checks refuse empty subjects and keys that are not objects.
INSERT INTO tributary.erasure_requests (subject) VALUES ('');
INSERT INTO tributary.erasure_keys (request_id, schema_name, table_name, key)
    VALUES (1, 'public', 'customers', '42');
-- It has no other rights in the schema.
SELECT count(*) FROM tributary.source_checkpoints;
RESET ROLE;

-- tributary_reader reads both tables and writes neither.
SET ROLE regress_trib_reader2;
SELECT id, subject, reason FROM tributary.erasure_requests;
SELECT request_id, schema_name, table_name, key::text FROM tributary.erasure_keys;
INSERT INTO tributary.erasure_requests (subject) VALUES ('1');
RESET ROLE;

-- Decoded like any change: the message, then the two inserts, each at its
-- own position, when the filters select the catalog tables.
-- (times and the session user vary from run to run)
SELECT (r::jsonb #- '{new,requested_at}' #- '{new,requested_by}' #- '{new,created_at}')::text AS record
  FROM trib_get('erasure_slot', 'include-transaction', 'off',
    'include-tables', 'tributary.erasure_requests,tributary.erasure_keys') AS r
 WHERE r::jsonb->>'kind' IN ('message', 'insert');
SELECT 'drop' FROM pg_drop_replication_slot('erasure_slot');

TRUNCATE tributary.erasure_requests, tributary.erasure_keys;
DROP ROLE regress_trib_eraser;
DROP ROLE regress_trib_reader2;
DROP ROLE regress_trib_nobody;
