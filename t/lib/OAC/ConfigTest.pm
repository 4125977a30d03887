package OAC::ConfigTest;
# Runs 'httpd -t' on a configuration snippet, the way an administrator's
# 'apachectl configtest' would, and returns (exit status, output).
use strict;
use warnings FATAL => 'all';

use File::Temp ();
use OAC::Env ();

our @EXPORT_OK = qw(configtest);
use Exporter 'import';

sub configtest {
    my ($snippet, %opt) = @_;
    my $dir = File::Temp->newdir("oac-configtest-XXXXXX", TMPDIR => 1);
    my $conf = "$dir/httpd.conf";
    my $so = OAC::Env::module_so();
    open my $fh, '>', $conf or die "cannot write $conf: $!";
    my $lines = OAC::Env::module_lines();
    for my $m (@{ $opt{without} || [] }) {
        $lines =~ s/^LoadModule ${m}_module .*\n//m;
    }
    print $fh $lines;
    print $fh <<"CONF";
LoadModule oauthclient_module $so
ServerName localhost
Listen 127.0.0.1:1
PidFile $dir/httpd.pid
ErrorLog $dir/error_log
DefaultRuntimeDir $dir
$snippet
CONF
    close $fh;
    my $httpd = OAC::Env::httpd_bin();
    my $out = `$httpd -t -d $dir -f $conf 2>&1`;
    my $status = $? >> 8;
    return ($status, $out);
}

1;
