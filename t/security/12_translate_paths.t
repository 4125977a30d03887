# The login, callback and logout paths are the module's, claimed when httpd
# maps the URL (as OAuthProxyAPI and ProxyPass are): a <Directory> that
# denies the place where they would map on disk (here the whole
# DocumentRoot of vh_denied) does not hide them.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest ();
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login_redirect approve query_of);
use OAC::Hostile qw(logged_in);

plan tests => 7;

provider_config();
Apache::TestRequest::module('vh_denied');
my $ua = browser();

ok t_cmp($ua->get(site('/index.html'))->code, 403, 'control: the DocumentRoot of vh_denied is denied');

my $res = login_redirect($ua, 'local', '/protected/echo');
ok t_cmp($res->code, 302, 'login path under a denied DocumentRoot: 302');
ok t_cmp($res->header('Location') // '', qr{^\Q$ENV{OAC_PROVIDER}\E/oauth2/authorize\?},
         'login path under a denied DocumentRoot: to the provider');
ok t_cmp(query_of($res->header('Location') // '')->{redirect_uri} // '', site('/oauth/local/callback'),
         'redirect_uri of this virtual host');

my $callback = $res->code == 302 ? approve($res->header('Location')) : undef;
$res = $callback ? $ua->get($callback) : undef;
ok t_cmp($res ? $res->code . ' ' . ($res->header('Location') // '') : 'no login started',
         '302 ' . site('/protected/echo'),
         'callback path under a denied DocumentRoot: the login completes');

$res = $ua->get(site('/oauth/local/callback?state=unknown&code=x'));
ok t_cmp($res->code, 400, 'callback path: a bad state is the module\'s 400, not 403');

$res = $ua->get(site('/oauth/local/logout'));
ok t_cmp($res->code, 302, 'logout path under a denied DocumentRoot: 302');
Apache::TestRequest::module('default');
