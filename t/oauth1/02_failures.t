# OAuth 1.0a failure paths: each gives a clear page and stores nothing.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_post provider_config
                 login_redirect approve login query_of json_of);

plan tests => 22;

sub logged_in {
    my $ua = shift;
    return $ua->get(site('/o1/echo'), Accept => 'application/json')->code == 200
        ? 'logged in' : 'not logged in';
}

provider_config();

# mismatched, missing, replayed oauth_token
my $ua = browser();
my $callback = approve(login_redirect($ua, 'o1')->header('Location'));
(my $mismatched = $callback) =~ s/oauth_token=([^&]+)/oauth_token=x$1/;
my $res = $ua->get($mismatched);
ok t_cmp($res->code, 400, 'mismatched oauth_token: 400');
ok t_cmp($res->content, qr/unknown or expired request token/, 'mismatched: says so');
(my $missing = $callback) =~ s/oauth_token=[^&]+&?//;
$res = $ua->get($missing);
ok t_cmp($res->code, 400, 'missing oauth_token: 400');
ok t_cmp(logged_in($ua), 'not logged in', 'nothing stored');
ok t_cmp($ua->get($callback)->code, 302, 'the genuine callback works');
ok t_cmp(logged_in($ua), 'logged in', 'logged in');
$res = $ua->get($callback);
ok t_cmp($res->code, 400, 'replayed callback: 400 (request token single use)');

# two logins in flight in one browser (two tabs): each request token is
# kept, and each callback completes in either order
$ua = browser();
my $first = approve(login_redirect($ua, 'o1', '/tab1')->header('Location'));
my $second = approve(login_redirect($ua, 'o1', '/tab2')->header('Location'));
ok t_cmp($ua->get($second)->header('Location'), site('/tab2'), 'second tab completes first');
ok t_cmp($ua->get($first)->header('Location'), site('/tab1'), 'first tab still completes');

# missing verifier
$ua = browser();
$callback = approve(login_redirect($ua, 'o1')->header('Location'));
(my $no_verifier = $callback) =~ s/&?oauth_verifier=[^&]+//;
$res = $ua->get($no_verifier);
ok t_cmp($res->code, 400, 'missing verifier: 400');
ok t_cmp($res->content, qr/no oauth_verifier/, 'missing verifier: says so');
ok t_cmp(logged_in($ua), 'not logged in', 'missing verifier: nothing stored');

# the user declines (Twitter's ?denied=)
$ua = browser();
my $token = query_of(login_redirect($ua, 'o1')->header('Location'))->{oauth_token};
$res = $ua->get(site("/oauth/o1/callback?denied=$token"));
ok t_cmp($res->code, 403, 'denied: 403');
ok t_cmp($res->content, qr/refused the login/, 'denied: says so');

# oauth_callback_confirmed absent, then "True"
provider_config(oauth1_callback_confirmed => 'absent');
$res = login_redirect(browser(), 'o1');
ok t_cmp($res->code, 502, 'callback not confirmed: 502');
ok t_cmp($res->content, qr/oauth_callback_confirmed missing/, 'callback not confirmed: says so');
provider_config(oauth1_callback_confirmed => 'True');
$ua = browser();
ok t_cmp(login($ua, 'o1')->code, 302, "oauth_callback_confirmed=True accepted");

# a wrong consumer secret: the provider's refusal is shown
provider_config();
$res = login_redirect(browser(), 'o1bad');
ok t_cmp($res->code, 502, 'bad signature at the request token endpoint: 502');
ok t_cmp($res->content, qr/oauth_problem=signature_invalid/, 'shows the oauth_problem');
ok t_cmp($res->content =~ /not-the-secret/ ? 'leaked' : 'clean', 'clean', 'secret not shown');

# the access token endpoint fails
provider_config(endpoint_modes => { '/oauth1/access_token' => 'error500' });
$ua = browser();
$res = $ua->get(approve(login_redirect($ua, 'o1')->header('Location')));
ok t_cmp($res->code, 502, 'access token endpoint 500: 502');
ok t_cmp(logged_in($ua), 'not logged in', 'access token failure: nothing stored');
provider_config();
