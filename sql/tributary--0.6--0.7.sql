-- sql/tributary--0.6--0.7.sql: upgrade from 0.6 to 0.7.  CREATE EXTENSION
-- tributary installs 0.7 by running tributary--0.1.sql and the upgrade
-- scripts in order, so a fresh install and an upgraded one are built by the
-- same statements.
--
-- Version 0.7 closes two holes found by a security review of the SQL API
-- (docs/SECURITY.md; test/regress sql_security):
--
--   * The DDL log kept secrets.  record_ddl() stored current_query() for
--     every command, so the password of CREATE/ALTER USER MAPPING, the
--     connection string of CREATE/ALTER SUBSCRIPTION, a server's options,
--     and ALTER ROLE ... PASSWORD sent in the same query string as a
--     CREATE TABLE all landed in tributary.ddl_events, which
--     tributary_reader reads and include-ddl streams to every sink.
--     PostgreSQL itself hides those values (pg_user_mapping,
--     pg_subscription.subconninfo).  Now such a statement is recorded with
--     a NULL text (tributary.ddl_statement_text below), and the rows
--     already in the log are cleaned the same way.
--
--   * An eraser could forge the audit columns of a request: INSERT was
--     granted on the whole of tributary.erasure_requests, so a member of
--     tributary_eraser could write requested_by (say, the name of a DPO)
--     and requested_at.  Now it may insert subject and reason only; the
--     others fill themselves in.  Likewise erasure_keys: the columns the
--     consumer writes, not created_at.
--
--   * The schema could belong to someone else.  CREATE EXTENSION uses a
--     schema "tributary" that exists already, whoever owns it, so a role
--     with CREATE on the database that made it first owned the schema of
--     every object below: it could drop the whole extension with DROP
--     SCHEMA tributary CASCADE (checkpoints, erasure requests, registry,
--     the event triggers) and put objects of its own beside ours.  Now
--     installing or upgrading to 0.7 refuses a schema that a superuser
--     does not own.

\echo Use "ALTER EXTENSION tributary UPDATE TO '0.7'" to load this file. \quit

-- The schema must be a superuser's (the installer's, normally: CREATE
-- EXTENSION creates it when it does not exist).
DO $$
DECLARE
    owner_name name;
    owner_super boolean;
BEGIN
    SELECT r.rolname, r.rolsuper INTO owner_name, owner_super
      FROM pg_catalog.pg_namespace AS n
      JOIN pg_catalog.pg_roles AS r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.nspname OPERATOR(pg_catalog.=) 'tributary';
    IF NOT owner_super THEN
        RAISE EXCEPTION 'tributary: schema "tributary" is owned by role "%", which is not a superuser', owner_name
            USING ERRCODE = 'insufficient_privilege',
                  DETAIL = 'The owner of the schema can drop the extension with DROP SCHEMA tributary CASCADE and create objects beside its own.',
                  HINT = 'Check what the schema holds, then ALTER SCHEMA tributary OWNER TO a superuser and try again.';
    END IF;
END
$$;

-- ddl_tag_may_hold_secret: true for the commands whose options or
-- connection string hold passwords (user mappings, foreign servers,
-- subscriptions), whatever their text says; NULL for a NULL tag.
CREATE FUNCTION tributary.ddl_tag_may_hold_secret(command_tag text)
RETURNS boolean
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT $1 OPERATOR(pg_catalog.=) ANY (ARRAY[
               'CREATE USER MAPPING', 'ALTER USER MAPPING',
               'CREATE SERVER', 'ALTER SERVER',
               'CREATE SUBSCRIPTION', 'ALTER SUBSCRIPTION'])
$$;

COMMENT ON FUNCTION tributary.ddl_tag_may_hold_secret(text) IS
    'True for the DDL commands whose text holds passwords: user mappings, foreign servers, subscriptions';

-- ddl_statement_text: the statement text the DDL log keeps for a command
-- (its tag; NULL checks the query string only) run from a query string,
-- or NULL when the text may carry a secret.  It errs on the side of NULL:
--   - the commands of ddl_tag_may_hold_secret;
--   - any query string that mentions a password or one of those commands,
--     because a query string can hold several statements and the event
--     trigger cannot tell which of them is its own (ALTER ROLE ...
--     PASSWORD is not DDL an event trigger sees, but its text would travel
--     with a CREATE TABLE sent with it).
-- The object itself (command_tag, object_identity, ...) is still recorded.
-- The pattern costs about 8 ms per MB of query string; record_ddl runs
-- it once per command, not once per row.
CREATE FUNCTION tributary.ddl_statement_text(command_tag text, query text)
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE
           WHEN tributary.ddl_tag_may_hold_secret($1) THEN NULL
           WHEN $2 OPERATOR(pg_catalog.~*)
                'pass(word|wd)|\muser\s+mapping\M|\msubscription\M|\m(create|alter)\s+server\M'
           THEN NULL
           ELSE $2
           END
$$;

COMMENT ON FUNCTION tributary.ddl_statement_text(text, text) IS
    'The statement text the DDL log keeps: NULL when it may carry a secret (passwords, user mappings, servers, subscriptions)';

-- record_ddl as in 0.4, with the statement text through
-- ddl_statement_text: the query string checked once per command, each
-- row's tag on its own.
CREATE OR REPLACE FUNCTION tributary.record_ddl()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    query text := tributary.ddl_statement_text(NULL, pg_catalog.current_query());
BEGIN
    IF tg_event OPERATOR(pg_catalog.=) 'ddl_command_end' THEN
        INSERT INTO tributary.ddl_events
               (event, command_tag, object_type, schema_name, object_identity,
                objid, in_extension, statement)
        SELECT tg_event, c.command_tag, c.object_type, c.schema_name,
               c.object_identity, c.objid, c.in_extension,
               CASE WHEN tributary.ddl_tag_may_hold_secret(c.command_tag) THEN NULL
                    ELSE query END
          FROM pg_catalog.pg_event_trigger_ddl_commands() AS c
         WHERE c.schema_name IS DISTINCT FROM 'pg_temp';
    ELSIF tg_event OPERATOR(pg_catalog.=) 'sql_drop' THEN
        INSERT INTO tributary.ddl_events
               (event, command_tag, object_type, schema_name, object_identity,
                objid, statement)
        SELECT tg_event, tg_tag, d.object_type, d.schema_name,
               d.object_identity, d.objid,
               CASE WHEN tributary.ddl_tag_may_hold_secret(tg_tag) THEN NULL
                    ELSE query END
          FROM pg_catalog.pg_event_trigger_dropped_objects() AS d
         WHERE NOT d.is_temporary
           AND (d.original OR d.normal OR d.object_type OPERATOR(pg_catalog.=) 'table');
    END IF;
END
$$;

-- The rows logged before 0.7.  Updates of the log are not decoded into
-- ddl records, so this changes no stream; what was streamed or written to
-- WAL before stays there (docs/SECURITY.md says what to rotate).
UPDATE tributary.ddl_events AS e
   SET statement = NULL
 WHERE e.statement IS NOT NULL
   AND tributary.ddl_statement_text(e.command_tag, e.statement) IS NULL;

REVOKE ALL ON FUNCTION tributary.ddl_tag_may_hold_secret(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION tributary.ddl_statement_text(text, text) FROM PUBLIC;

-- Erasure requests: the eraser writes what it asks, not who or when.
REVOKE INSERT ON TABLE tributary.erasure_requests FROM tributary_eraser;
GRANT INSERT (subject, reason) ON TABLE tributary.erasure_requests TO tributary_eraser;
REVOKE INSERT ON TABLE tributary.erasure_keys FROM tributary_eraser;
GRANT INSERT (request_id, schema_name, table_name, key)
    ON TABLE tributary.erasure_keys TO tributary_eraser;

-- version: the version of the installed SQL objects.
CREATE OR REPLACE FUNCTION tributary.version()
RETURNS text
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
SECURITY INVOKER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT '0.7'::text
$$;
