-- sql/tributary--0.4--0.5.sql: upgrade from 0.4 to 0.5.  CREATE EXTENSION
-- tributary installs 0.5 by running tributary--0.1.sql and the upgrade
-- scripts in order, so a fresh install and an upgraded one are built by the
-- same statements.
--
-- Version 0.5 adds two things.
--
-- 1. Soft and permanent deletes in the schema registry, as in Confluent
--    Schema Registry (docs/SCHEMA_REGISTRY.md, section 4):
--      delete_subject(subject, permanent)                 -> SETOF integer
--      delete_schema_version(subject, version, permanent) -> integer
--    A soft delete stamps registry_versions.deleted_at; soft-deleted versions
--    leave the views subjects and schema_versions (which gain a last column
--    `deleted`, always false there) and appear in subjects_with_deleted and
--    schema_versions_with_deleted.  A permanent delete removes rows, and is
--    refused unless the rows were soft-deleted first.  Errors carry
--    SQLSTATEs TS401..TS407 that the REST layer maps to Confluent's 40401..
--    40407.  register_schema and check_compatibility ignore soft-deleted
--    versions (they are replaced here, with that one change).
--
-- 2. The lineage catalog and its SQL API (docs/LINEAGE.md):
--      lineage_nodes     datasets, fields, jobs and rules, each with a
--                        stable asset key built from OpenLineage's
--                        namespace + name
--      lineage_edges     read / write / derive edges with the OpenLineage
--                        transformation type and subtype, masking flag,
--                        rule, job, first/last seen, event count, position
--      lineage_graphs    every recorded version of a job's graph
--      lineage_runs      runs (OpenLineage run ids) and their state
--      lineage_audit     the audit log of runs and operations
--    Reading: upstream, downstream, impact, lineage_path, unmasked_paths,
--    lineage_dot, openlineage_events.  Writing (the consumer's recording
--    stage, owner or tributary_writer): lineage_record, lineage_count,
--    lineage_run_start, lineage_log, lineage_run_stop.
--
-- Every function pins search_path to pg_catalog, pg_temp and names our
-- objects with their schema.  Writes go through SECURITY DEFINER functions
-- granted to tributary_writer; tributary_reader reads tables, views and the
-- read API.  Nothing here builds SQL from data: there is no dynamic SQL.

\echo Use "ALTER EXTENSION tributary UPDATE TO '0.5'" to load this file. \quit

-- ---------------------------------------------------------------------
-- Schema registry: soft and permanent deletes
-- ---------------------------------------------------------------------

ALTER TABLE tributary.registry_versions ADD COLUMN deleted_at timestamptz;

COMMENT ON COLUMN tributary.registry_versions.deleted_at IS
    'When the version was soft-deleted (NULL: live); a permanent delete removes the row';

-- A schema may come back into a subject as a new version after a soft
-- delete of its old one (Confluent does the same), so it is unique among
-- the live versions only.
ALTER TABLE tributary.registry_versions
    DROP CONSTRAINT registry_versions_schema_key;
CREATE UNIQUE INDEX registry_versions_live_schema_key
    ON tributary.registry_versions (subject_id, schema_id)
    WHERE deleted_at IS NULL;

-- registry_subject_id: the id of a subject; SQLSTATE TS401 (Confluent
-- 40401) when there is none.  `fn` names the caller in the message.
CREATE FUNCTION tributary.registry_subject_id(subject text, fn text)
RETURNS bigint
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    subj_id bigint;
BEGIN
    SELECT j.id INTO subj_id
      FROM tributary.registry_subjects AS j
     WHERE j.subject = registry_subject_id.subject;
    IF subj_id IS NULL THEN
        RAISE EXCEPTION '%: subject not found: "%"', fn, registry_subject_id.subject
            USING ERRCODE = 'TS401';
    END IF;
    RETURN subj_id;
END
$$;

COMMENT ON FUNCTION tributary.registry_subject_id(text, text) IS
    'The id of a registry subject; SQLSTATE TS401 (Confluent 40401) when it does not exist';

-- delete_subject: delete every version of a subject and return their
-- numbers, ascending.  Soft (the default): the live versions are stamped
-- deleted; a subject whose versions are all soft-deleted already is TS404
-- (Confluent 40404).  Permanent: only after a soft delete of the whole
-- subject (else TS405, 40405); removes the versions, the subject and the
-- schemas no other version uses, but keeps the subject's compatibility
-- level as Confluent does.  An unknown subject is TS401 (40401).
CREATE FUNCTION tributary.delete_subject(subject text, permanent boolean DEFAULT false)
RETURNS SETOF integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    subj_id bigint;
    live integer;
    total integer;
BEGIN
    IF delete_subject.subject IS NULL OR delete_subject.permanent IS NULL THEN
        RAISE EXCEPTION 'tributary.delete_subject: subject and permanent must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    subj_id := tributary.registry_subject_id(delete_subject.subject, 'tributary.delete_subject');
    PERFORM FROM tributary.registry_subjects AS j WHERE j.id = subj_id FOR UPDATE;
    SELECT count(*) FILTER (WHERE v.deleted_at IS NULL), count(*)
      INTO live, total
      FROM tributary.registry_versions AS v
     WHERE v.subject_id = subj_id;

    IF NOT delete_subject.permanent THEN
        IF live = 0 AND total > 0 THEN
            RAISE EXCEPTION 'tributary.delete_subject: subject was soft deleted: "%"', delete_subject.subject
                USING ERRCODE = 'TS404',
                      HINT = 'Pass permanent => true to delete it permanently.';
        END IF;
        RETURN QUERY
        WITH d AS (
            UPDATE tributary.registry_versions AS v
               SET deleted_at = now()
             WHERE v.subject_id = subj_id AND v.deleted_at IS NULL
            RETURNING v.version)
        SELECT d.version FROM d ORDER BY d.version;
        RETURN;
    END IF;

    IF live > 0 THEN
        RAISE EXCEPTION 'tributary.delete_subject: subject was not soft deleted first: "%" has % live version(s)',
                        delete_subject.subject, live
            USING ERRCODE = 'TS405',
                  HINT = 'Soft-delete it first: tributary.delete_subject(subject).';
    END IF;
    RETURN QUERY
    SELECT x.version FROM tributary.registry_purge(subj_id, NULL) AS x(version) ORDER BY 1;
END
$$;

COMMENT ON FUNCTION tributary.delete_subject(text, boolean) IS
    'Soft-delete a subject''s versions, or permanently delete a soft-deleted subject; returns the versions deleted';

-- registry_purge: remove soft-deleted versions of a subject (all of them,
-- or one when version is given), then the subject if no version is left,
-- and the schemas no version uses any more.  Returns the versions removed.
-- Called by the two delete functions only.
CREATE FUNCTION tributary.registry_purge(subject_id bigint, version integer)
RETURNS SETOF integer
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    removed integer[];
    schema_ids bigint[];
BEGIN
    WITH d AS (
        DELETE FROM tributary.registry_versions AS v
         WHERE v.subject_id = registry_purge.subject_id
           AND v.deleted_at IS NOT NULL
           AND (registry_purge.version IS NULL OR v.version = registry_purge.version)
        RETURNING v.version, v.schema_id)
    SELECT array_agg(d.version ORDER BY d.version), array_agg(DISTINCT d.schema_id)
      INTO removed, schema_ids
      FROM d;
    DELETE FROM tributary.registry_subjects AS j
     WHERE j.id = registry_purge.subject_id
       AND NOT EXISTS (SELECT FROM tributary.registry_versions AS v
                        WHERE v.subject_id = registry_purge.subject_id);
    DELETE FROM tributary.registry_schemas AS s
     WHERE s.id = ANY (schema_ids)
       AND NOT EXISTS (SELECT FROM tributary.registry_versions AS v
                        WHERE v.schema_id = s.id);
    RETURN QUERY SELECT unnest(removed);
END
$$;

COMMENT ON FUNCTION tributary.registry_purge(bigint, integer) IS
    'Internal: remove soft-deleted versions, then an empty subject and unused schemas';

-- delete_schema_version: delete one version of a subject and return its
-- number.  version -1 means the latest live version (Confluent's
-- "latest").  Soft: TS406 (40406) if it is soft-deleted already.
-- Permanent: only after a soft delete (else TS407, 40407).  An unknown
-- subject is TS401 (40401), an unknown version TS402 (40402).
CREATE FUNCTION tributary.delete_schema_version(
    subject   text,
    version   integer,
    permanent boolean DEFAULT false)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    subj_id bigint;
    ver integer := delete_schema_version.version;
    was_deleted timestamptz;
BEGIN
    IF delete_schema_version.subject IS NULL OR ver IS NULL
       OR delete_schema_version.permanent IS NULL THEN
        RAISE EXCEPTION 'tributary.delete_schema_version: subject, version and permanent must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    subj_id := tributary.registry_subject_id(delete_schema_version.subject,
                                             'tributary.delete_schema_version');
    PERFORM FROM tributary.registry_subjects AS j WHERE j.id = subj_id FOR UPDATE;
    IF ver = -1 THEN
        SELECT max(v.version) INTO ver
          FROM tributary.registry_versions AS v
         WHERE v.subject_id = subj_id AND v.deleted_at IS NULL;
    END IF;
    SELECT v.deleted_at INTO was_deleted
      FROM tributary.registry_versions AS v
     WHERE v.subject_id = subj_id AND v.version = ver;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tributary.delete_schema_version: version not found: subject "%" has no version %',
                        delete_schema_version.subject,
                        coalesce(ver::text, 'latest (every version is soft deleted)')
            USING ERRCODE = 'TS402';
    END IF;

    IF NOT delete_schema_version.permanent THEN
        IF was_deleted IS NOT NULL THEN
            RAISE EXCEPTION 'tributary.delete_schema_version: version was soft deleted: subject "%" version %',
                            delete_schema_version.subject, ver
                USING ERRCODE = 'TS406',
                      HINT = 'Pass permanent => true to delete it permanently.';
        END IF;
        UPDATE tributary.registry_versions AS v
           SET deleted_at = now()
         WHERE v.subject_id = subj_id AND v.version = ver;
        RETURN ver;
    END IF;

    IF was_deleted IS NULL THEN
        RAISE EXCEPTION 'tributary.delete_schema_version: version was not soft deleted first: subject "%" version %',
                        delete_schema_version.subject, ver
            USING ERRCODE = 'TS407',
                  HINT = 'Soft-delete it first: tributary.delete_schema_version(subject, version).';
    END IF;
    PERFORM tributary.registry_purge(subj_id, ver);
    RETURN ver;
END
$$;

COMMENT ON FUNCTION tributary.delete_schema_version(text, integer, boolean) IS
    'Soft-delete one version of a subject (-1: the latest), or permanently delete a soft-deleted one; returns the version';

-- check_compatibility and register_schema as in 0.4, except that
-- soft-deleted versions no longer count: they are not checked against, and
-- a schema identical to a soft-deleted version is registered again as a
-- new version (with the same global id), as Confluent Schema Registry
-- does.  Version numbers keep counting past soft-deleted versions.
CREATE OR REPLACE FUNCTION tributary.check_compatibility(
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
     WHERE j.subject = check_compatibility.subject
       AND v.deleted_at IS NULL;
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

CREATE OR REPLACE FUNCTION tributary.register_schema(
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
       AND v.deleted_at IS NULL
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

-- The views: soft-deleted versions leave subjects and schema_versions; a
-- subject whose versions are all soft-deleted leaves subjects.  Both gain
-- a last column `deleted` (false there) so that they have the same columns
-- as their companions *_with_deleted, which list deleted rows too
-- (Confluent's ?deleted=true).
CREATE OR REPLACE VIEW tributary.subjects AS
SELECT j.subject,
       tributary.compatibility_level(j.subject) AS compatibility,
       (SELECT c.level FROM tributary.compatibility_config AS c
         WHERE c.subject = j.subject) AS own_compatibility,
       count(v.version)::integer AS versions,
       max(v.version) AS latest_version,
       (SELECT v2.schema_id FROM tributary.registry_versions AS v2
         WHERE v2.subject_id = j.id AND v2.deleted_at IS NULL
         ORDER BY v2.version DESC LIMIT 1) AS latest_id,
       j.created_at,
       false AS deleted
  FROM tributary.registry_subjects AS j
  LEFT JOIN tributary.registry_versions AS v
    ON v.subject_id = j.id AND v.deleted_at IS NULL
 WHERE NOT EXISTS (SELECT FROM tributary.registry_versions AS d
                    WHERE d.subject_id = j.id AND d.deleted_at IS NOT NULL)
    OR EXISTS (SELECT FROM tributary.registry_versions AS l
                WHERE l.subject_id = j.id AND l.deleted_at IS NULL)
 GROUP BY j.id, j.subject, j.created_at;

CREATE VIEW tributary.subjects_with_deleted AS
SELECT j.subject,
       tributary.compatibility_level(j.subject) AS compatibility,
       (SELECT c.level FROM tributary.compatibility_config AS c
         WHERE c.subject = j.subject) AS own_compatibility,
       count(v.version)::integer AS versions,
       max(v.version) AS latest_version,
       (SELECT v2.schema_id FROM tributary.registry_versions AS v2
         WHERE v2.subject_id = j.id
         ORDER BY v2.version DESC LIMIT 1) AS latest_id,
       j.created_at,
       count(v.version) > 0 AND bool_and(v.deleted_at IS NOT NULL) AS deleted
  FROM tributary.registry_subjects AS j
  LEFT JOIN tributary.registry_versions AS v ON v.subject_id = j.id
 GROUP BY j.id, j.subject, j.created_at;

COMMENT ON VIEW tributary.subjects_with_deleted IS
    'Every subject, soft-deleted ones too (deleted: every version is soft-deleted); versions counts soft-deleted ones';

CREATE OR REPLACE VIEW tributary.schema_versions AS
SELECT j.subject,
       v.version,
       s.id,
       s.schema_type,
       s.canonical AS schema,
       s.fingerprint,
       v.created_at,
       v.source_position,
       false AS deleted
  FROM tributary.registry_versions AS v
  JOIN tributary.registry_subjects AS j ON j.id = v.subject_id
  JOIN tributary.registry_schemas AS s ON s.id = v.schema_id
 WHERE v.deleted_at IS NULL;

CREATE VIEW tributary.schema_versions_with_deleted AS
SELECT j.subject,
       v.version,
       s.id,
       s.schema_type,
       s.canonical AS schema,
       s.fingerprint,
       v.created_at,
       v.source_position,
       v.deleted_at IS NOT NULL AS deleted
  FROM tributary.registry_versions AS v
  JOIN tributary.registry_subjects AS j ON j.id = v.subject_id
  JOIN tributary.registry_schemas AS s ON s.id = v.schema_id;

COMMENT ON VIEW tributary.schema_versions_with_deleted IS
    'Every version of every subject, soft-deleted ones too (deleted true)';

REVOKE ALL ON TABLE tributary.subjects_with_deleted,
    tributary.schema_versions_with_deleted FROM PUBLIC;
GRANT SELECT ON TABLE tributary.subjects_with_deleted,
    tributary.schema_versions_with_deleted TO tributary_reader, tributary_writer;
REVOKE ALL ON FUNCTION tributary.registry_subject_id(text, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.registry_purge(bigint, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.delete_subject(text, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.delete_schema_version(text, integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tributary.delete_subject(text, boolean),
    tributary.delete_schema_version(text, integer, boolean) TO tributary_writer;

-- ---------------------------------------------------------------------
-- Lineage: the catalog
-- ---------------------------------------------------------------------

-- lineage_key: the asset key of a node, its stable identifier in the API.
-- kind ':' namespace '/' name ['#' field], where the namespace escapes
-- '\' and '#', and the name escapes '\', '/' and '#' with a backslash, so
-- that two different nodes never share a key:
--   dataset:postgres://db:5432/shop.public.customers
--   field:postgres://db:5432/shop.public.customers#email
--   job:tributary/orders          rule:tributary/orders#mask_email
-- BEGIN ATOMIC: the body is bound when it is created, whatever the
-- search_path of a later caller.
CREATE FUNCTION tributary.lineage_key(kind text, namespace text, name text, field text)
RETURNS text
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
BEGIN ATOMIC
    SELECT kind OPERATOR(pg_catalog.||) ':'
           OPERATOR(pg_catalog.||) pg_catalog.replace(pg_catalog.replace(namespace, '\', '\\'), '#', '\#')
           OPERATOR(pg_catalog.||) '/'
           OPERATOR(pg_catalog.||) pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(
                                       name, '\', '\\'), '/', '\/'), '#', '\#')
           OPERATOR(pg_catalog.||) CASE WHEN field OPERATOR(pg_catalog.=) '' THEN ''
                                        ELSE '#' OPERATOR(pg_catalog.||) field END;
END;

COMMENT ON FUNCTION tributary.lineage_key(text, text, text, text) IS
    'The asset key of a lineage node: kind:namespace/name[#field], with \ / # escaped in the namespace and name';

-- lineage_nodes: every dataset, field, job and rule.  Datasets and jobs are
-- named as OpenLineage names them (namespace + name); a field is its
-- dataset's namespace and name plus the field (a column or a document
-- path); a rule is its job's namespace and name plus the rule's name.
-- Nodes are never deleted by the recording: their ids are stable.
CREATE TABLE tributary.lineage_nodes (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    kind         text        NOT NULL,
    namespace    text        NOT NULL,
    name         text        NOT NULL,
    field        text        NOT NULL DEFAULT '',
    asset        text        NOT NULL
        GENERATED ALWAYS AS (tributary.lineage_key(kind, namespace, name, field)) STORED,
    parent_id    bigint,
    dataset_type text,
    data_type    text,
    rule_kind    text,
    masking      boolean     NOT NULL DEFAULT false,
    first_seen   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_seen    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT lineage_nodes_pkey PRIMARY KEY (id),
    CONSTRAINT lineage_nodes_identity_key UNIQUE (kind, namespace, name, field),
    CONSTRAINT lineage_nodes_asset_key UNIQUE (asset),
    CONSTRAINT lineage_nodes_parent_fkey FOREIGN KEY (parent_id)
        REFERENCES tributary.lineage_nodes (id),
    CONSTRAINT lineage_nodes_kind_check
        CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['dataset', 'field', 'job', 'rule'])),
    CONSTRAINT lineage_nodes_name_check
        CHECK (namespace OPERATOR(pg_catalog.<>) '' AND name OPERATOR(pg_catalog.<>) ''),
    CONSTRAINT lineage_nodes_field_check
        CHECK ((field OPERATOR(pg_catalog.<>) '')
               OPERATOR(pg_catalog.=) (kind OPERATOR(pg_catalog.=) ANY (ARRAY['field', 'rule']))),
    CONSTRAINT lineage_nodes_parent_check
        CHECK ((parent_id IS NOT NULL)
               OPERATOR(pg_catalog.=) (kind OPERATOR(pg_catalog.=) ANY (ARRAY['field', 'rule']))),
    CONSTRAINT lineage_nodes_rule_check
        CHECK (kind OPERATOR(pg_catalog.=) 'rule' OR (rule_kind IS NULL AND NOT masking))
);

CREATE INDEX lineage_nodes_parent_idx ON tributary.lineage_nodes (parent_id);

COMMENT ON TABLE tributary.lineage_nodes IS
    'Lineage nodes: datasets, fields, jobs and transform rules, named as OpenLineage names them';
COMMENT ON COLUMN tributary.lineage_nodes.asset IS
    'The stable key the lineage functions take: kind:namespace/name[#field]';
COMMENT ON COLUMN tributary.lineage_nodes.parent_id IS
    'A field''s dataset, a rule''s job';
COMMENT ON COLUMN tributary.lineage_nodes.masking IS
    'For rules: whether the rule masks (hashes, redacts, tokenizes...) the values it touches';

-- lineage_edges: from -> to.  read: a dataset or field a job reads (to the
-- job); write: a dataset or field a job writes (from the job); derive: a
-- dataset or field computed from another, through a rule or not.  An
-- edge belongs to one job; retired_at is set when a later version of the
-- job's graph no longer has it (it keeps its last_seen and counts).
CREATE TABLE tributary.lineage_edges (
    id                     bigint      GENERATED ALWAYS AS IDENTITY,
    from_id                bigint      NOT NULL,
    to_id                  bigint      NOT NULL,
    kind                   text        NOT NULL,
    transformation_type    text        NOT NULL DEFAULT 'DIRECT',
    transformation_subtype text        NOT NULL DEFAULT 'IDENTITY',
    masking                boolean     NOT NULL DEFAULT false,
    rule_id                bigint,
    job_id                 bigint      NOT NULL,
    graph_version          integer     NOT NULL,
    first_seen             timestamptz NOT NULL DEFAULT pg_catalog.now(),
    last_seen              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    event_count            bigint      NOT NULL DEFAULT 0,
    last_position          jsonb,
    retired_at             timestamptz,
    CONSTRAINT lineage_edges_pkey PRIMARY KEY (id),
    CONSTRAINT lineage_edges_identity_key
        UNIQUE NULLS NOT DISTINCT (job_id, from_id, to_id, kind, rule_id),
    CONSTRAINT lineage_edges_from_fkey FOREIGN KEY (from_id)
        REFERENCES tributary.lineage_nodes (id),
    CONSTRAINT lineage_edges_to_fkey FOREIGN KEY (to_id)
        REFERENCES tributary.lineage_nodes (id),
    CONSTRAINT lineage_edges_rule_fkey FOREIGN KEY (rule_id)
        REFERENCES tributary.lineage_nodes (id),
    CONSTRAINT lineage_edges_job_fkey FOREIGN KEY (job_id)
        REFERENCES tributary.lineage_nodes (id),
    CONSTRAINT lineage_edges_kind_check
        CHECK (kind OPERATOR(pg_catalog.=) ANY (ARRAY['read', 'write', 'derive'])),
    CONSTRAINT lineage_edges_type_check
        CHECK (transformation_type OPERATOR(pg_catalog.=) ANY (ARRAY['DIRECT', 'INDIRECT'])),
    CONSTRAINT lineage_edges_subtype_check
        CHECK (transformation_subtype OPERATOR(pg_catalog.=) ANY (ARRAY['IDENTITY',
               'TRANSFORMATION', 'AGGREGATION', 'FILTER', 'JOIN', 'GROUP_BY', 'SORT',
               'WINDOW', 'CONDITIONAL'])),
    CONSTRAINT lineage_edges_count_check
        CHECK (event_count OPERATOR(pg_catalog.>=) 0),
    CONSTRAINT lineage_edges_position_is_object
        CHECK (last_position IS NULL
               OR pg_catalog.jsonb_typeof(last_position) OPERATOR(pg_catalog.=) 'object')
);

-- The walks follow current edges from a node (downstream) or to a node
-- (upstream).  These two partial covering indexes answer each step with
-- an index-only scan: the node, then what the walk needs of the edge (and
-- impact() of its job).
CREATE INDEX lineage_edges_from_idx ON tributary.lineage_edges (from_id)
    INCLUDE (to_id, masking, id, job_id) WHERE retired_at IS NULL;
CREATE INDEX lineage_edges_to_idx ON tributary.lineage_edges (to_id)
    INCLUDE (from_id, masking, id) WHERE retired_at IS NULL;
CREATE INDEX lineage_edges_job_idx ON tributary.lineage_edges (job_id, graph_version);

COMMENT ON TABLE tributary.lineage_edges IS
    'Lineage edges (read, write, derive) with OpenLineage transformation type and subtype, masking, rule, job and activity';
COMMENT ON COLUMN tributary.lineage_edges.last_position IS
    'The source position of the last event counted, e.g. {"commit_lsn": "0/16B3748", "seq": 4}';
COMMENT ON COLUMN tributary.lineage_edges.retired_at IS
    'When a newer version of the job''s graph dropped the edge; NULL while current';

-- lineage_graphs: every version of a job's graph as recorded.
CREATE TABLE tributary.lineage_graphs (
    job_id             bigint      NOT NULL,
    version            integer     NOT NULL,
    fingerprint        text        NOT NULL,
    config_fingerprint text,
    graph              jsonb       NOT NULL,
    recorded_at        timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT lineage_graphs_pkey PRIMARY KEY (job_id, version),
    CONSTRAINT lineage_graphs_job_fkey FOREIGN KEY (job_id)
        REFERENCES tributary.lineage_nodes (id)
);

COMMENT ON TABLE tributary.lineage_graphs IS
    'Every recorded version of a job''s lineage graph, with the fingerprint of the config it came from';

-- lineage_runs: the runs of jobs, named by OpenLineage run ids.
CREATE TABLE tributary.lineage_runs (
    run_id             uuid        NOT NULL,
    job_id             bigint      NOT NULL,
    state              text        NOT NULL DEFAULT 'RUNNING',
    config_fingerprint text,
    started_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    ended_at           timestamptz,
    CONSTRAINT lineage_runs_pkey PRIMARY KEY (run_id),
    CONSTRAINT lineage_runs_job_fkey FOREIGN KEY (job_id)
        REFERENCES tributary.lineage_nodes (id),
    CONSTRAINT lineage_runs_state_check
        CHECK (state OPERATOR(pg_catalog.=) ANY (ARRAY['RUNNING', 'COMPLETE', 'FAIL', 'ABORT']))
);

CREATE INDEX lineage_runs_job_idx ON tributary.lineage_runs (job_id, started_at);

COMMENT ON TABLE tributary.lineage_runs IS
    'Runs of lineage jobs (OpenLineage run ids) and their state';

-- lineage_audit: what happened in each run, in order.
CREATE TABLE tributary.lineage_audit (
    id                 bigint      GENERATED ALWAYS AS IDENTITY,
    run_id             uuid        NOT NULL,
    operation          text        NOT NULL,
    at                 timestamptz NOT NULL DEFAULT pg_catalog.now(),
    config_fingerprint text,
    graph_version      integer,
    schema_subject     text,
    schema_version     integer,
    schema_id          bigint,
    source_position    jsonb,
    detail             jsonb       NOT NULL DEFAULT '{}',
    CONSTRAINT lineage_audit_pkey PRIMARY KEY (id),
    CONSTRAINT lineage_audit_run_fkey FOREIGN KEY (run_id)
        REFERENCES tributary.lineage_runs (run_id),
    CONSTRAINT lineage_audit_schema_fkey FOREIGN KEY (schema_id)
        REFERENCES tributary.registry_schemas (id) ON DELETE SET NULL,
    CONSTRAINT lineage_audit_operation_check
        CHECK (operation OPERATOR(pg_catalog.=) ANY (ARRAY['start', 'stop', 'config_change',
               'schema_change', 'erasure_request', 'snapshot'])),
    CONSTRAINT lineage_audit_detail_is_object
        CHECK (pg_catalog.jsonb_typeof(detail) OPERATOR(pg_catalog.=) 'object'),
    CONSTRAINT lineage_audit_position_is_object
        CHECK (source_position IS NULL
               OR pg_catalog.jsonb_typeof(source_position) OPERATOR(pg_catalog.=) 'object')
);

CREATE INDEX lineage_audit_run_idx ON tributary.lineage_audit (run_id, id);

COMMENT ON TABLE tributary.lineage_audit IS
    'Audit log of runs: start, stop, config change, schema change, erasure request, snapshot';
COMMENT ON COLUMN tributary.lineage_audit.schema_id IS
    'For a schema change: the schema registry''s global id of the new version, where it exists';

SELECT pg_catalog.pg_extension_config_dump('tributary.lineage_nodes', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.lineage_edges', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.lineage_graphs', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.lineage_runs', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.lineage_audit', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.lineage_nodes_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.lineage_edges_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.lineage_audit_id_seq', '');

-- lineage_edge_list: the edges with their ends, rule and job named by
-- asset keys.  The consumer reads edge ids here for lineage_count.
CREATE VIEW tributary.lineage_edge_list AS
SELECT e.id,
       j.asset AS job,
       f.asset AS from_asset,
       t.asset AS to_asset,
       e.kind,
       e.transformation_type,
       e.transformation_subtype,
       e.masking,
       r.field AS rule,
       e.graph_version,
       e.retired_at IS NULL AS current,
       e.first_seen,
       e.last_seen,
       e.event_count,
       e.last_position
  FROM tributary.lineage_edges AS e
  JOIN tributary.lineage_nodes AS j ON j.id = e.job_id
  JOIN tributary.lineage_nodes AS f ON f.id = e.from_id
  JOIN tributary.lineage_nodes AS t ON t.id = e.to_id
  LEFT JOIN tributary.lineage_nodes AS r ON r.id = e.rule_id;

COMMENT ON VIEW tributary.lineage_edge_list IS
    'Lineage edges with their job, ends and rule named by asset keys';

-- ---------------------------------------------------------------------
-- Lineage: recording (the consumer's calls; owner or tributary_writer)
-- ---------------------------------------------------------------------

-- lineage_job_id: the node of a job, created on first use.
CREATE FUNCTION tributary.lineage_job_id(job_namespace text, job_name text, fn text)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
BEGIN
    IF coalesce(job_namespace, '') = '' OR coalesce(job_name, '') = '' THEN
        RAISE EXCEPTION '%: job_namespace and job_name must not be null or empty', fn
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO tributary.lineage_nodes AS n (kind, namespace, name)
    VALUES ('job', job_namespace, job_name)
    ON CONFLICT ON CONSTRAINT lineage_nodes_identity_key
    DO UPDATE SET last_seen = excluded.last_seen
    RETURNING n.id INTO job;
    RETURN job;
END
$$;

-- lineage_graph_refs: every dataset and field a graph document names, with
-- the place it is named (for error messages) and its types.
CREATE FUNCTION tributary.lineage_graph_refs(graph jsonb)
RETURNS TABLE (place text, namespace text, name text, field text,
               dataset_type text, data_type text)
LANGUAGE sql
IMMUTABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT format('datasets[%s]', d.i - 1), d.v->>'namespace', d.v->>'name', '',
           d.v->>'type', NULL::text
      FROM jsonb_array_elements(coalesce(graph->'datasets', '[]')) WITH ORDINALITY AS d(v, i)
    UNION ALL
    SELECT format('datasets[%s].fields[%s]', d.i - 1, f.i - 1), d.v->>'namespace',
           d.v->>'name', coalesce(f.v->>'name', ''), NULL, f.v->>'type'
      FROM jsonb_array_elements(coalesce(graph->'datasets', '[]')) WITH ORDINALITY AS d(v, i),
           jsonb_array_elements(CASE jsonb_typeof(d.v->'fields') WHEN 'array' THEN d.v->'fields'
                                ELSE '[]' END) WITH ORDINALITY AS f(v, i)
    UNION ALL
    SELECT format('edges[%s].%s', e.i - 1, s.side), s.ref->>'namespace', s.ref->>'name',
           coalesce(s.ref->>'field', ''), NULL, NULL
      FROM jsonb_array_elements(coalesce(graph->'edges', '[]')) WITH ORDINALITY AS e(v, i)
     CROSS JOIN LATERAL (VALUES ('from', e.v->'from'), ('to', e.v->'to')) AS s(side, ref)
     WHERE jsonb_typeof(s.ref) = 'object'
$$;

-- lineage_graph_check: refuse a malformed graph document with a message
-- that names the offending place.
CREATE FUNCTION tributary.lineage_graph_check(graph jsonb)
RETURNS void
LANGUAGE plpgsql
IMMUTABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bad text;
    k text;
BEGIN
    IF jsonb_typeof(graph) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'tributary.lineage_record: graph must be a JSON object with arrays "datasets", "rules" and "edges"'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOREACH k IN ARRAY ARRAY['datasets', 'rules', 'edges'] LOOP
        IF graph ? k AND (jsonb_typeof(graph->k) <> 'array' OR EXISTS (
               SELECT FROM jsonb_array_elements(graph->k) AS x(v)
                WHERE jsonb_typeof(x.v) <> 'object')) THEN
            RAISE EXCEPTION 'tributary.lineage_record: graph.% must be an array of objects', k
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    SELECT r.place INTO bad
      FROM tributary.lineage_graph_refs(graph) AS r
     WHERE coalesce(r.namespace, '') = '' OR coalesce(r.name, '') = ''
        OR (r.place LIKE '%.fields[%' AND r.field = '')
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'tributary.lineage_record: graph.% needs a non-empty "namespace" and "name"%', bad,
                        CASE WHEN bad LIKE '%.fields[%' THEN ' (and the field a "name")' ELSE '' END
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT format('rules[%s]', x.i - 1) INTO bad
      FROM jsonb_array_elements(coalesce(graph->'rules', '[]')) WITH ORDINALITY AS x(v, i)
     WHERE coalesce(x.v->>'name', '') = '' OR coalesce(x.v->>'kind', '') = ''
        OR jsonb_typeof(coalesce(x.v->'masking', 'false')) <> 'boolean'
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'tributary.lineage_record: graph.% needs a "name", a "kind" and a boolean "masking"', bad
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT format('edges[%s]', x.i - 1) INTO bad
      FROM jsonb_array_elements(coalesce(graph->'edges', '[]')) WITH ORDINALITY AS x(v, i)
     WHERE coalesce(x.v->>'kind', '') <> ALL (ARRAY['read', 'write', 'derive'])
        OR (x.v->>'kind' IN ('read', 'derive') AND jsonb_typeof(x.v->'from') IS DISTINCT FROM 'object')
        OR (x.v->>'kind' IN ('write', 'derive') AND jsonb_typeof(x.v->'to') IS DISTINCT FROM 'object')
        OR (x.v->>'kind' = 'read' AND x.v ? 'to') OR (x.v->>'kind' = 'write' AND x.v ? 'from')
        OR jsonb_typeof(coalesce(x.v->'masking', 'false')) <> 'boolean'
        OR coalesce(x.v->>'type', 'DIRECT') <> ALL (ARRAY['DIRECT', 'INDIRECT'])
        OR coalesce(x.v->>'subtype', 'IDENTITY') <> ALL (ARRAY['IDENTITY', 'TRANSFORMATION',
               'AGGREGATION', 'FILTER', 'JOIN', 'GROUP_BY', 'SORT', 'WINDOW', 'CONDITIONAL'])
     LIMIT 1;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'tributary.lineage_record: graph.% is not a valid edge', bad
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'An edge has "kind" read (with "from"; it goes to the job), write (with "to"; it comes from the job) or derive (with "from" and "to"); ends are {"namespace", "name"[, "field"]}; "masking" is a boolean; "type" is DIRECT or INDIRECT; "subtype" is IDENTITY, TRANSFORMATION, AGGREGATION, FILTER, JOIN, GROUP_BY, SORT, WINDOW or CONDITIONAL.';
    END IF;
END
$$;

-- lineage_ref_id: the node a graph reference names (a dataset, or a field
-- when it has one); NULL for a missing reference.
CREATE FUNCTION tributary.lineage_ref_id(ref jsonb)
RETURNS bigint
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT n.id
      FROM tributary.lineage_nodes AS n
     WHERE n.kind = CASE WHEN coalesce(ref->>'field', '') = '' THEN 'dataset' ELSE 'field' END
       AND n.namespace = ref->>'namespace'
       AND n.name = ref->>'name'
       AND n.field = coalesce(ref->>'field', '')
$$;

-- lineage_record: record a version of a job's graph, as the consumer
-- derives it from its compiled pipeline at start and on every config
-- change.  The document:
--   {"datasets": [{"namespace", "name", "type", "fields": [{"name", "type"}]}],
--    "rules":    [{"name", "kind", "masking"}],
--    "edges":    [{"kind": "read"|"write"|"derive", "from": REF, "to": REF,
--                  "type": "DIRECT"|"INDIRECT", "subtype": "IDENTITY"|...,
--                  "masking": bool, "rule": "rule name"}]}
-- where REF is {"namespace", "name"[, "field"]}; a read edge goes to the
-- job and has no "to", a write edge comes from the job and has no "from".
-- An edge's masking defaults to its rule's.  Nodes are created or
-- updated; edges the new version has are (re)made current, the job's
-- other edges are retired and keep their counts and last_seen.  The same
-- graph and config again returns the current version unchanged.  With a
-- run_id, a new version is logged as a config_change of that run.
-- Returns the graph version.
CREATE FUNCTION tributary.lineage_record(
    job_namespace      text,
    job_name           text,
    graph              jsonb,
    config_fingerprint text DEFAULT NULL,
    run_id             uuid DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
    fp text;
    prev record;
    ver integer;
    e record;
    from_id bigint;
    to_id bigint;
    rule_id bigint;
    rule_masking boolean;
BEGIN
    PERFORM tributary.lineage_graph_check(graph);
    job := tributary.lineage_job_id(job_namespace, job_name, 'tributary.lineage_record');
    PERFORM FROM tributary.lineage_nodes AS n WHERE n.id = job FOR UPDATE;
    IF lineage_record.run_id IS NOT NULL AND NOT EXISTS (
           SELECT FROM tributary.lineage_runs AS r
            WHERE r.run_id = lineage_record.run_id AND r.job_id = job) THEN
        RAISE EXCEPTION 'tributary.lineage_record: run % is not a run of job %/%',
                        lineage_record.run_id, job_namespace, job_name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Start the run first with tributary.lineage_run_start().';
    END IF;

    fp := encode(sha256(convert_to(graph::text, 'UTF8')), 'hex');
    SELECT g.version, g.fingerprint, g.config_fingerprint INTO prev
      FROM tributary.lineage_graphs AS g
     WHERE g.job_id = job
     ORDER BY g.version DESC
     LIMIT 1;
    IF FOUND AND prev.fingerprint = fp
       AND prev.config_fingerprint IS NOT DISTINCT FROM lineage_record.config_fingerprint THEN
        RETURN prev.version;
    END IF;
    ver := coalesce(prev.version, 0) + 1;
    INSERT INTO tributary.lineage_graphs (job_id, version, fingerprint, config_fingerprint, graph)
    VALUES (job, ver, fp, lineage_record.config_fingerprint, graph);

    -- Datasets, then fields, then rules.
    INSERT INTO tributary.lineage_nodes AS n (kind, namespace, name, dataset_type)
    SELECT DISTINCT ON (r.namespace, r.name) 'dataset', r.namespace, r.name, r.dataset_type
      FROM tributary.lineage_graph_refs(graph) AS r
     ORDER BY r.namespace, r.name, r.dataset_type NULLS LAST
    ON CONFLICT ON CONSTRAINT lineage_nodes_identity_key
    DO UPDATE SET dataset_type = coalesce(excluded.dataset_type, n.dataset_type),
                  last_seen = excluded.last_seen;
    INSERT INTO tributary.lineage_nodes AS n (kind, namespace, name, field, parent_id, data_type)
    SELECT DISTINCT ON (r.namespace, r.name, r.field) 'field', r.namespace, r.name, r.field,
           d.id, r.data_type
      FROM tributary.lineage_graph_refs(graph) AS r
      JOIN tributary.lineage_nodes AS d
        ON d.kind = 'dataset' AND d.namespace = r.namespace AND d.name = r.name AND d.field = ''
     WHERE r.field <> ''
     ORDER BY r.namespace, r.name, r.field, r.data_type NULLS LAST
    ON CONFLICT ON CONSTRAINT lineage_nodes_identity_key
    DO UPDATE SET data_type = coalesce(excluded.data_type, n.data_type),
                  last_seen = excluded.last_seen;
    INSERT INTO tributary.lineage_nodes AS n (kind, namespace, name, field, parent_id, rule_kind, masking)
    SELECT DISTINCT ON (x.v->>'name') 'rule', job_namespace, job_name, x.v->>'name', job,
           x.v->>'kind', coalesce((x.v->'masking')::boolean, false)
      FROM jsonb_array_elements(coalesce(graph->'rules', '[]')) WITH ORDINALITY AS x(v, i)
     ORDER BY x.v->>'name', x.i DESC
    ON CONFLICT ON CONSTRAINT lineage_nodes_identity_key
    DO UPDATE SET rule_kind = excluded.rule_kind, masking = excluded.masking,
                  last_seen = excluded.last_seen;

    -- Edges.
    FOR e IN
        SELECT x.i - 1 AS i, x.v
          FROM jsonb_array_elements(coalesce(graph->'edges', '[]')) WITH ORDINALITY AS x(v, i)
         ORDER BY x.i
    LOOP
        from_id := CASE WHEN e.v->>'kind' = 'write' THEN job
                        ELSE tributary.lineage_ref_id(e.v->'from') END;
        to_id := CASE WHEN e.v->>'kind' = 'read' THEN job
                      ELSE tributary.lineage_ref_id(e.v->'to') END;
        rule_id := NULL;
        rule_masking := NULL;
        IF e.v->>'rule' IS NOT NULL THEN
            SELECT n.id, n.masking INTO rule_id, rule_masking
              FROM tributary.lineage_nodes AS n
             WHERE n.kind = 'rule' AND n.parent_id = job AND n.field = e.v->>'rule';
            IF NOT FOUND THEN
                RAISE EXCEPTION 'tributary.lineage_record: graph.edges[%] names rule "%", which graph.rules does not list',
                                e.i, e.v->>'rule'
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
        END IF;
        INSERT INTO tributary.lineage_edges AS x
               (from_id, to_id, kind, transformation_type, transformation_subtype,
                masking, rule_id, job_id, graph_version)
        VALUES (from_id, to_id, e.v->>'kind', coalesce(e.v->>'type', 'DIRECT'),
                coalesce(e.v->>'subtype', 'IDENTITY'),
                coalesce((e.v->'masking')::boolean, rule_masking, false),
                rule_id, job, ver)
        ON CONFLICT ON CONSTRAINT lineage_edges_identity_key
        DO UPDATE SET transformation_type = excluded.transformation_type,
                      transformation_subtype = excluded.transformation_subtype,
                      masking = excluded.masking,
                      graph_version = excluded.graph_version,
                      retired_at = NULL;
    END LOOP;
    UPDATE tributary.lineage_edges AS x
       SET retired_at = now()
     WHERE x.job_id = job AND x.graph_version < ver AND x.retired_at IS NULL;

    IF lineage_record.run_id IS NOT NULL THEN
        INSERT INTO tributary.lineage_audit (run_id, operation, config_fingerprint, graph_version, detail)
        VALUES (lineage_record.run_id, 'config_change', lineage_record.config_fingerprint, ver,
                jsonb_build_object('previous_graph_version', prev.version));
        UPDATE tributary.lineage_runs AS r
           SET config_fingerprint = lineage_record.config_fingerprint
         WHERE r.run_id = lineage_record.run_id;
    END IF;
    RETURN ver;
END
$$;

COMMENT ON FUNCTION tributary.lineage_record(text, text, jsonb, text, uuid) IS
    'Record a version of a job''s lineage graph (datasets, fields, rules, edges); returns the graph version';

-- lineage_count: add the events counted since the last call to edges (by
-- id, see lineage_edge_list), and set their last_seen and last position.
-- The consumer calls it at most once per checkpoint.  Returns the number
-- of edges updated.
CREATE FUNCTION tributary.lineage_count(
    edge_ids        bigint[],
    events          bigint[],
    source_position jsonb DEFAULT NULL)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nrows integer;
BEGIN
    IF edge_ids IS NULL OR events IS NULL
       OR cardinality(edge_ids) <> cardinality(events) THEN
        RAISE EXCEPTION 'tributary.lineage_count: edge_ids and events must be arrays of the same length'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF EXISTS (SELECT FROM unnest(events) AS c(n) WHERE c.n IS NULL OR c.n < 0) THEN
        RAISE EXCEPTION 'tributary.lineage_count: events must be counts >= 0'
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tributary.lineage_edges AS e
       SET event_count = e.event_count + c.n,
           last_seen = now(),
           last_position = coalesce(lineage_count.source_position, e.last_position)
      FROM (SELECT u.id, sum(u.n)::bigint AS n
              FROM unnest(edge_ids, events) AS u(id, n)
             GROUP BY u.id) AS c
     WHERE e.id = c.id AND c.n > 0;
    GET DIAGNOSTICS nrows = ROW_COUNT;
    RETURN nrows;
END
$$;

COMMENT ON FUNCTION tributary.lineage_count(bigint[], bigint[], jsonb) IS
    'Add event counts to lineage edges and set their last_seen and last position (once per checkpoint)';

-- lineage_run_start: start a run of a job (logged as "start"); the same
-- run_id again is a harmless retry.
CREATE FUNCTION tributary.lineage_run_start(
    job_namespace      text,
    job_name           text,
    run_id             uuid,
    config_fingerprint text DEFAULT NULL,
    detail             jsonb DEFAULT '{}')
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    job bigint;
BEGIN
    job := tributary.lineage_job_id(job_namespace, job_name, 'tributary.lineage_run_start');
    IF lineage_run_start.run_id IS NULL THEN
        RAISE EXCEPTION 'tributary.lineage_run_start: run_id must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;
    INSERT INTO tributary.lineage_runs AS r (run_id, job_id, config_fingerprint)
    VALUES (lineage_run_start.run_id, job, lineage_run_start.config_fingerprint)
    ON CONFLICT ON CONSTRAINT lineage_runs_pkey DO NOTHING;
    IF NOT FOUND THEN
        IF NOT EXISTS (SELECT FROM tributary.lineage_runs AS r
                        WHERE r.run_id = lineage_run_start.run_id AND r.job_id = job) THEN
            RAISE EXCEPTION 'tributary.lineage_run_start: run % belongs to another job', lineage_run_start.run_id
                USING ERRCODE = 'unique_violation';
        END IF;
        RETURN lineage_run_start.run_id;
    END IF;
    INSERT INTO tributary.lineage_audit (run_id, operation, config_fingerprint, detail)
    VALUES (lineage_run_start.run_id, 'start', lineage_run_start.config_fingerprint,
            coalesce(lineage_run_start.detail, '{}'));
    RETURN lineage_run_start.run_id;
END
$$;

COMMENT ON FUNCTION tributary.lineage_run_start(text, text, uuid, text, jsonb) IS
    'Start a run of a lineage job (audit: start); idempotent';

-- lineage_log: log an operation of a running run: config_change,
-- schema_change (linked to the registry's schema id when subject and
-- version name one, soft-deleted or not), erasure_request or snapshot.
-- Returns the audit row's id.
CREATE FUNCTION tributary.lineage_log(
    run_id             uuid,
    operation          text,
    detail             jsonb DEFAULT '{}',
    source_position    jsonb DEFAULT NULL,
    schema_subject     text DEFAULT NULL,
    schema_version     integer DEFAULT NULL,
    config_fingerprint text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    st text;
    sid bigint;
    aid bigint;
BEGIN
    SELECT r.state INTO st FROM tributary.lineage_runs AS r
     WHERE r.run_id = lineage_log.run_id;
    IF st IS NULL THEN
        RAISE EXCEPTION 'tributary.lineage_log: unknown run %', lineage_log.run_id
            USING ERRCODE = 'invalid_parameter_value';
    ELSIF st <> 'RUNNING' THEN
        RAISE EXCEPTION 'tributary.lineage_log: run % has ended (%)', lineage_log.run_id, st
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF lineage_log.operation IS NULL OR lineage_log.operation <> ALL (ARRAY['config_change',
           'schema_change', 'erasure_request', 'snapshot']) THEN
        RAISE EXCEPTION 'tributary.lineage_log: unknown operation "%"', lineage_log.operation
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Operations: config_change, schema_change, erasure_request, snapshot (lineage_run_start and lineage_run_stop log start and stop).';
    END IF;
    SELECT v.schema_id INTO sid
      FROM tributary.registry_versions AS v
      JOIN tributary.registry_subjects AS j ON j.id = v.subject_id
     WHERE j.subject = lineage_log.schema_subject AND v.version = lineage_log.schema_version;
    INSERT INTO tributary.lineage_audit AS a
           (run_id, operation, config_fingerprint, schema_subject, schema_version,
            schema_id, source_position, detail)
    VALUES (lineage_log.run_id, lineage_log.operation, lineage_log.config_fingerprint,
            lineage_log.schema_subject, lineage_log.schema_version, sid,
            lineage_log.source_position, coalesce(lineage_log.detail, '{}'))
    RETURNING a.id INTO aid;
    IF lineage_log.operation = 'config_change' AND lineage_log.config_fingerprint IS NOT NULL THEN
        UPDATE tributary.lineage_runs AS r
           SET config_fingerprint = lineage_log.config_fingerprint
         WHERE r.run_id = lineage_log.run_id;
    END IF;
    RETURN aid;
END
$$;

COMMENT ON FUNCTION tributary.lineage_log(uuid, text, jsonb, jsonb, text, integer, text) IS
    'Log an operation of a running lineage run: config_change, schema_change, erasure_request, snapshot';

-- lineage_run_stop: end a run as COMPLETE, FAIL or ABORT (logged as
-- "stop", with the state in detail).
CREATE FUNCTION tributary.lineage_run_stop(
    run_id uuid,
    state  text DEFAULT 'COMPLETE',
    detail jsonb DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF lineage_run_stop.state IS NULL
       OR lineage_run_stop.state <> ALL (ARRAY['COMPLETE', 'FAIL', 'ABORT']) THEN
        RAISE EXCEPTION 'tributary.lineage_run_stop: state must be COMPLETE, FAIL or ABORT, not "%"',
                        lineage_run_stop.state
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    UPDATE tributary.lineage_runs AS r
       SET state = lineage_run_stop.state, ended_at = now()
     WHERE r.run_id = lineage_run_stop.run_id AND r.state = 'RUNNING';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tributary.lineage_run_stop: no running run %', lineage_run_stop.run_id
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    INSERT INTO tributary.lineage_audit (run_id, operation, detail)
    VALUES (lineage_run_stop.run_id, 'stop',
            coalesce(lineage_run_stop.detail, '{}')
            || jsonb_build_object('state', lineage_run_stop.state));
END
$$;

COMMENT ON FUNCTION tributary.lineage_run_stop(uuid, text, jsonb) IS
    'End a lineage run as COMPLETE, FAIL or ABORT (audit: stop)';

-- ---------------------------------------------------------------------
-- Lineage: the read API
-- ---------------------------------------------------------------------

-- lineage_hop: one node reached by a walk: its depth, the path from a
-- start node to it (node ids and asset keys), whether that path crosses a
-- masking edge, the edge that reached it, and the node's kind and parent
-- (a field's dataset).
CREATE TYPE tributary.lineage_hop AS (
    node_id   bigint,
    depth     integer,
    path      bigint[],
    assets    text[],
    masked    boolean,
    edge_id   bigint,
    kind      text,
    parent_id bigint
);

-- lineage_node_id: the node an asset names.  Its key (lineage_nodes.asset)
-- always works; a dataset's or field's key may leave out "dataset:" or
-- "field:".  An unknown asset is an error (42704).
CREATE FUNCTION tributary.lineage_node_id(asset text)
RETURNS bigint
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    nid bigint;
BEGIN
    SELECT n.id INTO nid FROM tributary.lineage_nodes AS n
     WHERE n.asset = lineage_node_id.asset;
    IF nid IS NULL THEN
        SELECT n.id INTO nid FROM tributary.lineage_nodes AS n
         WHERE n.asset IN ('dataset:' || lineage_node_id.asset, 'field:' || lineage_node_id.asset);
    END IF;
    IF nid IS NULL THEN
        RAISE EXCEPTION 'tributary: unknown lineage asset "%"', lineage_node_id.asset
            USING ERRCODE = 'undefined_object',
                  HINT = 'Name an asset by its key in tributary.lineage_nodes.asset, kind:namespace/name[#field], e.g. dataset:postgres://db:5432/shop.public.customers; datasets and fields may leave out their kind.';
    END IF;
    RETURN nid;
END
$$;

-- lineage_start_ids: where a walk from an asset starts: the node, and a
-- dataset's fields with it.
CREATE FUNCTION tributary.lineage_start_ids(asset text)
RETURNS bigint[]
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY[s.id] || ARRAY(SELECT n.id FROM tributary.lineage_nodes AS n
                                 WHERE n.parent_id = s.id AND n.kind = 'field'
                                 ORDER BY n.id)
      FROM (SELECT tributary.lineage_node_id($1) AS id) AS s
$$;

-- lineage_assets: node ids to asset keys, in order.
CREATE FUNCTION tributary.lineage_assets(ids bigint[])
RETURNS text[]
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY(SELECT n.asset
                   FROM unnest(ids) WITH ORDINALITY AS p(id, o)
                   JOIN tributary.lineage_nodes AS n ON n.id = p.id
                  ORDER BY p.o)
$$;

-- lineage_walk: breadth-first walk over current edges from start_ids,
-- downstream (along edges) or upstream (against them), at most max_depth
-- edges deep.  Each node is returned once, at its smallest depth, with one
-- shortest path (an unmasked one when there is one).  A node already
-- reached is never expanded again, so cycles end the walk and the work is
-- bounded by the edges of the nodes reached, not by the number of paths.
-- Each step is one query: the frontier (an array of hops, each carrying
-- its path) probes lineage_edges_from_idx (or _to_idx), drops the nodes
-- seen (a hash anti-join), keeps one edge per new node, and looks the new
-- node up once by primary key for its asset key, kind and parent.
CREATE FUNCTION tributary.lineage_walk(start_ids bigint[], direction text, max_depth integer)
RETURNS SETOF tributary.lineage_hop
LANGUAGE plpgsql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    frontier tributary.lineage_hop[];
    seen bigint[];
    step integer := 0;
    down boolean := direction = 'downstream';
BEGIN
    IF direction IS NULL OR direction NOT IN ('downstream', 'upstream') THEN
        RAISE EXCEPTION 'tributary: direction must be downstream or upstream, not "%"', direction
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF max_depth IS NULL OR max_depth < 0 THEN
        RAISE EXCEPTION 'tributary: max_depth must be 0 or more, not %', coalesce(max_depth::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT array_agg(ROW(n.id, 0, ARRAY[n.id], ARRAY[n.asset], false, NULL, n.kind,
                         n.parent_id)::tributary.lineage_hop ORDER BY n.id),
           array_agg(n.id)
      INTO frontier, seen
      FROM tributary.lineage_nodes AS n
     WHERE n.id = ANY (start_ids);
    IF frontier IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY SELECT * FROM unnest(frontier);
    WHILE step < max_depth LOOP
        step := step + 1;
        -- One branch of the UNION runs: a one-time filter on `down`.
        SELECT array_agg(ROW(s.node, step, s.path || s.node, s.assets || n.asset, s.masked,
                             s.edge, n.kind, n.parent_id)::tributary.lineage_hop ORDER BY s.node)
          INTO frontier
          FROM (SELECT DISTINCT ON (c.node) c.node, c.path, c.assets, c.masked, c.edge
                  FROM (SELECT e.to_id AS node, f.node_id AS parent, f.path, f.assets,
                               f.masked OR e.masking AS masked, e.id AS edge
                          FROM unnest(frontier) AS f
                          JOIN tributary.lineage_edges AS e
                            ON e.from_id = f.node_id AND e.retired_at IS NULL
                         WHERE down
                        UNION ALL
                        SELECT e.from_id, f.node_id, f.path, f.assets,
                               f.masked OR e.masking, e.id
                          FROM unnest(frontier) AS f
                          JOIN tributary.lineage_edges AS e
                            ON e.to_id = f.node_id AND e.retired_at IS NULL
                         WHERE NOT down) AS c
                 WHERE NOT EXISTS (SELECT FROM unnest(seen) AS v(id) WHERE v.id = c.node)
                 ORDER BY c.node, c.masked, c.parent, c.edge) AS s
         CROSS JOIN LATERAL (SELECT x.asset, x.kind, x.parent_id
                               FROM tributary.lineage_nodes AS x
                              WHERE x.id = s.node OFFSET 0) AS n;
        EXIT WHEN frontier IS NULL;
        RETURN QUERY SELECT * FROM unnest(frontier);
        seen := seen || ARRAY(SELECT f.node_id FROM unnest(frontier) AS f);
    END LOOP;
END
$$;

COMMENT ON FUNCTION tributary.lineage_walk(bigint[], text, integer) IS
    'Breadth-first walk over current lineage edges: each node once, at its smallest depth, with a shortest path';

-- lineage_walk_rows: the nodes a walk from an asset reaches (depth 1 and
-- more), named.
CREATE FUNCTION tributary.lineage_walk_rows(asset text, direction text, max_depth integer)
RETURNS TABLE (node text, kind text, namespace text, name text, field text,
               depth integer, path text[], masked boolean)
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT n.asset, n.kind, n.namespace, n.name, n.field, w.depth, w.assets, w.masked
      FROM tributary.lineage_walk(tributary.lineage_start_ids($1), $2, $3) AS w
      JOIN tributary.lineage_nodes AS n ON n.id = w.node_id
     WHERE w.depth > 0
     ORDER BY w.depth, n.asset
$$;

-- upstream: every node the asset comes from, at most max_depth edges
-- away: one row per node, with its depth and a shortest path (from the
-- asset back to the node).  A dataset stands for itself and its fields.
CREATE FUNCTION tributary.upstream(asset text, max_depth integer DEFAULT 10)
RETURNS TABLE (node text, kind text, namespace text, name text, field text,
               depth integer, path text[], masked boolean)
LANGUAGE sql
STABLE
STRICT
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM tributary.lineage_walk_rows($1, 'upstream', $2)
$$;

COMMENT ON FUNCTION tributary.upstream(text, integer) IS
    'Every lineage node an asset comes from, with its depth and a shortest path';

-- downstream: every node the asset flows to, likewise.
CREATE FUNCTION tributary.downstream(asset text, max_depth integer DEFAULT 10)
RETURNS TABLE (node text, kind text, namespace text, name text, field text,
               depth integer, path text[], masked boolean)
LANGUAGE sql
STABLE
STRICT
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT * FROM tributary.lineage_walk_rows($1, 'downstream', $2)
$$;

COMMENT ON FUNCTION tributary.downstream(text, integer) IS
    'Every lineage node an asset flows to, with its depth and a shortest path';

-- impact: every dataset, field and job affected if the asset changes: the
-- nodes downstream, the datasets of the fields reached, and the jobs that
-- read the asset or any node reached (one edge further).  One row per
-- node at its smallest depth; masked says whether that path passes
-- through masking (an unmasked path is preferred when there are several).
CREATE FUNCTION tributary.impact(asset text, max_depth integer DEFAULT 10)
RETURNS TABLE (node text, kind text, namespace text, name text, field text,
               depth integer, path text[], masked boolean)
LANGUAGE sql
STABLE
STRICT
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH w AS MATERIALIZED (
        SELECT * FROM tributary.lineage_walk(tributary.lineage_start_ids($1), 'downstream', $2)),
    -- every node hit, the node whose path leads there (base) and whether
    -- the hit is a job one edge past it; the start nodes are hit at depth
    -- 0 and left out after the choice
    hit (node_id, depth, masked, base, via_edge) AS (
        SELECT w.node_id, w.depth, w.masked, w.node_id, false FROM w
        UNION ALL
        SELECT w.parent_id, w.depth, w.masked, w.node_id, false
          FROM w WHERE w.kind = 'field' AND w.depth > 0
        UNION ALL
        SELECT e.job_id, w.depth + 1, w.masked, w.node_id, true
          FROM w JOIN tributary.lineage_edges AS e
            ON e.from_id = w.node_id AND e.retired_at IS NULL
         WHERE w.depth < $2),
    best AS (
        SELECT DISTINCT ON (h.node_id) h.*
          FROM hit AS h
         ORDER BY h.node_id, h.depth, h.masked, h.via_edge, h.base)
    SELECT n.asset, n.kind, n.namespace, n.name, n.field, b.depth,
           CASE WHEN b.via_edge THEN wb.assets || n.asset ELSE wb.assets END, b.masked
      FROM best AS b
      JOIN tributary.lineage_nodes AS n ON n.id = b.node_id
      JOIN w AS wb ON wb.node_id = b.base
     WHERE b.depth > 0
     ORDER BY b.depth, n.asset
$$;

COMMENT ON FUNCTION tributary.impact(text, integer) IS
    'Every dataset, field and job affected if an asset changes, with depth, path and whether the path passes masking';

-- lineage_path: the shortest paths from one asset to another along
-- current edges, at most max_depth edges long; no rows when there is none.
-- Found by a walk from each end: an edge lies on a shortest path when the
-- two walks' depths across it add up to the distance, and only those
-- edges are followed to list the paths.  masked: the path crosses an edge
-- that masks (when two edges join the same nodes, both must mask).
CREATE FUNCTION tributary.lineage_path(from_asset text, to_asset text, max_depth integer DEFAULT 10)
RETURNS TABLE (depth integer, path text[], masked boolean)
LANGUAGE plpgsql
STABLE
STRICT
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict use_column
DECLARE
    src bigint := tributary.lineage_node_id(from_asset);
    dst bigint := tributary.lineage_node_id(to_asset);
    dist integer;
BEGIN
    SELECT w.depth INTO dist
      FROM tributary.lineage_walk(ARRAY[src], 'downstream', max_depth) AS w
     WHERE w.node_id = dst;
    IF dist IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY
    WITH RECURSIVE fw AS (
        SELECT w.node_id, w.depth FROM tributary.lineage_walk(ARRAY[src], 'downstream', dist) AS w),
    bw AS (
        SELECT w.node_id, w.depth FROM tributary.lineage_walk(ARRAY[dst], 'upstream', dist) AS w),
    dag AS (
        SELECT e.from_id, e.to_id, bool_and(e.masking) AS masking
          FROM tributary.lineage_edges AS e
          JOIN fw ON fw.node_id = e.from_id
          JOIN bw ON bw.node_id = e.to_id
         WHERE e.retired_at IS NULL AND fw.depth + 1 + bw.depth = dist
         GROUP BY e.from_id, e.to_id),
    p (node_id, steps, ids, masked) AS (
        SELECT src, 0, ARRAY[src], false
        UNION ALL
        SELECT dag.to_id, p.steps + 1, p.ids || dag.to_id, p.masked OR dag.masking
          FROM p JOIN dag ON dag.from_id = p.node_id
         WHERE p.steps < dist)
    SELECT dist, tributary.lineage_assets(p.ids), p.masked
      FROM p
     WHERE p.node_id = dst
     ORDER BY 2;
END
$$;

COMMENT ON FUNCTION tributary.lineage_path(text, text, integer) IS
    'The shortest lineage paths from one asset to another, and whether each passes masking';

-- unmasked_paths: every path along derive edges that masks nothing, from
-- the asset's fields (the asset itself when it is a field or has none) to
-- a sink: a dataset that a job writes, or a field of one.  Paths are
-- listed whole, at most max_depth edges long, and never visit a node twice
-- (the path array), so cycles end them.  rules: the rules the path passes.
CREATE FUNCTION tributary.unmasked_paths(asset text, max_depth integer DEFAULT 10)
RETURNS TABLE (source text, sink text, depth integer, path text[], rules text[])
LANGUAGE sql
STABLE
STRICT
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE s AS (
        SELECT unnest(CASE WHEN cardinality(ids) > 1 THEN ids[2:] ELSE ids END) AS id
          FROM (SELECT tributary.lineage_start_ids($1) AS ids) AS x),
    p (src, node_id, steps, ids, rule_ids) AS (
        SELECT s.id, s.id, 0, ARRAY[s.id], ARRAY[]::bigint[] FROM s
        UNION ALL
        SELECT p.src, e.to_id, p.steps + 1, p.ids || e.to_id,
               CASE WHEN e.rule_id IS NULL THEN p.rule_ids ELSE p.rule_ids || e.rule_id END
          FROM p
          JOIN tributary.lineage_edges AS e
            ON e.from_id = p.node_id AND e.retired_at IS NULL
               AND e.kind = 'derive' AND NOT e.masking
         WHERE p.steps < $2 AND e.to_id <> ALL (p.ids))
    SELECT sn.asset, tn.asset, p.steps, tributary.lineage_assets(p.ids),
           ARRAY(SELECT r.field FROM unnest(p.rule_ids) WITH ORDINALITY AS u(id, o)
                   JOIN tributary.lineage_nodes AS r ON r.id = u.id ORDER BY u.o)
      FROM p
      JOIN tributary.lineage_nodes AS sn ON sn.id = p.src
      JOIN tributary.lineage_nodes AS tn ON tn.id = p.node_id
     WHERE p.steps > 0
       AND EXISTS (SELECT FROM tributary.lineage_edges AS w
                    WHERE w.kind = 'write' AND w.retired_at IS NULL
                      AND (w.to_id = tn.id OR w.to_id = tn.parent_id))
     ORDER BY 1, 2, 4
$$;

COMMENT ON FUNCTION tributary.unmasked_paths(text, integer) IS
    'Every path from an asset''s fields to a sink that passes no masking rule';

-- lineage_dot_string: a DOT quoted string.
CREATE FUNCTION tributary.lineage_dot_string(s text)
RETURNS text
LANGUAGE sql
IMMUTABLE
STRICT
PARALLEL SAFE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '"' || replace(replace(replace(replace(s, '\', '\\'), '"', '\"'), E'\r', ''), E'\n', '\n') || '"'
$$;

-- lineage_dot: a Graphviz digraph of what an asset reaches (downstream),
-- comes from (upstream) or both, with the current edges between those
-- nodes.  Datasets are cylinders, fields boxes, jobs components; the asset
-- is drawn bold.  Masked edges are dashed and green, labelled with their
-- rule; read and write edges are labelled with their kind.
CREATE FUNCTION tributary.lineage_dot(asset text, direction text DEFAULT 'downstream',
                                      max_depth integer DEFAULT 10)
RETURNS text
LANGUAGE plpgsql
STABLE
STRICT
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    start bigint[] := tributary.lineage_start_ids(asset);
    ids bigint[];
    nodes text;
    edges text;
BEGIN
    IF direction NOT IN ('downstream', 'upstream', 'both') THEN
        RAISE EXCEPTION 'tributary.lineage_dot: direction must be downstream, upstream or both, not "%"', direction
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT array_agg(DISTINCT w.node_id) INTO ids
      FROM (SELECT x.node_id FROM tributary.lineage_walk(start, 'downstream', max_depth) AS x
             WHERE direction IN ('downstream', 'both')
            UNION ALL
            SELECT x.node_id FROM tributary.lineage_walk(start, 'upstream', max_depth) AS x
             WHERE direction IN ('upstream', 'both')) AS w;
    SELECT string_agg(format('  n%s [label=%s, shape=%s%s];', n.id,
                             tributary.lineage_dot_string(CASE n.kind WHEN 'field'
                                 THEN n.name || E'\n' || n.field ELSE n.name END),
                             CASE n.kind WHEN 'dataset' THEN 'cylinder' WHEN 'field' THEN 'box'
                                         ELSE 'component' END,
                             CASE WHEN n.id = start[1] THEN ', penwidth=2' ELSE '' END),
                      E'\n' ORDER BY n.asset)
      INTO nodes
      FROM tributary.lineage_nodes AS n
     WHERE n.id = ANY (ids);
    SELECT string_agg(format('  n%s -> n%s [label=%s%s];', e.from_id, e.to_id,
                             tributary.lineage_dot_string(coalesce(r.field,
                                 CASE WHEN e.kind = 'derive' THEN '' ELSE e.kind END)),
                             CASE WHEN e.masking
                                  THEN ', style=dashed, color="#1a7f37", fontcolor="#1a7f37"'
                                  ELSE '' END),
                      E'\n' ORDER BY f.asset, t.asset, e.id)
      INTO edges
      FROM tributary.lineage_edges AS e
      JOIN tributary.lineage_nodes AS f ON f.id = e.from_id
      JOIN tributary.lineage_nodes AS t ON t.id = e.to_id
      LEFT JOIN tributary.lineage_nodes AS r ON r.id = e.rule_id
     WHERE e.retired_at IS NULL AND e.from_id = ANY (ids) AND e.to_id = ANY (ids);
    RETURN 'digraph lineage {' || E'\n'
        || '  rankdir=LR;' || E'\n'
        || '  node [fontname="Helvetica", fontsize=10];' || E'\n'
        || '  edge [fontname="Helvetica", fontsize=9];' || E'\n'
        || coalesce(nodes || E'\n', '')
        || coalesce(edges || E'\n', '')
        || '}' || E'\n';
END
$$;

COMMENT ON FUNCTION tributary.lineage_dot(text, text, integer) IS
    'A Graphviz digraph of an asset''s lineage (downstream, upstream or both); masked edges dashed';

-- ---------------------------------------------------------------------
-- Lineage: OpenLineage export
-- ---------------------------------------------------------------------

-- lineage_ol_facet: an OpenLineage facet: the body with the _producer and
-- _schemaURL every facet carries.
CREATE FUNCTION tributary.lineage_ol_facet(schema_url text, body jsonb)
RETURNS jsonb
LANGUAGE sql
IMMUTABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('_producer', 'https://tributary.invalid/pg_ext/0.5',
                              '_schemaURL', schema_url) || body
$$;

-- lineage_ol_dataset: a dataset of a job's current graph as an OpenLineage
-- input or output: its schema facet (its known fields), and for an output
-- the columnLineage facet of the job's derive edges into its fields, each
-- input field's transformations carrying the masking flag.
CREATE FUNCTION tributary.lineage_ol_dataset(dataset_id bigint, job_id bigint, output boolean)
RETURNS jsonb
LANGUAGE sql
STABLE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT jsonb_build_object('namespace', d.namespace, 'name', d.name, 'facets',
        jsonb_build_object('schema', tributary.lineage_ol_facet(
            'https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet',
            jsonb_build_object('fields', coalesce((
                SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('name', f.field, 'type', f.data_type))
                                 ORDER BY f.field)
                  FROM tributary.lineage_nodes AS f
                 WHERE f.parent_id = d.id AND f.kind = 'field'), '[]'))))
        || CASE WHEN NOT output THEN '{}'::jsonb ELSE jsonb_build_object('columnLineage',
            tributary.lineage_ol_facet(
            'https://openlineage.io/spec/facets/1-2-0/ColumnLineageDatasetFacet.json#/$defs/ColumnLineageDatasetFacet',
            jsonb_build_object('fields', coalesce((
                SELECT jsonb_object_agg(c.field, jsonb_build_object('inputFields', c.inputs))
                  FROM (SELECT o.field,
                               jsonb_agg(jsonb_build_object(
                                   'namespace', i.namespace, 'name', i.name, 'field', i.field,
                                   'transformations', jsonb_build_array(jsonb_strip_nulls(jsonb_build_object(
                                       'type', e.transformation_type,
                                       'subtype', e.transformation_subtype,
                                       'description', CASE WHEN r.id IS NOT NULL
                                                           THEN r.field || ' (' || r.rule_kind || ')' END,
                                       'masking', e.masking))))
                                   ORDER BY i.namespace, i.name, i.field, e.id) AS inputs
                          FROM tributary.lineage_edges AS e
                          JOIN tributary.lineage_nodes AS o ON o.id = e.to_id
                          JOIN tributary.lineage_nodes AS i ON i.id = e.from_id
                          LEFT JOIN tributary.lineage_nodes AS r ON r.id = e.rule_id
                         WHERE e.job_id = lineage_ol_dataset.job_id AND e.kind = 'derive'
                           AND e.retired_at IS NULL AND o.parent_id = d.id
                           AND o.kind = 'field' AND i.kind = 'field'
                         GROUP BY o.field) AS c), '{}')))) END)
      FROM tributary.lineage_nodes AS d
     WHERE d.id = dataset_id
$$;

-- openlineage_events: the OpenLineage RunEvents of a run, one per entry of
-- its audit log, oldest first: start is START, stop is COMPLETE, FAIL or
-- ABORT, every other operation RUNNING.  Inputs are the datasets the job's
-- current graph reads or derives from, outputs those it writes or derives
-- into (with columnLineage).  The run facet "tributary_audit" carries the
-- operation and its details; the job facet jobType says STREAMING.  An
-- unknown run gives no rows.
CREATE FUNCTION tributary.openlineage_events(run uuid)
RETURNS SETOF jsonb
LANGUAGE sql
STABLE
STRICT
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH r AS (
        SELECT x.run_id, x.job_id, j.namespace, j.name
          FROM tributary.lineage_runs AS x
          JOIN tributary.lineage_nodes AS j ON j.id = x.job_id
         WHERE x.run_id = $1),
    io AS (
        SELECT coalesce(jsonb_agg(tributary.lineage_ol_dataset(s.id, r.job_id, false) ORDER BY s.asset)
                        FILTER (WHERE s.is_input), '[]') AS inputs,
               coalesce(jsonb_agg(tributary.lineage_ol_dataset(s.id, r.job_id, true) ORDER BY s.asset)
                        FILTER (WHERE s.is_output), '[]') AS outputs
          FROM r
          LEFT JOIN LATERAL (
              SELECT d.id, d.asset,
                     bool_or(e.kind IN ('read', 'derive') AND f.id = e.from_id) AS is_input,
                     bool_or(e.kind IN ('write', 'derive') AND f.id = e.to_id) AS is_output
                FROM tributary.lineage_edges AS e
                JOIN tributary.lineage_nodes AS f ON f.id IN (e.from_id, e.to_id)
                JOIN tributary.lineage_nodes AS d
                  ON d.kind = 'dataset' AND (d.id = f.id OR d.id = f.parent_id)
               WHERE e.job_id = r.job_id AND e.retired_at IS NULL
               GROUP BY d.id, d.asset) AS s ON true)
    SELECT jsonb_build_object(
               'eventType', CASE a.operation WHEN 'start' THEN 'START'
                                             WHEN 'stop' THEN coalesce(a.detail->>'state', 'COMPLETE')
                                             ELSE 'RUNNING' END,
               'eventTime', to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'producer', 'https://tributary.invalid/pg_ext/0.5',
               'schemaURL', 'https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent',
               'run', jsonb_build_object('runId', r.run_id, 'facets', jsonb_build_object(
                   'tributary_audit', tributary.lineage_ol_facet(
                       'https://tributary.invalid/spec/facets/TributaryAuditRunFacet.json',
                       jsonb_strip_nulls(jsonb_build_object(
                           'operation', a.operation,
                           'configFingerprint', a.config_fingerprint,
                           'graphVersion', a.graph_version,
                           'schemaSubject', a.schema_subject,
                           'schemaVersion', a.schema_version,
                           'schemaId', a.schema_id,
                           'sourcePosition', a.source_position,
                           'detail', a.detail))))),
               'job', jsonb_build_object('namespace', r.namespace, 'name', r.name, 'facets',
                   jsonb_build_object('jobType', tributary.lineage_ol_facet(
                       'https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json#/$defs/JobTypeJobFacet',
                       jsonb_build_object('processingType', 'STREAMING', 'integration', 'TRIBUTARY',
                                          'jobType', 'JOB')))),
               'inputs', io.inputs,
               'outputs', io.outputs)
      FROM r
      CROSS JOIN io
      JOIN tributary.lineage_audit AS a ON a.run_id = r.run_id
     ORDER BY a.id
$$;

COMMENT ON FUNCTION tributary.openlineage_events(uuid) IS
    'The OpenLineage RunEvents of a run (START, RUNNING, COMPLETE, FAIL, ABORT) with schema and columnLineage facets';

-- ---------------------------------------------------------------------
-- Lineage: privileges
-- ---------------------------------------------------------------------

REVOKE ALL ON TABLE tributary.lineage_nodes, tributary.lineage_edges,
    tributary.lineage_graphs, tributary.lineage_runs, tributary.lineage_audit,
    tributary.lineage_edge_list FROM PUBLIC;
GRANT SELECT ON TABLE tributary.lineage_nodes, tributary.lineage_edges,
    tributary.lineage_graphs, tributary.lineage_runs, tributary.lineage_audit,
    tributary.lineage_edge_list TO tributary_reader, tributary_writer;

REVOKE ALL ON FUNCTION tributary.lineage_key(text, text, text, text),
    tributary.lineage_job_id(text, text, text),
    tributary.lineage_graph_refs(jsonb),
    tributary.lineage_graph_check(jsonb),
    tributary.lineage_ref_id(jsonb),
    tributary.lineage_record(text, text, jsonb, text, uuid),
    tributary.lineage_count(bigint[], bigint[], jsonb),
    tributary.lineage_run_start(text, text, uuid, text, jsonb),
    tributary.lineage_log(uuid, text, jsonb, jsonb, text, integer, text),
    tributary.lineage_run_stop(uuid, text, jsonb),
    tributary.lineage_node_id(text),
    tributary.lineage_start_ids(text),
    tributary.lineage_assets(bigint[]),
    tributary.lineage_walk(bigint[], text, integer),
    tributary.lineage_walk_rows(text, text, integer),
    tributary.upstream(text, integer),
    tributary.downstream(text, integer),
    tributary.impact(text, integer),
    tributary.lineage_path(text, text, integer),
    tributary.unmasked_paths(text, integer),
    tributary.lineage_dot_string(text),
    tributary.lineage_dot(text, text, integer),
    tributary.lineage_ol_facet(text, jsonb),
    tributary.lineage_ol_dataset(bigint, bigint, boolean),
    tributary.openlineage_events(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tributary.lineage_key(text, text, text, text),
    tributary.lineage_node_id(text),
    tributary.lineage_start_ids(text),
    tributary.lineage_assets(bigint[]),
    tributary.lineage_walk(bigint[], text, integer),
    tributary.lineage_walk_rows(text, text, integer),
    tributary.upstream(text, integer),
    tributary.downstream(text, integer),
    tributary.impact(text, integer),
    tributary.lineage_path(text, text, integer),
    tributary.unmasked_paths(text, integer),
    tributary.lineage_dot_string(text),
    tributary.lineage_dot(text, text, integer),
    tributary.lineage_ol_facet(text, jsonb),
    tributary.lineage_ol_dataset(bigint, bigint, boolean),
    tributary.openlineage_events(uuid)
    TO tributary_reader, tributary_writer;
GRANT EXECUTE ON FUNCTION tributary.lineage_record(text, text, jsonb, text, uuid),
    tributary.lineage_count(bigint[], bigint[], jsonb),
    tributary.lineage_run_start(text, text, uuid, text, jsonb),
    tributary.lineage_log(uuid, text, jsonb, jsonb, text, integer, text),
    tributary.lineage_run_stop(uuid, text, jsonb)
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
    SELECT '0.5'::text
$$;
