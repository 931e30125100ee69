-- sql/tributary--0.5--0.6.sql: upgrade from 0.5 to 0.6.  CREATE EXTENSION
-- tributary installs 0.6 by running tributary--0.1.sql and the upgrade
-- scripts in order, so a fresh install and an upgraded one are built by the
-- same statements.
--
-- Version 0.6 adds the quarantine of incompatible schema versions
-- (docs/SCHEMA_REGISTRY.md, section 9).  A pipeline whose schema stage
-- runs with `on_incompatible: quarantine` registers a version its
-- subject's level refuses, records it here as quarantined, and sends the
-- events of that version to its quarantine sink until a person accepts
-- the version:
--      schema_quarantine                     the table: one row per
--                                            quarantined version, accepted
--                                            or not
--      quarantine_schema(subject, version)   -> boolean  (the daemon)
--      accept_schema(subject, version)       -> boolean  (a person, through
--                                            `tributary schema accept`)
-- The daemon reads the row at transaction boundaries, so an acceptance
-- takes effect in a running pipeline at the next transaction.
--
-- Every function pins search_path to pg_catalog, pg_temp and names our
-- objects with their schema.  Writes go through SECURITY DEFINER functions
-- that tributary_writer may execute; tributary_reader reads the table.

\echo Use "ALTER EXTENSION tributary UPDATE TO '0.6'" to load this file. \quit

CREATE TABLE tributary.schema_quarantine (
    subject        text        NOT NULL,
    version        integer     NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    accepted_at    timestamptz,
    accepted_by    text,
    CONSTRAINT schema_quarantine_pkey PRIMARY KEY (subject, version),
    CONSTRAINT schema_quarantine_version_check CHECK (version OPERATOR(pg_catalog.>=) 1),
    CONSTRAINT schema_quarantine_accepted_check
        CHECK ((accepted_at IS NULL) OPERATOR(pg_catalog.=) (accepted_by IS NULL))
);

COMMENT ON TABLE tributary.schema_quarantine IS
    'Schema versions a subject''s level refused under on_incompatible: quarantine; their events go to the quarantine sink until accepted_at is set (tributary.accept_schema)';

SELECT pg_catalog.pg_extension_config_dump('tributary.schema_quarantine', '');

-- quarantine_schema: record that the subject's version is quarantined (the
-- daemon, when it registers a refused version).  True when the version is
-- accepted already (a restart after the acceptance), false otherwise.  The
-- version must be registered (TS402, Confluent's 40402, when it is not).
CREATE FUNCTION tributary.quarantine_schema(subject text, version integer)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    accepted timestamptz;
BEGIN
    IF NOT EXISTS (SELECT FROM tributary.schema_versions AS v
                    WHERE v.subject OPERATOR(pg_catalog.=) quarantine_schema.subject
                      AND v.version OPERATOR(pg_catalog.=) quarantine_schema.version) THEN
        RAISE EXCEPTION 'tributary.quarantine_schema: subject "%" has no version %',
            quarantine_schema.subject, quarantine_schema.version
            USING ERRCODE = 'TS402';
    END IF;
    INSERT INTO tributary.schema_quarantine AS q (subject, version)
    VALUES (quarantine_schema.subject, quarantine_schema.version)
    ON CONFLICT ON CONSTRAINT schema_quarantine_pkey DO NOTHING;
    SELECT q.accepted_at INTO accepted
      FROM tributary.schema_quarantine AS q
     WHERE q.subject OPERATOR(pg_catalog.=) quarantine_schema.subject
       AND q.version OPERATOR(pg_catalog.=) quarantine_schema.version;
    RETURN accepted IS NOT NULL;
END
$$;

-- accept_schema: a person accepts a quarantined version; its events flow
-- to the ordinary sinks from the next transaction on.  True when this call
-- accepted it, false when it was accepted already; TS402 when the version
-- is not quarantined.
CREATE FUNCTION tributary.accept_schema(subject text, version integer)
RETURNS boolean
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    was timestamptz;
BEGIN
    SELECT q.accepted_at INTO was
      FROM tributary.schema_quarantine AS q
     WHERE q.subject OPERATOR(pg_catalog.=) accept_schema.subject
       AND q.version OPERATOR(pg_catalog.=) accept_schema.version
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'tributary.accept_schema: version % of subject "%" is not quarantined',
            accept_schema.version, accept_schema.subject
            USING ERRCODE = 'TS402',
                  HINT = 'SELECT * FROM tributary.schema_quarantine lists the quarantined versions.';
    END IF;
    IF was IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE tributary.schema_quarantine AS q
       SET accepted_at = pg_catalog.now(), accepted_by = SESSION_USER
     WHERE q.subject OPERATOR(pg_catalog.=) accept_schema.subject
       AND q.version OPERATOR(pg_catalog.=) accept_schema.version;
    RETURN true;
END
$$;

REVOKE ALL ON TABLE tributary.schema_quarantine FROM PUBLIC;
GRANT SELECT ON TABLE tributary.schema_quarantine TO tributary_reader, tributary_writer;
REVOKE ALL ON FUNCTION tributary.quarantine_schema(text, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.accept_schema(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tributary.quarantine_schema(text, integer),
    tributary.accept_schema(text, integer) TO tributary_writer;

-- version: the version of the installed SQL objects.
CREATE OR REPLACE FUNCTION tributary.version()
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '0.6'::text
$$;
