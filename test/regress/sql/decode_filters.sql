-- include-tables / exclude-tables patterns, actions, and origin.
CREATE SCHEMA app;
CREATE SCHEMA "Odd.Schema";
CREATE TABLE app.users (id int PRIMARY KEY);
CREATE TABLE app.user_roles (id int PRIMARY KEY);
CREATE TABLE app.orders (id int PRIMARY KEY);
CREATE TABLE public.audit (id int PRIMARY KEY);
CREATE TABLE "Odd.Schema"."T*" (id int PRIMARY KEY);
CREATE TABLE "Odd.Schema"."Tx" (id int PRIMARY KEY);
SELECT 'init' FROM pg_create_logical_replication_slot('flt', 'tributary');
INSERT INTO app.users VALUES (1);
INSERT INTO app.user_roles VALUES (1);
INSERT INTO app.orders VALUES (1);
UPDATE app.orders SET id = 2;
DELETE FROM app.orders;
INSERT INTO public.audit VALUES (1);
INSERT INTO "Odd.Schema"."T*" VALUES (1);
INSERT INTO "Odd.Schema"."Tx" VALUES (1);

CREATE FUNCTION pg_temp.tables(VARIADIC opts text[]) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(DISTINCT (d->>'schema') || '.' || (d->>'table') || ':' || (d->>'kind'), ' ' ORDER BY (d->>'schema') || '.' || (d->>'table') || ':' || (d->>'kind'))
    FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('flt', NULL, NULL, VARIADIC opts)) s
   WHERE d ? 'seq'
$$;
SELECT pg_temp.tables('include-tables', 'app.*');
SELECT pg_temp.tables('include-tables', 'app.user*');
SELECT pg_temp.tables('include-tables', 'app.user?');
SELECT pg_temp.tables('include-tables', '*.*', 'exclude-tables', 'app.orders, public.*');
SELECT pg_temp.tables('include-tables', ' app.orders , public.audit ');
SELECT pg_temp.tables('exclude-tables', 'app.*,public.*');
-- Quoted parts are literal: "T*" matches only the table named T*.
SELECT pg_temp.tables('include-tables', '"Odd.Schema"."T*"');
SELECT pg_temp.tables('include-tables', '"Odd.Schema".T*');
SELECT pg_temp.tables('include-tables', 'nomatch.*');
-- actions.
SELECT pg_temp.tables('include-tables', 'app.orders', 'actions', 'update,delete');
SELECT pg_temp.tables('include-tables', 'app.orders', 'actions', 'INSERT');

-- origin=none drops changes replayed by a replication origin.
SELECT 'origin' FROM pg_replication_origin_create('upstream');
SELECT 'setup' FROM pg_replication_origin_session_setup('upstream');
INSERT INTO public.audit VALUES (2);
SELECT pg_replication_origin_session_reset();
INSERT INTO public.audit VALUES (3);
SELECT d->'new' FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('flt', NULL, NULL, 'include-tables', 'public.audit', 'origin', 'any')) s WHERE d ? 'seq';
SELECT d->'new' FROM (SELECT data::jsonb AS d FROM pg_logical_slot_peek_changes('flt', NULL, NULL, 'include-tables', 'public.audit', 'origin', 'none')) s WHERE d ? 'seq';
SELECT pg_replication_origin_drop('upstream');

SELECT pg_drop_replication_slot('flt');
DROP SCHEMA app CASCADE;
DROP SCHEMA "Odd.Schema" CASCADE;
DROP TABLE public.audit;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
