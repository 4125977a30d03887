# OAuthProxyAPI and requests other sites make the browser send: the user's
# token works for this site's pages only. A request the browser marks as
# coming from another site (Sec-Fetch-Site cross-site, or same-site: a
# sibling subdomain gets the session cookie too), or, without
# Sec-Fetch-Site, an Origin naming another origin (or "null"), is refused
# with 403 {"error": "cross_site_request"} before the provider hears of it.
# Same-origin and user-initiated (none) requests, those with this site's
# own Origin, and those that say nothing (older browsers, scripts) are
# proxied.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestRequest ();
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_config login json_of);

my $own = 'http://' . Apache::TestRequest::hostport();
(my $other_port = $own) =~ s/:(\d+)$/':' . ($1 == 1 ? 2 : 1)/e;

my @refused = (
    [ 'Sec-Fetch-Site: cross-site', GET => [ 'Sec-Fetch-Site' => 'cross-site' ] ],
    [ 'Sec-Fetch-Site: Cross-Site (any case)', GET => [ 'Sec-Fetch-Site' => 'Cross-Site' ] ],
    [ 'Sec-Fetch-Site: cross-site with this site\'s own Origin', GET =>
      [ 'Sec-Fetch-Site' => 'cross-site', Origin => $own ] ],
    [ 'Sec-Fetch-Site: cross-site on a form POST', POST => [ 'Sec-Fetch-Site' => 'cross-site' ] ],
    [ 'no Sec-Fetch-Site, Origin: http://evil.example', GET => [ Origin => 'http://evil.example' ] ],
    [ 'no Sec-Fetch-Site, Origin: http://evil.example on a form POST', POST =>
      [ Origin => 'http://evil.example' ] ],
    [ 'no Sec-Fetch-Site, Origin: this host on another port', GET => [ Origin => $other_port ] ],
    [ 'no Sec-Fetch-Site, Origin: null', GET => [ Origin => 'null' ] ],
    [ 'Sec-Fetch-Site: same-site (a sibling subdomain)', GET => [ 'Sec-Fetch-Site' => 'same-site' ] ],
);
my @proxied = (
    [ 'Sec-Fetch-Site: same-origin', [ 'Sec-Fetch-Site' => 'same-origin' ] ],
    [ 'Sec-Fetch-Site: none (typed into the address bar)', [ 'Sec-Fetch-Site' => 'none' ] ],
    [ 'no Sec-Fetch-Site, no Origin', [] ],
    [ "no Sec-Fetch-Site, Origin: this site's own ($own)", [ Origin => $own ] ],
    [ "Sec-Fetch-Site: same-origin with this site's own Origin",
      [ 'Sec-Fetch-Site' => 'same-origin', Origin => $own ] ],
);

plan tests => 5 * @refused + 3 * @proxied;

sub api_requests { provider_get('/_control/stats')->{api_requests} }

provider_config();
my $ua = browser();
login($ua, 'local');

for my $case (@refused) {
    my ($what, $method, $headers) = @$case;
    my $before = api_requests();
    my $res = $method eq 'POST'
        ? $ua->post(site('/api/local/items'), [ name => 'x' ], @$headers, Accept => 'application/json')
        : $ua->get(site('/api/local/things?x=1'), @$headers, Accept => 'application/json');
    ok t_cmp($res->code, 403, "$what: 403");
    ok t_cmp($res->header('Content-Type') // '', qr{^application/json}, "$what: a JSON answer");
    ok t_cmp(json_of($res)->{error} // '', 'cross_site_request', "$what: error cross_site_request");
    ok t_cmp(api_requests() - $before, 0, "$what: the provider's /api/ is not reached");
    # the refusal logs nobody out
    ok t_cmp($ua->get(site('/api/local/things'), Accept => 'application/json')->code, 200,
             "$what: the user's next same-site call still works");
}

for my $case (@proxied) {
    my ($what, $headers) = @$case;
    my $before = api_requests();
    my $res = $ua->get(site('/api/local/things?x=2'), @$headers, Accept => 'application/json');
    ok t_cmp($res->code, 200, "$what: proxied (200)");
    ok t_cmp(json_of($res)->{path} // '', '/api/things', "$what: the provider's echo answers");
    ok t_cmp(api_requests() - $before, 1, "$what: the provider's /api/ is reached once");
}
