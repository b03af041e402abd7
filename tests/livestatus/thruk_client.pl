#!/usr/bin/perl
# Run Livestatus statements through Monitoring::Livestatus, the Perl client Thruk is built on
# (Debian's libmonitoring-livestatus-perl), and print each answer as one JSON line:
#   thruk_client.pl PEER FILE     PEER: a unix socket path or HOST:PORT; FILE: statements
# separated by blank lines, without the headers the library adds itself.
use strict;
use warnings;
use JSON::PP;
use Monitoring::Livestatus;

my ($peer, $file) = @ARGV;
my $live = Monitoring::Livestatus->new(peer => $peer, keepalive => 1, errors_are_fatal => 0, warnings => 0);
open(my $in, '<', $file) or die "cannot read $file: $!";
my $text = do { local $/; <$in> };  # the library's chomp needs the default $/ while it runs
close($in);
my $json = JSON::PP->new->canonical->allow_nonref;
for my $statement (split /\n\n+/, $text) {
    next if $statement =~ /\A\s*\z/;
    my $rows = $live->selectall_arrayref($statement, { Slice => {} });
    if (defined $rows) {
        print $json->encode({ rows => $rows }), "\n";
    } else {
        print $json->encode({ error => $Monitoring::Livestatus::ErrorCode . ' ' . ($Monitoring::Livestatus::ErrorMessage // '') }), "\n";
    }
}
