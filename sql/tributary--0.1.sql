-- sql/tributary--0.1.sql: the first released version of the tributary
-- extension.  Released scripts are never edited: changes go into a new
-- tributary--A--B.sql upgrade script.
--
-- Version 0.1 holds the catalog the consumer daemon needs to resume after a
-- restart: one checkpoint per (pipeline, source).  A PostgreSQL source is
-- positioned by (commit_lsn, seq), the commit LSN of the last transaction the
-- sink acknowledged and the number of changes of that transaction already
-- delivered.  Other sources (a MySQL GTID set or binlog file and offset, a
-- MongoDB resume token) keep an opaque JSON object in "position".
--
-- The output plugin may read this table while decoding, so it is marked
-- user_catalog_table.  CREATE EXTENSION creates the schema "tributary" (the
-- control file names it); every object below is schema-qualified anyway.

\echo Use "CREATE EXTENSION tributary" to load this file. \quit

CREATE TABLE tributary.source_checkpoints (
    pipeline    text        NOT NULL,
    source      text        NOT NULL,
    commit_lsn  pg_lsn,
    seq         bigint      NOT NULL DEFAULT 0,
    position    jsonb,
    updated_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT source_checkpoints_pkey PRIMARY KEY (pipeline, source),
    CONSTRAINT source_checkpoints_pipeline_check
        CHECK (pipeline OPERATOR(pg_catalog.<>) ''),
    CONSTRAINT source_checkpoints_source_check
        CHECK (source OPERATOR(pg_catalog.<>) ''),
    CONSTRAINT source_checkpoints_seq_check
        CHECK (seq OPERATOR(pg_catalog.>=) 0),
    -- A checkpoint that names no position could not be resumed from.
    CONSTRAINT source_checkpoints_has_position
        CHECK (commit_lsn IS NOT NULL OR position IS NOT NULL),
    -- Positions of other sources are objects such as {"gtid_set": "..."}.
    CONSTRAINT source_checkpoints_position_is_object
        CHECK (position IS NULL
               OR pg_catalog.jsonb_typeof(position) OPERATOR(pg_catalog.=) 'object')
) WITH (user_catalog_table = true);

COMMENT ON TABLE tributary.source_checkpoints IS
    'Last acknowledged position of each source of each tributary pipeline';
COMMENT ON COLUMN tributary.source_checkpoints.commit_lsn IS
    'PostgreSQL sources: commit LSN of the last acknowledged transaction';
COMMENT ON COLUMN tributary.source_checkpoints.seq IS
    'PostgreSQL sources: changes of that transaction already delivered';
COMMENT ON COLUMN tributary.source_checkpoints.position IS
    'Other sources: opaque position object (GTID set, binlog file and offset, resume token)';

-- pg_dump skips the contents of extension tables unless they are registered.
SELECT pg_catalog.pg_extension_config_dump('tributary.source_checkpoints', '');

-- tributary_reader may look at checkpoints (monitoring, the consumer's status
-- page) but not move them.  Roles are cluster-wide, so another database may
-- already have created it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles
                   WHERE rolname OPERATOR(pg_catalog.=) 'tributary_reader') THEN
        CREATE ROLE tributary_reader NOLOGIN;
    END IF;
END
$$;

REVOKE ALL ON SCHEMA tributary FROM PUBLIC;
GRANT USAGE ON SCHEMA tributary TO tributary_reader;

REVOKE ALL ON TABLE tributary.source_checkpoints FROM PUBLIC;
GRANT SELECT ON TABLE tributary.source_checkpoints TO tributary_reader;
