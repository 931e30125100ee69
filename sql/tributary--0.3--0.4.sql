-- sql/tributary--0.3--0.4.sql: upgrade from 0.3 to 0.4.  CREATE EXTENSION
-- tributary installs 0.4 by running tributary--0.1.sql and the upgrade
-- scripts in order, so a fresh install and an upgraded one are built by the
-- same statements.
--
-- Version 0.4 adds the schema registry's catalog and SQL API, and the
-- capture of DDL in stream order (docs/SCHEMA_REGISTRY.md, sections 4-6).
--
-- Catalog (tables; read through the views, written through the functions):
--   registry_subjects       one row per subject (a captured table, or any
--                           name a client registers under)
--   registry_schemas        one row per distinct schema: its global id,
--                           type, canonical document and fingerprint; the
--                           same schema under two subjects has one id, as
--                           in Confluent Schema Registry
--   registry_versions       the versions of each subject: (subject,
--                           version) -> schema id, when, and the source
--                           position where the version took effect
--   compatibility_config    the compatibility level, global (subject NULL)
--                           and per subject
--   migration_rules         declarative upcasting rules per subject
--   ddl_events              one row per DDL command, written by the event
--                           trigger in the command's own transaction
--
-- SQL API:
--   register_schema(subject, schema, schema_type, source_position)
--   check_compatibility(subject, schema, level, schema_type)
--   set_compatibility(subject, level)
--   views subjects, schema_versions
--   table_schema(rel, schema_type, part): a table's schema from its columns
--   schema_canonical(schema_type, schema), schema_violations(...): the C
--   functions of libtribsr (pg_ext/src/registry.c) the others call; the
--   checker is written once, in C, and shared with the daemon.
--
-- Privileges: tributary_reader reads everything; tributary_writer (new)
-- may register schemas, set compatibility levels and write migration
-- rules.  The registry tables themselves are written only by the
-- extension's owner: register_schema and set_compatibility are SECURITY
-- DEFINER, so a writer can store only what passed the checker.  Every
-- SECURITY DEFINER function pins search_path to pg_catalog, pg_temp and
-- names our objects with their schema.

\echo Use "ALTER EXTENSION tributary UPDATE TO '0.4'" to load this file. \quit

-- Roles are cluster-wide, so another database may already have created it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles
                   WHERE rolname OPERATOR(pg_catalog.=) 'tributary_writer') THEN
        CREATE ROLE tributary_writer NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA tributary TO tributary_writer;

-- ---------------------------------------------------------------------
-- The registry catalog
-- ---------------------------------------------------------------------

CREATE TABLE tributary.registry_subjects (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    subject      text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT registry_subjects_pkey PRIMARY KEY (id),
    CONSTRAINT registry_subjects_subject_key UNIQUE (subject),
    CONSTRAINT registry_subjects_subject_check
        CHECK (subject OPERATOR(pg_catalog.<>) '')
);

COMMENT ON TABLE tributary.registry_subjects IS
    'Schema registry subjects: a captured table or collection, or any name a client registers under';

CREATE TABLE tributary.registry_schemas (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    schema_type  text        NOT NULL,
    canonical    text        NOT NULL,
    fingerprint  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT registry_schemas_pkey PRIMARY KEY (id),
    CONSTRAINT registry_schemas_identity_key UNIQUE (schema_type, fingerprint),
    CONSTRAINT registry_schemas_type_check
        CHECK (schema_type OPERATOR(pg_catalog.=) ANY (ARRAY['JSON', 'AVRO'])),
    CONSTRAINT registry_schemas_fingerprint_check
        CHECK (fingerprint OPERATOR(pg_catalog.~) '^[0-9a-f]{64}$')
);

COMMENT ON TABLE tributary.registry_schemas IS
    'Distinct schemas with their global id; the same schema under two subjects has one id';
COMMENT ON COLUMN tributary.registry_schemas.canonical IS
    'The canonical form (keys sorted, no whitespace) computed by libtribsr; identical schemas have identical forms';
COMMENT ON COLUMN tributary.registry_schemas.fingerprint IS
    'SHA-256 of the canonical form, 64 hex digits';

CREATE TABLE tributary.registry_versions (
    subject_id      bigint      NOT NULL,
    version         integer     NOT NULL,
    schema_id       bigint      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    source_position jsonb,
    CONSTRAINT registry_versions_pkey PRIMARY KEY (subject_id, version),
    CONSTRAINT registry_versions_schema_key UNIQUE (subject_id, schema_id),
    CONSTRAINT registry_versions_subject_fkey FOREIGN KEY (subject_id)
        REFERENCES tributary.registry_subjects (id),
    CONSTRAINT registry_versions_schema_fkey FOREIGN KEY (schema_id)
        REFERENCES tributary.registry_schemas (id),
    CONSTRAINT registry_versions_version_check
        CHECK (version OPERATOR(pg_catalog.>=) 1),
    CONSTRAINT registry_versions_position_is_object
        CHECK (source_position IS NULL
               OR pg_catalog.jsonb_typeof(source_position) OPERATOR(pg_catalog.=) 'object')
);

CREATE INDEX registry_versions_schema_idx
    ON tributary.registry_versions (schema_id);

COMMENT ON TABLE tributary.registry_versions IS
    'Versions of each subject, numbered from 1, each naming a registered schema';
COMMENT ON COLUMN tributary.registry_versions.source_position IS
    'Where the version took effect in its source, e.g. {"commit_lsn": "0/16B3748", "seq": 4}; NULL when registered by hand';

CREATE TABLE tributary.compatibility_config (
    subject      text,
    level        text        NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT compatibility_config_subject_key UNIQUE NULLS NOT DISTINCT (subject),
    CONSTRAINT compatibility_config_subject_check
        CHECK (subject OPERATOR(pg_catalog.<>) ''),
    CONSTRAINT compatibility_config_level_check
        CHECK (level OPERATOR(pg_catalog.=) ANY (ARRAY['NONE', 'BACKWARD',
               'BACKWARD_TRANSITIVE', 'FORWARD', 'FORWARD_TRANSITIVE', 'FULL',
               'FULL_TRANSITIVE']))
);

COMMENT ON TABLE tributary.compatibility_config IS
    'Compatibility levels: the global one (subject NULL; BACKWARD when absent) and per-subject overrides';

CREATE TABLE tributary.migration_rules (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    subject      text        NOT NULL,
    from_version integer,
    to_version   integer,
    rule         text        NOT NULL,
    spec         jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT migration_rules_pkey PRIMARY KEY (id),
    CONSTRAINT migration_rules_subject_check
        CHECK (subject OPERATOR(pg_catalog.<>) ''),
    CONSTRAINT migration_rules_rule_check
        CHECK (rule OPERATOR(pg_catalog.=) ANY (ARRAY['rename', 'default', 'drop',
               'cast', 'expression'])),
    CONSTRAINT migration_rules_versions_check
        CHECK (from_version OPERATOR(pg_catalog.>=) 1
               AND to_version OPERATOR(pg_catalog.>=) 1),
    CONSTRAINT migration_rules_spec_is_object
        CHECK (pg_catalog.jsonb_typeof(spec) OPERATOR(pg_catalog.=) 'object')
);

COMMENT ON TABLE tributary.migration_rules IS
    'Declarative migrations of in-flight events: rename, default, drop, cast, or a Lua expression';
COMMENT ON COLUMN tributary.migration_rules.from_version IS
    'The version events are upcast from; NULL for every older version';
COMMENT ON COLUMN tributary.migration_rules.to_version IS
    'The target version; NULL for the latest';
COMMENT ON COLUMN tributary.migration_rules.spec IS
    'The rule''s arguments, e.g. {"from": "name", "to": "full_name"} for rename';

-- pg_dump keeps the registry with the database.
SELECT pg_catalog.pg_extension_config_dump('tributary.registry_subjects', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.registry_schemas', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.registry_versions', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.compatibility_config', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.migration_rules', '');
-- and the identity sequences, so that restored ids are not handed out again
SELECT pg_catalog.pg_extension_config_dump('tributary.registry_subjects_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.registry_schemas_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.migration_rules_id_seq', '');

-- ---------------------------------------------------------------------
-- The checker: libtribsr through C functions
-- ---------------------------------------------------------------------

-- schema_canonical: parse and validate a schema; its type's name (JSON or
-- AVRO), canonical form and fingerprint.  An invalid schema is an error
-- that says why.
CREATE FUNCTION tributary.schema_canonical(
    schema_type text,
    schema      jsonb,
    OUT schema_type text,
    OUT canonical   text,
    OUT fingerprint text)
RETURNS record
LANGUAGE c
IMMUTABLE
STRICT
PARALLEL SAFE
AS 'MODULE_PATHNAME', 'trib_schema_canonical';

COMMENT ON FUNCTION tributary.schema_canonical(text, jsonb) IS
    'Validate a JSON Schema or Avro schema; its canonical form and SHA-256 fingerprint (libtribsr)';

-- schema_violations: every violation of `schema` against previous[] (the
-- versions oldest first, with their types) under `level`; previous is the
-- 1-based index of the version a row is against.
CREATE FUNCTION tributary.schema_violations(
    schema_type    text,
    schema         jsonb,
    previous_types text[],
    previous       text[],
    level          text)
RETURNS TABLE (previous integer, direction text, path text, kind text, message text)
LANGUAGE c
IMMUTABLE
STRICT
PARALLEL SAFE
AS 'MODULE_PATHNAME', 'trib_schema_violations';

COMMENT ON FUNCTION tributary.schema_violations(text, jsonb, text[], text[], text) IS
    'Compatibility violations of a schema against previous versions under a level (libtribsr)';

-- table_schema: the JSON Schema or Avro schema of a table's rows (part
-- 'value') or of its key ('key': the primary key, else the replica
-- identity index), from its columns: the mapping the daemon applies to
-- relation records.
CREATE FUNCTION tributary.table_schema(
    rel         regclass,
    schema_type text DEFAULT 'JSON',
    part        text DEFAULT 'value')
RETURNS jsonb
LANGUAGE c
STABLE
STRICT
PARALLEL SAFE
AS 'MODULE_PATHNAME', 'trib_table_schema';

COMMENT ON FUNCTION tributary.table_schema(regclass, text, text) IS
    'The JSON Schema or Avro schema of a table''s rows or key, from its columns (libtribsr)';

-- ---------------------------------------------------------------------
-- Compatibility levels
-- ---------------------------------------------------------------------

-- compatibility_level: the level in effect for a subject: its own, else
-- the global one, else BACKWARD (Confluent's default).
CREATE FUNCTION tributary.compatibility_level(subject text)
RETURNS text
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT coalesce(
        (SELECT c.level FROM tributary.compatibility_config AS c
          WHERE c.subject = $1),
        (SELECT c.level FROM tributary.compatibility_config AS c
          WHERE c.subject IS NULL),
        'BACKWARD')
$$;

COMMENT ON FUNCTION tributary.compatibility_level(text) IS
    'The compatibility level in effect for a subject (its own, else the global one, else BACKWARD)';

-- set_compatibility: set the level of a subject, or the global level when
-- subject is NULL.  A NULL level removes the subject's own level (it
-- follows the global one again) or resets the global one to BACKWARD.
-- Levels are Confluent's names, in any case.  Returns the level now in
-- effect.
CREATE FUNCTION tributary.set_compatibility(subject text, level text)
RETURNS text
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    lvl text := upper(set_compatibility.level);
BEGIN
    IF set_compatibility.subject = '' THEN
        RAISE EXCEPTION 'tributary.set_compatibility: subject must not be empty (NULL sets the global level)'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF lvl IS NULL THEN
        DELETE FROM tributary.compatibility_config AS c
         WHERE c.subject IS NOT DISTINCT FROM set_compatibility.subject;
    ELSIF lvl <> ALL (ARRAY['NONE', 'BACKWARD', 'BACKWARD_TRANSITIVE', 'FORWARD',
                            'FORWARD_TRANSITIVE', 'FULL', 'FULL_TRANSITIVE']) THEN
        RAISE EXCEPTION 'tributary.set_compatibility: unknown compatibility level "%"', set_compatibility.level
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Accepted levels: NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE.';
    ELSE
        INSERT INTO tributary.compatibility_config AS c (subject, level)
        VALUES (set_compatibility.subject, lvl)
        ON CONFLICT ON CONSTRAINT compatibility_config_subject_key DO UPDATE
            SET level = excluded.level, updated_at = now();
    END IF;
    RETURN tributary.compatibility_level(set_compatibility.subject);
END
$$;

COMMENT ON FUNCTION tributary.set_compatibility(text, text) IS
    'Set the compatibility level of a subject (NULL subject: the global level; NULL level: remove it)';

-- ---------------------------------------------------------------------
-- Checking and registering schemas
-- ---------------------------------------------------------------------

-- check_compatibility: one row per violation of `schema` against the
-- subject's versions under `level` (NULL: the subject's level in effect).
-- No rows means compatible, and so does a subject with no versions.
-- schema_type NULL means the type of the subject's latest version, or JSON.
-- previous_version names the version a row is against; direction is
-- BACKWARD when the new schema reads data of that version, FORWARD when
-- that version reads data of the new one.
CREATE FUNCTION tributary.check_compatibility(
    subject     text,
    schema      jsonb,
    level       text DEFAULT NULL,
    schema_type text DEFAULT NULL)
RETURNS TABLE (path text, kind text, message text, previous_version integer, direction text)
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    versions integer[];
    types text[];
    docs text[];
    typ text;
BEGIN
    IF check_compatibility.subject IS NULL OR check_compatibility.schema IS NULL THEN
        RAISE EXCEPTION 'tributary.check_compatibility: subject and schema must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    SELECT array_agg(v.version ORDER BY v.version),
           array_agg(s.schema_type ORDER BY v.version),
           array_agg(s.canonical ORDER BY v.version)
      INTO versions, types, docs
      FROM tributary.registry_versions AS v
      JOIN tributary.registry_subjects AS j ON j.id = v.subject_id
      JOIN tributary.registry_schemas AS s ON s.id = v.schema_id
     WHERE j.subject = check_compatibility.subject;
    typ := coalesce(check_compatibility.schema_type, types[array_length(types, 1)], 'JSON');
    RETURN QUERY
    SELECT x.path, x.kind, x.message, versions[x.previous], x.direction
      FROM tributary.schema_violations(
               typ, check_compatibility.schema,
               coalesce(types, '{}'), coalesce(docs, '{}'),
               coalesce(check_compatibility.level,
                        tributary.compatibility_level(check_compatibility.subject))) AS x;
END
$$;

COMMENT ON FUNCTION tributary.check_compatibility(text, jsonb, text, text) IS
    'Every compatibility violation of a schema against a subject''s versions; no rows means compatible';

-- register_schema: register `schema` under `subject` and return its global
-- id and its version in the subject.  A schema canonically equal to one of
-- the subject's versions returns that version, unchecked and unchanged.
-- Otherwise it must be compatible with the subject's versions under the
-- subject's level: an incompatible schema is refused (SQLSTATE TS409,
-- the violations in DETAIL), an invalid one too (22023).  A new version
-- gets the next number; its schema gets a new global id unless another
-- subject already registered the same schema.  source_position records
-- where the version took effect in the source (the consumer passes it).
-- Concurrent registrations under one subject are serialised on the
-- subject's row.
CREATE FUNCTION tributary.register_schema(
    subject         text,
    schema          jsonb,
    schema_type     text DEFAULT 'JSON',
    source_position jsonb DEFAULT NULL,
    OUT id          bigint,
    OUT version     integer)
RETURNS record
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    canon record;
    subj_id bigint;
    lvl text;
    bad record;
    nbad integer := 0;
    detail text := '';
BEGIN
    IF register_schema.subject IS NULL OR register_schema.schema IS NULL
       OR register_schema.schema_type IS NULL THEN
        RAISE EXCEPTION 'tributary.register_schema: subject, schema and schema_type must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    IF register_schema.subject = '' THEN
        RAISE EXCEPTION 'tributary.register_schema: subject must not be empty'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF jsonb_typeof(register_schema.source_position) <> 'object' THEN
        RAISE EXCEPTION 'tributary.register_schema: source_position must be a JSON object, e.g. {"commit_lsn": "0/16B3748", "seq": 4}, not %',
                        jsonb_typeof(register_schema.source_position)
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    canon := tributary.schema_canonical(register_schema.schema_type, register_schema.schema);

    -- The subject, created on first use and locked until commit.
    INSERT INTO tributary.registry_subjects AS j (subject)
    VALUES (register_schema.subject)
    ON CONFLICT ON CONSTRAINT registry_subjects_subject_key DO NOTHING;
    SELECT j.id INTO subj_id
      FROM tributary.registry_subjects AS j
     WHERE j.subject = register_schema.subject
       FOR UPDATE;

    -- Already a version of this subject: return it.
    SELECT s.id, v.version INTO register_schema.id, register_schema.version
      FROM tributary.registry_versions AS v
      JOIN tributary.registry_schemas AS s ON s.id = v.schema_id
     WHERE v.subject_id = subj_id
       AND s.schema_type = canon.schema_type
       AND s.fingerprint = canon.fingerprint;
    IF FOUND THEN
        RETURN;
    END IF;

    lvl := tributary.compatibility_level(register_schema.subject);
    FOR bad IN
        SELECT c.path, c.kind, c.message, c.previous_version, c.direction
          FROM tributary.check_compatibility(register_schema.subject, register_schema.schema,
                                             lvl, canon.schema_type) AS c
    LOOP
        nbad := nbad + 1;
        detail := detail || CASE WHEN nbad > 1 THEN E'\n' ELSE '' END
                  || format('version %s (%s) %s %s: %s', bad.previous_version,
                            bad.direction, bad.kind, bad.path, bad.message);
    END LOOP;
    IF nbad > 0 THEN
        RAISE EXCEPTION 'tributary.register_schema: schema is incompatible with subject "%" under %: % violation(s)',
                        register_schema.subject, lvl, nbad
            USING ERRCODE = 'TS409', DETAIL = detail,
                  HINT = 'tributary.check_compatibility() lists the violations; tributary.set_compatibility() changes the level.';
    END IF;

    -- The schema's global id: another subject's, or a new one.  Looking
    -- first keeps the identity sequence from skipping ids.
    SELECT s.id INTO register_schema.id
      FROM tributary.registry_schemas AS s
     WHERE s.schema_type = canon.schema_type
       AND s.fingerprint = canon.fingerprint;
    IF NOT FOUND THEN
        INSERT INTO tributary.registry_schemas AS s (schema_type, canonical, fingerprint)
        VALUES (canon.schema_type, canon.canonical, canon.fingerprint)
        ON CONFLICT ON CONSTRAINT registry_schemas_identity_key DO NOTHING;
        SELECT s.id INTO register_schema.id
          FROM tributary.registry_schemas AS s
         WHERE s.schema_type = canon.schema_type
           AND s.fingerprint = canon.fingerprint;
    END IF;

    SELECT coalesce(max(v.version), 0) + 1 INTO register_schema.version
      FROM tributary.registry_versions AS v
     WHERE v.subject_id = subj_id;
    INSERT INTO tributary.registry_versions (subject_id, version, schema_id, source_position)
    VALUES (subj_id, register_schema.version, register_schema.id,
            register_schema.source_position);
END
$$;

COMMENT ON FUNCTION tributary.register_schema(text, jsonb, text, jsonb) IS
    'Register a schema version under a subject (idempotent; refuses an incompatible schema); returns its global id and version';

-- ---------------------------------------------------------------------
-- Views
-- ---------------------------------------------------------------------

CREATE VIEW tributary.subjects AS
SELECT j.subject,
       tributary.compatibility_level(j.subject) AS compatibility,
       (SELECT c.level FROM tributary.compatibility_config AS c
         WHERE c.subject = j.subject) AS own_compatibility,
       count(v.version)::integer AS versions,
       max(v.version) AS latest_version,
       (SELECT v2.schema_id FROM tributary.registry_versions AS v2
         WHERE v2.subject_id = j.id
         ORDER BY v2.version DESC LIMIT 1) AS latest_id,
       j.created_at
  FROM tributary.registry_subjects AS j
  LEFT JOIN tributary.registry_versions AS v ON v.subject_id = j.id
 GROUP BY j.id, j.subject, j.created_at;

COMMENT ON VIEW tributary.subjects IS
    'Schema registry subjects with their compatibility level and latest version';

CREATE VIEW tributary.schema_versions AS
SELECT j.subject,
       v.version,
       s.id,
       s.schema_type,
       s.canonical AS schema,
       s.fingerprint,
       v.created_at,
       v.source_position
  FROM tributary.registry_versions AS v
  JOIN tributary.registry_subjects AS j ON j.id = v.subject_id
  JOIN tributary.registry_schemas AS s ON s.id = v.schema_id;

COMMENT ON VIEW tributary.schema_versions IS
    'Every version of every subject: global id, type, canonical schema, fingerprint, when and where it took effect';

-- ---------------------------------------------------------------------
-- DDL capture
-- ---------------------------------------------------------------------

-- ddl_events: one row per DDL command, inserted by the event trigger below
-- in the command's own transaction, so that logical decoding returns it at
-- the command's exact position (the output plugin's "ddl" records with
-- include-ddl; docs/PLUGIN.md).  Only the owner writes it: a row here is
-- evidence a message could not be, since any role may call
-- pg_logical_emit_message.  Not dumped: positions mean nothing in another
-- cluster.
CREATE TABLE tributary.ddl_events (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    txid            xid8        NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    event           text        NOT NULL,
    command_tag     text        NOT NULL,
    object_type     text,
    schema_name     text,
    object_identity text,
    objid           oid,
    in_extension    boolean     NOT NULL DEFAULT false,
    statement       text,
    role_name       name        NOT NULL DEFAULT SESSION_USER,
    created_at      timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT ddl_events_pkey PRIMARY KEY (id),
    CONSTRAINT ddl_events_event_check
        CHECK (event OPERATOR(pg_catalog.=) ANY (ARRAY['ddl_command_end', 'sql_drop']))
);

COMMENT ON TABLE tributary.ddl_events IS
    'DDL commands in commit order, written by the tributary event triggers in the command''s transaction';
COMMENT ON COLUMN tributary.ddl_events.statement IS
    'The text of the top-level statement (the whole query string when it held several)';
COMMENT ON COLUMN tributary.ddl_events.role_name IS
    'The session user that ran the command';

-- record_ddl: the event trigger function.  ddl_command_end records each
-- command of pg_event_trigger_ddl_commands(), sql_drop each dropped object
-- that the command named or that was dropped with it (CASCADE), plus every
-- dropped table; temporary objects are left out (they are never decoded).
-- SECURITY DEFINER: it writes as the owner whatever role ran the DDL.
CREATE FUNCTION tributary.record_ddl()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF tg_event = 'ddl_command_end' THEN
        INSERT INTO tributary.ddl_events
               (event, command_tag, object_type, schema_name, object_identity,
                objid, in_extension, statement)
        SELECT tg_event, c.command_tag, c.object_type, c.schema_name,
               c.object_identity, c.objid, c.in_extension, current_query()
          FROM pg_event_trigger_ddl_commands() AS c
         WHERE c.schema_name IS DISTINCT FROM 'pg_temp';
    ELSIF tg_event = 'sql_drop' THEN
        INSERT INTO tributary.ddl_events
               (event, command_tag, object_type, schema_name, object_identity,
                objid, statement)
        SELECT tg_event, tg_tag, d.object_type, d.schema_name,
               d.object_identity, d.objid, current_query()
          FROM pg_event_trigger_dropped_objects() AS d
         WHERE NOT d.is_temporary
           AND (d.original OR d.normal OR d.object_type = 'table');
    END IF;
END
$$;

COMMENT ON FUNCTION tributary.record_ddl() IS
    'Event trigger: records DDL commands and dropped objects in tributary.ddl_events';

REVOKE ALL ON FUNCTION tributary.record_ddl() FROM PUBLIC;

-- ---------------------------------------------------------------------
-- Privileges
-- ---------------------------------------------------------------------

REVOKE ALL ON TABLE tributary.registry_subjects, tributary.registry_schemas,
    tributary.registry_versions, tributary.compatibility_config,
    tributary.migration_rules, tributary.ddl_events,
    tributary.subjects, tributary.schema_versions FROM PUBLIC;
GRANT SELECT ON TABLE tributary.registry_subjects, tributary.registry_schemas,
    tributary.registry_versions, tributary.compatibility_config,
    tributary.migration_rules, tributary.ddl_events,
    tributary.subjects, tributary.schema_versions
    TO tributary_reader, tributary_writer;
GRANT INSERT, UPDATE, DELETE ON TABLE tributary.migration_rules TO tributary_writer;

REVOKE ALL ON FUNCTION tributary.schema_canonical(text, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.schema_violations(text, jsonb, text[], text[], text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.table_schema(regclass, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.compatibility_level(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.check_compatibility(text, jsonb, text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.set_compatibility(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.register_schema(text, jsonb, text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tributary.schema_canonical(text, jsonb),
    tributary.schema_violations(text, jsonb, text[], text[], text),
    tributary.table_schema(regclass, text, text),
    tributary.compatibility_level(text),
    tributary.check_compatibility(text, jsonb, text, text)
    TO tributary_reader, tributary_writer;
GRANT EXECUTE ON FUNCTION tributary.set_compatibility(text, text),
    tributary.register_schema(text, jsonb, text, jsonb)
    TO tributary_writer;

-- version: the version of the installed SQL objects.
CREATE OR REPLACE FUNCTION tributary.version()
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '0.4'::text
$$;

-- The event triggers come last, so that nothing above is recorded.
CREATE EVENT TRIGGER tributary_ddl_command_end ON ddl_command_end
    EXECUTE FUNCTION tributary.record_ddl();
CREATE EVENT TRIGGER tributary_sql_drop ON sql_drop
    EXECUTE FUNCTION tributary.record_ddl();
