# The main flows against python3-oauthlib's server classes, which check
# PKCE, client authentication, code binding, refresh rotation and OAuth 1
# signatures themselves: the module is proven against more than its own
# mock. (The server issues 30 s tokens, so every use refreshes.)
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use JSON::PP ();
use LWP::UserAgent ();
use OAC::Flow qw(browser site login json_of);

plan tests => 23;

sub stats {
    my $res = LWP::UserAgent->new->get("$ENV{OAC_INTEROP}/_control/stats");
    return JSON::PP::decode_json($res->content);
}

# OAuth 2 with PKCE, userinfo, forwarding, API, refresh
my $ua = browser();
my $res = login($ua, 'interop2', '/interop2/echo', 'alice', 'user');
ok t_cmp($res->code, 302, 'oauthlib OAuth 2: login completes (PKCE verified by oauthlib)');
ok t_cmp($res->header('Location'), site('/interop2/echo'), 'back to next');
my $s = stats();
ok t_cmp($s->{last_token_params}{code_verifier}, qr/^[A-Za-z0-9_-]{43}$/, 'code_verifier sent');

my $env = json_of($ua->get(site('/interop2/echo')));
ok t_cmp($env->{REMOTE_USER}, 'alice', 'user from the userinfo endpoint');
ok t_cmp($env->{HTTP_X_OAUTH_ACCESS_TOKEN}, qr/.{10,}/, 'token forwarded');
ok t_cmp(stats()->{refresh_requests} >= 1 ? 'refreshed' : 'not refreshed', 'refreshed',
         'a 30 s token was refreshed before use (oauthlib rotates refresh tokens)');

my $echo = json_of($ua->get(site('/api/interop2/profile?x=1')));
ok t_cmp($echo->{auth}, 'oauthlib-bearer', 'API call accepted by oauthlib');
ok t_cmp($echo->{user}, 'alice', 'as alice');
my $before = stats()->{refresh_requests};
$echo = json_of($ua->get(site('/api/interop2/profile?x=2')));
ok t_cmp($echo->{auth}, 'oauthlib-bearer', 'again, with the rotated refresh token');
ok t_cmp(stats()->{refresh_requests} > $before ? 'refreshed' : 'not', 'refreshed',
         'the rotated refresh token was kept and accepted');

$ua->get(site('/oauth/interop2/logout'));
ok t_cmp($ua->get(site('/api/interop2/profile'))->code, 401, 'logout');

# OAuth 1.0a, HMAC-SHA1 and RSA-SHA1, verified by oauthlib
$ua = browser();
$res = login($ua, 'interop1', '/interop1/echo', 'alice', 'user');
ok t_cmp($res->code, 302, 'oauthlib OAuth 1.0a: login completes');
$env = json_of($ua->get(site('/interop1/echo')));
ok t_cmp($env->{REMOTE_USER}, 'alice', 'screen_name from the access token response');
$echo = json_of($ua->get(site('/api/interop1/statuses?count=2&q=caf%C3%A9')));
ok t_cmp($echo->{auth}, 'oauthlib-oauth1', 'signed GET accepted by oauthlib');
$res = $ua->post(site('/api/interop1/statuses/update'), [ status => 'hello world' ]);
ok t_cmp(json_of($res)->{auth}, 'oauthlib-oauth1', 'signed form POST accepted by oauthlib');

# HMAC-SHA256 (with a realm, which oauthlib reads as the requested realms
# and leaves out of the signature) and PLAINTEXT: login, a GET with a
# reserved-character query, a form POST
for my $case (['interop1sha256', 'HMAC-SHA256'], ['interop1plain', 'PLAINTEXT']) {
    my ($app, $method) = @$case;
    my $b = browser();
    $res = login($b, $app, '/done', 'alice', 'user');
    ok t_cmp($res->header('Location'), site('/done'), "$method: oauthlib login completes");
    $echo = json_of($b->get(site("/api/$app/search?q=a%26b%3Dc%2B%2F&x=%E2%9C%93")));
    ok t_cmp(($echo->{auth} // '') . ' ' . ($echo->{signature_method} // ''),
             "oauthlib-oauth1 $method", "$method: signed GET with reserved characters accepted");
    $res = $b->post(site("/api/$app/statuses/update"), [ status => 'a&b=c' ]);
    ok t_cmp(json_of($res)->{auth}, 'oauthlib-oauth1', "$method: signed form POST accepted");
}

login($ua, 'interop1rsa', undef, 'alice', 'user');
$echo = json_of($ua->get(site('/api/interop1rsa/me')));
ok t_cmp($echo->{auth}, 'oauthlib-oauth1', 'RSA-SHA1 accepted by oauthlib');
ok t_cmp($echo->{signature_method}, 'RSA-SHA1', 'as RSA-SHA1');
