--
-- schema_quarantine: the quarantine of incompatible schema versions (0.6):
-- quarantine_schema records a registered version as quarantined (the
-- daemon), accept_schema accepts it (a person, through `tributary schema
-- accept`), both idempotent, with TS402 (Confluent's 40402) for a version
-- that is not registered or not quarantined; the table's privileges.
--
\set VERBOSITY terse

CREATE FUNCTION pg_temp.err(stmt text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text;
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
    RETURN st || ': ' || msg;
END
$$;

SELECT version FROM tributary.register_schema('quar-value', '{"type": "string"}');
SELECT tributary.set_compatibility('quar-value', 'NONE');
SELECT version FROM tributary.register_schema('quar-value', '{"type": "integer"}');

-- Only a registered version can be quarantined; only a quarantined one
-- accepted.
SELECT pg_temp.err($$SELECT tributary.quarantine_schema('quar-value', 3)$$);
SELECT pg_temp.err($$SELECT tributary.quarantine_schema('nope', 1)$$);
SELECT pg_temp.err($$SELECT tributary.accept_schema('quar-value', 2)$$);

-- Quarantined, not accepted: false, and again false (one row).
SELECT tributary.quarantine_schema('quar-value', 2);
SELECT tributary.quarantine_schema('quar-value', 2);
SELECT subject, version, accepted_at IS NULL AS pending, accepted_by
  FROM tributary.schema_quarantine ORDER BY 1, 2;

-- Accepted: true the first time, false after; a daemon that quarantines
-- it again (a restart) learns that it is accepted.
SELECT tributary.accept_schema('quar-value', 2);
SELECT tributary.accept_schema('quar-value', 2);
SELECT subject, version, accepted_at IS NOT NULL AS accepted,
       accepted_by = session_user AS by_me
  FROM tributary.schema_quarantine ORDER BY 1, 2;
SELECT tributary.quarantine_schema('quar-value', 2);

-- Privileges: readers read, writers call, nobody else does either.
CREATE ROLE regress_quar_reader;
CREATE ROLE regress_quar_writer;
CREATE ROLE regress_quar_nobody;
GRANT tributary_reader TO regress_quar_reader;
GRANT tributary_writer TO regress_quar_writer;
SET ROLE regress_quar_reader;
SELECT count(*) FROM tributary.schema_quarantine;
SELECT pg_temp.err($$SELECT tributary.accept_schema('quar-value', 2)$$);
RESET ROLE;
SET ROLE regress_quar_writer;
SELECT tributary.accept_schema('quar-value', 2);
SELECT pg_temp.err($$INSERT INTO tributary.schema_quarantine (subject, version) VALUES ('x', 1)$$);
RESET ROLE;
SET ROLE regress_quar_nobody;
SELECT pg_temp.err($$SELECT count(*) FROM tributary.schema_quarantine$$);
SELECT pg_temp.err($$SELECT tributary.quarantine_schema('quar-value', 1)$$);
RESET ROLE;
DROP ROLE regress_quar_reader;
DROP ROLE regress_quar_writer;
DROP ROLE regress_quar_nobody;
