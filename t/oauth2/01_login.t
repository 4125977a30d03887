# The OAuth 2 login: redirect to the provider (state, PKCE, scope,
# authorize_params), callback, token exchange checked by the provider,
# token stored, then a protected location with the token forwarded.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_config login_redirect
                 approve query_of json_of);

plan tests => 36 + 18;

provider_config();
my $ua = browser();

# --- login redirect -------------------------------------------------------
my $res = login_redirect($ua, 'local', '/protected/echo?x=1%202');
ok t_cmp($res->code, 302, 'login answers 302');
ok t_cmp($res->header('Cache-Control'), qr/no-store/, 'login redirect is not cached');
my $authorize = $res->header('Location');
ok t_cmp($authorize, qr{^\Q$ENV{OAC_PROVIDER}\E/oauth2/authorize\?}, 'to authorize_url');
my $q = query_of($authorize);
ok t_cmp($q->{response_type}, 'code', 'response_type=code');
ok t_cmp($q->{client_id}, 'oauth2-client', 'client_id');
ok t_cmp($q->{redirect_uri}, site('/oauth/local/callback'), 'absolute redirect_uri from ServerName');
ok t_cmp($q->{scope}, 'profile email', 'scope');
ok t_cmp(length($q->{state}) >= 22 ? 'long' : $q->{state}, 'long', 'state of at least 128 bits');
ok t_cmp($q->{code_challenge_method}, 'S256', 'PKCE method');
ok t_cmp($q->{code_challenge}, qr/^[A-Za-z0-9_-]{43}$/, 'PKCE challenge');
ok t_cmp($q->{prompt} . '/' . $q->{access_type}, 'consent/offline', 'authorize_params added');
# mod_session_dbd (the second pass, OAC_SESSION_STORE=dbd) sends its
# cookie twice, a habit mod_session_cookie lost in 2.4.38
my $cookies = scalar(grep { /oac_session=/ } $res->header('Set-Cookie'));
ok t_cmp(($ENV{OAC_SESSION_STORE} // '') eq 'dbd' && $cookies > 1 ? 1 : $cookies, 1,
         'pending login kept in the session');

# the redirect_uri never comes from client-supplied X-Forwarded-* headers
{
    my $r = browser()->get(site('/oauth/local/login'),
                           'X-Forwarded-Host' => 'evil.example',
                           'X-Forwarded-Proto' => 'https',
                           'X-Forwarded-Port' => '8443',
                           'Forwarded' => 'host=evil.example;proto=https');
    ok t_cmp(query_of($r->header('Location'))->{redirect_uri}, site('/oauth/local/callback'),
             'X-Forwarded-* and Forwarded ignored for redirect_uri');
}

# A relative redirect_uri takes the request's host: a login is refused
# for a name this server does not answer to (an attacker's own login would
# send the victim's code there), and nothing is stored or pushed.
{
    my $before = provider_get('/_control/stats');
    my $port = Apache::TestRequest::hostport() =~ s/.*://r;
    for my $host ('evil.example', "evil.example:$port", 'localhost.evil.example',
                  'localhost:1', '127.0.0.1:4444') {
        my $r = browser()->get(site('/oauth/local/login'), Host => $host);
        ok t_cmp($r->code . ' ' . ($r->header('Location') // 'no Location'), '400 no Location',
                 "login refused for Host: $host");
        ok t_cmp(scalar(grep { /oac_session=[^;]/ } $r->header('Set-Cookie')), 0,
                 "nothing stored for Host: $host");
    }
    my $r = browser()->get(site('/oauth/local/login'), Host => 'evil.example');
    ok t_cmp($r->decoded_content, qr/does not answer to that name.*evil\.example/s,
             'the page says which name');
    for my $host ("127.0.0.1:$port", 'localhost', 'localhost:443') {
        my $r = browser()->get(site('/oauth/local/login'), Host => $host);
        ok t_cmp(query_of($r->header('Location') // '')->{redirect_uri} // $r->code,
                 'http://' . ($host =~ /:/ ? $host : "$host:$port") . '/oauth/local/callback',
                 "login for Host: $host (the connection's address, localhost)");
    }
    # a virtual host's ServerAlias names, wildcards too
    local $Apache::TestRequest::Module = $Apache::TestRequest::Module;
    my $vh = Apache::TestRequest::module2url('vh_plain', { path => '/oauth/local/login' });
    my $vport = $vh =~ s{^http://[^:/]+:(\d+)/.*}{$1}r;
    for my $host ("alias.test:$vport", "Www.Wild.Test:$vport") {
        my $r = browser()->get($vh, Host => $host);
        ok t_cmp(query_of($r->header('Location') // '')->{redirect_uri} // $r->code,
                 "http://\L$host\E/oauth/local/callback",
                 "login for Host: $host (a ServerAlias)");
    }
    $r = browser()->get($vh, Host => "other.test:$vport");
    ok t_cmp($r->code, 400, 'a virtual host refuses a name it lacks');
    # an absolute redirect_uri does not depend on the Host
    $r = browser()->get(site('/oauth/absredir/login'), Host => 'evil.example');
    ok t_cmp($r->code, 302, 'absolute redirect_uri: any Host');
}

# a second login in another tab gets another state
my $res2 = login_redirect($ua, 'local', '/protected/echo?tab=2');
my $q2 = query_of($res2->header('Location'));
ok t_cmp($q2->{state} ne $q->{state} ? 'different' : 'same', 'different', 'each login has its own state');

# --- callback: the first tab's login completes although a second started ---
my $callback = approve($authorize, 'alice');
ok t_cmp($callback, qr{^\Q@{[site('/oauth/local/callback')]}\E\?}, 'provider sends the browser to the callback');
$res = $ua->get($callback);
ok t_cmp($res->code, 302, 'callback answers 302');
ok t_cmp($res->header('Location'), site('/protected/echo?x=1%202'), 'back to next, query kept');
ok t_cmp($res->header('Cache-Control'), qr/no-store/, 'callback redirect is not cached');

my $stats = provider_get('/_control/stats');
my $tr = $stats->{last_token_request};
ok t_cmp($tr->{auth_method}, 'client_secret_basic', 'client_secret_basic by default');
ok t_cmp($tr->{params}{grant_type}, 'authorization_code', 'grant_type');
ok t_cmp($tr->{params}{redirect_uri}, site('/oauth/local/callback'), 'same redirect_uri at the token endpoint');
ok t_cmp($tr->{params}{code_verifier}, qr/^[A-Za-z0-9_-]{43}$/, 'code_verifier sent (the provider checked it)');
ok t_cmp(exists $tr->{params}{client_secret} ? 'in body' : 'not in body', 'not in body', 'secret not in the body with basic');
ok t_cmp($stats->{userinfo_requests}, 1, 'userinfo fetched once');

# --- the protected location, with tokens forwarded -------------------------
$res = $ua->get(site('/protected/echo?x=1%202'), 'X-OAuth-Access-Token' => 'forged',
                'X-OAuth-User' => 'mallory', ':X_OAuth_Scope' => 'admin');
ok t_cmp($res->code, 200, 'protected location served with a token');
my $env = json_of($res);
ok t_cmp($env->{REMOTE_USER}, 'alice', 'REMOTE_USER from user_claim=login');
ok t_cmp($env->{AUTH_TYPE}, 'OAuth', 'AUTH_TYPE');
ok t_cmp($env->{HTTP_X_OAUTH_APP}, 'local', 'X-OAuth-App');
ok t_cmp($env->{HTTP_X_OAUTH_ACCESS_TOKEN}, qr/^(?!forged$).{10,}/, 'real X-OAuth-Access-Token, not the forged one');
ok t_cmp($env->{OAUTH_ACCESS_TOKEN}, $env->{HTTP_X_OAUTH_ACCESS_TOKEN}, 'OAUTH_ACCESS_TOKEN variable');
ok t_cmp($env->{HTTP_X_OAUTH_TOKEN_TYPE}, qr/^bearer$/i, 'X-OAuth-Token-Type');
ok t_cmp($env->{HTTP_X_OAUTH_EXPIRES_AT} - time() > 3000 ? 'future' : 'wrong', 'future', 'X-OAuth-Expires-At');
ok t_cmp($env->{HTTP_X_OAUTH_SCOPE}, 'profile email', 'X-OAuth-Scope');
ok t_cmp($env->{HTTP_X_OAUTH_USER}, 'alice', 'X-OAuth-User replaced, not the forged one');
# the same values as environment variables, one per header
my @missing = grep { !defined $env->{"OAUTH_$_"} || $env->{"OAUTH_$_"} ne $env->{"HTTP_X_OAUTH_$_"} }
              qw(APP ACCESS_TOKEN TOKEN_TYPE EXPIRES_AT SCOPE USER);
ok t_cmp("@missing", '', 'OAUTH_APP, _ACCESS_TOKEN, _TOKEN_TYPE, _EXPIRES_AT, _SCOPE, _USER variables');

# the second tab's state is still pending and still works
$res = $ua->get(approve($res2->header('Location'), 'alice'));
ok t_cmp($res->header('Location'), site('/protected/echo?tab=2'), 'second tab completes too');
