# Sign in with Apple (compliance_fix=apple): no fixed client secret; the
# module signs one for each call to the token endpoint, an ES256 JWT with
# the key's kid, iss the Team ID, sub the client_id, aud the issuer, five
# minutes long, sent in the form (client_secret_post). The local provider
# checks it as Apple does. Asking for the name or email address, the
# authorization request asks for a form post, as Apple requires.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config provider_get login_redirect
                 json_of log_size log_since);

plan tests => 19;

my %apple = (team => 'TEAMAPPLE1', kid => 'APPLEKEY01', key_file => $ENV{OAC_OP_CLIENT_KEY});

# The login as a browser does it: the provider's page posts the answer.
sub apple_login {
    my ($b) = @_;
    my $res = login_redirect($b, 'apple', '/apple/echo');
    my $authorize = $res->header('Location') // '';
    my $page = LWP::UserAgent->new(max_redirect => 0)->get("$authorize&auto_approve=alice");
    my %field = $page->content =~ /<input type="hidden" name="([^"]+)" value="([^"]*)">/g;
    for (values %field) {       # as a browser reads the page
        s/&quot;/"/g; s/&#x27;/'/g; s/&#39;/'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/&/g;
    }
    return ($authorize, $b->post(site('/oauth/apple/callback'), \%field));
}

provider_config(apple_clients => { 'apple-client' => \%apple });
my $b = browser();
my ($authorize, $res) = apple_login($b);
ok t_cmp($authorize, qr/[?&]response_mode=form_post(&|$)/,
         'asking for name and email: the answer is asked for as a form post');
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/apple/echo'),
         'the login completes: the provider took the client_secret');
my $stats = provider_get('/_control/stats');
my ($h, $c) = @{ $stats->{last_apple_secret} // {} }{qw(header claims)};
ok t_cmp(($h->{alg} // '') . ' ' . ($h->{kid} // ''), 'ES256 APPLEKEY01', 'ES256 with the key ID');
ok t_cmp(join(' ', map { $c->{$_} // '-' } qw(iss sub aud)),
         "TEAMAPPLE1 apple-client $ENV{OAC_PROVIDER}", 'of the team, about the client, for the issuer');
ok t_cmp(($c->{exp} // 0) - ($c->{iat} // 0), 300, 'lives five minutes');
ok t_cmp(abs(($c->{iat} // 0) - time) <= 5 ? 'now' : $c->{iat}, 'now', 'made now');
my $tr = $stats->{last_token_request} // {};
ok t_cmp(join(' ', grep { /^client_/ } sorted_params($tr)), 'client_id client_secret',
         'sent in the form, as client_secret');
ok t_cmp(($tr->{auth_method} // '') . ' ' . (($tr->{headers} // {})->{Authorization} // 'none'),
         'client_secret_post none', 'and in no Authorization header');
ok t_cmp(json_of($b->get(site('/apple/echo')))->{REMOTE_USER} // '', qr/\S/,
         'the user is logged in');

# The first login's form carries the user's name (Apple sends it then
# only, unsigned): kept as claims the login lacks; its email is not taken
# over the id_token's (test_fix checks name, which the local provider's
# userinfo already gives).
provider_config(apple_clients => { 'apple-client' => \%apple },
                callback_extra_params => [[ user => '{"name":{"firstName":"Ada",'
                                            . '"lastName":"Lovelace"},"email":"eve@evil.example"}' ]]);
$b = browser();
apple_login($b);
my $echo = json_of($b->get(site('/apple/echo'))) // {};
ok t_cmp(join('|', map { $echo->{"HTTP_X_OAUTH_CLAIM_$_"} // '-' } qw(GIVEN_NAME FAMILY_NAME)),
         'Ada|Lovelace', "the first login's name is kept as claims");
ok t_cmp($echo->{HTTP_X_OAUTH_CLAIM_EMAIL} // '', 'alice@example.org',
         "the id_token's email, not the form's");
# a name with a line break is not taken
provider_config(apple_clients => { 'apple-client' => \%apple },
                callback_extra_params => [[ user => qq({"name":{"firstName":"A\\r\\nX-Evil: 1"}}) ]]);
$b = browser();
apple_login($b);
$echo = json_of($b->get(site('/apple/echo'))) // {};
ok t_cmp(($echo->{HTTP_X_OAUTH_CLAIM_GIVEN_NAME} // '-') . ' ' . ($echo->{HTTP_X_EVIL} // '-'), '- -',
         'a name with a line break is not kept');
# and a later login without it keeps nothing of the kind
provider_config(apple_clients => { 'apple-client' => \%apple });
$b = browser();
apple_login($b);
$echo = json_of($b->get(site('/apple/echo'))) // {};
ok t_cmp($echo->{HTTP_X_OAUTH_CLAIM_GIVEN_NAME} // '-', '-', 'no name without the form field');

# A refresh signs a new one (30 s tokens refresh on the next request).
provider_config(apple_clients => { 'apple-client' => \%apple }, access_token_lifetime => 30);
$b = browser();
apple_login($b);
my $first = provider_get('/_control/stats')->{last_apple_secret}{claims}{iat} // 0;
sleep 1;
my $n0 = provider_get('/_control/stats')->{refresh_requests};
$res = $b->get(site('/apple/echo'));
$stats = provider_get('/_control/stats');
ok t_cmp($res->code . ' ' . ($stats->{refresh_requests} - $n0), '200 1',
         'a refresh with a client_secret of its own is taken');
ok t_cmp(($stats->{last_apple_secret}{claims}{iat} // 0) > $first ? 'new' : 'reused', 'new',
         'the refresh signed its own');

# Apple refuses a secret signed with another key: the login fails with the
# provider's word, stores nothing, and the secret is not logged.
provider_config(apple_clients => { 'apple-client' => { %apple, kid => 'OTHERKEY99' } });
$b = browser();
my $start = log_size();
(undef, $res) = apple_login($b);
ok t_cmp($res->code, 502, 'a client_secret the provider refuses: the login fails');
my $log = log_since($start, qr/app apple/);
ok t_cmp($log, qr/invalid_client/, "the log says the provider's word");
ok t_cmp($log =~ /eyJ[A-Za-z0-9_-]{10,}\./ ? 'secret logged' : 'clean', 'clean',
         'the signed client_secret is not logged');
ok t_cmp($b->get(site('/apple/echo'))->code, 302, 'nothing was stored');

sub sorted_params {
    my ($r) = @_;
    my $p = $r->{params} // $r->{form} // {};
    return sort(ref $p eq 'HASH' ? keys %$p : ref $p eq 'ARRAY' ? @$p : ());
}
