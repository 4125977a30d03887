# The module's error pages honour httpd's ErrorDocument (issue #18, item
# 5): where one is set for the status, the site's page is served, with the
# reason in REDIRECT_ERROR_NOTES (escaped); elsewhere the module's own page.
# Either way "log in again" keeps the page the login was for (item 6): the
# module's link, or REDIRECT_OAUTHCLIENT_LOGIN_URL for the site's page.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use HTML::Entities ();
use OAC::Flow qw(browser site provider_config provider_post approve
                 login_redirect query_of);

plan tests => 15;

# The href of the page's "log in again" link, as the browser reads it.
sub again_link {
    my ($html, $re) = @_;
    return $html =~ $re ? HTML::Entities::decode_entities($1) : '(no link)';
}
sub own_link { again_link(shift, qr{<a href="([^"]*)">Log in again</a>}) }

sub failed_login {
    my $path = shift;
    my $ua = browser();
    my $res = $ua->get(site($path));
    die "login: " . $res->status_line unless $res->code == 302;
    my $callback = approve($res->header('Location'));
    provider_post('/_control/config', { token_endpoint_mode => 'error500' });
    $res = $ua->get($callback);
    provider_post('/_control/config', { token_endpoint_mode => 'normal' });
    return $res;
}

provider_config();
my $wanted = '/wanted/page?x=1&y=2';
my $wanted_q = '?next=%2Fwanted%2Fpage%3Fx%3D1%26y%3D2';
my $res = failed_login("/branded/login$wanted_q");
ok t_cmp($res->code, 502, 'a login whose token endpoint fails: 502');
ok t_cmp($res->content, qr/Example Corp/, "with the site's ErrorDocument");
ok t_cmp($res->content, qr/Signing in did not work: .*token endpoint/s,
         'which can show the reason (REDIRECT_ERROR_NOTES)');
ok t_cmp($res->header('Cache-Control') // '', qr/no-store/, 'not cached');
ok t_cmp(again_link($res->content, qr{<a id="again" href="([^"]*)"}),
         "/branded/login$wanted_q",
         'REDIRECT_OAUTHCLIENT_LOGIN_URL: the login again, for the same page');

$res = failed_login('/oauth/local/login');
ok t_cmp($res->code, 502, 'the same failure where no ErrorDocument is set');
ok t_cmp($res->content =~ /Example Corp/ ? 'branded' : 'own page', 'own page', "gets the module's own page");
ok t_cmp(own_link($res->content), '/oauth/local/login', 'a login for no page: its link has no next');

$res = failed_login("/oauth/local/login$wanted_q");
ok t_cmp(own_link($res->content), "/oauth/local/login$wanted_q",
         "the module's link keeps the page the login was for");

# The provider refuses (OAuth 2 access_denied): the spent login's page.
my $ua = browser();
my $callback = approve(login_redirect($ua, 'local', $wanted)->header('Location'),
                       1, 'auto_deny');
$res = $ua->get($callback);
ok t_cmp($res->code, 403, 'access_denied: 403');
ok t_cmp(own_link($res->content), "/oauth/local/login$wanted_q", 'access_denied: link keeps next');

# OAuth 1.0a ?denied=TOKEN: the login in flight it names is spent, and
# lends its page to the link; the request token cannot be used after it.
$ua = browser();
my $token = query_of(login_redirect($ua, 'o1', $wanted)->header('Location'))->{oauth_token};
$res = $ua->get(site("/oauth/o1/callback?denied=$token"));
ok t_cmp(own_link($res->content), "/oauth/o1/login$wanted_q", 'OAuth 1 denied: link keeps next');
$res = $ua->get(site("/oauth/o1/callback?oauth_token=$token&oauth_verifier=x"));
ok t_cmp($res->content, qr/unknown or expired request token/, 'OAuth 1 denied: its login is spent');

# A login that fails before the provider (OAuth 1 request token refused
# for want of oauth_callback_confirmed): the link keeps its next.
provider_config(oauth1_callback_confirmed => 'absent');
$res = login_redirect(browser(), 'o1', $wanted);
provider_config();
ok t_cmp($res->code, 502, 'request token refused: 502');
ok t_cmp(own_link($res->content), "/oauth/o1/login$wanted_q", 'request token refused: link keeps next');
