--
-- sql_security: the extension's SQL objects seen by an attacker who is an
-- ordinary role, or a member of one of the extension's roles, in a
-- database where a superuser ran CREATE EXTENSION (docs/SECURITY.md).
--
--   1. Nothing in schema tributary is reachable by PUBLIC except
--      version(); every SECURITY DEFINER function pins search_path and is
--      not executable by PUBLIC.
--   2. The DDL log never keeps the text of a statement that may carry a
--      secret (a user mapping's or subscription's password, ALTER ROLE
--      ... PASSWORD in the same query string): tributary_reader reads the
--      log and include-ddl streams it to the sinks.
--   3. The event trigger runs as its owner for every role's DDL: objects a
--      user puts on the search_path (public, pg_temp) are never called.
--   4. An eraser cannot forge who made an erasure request, or when.
--   5. A schema "tributary" that another role made before CREATE
--      EXTENSION is refused: its owner could drop the extension.
--   6. Extreme option values of the output plugin are errors or work;
--      none crashes the decoding backend (decode_bad_input has the rest).
--
\set VERBOSITY terse

CREATE ROLE regress_sec_nobody;
CREATE ROLE regress_sec_reader IN ROLE tributary_reader;
CREATE ROLE regress_sec_eraser IN ROLE tributary_eraser;
GRANT CREATE ON SCHEMA public TO regress_sec_nobody;

-- 1. PUBLIC reaches nothing but version(), and the schema itself is
-- closed to it.
SELECT has_schema_privilege('regress_sec_nobody', 'tributary', 'USAGE') AS nobody_usage;
SELECT c.relname, c.relacl
  FROM pg_class c
 WHERE c.relnamespace = 'tributary'::regnamespace
   AND (c.relacl IS NULL AND c.relkind NOT IN ('S', 'i', 'c')
        OR array_to_string(c.relacl, ',') ~ '(^|,)=')
 ORDER BY 1;
SELECT p.oid::regprocedure AS public_executable
  FROM pg_proc p
 WHERE p.pronamespace = 'tributary'::regnamespace
   AND (p.proacl IS NULL OR array_to_string(p.proacl, ',') ~ '(^|,)=X')
 ORDER BY 1;
-- SECURITY DEFINER functions: search_path pinned, PUBLIC may not run them.
SELECT p.oid::regprocedure AS definer_function,
       p.proconfig = ARRAY['search_path=pg_catalog, pg_temp'] AS pinned,
       has_function_privilege('regress_sec_nobody', p.oid, 'EXECUTE') AS nobody_may_run
  FROM pg_proc p
 WHERE p.pronamespace = 'tributary'::regnamespace AND p.prosecdef
 ORDER BY 1;
-- Every function of ours pins search_path (C functions need none).
SELECT p.oid::regprocedure AS unpinned
  FROM pg_proc p
 WHERE p.pronamespace = 'tributary'::regnamespace
   AND p.prolang <> (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND p.proconfig IS DISTINCT FROM ARRAY['search_path=pg_catalog, pg_temp']
   AND p.prosqlbody IS NULL
 ORDER BY 1;

-- 2. Secrets in DDL text.  A foreign-data wrapper without a validator
-- takes any option, so no FDW extension is needed.
TRUNCATE tributary.ddl_events;
SELECT 'init' FROM pg_create_logical_replication_slot('regress_sec_slot', 'tributary');
CREATE FOREIGN DATA WRAPPER regress_sec_fdw;
CREATE SERVER regress_sec_srv FOREIGN DATA WRAPPER regress_sec_fdw
    OPTIONS (host 'db.example', password 'Srv-Secret-1');
CREATE USER MAPPING FOR regress_sec_nobody SERVER regress_sec_srv
    OPTIONS (user 'bob', password 'Map-Secret-2');
ALTER USER MAPPING FOR regress_sec_nobody SERVER regress_sec_srv
    OPTIONS (SET password 'Map-Secret-3');
ALTER SERVER regress_sec_srv OPTIONS (SET password 'Srv-Secret-4');
CREATE SUBSCRIPTION regress_sec_sub
    CONNECTION 'dbname=nowhere password=Sub-Secret-5' PUBLICATION p
    WITH (connect = false, slot_name = NONE);
ALTER SUBSCRIPTION regress_sec_sub CONNECTION 'dbname=nowhere password=Sub-Secret-6';
-- Several statements in one query string: ALTER ROLE is not DDL an event
-- trigger sees, but its text travels with the CREATE TABLE that is.
SELECT 'ALTER ROLE regress_sec_nobody PASSWORD ''Role-Secret-7''; '
       'CREATE TABLE regress_sec_t (id int PRIMARY KEY); '
       'ALTER ROLE regress_sec_nobody PASSWORD NULL' \gexec
-- Ordinary DDL keeps its text.
ALTER TABLE regress_sec_t ADD COLUMN note text;
DROP SUBSCRIPTION regress_sec_sub;
DROP SERVER regress_sec_srv CASCADE;
DROP FOREIGN DATA WRAPPER regress_sec_fdw;
SELECT event, command_tag, object_type, statement
  FROM tributary.ddl_events ORDER BY id;
-- The ddl records of the stream carry the same text.
SELECT count(*) AS ddl_records,
       count(*) FILTER (WHERE data ~ 'Secret') AS records_with_secrets
  FROM pg_logical_slot_get_changes('regress_sec_slot', NULL, NULL, 'include-ddl', 'on')
 WHERE data::jsonb->>'kind' = 'ddl';
SELECT 'drop' FROM pg_drop_replication_slot('regress_sec_slot');
-- What tributary_reader can find: no secret at all.
SET ROLE regress_sec_reader;
SELECT count(*) AS rows_with_secrets
  FROM tributary.ddl_events WHERE statement ~ 'Secret';
RESET ROLE;

-- The rule itself: it errs on the side of NULL (a column named password
-- costs the statement text, never the row).
SELECT q, tributary.ddl_statement_text(t, q) IS NULL AS withheld
  FROM (VALUES ('CREATE TABLE', 'CREATE TABLE t (id int)'),
               ('CREATE TABLE', 'CREATE TABLE users (id int, password_hash text)'),
               ('CREATE TABLE', 'CREATE ROLE r PASSWORD ''x''; CREATE TABLE t (id int)'),
               ('CREATE TABLE', 'create user mapping for r server s; create table t ()'),
               ('CREATE TABLE', 'CREATE TABLE subscriptions (id int)'),
               ('CREATE SERVER', 'CREATE SERVER s FOREIGN DATA WRAPPER w'),
               ('DROP TABLE', 'DROP TABLE t')) AS x(t, q);

-- 3. Hijack attempts on the event trigger.  An ordinary role shadows, in
-- public and in its temporary schema, the functions and the operator the
-- trigger function uses, and a table with the log's name.  Then a
-- superuser whose search_path starts with public runs DDL, and so does the
-- ordinary role: every row is recorded as usual and no planted object ran.
SET ROLE regress_sec_nobody;
CREATE TABLE public.regress_sec_hits (what text);
CREATE FUNCTION public.current_query() RETURNS text LANGUAGE sql
    AS $$ INSERT INTO public.regress_sec_hits VALUES ('current_query') RETURNING 'hijacked' $$;
CREATE FUNCTION public.pg_event_trigger_ddl_commands()
    RETURNS TABLE (command_tag text, object_type text, schema_name text,
                   object_identity text, objid oid, in_extension boolean)
    LANGUAGE sql
    AS $$ INSERT INTO public.regress_sec_hits VALUES ('ddl_commands')
          RETURNING 'x', 'x', 'x', 'x', 0::oid, false $$;
CREATE FUNCTION public.regress_sec_eq(text, text) RETURNS boolean LANGUAGE sql
    AS $$ INSERT INTO public.regress_sec_hits VALUES ('operator') RETURNING true $$;
CREATE OPERATOR public.= (FUNCTION = public.regress_sec_eq, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION public.now() RETURNS timestamptz LANGUAGE sql
    AS $$ INSERT INTO public.regress_sec_hits VALUES ('now') RETURNING 'epoch'::timestamptz $$;
CREATE TEMP TABLE ddl_events (id int);
CREATE FUNCTION pg_temp.current_query() RETURNS text LANGUAGE sql AS $$ SELECT 'temp' $$;
RESET ROLE;
TRUNCATE tributary.ddl_events;
SET search_path = public, pg_temp, pg_catalog;
CREATE TABLE regress_sec_t2 (id int);
SET ROLE regress_sec_nobody;
CREATE TABLE public.regress_sec_t3 (id int);
DROP TABLE public.regress_sec_t3;
RESET ROLE;
RESET search_path;
SELECT event, command_tag, object_identity, statement
  FROM tributary.ddl_events ORDER BY id;
SELECT count(*) AS hijacked_calls FROM public.regress_sec_hits;
-- The ordinary role still cannot write the log, nor read it.
SET ROLE regress_sec_nobody;
INSERT INTO tributary.ddl_events (event, command_tag) VALUES ('ddl_command_end', 'CREATE TABLE');
SELECT count(*) FROM tributary.ddl_events;
SELECT tributary.record_ddl();
RESET ROLE;

-- 4. An eraser names the subject and the reason; who asked and when fill
-- themselves in and cannot be chosen.
SET ROLE regress_sec_eraser;
INSERT INTO tributary.erasure_requests (subject, requested_by) VALUES ('7', 'regress_sec_forged');
INSERT INTO tributary.erasure_requests (subject, requested_at) VALUES ('7', '2000-01-01');
INSERT INTO tributary.erasure_requests (subject, reason) VALUES ('7', 'ticket 9')
    RETURNING subject, requested_by = session_user AS by_session_user, reason;
INSERT INTO tributary.erasure_keys (request_id, schema_name, table_name, key, created_at)
    VALUES (1, 'public', 't', '{"id": 7}', '2000-01-01');
INSERT INTO tributary.erasure_keys (request_id, schema_name, table_name, key)
    VALUES (1, 'public', 't', '{"id": 7}');
RESET ROLE;
SELECT subject, requested_by = 'regress_sec_forged' AS forged_by,
       requested_at > now() - interval '1 hour' AS recent
  FROM tributary.erasure_requests ORDER BY id;
SELECT count(*) AS keys FROM tributary.erasure_keys;

-- (the temporary objects go before \c ends the session)
DROP TABLE pg_temp.ddl_events;
DROP FUNCTION pg_temp.current_query();

-- 5. A role with CREATE on a database makes schema tributary before the
-- extension exists.  CREATE EXTENSION would use it; its owner could then
-- drop the extension with DROP SCHEMA ... CASCADE.  Refused.
CREATE DATABASE regress_sec_squat TEMPLATE template0;
GRANT CREATE ON DATABASE regress_sec_squat TO regress_sec_nobody;
\c regress_sec_squat
SET ROLE regress_sec_nobody;
CREATE SCHEMA tributary;
RESET ROLE;
CREATE EXTENSION tributary;
SELECT count(*) AS installed FROM pg_extension WHERE extname = 'tributary';
-- Once a superuser owns the schema, the install goes through.
ALTER SCHEMA tributary OWNER TO CURRENT_USER;
CREATE EXTENSION tributary;
SELECT tributary.version();
\c contrib_regression
DROP DATABASE regress_sec_squat;

-- 6. Plugin options at their extremes, against a decoded change.
CREATE TABLE regress_sec_opt (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('regress_sec_opt_slot', 'tributary');
INSERT INTO regress_sec_opt VALUES (1);
-- 100,000 wildcards on each side still match.
SELECT count(*) AS matched
  FROM pg_logical_slot_peek_changes('regress_sec_opt_slot', NULL, NULL,
       'include-tables', repeat('*', 100000) || '.' || repeat('*', 100000) || 'sec?opt')
 WHERE data::jsonb->>'kind' = 'insert';
-- A 10 MB pattern selects nothing and costs nothing.
SELECT count(*) AS matched
  FROM pg_logical_slot_peek_changes('regress_sec_opt_slot', NULL, NULL,
       'include-tables', repeat('a', 10000000) || '.b')
 WHERE data::jsonb->>'kind' = 'insert';
-- Out-of-range numbers and positions are errors naming the option; the
-- last possible position suppresses everything.
SELECT count(*) FROM pg_logical_slot_peek_changes('regress_sec_opt_slot', NULL, NULL,
       'batch-bytes', '16777217');
SELECT count(*) FROM pg_logical_slot_peek_changes('regress_sec_opt_slot', NULL, NULL,
       'batch-bytes', '-9223372036854775808');
SELECT count(*) FROM pg_logical_slot_peek_changes('regress_sec_opt_slot', NULL, NULL,
       'resume-after', 'FFFFFFFF/FFFFFFFF:9223372036854775807');
SELECT count(*) FROM pg_logical_slot_peek_changes('regress_sec_opt_slot', NULL, NULL,
       'resume-after', '0/1:9223372036854775808');
SELECT count(*) FROM pg_logical_slot_peek_changes('regress_sec_opt_slot', NULL, NULL,
       'message-prefixes', repeat('"', 101));
-- The backend is still there.
SELECT 'drop' FROM pg_drop_replication_slot('regress_sec_opt_slot');
DROP TABLE regress_sec_opt;

-- Clean up.
TRUNCATE tributary.erasure_requests, tributary.erasure_keys, tributary.ddl_events;
DROP TABLE regress_sec_t, regress_sec_t2;
DROP OPERATOR public.= (text, text);
DROP FUNCTION public.regress_sec_eq(text, text), public.current_query(),
    public.pg_event_trigger_ddl_commands(), public.now();
DROP TABLE public.regress_sec_hits;
REVOKE CREATE ON SCHEMA public FROM regress_sec_nobody;
DROP ROLE regress_sec_nobody;
DROP ROLE regress_sec_reader;
DROP ROLE regress_sec_eraser;
TRUNCATE tributary.ddl_events;
