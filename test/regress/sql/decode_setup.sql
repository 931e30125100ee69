-- Helpers shared by the decoding tests (the extension is already loaded).
--
-- trib_norm drops the tags whose values change from run to run (xids, LSNs,
-- timestamps, relation OIDs, OIDs of user types) so that the expected
-- output is stable; decode_positions checks those tags themselves.
-- Every helper casts each record to jsonb: a record that is not valid JSON
-- fails the test with a parse error.
CREATE FUNCTION public.trib_norm(j jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN j ? 'columns' THEN
      (j - '{xid,subxid,commit_lsn,lsn,end_lsn,ts,relid}'::text[])
      || jsonb_build_object('columns',
           (SELECT jsonb_agg(CASE WHEN (c->>'type_oid')::bigint >= 16384
                                  THEN c - 'type_oid' ELSE c END ORDER BY o)
              FROM jsonb_array_elements(j->'columns') WITH ORDINALITY AS x(c, o)))
    ELSE j - '{xid,subxid,commit_lsn,lsn,end_lsn,ts,relid}'::text[] END
$$;

CREATE FUNCTION public.trib_get(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS SETOF text LANGUAGE sql AS $$
  SELECT public.trib_norm(data::jsonb)::text
    FROM pg_catalog.pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC opts)
$$;

CREATE FUNCTION public.trib_peek(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS SETOF text LANGUAGE sql AS $$
  SELECT public.trib_norm(data::jsonb)::text
    FROM pg_catalog.pg_logical_slot_peek_changes(slot, NULL, NULL, VARIADIC opts)
$$;

-- The raw text, with volatile tag values replaced by _, for checks of exact
-- formatting and key order.  Also parses each record as JSON.
CREATE FUNCTION public.trib_raw(slot name, VARIADIC opts text[] DEFAULT '{}')
RETURNS SETOF text LANGUAGE sql AS $$
  SELECT regexp_replace(data,
           '"(xid|subxid|commit_lsn|lsn|end_lsn|ts|relid)":("[^"]*"|[0-9]+)',
           '"\1":_', 'g')
    FROM pg_catalog.pg_logical_slot_get_changes(slot, NULL, NULL, VARIADIC opts)
   WHERE data::jsonb IS NOT NULL
$$;

SELECT count(*) AS helpers FROM pg_proc WHERE proname LIKE 'trib\_%';
