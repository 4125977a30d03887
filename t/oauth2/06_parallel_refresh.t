# N requests of one browser in parallel, all carrying the same expiring
# token and rotating refresh token: exactly one refresh reaches the
# provider, which would revoke the grant if a refresh token came twice,
# and all N succeed.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_post provider_config
                 login json_of cookie_of parallel_get);

my $n = 8;
plan tests => 5;

sub counters {
    my $status = json_of(browser()->get(site('/oauthclient-status?json')));
    my ($app) = grep { $_->{name} eq 'local' } @{ $status->{apps} };
    return $app->{counters};
}
my $failed_before = counters()->{refresh_failed};

# Tokens that live 30 s are refreshed at once (60 s margin); the slow token
# endpoint keeps the first refresh in flight while the others arrive.
provider_config(access_token_lifetime => 30);
my $ua = browser();
login($ua, 'local');
provider_post('/_control/config', { token_endpoint_mode => 'slow:1' });
my $cookie = cookie_of($ua);

my $ok = grep {
    $_->{code} == 200 && ($_->{json}{auth} || '') eq 'bearer-header';
} parallel_get($cookie, map { "/api/local/parallel/$_" } 1 .. $n);

my $stats = provider_get('/_control/stats');
ok t_cmp($ok, $n, "all $n parallel requests succeeded");
ok t_cmp($stats->{refresh_requests}, 1, 'exactly one refresh call at the provider');
ok t_cmp($stats->{api_requests}, $n, "the provider's API saw all $n");

ok t_cmp(counters()->{refresh_failed} - $failed_before, 0, 'no refresh failed');
# the provider revokes the whole grant when a rotated refresh token comes
# back (RFC 9700 4.14.2): not once
ok t_cmp($stats->{refresh_token_reuse}, 0, 'no refresh token was used twice');
