# OAuthProxyAPI: the provider's answer is served from this site's origin,
# so it may not act there. Its Set-Cookie (and Set-Cookie2) headers never
# reach the browser — not even one naming the session cookie — nor do
# Clear-Site-Data, Strict-Transport-Security, Alt-Svc,
# Service-Worker-Allowed, Refresh, NEL, Report-To, Reporting-Endpoints,
# Accept-CH and Critical-CH, and every
# proxied answer (JSON, HTML, the provider's errors; OAuth 2 and OAuth 1)
# carries Content-Security-Policy: sandbox and X-Content-Type-Options:
# nosniff, whatever the provider said about either. Interim responses
# (103 Early Hints with Set-Cookie or a Link preload of a URL of this
# site) are not passed on at all: httpd sends them before any filter could
# clean them. A client's Expect: 100-continue still gets its 100.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use IO::Socket::INET;
use OAC::Flow qw(browser site provider_get provider_post provider_config login json_of cookie_of);

my %cookies = (
    'Set-Cookie' => [ 'oac_session=evil; path=/', 'tracker=1; path=/; Max-Age=86400' ],
    'Set-Cookie2' => 'oac_session=evil2; Version=1; Path=/',
    # the provider's say over this origin's state and transport, dropped too
    'Clear-Site-Data' => '"cookies", "storage"',
    'Strict-Transport-Security' => 'max-age=31536000; includeSubDomains',
    'Alt-Svc' => 'h3=":4433"; ma=86400',
    'Service-Worker-Allowed' => '/',
    'Refresh' => '0; url=https://evil.example/',
    # an origin-wide reporting policy (request URLs sent where the API
    # says) and client hints asked of this origin
    'NEL' => '{"report_to":"x","max_age":86400,"success_fraction":1.0}',
    'Report-To' => '{"group":"x","max_age":86400,"endpoints":[{"url":"https://evil.example/r"}]}',
    'Reporting-Endpoints' => 'x="https://evil.example/r"',
    'Accept-CH' => 'Sec-CH-UA-Platform-Version',
    'Critical-CH' => 'Sec-CH-UA-Platform-Version',
);
my @origin_state = grep { !/^Set-Cookie/ } sort keys %cookies;

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
    [ 'a JSON answer the API calls public, for a day', 'local', '/api/local/things',
      { api_response_headers => { %cookies, 'Cache-Control' => 'public, max-age=86400' } } ],
    [ 'a JSON answer with two Cache-Control lines', 'local', '/api/local/things',
      { api_response_headers => { %cookies, 'Cache-Control' => [ 'max-age=0', 'no-store' ] } } ],
    [ 'OAuth 1: a JSON answer with Set-Cookie', 'o1', '/api/o1/things',
      { api_response_headers => { %cookies } } ],
    [ 'OAuth 1: an HTML answer with Set-Cookie', 'o1', '/api/o1/page',
      { api_response_headers => { %cookies }, api_response_html => JSON::PP::true() } ],
);

plan tests => 11 * @cases + 6 + 1 + 4 + 3 + 9;

sub set_cookies {
    my $res = shift;
    return join ' | ', map { $res->header($_) // () } 'Set-Cookie', 'Set-Cookie2';
}
sub origin_state {
    my $res = shift;
    return join ' | ', map { defined $res->header($_) ? $_ : () } @origin_state;
}

# The headers every proxied answer must carry.
sub check_guard {
    my ($res, $what) = @_;
    my @csp = map { split /\s*,\s*/ } $res->header('Content-Security-Policy');
    ok t_cmp((grep { /^sandbox\b/ } @csp) ? 'sandbox' : join(', ', @csp) || 'none', 'sandbox',
             "$what: Content-Security-Policy: sandbox");
    ok t_cmp(join(', ', $res->header('X-Content-Type-Options')), 'nosniff',
             "$what: X-Content-Type-Options: nosniff, and only that");
    # one user's answer, at a URL without the token: no shared cache (a
    # mod_cache in front, a CDN) may keep it for the next user
    ok t_cmp(join(', ', $res->header('Cache-Control')), qr/(^|,\s*)(private|no-store)\b/,
             "$what: Cache-Control: private");
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
    ok t_cmp(origin_state($res), '', "$what: nor Clear-Site-Data, HSTS, Alt-Svc, Service-Worker-Allowed, Refresh, NEL, Report-To, Reporting-Endpoints, Accept-CH, Critical-CH");
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

# All of the API's Cache-Control lines are read: a no-store on its second
# line stays (the first alone was read, and the browser could keep it).
provider_config();
{
    my $ua = browser();
    login($ua, 'local');
    provider_post('/_control/config', { api_response_headers =>
        { 'Cache-Control' => [ 'max-age=0', 'No-Store' ] } });
    my $res = $ua->get(site('/api/local/things'), Accept => 'application/json');
    ok t_cmp(join(' | ', $res->header('Cache-Control')), 'max-age=0,no-store',
             "two Cache-Control lines: both read, no-store kept, so no private added");
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
ok t_cmp(origin_state($res), '', "the provider's 401: nor the other headers acting on this origin");
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

# A raw HTTP/1.1 exchange: what a browser would read, interim responses
# included (LWP hides them). Returns (everything read, seconds it took).
sub raw_exchange {
    my ($request) = @_;
    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => Apache::Test::vars('port'),
                                     Timeout => 10) or die "connect: $!";
    my $t0 = time;
    my ($head, $body) = split /\r\n\r\n/, $request, 2;
    print $sock "$head\r\n\r\n";
    if (defined $body && $head =~ /Expect: 100-continue/i) {
        # as curl does: wait up to 3 s for the 100 before sending the body
        my $got = '';
        my $rin = '';
        vec($rin, fileno($sock), 1) = 1;
        select(my $rout = $rin, undef, undef, 3);
        sysread($sock, $got, 4096);
        print $sock $body;
        my $rest = do { local $/; <$sock> } // '';
        return ($got . $rest, time - $t0);
    }
    print $sock $body if defined $body;
    my $all = do { local $/; <$sock> } // '';
    return ($all, time - $t0);
}

provider_config();
$ua = browser();
login($ua, 'local');
my $cookie = cookie_of($ua);
provider_post('/_control/config', { api_early_hints => { 'Set-Cookie' => 'oac_session=early; path=/',
                                                         Link => '</oauth/local/logout>; rel=preload; as=fetch' } });
my ($raw) = raw_exchange("GET /api/local/things HTTP/1.1\r\nHost: localhost\r\nCookie: $cookie\r\n"
                         . "Accept: application/json\r\nConnection: close\r\n\r\n");
ok t_cmp(provider_get('/_control/stats')->{api_requests}, 1, 'a 103 from the provider: the provider was reached');
ok t_cmp(($raw =~ m{^HTTP/1\.1 (\d+)})[0] // 'nothing', 200, 'the first and only status line the browser reads is the answer\'s');
ok t_cmp($raw =~ /early|rel=preload/ ? 'passed on' : 'not passed on', 'not passed on',
         "the 103's Set-Cookie and Link never reach the browser");

# Expect: 100-continue through the API, the body read by the module (a
# form: the suite's protected_request hook may rewrite it) or streamed to
# the provider (JSON, with a length or chunked): the client gets its 100
# at once, and the provider the whole body.
provider_config();
login($ua, 'local');
$cookie = cookie_of($ua);
my $json = '{"name":"a thing","tags":["x","y"]}';
my $chunked = sprintf("%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", 10, substr($json, 0, 10),
                      length($json) - 10, substr($json, 10));
for my $case ([ 'a form', 'application/x-www-form-urlencoded', 'a=1&b=2' ],
              [ 'JSON with a Content-Length', 'application/json', $json ],
              [ 'chunked JSON', 'application/json', $json, $chunked ]) {
    my ($what, $type, $body, $wire) = @$case;
    my $framing = defined $wire ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " . length($body) . "\r\n";
    my ($posted, $took) = raw_exchange("PUT /api/local/things HTTP/1.1\r\nHost: localhost\r\nCookie: $cookie\r\n"
                                       . "Accept: application/json\r\nContent-Type: $type\r\n$framing"
                                       . "Expect: 100-continue\r\nConnection: close\r\n\r\n" . ($wire // $body));
    ok t_cmp($posted, qr{^HTTP/1\.1 100 Continue\r\n}, "Expect: 100-continue, $what: the client gets its 100");
    ok t_cmp($took < 3 ? 'at once' : "after ${took} s", 'at once', "$what: without waiting for its timeout");
    my ($answer) = $posted =~ /\r\n\r\n(\{.*\})\s*$/s;
    my $echo = eval { JSON::PP::decode_json($answer // '') } || {};
    ok t_cmp(($posted =~ m{HTTP/1\.1 (2\d\d) } ? $1 : 'no 2xx') . ' ' . ($echo->{method} // '') . ' ' . ($echo->{body} // ''),
             "200 PUT $body", "$what: the provider gets the whole body");
}
