--
-- extension_upgrade: installing the oldest version and walking every upgrade
-- script builds the same objects as installing the default version directly.
--
-- Runs in a database of its own: pg_regress has already created the
-- extension in contrib_regression.
--
CREATE DATABASE upgrade_walk TEMPLATE template0;
\c upgrade_walk

-- Everything CREATE EXTENSION made, with enough definition to tell two
-- builds apart: columns, constraints, indexes and storage options of tables,
-- full function definitions, and privileges.  The schema is listed too: it
-- is not a member of the extension, but the scripts grant on it.
CREATE TEMP VIEW ext_objects AS
SELECT pg_describe_object(d.classid, d.objid, 0) AS object,
       CASE d.classid
       WHEN 'pg_proc'::regclass THEN
           (SELECT pg_get_functiondef(p.oid) || ' acl=' || coalesce(p.proacl::text, '-')
              FROM pg_proc p WHERE p.oid = d.objid)
       WHEN 'pg_class'::regclass THEN
           (SELECT 'options=' || coalesce(c.reloptions::text, '-')
                   || ' acl=' || coalesce(c.relacl::text, '-')
                   || ' columns=' || (SELECT string_agg(a.attname || ' '
                                          || format_type(a.atttypid, a.atttypmod)
                                          || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
                                          || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), ''),
                                          ', ' ORDER BY a.attnum)
                                        FROM pg_attribute a
                                        LEFT JOIN pg_attrdef ad
                                          ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                                       WHERE a.attrelid = c.oid AND a.attnum > 0
                                         AND NOT a.attisdropped)
                   || ' constraints=' || coalesce((SELECT string_agg(co.conname || ' '
                                                       || pg_get_constraintdef(co.oid), ', '
                                                       ORDER BY co.conname)
                                                     FROM pg_constraint co
                                                    WHERE co.conrelid = c.oid), '-')
                   || ' indexes=' || coalesce((SELECT string_agg(pg_get_indexdef(i.indexrelid), ', '
                                                   ORDER BY i.indexrelid::regclass::text)
                                                 FROM pg_index i
                                                WHERE i.indrelid = c.oid), '-')
                   || coalesce(' view=' || pg_get_viewdef(c.oid), '')
              FROM pg_class c WHERE c.oid = d.objid)
       WHEN 'pg_event_trigger'::regclass THEN
           (SELECT t.evtevent || ' ' || t.evtfoid::regprocedure::text || ' ' || t.evtenabled::text
                   || ' tags=' || coalesce(t.evttags::text, '-')
              FROM pg_event_trigger t WHERE t.oid = d.objid)
       ELSE '-'
       END AS definition
  FROM pg_depend d
  JOIN pg_extension e ON d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
 WHERE e.extname = 'tributary' AND d.deptype = 'e'
UNION ALL
SELECT 'schema ' || n.nspname, 'acl=' || coalesce(n.nspacl::text, '-')
  FROM pg_namespace n
 WHERE n.nspname = 'tributary' AND EXISTS (SELECT FROM pg_extension WHERE extname = 'tributary');

-- The upgrade paths the scripts in sql/ provide.
SELECT source, target, path
  FROM pg_extension_update_paths('tributary')
 WHERE path IS NOT NULL
 ORDER BY source, target;

-- The oldest version: the checkpoint catalog only.
CREATE EXTENSION tributary VERSION '0.1';
SELECT extversion, extnamespace::regnamespace AS schema
  FROM pg_extension WHERE extname = 'tributary';
SELECT object FROM ext_objects ORDER BY object;
SELECT reloptions FROM pg_class WHERE oid = 'tributary.source_checkpoints'::regclass;
SELECT extconfig::regclass[] AS dumped_tables, extcondition
  FROM pg_extension WHERE extname = 'tributary';
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'tributary_reader';
-- The SQL API arrives in 0.2.
SELECT tributary.version();

-- One step: 0.2 adds the SQL API, and no erasure tables yet.
ALTER EXTENSION tributary UPDATE TO '0.2';
SELECT extversion FROM pg_extension WHERE extname = 'tributary';
SELECT tributary.version();
SELECT object FROM ext_objects ORDER BY object;

-- 0.3 adds the erasure tables, dumped with the database, and the role
-- that may write them.
ALTER EXTENSION tributary UPDATE TO '0.3';
SELECT extversion FROM pg_extension WHERE extname = 'tributary';
SELECT tributary.version();
SELECT object FROM ext_objects ORDER BY object;
SELECT extconfig::regclass[] AS dumped_tables, extcondition
  FROM pg_extension WHERE extname = 'tributary';
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'tributary_eraser';
-- No event trigger before 0.4: DDL is not recorded.
SELECT count(*) AS event_triggers FROM pg_event_trigger;

-- A user table made under 0.3: its DDL was not recorded, its later DDL is.
CREATE TABLE upgrade_probe (id int PRIMARY KEY);

-- 0.4 adds the schema registry (catalog, SQL API, tributary_writer) and
-- DDL capture (tributary.ddl_events and two event triggers).
ALTER EXTENSION tributary UPDATE TO '0.4';
SELECT extversion FROM pg_extension WHERE extname = 'tributary';
SELECT tributary.version();
SELECT object FROM ext_objects ORDER BY object;
SELECT extconfig::regclass[] AS dumped_tables, extcondition
  FROM pg_extension WHERE extname = 'tributary';
SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = 'tributary_writer';
SELECT evtname, evtevent, evtfoid::regproc, evtenabled
  FROM pg_event_trigger ORDER BY evtname;
-- The upgrade itself recorded nothing; the next DDL is recorded.
SELECT count(*) AS ddl_rows FROM tributary.ddl_events;
ALTER TABLE upgrade_probe ADD COLUMN note text;
SELECT event, command_tag, object_type, object_identity, statement
  FROM tributary.ddl_events ORDER BY id;
SELECT * FROM tributary.register_schema('probe', '{"type": "object"}');
DROP TABLE upgrade_probe;

-- A password logged under 0.4 (CREATE USER MAPPING): the walk through
-- 0.7 clears the statement text of such rows (docs/SECURITY.md).
CREATE FOREIGN DATA WRAPPER upgrade_fdw;
CREATE SERVER upgrade_srv FOREIGN DATA WRAPPER upgrade_fdw;
CREATE USER MAPPING FOR PUBLIC SERVER upgrade_srv OPTIONS (password 'Upgrade-Secret');
SELECT count(*) AS logged_secrets FROM tributary.ddl_events WHERE statement ~ 'Upgrade-Secret';

-- Walk the remaining upgrade scripts to the default version.  0.5 adds
-- soft deletes to the registry (a version registered under 0.4 stays
-- live) and the lineage catalog and its API; 0.6 the quarantine of
-- incompatible schema versions; 0.7 keeps secrets out of the DDL log and
-- the audit columns of erasure requests out of the eraser's hands.
ALTER EXTENSION tributary UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'tributary';
SELECT tributary.version();
SELECT object FROM ext_objects ORDER BY object;
SELECT extconfig::regclass[] AS dumped_tables, extcondition
  FROM pg_extension WHERE extname = 'tributary';
SELECT count(*) AS logged_secrets FROM tributary.ddl_events WHERE statement ~ 'Upgrade-Secret';
SELECT command_tag, statement FROM tributary.ddl_events
 WHERE command_tag IN ('CREATE SERVER', 'CREATE USER MAPPING') ORDER BY id;
DROP SERVER upgrade_srv CASCADE;
DROP FOREIGN DATA WRAPPER upgrade_fdw;
SELECT subject, version, id, deleted FROM tributary.schema_versions;
SELECT subject, versions, deleted FROM tributary.subjects_with_deleted;
SELECT tributary.delete_subject('probe');
SELECT * FROM tributary.register_schema('probe', '{"type": "object"}');
SELECT tributary.lineage_record('tributary', 'probe',
    '{"edges": [{"kind": "write", "to": {"namespace": "file:///tmp", "name": "probe.json"}}]}');
SELECT node, depth FROM tributary.downstream('job:tributary/probe');
CREATE TEMP TABLE upgraded AS SELECT * FROM ext_objects;

-- Start again from nothing and install the default version directly.
-- Dropping the extension drops its event triggers: DDL works without them.
DROP EXTENSION tributary;
DROP SCHEMA tributary;
SELECT count(*) AS leftover_objects FROM ext_objects;
SELECT count(*) AS event_triggers FROM pg_event_trigger;
CREATE TABLE after_drop (id int);
DROP TABLE after_drop;
CREATE EXTENSION tributary;
SELECT extversion FROM pg_extension WHERE extname = 'tributary';
SELECT tributary.version();

-- Both builds must match object for object; any row here is a difference.
SELECT 'only after upgrade' AS side, object, definition
  FROM (SELECT * FROM upgraded EXCEPT SELECT * FROM ext_objects) AS u
UNION ALL
SELECT 'only in fresh install', object, definition
  FROM (SELECT * FROM ext_objects EXCEPT SELECT * FROM upgraded) AS f
 ORDER BY 1, 2;
SELECT count(*) AS compared_objects, count(definition) AS with_definition FROM upgraded;

-- The session's temporary objects go before it ends (see decode_jsonb).
DISCARD TEMP;
\c contrib_regression
DROP DATABASE upgrade_walk;
