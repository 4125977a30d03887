# AuthType OAuth without a token: browsers are sent to log in, everything
# else gets a 401; open redirects through next are refused.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login_redirect approve
                 query_of json_of login);

plan tests => 22;

provider_config();
my $ua = browser();

my $res = $ua->get(site('/protected/echo?a=1&b=%2F'));
ok t_cmp($res->code, 302, 'browser navigation without a token: 302');
ok t_cmp($res->header('Location'),
         site('/oauth/local/login?next=%2Fprotected%2Fecho%3Fa%3D1%26b%3D%252F'),
         'to login_path with next = original path and query');

$res = $ua->get(site('/protected/echo'), Accept => 'application/json');
ok t_cmp($res->code, 401, 'API client without a token: 401');
ok t_cmp($res->header('WWW-Authenticate'), 'OAuth realm="local", login="/oauth/local/login"',
         'WWW-Authenticate names the login path');
$res = $ua->get(site('/protected/echo'), 'X-Requested-With' => 'XMLHttpRequest');
ok t_cmp($res->code, 401, 'XHR without a token: 401');
$res = $ua->post(site('/protected/echo'), { a => 1 });
ok t_cmp($res->code, 401, 'POST without a token: 401');
$res = $ua->get(site('/protected/echo'), 'Sec-Fetch-Mode' => 'cors');
ok t_cmp($res->code, 401, 'fetch() (Sec-Fetch-Mode: cors): 401');

# the whole dance from the redirect
my $login = $ua->get($ua->get(site('/protected/echo?a=1'))->header('Location'));
$res = $ua->get(approve($login->header('Location')));
ok t_cmp($res->header('Location'), site('/protected/echo?a=1'), 'after login, back to the page first asked for');
ok t_cmp($ua->get(site('/protected/echo'))->code, 200, 'now served');

# open redirects: next must be a local path
for my $next ('//evil.example/x', '/\\evil.example', 'https://evil.example/',
              '/%2F%2Fevil.example', 'javascript:alert(1)', '/ok%0d%0aSet-Cookie:%20x=1',
              '%2F%2Fevil.example', '/\\/evil.example') {
    $res = login(browser(), 'local', $next);
    ok t_cmp($res->header('Location'), site('/'), "next=$next ignored: back to /");
}

# logout forgets the token
$res = $ua->get(site('/oauth/local/logout?next=/done'));
ok t_cmp($res->code, 302, 'logout: 302');
ok t_cmp($res->header('Location'), site('/done'), 'logout goes to a local next');
ok t_cmp($ua->get(site('/protected/echo'), Accept => 'application/json')->code, 401,
         'after logout: 401 again');
$res = $ua->get(site('/oauth/local/logout?next=//evil.example'));
ok t_cmp($res->header('Location'), site('/'), 'logout ignores a foreign next');
$res = $ua->post(site('/oauth/local/logout'));
ok t_cmp($res->code, 302, 'logout by POST');
