# OAuth 1.0a login with each signature method, the request token kept in
# the session, the access token and its extras stored and forwarded.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_config login_redirect
                 approve login query_of json_of);

plan tests => 28;

provider_config();
my $ua = browser();

my $res = login_redirect($ua, 'o1', '/o1/echo');
ok t_cmp($res->code, 302, 'login: 302');
my $authorize = $res->header('Location');
ok t_cmp($authorize, qr{^\Q$ENV{OAC_PROVIDER}\E/oauth1/authorize\?oauth_token=[^&]+$},
         'to authorize_url with the request token');
my $stats = provider_get('/_control/stats');
ok t_cmp($stats->{request_token_requests}, 1, 'request token fetched');
my $rt = $stats->{last_oauth1_request};
my %h = map { lc($_) => $rt->{headers}{$_} } keys %{ $rt->{headers} };
(my $cb = site('/oauth/o1/callback')) =~ s/([^A-Za-z0-9._~-])/sprintf('%%%02X', ord $1)/ge;
ok t_cmp($h{authorization}, qr/oauth_callback="\Q$cb\E"/, 'oauth_callback = absolute redirect_uri');
ok t_cmp($rt->{params}{x_auth_access_type}, 'read', 'request_token_params sent');
ok t_cmp($h{authorization}, qr/oauth_signature_method="HMAC-SHA1"/, 'HMAC-SHA1 by default');

my $callback = approve($authorize, 'alice');
ok t_cmp(query_of($callback)->{oauth_verifier}, qr/./, 'provider returns a verifier');
$res = $ua->get($callback);
ok t_cmp($res->code, 302, 'callback: 302');
ok t_cmp($res->header('Location'), site('/o1/echo'), 'back to next');

$res = $ua->get(site('/o1/echo'), 'X-OAuth-Access-Token-Secret' => 'forged');
my $env = json_of($res);
ok t_cmp($res->code, 200, 'protected location served');
ok t_cmp($env->{REMOTE_USER}, 'alice', 'REMOTE_USER = screen_name from the token response');
ok t_cmp($env->{HTTP_X_OAUTH_ACCESS_TOKEN}, qr/^o1at-/, 'X-OAuth-Access-Token = oauth_token');
ok t_cmp($env->{HTTP_X_OAUTH_ACCESS_TOKEN_SECRET}, qr/^(?!forged$)./, 'X-OAuth-Access-Token-Secret, not the forged one');
ok t_cmp($env->{OAUTH_ACCESS_TOKEN_SECRET}, $env->{HTTP_X_OAUTH_ACCESS_TOKEN_SECRET}, 'OAUTH_ACCESS_TOKEN_SECRET');
ok t_cmp(exists $env->{HTTP_X_OAUTH_TOKEN_TYPE} ? 'sent' : 'absent', 'absent', 'no token type for OAuth 1');

# each signature method, end to end (login, then a signed API call)
for my $app (qw(o1sha256 o1rsa o1plain)) {
    my $b = browser();
    $res = login($b, $app, '/done');
    ok t_cmp($res->header('Location'), site('/done'), "$app: login completes");
    my $echo = json_of($b->get(site("/api/$app/me?q=1")));
    ok t_cmp(($echo->{auth} || '') . ' ' . ($echo->{user} || ''), 'oauth1 alice',
             "$app: signed API call accepted");
}

# realm: in the Authorization header of every request the module signs,
# not in the signature (the provider verifies it without)
{
    my $b = browser();
    $res = login_redirect($b, 'o1realm', '/done');
    my $rt = provider_get('/_control/stats')->{last_oauth1_request};
    my %rh = map { lc($_) => $rt->{headers}{$_} } keys %{ $rt->{headers} };
    ok t_cmp($rh{authorization}, qr/^OAuth realm="Photos Example", oauth_/,
             'o1realm: request token request carries the realm first');
    $res = $b->get(approve($res->header('Location'), 'alice'));
    ok t_cmp($res->header('Location'), site('/done'), 'o1realm: login completes');
    my $echo = json_of($b->get(site('/api/o1realm/me?q=1')));
    ok t_cmp(($echo->{auth} || '') . ' ' . ($echo->{user} || ''), 'oauth1 alice',
             'o1realm: signed API call accepted');
    my %eh = map { lc($_) => $echo->{headers}{$_} } keys %{ $echo->{headers} || {} };
    ok t_cmp($eh{authorization}, qr/^OAuth realm="Photos Example", /,
             'o1realm: API call carries the realm');
}

# logout
$ua->get(site('/oauth/o1/logout'));
ok t_cmp($ua->get(site('/o1/echo'), Accept => 'application/json')->code, 401, 'logout forgets the token');

# oauth_callback is the request's host made absolute: a login whose Host
# this server does not answer to is refused before a request token is
# asked for (the provider would send the victim's verifier there).
{
    my $before = provider_get('/_control/stats')->{request_token_requests};
    my $r = browser()->get(site('/oauth/o1/login'), Host => 'evil.example');
    ok t_cmp($r->code, 400, 'login refused for a foreign Host');
    ok t_cmp(provider_get('/_control/stats')->{request_token_requests}, $before,
             'no request token asked for it');
}
