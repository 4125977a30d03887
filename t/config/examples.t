# The example configurations for real providers (conf/examples/*.conf) pass
# 'httpd -t' as an administrator would include them: secrets from defined
# variables, mod_ssl loaded for the https APIs. Only the passphrase file's
# path is swapped for a file made here. They are the configurations of the
# manual's provider guides (docs/providers/), which show them verbatim;
# every file of conf/examples/ is tested.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use File::Temp ();
use OAC::ConfigTest qw(configtest);
use OAC::Env ();

# name => [the variable of the client id, of the secret, other variables]
my %examples = (
    github  => [qw(GITHUB_CLIENT_ID GITHUB_CLIENT_SECRET)],
    google  => [qw(GOOGLE_CLIENT_ID GOOGLE_CLIENT_SECRET)],
    keycloak => [qw(KEYCLOAK_CLIENT_ID KEYCLOAK_CLIENT_SECRET)],
    twitter => [qw(TWITTER_CONSUMER_KEY TWITTER_CONSUMER_SECRET)],
    entra   => [qw(ENTRA_CLIENT_ID ENTRA_CLIENT_SECRET ENTRA_TENANT_ID)],
    'entra-multitenant' => [qw(ENTRA_CLIENT_ID ENTRA_CLIENT_SECRET ENTRA_TENANT_ID
                               ENTRA_CUSTOMER_TENANT_ID)],
    'django-oauth-toolkit' => [qw(DOT_CLIENT_ID DOT_CLIENT_SECRET)],
    fapi2   => [qw(BANK_CLIENT_ID BANK_CLIENT_SECRET)],
    # Apple's client secret is signed by the module: no variable holds one
    apple   => [qw(APPLE_SERVICES_ID APPLE_NO_SECRET APPLE_TEAM_ID APPLE_KEY_ID)],
);
# Values of a form the module checks (an Apple Team ID: letters and digits)
my %values = (APPLE_TEAM_ID => 'A1B2C3D4E5', APPLE_KEY_ID => 'K1L2M3N4O5');
my $dir = OAC::Env::src_dir() . "/conf/examples";
opendir my $dh, $dir or die "cannot read $dir: $!";
my @files = sort map { /^(.+)\.conf$/ ? $1 : () } readdir $dh;
closedir $dh;

plan tests => 1 + 4 * keys %examples;

ok t_cmp("@files", join(' ', sort keys %examples),
         'every file of conf/examples/ is tested here');

my $keyfile = File::Temp->new(TMPDIR => 1);
print $keyfile "example-session-passphrase-of-enough-length-0123456789\n";
close $keyfile;
my $libexec = OAC::Env::apxs_query('LIBEXECDIR');
# The keys fapi2.conf and apple.conf name, made here as their comments
# say (Apple's .p8 is an EC P-256 key in PKCS#8 PEM, as genpkey writes).
my $keydir = File::Temp::tempdir(CLEANUP => 1);
for my $k (qw(fapi-client.pem fapi-dpop.pem apple-signin.p8)) {
    system("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
           . "-out $keydir/$k 2>/dev/null") == 0 or die "openssl genpkey";
}
chmod 0755, $keydir;

for my $name (sort keys %examples) {
    my $path = OAC::Env::src_dir() . "/conf/examples/$name.conf";
    open my $fh, '<', $path or die "cannot read $path: $!";
    my $conf = do { local $/; <$fh> };
    close $fh;
    my $swapped = $conf =~ s{/etc/apache2/oauth-session\.key}{$keyfile}g;
    $conf =~ s{/etc/apache2/oauth/(fapi-\w+\.pem|apple-signin\.p8)}{$keydir/$1}g;
    my ($id, $secret, @more) = @{ $examples{$name} };
    my $secret_value = "example-SECRET-$name";
    my $defines = join '', map { "Define $_ " . ($values{$_} // "example-$_") . "\n" } @more;
    my ($status, $out) = configtest(
        "LoadModule ssl_module $libexec/mod_ssl.so\n"
        . "Define $id example-id-$name\nDefine $secret $secret_value\n"
        . $defines . $conf);
    # Tokens never in a plain cookie: encrypted by the module, or in
    # mod_session_dbd's database with only the key in the cookie.
    my $store = $swapped > 0 ? 'encrypted cookie'
              : $conf =~ /^\s*SessionDBDCookieName\b/m ? 'server-side session'
              : 'plain cookie';
    ok t_cmp($store, qr/^(?:encrypted cookie|server-side session)$/,
             "$name: keeps tokens in an encrypted cookie or on the server");
    ok t_cmp($status, 0, "$name: configtest passes")
        or print map { "# $_\n" } split /\n/, $out;
    ok t_cmp($out !~ /not defined|warn|AH\d+:/i ? 'clean' : $out, 'clean',
             "$name: no warnings");
    ok t_cmp($out !~ /\Q$secret_value\E/ ? 'no secret' : "leaked: $out",
             'no secret', "$name: the secret is not printed");
}
