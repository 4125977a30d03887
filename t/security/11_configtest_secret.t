# A client_secret that breaks the OAuthRemoteApp line (a space in it, an
# unbalanced quote) stops configtest, and the message prints no part of
# the secret: neither what came before the space nor after it.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::ConfigTest qw(configtest);

my $o2 = 'client_id=id authorize_url=https://p.example/authorize '
       . 'access_token_url=https://p.example/token';
my $o1 = 'client_id=id request_token_url=https://p.example/request_token '
       . 'authorize_url=https://p.example/authorize access_token_url=https://p.example/access_token';
my @cases = (
    [ 'a space in client_secret', "OAuthRemoteApp gh $o2 client_secret=abcSECRETHEAD defSECRETPART" ],
    [ 'a space in client_secret, last on the line', "OAuthRemoteApp gh client_secret=abcSECRETHEAD defSECRETPART $o2" ],
    [ 'a space in client_secret on a second line', "OAuthRemoteApp gh $o2\nOAuthRemoteApp gh client_secret=abcSECRETHEAD defSECRETPART" ],
    [ 'a space in an OAuth 1 consumer secret', "OAuthRemoteApp tw $o1 client_secret=abcSECRETHEAD defSECRETPART" ],
    [ 'two spaces in client_secret', "OAuthRemoteApp gh $o2 client_secret=abcSECRETHEAD defSECRETPART ghiSECRETPART" ],
    [ 'an unterminated quote in client_secret', qq(OAuthRemoteApp gh $o2 client_secret="abcSECRETHEAD defSECRETPART) ],
    [ 'an unterminated quote around the client_secret pair', qq(OAuthRemoteApp gh $o2 "client_secret=abcSECRETHEAD defSECRETPART) ],
);

plan tests => 3 * @cases;

for my $case (@cases) {
    my ($what, $snippet) = @$case;
    my ($status, $out) = configtest($snippet);
    ok t_cmp($status != 0 ? 'fails' : "passes: $out", 'fails', "$what: configtest fails");
    ok t_cmp($out, qr/OAuthRemoteApp (gh|tw)/, "$what: the message names the app");
    my @leaked = $out =~ /(SECRETHEAD|SECRETPART)/g;
    (my $line = $out) =~ s/\s+/ /g;
    ok t_cmp(@leaked ? "leaked in: $line" : 'no part of the secret', 'no part of the secret',
             "$what: no part of the secret in the output");
}
