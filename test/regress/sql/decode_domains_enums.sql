-- Domain and enum columns in relation records: a domain names its final
-- base type (base_type, base_type_oid, base_typmod), an enum (or a domain
-- over one, or an array of either) its labels in sort order
-- (enum_labels); other columns carry neither.  ALTER TYPE ... ADD VALUE
-- and RENAME VALUE change only pg_enum, and the next change of a table
-- using the enum carries a new relation record with the new labels.
CREATE TYPE public.dd_level AS ENUM ('low', 'high');
CREATE DOMAIN public.dd_money AS numeric(10,2);
CREATE DOMAIN public.dd_pos_money AS public.dd_money CHECK (VALUE > 0);
CREATE DOMAIN public.dd_level_dom AS public.dd_level;
CREATE DOMAIN public.dd_short AS varchar(8);
CREATE TABLE public.dd (
    id int PRIMARY KEY,
    amount public.dd_money,
    pos public.dd_pos_money,
    lvl public.dd_level,
    lvl_dom public.dd_level_dom,
    lvls public.dd_level[],
    amounts public.dd_money[],
    short public.dd_short,
    plain numeric(10,2)
);
SELECT 'init' FROM pg_create_logical_replication_slot('dd', 'tributary');
INSERT INTO public.dd VALUES (1, 12.5, 3, 'low', 'high', '{low,high}',
                              '{1.5,2}', 'abc', 4.25);
ALTER TYPE public.dd_level ADD VALUE 'medium' BEFORE 'high';
INSERT INTO public.dd VALUES (2, 1, 1, 'medium', 'medium', '{medium}', '{}', 'x', 1);
ALTER TYPE public.dd_level RENAME VALUE 'low' TO 'minimal';
UPDATE public.dd SET plain = 2 WHERE id = 2;
-- No change to the enum: no new relation record.
UPDATE public.dd SET plain = 3 WHERE id = 2;

CREATE TEMP TABLE dd_out AS
SELECT n, data::jsonb AS d
  FROM pg_logical_slot_get_changes('dd', NULL, NULL) WITH ORDINALITY AS s(lsn, xid, data, n);
-- The records in order; a relation record's columns one a line (OIDs of
-- the test's own types vary: base_type_oid is checked against base_type).
SELECT o.n, o.d->>'kind' AS kind, c.i, c.col->>'name' AS name,
       c.col->>'type' AS type, c.col->>'base_type' AS base_type,
       c.col->>'base_typmod' AS base_typmod,
       (c.col->>'base_type_oid')::oid = to_regtype(c.col->>'base_type')::oid AS oid_ok,
       c.col->'enum_labels' AS enum_labels
  FROM dd_out o
  LEFT JOIN LATERAL jsonb_array_elements(o.d->'columns') WITH ORDINALITY AS c(col, i) ON true
 WHERE o.d->>'kind' = 'relation'
 ORDER BY o.n, c.i;
SELECT n, d->>'kind' AS kind, d->'new' AS new
  FROM dd_out WHERE d->>'kind' NOT IN ('begin', 'commit', 'relation') ORDER BY n;
-- Columns of other types carry none of the new members.
SELECT count(*) AS plain_with_extras
  FROM dd_out o, jsonb_array_elements(o.d->'columns') c
 WHERE c->>'name' IN ('id', 'plain')
   AND (c ? 'base_type' OR c ? 'base_type_oid' OR c ? 'base_typmod' OR c ? 'enum_labels');

SELECT pg_drop_replication_slot('dd');
DROP TABLE public.dd;
DROP DOMAIN public.dd_short;
DROP DOMAIN public.dd_level_dom;
DROP DOMAIN public.dd_pos_money;
DROP DOMAIN public.dd_money;
DROP TYPE public.dd_level;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
