# test/tap/001_cluster_basics.pl: the TAP harness works end to end.  A node
# started by PostgreSQL::Test::Cluster with logical decoding allowed can
# create the tributary extension, and a logical slot decodes an insert.
#
# Decodes with test_decoding: the tributary plugin has its own tests.
use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('basics');
$node->init(allows_streaming => 'logical');
$node->append_conf('postgresql.conf',
	"output_plugin_libraries = 'pgoutput, test_decoding, wal2json, tributary'");
$node->start;

is($node->safe_psql('postgres', 'SHOW wal_level'),
	'logical', 'node runs with wal_level = logical');

# The version the installed control file names (not a number written here,
# which every release would have to edit).
my $default_version = $node->safe_psql('postgres',
	"SELECT default_version FROM pg_available_extensions WHERE name = 'tributary'");
like($default_version, qr/^\d+\.\d+$/, "the control file names a default version ($default_version)");
$node->safe_psql('postgres', 'CREATE EXTENSION tributary');
is( $node->safe_psql(
		'postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'tributary'"),
	$default_version,
	'CREATE EXTENSION tributary installs the default version');

# The table is created before the slot: since 0.4 the extension records DDL
# in tributary.ddl_events, which other plugins decode as an ordinary table
# (checked below).
$node->safe_psql('postgres',
	'CREATE TABLE accounts (id int PRIMARY KEY, owner text)');
$node->safe_psql('postgres',
	"SELECT pg_create_logical_replication_slot('basics', 'test_decoding')");
$node->safe_psql('postgres',
	"INSERT INTO accounts VALUES (1, 'Ada Lovelace')");

my $changes = $node->safe_psql(
	'postgres', qq{
	SELECT data FROM pg_logical_slot_get_changes('basics', NULL, NULL,
	       'include-xids', '0', 'skip-empty-xacts', '1')
});
is( $changes,
	"BEGIN\n"
	  . "table public.accounts: INSERT: id[integer]:1 owner[text]:'Ada Lovelace'\n"
	  . "COMMIT",
	'the slot decodes the insert');

# Another plugin sees the DDL log's row as an insert into
# tributary.ddl_events, in the DDL's transaction (docs/SCHEMA_REGISTRY.md,
# section 5); only the tributary plugin turns it into a ddl record.
$node->safe_psql('postgres', 'ALTER TABLE accounts ADD COLUMN note text');
$changes = $node->safe_psql(
	'postgres', qq{
	SELECT string_agg(substring(data from '^table [a-z_.]+: [A-Z]+'), ',')
	  FROM pg_logical_slot_get_changes('basics', NULL, NULL,
	       'include-xids', '0', 'skip-empty-xacts', '1')
	 WHERE data LIKE 'table %'
});
is($changes, 'table tributary.ddl_events: INSERT',
	'other plugins decode the DDL log as an ordinary table');

# A plugin missing from output_plugin_libraries is refused: this is the
# setting every tributary cluster must get right.
$node->append_conf('postgresql.conf',
	"output_plugin_libraries = 'pgoutput, test_decoding'");
$node->restart;
my ($ret, $stdout, $stderr) = $node->psql('postgres',
	"SELECT pg_create_logical_replication_slot('refused', 'wal2json')");
isnt($ret, 0, 'a plugin not listed in output_plugin_libraries is refused');
like($stderr, qr/may not be used as an output plugin/,
	'the refusal names the reason');

$node->stop;
done_testing();
