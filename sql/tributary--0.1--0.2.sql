-- sql/tributary--0.1--0.2.sql: upgrade from 0.1 to 0.2.  There is no full
-- tributary--0.2.sql: CREATE EXTENSION tributary installs 0.2 by running
-- tributary--0.1.sql and then this script, so a fresh install and an upgraded
-- one are built by the same statements.
--
-- Version 0.2 adds the SQL API over tributary.source_checkpoints:
--
--   checkpoint_save(pipeline, source, commit_lsn, seq, "position")
--       upsert one checkpoint; a PostgreSQL checkpoint never moves backwards
--   checkpoint_get(pipeline, source)
--       the checkpoint row, or no row when there is none
--   version()
--       the version of the SQL objects, '0.2'
--
-- The functions are SECURITY INVOKER: the caller's own table privileges
-- decide what it may do.  Each pins search_path, and the bodies name every
-- object of ours with its schema.  "position" is quoted where it names a
-- parameter because it is a keyword in that place.

\echo Use "ALTER EXTENSION tributary UPDATE TO '0.2'" to load this file. \quit

-- checkpoint_save: insert or advance the checkpoint of one source of a
-- pipeline.  For a PostgreSQL source (commit_lsn given) the new position
-- (commit_lsn, seq) must not be older than the stored one: a consumer that
-- tried that would re-deliver changes it had already acknowledged.  Saving the
-- same position again is allowed, so a retried acknowledgement is harmless.
-- Positions of other sources are opaque and simply replaced.
--
-- INSERT ... ON CONFLICT is not allowed on a user_catalog_table, so this is
-- the classic upsert loop: lock the row and update it, or insert it and retry
-- if a concurrent caller inserted it first.
CREATE FUNCTION tributary.checkpoint_save(
    pipeline   text,
    source     text,
    commit_lsn pg_lsn,
    seq        bigint,
    "position" jsonb DEFAULT NULL)
RETURNS tributary.source_checkpoints
LANGUAGE plpgsql
VOLATILE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    stored tributary.source_checkpoints;
    saved tributary.source_checkpoints;
BEGIN
    IF checkpoint_save.pipeline IS NULL OR checkpoint_save.source IS NULL
       OR checkpoint_save.seq IS NULL THEN
        RAISE EXCEPTION 'tributary.checkpoint_save: pipeline, source and seq must not be null'
            USING ERRCODE = 'null_value_not_allowed';
    END IF;

    LOOP
        SELECT c.* INTO stored
          FROM tributary.source_checkpoints AS c
         WHERE c.pipeline = checkpoint_save.pipeline
           AND c.source = checkpoint_save.source
           FOR UPDATE;

        IF FOUND THEN
            IF stored.commit_lsn IS NOT NULL
               AND (checkpoint_save.commit_lsn IS NULL
                    OR (checkpoint_save.commit_lsn, checkpoint_save.seq)
                       < (stored.commit_lsn, stored.seq)) THEN
                RAISE EXCEPTION 'tributary checkpoint of pipeline "%" source "%" cannot move backwards from % seq % to % seq %',
                                checkpoint_save.pipeline, checkpoint_save.source,
                                stored.commit_lsn, stored.seq,
                                coalesce(checkpoint_save.commit_lsn::text, 'NULL'),
                                checkpoint_save.seq
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;

            UPDATE tributary.source_checkpoints AS c
               SET commit_lsn = checkpoint_save.commit_lsn,
                   seq = checkpoint_save.seq,
                   position = checkpoint_save."position",
                   updated_at = now()
             WHERE c.pipeline = checkpoint_save.pipeline
               AND c.source = checkpoint_save.source
            RETURNING c.* INTO saved;
            RETURN saved;
        END IF;

        BEGIN
            INSERT INTO tributary.source_checkpoints AS c
                   (pipeline, source, commit_lsn, seq, position, updated_at)
            VALUES (checkpoint_save.pipeline, checkpoint_save.source,
                    checkpoint_save.commit_lsn, checkpoint_save.seq,
                    checkpoint_save."position", now())
            RETURNING c.* INTO saved;
            RETURN saved;
        EXCEPTION WHEN unique_violation THEN
            -- Another session inserted the row since our SELECT: go round
            -- again and treat it as an update.
            NULL;
        END;
    END LOOP;
END
$$;

COMMENT ON FUNCTION tributary.checkpoint_save(text, text, pg_lsn, bigint, jsonb) IS
    'Insert or advance a checkpoint; refuses to move a PostgreSQL checkpoint backwards';

-- checkpoint_get: the stored checkpoint of one source of a pipeline; no row
-- when the pipeline has never saved one for that source.
CREATE FUNCTION tributary.checkpoint_get(pipeline text, source text)
RETURNS SETOF tributary.source_checkpoints
LANGUAGE sql
STABLE
STRICT
SECURITY INVOKER
ROWS 1
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.*
      FROM tributary.source_checkpoints AS c
     WHERE c.pipeline = $1
       AND c.source = $2
$$;

COMMENT ON FUNCTION tributary.checkpoint_get(text, text) IS
    'The checkpoint of one source of a pipeline, or no row';

-- version: the version of the installed SQL objects.
CREATE FUNCTION tributary.version()
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '0.2'::text
$$;

COMMENT ON FUNCTION tributary.version() IS
    'Version of the tributary SQL objects';

-- Writing is for the table owner and whoever it grants; reading is for
-- tributary_reader.  Functions are executable by PUBLIC unless revoked;
-- version() stays so, but only roles with USAGE on the schema reach it.
REVOKE ALL ON FUNCTION tributary.checkpoint_save(text, text, pg_lsn, bigint, jsonb) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.checkpoint_get(text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tributary.checkpoint_get(text, text) TO tributary_reader;
