--
-- registry_delete: soft and permanent deletes in the schema registry, as
-- Confluent Schema Registry does them, with the SQLSTATEs a REST layer maps
-- to Confluent's error codes: TS401 -> 40401 subject not found, TS402 ->
-- 40402 version not found, TS404 -> 40404 subject soft deleted, TS405 ->
-- 40405 subject not soft deleted first, TS406 -> 40406 version soft
-- deleted, TS407 -> 40407 version not soft deleted first.  Then the views,
-- re-registration after a soft delete, and privileges.
--
\set VERBOSITY terse

-- err: run a statement and show its SQLSTATE and message, or 'no error'.
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    RETURN st || ': ' || msg;
END
$$;

-- Global ids depend on the tests before this one: they are shown relative
-- to the first id registered here (rel_id 0).
SELECT tributary.set_compatibility(NULL, 'NONE');
SELECT id AS base, version AS first_version
  FROM tributary.register_schema('del-value', '{"type": "string"}') \gset
SELECT :first_version AS first_version;
SELECT id - :base AS rel_id, version FROM tributary.register_schema('del-value', '{"type": "integer"}');
SELECT id - :base AS rel_id, version FROM tributary.register_schema('del-value', '{"type": "boolean"}');
SELECT id - :base AS rel_id, version FROM tributary.register_schema('keep-value', '{"type": "string"}');

-- Unknown subjects and versions.
SELECT pg_temp.err($$SELECT tributary.delete_subject('nope')$$);
SELECT pg_temp.err($$SELECT tributary.delete_subject('nope', true)$$);
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('nope', 1)$$);
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('del-value', 9)$$);
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('del-value', 9, true)$$);
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('del-value', NULL)$$);

-- A permanent delete needs a soft delete first.
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('del-value', 1, true)$$);
SELECT pg_temp.err($$SELECT tributary.delete_subject('del-value', true)$$);

-- Soft-delete version 2: it leaves the views, and stays in the
-- *_with_deleted ones.  Again is TS406.
SELECT tributary.delete_schema_version('del-value', 2);
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('del-value', 2)$$);
SELECT subject, version, id - :base AS rel_id, deleted FROM tributary.schema_versions ORDER BY 1, 2;
SELECT subject, version, id - :base AS rel_id, deleted FROM tributary.schema_versions_with_deleted ORDER BY 1, 2;
SELECT subject, versions, latest_version, latest_id - :base AS latest_rel_id, deleted FROM tributary.subjects ORDER BY 1;
-- The soft-deleted version no longer counts for compatibility: a string
-- schema conflicts with version 3 only, not with the deleted integer.
SELECT tributary.set_compatibility('del-value', 'BACKWARD_TRANSITIVE');
SELECT previous_version, direction, kind FROM tributary.check_compatibility('del-value', '{"type": "string"}');
SELECT tributary.set_compatibility('del-value', NULL);

-- "latest" (-1) is the latest live version.
SELECT tributary.delete_schema_version('del-value', -1);
SELECT version FROM tributary.schema_versions WHERE subject = 'del-value';

-- Registering a schema identical to a soft-deleted version makes a new
-- version with the same global id, as Confluent does; numbers go on
-- after the soft-deleted ones.
SELECT id - :base AS rel_id, version FROM tributary.register_schema('del-value', '{"type": "integer"}');
SELECT subject, version, id - :base AS rel_id, deleted FROM tributary.schema_versions_with_deleted
 WHERE subject = 'del-value' ORDER BY version;

-- Permanent delete of one soft-deleted version: gone from every view; its
-- schema stays while version 4 uses it.
SELECT tributary.delete_schema_version('del-value', 2, true);
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('del-value', 2, true)$$);
SELECT subject, version, id - :base AS rel_id, deleted FROM tributary.schema_versions_with_deleted
 WHERE subject = 'del-value' ORDER BY version;

-- Soft-delete the whole subject: the live versions, in order.  The
-- subject leaves subjects; deleting it again is TS404; its versions are
-- TS406 or, for a version that is gone, TS402.
SELECT * FROM tributary.delete_subject('del-value');
SELECT pg_temp.err($$SELECT tributary.delete_subject('del-value')$$);
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('del-value', 1)$$);
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('del-value', -1)$$);
SELECT subject, versions, deleted FROM tributary.subjects ORDER BY 1;
SELECT subject, versions, latest_version, deleted FROM tributary.subjects_with_deleted ORDER BY 1;
SELECT count(*) AS live FROM tributary.schema_versions WHERE subject = 'del-value';

-- Registering under a soft-deleted subject brings it back with a new
-- version; soft-delete that too.
SELECT id - :base AS rel_id, version FROM tributary.register_schema('del-value', '{"type": "null"}');
SELECT subject, versions, latest_version FROM tributary.subjects WHERE subject = 'del-value';
SELECT * FROM tributary.delete_subject('del-value');

-- Permanent delete of the subject: every version, the subject, and the
-- schemas only it used (the string schema stays: keep-value uses it).
SELECT * FROM tributary.delete_subject('del-value', true);
SELECT pg_temp.err($$SELECT tributary.delete_subject('del-value', true)$$);
SELECT count(*) AS rows FROM tributary.subjects_with_deleted WHERE subject = 'del-value';
SELECT id - :base AS rel_id, canonical FROM tributary.registry_schemas ORDER BY id;
-- A new subject of the same name starts again at version 1; ids are never
-- handed out twice.
SELECT id - :base AS rel_id, version FROM tributary.register_schema('del-value', '{"type": "integer"}');

-- Privileges: only the owner and tributary_writer delete.
CREATE ROLE regress_del_reader IN ROLE tributary_reader;
CREATE ROLE regress_del_writer IN ROLE tributary_writer;
SET ROLE regress_del_reader;
SELECT subject, deleted FROM tributary.subjects_with_deleted ORDER BY 1;
SELECT count(*) FROM tributary.schema_versions_with_deleted;
SELECT pg_temp.err($$SELECT tributary.delete_subject('keep-value')$$);
SELECT pg_temp.err($$SELECT tributary.delete_schema_version('keep-value', 1)$$);
SELECT pg_temp.err($$UPDATE tributary.registry_versions SET deleted_at = now()$$);
RESET ROLE;
SET ROLE regress_del_writer;
SELECT tributary.delete_schema_version('keep-value', 1);
SELECT tributary.delete_schema_version('keep-value', 1, true);
SELECT pg_temp.err($$DELETE FROM tributary.registry_versions$$);
SELECT pg_temp.err($$SELECT tributary.registry_purge(1, NULL)$$);
RESET ROLE;
SELECT subject FROM tributary.subjects_with_deleted ORDER BY 1;

DROP ROLE regress_del_reader;
DROP ROLE regress_del_writer;
DELETE FROM tributary.registry_versions;
DELETE FROM tributary.registry_schemas;
DELETE FROM tributary.registry_subjects;
DELETE FROM tributary.compatibility_config;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
