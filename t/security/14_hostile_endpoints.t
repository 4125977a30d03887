# A provider whose endpoints misbehave at the HTTP level: a token endpoint
# that redirects elsewhere (the module must not follow it with the code and
# its credentials), one that streams a body that never ends, a userinfo
# endpoint that does the same. Each is a failed login: a 502 error page
# within the configured timeout, nothing stored.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser provider_get provider_config login);
use OAC::Hostile qw(logged_in);

plan tests => 3 * 3 + 2;

for my $case ([ 'token endpoint answers 302 elsewhere', { token_endpoint_mode => 'redirect' } ],
              [ 'token endpoint streams an endless body',
                { token_endpoint_mode => 'stream', timeout_seconds => 20 } ],
              [ 'userinfo endpoint streams an endless body',
                { endpoint_modes => { '/oauth2/userinfo' => 'stream' }, timeout_seconds => 20 } ]) {
    my ($what, $config) = @$case;
    provider_config(%$config);
    my $ua = browser();
    my $t0 = time;
    my $res = login($ua, 'local');
    my $took = time - $t0;
    ok t_cmp($res->code, 502, "$what: the callback answers 502");
    ok t_cmp($took <= 10 ? 'promptly' : "after $took s", 'promptly',
             "$what: the failure comes promptly (OAuthHTTPTimeout 3)");
    ok t_cmp(logged_in($ua), 'not logged in', "$what: nothing stored");
    if ($config->{token_endpoint_mode} && $config->{token_endpoint_mode} eq 'redirect') {
        my $stats = provider_get('/_control/stats');
        ok t_cmp($stats->{redirect_target_requests}, 0, "$what: the redirect is not followed");
        ok t_cmp($stats->{authorization_code_requests}, 1, "$what: the code went to the token endpoint only");
    }
}
provider_config();
