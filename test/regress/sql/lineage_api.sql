--
-- lineage_api: the lineage catalog and its SQL API.  Two jobs move a
-- customers table through a Kafka topic into a warehouse table, masking the
-- email on the way; a third closes a cycle back into the source.  Every
-- read function is run on that graph: results, cycles, depth limits,
-- hostile names, unknown assets.  Then a new version of a graph, event
-- counts, the audit log and its OpenLineage events.
--
\set VERBOSITY terse

-- The first job: Postgres table -> Kafka topic, email masked, the Lua
-- field "segment" computed from two columns.
SELECT tributary.lineage_record('tributary', 'orders', $g$
{"datasets": [
   {"namespace": "postgres://db:5432", "name": "shop.public.customers", "type": "table",
    "fields": [{"name": "id", "type": "bigint"}, {"name": "email", "type": "text"},
               {"name": "name", "type": "text"}, {"name": "country", "type": "text"}]},
   {"namespace": "kafka://broker:9092", "name": "shop.customers", "type": "topic",
    "fields": [{"name": "id"}, {"name": "email"}, {"name": "name"}, {"name": "segment"}]}],
 "rules": [{"name": "mask_email", "kind": "mask", "masking": true},
           {"name": "segment", "kind": "lua", "masking": false}],
 "edges": [
   {"kind": "read", "from": {"namespace": "postgres://db:5432", "name": "shop.public.customers"}},
   {"kind": "write", "to": {"namespace": "kafka://broker:9092", "name": "shop.customers"}},
   {"kind": "derive", "from": {"namespace": "postgres://db:5432", "name": "shop.public.customers", "field": "id"},
    "to": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "id"}},
   {"kind": "derive", "from": {"namespace": "postgres://db:5432", "name": "shop.public.customers", "field": "email"},
    "to": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "email"},
    "subtype": "TRANSFORMATION", "rule": "mask_email"},
   {"kind": "derive", "from": {"namespace": "postgres://db:5432", "name": "shop.public.customers", "field": "name"},
    "to": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "name"}},
   {"kind": "derive", "from": {"namespace": "postgres://db:5432", "name": "shop.public.customers", "field": "country"},
    "to": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "segment"},
    "subtype": "TRANSFORMATION", "rule": "segment"},
   {"kind": "derive", "from": {"namespace": "postgres://db:5432", "name": "shop.public.customers", "field": "name"},
    "to": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "segment"},
    "type": "INDIRECT", "subtype": "CONDITIONAL", "rule": "segment"}]}
$g$, 'cfg-orders-1') AS version;

-- The second job: topic -> warehouse table, identity.
SELECT tributary.lineage_record('tributary', 'warehouse', $g$
{"datasets": [{"namespace": "postgres://wh:5432", "name": "wh.public.customers", "type": "table"}],
 "edges": [
   {"kind": "read", "from": {"namespace": "kafka://broker:9092", "name": "shop.customers"}},
   {"kind": "write", "to": {"namespace": "postgres://wh:5432", "name": "wh.public.customers"}},
   {"kind": "derive", "from": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "id"},
    "to": {"namespace": "postgres://wh:5432", "name": "wh.public.customers", "field": "id"}},
   {"kind": "derive", "from": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "email"},
    "to": {"namespace": "postgres://wh:5432", "name": "wh.public.customers", "field": "email"}},
   {"kind": "derive", "from": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "name"},
    "to": {"namespace": "postgres://wh:5432", "name": "wh.public.customers", "field": "name"}}]}
$g$) AS version;

-- The third job closes a cycle: the warehouse name back into the source.
SELECT tributary.lineage_record('tributary', 'backfill', $g$
{"edges": [
   {"kind": "read", "from": {"namespace": "postgres://wh:5432", "name": "wh.public.customers"}},
   {"kind": "write", "to": {"namespace": "postgres://db:5432", "name": "shop.public.customers"}},
   {"kind": "derive", "from": {"namespace": "postgres://wh:5432", "name": "wh.public.customers", "field": "name"},
    "to": {"namespace": "postgres://db:5432", "name": "shop.public.customers", "field": "name"}}]}
$g$) AS version;

SELECT n.kind, n.asset, parent.asset AS parent, n.dataset_type, n.data_type, n.rule_kind, n.masking
  FROM tributary.lineage_nodes AS n
  LEFT JOIN tributary.lineage_nodes AS parent ON parent.id = n.parent_id
 ORDER BY n.asset;
SELECT job, from_asset, to_asset, kind, transformation_type, transformation_subtype,
       masking, rule, graph_version, current, event_count
  FROM tributary.lineage_edge_list ORDER BY job, from_asset, to_asset, rule;

-- The same graph again is the same version: nothing changes.
SELECT tributary.lineage_record('tributary', 'warehouse', graph) AS version
  FROM tributary.lineage_graphs AS g
  JOIN tributary.lineage_nodes AS j ON j.id = g.job_id
 WHERE j.asset = 'job:tributary/warehouse';
SELECT count(*) AS graph_versions FROM tributary.lineage_graphs;

-- downstream and upstream of a field: one row per node, at its smallest
-- depth, with a shortest path; the cycle ends the walk.
SELECT * FROM tributary.downstream('postgres://db:5432/shop.public.customers#name');
SELECT * FROM tributary.upstream('field:postgres://wh:5432/wh.public.customers#email');
-- A dataset stands for itself and its fields.
SELECT node, depth, masked FROM tributary.downstream('postgres://db:5432/shop.public.customers');
SELECT node, depth FROM tributary.upstream('dataset:postgres://wh:5432/wh.public.customers');

-- Depth limits: 0 is nothing beyond the asset, 1 one edge.
SELECT count(*) AS rows FROM tributary.downstream('postgres://db:5432/shop.public.customers#name', 0);
SELECT node, depth FROM tributary.downstream('postgres://db:5432/shop.public.customers#name', 1);
SELECT node, depth FROM tributary.downstream('job:tributary/orders', 2);
SELECT * FROM tributary.downstream('postgres://db:5432/shop.public.customers#name', -1);

-- impact: datasets, fields and jobs affected, and whether the path masks.
SELECT * FROM tributary.impact('postgres://db:5432/shop.public.customers#email');
SELECT node, kind, depth, masked FROM tributary.impact('postgres://db:5432/shop.public.customers#name');
SELECT node, kind, depth, masked FROM tributary.impact('postgres://db:5432/shop.public.customers#country', 1);

-- lineage_path: the shortest paths; none when unreachable or too deep.
SELECT * FROM tributary.lineage_path('postgres://db:5432/shop.public.customers#email',
                                     'postgres://wh:5432/wh.public.customers#email');
SELECT * FROM tributary.lineage_path('postgres://db:5432/shop.public.customers',
                                     'postgres://wh:5432/wh.public.customers');
SELECT * FROM tributary.lineage_path('postgres://db:5432/shop.public.customers#name',
                                     'postgres://db:5432/shop.public.customers#name');
-- around the cycle and back
SELECT * FROM tributary.lineage_path('postgres://wh:5432/wh.public.customers#name',
                                     'postgres://wh:5432/wh.public.customers#email');
SELECT * FROM tributary.lineage_path('postgres://wh:5432/wh.public.customers#name',
                                     'kafka://broker:9092/shop.customers#name');
SELECT count(*) AS rows FROM tributary.lineage_path('postgres://db:5432/shop.public.customers#name',
                                                    'postgres://wh:5432/wh.public.customers#name', 1);
SELECT count(*) AS rows FROM tributary.lineage_path('postgres://wh:5432/wh.public.customers#email',
                                                    'postgres://db:5432/shop.public.customers#email');
-- Two shortest paths of the same length are both listed.
SELECT tributary.lineage_record('tributary', 'fanin', $g$
{"edges": [
   {"kind": "derive", "from": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "name"},
    "to": {"namespace": "file:///srv", "name": "names.csv", "field": "name"}},
   {"kind": "derive", "from": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "segment"},
    "to": {"namespace": "file:///srv", "name": "names.csv", "field": "name"}, "subtype": "AGGREGATION"},
   {"kind": "write", "to": {"namespace": "file:///srv", "name": "names.csv"}}]}
$g$) AS version;
SELECT * FROM tributary.lineage_path('postgres://db:5432/shop.public.customers#name',
                                     'file:///srv/names.csv#name');
-- The fan-in job reads no dataset as a whole: no dataset-level path.
SELECT * FROM tributary.lineage_path('postgres://db:5432/shop.public.customers',
                                     'file:///srv/names.csv');

-- unmasked_paths: the email reaches sinks only masked; the name reaches
-- them unmasked, and around the cycle, never twice through a node.
SELECT * FROM tributary.unmasked_paths('postgres://db:5432/shop.public.customers#email');
SELECT * FROM tributary.unmasked_paths('postgres://db:5432/shop.public.customers#name');
SELECT source, sink, depth FROM tributary.unmasked_paths('postgres://db:5432/shop.public.customers');
SELECT source, sink, depth FROM tributary.unmasked_paths('postgres://db:5432/shop.public.customers', 1);

-- lineage_dot: masked edges dashed.
SELECT tributary.lineage_dot('postgres://db:5432/shop.public.customers#email');
SELECT tributary.lineage_dot('postgres://wh:5432/wh.public.customers#email', 'upstream', 1);
SELECT length(tributary.lineage_dot('job:tributary/warehouse', 'both')) > 0 AS drawn;
SELECT tributary.lineage_dot('job:tributary/warehouse', 'sideways');

-- Hostile names: quotes, dots, slashes, '#', backslashes, unicode, and a
-- name that would read as another node's key if not escaped.
SELECT tributary.lineage_record('tributary', 'ho"st''ile', $g$
{"datasets": [{"namespace": "file://h\\ost#1", "name": "dir/\"we'ird\".näme#x",
               "fields": [{"name": "a.b \"c\" #d"}, {"name": "ünï/cødé"}]},
              {"namespace": "file://h\\ost#1", "name": "dir", "fields": [{"name": "\"we'ird\".näme#x"}]}],
 "rules": [{"name": "red'act\"", "kind": "redact", "masking": true}],
 "edges": [
   {"kind": "derive", "from": {"namespace": "file://h\\ost#1", "name": "dir/\"we'ird\".näme#x", "field": "a.b \"c\" #d"},
    "to": {"namespace": "file://h\\ost#1", "name": "dir/\"we'ird\".näme#x", "field": "ünï/cødé"}, "rule": "red'act\""},
   {"kind": "write", "to": {"namespace": "file://h\\ost#1", "name": "dir/\"we'ird\".näme#x"}}]}
$g$) AS version;
SELECT kind, asset FROM tributary.lineage_nodes WHERE namespace LIKE 'file://h%' ORDER BY asset;
SELECT * FROM tributary.downstream('file://h\\ost\#1/dir\/"we''ird".näme\#x#a.b "c" #d');
SELECT * FROM tributary.impact('field:file://h\\ost\#1/dir\/"we''ird".näme\#x#a.b "c" #d');
SELECT * FROM tributary.upstream('file://h\\ost\#1/dir#"we''ird".näme#x');
SELECT tributary.lineage_dot('file://h\\ost\#1/dir\/"we''ird".näme\#x');
SELECT count(*) FROM tributary.unmasked_paths('file://h\\ost\#1/dir\/"we''ird".näme\#x');

-- Unknown assets are errors, in every function; NULL gives nothing.
SELECT * FROM tributary.upstream('postgres://db:5432/shop.public.nothing');
SELECT * FROM tributary.downstream('shop.public.customers');
SELECT * FROM tributary.impact('job:tributary/nothing');
SELECT * FROM tributary.lineage_path('postgres://db:5432/shop.public.customers', 'nowhere');
SELECT * FROM tributary.unmasked_paths('dataset:');
SELECT tributary.lineage_dot('''; DROP TABLE tributary.lineage_nodes; --');
SELECT count(*) AS rows FROM tributary.downstream(NULL);
SELECT count(*) AS nodes_left FROM tributary.lineage_nodes;

-- Malformed graphs are refused with the place named.
SELECT tributary.lineage_record('tributary', 'bad', '[]');
SELECT tributary.lineage_record('tributary', 'bad', '{"edges": {}}');
SELECT tributary.lineage_record('tributary', 'bad', '{"datasets": [{"namespace": "x"}]}');
SELECT tributary.lineage_record('tributary', 'bad', '{"datasets": [{"namespace": "x", "name": "y", "fields": [{"type": "int"}]}]}');
SELECT tributary.lineage_record('tributary', 'bad', '{"edges": [{"kind": "copy"}]}');
SELECT tributary.lineage_record('tributary', 'bad', '{"edges": [{"kind": "read", "from": {"namespace": "x", "name": "y"}, "to": {"namespace": "x", "name": "z"}}]}');
SELECT tributary.lineage_record('tributary', 'bad', '{"edges": [{"kind": "write", "to": {"namespace": "x", "name": "y"}, "rule": "nope"}]}');
SELECT tributary.lineage_record('tributary', 'bad', '{"rules": [{"name": "r", "kind": "mask", "masking": "yes"}]}');
SELECT tributary.lineage_record('tributary', 'bad', '{"edges": [{"kind": "write", "to": {"namespace": "x", "name": "y"}, "subtype": "MAGIC"}]}');
SELECT tributary.lineage_record('', 'bad', '{}');
SELECT count(*) AS bad_jobs FROM tributary.lineage_nodes WHERE name = 'bad';

-- A run: start, a new version of the graph on a config change (the name
-- edge goes away, a hash of the name arrives), counts at a checkpoint,
-- a schema change linked to the registry, a snapshot, an erasure, stop.
SELECT tributary.lineage_run_start('tributary', 'orders', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
                                   'cfg-orders-1', '{"host": "cdc-1"}');
SELECT tributary.lineage_run_start('tributary', 'orders', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
SELECT tributary.lineage_run_start('tributary', 'warehouse', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
SELECT tributary.lineage_count(array_agg(id ORDER BY id), array_agg(10::bigint ORDER BY id),
                               '{"commit_lsn": "0/16B3748", "seq": 4}')
  FROM tributary.lineage_edge_list WHERE job = 'job:tributary/orders';
SELECT tributary.lineage_count(ARRAY[e.id, e.id], ARRAY[5, 2]::bigint[])
  FROM tributary.lineage_edge_list AS e
 WHERE e.job = 'job:tributary/orders' AND e.kind = 'read';
SELECT tributary.lineage_count(ARRAY[1], ARRAY[-1]::bigint[]);
SELECT tributary.lineage_count(ARRAY[1, 2], ARRAY[1]::bigint[]);
CREATE TEMP TABLE seen_before AS
SELECT from_asset, to_asset, last_seen FROM tributary.lineage_edge_list WHERE job = 'job:tributary/orders';
SELECT tributary.lineage_record('tributary', 'orders', $g$
{"datasets": [
   {"namespace": "postgres://db:5432", "name": "shop.public.customers", "type": "table"},
   {"namespace": "kafka://broker:9092", "name": "shop.customers", "type": "topic",
    "fields": [{"name": "name_hash"}]}],
 "rules": [{"name": "mask_email", "kind": "mask", "masking": true},
           {"name": "hash_name", "kind": "hash", "masking": true}],
 "edges": [
   {"kind": "read", "from": {"namespace": "postgres://db:5432", "name": "shop.public.customers"}},
   {"kind": "write", "to": {"namespace": "kafka://broker:9092", "name": "shop.customers"}},
   {"kind": "derive", "from": {"namespace": "postgres://db:5432", "name": "shop.public.customers", "field": "email"},
    "to": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "email"},
    "subtype": "TRANSFORMATION", "rule": "mask_email"},
   {"kind": "derive", "from": {"namespace": "postgres://db:5432", "name": "shop.public.customers", "field": "name"},
    "to": {"namespace": "kafka://broker:9092", "name": "shop.customers", "field": "name_hash"},
    "subtype": "TRANSFORMATION", "rule": "hash_name"}]}
$g$, 'cfg-orders-2', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS version;
-- Edges the new version dropped are retired; they keep counts and last_seen.
SELECT e.from_asset, e.to_asset, e.rule, e.graph_version, e.current, e.event_count,
       e.last_position, e.last_seen = b.last_seen AS last_seen_kept
  FROM tributary.lineage_edge_list AS e
  LEFT JOIN seen_before AS b USING (from_asset, to_asset)
 WHERE e.job = 'job:tributary/orders'
 ORDER BY e.from_asset, e.to_asset, e.rule;
-- The name now reaches the warehouse only through a masking rule.
SELECT count(*) AS unmasked FROM tributary.unmasked_paths('postgres://db:5432/shop.public.customers#name');
SELECT node, masked FROM tributary.impact('postgres://db:5432/shop.public.customers#name') WHERE kind = 'field';

SELECT version FROM tributary.register_schema('shop.public.customers-value', '{"type": "object"}');
SELECT tributary.lineage_log('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'schema_change',
                             '{"ddl": "ALTER TABLE customers ADD COLUMN note text"}',
                             '{"commit_lsn": "0/16B4000", "seq": 0}',
                             'shop.public.customers-value', 1) > 0 AS logged;
SELECT tributary.lineage_log('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'snapshot',
                             '{"tables": ["shop.public.customers"], "rows": 42}') > 0 AS logged;
SELECT tributary.lineage_log('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'erasure_request',
                             '{"erasure_request_id": 7}') > 0 AS logged;
SELECT tributary.lineage_log('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'start');
SELECT tributary.lineage_log('00000000-0000-0000-0000-000000000000', 'snapshot');
SELECT tributary.lineage_run_stop('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'DONE');
SELECT tributary.lineage_run_stop('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'FAIL', '{"error": "broker down"}');
SELECT tributary.lineage_run_stop('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
SELECT tributary.lineage_log('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'snapshot');
SELECT r.state, r.config_fingerprint, r.ended_at IS NOT NULL AS ended
  FROM tributary.lineage_runs AS r;
SELECT operation, config_fingerprint, graph_version, schema_subject, schema_version,
       schema_id IS NOT NULL AS linked, source_position, detail
  FROM tributary.lineage_audit ORDER BY id;

-- openlineage_events: one RunEvent per audit entry.
SELECT e->>'eventType' AS type, e->'run'->'facets'->'tributary_audit'->>'operation' AS operation,
       e->'job'->>'name' AS job, e->>'eventTime' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$' AS iso_time,
       jsonb_array_length(e->'inputs') AS inputs, jsonb_array_length(e->'outputs') AS outputs
  FROM tributary.openlineage_events('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS e;
SELECT jsonb_pretty(e - 'eventTime' #- '{run,facets,tributary_audit}')
  FROM tributary.openlineage_events('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11') AS e
 WHERE e->>'eventType' = 'FAIL';
SELECT count(*) AS events FROM tributary.openlineage_events('00000000-0000-0000-0000-000000000000');

-- Privileges: tributary_reader reads the catalog and runs every read
-- function, and writes nothing; tributary_writer records; a role with
-- neither does nothing.  (Errors print their message only: VERBOSITY terse.)
CREATE ROLE regress_lin_reader IN ROLE tributary_reader;
CREATE ROLE regress_lin_writer IN ROLE tributary_writer;
CREATE ROLE regress_lin_nobody;
GRANT USAGE ON SCHEMA tributary TO regress_lin_nobody;
SET ROLE regress_lin_reader;
SELECT count(*) AS nodes FROM tributary.lineage_nodes;
SELECT count(*) AS edges FROM tributary.lineage_edge_list;
SELECT count(*) AS audit FROM tributary.lineage_audit;
SELECT count(*) FROM tributary.upstream('postgres://wh:5432/wh.public.customers#name');
SELECT count(*) FROM tributary.downstream('postgres://db:5432/shop.public.customers');
SELECT count(*) FROM tributary.impact('postgres://db:5432/shop.public.customers');
SELECT count(*) FROM tributary.lineage_path('postgres://db:5432/shop.public.customers#email',
                                            'postgres://wh:5432/wh.public.customers#email');
SELECT count(*) FROM tributary.unmasked_paths('postgres://db:5432/shop.public.customers');
SELECT length(tributary.lineage_dot('job:tributary/orders', 'both')) > 0 AS drawn;
SELECT count(*) FROM tributary.openlineage_events('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
SELECT tributary.lineage_record('tributary', 'r', '{}');
SELECT tributary.lineage_count(ARRAY[1], ARRAY[1]::bigint[]);
SELECT tributary.lineage_run_start('tributary', 'r', gen_random_uuid());
SELECT tributary.lineage_log('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'snapshot');
SELECT tributary.lineage_run_stop('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
UPDATE tributary.lineage_edges SET masking = true;
DELETE FROM tributary.lineage_nodes;
INSERT INTO tributary.lineage_audit (run_id, operation) VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'stop');
RESET ROLE;
SET ROLE regress_lin_writer;
SELECT tributary.lineage_record('tributary', 'writer', '{"edges": [{"kind": "write", "to": {"namespace": "file:///srv", "name": "w.json"}}]}');
SELECT tributary.lineage_run_start('tributary', 'writer', 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12');
SELECT tributary.lineage_run_stop('b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12', 'ABORT');
UPDATE tributary.lineage_edges SET masking = true;
RESET ROLE;
SET ROLE regress_lin_nobody;
SELECT count(*) FROM tributary.lineage_nodes;
SELECT * FROM tributary.impact('job:tributary/writer');
SELECT * FROM tributary.downstream('job:tributary/writer');
SELECT tributary.lineage_dot('job:tributary/writer');
SELECT tributary.lineage_record('tributary', 'n', '{}');
RESET ROLE;
SELECT asset FROM tributary.downstream('job:tributary/writer') AS d JOIN tributary.lineage_nodes n ON n.asset = d.node;

DROP ROLE regress_lin_reader;
DROP ROLE regress_lin_writer;
REVOKE USAGE ON SCHEMA tributary FROM regress_lin_nobody;
DROP ROLE regress_lin_nobody;
DELETE FROM tributary.registry_versions;
DELETE FROM tributary.registry_schemas;
DELETE FROM tributary.registry_subjects;
-- Drop the session's temporary objects here: left to the backend's exit,
-- their removal is a transaction of its own that can commit after the next
-- test has created its slot, and so show up in that test's stream.
DISCARD TEMP;
