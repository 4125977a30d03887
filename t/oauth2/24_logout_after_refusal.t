# Logging out after the provider refused a refresh: the session lost its
# token (the user is logged out here) but the provider's own login lives
# on, and the id_token the session kept is what ends it there
# (end_session_endpoint with id_token_hint). Sent home instead, the next
# person at a shared computer clicking "log in" would be the last user.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use URI;
use OAC::Flow qw(browser site provider_config provider_post login);

plan tests => 5;

provider_config(access_token_lifetime => 30);

# control: a logged-in user's logout goes to the provider
{
    my $b = browser();
    die 'the control login failed' unless login($b, 'oidcbye', '/after', 'alice')->code == 302;
    my $to = URI->new($b->get(site('/oauth/oidcbye/logout'))->header('Location') // '');
    ok t_cmp($to->path, '/oauth2/logout', 'control: logout goes to end_session_endpoint');
}

my $ua = browser();
die 'the login failed' unless login($ua, 'oidcbye', '/after', 'alice')->code == 302;
provider_post('/_control/config', { token_endpoint_mode => 'invalid_grant' });
my $r = $ua->get(site('/oidcbye/echo'), Accept => 'application/json');
provider_post('/_control/config', { token_endpoint_mode => 'normal' });
ok t_cmp($r->code, 401, 'the refresh refused: no token any more');

$r = $ua->get(site('/oauth/oidcbye/logout'));
my $to = URI->new($r->header('Location') // '');
ok t_cmp($to->path, '/oauth2/logout', 'logout still ends the login at the provider');
ok t_cmp(({ $to->query_form }->{id_token_hint} // '') =~ /^[\w-]+\.[\w-]+\.[\w-]+$/
         ? 'a JWS' : 'none', 'a JWS', 'with the id_token as its hint');

# and once logged out, a second logout has nothing to end there
$r = $ua->get(site('/oauth/oidcbye/logout'));
ok t_cmp(URI->new($r->header('Location') // '')->path, '/', 'a second logout goes home');
