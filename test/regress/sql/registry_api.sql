--
-- registry_api: the schema registry's SQL API.  register_schema returns a
-- global id and a version, returns the existing ones for a canonically
-- equal schema, refuses invalid and incompatible schemas with a clear
-- error; set_compatibility validates levels; the views show the catalog;
-- tributary_reader reads, tributary_writer writes, nobody else does either,
-- and not even a writer can write the catalog tables directly.
--
\set VERBOSITY terse

-- err: run a statement and show the error it raises (SQLSTATE, message,
-- detail, hint), so that the full text of a refusal is part of the test.
-- A check constraint's detail (the failing row, with its timestamp) is
-- left out.
CREATE FUNCTION pg_temp.err(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text; hnt text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT;
    RETURN st || ': ' || msg
        || CASE WHEN det <> '' AND st <> '23514' THEN E'\nDETAIL: ' || det ELSE '' END
        || CASE WHEN hnt <> '' THEN E'\nHINT: ' || hnt ELSE '' END;
END
$$;

-- First version of a subject; the default type is JSON.
SELECT * FROM tributary.register_schema('orders-value',
    '{"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"], "additionalProperties": false}');
-- The same schema again, written differently (key order, whitespace): the
-- same id and version, nothing new stored.
SELECT * FROM tributary.register_schema('orders-value',
    '{"additionalProperties":false,"required":["id"],"properties":{"id":{"type":"integer"}},"type":"object"}', 'json');
SELECT count(*) AS schemas FROM tributary.registry_schemas;

-- A compatible change (an optional property in a closed model, BACKWARD)
-- is version 2 with a new id, and records where it took effect.
SELECT * FROM tributary.register_schema('orders-value',
    '{"type": "object", "properties": {"id": {"type": "integer"}, "note": {"type": "string"}}, "required": ["id"], "additionalProperties": false}',
    'JSON', '{"commit_lsn": "0/16B3748", "seq": 4}');
-- Registering version 1's schema again returns version 1.
SELECT * FROM tributary.register_schema('orders-value',
    '{"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"], "additionalProperties": false}');

-- The same schema under another subject shares its global id.
SELECT * FROM tributary.register_schema('invoices-value',
    '{"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"], "additionalProperties": false}');

-- Avro, with its own ids.
SELECT * FROM tributary.register_schema('orders-avro',
    '{"type": "record", "name": "orders", "namespace": "public", "fields": [{"name": "id", "type": "long"}]}', 'AVRO');
SELECT * FROM tributary.register_schema('orders-avro',
    '{"type": "record", "name": "orders", "namespace": "public", "fields": [{"name": "id", "type": "long"}, {"name": "note", "type": ["null", "string"], "default": null}]}', 'AVRO');

-- An incompatible change is refused under the subject's level (BACKWARD):
-- a required property added to a closed model and a type change.  The
-- error names the subject, the level and every violation.
SELECT pg_temp.err($$SELECT tributary.register_schema('orders-value',
    '{"type": "object", "properties": {"id": {"type": "string"}, "note": {"type": "string"}, "qty": {"type": "integer"}}, "required": ["id", "qty"], "additionalProperties": false}')$$);
SELECT pg_temp.err($$SELECT tributary.register_schema('orders-avro',
    '{"type": "record", "name": "orders", "namespace": "public", "fields": [{"name": "id", "type": "int"}, {"name": "note", "type": ["null", "string"], "default": null}]}', 'AVRO')$$);
-- Nothing was stored.
SELECT subject, max(version) FROM tributary.schema_versions GROUP BY 1 ORDER BY 1;

-- check_compatibility says the same without registering; an explicit
-- level overrides the subject's.
SELECT path, kind, previous_version, direction
  FROM tributary.check_compatibility('orders-value',
    '{"type": "object", "properties": {"id": {"type": "string"}, "note": {"type": "string"}, "qty": {"type": "integer"}}, "required": ["id", "qty"], "additionalProperties": false}')
 ORDER BY 1, 2;
SELECT count(*) AS under_none FROM tributary.check_compatibility('orders-value',
    '{"type": "string"}', 'NONE');
SELECT message FROM tributary.check_compatibility('orders-avro',
    '{"type": "record", "name": "orders", "namespace": "public", "fields": [{"name": "id", "type": "int"}]}');
-- A subject without versions: nothing to break.
SELECT count(*) AS unknown_subject FROM tributary.check_compatibility('nobody', '{"type": "string"}');

-- After set_compatibility NONE the change registers as version 3.
SELECT tributary.set_compatibility('orders-value', 'none');
SELECT * FROM tributary.register_schema('orders-value',
    '{"type": "object", "properties": {"id": {"type": "string"}, "note": {"type": "string"}, "qty": {"type": "integer"}}, "required": ["id", "qty"], "additionalProperties": false}');
-- and back to the global level
SELECT tributary.set_compatibility('orders-value', NULL);

-- Invalid input: each refusal says what is wrong and what is accepted.
SELECT pg_temp.err($$SELECT tributary.register_schema('bad', '{"type": "record", "name": "r"}', 'AVRO')$$);
SELECT pg_temp.err($$SELECT tributary.register_schema('bad', '{"$ref": "http://example.com/s.json"}')$$);
SELECT pg_temp.err($$SELECT tributary.register_schema('bad', '{"type": "string"}', 'PROTOBUF')$$);
SELECT pg_temp.err($$SELECT tributary.register_schema('', '{"type": "string"}')$$);
SELECT pg_temp.err($$SELECT tributary.register_schema(NULL, '{"type": "string"}')$$);
SELECT pg_temp.err($$SELECT tributary.register_schema('bad', '{"type": "string"}', 'JSON', '"0/1"')$$);
SELECT pg_temp.err($$SELECT tributary.set_compatibility('orders-value', 'SIDEWAYS')$$);
SELECT pg_temp.err($$SELECT tributary.set_compatibility('', 'FULL')$$);
SELECT pg_temp.err($$SELECT * FROM tributary.check_compatibility('orders-value', '{"type": "string"}', 'SIDEWAYS')$$);
SELECT count(*) AS subjects_after_refusals FROM tributary.registry_subjects WHERE subject = 'bad';

-- Levels: global and per subject.
SELECT tributary.set_compatibility(NULL, 'FULL_TRANSITIVE');
SELECT tributary.set_compatibility('invoices-value', 'FORWARD');
SELECT subject, level FROM tributary.compatibility_config ORDER BY subject NULLS FIRST;
SELECT tributary.set_compatibility(NULL, NULL);

-- The views.
SELECT subject, compatibility, own_compatibility, versions, latest_version, latest_id,
       created_at IS NOT NULL AS has_time
  FROM tributary.subjects ORDER BY subject;
SELECT subject, version, id, schema_type, schema, length(fingerprint) AS fp_len,
       source_position
  FROM tributary.schema_versions ORDER BY subject, version;
-- The fingerprint is the SHA-256 of the canonical form.
SELECT count(*) FILTER (WHERE fingerprint = encode(sha256(convert_to(schema, 'UTF8')), 'hex')) AS fingerprints_ok,
       count(*) AS versions
  FROM tributary.schema_versions;
-- The building blocks are callable on their own.
SELECT * FROM tributary.schema_canonical('avro', '"long"');

-- Migration rules: checked rows.
INSERT INTO tributary.migration_rules (subject, from_version, to_version, rule, spec)
VALUES ('orders-value', 1, NULL, 'rename', '{"from": "note", "to": "comment"}')
RETURNING subject, from_version, to_version, rule, spec;
SELECT pg_temp.err($$INSERT INTO tributary.migration_rules (subject, rule, spec) VALUES ('orders-value', 'guess', '{}')$$);
SELECT pg_temp.err($$INSERT INTO tributary.migration_rules (subject, rule, spec) VALUES ('orders-value', 'drop', '"note"')$$);

-- A table's schema from its columns, and what ALTER TABLE does to it under
-- BACKWARD: varchar(n) -> text and int -> bigint are widenings; a new
-- nullable column is compatible, a new NOT NULL one is not.
CREATE DOMAIN sr_qty AS int CHECK (VALUE >= 0);
CREATE TABLE sr_orders (id int PRIMARY KEY, code varchar(8) NOT NULL,
    amount numeric(12,2), qty sr_qty, tags text[], placed timestamptz);
SELECT tributary.table_schema('sr_orders');
SELECT tributary.table_schema('sr_orders', 'AVRO');
SELECT tributary.table_schema('sr_orders', 'json', 'key');
SELECT * FROM tributary.register_schema('public.sr_orders-value', tributary.table_schema('sr_orders'));
ALTER TABLE sr_orders ALTER COLUMN code TYPE text, ALTER COLUMN id TYPE bigint;
ALTER TABLE sr_orders ADD COLUMN note text;
SELECT * FROM tributary.register_schema('public.sr_orders-value', tributary.table_schema('sr_orders'));
ALTER TABLE sr_orders ADD COLUMN region text NOT NULL DEFAULT 'eu';
SELECT pg_temp.err($$SELECT tributary.register_schema('public.sr_orders-value', tributary.table_schema('sr_orders'))$$);
SELECT * FROM tributary.register_schema('public.sr_orders-avro', tributary.table_schema('sr_orders', 'AVRO'), 'AVRO');
SELECT pg_temp.err($$SELECT tributary.table_schema('sr_orders', 'JSON', 'row')$$);
CREATE TABLE sr_nokey (a int);
SELECT pg_temp.err($$SELECT tributary.table_schema('sr_nokey', 'AVRO', 'key')$$);
CREATE VIEW sr_view AS SELECT 1 AS one;
SELECT pg_temp.err($$SELECT tributary.table_schema('sr_view')$$);
DROP VIEW sr_view;
DROP TABLE sr_orders, sr_nokey;
DROP DOMAIN sr_qty;

-- Privileges.
CREATE ROLE regress_sr_reader IN ROLE tributary_reader;
CREATE ROLE regress_sr_writer IN ROLE tributary_writer;
CREATE ROLE regress_sr_nobody;

SET ROLE regress_sr_reader;
SELECT subject, latest_version FROM tributary.subjects ORDER BY subject;
SELECT count(*) FROM tributary.schema_versions;
SELECT count(*) FROM tributary.check_compatibility('orders-value', '{"type": "string"}');
SELECT count(*) FROM tributary.migration_rules;
SELECT pg_temp.err($$SELECT tributary.register_schema('r', '{"type": "string"}')$$);
SELECT pg_temp.err($$SELECT tributary.set_compatibility('orders-value', 'NONE')$$);
SELECT pg_temp.err($$INSERT INTO tributary.migration_rules (subject, rule, spec) VALUES ('x', 'drop', '{}')$$);
RESET ROLE;

SET ROLE regress_sr_writer;
SELECT * FROM tributary.register_schema('writer-value', '{"type": "string"}');
SELECT tributary.set_compatibility('writer-value', 'FULL');
SELECT pg_temp.err($$SELECT tributary.register_schema('writer-value', '{"type": "integer"}')$$);
INSERT INTO tributary.migration_rules (subject, rule, spec) VALUES ('writer-value', 'default', '{"field": "x", "value": 0}');
DELETE FROM tributary.migration_rules WHERE subject = 'writer-value';
-- The catalog tables themselves are the owner's: a writer cannot forge a
-- version or a level that the checker did not see.
SELECT pg_temp.err($$INSERT INTO tributary.registry_schemas (schema_type, canonical, fingerprint) VALUES ('JSON', '{}', repeat('0', 64))$$);
SELECT pg_temp.err($$UPDATE tributary.registry_versions SET schema_id = 1$$);
SELECT pg_temp.err($$DELETE FROM tributary.registry_subjects$$);
SELECT pg_temp.err($$INSERT INTO tributary.compatibility_config (subject, level) VALUES ('orders-value', 'NONE')$$);
RESET ROLE;
SELECT subject, version FROM tributary.schema_versions WHERE subject = 'writer-value';

SET ROLE regress_sr_nobody;
SELECT pg_temp.err($$SELECT count(*) FROM tributary.subjects$$);
SELECT pg_temp.err($$SELECT tributary.register_schema('n', '{"type": "string"}')$$);
SELECT pg_temp.err($$SELECT * FROM tributary.check_compatibility('orders-value', '{"type": "string"}')$$);
RESET ROLE;

DROP ROLE regress_sr_reader;
DROP ROLE regress_sr_writer;
DROP ROLE regress_sr_nobody;
DELETE FROM tributary.migration_rules;
DELETE FROM tributary.registry_versions;
DELETE FROM tributary.registry_schemas;
DELETE FROM tributary.registry_subjects;
DELETE FROM tributary.compatibility_config;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
