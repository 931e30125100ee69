--
-- catalog: the checkpoint catalog and its SQL API.  checkpoint_save stores
-- and advances checkpoints and never moves a PostgreSQL checkpoint
-- backwards; checkpoint_get reads them; tributary_reader may read but not
-- write; a role without grants may do neither.
--
-- Errors print their message only: CONTEXT lines would tie this file to
-- line numbers in the function bodies.
\set VERBOSITY terse

SELECT tributary.version();

-- A checkpoint that was never saved: no row.
SELECT count(*) AS rows FROM tributary.checkpoint_get('orders', 'pg:shop');

-- First save of a PostgreSQL source, then forward moves: a later change of
-- the same transaction, then a later transaction.
SELECT pipeline, source, commit_lsn, seq, position
  FROM tributary.checkpoint_save('orders', 'pg:shop', '0/16B3748', 0);
SELECT pipeline, source, commit_lsn, seq, position
  FROM tributary.checkpoint_save('orders', 'pg:shop', '0/16B3748', 5);
SELECT pipeline, source, commit_lsn, seq, position
  FROM tributary.checkpoint_save('orders', 'pg:shop', '0/16B4000', 0);
-- Saving the stored position again is a harmless retry.
SELECT pipeline, source, commit_lsn, seq, position
  FROM tributary.checkpoint_save('orders', 'pg:shop', '0/16B4000', 0);
SELECT pipeline, source, commit_lsn, seq, position
  FROM tributary.checkpoint_get('orders', 'pg:shop');

-- Backwards moves are refused, whether by LSN, by seq at the same LSN, or by
-- dropping the LSN; the stored checkpoint is unchanged.
SELECT tributary.checkpoint_save('orders', 'pg:shop', '0/16B3748', 9);
SELECT commit_lsn, seq FROM tributary.checkpoint_save('orders', 'pg:shop', '0/16B4000', 0);
SELECT commit_lsn, seq FROM tributary.checkpoint_save('orders', 'pg:shop', '0/16B5000', 3);
SELECT tributary.checkpoint_save('orders', 'pg:shop', '0/16B5000', 2);
SELECT tributary.checkpoint_save('orders', 'pg:shop', NULL, 0, '{"gtid_set": "x:1-3"}');
SELECT commit_lsn, seq FROM tributary.checkpoint_get('orders', 'pg:shop');

-- Other sources keep an opaque position object, replaced on every save.
SELECT source, commit_lsn, seq, position
  FROM tributary.checkpoint_save('orders', 'mysql:crm', NULL, 0,
       '{"gtid_set": "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77"}');
SELECT source, commit_lsn, seq, position
  FROM tributary.checkpoint_save('orders', 'mysql:crm', NULL, 0,
       '{"binlog_file": "mysql-bin.000003", "binlog_pos": 4}');
SELECT source, position
  FROM tributary.checkpoint_save('orders', 'mongo:events', NULL, 0,
       "position" => '{"resume_token": {"_data": "8263A1B2C3000000012B"}}');

-- The same source name in another pipeline is a separate checkpoint.
SELECT pipeline, source, commit_lsn, seq
  FROM tributary.checkpoint_save('billing', 'pg:shop', '0/1000000', 1);

-- Bad checkpoints are refused by the table's constraints or the function.
SELECT tributary.checkpoint_save('orders', 'pg:bad', '0/1', -1);
SELECT tributary.checkpoint_save('orders', 'pg:bad', NULL, 0);
SELECT tributary.checkpoint_save('orders', 'mysql:bad', NULL, 0, '"mysql-bin.000003"');
SELECT tributary.checkpoint_save('', 'pg:bad', '0/1', 0);
SELECT tributary.checkpoint_save('orders', '', '0/1', 0);
SELECT tributary.checkpoint_save(NULL, 'pg:bad', '0/1', 0);
SELECT tributary.checkpoint_save('orders', 'pg:bad', '0/1', NULL);

SELECT pipeline, source, commit_lsn, seq, position, updated_at IS NOT NULL AS has_time
  FROM tributary.source_checkpoints
 ORDER BY pipeline, source;

-- Privileges.  tributary_reader is created by the extension; the other two
-- roles stand for a consumer that was granted the function only and for an
-- unrelated user.
CREATE ROLE regress_trib_reader IN ROLE tributary_reader;
CREATE ROLE regress_trib_caller;
CREATE ROLE regress_trib_outsider;
GRANT USAGE ON SCHEMA tributary TO regress_trib_caller;
GRANT EXECUTE ON FUNCTION tributary.checkpoint_save(text, text, pg_lsn, bigint, jsonb)
    TO regress_trib_caller;

SET ROLE regress_trib_reader;
SELECT commit_lsn, seq FROM tributary.checkpoint_get('orders', 'pg:shop');
SELECT count(*) FROM tributary.source_checkpoints;
SELECT tributary.version();
INSERT INTO tributary.source_checkpoints (pipeline, source, commit_lsn)
    VALUES ('orders', 'pg:evil', '0/1');
UPDATE tributary.source_checkpoints SET seq = 0;
DELETE FROM tributary.source_checkpoints;
SELECT tributary.checkpoint_save('orders', 'pg:shop', '0/FFFFFFFF', 0);
RESET ROLE;

-- Allowed to call checkpoint_save, but SECURITY INVOKER: the caller's
-- missing table privileges still stop it.
SET ROLE regress_trib_caller;
SELECT tributary.checkpoint_save('orders', 'pg:shop', '0/FFFFFFFF', 0);
RESET ROLE;

SET ROLE regress_trib_outsider;
SELECT count(*) FROM tributary.source_checkpoints;
SELECT tributary.checkpoint_get('orders', 'pg:shop');
SELECT tributary.checkpoint_save('orders', 'pg:shop', '0/FFFFFFFF', 0);
RESET ROLE;

-- Nothing above changed the stored checkpoint.
SELECT commit_lsn, seq FROM tributary.checkpoint_get('orders', 'pg:shop');

DROP ROLE regress_trib_reader;
REVOKE ALL ON FUNCTION tributary.checkpoint_save(text, text, pg_lsn, bigint, jsonb)
    FROM regress_trib_caller;
REVOKE USAGE ON SCHEMA tributary FROM regress_trib_caller;
DROP ROLE regress_trib_caller;
DROP ROLE regress_trib_outsider;
TRUNCATE tributary.source_checkpoints;
