-- TOAST: values stored out of line arrive whole when written, and an UPDATE
-- that leaves them untouched marks them in "unchanged_toast" rather than
-- dropping them silently or sending null.
CREATE TABLE public.toasty (id int PRIMARY KEY, small text, big text, doc jsonb, blob bytea);
ALTER TABLE public.toasty ALTER COLUMN big SET STORAGE EXTERNAL;
ALTER TABLE public.toasty ALTER COLUMN blob SET STORAGE EXTERNAL;
SELECT 'init' FROM pg_create_logical_replication_slot('toast', 'tributary');

INSERT INTO public.toasty VALUES (1, 's', repeat('x', 100000),
    (SELECT jsonb_agg(g) FROM generate_series(1, 20000) g), decode(repeat('ab', 50000), 'hex'));
UPDATE public.toasty SET small = 's2' WHERE id = 1;
UPDATE public.toasty SET big = repeat('y', 90000) WHERE id = 1;
DELETE FROM public.toasty WHERE id = 1;

SELECT d->>'kind' AS kind,
       length(d->'new'->>'big') AS big_len,
       jsonb_array_length(d->'new'->'doc') AS doc_len,
       length(decode(d->'new'->>'blob', 'base64')) AS blob_len,
       d->'new'->>'small' AS small,
       d->'new' ? 'big' AS has_big,
       d->'unchanged_toast' AS unchanged_toast,
       d->'old' AS old
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_get_changes('toast', NULL, NULL, 'include-transaction', 'false')) s
 WHERE d->>'kind' <> 'relation';

-- A big value arrives intact, byte for byte.
INSERT INTO public.toasty (id, big) VALUES (2, (SELECT string_agg(md5(g::text), '') FROM generate_series(1, 5000) g));
SELECT d->'new'->>'big' = (SELECT big FROM public.toasty WHERE id = 2) AS identical
  FROM (SELECT data::jsonb AS d FROM pg_logical_slot_get_changes('toast', NULL, NULL, 'include-transaction', 'false')) s
 WHERE d->>'kind' = 'insert';

SELECT pg_drop_replication_slot('toast');
DROP TABLE public.toasty;
