# OAuthProxyAPI: the provider's answer is served from this site's origin,
# so it may not act there. Its Set-Cookie (and Set-Cookie2) headers never
# reach the browser — not even one naming the session cookie — and every
# proxied answer (JSON, HTML, the provider's errors; OAuth 2 and OAuth 1)
# carries Content-Security-Policy: sandbox and X-Content-Type-Options:
# nosniff, whatever the provider said about either.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_post provider_config login json_of cookie_of);

my %cookies = (
    'Set-Cookie' => [ 'oac_session=evil; path=/', 'tracker=1; path=/; Max-Age=86400' ],
    'Set-Cookie2' => 'oac_session=evil2; Version=1; Path=/',
);

# [ what, app, api path, provider config ]
my @cases = (
    [ 'a JSON answer with Set-Cookie', 'local', '/api/local/things',
      { api_response_headers => { %cookies } } ],
    [ 'an HTML answer with a <script> and Set-Cookie', 'local', '/api/local/page',
      { api_response_headers => { %cookies }, api_response_html => JSON::PP::true() } ],
    [ 'an answer with its own CSP and X-Content-Type-Options', 'local', '/api/local/page',
      { api_response_headers => { %cookies, 'Content-Security-Policy' => "default-src * 'unsafe-inline'",
                                  'X-Content-Type-Options' => 'sniff' },
        api_response_html => JSON::PP::true() } ],
    [ "the provider's 500 with Set-Cookie", 'local', '/api/local/things',
      { api_response_headers => { %cookies }, endpoint_modes => { '/api/' => 'error500' } } ],
    [ "the provider's HTML 200 (not_json) with Set-Cookie", 'local', '/api/local/things',
      { api_response_headers => { %cookies }, endpoint_modes => { '/api/' => 'not_json' } } ],
    [ 'OAuth 1: a JSON answer with Set-Cookie', 'o1', '/api/o1/things',
      { api_response_headers => { %cookies } } ],
    [ 'OAuth 1: an HTML answer with Set-Cookie', 'o1', '/api/o1/page',
      { api_response_headers => { %cookies }, api_response_html => JSON::PP::true() } ],
);

plan tests => 9 * @cases + 4 + 4;

sub set_cookies {
    my $res = shift;
    return join ' | ', map { $res->header($_) // () } 'Set-Cookie', 'Set-Cookie2';
}

# The headers every proxied answer must carry.
sub check_guard {
    my ($res, $what) = @_;
    my @csp = map { split /\s*,\s*/ } $res->header('Content-Security-Policy');
    ok t_cmp((grep { /^sandbox\b/ } @csp) ? 'sandbox' : join(', ', @csp) || 'none', 'sandbox',
             "$what: Content-Security-Policy: sandbox");
    ok t_cmp(join(', ', $res->header('X-Content-Type-Options')), 'nosniff',
             "$what: X-Content-Type-Options: nosniff, and only that");
}

for my $case (@cases) {
    my ($what, $app, $path, $config) = @$case;
    provider_config();
    my $ua = browser();
    login($ua, $app);
    my $session = cookie_of($ua);
    provider_post('/_control/config', $config);
    my $before = provider_get('/_control/stats')->{api_requests};

    my $res = $ua->get(site($path), Accept => 'application/json, text/html');
    ok t_cmp(provider_get('/_control/stats')->{api_requests} - $before, 1,
             "$what: the provider was reached");
    my $mode = ($config->{endpoint_modes} || {})->{'/api/'} // 'normal';
    ok t_cmp($res->code, $mode eq 'error500' ? 500 : 200, "$what: its status passes");
    ok t_cmp(set_cookies($res), '', "$what: no Set-Cookie or Set-Cookie2 reaches the browser");
    check_guard($res, $what);
    if ($config->{api_response_html}) {
        ok t_cmp($res->header('Content-Type') // '', qr{^text/html}, "$what: served as it came (text/html)");
        ok t_cmp($res->content, qr/<script>/, "$what: the body passes untouched (the CSP keeps it inert)");
    }
    else {
        ok t_cmp($res->header('Content-Type') // '',
                 { normal => qr{^application/json}, error500 => qr{^text/plain},
                   not_json => qr{^text/html} }->{$mode},
                 "$what: Content-Type as the provider sent it");
        ok t_cmp(length($res->content) > 0 ? 'body' : 'empty', 'body', "$what: the body passes");
    }
    ok t_cmp(cookie_of($ua), $session, "$what: the browser's session cookie is unchanged");
    my $jar = '';
    $ua->cookie_jar->scan(sub { $jar .= " $_[1]" });
    ok t_cmp($jar, ' oac_session', "$what: the browser holds no cookie but the session");
}

# Control: the provider's own 401 (a token it no longer knows, after its
# reset) passes through, guarded the same way, and the user stays logged in.
provider_config();
my $ua = browser();
login($ua, 'local');
my $session = cookie_of($ua);
provider_config(api_response_headers => { %cookies });   # forgets every token it issued
my $res = $ua->get(site('/api/local/things'), Accept => 'application/json');
ok t_cmp($res->code . ' ' . (json_of($res)->{error} // ''), '401 invalid_token',
         "the provider's 401: passed through");
ok t_cmp(set_cookies($res), '', "the provider's 401: no Set-Cookie reaches the browser");
check_guard($res, "the provider's 401");

# After all that, the session still works as it did.
provider_config();
login($ua, 'local');
$res = $ua->get(site('/protected/echo'), Accept => 'application/json');
ok t_cmp($res->code . ' ' . (json_of($res)->{REMOTE_USER} // ''), '200 alice',
         'control: the session cookie works after a new login');
provider_post('/_control/config', { api_response_headers => { %cookies } });
$session = cookie_of($ua);
$ua->get(site('/api/local/things'), Accept => 'application/json');
$res = $ua->get(site('/protected/echo'), Accept => 'application/json');
ok t_cmp($res->code . ' ' . (json_of($res)->{REMOTE_USER} // ''), '200 alice',
         'after an API answer with Set-Cookie: oac_session=evil, the user is still alice');
ok t_cmp(cookie_of($ua), $session, 'and the session cookie is the one the module set');
ok t_cmp(cookie_of($ua), qr/^oac_session=(?!evil)/, 'which is not the provider\'s value');
provider_config();
