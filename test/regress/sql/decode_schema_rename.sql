--
-- decode_schema_rename: every change carries the schema and table names that
-- were true when it was made (decoding reads the catalogs as of each
-- change), after ALTER SCHEMA ... RENAME, ALTER TABLE ... RENAME and
-- ALTER TABLE ... SET SCHEMA: within one decode call, across calls, and
-- inside the transaction that renames.  The include-tables verdict and the
-- DDL-log verdict follow the names too.
--
\set VERBOSITY terse

-- The kind, names and row of each record but begin and commit.
CREATE FUNCTION pg_temp.ren_rows(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS TABLE (kind text, schema text, tbl text, r jsonb)
LANGUAGE sql AS $$
  SELECT d->>'kind', d->>'schema', d->>'table',
         coalesce(d->'new', d->'old', d->'ddl'->'command_tag')
    FROM (SELECT data::jsonb AS d
            FROM pg_catalog.pg_logical_slot_get_changes(slot, NULL, NULL,
                                                        VARIADIC opts)) s
   WHERE d->>'kind' NOT IN ('begin', 'commit')
$$;

CREATE SCHEMA ren_a;
CREATE TABLE ren_a.t (id int PRIMARY KEY);
CREATE SCHEMA ren_other;
SELECT 'init' FROM pg_create_logical_replication_slot('ren', 'tributary');

-- One decode call: a schema rename between two transactions, then a table
-- rename, then a move to another schema.  Each change has its own names and
-- a relation record announces each new name.
INSERT INTO ren_a.t VALUES (1);
ALTER SCHEMA ren_a RENAME TO ren_b;
INSERT INTO ren_b.t VALUES (2);
ALTER TABLE ren_b.t RENAME TO u;
INSERT INTO ren_b.u VALUES (3);
ALTER TABLE ren_b.u SET SCHEMA ren_other;
INSERT INTO ren_other.u VALUES (4);
ALTER TABLE ren_other.u SET SCHEMA ren_b;
ALTER TABLE ren_b.u RENAME TO t;
SELECT * FROM pg_temp.ren_rows('ren');

-- Across decode calls: the new call starts with the name left by the last.
INSERT INTO ren_b.t VALUES (5);
SELECT * FROM pg_temp.ren_rows('ren');
ALTER SCHEMA ren_b RENAME TO ren_c;
INSERT INTO ren_c.t VALUES (6);
SELECT * FROM pg_temp.ren_rows('ren');

-- In one transaction: changes before and after each of two renames, and a
-- change in an aborted subtransaction's rename that leaves the name as it
-- was.
BEGIN;
INSERT INTO ren_c.t VALUES (7);
ALTER SCHEMA ren_c RENAME TO ren_d;
INSERT INTO ren_d.t VALUES (8);
SAVEPOINT sp;
ALTER SCHEMA ren_d RENAME TO ren_x;
INSERT INTO ren_x.t VALUES (100);
ROLLBACK TO SAVEPOINT sp;
UPDATE ren_d.t SET id = 9 WHERE id = 8;
ALTER SCHEMA ren_d RENAME TO ren_e;
DELETE FROM ren_e.t WHERE id = 9;
COMMIT;
SELECT * FROM pg_temp.ren_rows('ren');

-- The table filter follows the rename: with include-tables ren_f.*, the
-- table is left out under ren_e and taken under ren_f, also when a second
-- transaction in the same call renames it back.
INSERT INTO ren_e.t VALUES (10);
ALTER SCHEMA ren_e RENAME TO ren_f;
INSERT INTO ren_f.t VALUES (11);
ALTER SCHEMA ren_f RENAME TO ren_e;
INSERT INTO ren_e.t VALUES (12);
SELECT * FROM pg_temp.ren_rows('ren', 'include-tables', 'ren_f.*');

-- With publish-via-root a leaf's changes carry its root's names: renaming
-- the root's schema renames them, renaming the leaf's does not.
CREATE SCHEMA ren_root;
CREATE SCHEMA ren_leaf;
CREATE TABLE ren_root.p (id int PRIMARY KEY) PARTITION BY RANGE (id);
CREATE TABLE ren_leaf.p1 PARTITION OF ren_root.p FOR VALUES FROM (0) TO (100);
SELECT count(*) FROM pg_logical_slot_get_changes('ren', NULL, NULL);
INSERT INTO ren_root.p VALUES (1);
ALTER SCHEMA ren_root RENAME TO ren_root2;
INSERT INTO ren_root2.p VALUES (2);
ALTER SCHEMA ren_leaf RENAME TO ren_leaf2;
INSERT INTO ren_root2.p VALUES (3);
SELECT * FROM pg_temp.ren_rows('ren', 'publish-via-root', 'true');

-- The DDL-log verdict follows the schema name: tributary.ddl_events is the
-- DDL log (a ddl record with include-ddl, no row change); renamed away
-- (with the event triggers off, as they write to tributary.ddl_events) it
-- is an ordinary table, and renamed back it is the DDL log again.
CREATE TABLE ren_e.w (id int PRIMARY KEY);
BEGIN;
SET LOCAL session_replication_role = replica;
ALTER SCHEMA tributary RENAME TO ren_trib;
INSERT INTO ren_trib.ddl_events (event, command_tag, statement)
  VALUES ('ddl_command_end', 'RENAMED LOG', 'by hand');
ALTER SCHEMA ren_trib RENAME TO tributary;
INSERT INTO tributary.ddl_events (event, command_tag, statement)
  VALUES ('ddl_command_end', 'LOG AGAIN', 'by hand');
INSERT INTO ren_e.w VALUES (1);
COMMIT;
SELECT kind, schema, tbl,
       CASE WHEN tbl = 'ddl_events' THEN r - '{id,txid,created_at,role_name}'::text[]
            ELSE r END AS r
  FROM pg_temp.ren_rows('ren', 'include-ddl', 'on');
SELECT nspname FROM pg_namespace WHERE nspname IN ('tributary', 'ren_trib');

SELECT pg_drop_replication_slot('ren');
DROP SCHEMA ren_e CASCADE;
DROP SCHEMA ren_other;
DROP SCHEMA ren_root2 CASCADE;
DROP SCHEMA ren_leaf2;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
