# A hostile refresh response: the same poison as at login (a control
# character or an over-long value in token_type, scope or a token) fails the
# refresh; the app's token leaves the session and the request is treated as
# logged out: 401 for API clients, a redirect to log in for a browser.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_post provider_config login json_of);

my $inject = "\r\nX-OAuth-User: admin\r\nX-Injected: INJECTED";
my @cases = (
    [ 'token_type with CR LF', { token_type => "Bearer$inject" } ],
    [ 'token_type with LF', { token_type => "Bearer\nX-Injected: INJECTED" } ],
    [ 'token_type of 65 bytes', { token_type => 'Bearer' . ('_' x 59) } ],
    [ 'scope with CR LF', { scope => "profile$inject" } ],
    [ 'scope with TAB', { scope => "profile\temail" } ],
    [ 'scope array with CR LF', { scope => [ 'profile', "email$inject" ] } ],
    [ 'scope of 4097 bytes', { scope => 'p' . (' s' x 2048) } ],
    [ 'access_token with CR LF', { access_token => "at-x$inject" } ],
    [ 'access_token of 8193 bytes', { access_token => 'a' x 8193 } ],
    [ 'rotated refresh_token with CR LF', { refresh_token => "rt-x$inject" } ],
    [ 'rotated refresh_token of 8193 bytes', { refresh_token => 'r' x 8193 } ],
);

plan tests => 2 + 4 * @cases;

# Tokens that live 30 s: inside the 60 s margin, so every use refreshes.
provider_config(access_token_lifetime => 30);
my $ua = browser();
login($ua, 'local');
my $res = $ua->get(site('/protected/echo'), Accept => 'application/json');
ok t_cmp($res->code, 200, 'control: a normal refresh serves the request');
ok t_cmp(provider_get('/_control/stats')->{refresh_requests}, 1, 'control: the token was refreshed');

for my $case (@cases) {
    my ($what, $override) = @$case;
    provider_config(access_token_lifetime => 30);
    my $api = browser();
    login($api, 'local');
    provider_post('/_control/config', { refresh_override => $override });
    $res = $api->get(site('/protected/echo'), Accept => 'application/json');
    ok t_cmp($res->code, 401, "$what in the refresh response: an API client gets 401");
    ok t_cmp($res->content =~ /INJECTED|admin/ ? 'value shown' : 'value not shown', 'value not shown',
             "$what in the refresh response: the answer does not show the value");

    # the provider behaves again: the token is gone, not refreshed again
    provider_post('/_control/config', { refresh_override => {} });
    my $refreshes = provider_get('/_control/stats')->{refresh_requests};
    $res = $api->get(site('/protected/echo'), Accept => 'application/json');
    ok t_cmp($res->code . ' after ' . (provider_get('/_control/stats')->{refresh_requests} - $refreshes)
             . ' refreshes', '401 after 0 refreshes',
             "$what in the refresh response: the token was removed from the session");

    # a browser, the same way
    provider_config(access_token_lifetime => 30, refresh_override => $override);
    my $nav = browser();
    login($nav, 'local');
    $res = $nav->get(site('/protected/echo?p=1'));
    ok t_cmp($res->code . ' ' . ($res->header('Location') // ''),
             qr{^302 (\Q@{[site('')]}\E)?/oauth/local/login\?next=},
             "$what in the refresh response: a browser is sent to log in");
}
provider_config();
