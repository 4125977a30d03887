# The demo's configuration (conf/demo.conf) passes 'httpd -t' without a
# warning, over http and https (-D OAC_DEMO_HTTPS), with the environment
# and run-time directory demo/stack gives it. The browser tests run the
# demo itself; this catches a broken demo.conf where Chromium is missing.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use File::Temp ();
use OAC::Env ();

plan tests => 4;

my $dir = File::Temp->newdir('oac-demo-conf-XXXXXX', TMPDIR => 1);
sub write_file {
    my ($path, $text) = @_;
    open my $fh, '>', $path or die "cannot write $path: $!";
    print $fh $text;
    close $fh;
}
write_file("$dir/session.key", "demo-session-passphrase-for-configtest\n");
chmod 0600, "$dir/session.key";    # as demo/stack makes it (OAC00154 otherwise)
for my $sub (qw(htdocs cgi-bin tls)) {
    mkdir "$dir/$sub" or die "mkdir $dir/$sub: $!";
}
my $openssl = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1"
    . " -keyout $dir/tls/key.pem -out $dir/tls/cert.pem";
my $made = `$openssl 2>&1`;
$? == 0 or die "openssl could not make a certificate: $made";

my $root = $> == 0;
local $ENV{OAC_DEMO_PORT} = 1;
local $ENV{OAC_DEMO_PROVIDER_PORT} = 2;
local $ENV{OAC_DEMO_DIR} = "$dir";
local $ENV{OAC_DEMO_MODULE} = OAC::Env::module_so();
local $ENV{OAC_DEMO_LIBEXEC} = OAC::Env::apxs_query('LIBEXECDIR');
local $ENV{OAC_DEMO_USER} = $root ? 'nobody' : scalar getpwuid($<);
local $ENV{OAC_DEMO_GROUP} = $root ? 'nogroup' : scalar getgrgid($();

my $conf = OAC::Env::src_dir() . '/conf/demo.conf';
my $httpd = OAC::Env::httpd_bin();
for my $variant ([http => ''], [https => '-D OAC_DEMO_HTTPS']) {
    my ($name, $define) = @$variant;
    my $out = `$httpd -t -f $conf -d $dir $define 2>&1`;
    my $status = $? >> 8;
    ok t_cmp($status, 0, "$name: configtest passes")
        or print map { "# $_\n" } split /\n/, $out;
    ok t_cmp($out, "Syntax OK\n", "$name: nothing but 'Syntax OK'");
}
