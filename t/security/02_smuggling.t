# The acid test of provider-controlled values: a value with CR LF that,
# copied into a forwarded X-OAuth-* header, would end the request httpd
# proxies and start a second one of the provider's making ("GET /admin",
# "X-OAuth-User: admin"). The backend (t/provider/backend.py) records what
# arrives on the wire: it must never see a second request, nor user admin;
# at login, on refresh, and from a tampered session cookie.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use LWP::UserAgent ();
use URI::Escape qw(uri_escape);
use OAC::Flow qw(browser site provider_post provider_config login cookie_of);
use OAC::Hostile qw(backend_reset backend_requests smuggled_requests admin_headers
                    header_of SMUGGLE);

plan tests => 5 + 7 * 4 + 2 * 3 + 3 + 2;

# The request an API client makes to the proxied location; then what the
# backend saw.
sub through_proxy {
    my ($ua, $prefix) = @_;
    backend_reset();
    return $ua->get(site("${prefix}page?x=1"), Accept => 'application/json',
                    'X-OAuth-User' => 'admin');
}

# --- the control: one request, the real user ----------------------------
provider_config();
my $ua = browser();
login($ua, 'local');
my $res = through_proxy($ua, '/smuggle/');
ok t_cmp($res->code, 200, 'control: the proxied location is served');
my $reqs = backend_requests();
ok t_cmp(scalar @$reqs, 1, 'control: the backend receives exactly one request');
ok t_cmp(header_of($reqs->[0], 'X-OAuth-User'), 'alice', 'control: with the real user');
ok t_cmp(smuggled_requests('/smuggle/'), 0, 'control: nothing smuggled');
ok t_cmp(admin_headers(), 0, 'control: the client cannot claim admin');

# --- poisoned at login ----------------------------------------------------
(my $poison_scope = SMUGGLE) =~ s/^mallory/profile/;
(my $poison_type = SMUGGLE) =~ s/^mallory/Bearer/;
my @login_cases = (
    [ 'user claim from userinfo', 'local', '/smuggle/',
      { userinfo_override => { login => SMUGGLE } } ],
    [ 'user claim from the token response', 'tokclaim', '/smuggle-tok/',
      { token_override => { login => SMUGGLE } } ],
    [ 'scope string', 'tokclaim', '/smuggle-tok/',
      { token_override => { login => 'alice', scope => $poison_scope } } ],
    [ 'scope array', 'tokclaim', '/smuggle-tok/',
      { token_override => { login => 'alice', scope => [ 'profile', $poison_scope ] } } ],
    [ 'token_type', 'tokclaim', '/smuggle-tok/',
      { token_override => { login => 'alice', token_type => $poison_type } } ],
    [ 'OAuth 1 screen_name', 'o1', '/smuggle-o1/',
      { oauth1_access_override => { screen_name => SMUGGLE } } ],
    [ 'OAuth 1 screen_name, LF only', 'o1', '/smuggle-o1/',
      { oauth1_access_override => { screen_name => join "\n", split /\r\n/, SMUGGLE, -1 } } ],
);
for my $case (@login_cases) {
    my ($what, $app, $prefix, $config) = @$case;
    provider_config(%$config);
    $ua = browser();
    $res = login($ua, $app);
    ok t_cmp($res->code, 502, "$what poisoned at login: the callback answers 502");
    $res = through_proxy($ua, $prefix);
    ok t_cmp($res->code, 401, "$what poisoned at login: the proxied location is not served (no login)");
    ok t_cmp(smuggled_requests($prefix), 0, "$what poisoned at login: no second request at the backend");
    ok t_cmp(admin_headers(), 0, "$what poisoned at login: the backend never sees X-OAuth-User: admin");
}

# --- poisoned on refresh --------------------------------------------------
for my $case ([ 'token_type', { token_type => $poison_type } ],
              [ 'scope', { scope => $poison_scope } ]) {
    my ($what, $override) = @$case;
    # tokens that live 30 s: inside the 60 s margin, so every use refreshes
    provider_config(access_token_lifetime => 30);
    $ua = browser();
    login($ua, 'local');
    provider_post('/_control/config', { refresh_override => $override });
    $res = through_proxy($ua, '/smuggle/');
    ok t_cmp($res->code, 401, "$what poisoned on refresh: treated as logged out");
    ok t_cmp(smuggled_requests('/smuggle/'), 0, "$what poisoned on refresh: no second request at the backend");
    ok t_cmp(admin_headers(), 0, "$what poisoned on refresh: the backend never sees X-OAuth-User: admin");
}

# --- a tampered session cookie (the plain cookie store) -------------------
provider_config();
$ua = browser();
login($ua, 'local');
my $cookie = cookie_of($ua);
my $smuggle = uri_escape(SMUGGLE);
(my $tampered = $cookie) =~ s/(oauthclient\.local\.user=)alice/$1$smuggle/;
my $forger = LWP::UserAgent->new(max_redirect => 0);
backend_reset();
$res = $forger->get(site('/smuggle/page'), Accept => 'application/json', Cookie => $tampered);
ok t_cmp($res->code, 401, 'tampered cookie (user with CR LF): treated as not logged in');
ok t_cmp(smuggled_requests('/smuggle/'), 0, 'tampered cookie: no second request at the backend');
ok t_cmp(admin_headers(), 0, 'tampered cookie: the backend never sees X-OAuth-User: admin');
# the same cookie untampered still works: the refusal is about the value
backend_reset();
$res = $forger->get(site('/smuggle/page'), Accept => 'application/json', Cookie => $cookie);
ok t_cmp($res->code, 200, 'the untampered cookie is served');
ok t_cmp(scalar @{ backend_requests() }, 1, 'the untampered cookie: one request at the backend');
