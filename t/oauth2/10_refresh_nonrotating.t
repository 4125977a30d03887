# A provider that does not rotate refresh tokens, with access tokens of a
# few seconds (LemonLDAP::NG-style): every refresh must reach the provider
# and give a token that is not yet expired. Keyed by the refresh token
# alone, the hand-off gave a refresh within a minute of the previous one
# that previous, expired, result back, and the module forwarded it.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use Time::HiRes qw(sleep);
use OAC::Flow qw(browser site provider_get provider_config login json_of);

plan tests => 6;

provider_config(rotate_refresh_tokens => JSON::PP::false(), access_token_lifetime => 2);
my $ua = browser();
login($ua, 'local');

my $res = $ua->get(site('/api/local/me'));
ok t_cmp($res->code, 200, 'first API call (refreshes: the token is inside the margin)');
my $first = json_of($res)->{headers}{Authorization} // '';
my $stats = provider_get('/_control/stats');
ok t_cmp($stats->{refresh_requests}, 1, 'one refresh');

sleep 3;    # the refreshed token has expired
$res = $ua->get(site('/api/local/me'));
ok t_cmp($res->code, 200, 'an API call after that token expired succeeds');
ok t_cmp((json_of($res)->{headers}{Authorization} // '') ne $first ? 'new token' : 'the expired one',
         'new token', 'with a new token, not the previous refresh result again');
$stats = provider_get('/_control/stats');
ok t_cmp($stats->{refresh_requests}, 2, 'the provider was asked again');
ok t_cmp($stats->{last_token_request}{params}{refresh_token} ? 'same refresh token' : 'none',
         'same refresh token', 'with the same (not rotated) refresh token');
