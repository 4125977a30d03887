# OAuthProxyAPI: the provider's API called through httpd with the
# session's token, the browser's own credentials never forwarded.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_config login json_of);

plan tests => 31;

provider_config();
my $ua = browser();

my $res = $ua->get(site('/api/local/user/repos?page=2'));
ok t_cmp($res->code, 401, 'no token: 401');
ok t_cmp($res->header('Content-Type'), qr{^application/json}, 'JSON error');
ok t_cmp(json_of($res)->{error}, 'login_required', 'error login_required');
ok t_cmp(json_of($res)->{login}, '/oauth/local/login', 'names the login path');

login($ua, 'local');
$res = $ua->get(site('/api/local/user/repos?page=2&q=a%20b%2Bc'),
                Authorization => 'Basic YnJvd3Nlcjpzb2NyZXQ=',
                'X-OAuth-Access-Token' => 'forged', 'X-Custom' => 'kept');
ok t_cmp($res->code, 200, 'proxied with the token');
my $echo = json_of($res);
ok t_cmp($echo->{path}, '/api/user/repos', 'path joined under api_base_url');
ok t_cmp($echo->{raw_query}, 'page=2&q=a%20b%2Bc', 'query passed through as sent');
ok t_cmp($echo->{auth}, 'bearer-header', 'token in the Authorization header');
ok t_cmp($echo->{user}, 'alice', 'the provider saw alice');
my %h = map { lc($_) => $echo->{headers}{$_} } keys %{ $echo->{headers} };
ok t_cmp(exists $h{cookie} ? 'cookie sent' : 'no cookie', 'no cookie', "browser's Cookie not forwarded");
ok t_cmp($h{authorization}, qr/^Bearer (?!YnJv)/, "browser's Authorization replaced");
ok t_cmp(exists $h{'x-oauth-access-token'} ? 'sent' : 'not sent', 'not sent', 'X-OAuth-* not forwarded');
ok t_cmp($h{'x-custom'}, 'kept', 'other headers kept');
# the prefix mapped is OAuthProxyAPI's own, whatever other sections of
# the module's directives apply below it
for my $sub ('nested', 'later') {
    $res = $ua->get(site("/api/local/$sub/user"));
    ok t_cmp(json_of($res)->{path} // $res->code, "/api/$sub/user",
             "under a section with another directive ($sub): the path below OAuthProxyAPI's prefix");
}

$res = $ua->post(site('/api/local/items'), Content_Type => 'application/json',
                 Content => '{"name":"x"}');
$echo = json_of($res);
ok t_cmp($echo->{method} . ' ' . $echo->{body}, 'POST {"name":"x"}', 'POST body and method passed through');

$res = $ua->get(site('/api/local/../../oauth2/token'));
ok t_cmp($res->code =~ /^(400|404)$/ ? 'refused' : $res->code, 'refused', 'cannot climb above api_base_url');

# Mapped like ProxyPass, before core looks at the file system: the
# <Proxy> section of an upstream path applies; the DocumentRoot's
# <Directory "htdocs/api"> (Require all denied, over the existing file
# htdocs/api/local/user) does not.
$res = $ua->get(site('/api/local/admin/users'));
ok t_cmp($res->code, 403, '<Proxy> section for the upstream URL applies');
$res = $ua->get(site('/api/local/user'));
ok t_cmp($res->code, 200, '<Directory> of the DocumentRoot does not');

# token_placement=uri (the public client)
login($ua, 'pub');
$res = $ua->get(site('/api/pub/me?x=1'));
$echo = json_of($res);
ok t_cmp($res->code, 200, 'pub: proxied');
ok t_cmp($echo->{path}, '/api/v1/me', 'pub: base without trailing slash joined');
ok t_cmp($echo->{auth}, 'bearer-query', 'pub: token in the query');
ok t_cmp($echo->{query}{x}, '1', 'pub: own query kept');

my $stats = provider_get('/_control/stats');
ok t_cmp($stats->{last_token_request}{auth_method}, 'none', 'pub: public client, no secret');

# token_placement=body (the post app): into form bodies, else the query
login($ua, 'post');
ok t_cmp(provider_get('/_control/stats')->{last_token_request}{auth_method},
         'client_secret_post', 'post: client_secret_post');
$res = $ua->post(site('/api/post/items?v=2'), [ a => 1, b => 'x y' ]);
$echo = json_of($res);
ok t_cmp($echo->{auth}, 'bearer-body', 'post: token in the form body');
ok t_cmp($echo->{body}, qr/^a=1&b=x(\+|%20)y&access_token=[^&]+$/, 'post: own fields kept, token appended');
ok t_cmp($echo->{query}{v}, '2', 'post: query kept');
$res = $ua->get(site('/api/post/items'));
ok t_cmp(json_of($res)->{auth}, 'bearer-query', 'post: GET has no form, so the query');
$res = $ua->post(site('/api/post/items'), Content_Type => 'application/json', Content => '{}');
ok t_cmp(json_of($res)->{auth}, 'bearer-query', 'post: a JSON body is not touched');
$res = $ua->post(site('/api/post/items'), Content_Type => 'application/x-www-form-urlencoded',
                 Content => 'a=' . ('x' x (1024 * 1024 + 1)));
ok t_cmp($res->code, 413, 'post: a form body over 1 MiB is refused with 413');
