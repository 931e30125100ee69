-- Identifiers with quotes, unicode and newlines, and databases whose
-- encoding is not UTF-8: the output is always valid JSON.
CREATE SCHEMA "we""ird
schema";
CREATE TABLE "we""ird
schema"."tâble ✓" ("col ""q""" int PRIMARY KEY, "new
line" text, "tab	ü" text);
SELECT 'init' FROM pg_create_logical_replication_slot('ident', 'tributary');
INSERT INTO "we""ird
schema"."tâble ✓" VALUES (1, E'a\nb', E'\\');
SELECT * FROM public.trib_raw('ident', 'include-transaction', 'off');
SELECT pg_drop_replication_slot('ident');
DROP SCHEMA "we""ird
schema" CASCADE;

-- SQL_ASCII accepts any bytes.  Valid UTF-8 passes through; other bytes
-- become \u00XX, so the output still parses.
CREATE DATABASE trib_sqlascii ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c trib_sqlascii
SET client_encoding = 'SQL_ASCII';
CREATE TABLE public.raw (id int PRIMARY KEY, t text);
SELECT 'init' FROM pg_create_logical_replication_slot('ascii', 'tributary');
INSERT INTO public.raw VALUES (1, E'bad \xff\xfe end'), (2, E'good \xc3\xa9'), (3, E'cut \xe2\x82');
SELECT string_agg(data, E'\n') AS ascii_out
  FROM pg_logical_slot_get_changes('ascii', NULL, NULL, 'include-transaction', '0')
 WHERE data LIKE '{"kind":"insert"%' \gset
SELECT pg_drop_replication_slot('ascii');

-- LATIN1: non-ASCII characters are converted and written as \u escapes.
CREATE DATABASE trib_latin1 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
\c trib_latin1
SET client_encoding = 'UTF8';
CREATE TABLE public."tâble" (id int PRIMARY KEY, t text, j jsonb);
SELECT 'init' FROM pg_create_logical_replication_slot('latin1', 'tributary');
INSERT INTO public."tâble" VALUES (1, 'café ÿ', '{"clé": "né"}');
SELECT string_agg(data, E'\n') AS latin1_out
  FROM pg_logical_slot_get_changes('latin1', NULL, NULL, 'include-transaction', '0')
 WHERE data LIKE '{"kind":"insert"%' \gset
SELECT pg_drop_replication_slot('latin1');

\c contrib_regression
-- Parse both with PostgreSQL's JSON parser in this UTF-8 database.
SELECT l::jsonb->'new' AS sql_ascii_rows FROM regexp_split_to_table(:'ascii_out', E'\n') l;
SELECT :'latin1_out' ~ '^[\x01-\x7f]*$' AS pure_ascii, :'latin1_out'::jsonb->>'table' AS tbl,
       :'latin1_out'::jsonb->'new' AS latin1_row;
DROP DATABASE trib_sqlascii;
DROP DATABASE trib_latin1;
