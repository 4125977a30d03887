# A hostile provider's values at login: a control character (CR, LF, TAB,
# NUL, DEL) or an over-long value in the user claim, scope, token_type or a
# token, or a user claim that is not a string or integer, fails the login:
# 502 error page without the value, nothing stored.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login json_of);
use OAC::Hostile qw(logged_in SMUGGLE);

# Each value carries a marker the error page must not show.
my $crlf = "mallory\r\nX-OAuth-User: admin\r\nX-Injected: INJECTED";
my @cases = (
    # [ what, app, protected path, provider config ]
    [ 'user claim (userinfo) with CR LF: a second request in the header block',
      'local', '/protected/echo', { userinfo_override => { login => SMUGGLE } } ],
    [ 'user claim (userinfo) with LF only',
      'local', '/protected/echo', { userinfo_override => { login => "mallory\nX-Injected: INJECTED" } } ],
    [ 'user claim (userinfo) with CR only',
      'local', '/protected/echo', { userinfo_override => { login => "mallory\rX-Injected: INJECTED" } } ],
    [ 'user claim (userinfo) with TAB',
      'local', '/protected/echo', { userinfo_override => { login => "mallory\tINJECTED" } } ],
    [ 'user claim (userinfo) with NUL',
      'local', '/protected/echo', { userinfo_override => { login => "admin\x00INJECTED" } } ],
    [ 'user claim (userinfo) with DEL',
      'local', '/protected/echo', { userinfo_override => { login => "mallory\x7fINJECTED" } } ],
    [ 'user claim (userinfo) with ESC',
      'local', '/protected/echo', { userinfo_override => { login => "mallory\x1b[2JINJECTED" } } ],
    [ 'user claim (userinfo) of 1025 bytes',
      'local', '/protected/echo', { userinfo_override => { login => 'INJECTED' . ('u' x 1017) } } ],
    [ 'user claim (userinfo) that is an object',
      'local', '/protected/echo', { userinfo_override => { login => { name => 'INJECTED' } } } ],
    [ 'user claim (userinfo) that is an array',
      'local', '/protected/echo', { userinfo_override => { login => [ 'INJECTED', 'admin' ] } } ],
    [ 'user claim (userinfo) that is a boolean',
      'local', '/protected/echo', { userinfo_override => { login => JSON::PP::true() } } ],
    [ 'user claim (userinfo) that is null',
      'local', '/protected/echo', { userinfo_override => { login => undef } } ],
    [ 'user claim (userinfo) with a trailing space (a backend would trim it)',
      'local', '/protected/echo', { userinfo_override => { login => 'INJECTED ' } } ],
    [ 'user claim (userinfo) with a leading space',
      'local', '/protected/echo', { userinfo_override => { login => ' INJECTED' } } ],
    [ 'access_token of 8001 bytes (the forwarded header would pass 8,190)',
      'tokclaim', '/tokclaim/echo', { token_override => { login => 'alice', access_token => 'INJECTED' . ('a' x 7993) } } ],
    [ 'user claim (userinfo) that is an empty string',
      'local', '/protected/echo', { userinfo_override => { login => '' } } ],
    [ 'user claim (token response) with CR LF',
      'tokclaim', '/tokclaim/echo', { token_override => { login => $crlf } } ],
    [ 'user claim (token response) that is an object',
      'tokclaim', '/tokclaim/echo', { token_override => { login => { INJECTED => 1 } } } ],
    [ 'scope string with CR LF',
      'tokclaim', '/tokclaim/echo', { token_override => { login => 'alice', scope => "profile\r\nX-OAuth-User: admin\r\nX-Injected: INJECTED" } } ],
    [ 'scope array with CR LF in an element',
      'tokclaim', '/tokclaim/echo', { token_override => { login => 'alice', scope => [ 'profile', "email\r\nX-Injected: INJECTED" ] } } ],
    [ 'scope of 4097 bytes',
      'tokclaim', '/tokclaim/echo', { token_override => { login => 'alice', scope => 'INJECTED' . (' s' x 2044) . 'x' } } ],
    [ 'token_type with CR LF',
      'local', '/protected/echo', { token_override => { token_type => "Bearer\r\nX-OAuth-User: admin\r\nX-Injected: INJECTED" } } ],
    [ 'token_type of 65 bytes',
      'local', '/protected/echo', { token_override => { token_type => 'Bearer' . ('_' x 51) . 'INJECTED' } } ],
    [ 'access_token with CR LF',
      'tokclaim', '/tokclaim/echo', { token_override => { login => 'alice', access_token => "at-x\r\nX-OAuth-User: admin\r\nX-Injected: INJECTED" } } ],
    [ 'access_token with NUL',
      'tokclaim', '/tokclaim/echo', { token_override => { login => 'alice', access_token => "at-x\x00INJECTED" } } ],
    [ 'access_token of 8193 bytes',
      'tokclaim', '/tokclaim/echo', { token_override => { login => 'alice', access_token => 'INJECTED' . ('a' x 8185) } } ],
    [ 'refresh_token with CR LF',
      'tokclaim', '/tokclaim/echo', { token_override => { login => 'alice', refresh_token => "rt-x\r\nX-Injected: INJECTED" } } ],
    [ 'refresh_token of 8193 bytes',
      'tokclaim', '/tokclaim/echo', { token_override => { login => 'alice', refresh_token => 'INJECTED' . ('r' x 8185) } } ],
    [ 'OAuth 1 screen_name with CR LF',
      'o1', '/o1/echo', { oauth1_access_override => { screen_name => $crlf } } ],
    [ 'OAuth 1 screen_name with NUL',
      'o1', '/o1/echo', { oauth1_access_override => { screen_name => "admin\x00INJECTED" } } ],
    [ 'OAuth 1 screen_name of 1025 bytes',
      'o1', '/o1/echo', { oauth1_access_override => { screen_name => 'INJECTED' . ('u' x 1017) } } ],
    [ 'OAuth 1 oauth_token with CR LF',
      'o1', '/o1/echo', { oauth1_access_override => { oauth_token => "o1at-x\r\nX-Injected: INJECTED" } } ],
    [ 'OAuth 1 oauth_token_secret with CR LF',
      'o1', '/o1/echo', { oauth1_access_override => { oauth_token_secret => "s\r\nX-Injected: INJECTED" } } ],
    [ 'OAuth 1 oauth_token_secret of 8193 bytes',
      'o1', '/o1/echo', { oauth1_access_override => { oauth_token_secret => 'INJECTED' . ('s' x 8185) } } ],
);

plan tests => 3 * @cases + 6;

for my $case (@cases) {
    my ($what, $app, $path, $config) = @$case;
    provider_config(%$config);
    my $ua = browser();
    my $res = login($ua, $app, '/done');
    ok t_cmp($res->code, 502, "$what: the callback answers 502");
    my $page = $res->content;
    ok t_cmp($page =~ /INJECTED|X-OAuth-User: admin|GET \/admin/ ? 'value shown' : 'value not shown',
             'value not shown', "$what: the error page does not show the value");
    ok t_cmp(logged_in($ua, $path), 'not logged in', "$what: nothing stored");
}

# What stays allowed: an integer user claim, a user name of 1024 bytes,
# UTF-8 beyond ASCII.
provider_config(userinfo_override => { login => 1234 });
my $ua = browser();
ok t_cmp(login($ua, 'local', '/done')->code, 302, 'an integer user claim: login completes');
ok t_cmp(json_of($ua->get(site('/protected/echo')))->{REMOTE_USER}, '1234',
         'an integer user claim: the user is its decimal text');

provider_config(userinfo_override => { login => 'u' x 1024 });
$ua = browser();
ok t_cmp(login($ua, 'local', '/done')->code, 302, 'a user name of 1024 bytes: login completes');
ok t_cmp(length(json_of($ua->get(site('/protected/echo')))->{REMOTE_USER} // ''), 1024,
         'a user name of 1024 bytes: kept whole');

provider_config(userinfo_override => { login => "J\x{f6}rg" });
$ua = browser();
ok t_cmp(login($ua, 'local', '/done')->code, 302, 'a UTF-8 user name: login completes');
ok t_cmp(json_of($ua->get(site('/protected/echo')))->{REMOTE_USER}, "J\x{f6}rg",
         'a UTF-8 user name: kept');
provider_config();
