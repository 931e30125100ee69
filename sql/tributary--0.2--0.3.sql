-- sql/tributary--0.2--0.3.sql: upgrade from 0.2 to 0.3.  CREATE EXTENSION
-- tributary installs 0.3 by running tributary--0.1.sql and the upgrade
-- scripts in order, so a fresh install and an upgraded one are built by the
-- same statements.
--
-- Version 0.3 adds erasure requests (the right to be forgotten) that only a
-- privileged role can make.  A logical message carries no authority: any
-- role may call pg_logical_emit_message.  A row of these tables does: only
-- members of tributary_eraser may insert one, and it is decoded like any
-- change, so it keeps its exact position in the stream.
--
--   erasure_requests   one row per request: the subject whose rows the
--                      consumer erases from its sinks
--   erasure_keys       one row per row to erase: written by the consumer
--                      when it handles a request (the primary key of one
--                      row of a table it captures), read back through the
--                      stream and applied there
--
-- The consumer checks each row again when it reads it: the table must be
-- one of its erasure targets and the key exactly that table's primary key.
-- The rows name no new values: what an anonymising update writes is the
-- consumer's to decide (docs/TRANSFORMS.md), never the request's.
--
-- Neither table is a user_catalog_table: the output plugin never reads
-- them, it only decodes their inserts.

\echo Use "ALTER EXTENSION tributary UPDATE TO '0.3'" to load this file. \quit

CREATE TABLE tributary.erasure_requests (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    subject      text        NOT NULL,
    requested_at timestamptz NOT NULL DEFAULT pg_catalog.now(),
    requested_by name        NOT NULL DEFAULT SESSION_USER,
    reason       text,
    CONSTRAINT erasure_requests_pkey PRIMARY KEY (id),
    CONSTRAINT erasure_requests_subject_check
        CHECK (subject OPERATOR(pg_catalog.<>) '')
);

COMMENT ON TABLE tributary.erasure_requests IS
    'Erasure requests: each insert asks the tributary consumers to erase a subject from their sinks';
COMMENT ON COLUMN tributary.erasure_requests.subject IS
    'The data subject, as the text of the value in the consumer''s erasure targets (e.g. a customer id)';
COMMENT ON COLUMN tributary.erasure_requests.requested_by IS
    'Who asked: by default the session user that inserted the request';

CREATE TABLE tributary.erasure_keys (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    request_id   bigint      NOT NULL,
    schema_name  text        NOT NULL,
    table_name   text        NOT NULL,
    key          json        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT erasure_keys_pkey PRIMARY KEY (id),
    CONSTRAINT erasure_keys_key_is_object
        CHECK (pg_catalog.json_typeof(key) OPERATOR(pg_catalog.=) 'object')
);

COMMENT ON TABLE tributary.erasure_keys IS
    'Rows to erase, one per row of a captured table: written by the consumer while it handles a request';
COMMENT ON COLUMN tributary.erasure_keys.request_id IS
    'The tributary.erasure_requests id the row was found for (no foreign key: a request may be purged)';
COMMENT ON COLUMN tributary.erasure_keys.key IS
    'The row''s primary key as the output plugin writes it (json keeps the text exactly)';

-- pg_dump keeps the requests and keys with the database.
SELECT pg_catalog.pg_extension_config_dump('tributary.erasure_requests', '');
SELECT pg_catalog.pg_extension_config_dump('tributary.erasure_keys', '');

-- tributary_eraser may ask for erasures: insert requests, and (the consumer,
-- whose erasure connection needs this role) insert the keys it finds.
-- Requests are readable by it so that INSERT ... RETURNING works.  Roles are
-- cluster-wide, so another database may already have created it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles
                   WHERE rolname OPERATOR(pg_catalog.=) 'tributary_eraser') THEN
        CREATE ROLE tributary_eraser NOLOGIN;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA tributary TO tributary_eraser;

REVOKE ALL ON TABLE tributary.erasure_requests FROM PUBLIC;
REVOKE ALL ON TABLE tributary.erasure_keys FROM PUBLIC;
GRANT SELECT, INSERT ON TABLE tributary.erasure_requests TO tributary_eraser;
GRANT INSERT ON TABLE tributary.erasure_keys TO tributary_eraser;
GRANT SELECT ON TABLE tributary.erasure_requests TO tributary_reader;
GRANT SELECT ON TABLE tributary.erasure_keys TO tributary_reader;

-- version: the version of the installed SQL objects.
CREATE OR REPLACE FUNCTION tributary.version()
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '0.3'::text
$$;
