# Refresh before use, with rotation; a failed refresh logs out; two apps'
# tokens side by side in one session; the status counters.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use JSON::PP ();
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_post provider_config
                 login json_of log_size log_since);

plan tests => 27;

# tokens that live 30 s: inside the 60 s margin, so every use refreshes
provider_config(access_token_lifetime => 30);
my $ua = browser();
login($ua, 'local');
my $before = json_of($ua->get(site('/protected/echo')))->{HTTP_X_OAUTH_ACCESS_TOKEN};
my $stats = provider_get('/_control/stats');
ok t_cmp($stats->{refresh_requests}, 1, 'an expiring token is refreshed before use');
ok t_cmp($stats->{last_token_request}{params}{grant_type}, 'refresh_token', 'grant_type=refresh_token');
ok t_cmp($stats->{last_token_request}{auth_method}, 'client_secret_basic', 'same client authentication');

my $after = json_of($ua->get(site('/protected/echo')))->{HTTP_X_OAUTH_ACCESS_TOKEN};
$stats = provider_get('/_control/stats');
ok t_cmp($stats->{refresh_requests}, 2, 'the rotated refresh token was stored and used');
ok t_cmp($after ne $before ? 'new' : 'same', 'new', 'the backend gets the new token');

my $res = $ua->get(site('/api/local/x'));
ok t_cmp($res->code, 200, 'API call after refreshes');
ok t_cmp(json_of($res)->{auth}, 'bearer-header', 'with the refreshed token');

# refresh fails: the token is dropped and the user is logged out
provider_post('/_control/config', { token_endpoint_mode => 'invalid_grant' });
$res = $ua->get(site('/protected/echo'), Accept => 'application/json');
ok t_cmp($res->code, 401, 'failed refresh: 401');
provider_post('/_control/config', { token_endpoint_mode => 'normal' });
$res = $ua->get(site('/protected/echo'), Accept => 'application/json');
ok t_cmp($res->code, 401, 'and the token is gone from the session');
$res = $ua->get(site('/protected/echo'));
ok t_cmp($res->code, 302, 'a browser is sent to log in again');

# The provider cannot answer the refresh (a 5xx, a timeout, down): no
# verdict on the token, so the user stays logged in. A token still valid
# is used meanwhile; an expired one gets 502 (contract section 7), and a
# request a few seconds later asks the provider again.
provider_config(access_token_lifetime => 30);
$ua = browser();
login($ua, 'local');
provider_post('/_control/config', { token_endpoint_mode => 'error500' });
my $start = log_size();
$res = $ua->get(site('/protected/echo'));
ok t_cmp($res->code, 200, 'the provider answers 500 to the refresh: the valid token is used');
ok t_cmp(log_since($start, qr/OAC00149/),
         qr/app local: token refresh failed, the provider could not answer; the user stays logged in/,
         'the log says the user stays logged in');
provider_config(access_token_lifetime => 2);
$ua = browser();
login($ua, 'local');
sleep 3;
provider_post('/_control/config', { token_endpoint_mode => 'error500' });
$res = $ua->get(site('/protected/echo'));
ok t_cmp($res->code, 502, 'an expired token the provider cannot refresh: 502');
provider_post('/_control/config', { token_endpoint_mode => 'normal' });
my $asked = provider_get('/_control/stats')->{refresh_requests};
$res = $ua->get(site('/protected/echo'));
ok t_cmp($res->code . ' ' . (provider_get('/_control/stats')->{refresh_requests} - $asked), '502 0',
         'seconds later: 502 without asking the provider again');
sleep 6;
$res = $ua->get(site('/protected/echo'));
ok t_cmp($res->code . ' ' . (provider_get('/_control/stats')->{refresh_requests} - $asked), '200 1',
         'later: the provider is asked again, and the login goes on');
# down for longer: asked again every few seconds, not once a minute
$ua = browser();
login($ua, 'local');
sleep 3;
provider_post('/_control/config', { token_endpoint_mode => 'error500' });
ok t_cmp($ua->get(site('/protected/echo'))->code, 502, 'a longer outage: 502');
sleep 6;
ok t_cmp($ua->get(site('/protected/echo'))->code, 502, 'still down seconds later: 502 again');
provider_post('/_control/config', { token_endpoint_mode => 'normal' });
sleep 6;
ok t_cmp($ua->get(site('/protected/echo'))->code, 200,
         'back up: the next request seconds later refreshes, not a minute after the outage began');

# a token without a refresh token serves until it expires: one shorter
# than the refresh margin was dropped at once, and each login sent the
# browser back to the provider
provider_config(access_token_lifetime => 30, issue_refresh_token => JSON::PP::false());
$ua = browser();
login($ua, 'local');
$res = $ua->get(site('/protected/echo'));
ok t_cmp($res->code . ' ' . (json_of($res)->{REMOTE_USER} // ''), '200 alice',
         'a 30 s token without a refresh token: used, not a login loop');
ok t_cmp(provider_get('/_control/stats')->{refresh_requests}, 0, 'and nothing to refresh it with is tried');
provider_config(access_token_lifetime => 2, issue_refresh_token => JSON::PP::false());
$ua = browser();
login($ua, 'local');
sleep 3;
ok t_cmp($ua->get(site('/protected/echo'), Accept => 'application/json')->code, 401,
         'once it has expired, the user must log in again');

# two apps in one session
provider_config();
$ua = browser();
login($ua, 'local');
login($ua, 'pub', undef, 'bob');
my $local = json_of($ua->get(site('/protected/echo')));
my $pub = json_of($ua->get(site('/pub/echo')));
ok t_cmp($local->{REMOTE_USER}, 'alice', 'app local: alice');
ok t_cmp($pub->{REMOTE_USER}, 'pub', 'app pub: no user_claim, so the app name');
ok t_cmp($local->{HTTP_X_OAUTH_ACCESS_TOKEN} ne $pub->{HTTP_X_OAUTH_ACCESS_TOKEN} ? 'two' : 'one',
         'two', 'each app its own token');
$ua->get(site('/oauth/pub/logout'));
ok t_cmp($ua->get(site('/protected/echo'))->code, 200, 'logging out of pub keeps local');

# counters
my $status = json_of(browser()->get(site('/oauthclient-status?json')));
my ($app) = grep { $_->{name} eq 'local' } @{ $status->{apps} };
ok t_cmp($app->{counters}{logins_completed} > 0 ? 'counted' : 'zero', 'counted', 'logins counted');
ok t_cmp($app->{counters}{refreshes} >= 2 ? 'counted' : 'zero', 'counted', 'refreshes counted');
