# test/tap/002_walsender.pl: the tributary plugin through a real walsender,
# driven by pg_recvlogical.
#
# Proves:
#  - pg_recvlogical -P tributary works, and bare options (-o name) mean true;
#  - skipped (empty) transactions still let the slot advance through the
#    walsender's feedback;
#  - a consumer that stops in the middle of a transaction and restarts from
#    its own checkpoint with resume-after loses nothing and gets nothing
#    twice, although PostgreSQL itself resends the whole transaction;
#  - after an immediate (crash) restart of the server, the slot's confirmed
#    position goes back, and resume-after still prevents every duplicate.
use strict;
use warnings;

use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('walsender');
$node->init(allows_streaming => 'logical');
$node->append_conf(
	'postgresql.conf', q{
output_plugin_libraries = 'pgoutput, test_decoding, tributary'
logical_decoding_work_mem = 64kB
autovacuum = off
});
$node->start;

my $json = JSON::PP->new;
my $connstr = $node->connstr('postgres');

# recv(slot, endpos, opts...): run pg_recvlogical to endpos; returns the
# records as parsed hashes.  Every line must be valid JSON.
sub recv_records
{
	my ($slot, $endpos, @opts) = @_;
	my @cmd = (
		'pg_recvlogical', '-d', $connstr, '-S', $slot, '--start',
		'-E', $endpos, '-f', '-', '--no-loop', '-s', '1');
	push @cmd, map { ('-o', $_) } @opts;
	my ($stdout, $stderr);
	IPC::Run::run(\@cmd, '>', \$stdout, '2>', \$stderr)
	  or die "pg_recvlogical failed: $stderr";
	return [ map { $json->decode($_) } grep { $_ ne '' } split /\n/, $stdout ];
}

sub ids
{
	my ($records) = @_;
	return map { "$_->{commit_lsn}:$_->{seq}" } grep { exists $_->{seq} } @$records;
}

sub lsn_of
{
	my ($sql) = @_;
	return $node->safe_psql('postgres', $sql);
}

$node->safe_psql('postgres',
	'CREATE TABLE t (id int PRIMARY KEY, v text); CREATE TABLE other (id int)');
$node->command_ok(
	[ 'pg_recvlogical', '-d', $connstr, '-S', 'cdc', '--create-slot', '-P', 'tributary' ],
	'pg_recvlogical creates a slot with the tributary plugin');

# --- bare options and skipped transactions -------------------------------
$node->safe_psql('postgres', 'INSERT INTO t VALUES (1, $$a$$)');
$node->safe_psql('postgres', "INSERT INTO other SELECT generate_series(1, 10)")
  for 1 .. 5;
my $end = lsn_of('SELECT pg_current_wal_lsn()');
my $recs = recv_records('cdc', $end, 'skip-empty-xacts', 'include-tables=public.t');
my @kinds = map { $_->{kind} } @$recs;
is_deeply(\@kinds, [qw(begin relation insert commit)],
	'bare -o skip-empty-xacts is true: the five empty transactions send nothing');
is($recs->[2]{new}{v}, 'a', 'the insert arrives through the walsender');
my $confirmed = lsn_of(
	"SELECT confirmed_flush_lsn >= '$end'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'cdc'");
is($confirmed, 't', 'the slot advanced past the skipped transactions');

# --- consumer stops mid-transaction and restarts --------------------------
$node->safe_psql('postgres',
	"INSERT INTO t SELECT g, 'x' FROM generate_series($_ * 100, $_ * 100 + 9) g")
  for 1 .. 3;
$end = lsn_of('SELECT pg_current_wal_lsn()');
$node->safe_psql('postgres',
	"SELECT pg_copy_logical_replication_slot('cdc', 'cdc_witness')");
my $all = recv_records('cdc_witness', $end);
my @all_ids = ids($all);
is(scalar(@all_ids), 30, 'the witness decodes 30 changes');

# Several records per CopyData message (the walsender default) write the
# very same bytes as one record per message.
{
	my @cmd = ('pg_recvlogical', '-d', $connstr, '-S', 'cdc_witness', '--start',
		'-E', $end, '-f', '-', '--no-loop');
	$node->safe_psql('postgres',
		"SELECT pg_copy_logical_replication_slot('cdc', 'cdc_b1'), pg_copy_logical_replication_slot('cdc', 'cdc_b2')");
	my ($batched, $single, $err);
	$cmd[4] = 'cdc_b1';
	IPC::Run::run(\@cmd, '>', \$batched, '2>', \$err) or die $err;
	$cmd[4] = 'cdc_b2';
	IPC::Run::run([ @cmd, '-o', 'batch-bytes=0' ], '>', \$single, '2>', \$err) or die $err;
	ok(length($batched) > 0 && $batched eq $single,
		'batched and unbatched output are identical (' . length($batched) . ' bytes)');
}

# With batching on (the default), a commit ends its message, which is
# tagged with the commit's end (the transaction's records before it travel
# in it): -E at that position stops right after the transaction, exactly as
# with one record per message.
{
	my @commits = grep { $_->{kind} eq 'commit' } @$all;
	$node->safe_psql('postgres',
		"SELECT pg_copy_logical_replication_slot('cdc', 'cdc_e')");
	my $upto = recv_records('cdc_e', $commits[1]{end_lsn});
	is($upto->[-1]{kind} . ' ' . $upto->[-1]{end_lsn}, "commit $commits[1]{end_lsn}",
		'-E at a commit\'s end stops right after that commit, batched');
	is(scalar(ids($upto)), 20, 'and delivers exactly the two transactions before it');
	my $conf = lsn_of(
		"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'cdc_e'");
	is($conf, $commits[1]{end_lsn}, 'pg_recvlogical confirmed the commit\'s end');
}

# Stop after the 5th change of the second transaction: pg_recvlogical
# confirms that change's LSN, in the middle of the transaction.  One record
# per message, so that -E can stop exactly there.
my ($mid) = grep { $_->{kind} eq 'insert' && $_->{new}{id} == 204 } @$all;
my $first = recv_records('cdc', $mid->{lsn}, 'batch-bytes=0');
my @first_ids = ids($first);
is($first_ids[-1], "$mid->{commit_lsn}:4", 'the first run ends at the second transaction\'s seq 4');

# What PostgreSQL resends without help: the whole second transaction.
$node->safe_psql('postgres',
	"SELECT pg_copy_logical_replication_slot('cdc', 'cdc_naive')");
my %seen = map { $_ => 1 } @first_ids;
my @naive_dups = grep { $seen{$_} } ids(recv_records('cdc_naive', $end));
ok(@naive_dups > 0, 'without resume-after PostgreSQL resends changes ('
	  . scalar(@naive_dups) . ' duplicates)');

my $second = recv_records('cdc', $end, "resume-after=$first_ids[-1]");
my @second_ids = ids($second);
my @dups = grep { $seen{$_} } @second_ids;
is(scalar(@dups), 0, 'with resume-after no change arrives twice');
is_deeply([ @first_ids, @second_ids ], \@all_ids,
	'first and second run together are the whole stream, in order');

# --- immediate restart of the server --------------------------------------
$node->safe_psql('postgres', 'CHECKPOINT');
$node->safe_psql('postgres',
	"INSERT INTO t SELECT g, 'y' FROM generate_series($_ * 100, $_ * 100 + 9) g")
  for 4 .. 6;
$end = lsn_of('SELECT pg_current_wal_lsn()');
my $before = recv_records('cdc', $end, "resume-after=$all_ids[-1]");
my @before_ids = ids($before);
is(scalar(@before_ids), 30, 'the consumer processed three more transactions');
my $confirmed_before = lsn_of(
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'cdc'");

$node->stop('immediate');
$node->start;
my $confirmed_after = lsn_of(
	"SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = 'cdc'");
my $went_back = lsn_of("SELECT '$confirmed_after'::pg_lsn < '$confirmed_before'::pg_lsn");
is($went_back, 't',
	"after the crash the slot's position went back ($confirmed_before -> $confirmed_after)");

$node->safe_psql('postgres', "INSERT INTO t VALUES (9999, 'after crash')");
$end = lsn_of('SELECT pg_current_wal_lsn()');
my $after = recv_records('cdc', $end, "resume-after=$before_ids[-1]");
my @after_changes = grep { exists $_->{seq} } @$after;
is(scalar(@after_changes), 1, 'after the restart only the new change arrives');
is($after_changes[0]{new}{id}, 9999, 'and it is the new row');

$node->stop;
done_testing();
