# The example configurations for real providers (conf/examples/*.conf) pass
# 'httpd -t' as an administrator would include them: secrets from defined
# variables, mod_ssl loaded for the https APIs. Only the passphrase file's
# path is swapped for a file made here.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use File::Temp ();
use OAC::ConfigTest qw(configtest);
use OAC::Env ();

my %examples = (
    github  => [qw(GITHUB_CLIENT_ID GITHUB_CLIENT_SECRET)],
    google  => [qw(GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET)],
    keycloak => [qw(KEYCLOAK_CLIENT_ID KEYCLOAK_CLIENT_SECRET)],
    twitter => [qw(TWITTER_CONSUMER_KEY TWITTER_CONSUMER_SECRET)],
);

plan tests => 4 * keys %examples;

my $keyfile = File::Temp->new(TMPDIR => 1);
print $keyfile "example-session-passphrase-of-enough-length-0123456789\n";
close $keyfile;
my $libexec = OAC::Env::apxs_query('LIBEXECDIR');

for my $name (sort keys %examples) {
    my $path = OAC::Env::src_dir() . "/conf/examples/$name.conf";
    open my $fh, '<', $path or die "cannot read $path: $!";
    my $conf = do { local $/; <$fh> };
    close $fh;
    my $swapped = $conf =~ s{/etc/apache2/oauth-session\.key}{$keyfile}g;
    my ($id, $secret) = @{ $examples{$name} };
    my $secret_value = "example-SECRET-$name";
    my ($status, $out) = configtest(
        "LoadModule ssl_module $libexec/mod_ssl.so\n"
        . "Define $id example-id-$name\nDefine $secret $secret_value\n"
        . $conf);
    ok t_cmp($swapped > 0 ? 'passphrase file named' : 'no passphrase file',
             'passphrase file named', "$name: keeps tokens in an encrypted session");
    ok t_cmp($status, 0, "$name: configtest passes")
        or print map { "# $_\n" } split /\n/, $out;
    ok t_cmp($out !~ /not defined|warn|AH\d+:/i ? 'clean' : $out, 'clean',
             "$name: no warnings");
    ok t_cmp($out !~ /\Q$secret_value\E/ ? 'no secret' : "leaked: $out",
             'no secret', "$name: the secret is not printed");
}
