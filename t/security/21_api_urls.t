# OAuthProxyAPI: the API's own URLs in its answer (a redirect's Location,
# a created resource's, Content-Location, pagination's Link) reach the
# browser as paths below the location that proxies to it, as
# ProxyPassReverse maps a proxied server's; relative ones are resolved
# against the URL the API was called at first, so none makes the browser
# climb out of the location into another of this site's paths; a Location
# that names this site elsewhere is dropped (an API would otherwise send
# the browser, with 307 and the same body, to another app's API location);
# other sites' URLs pass.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use JSON::PP ();
use Apache::TestRequest ();
use Apache::TestUtil qw(t_cmp t_debug);
use OAC::Flow qw(browser site provider_get provider_post provider_config login json_of
                 log_size log_since log_lines_since);

my $api = "$ENV{OAC_PROVIDER}/api";     # local's api_base_url, without its '/'
my $hostport = Apache::TestRequest::hostport();
my ($host, $port) = split /:/, $hostport;
my $here = "http://$hostport";

# [ what, header, value the API sends, value the browser gets (undef: none) ]
my @cases = (
    [ 'an absolute Location below api_base_url', 'Location',
      "$api/users/7", '/api/local/users/7' ],
    [ 'a path-absolute Location (the API origin\'s path)', 'Location',
      '/api/x?y=1#top', '/api/local/x?y=1#top' ],
    [ 'a relative Location, resolved against the URL called', 'Location',
      'b/c', '/api/local/things/b/c' ],
    [ "a relative Location that climbs out of api_base_url: the API's origin", 'Location',
      '../../oauth/local/logout', "$ENV{OAC_PROVIDER}/oauth/local/logout" ],
    [ 'a path-absolute Location outside api_base_url: the API\'s origin', 'Location',
      '/oauth/post/logout', "$ENV{OAC_PROVIDER}/oauth/post/logout" ],
    [ 'an encoded dot segment is never mapped below the location', 'Location',
      "$api/%2e%2e/oauth/local/logout", "$api/%2e%2e/oauth/local/logout" ],
    [ 'a Location naming this site outside the location: dropped', 'Location',
      "$here/api/post/transfer", undef ],
    # what browsers read as this site where RFC 3986 reads no host, or
    # another: never passed as it is
    [ 'a scheme without a host (a browser resolves it against this site)', 'Location',
      'http:/api/post/transfer', undef ],
    [ 'an empty host', 'Location', "///$hostport/api/post/transfer", undef ],
    [ "backslashes in the host", 'Location', "http:\\\\$hostport\\api\\post", undef ],
    [ 'userinfo after a backslash', 'Location', "http://$hostport\\\@x.example/", undef ],
    [ 'a percent-encoded host', 'Location', "http://%6cocalhost:$port/api/post/x", undef ],
    [ 'this site in capitals, with a final dot', 'Location',
      'HTTP://' . uc($host) . ".:$port/api/post/x", undef ],
    [ "another site's Location passes", 'Location',
      'https://downloads.example/archive.zip', 'https://downloads.example/archive.zip' ],
    [ 'Content-Location below api_base_url', 'Content-Location',
      "$api/items/3", '/api/local/items/3' ],
    [ "pagination's Link, two targets", 'Link',
      qq{<$api/things?page=2>; rel="next", <$api/things?page=9>; rel="last"},
      '</api/local/things?page=2>; rel="next", </api/local/things?page=9>; rel="last"' ],
    [ 'a Link to another site passes', 'Link',
      '<https://docs.example/api>; rel="help"', '<https://docs.example/api>; rel="help"' ],
    [ 'a Link naming this site outside the location: that link-value is left out', 'Link',
      qq{<$here/api/post/x>; rel="next", <$api/things?page=9>; rel="last"},
      '</api/local/things?page=9>; rel="last"' ],
    [ 'a quoted parameter holding "<" and ","', 'Link',
      qq{<$api/a>; title="<b>, x", <$api/b>; rel="next"},
      '</api/local/a>; title="<b>, x", </api/local/b>; rel="next"' ],
    [ 'a Link with nothing left: no Link', 'Link', 'http:/api/post/x; rel="next"', undef ],
);

plan tests => 2 * @cases + 2 + 6 + 4 + 2 * 5 + 1 + 1 + 1 + 2 * 6;

provider_config();
my $ua = browser();
login($ua, 'local');

for my $case (@cases) {
    my ($what, $header, $sent, $want) = @$case;
    provider_post('/_control/config', { api_response_headers => { $header => $sent } });
    my $res = $ua->get(site('/api/local/things/a?q=1'), Accept => 'application/json');
    ok t_cmp($res->code, 200, "$what: the answer passes");
    ok t_cmp(scalar $res->header($header), $want, "$what: $header");
}

# Several Link lines: each mapped.
provider_post('/_control/config', { api_response_headers => {
    Link => [ "<$api/a>; rel=\"next\"", "<$api/b>; rel=\"prev\"" ] } });
my $res = $ua->get(site('/api/local/things'), Accept => 'application/json');
ok t_cmp(join(' | ', $res->header('Link')), '</api/local/a>; rel="next" | </api/local/b>; rel="prev"',
         'each Link line is mapped');
ok t_cmp($res->code, 200, 'several Link lines: the answer passes');

# A real redirect from the API: 302 to a URL below api_base_url, which the
# browser follows through this site, with the token applied again.
provider_config(endpoint_modes => { '/api/moved' => 'redirect' },
                redirect_location => "$api/things/new?from=moved");
login($ua, 'local');
$res = $ua->get(site('/api/local/moved/here'), Accept => 'application/json');
ok t_cmp($res->code, 302, "the API's 302 passes");
ok t_cmp(scalar $res->header('Location'), '/api/local/things/new?from=moved',
         'its Location is below the location');
$res = $ua->get(site($res->header('Location')), Accept => 'application/json');
my $echo = json_of($res) // {};
ok t_cmp($res->code, 200, 'the browser follows it through this site');
ok t_cmp($echo->{path} // '', '/api/things/new', 'to the path the API named');
ok t_cmp(($echo->{headers} // {})->{Authorization} // '', qr/^Bearer \S+/,
         'with the token applied');
ok t_cmp(scalar $res->header('Location'), undef, 'and the echo has no Location');

# Link lines of thousands of link-values each (an API's, hostile or not).
# Each link-value's mapping costs work and memory in proportion to the URL
# called, whose path the API can make long (a redirect below the location
# that the browser follows): 2,000 '<a>' on a 7 KB path took ~155 MB of
# the httpd child's memory per 8 KB line, and 40 lines gigabytes. The
# first 64 link-values of an answer are mapped, each in memory freed
# after it, the rest left out (OAC00150). mod_proxy_http limits a line
# (8 KB), not how many lines an answer has. LWP's own limits would refuse
# the answer.
push @LWP::Protocol::http::EXTRA_SOCK_OPTS, MaxLineLength => 0, MaxHeaderLines => 0;
my $values = 2000;
provider_post('/_control/config', { api_response_headers => {
    Link => [ map { join ',', ('<a>') x $values } 1 .. 40 ] } });
my $long = 'p' x 7000;
my $before = children_hwm();
my $start = log_size();
$res = $ua->get(site("/api/local/things/$long/x"), Accept => 'application/json');
my $after = children_hwm();
my @links = $res->header('Link');
ok t_cmp($res->code, 200, 'forty Link lines of 2,000 link-values on a 7 KB path: the answer passes');
ok t_cmp(join(' ', scalar(@links), scalar(() = ($links[0] // '') =~ m{</api/local/things/$long/a>}g)),
         '1 64', 'the first 64 link-values mapped, the rest left out');
ok t_cmp(scalar(() = log_since($start, qr/OAC00150/) =~ /OAC00150/g) . ' '
         . (log_since($start, qr/OAC00150/) =~ /OAuthProxyAPI local: the API's Link lines hold more than 64 link-values: the rest are left out/ ? 'said' : 'not said'),
         '1 said', 'the log says so, once');
my ($grew) = sort { $b <=> $a } map { $after->{$_} - ($before->{$_} // 0) } keys %$after;
t_debug("the httpd child's peak memory grew by " . ($grew // 'an unknown number of') . ' kB');
ok t_cmp(defined $grew && $grew < 32 * 1024 ? 'under 32 MB' : $grew,
         'under 32 MB', "the httpd child's peak memory grew by under 32 MB");

# An app that puts the token in the API's query (compliance_fix=linkedin):
# the API builds its redirects and pagination links from the URL it was
# called at, token included; none reaches the browser.
login($ua, 'linkedin');
my $log_start = log_size();
$res = $ua->get(site('/api/linkedin/things?page=1'), Accept => 'application/json');
my $token = ((json_of($res) // {})->{query} // {})->{oauth2_access_token};
ok t_cmp($token // '', qr/\S/, 'the linkedin app calls its API with the token in the query');
$token //= 'no-token';
# mod_proxy logs the URL it calls at debug level (AH00944), which this
# suite's LogLevel asks for: not for a URL with the token
my @logged = log_lines_since($log_start, qr/\Q$token\E/);
ok t_cmp(@logged ? join("\n", @logged) : 'not logged', 'not logged',
         "the token in the API's query reaches no log line, mod_proxy's debug ones included");
my $lapi = "$ENV{OAC_PROVIDER}/api";
for my $case (
    [ 'a Location with the token in its query: the parameter is left out', 'Location',
      "$lapi/things?page=1&oauth2_access_token=$token&page=2", '/api/linkedin/things?page=1&page=2' ],
    [ "a Link of pagination: the token's parameter is left out", 'Link',
      qq{<$lapi/things?oauth2_access_token=$token&page=2>; rel="next"},
      '</api/linkedin/things?page=2>; rel="next"' ],
    [ 'Content-Location with only the token in its query', 'Content-Location',
      "$lapi/things?oauth2_access_token=$token", '/api/linkedin/things' ],
    [ "another site's URL with the token: the parameter is left out", 'Location',
      "https://elsewhere.example/x?oauth2_access_token=$token#f", 'https://elsewhere.example/x#f' ],
    [ 'the token elsewhere in the URL: dropped', 'Location',
      "$lapi/tokens/$token", undef ],
) {
    my ($what, $header, $sent, $want) = @$case;
    provider_post('/_control/config', { api_response_headers => { $header => $sent } });
    $res = $ua->get(site('/api/linkedin/things?page=1'), Accept => 'application/json');
    ok t_cmp($res->code, 200, "$what: the answer passes");
    ok t_cmp(scalar $res->header($header), $want, "$what: $header");
}
provider_post('/_control/config', { api_response_headers => {} });

# However the API writes it: tokens with '+', '/' and '=' (nasty_tokens),
# encoded in part, in lower case, twice, or not at all; and in a Link's
# parameters (anchor) rather than its target.
provider_config(nasty_tokens => JSON::PP::true);
login($ua, 'linkedin');
$res = $ua->get(site('/api/linkedin/things?page=1'), Accept => 'application/json');
$token = ((json_of($res) // {})->{query} // {})->{oauth2_access_token} // 'no-token';
ok t_cmp($token, qr{[+/=]}, "(the provider's token has '+', '/' or '=')");
sub enc { my ($s, $safe) = @_; $s =~ s/([^A-Za-z0-9_.~\-$safe])/sprintf('%%%02X', ord $1)/ge; $s }
for my $case (
    [ "encoded as Python's quote() does ('/' left as it is)",
      "$lapi/things?oauth2_access_token=" . enc($token, '/') . '&page=2', '/api/linkedin/things?page=2' ],
    [ 'encoded in lower case',
      "$lapi/things?oauth2_access_token=" . (enc($token, '') =~ s/(%[0-9A-F]{2})/lc $1/ger) . '&page=2',
      '/api/linkedin/things?page=2' ],
    [ 'encoded twice',
      "$lapi/things?oauth2_access_token=" . enc(enc($token, ''), '') . '&page=2', '/api/linkedin/things?page=2' ],
    [ "not encoded at all, '+' and all",
      "$lapi/things?oauth2_access_token=$token&page=2", '/api/linkedin/things?page=2' ],
    [ 'encoded, in the path: dropped',
      "$lapi/tokens/" . enc($token, '') , undef ],
) {
    my ($what, $sent, $want) = @$case;
    provider_post('/_control/config', { api_response_headers => { Location => $sent } });
    $res = $ua->get(site('/api/linkedin/things?page=1'), Accept => 'application/json');
    ok t_cmp($res->code, 200, "$what: the answer passes");
    ok t_cmp(scalar $res->header('Location'), $want, "$what: Location");
}
provider_post('/_control/config', { api_response_headers => { Link =>
    qq{<$lapi/things?page=2>; rel="next"; anchor="$lapi/things?oauth2_access_token=} . enc($token, '')
    . qq{", <$lapi/things?page=9>; rel="last"} } });
$res = $ua->get(site('/api/linkedin/things?page=1'), Accept => 'application/json');
ok t_cmp($res->code, 200, "the token in a Link's anchor: the answer passes");
ok t_cmp(scalar $res->header('Link'), '</api/linkedin/things?page=9>; rel="last"',
         "the token in a Link's anchor: that link-value is left out");
provider_config();

# Peak memory (VmHWM, kB) of each child of the test httpd, by pid.
sub children_hwm {
    my %hwm;
    open my $fh, '<', Apache::Test::vars('t_logs') . '/httpd.pid' or return \%hwm;
    chomp(my $parent = <$fh> // '');
    for my $status (glob '/proc/[0-9]*/status') {
        open my $s, '<', $status or next;
        my $text = do { local $/; <$s> } // '';
        next unless $text =~ /^PPid:\s*\Q$parent\E$/m;
        my ($kb) = $text =~ /^VmHWM:\s*(\d+)/m;
        my ($pid) = $status =~ m{/proc/(\d+)/};
        $hwm{$pid} = $kb if defined $kb;
    }
    return \%hwm;
}
