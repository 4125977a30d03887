# response_mode=form_post with a SameSite=Lax (or Strict) session cookie:
# the provider's page posts the answer from its own site, and browsers send
# no such cookie with a cross-site POST, so the session holds no login in
# flight. The callback then answers with a page that posts the same fields
# again from this site (the cookie goes with that POST), once; a cross-site
# POST that brings the session (a script, SameSite=None) completes at once,
# as before. The app is the Apple one (t/oauth2/22_apple.t), which asks for
# form posts.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use HTTP::Request::Common qw(POST);
use OAC::Flow qw(browser site provider_config login_redirect
                 json_of log_size log_since);

plan tests => 25;

my %apple = (team => 'TEAMAPPLE1', kid => 'APPLEKEY01', key_file => $ENV{OAC_OP_CLIENT_KEY});
provider_config(apple_clients => { 'apple-client' => \%apple });
my $callback = site('/oauth/apple/callback');
my $provider_origin = $ENV{OAC_PROVIDER} =~ s{^(https?://[^/]+).*}{$1}r;

sub unescape_html {
    my ($v) = @_;
    $v =~ s/&quot;/"/g; $v =~ s/&#x27;/'/g; $v =~ s/&#39;/'/g;
    $v =~ s/&lt;/</g; $v =~ s/&gt;/>/g; $v =~ s/&amp;/&/g;
    return $v;
}

# The hidden fields of a page, in order, as a browser reads them.
sub fields_of {
    my ($html) = @_;
    my @f;
    while ($html =~ /<input type="hidden" name="([^"]*)" value="([^"]*)">/g) {
        push @f, unescape_html($1), unescape_html($2);
    }
    return @f;
}

# A login started by browser $b; the provider's page (the form it posts to
# the callback) as fields.
sub provider_form {
    my ($b) = @_;
    my $authorize = login_redirect($b, 'apple', '/apple/echo')->header('Location') // '';
    my $page = LWP::UserAgent->new(max_redirect => 0)->get("$authorize&auto_approve=alice");
    return fields_of($page->content);
}

# A POST to the callback: from the provider's site (a browser's headers for
# a cross-site form post) or from this one; with $ua's cookies or none.
sub post_callback {
    my ($ua, $fields, %h) = @_;
    my $req = POST($h{action} // $callback, $fields);
    $req->header('Sec-Fetch-Site' => $h{site}) if $h{site};
    $req->header(Origin => $h{origin}) if $h{origin};
    return $ua->request($req);
}

my $stranger = LWP::UserAgent->new(max_redirect => 0);   # no cookies: what SameSite=Lax leaves

# 1. The browser withholds the session: a page that posts it all again.
my $b = browser();
my @form = provider_form($b);
my %form = @form;
my $start = log_size();
my $res = post_callback($stranger, \@form, site => 'cross-site', origin => $provider_origin);
ok t_cmp($res->code, 200, 'a cross-site form post without the session: a page, not an error');
my $html = $res->content;
my @relayed = fields_of($html);
ok t_cmp(join('&', @relayed), join('&', @form, 'oauthclient_relayed', '1'),
         'which posts the same fields, in order, marked as relayed');
ok t_cmp($html, qr{<form method="post" action="/oauth/apple/callback">},
         'to the same path, on this site');
my ($nonce) = $html =~ /<script nonce="([A-Za-z0-9_-]{16,})">HTMLFormElement\.prototype\.submit\.call\(document\.forms\[0\]\);<\/script>/;
ok t_cmp($nonce // 'none', qr/^[A-Za-z0-9_-]{16,}$/, 'by a script that submits the form');
ok t_cmp($res->header('Content-Security-Policy') // '',
         "default-src 'none'; script-src 'nonce-" . ($nonce // 'x') . "'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
         "and no other script runs, the form goes nowhere else, the page is framed nowhere");
ok t_cmp(join(' ', (($res->header('Cache-Control') // '') =~ /\bno-store\b/ ? 'no-store' : 'cached'),
                   map { $res->header($_) // '-' } qw(Referrer-Policy X-Frame-Options)),
         'no-store no-referrer DENY', 'not cached, sends no Referer, not framed');
ok t_cmp($html, qr{<noscript><button type="submit">Continue</button></noscript>},
         'without scripts, a button does it');
ok t_cmp(defined $res->header('Set-Cookie') ? 'cookie' : 'none', 'none',
         'no session is written: an empty one would replace the one the browser kept back');
ok t_cmp(log_since($start, qr/OAC00148/), qr/app apple: a cross-site form post whose login this session does not hold/,
         'the log says so (debug)');

# 2. The browser posts it from this site, with its session: the login completes.
$res = post_callback($b, \@relayed, site => 'same-origin', origin => site('') =~ s{/$}{}r);
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/apple/echo'),
         'posted again from this site with the session: the login completes');
ok t_cmp(json_of($b->get(site('/apple/echo')))->{REMOTE_USER} // '', qr/\S/, 'the user is logged in');

# 3. Relayed once only: the same post again, still without the session, fails.
$res = post_callback($stranger, \@relayed, site => 'cross-site', origin => $provider_origin);
ok t_cmp($res->code, 400, 'a relayed post that still has no session is not relayed again');
ok t_cmp($res->content, qr/unknown or expired login state/, 'and says why');

# 4. A cross-site post that brings the session (SameSite=None, a script)
# completes at once, as before.
my $b2 = browser();
@form = provider_form($b2);
$res = post_callback($b2, \@form, site => 'cross-site', origin => $provider_origin);
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/apple/echo'),
         'a cross-site post with the session completes without a relay');

# 5. Only cross-site posts: same-origin, or without Sec-Fetch-Site and
# Origin (treated as this site's), or a GET, get the error.
my $b3 = browser();
@form = provider_form($b3);
$res = post_callback($stranger, \@form, site => 'same-origin');
ok t_cmp($res->code, 400, 'a same-origin post without the session: the error');
$res = post_callback($stranger, \@form);
ok t_cmp($res->code, 400, 'a post without Sec-Fetch-Site or Origin: the error');
$res = post_callback($stranger, \@form, origin => $provider_origin);
ok t_cmp($res->code, 200, 'without Sec-Fetch-Site, an Origin of another site: relayed');
my %f3 = @form;
$res = $stranger->get("$callback?state=$f3{state}&code=$f3{code}", 'Sec-Fetch-Site' => 'cross-site');
ok t_cmp($res->code, 400, 'a GET is never relayed');
ok t_cmp($res->header('Referrer-Policy') // '-', 'no-referrer',
         'the error page, at a URL with the code and state, sends no Referer');
# and b3's login is still to be had: nothing above spent it
$res = post_callback($b3, \@form, site => 'same-origin');
ok t_cmp($res->code, 302, 'the relays spent nothing: the login still completes');

# 6. Whatever is posted is echoed escaped, and nothing runs.
my @hostile = (state => 'x"><script>alert(1)</script>', code => "c'&<b>",
               '"><img src=x onerror=alert(2)>' => 'v', submit => 'x');
$res = post_callback($stranger, \@hostile, site => 'cross-site', origin => $provider_origin);
$html = $res->content;
ok t_cmp($res->code . ' ' . ($html =~ /<script>alert|<img /i ? 'markup' : 'escaped'), '200 escaped',
         'hostile fields are escaped in the page');
ok t_cmp(join('&', fields_of($html)), join('&', @hostile, 'oauthclient_relayed', '1'),
         'and still posted as they came');
ok t_cmp(scalar(() = $html =~ /<script/g), 1, 'the page has one script, its own');

# A body of as many fields as 64 KiB holds: the page is built in time and
# memory linear in them (appending each field to the page so far copied
# it per field, some 10 GB for these 20,000).
my @many = (state => 'x', map { ('a' => '') } 1 .. 20000);
my $t0 = time;
$res = post_callback($stranger, \@many, site => 'cross-site', origin => $provider_origin);
my $took = time - $t0;
ok t_cmp($res->code . ' ' . scalar(() = $res->content =~ /<input type="hidden" name="a" value="">/g),
         '200 20000', 'twenty thousand fields: a page posting each');
ok t_cmp($took <= 5 ? 'in time' : "$took s", 'in time', 'built in seconds');
