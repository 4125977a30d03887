# Request bodies the module reads itself are bounded: a form_post callback
# reads at most 64 KiB (413 beyond), an OAuthProxyAPI form body that gets
# the token (token_placement=body, app `post`) at most 1 MiB (413 beyond,
# and the provider hears nothing). Sent with a Content-Length or chunked.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use HTTP::Request ();
use LWP::UserAgent ();
use URI::Escape qw(uri_escape);
use OAC::Flow qw(browser site provider_get provider_config login login_redirect json_of);

plan tests => 6 + 12;

use constant KiB => 1024;
use constant MiB => 1024 * 1024;
my $form = 'application/x-www-form-urlencoded';

# A form body of exactly SIZE bytes: PREFIX then pad=xxx...
sub body_of {
    my ($prefix, $size) = @_;
    $prefix .= '&' if length $prefix;
    $prefix .= 'pad=';
    die "prefix too long" if length($prefix) > $size;
    return $prefix . ('x' x ($size - length $prefix));
}

# POST with a Content-Length, or chunked (the body in 16 KiB pieces).
sub post {
    my ($ua, $path, $body, $chunked) = @_;
    my $req = HTTP::Request->new(POST => site($path), [ 'Content-Type' => $form ]);
    if ($chunked) {
        my $at = 0;
        $req->content(sub {
            return '' if $at >= length $body;
            my $piece = substr $body, $at, 16 * KiB;
            $at += length $piece;
            return $piece;
        });
    }
    else {
        $req->content($body);
    }
    return $ua->request($req);
}

# What the provider received, in short: "a=N pad=LENGTH access_token".
sub shape {
    my $body = shift // '';
    return $body =~ /^(a=\d+)&pad=(x*)&access_token=[^&]+$/ ? "$1 pad=" . length($2) . ' access_token'
                                                             : 'other: ' . substr($body, 0, 40);
}

sub api_requests { provider_get('/_control/stats')->{api_requests} }

provider_config();

# --- form_post callback: 64 KiB ----------------------------------------------
my $b = browser();
my $page = LWP::UserAgent->new(max_redirect => 0)
    ->get(login_redirect($b, 'formpost', '/fp/done')->header('Location') . '&auto_approve=alice');
my %field = $page->content =~ /<input type="hidden" name="([^"]+)" value="([^"]*)">/g;
my $genuine = join '&', map { "$_=" . uri_escape($field{$_}) } sort keys %field;
(my $wrong = $genuine) =~ s/\bstate=([^&]*)/'state=' . scalar reverse $1/e;

ok t_cmp(post($b, '/oauth/formpost/callback', body_of($genuine, 64 * KiB + 1))->code, 413,
         'form_post callback, a body of 64 KiB + 1 byte: 413');
ok t_cmp(post($b, '/oauth/formpost/callback', body_of($genuine, 1 * MiB))->code, 413,
         'form_post callback, a body of 1 MiB: 413');
ok t_cmp(post($b, '/oauth/formpost/callback', body_of($genuine, 64 * KiB + 1), 'chunked')->code, 413,
         'form_post callback, a chunked body of 64 KiB + 1 byte: 413');
ok t_cmp(post($b, '/oauth/formpost/callback', body_of($wrong, 64 * KiB))->code, 400,
         'form_post callback, a body of 64 KiB exactly: read (400 for its wrong state, not 413)');
my $res = post($b, '/oauth/formpost/callback', $genuine);
ok t_cmp($res->code . ' ' . ($res->header('Location') // ''), '302 ' . site('/fp/done'),
         'form_post callback: the genuine small POST still completes the login');
ok t_cmp(post($b, '/oauth/formpost/callback', $genuine)->code, 400,
         'form_post callback: and is not accepted twice');

# --- OAuthProxyAPI form body with the token: 1 MiB --------------------------
my $ua = browser();
login($ua, 'post');

my $before = api_requests();
$res = post($ua, '/api/post/items', 'a=1&b=x+y');
ok t_cmp($res->code, 200, 'API form POST, a small body: proxied');
ok t_cmp(json_of($res)->{body} // '', qr/^a=1&b=x\+y&access_token=[^&]+$/,
         'API form POST, a small body: the token appended');

$res = post($ua, '/api/post/items', body_of('a=1', 1 * MiB - 1));
ok t_cmp($res->code, 200, 'API form POST, a body of 1 MiB - 1 byte: proxied');
ok t_cmp(shape(json_of($res)->{body}), 'a=1 pad=' . (1 * MiB - 1 - length 'a=1&pad=') . ' access_token',
         'API form POST, 1 MiB - 1 byte: the provider got all of it, plus the token');

$res = post($ua, '/api/post/items', body_of('a=2', 1 * MiB));
ok t_cmp($res->code . ' ' . shape(json_of($res)->{body}),
         '200 a=2 pad=' . (1 * MiB - length 'a=2&pad=') . ' access_token',
         'API form POST, a body of 1 MiB exactly: proxied whole, with the token');

my $mid = api_requests();
ok t_cmp($mid - $before, 3, 'control: the three bodies within the limit reached the provider');

$res = post($ua, '/api/post/items', body_of('a=3', 1 * MiB + 1));
ok t_cmp($res->code, 413, 'API form POST, a body of 1 MiB + 1 byte: 413');
$res = post($ua, '/api/post/items', body_of('a=4', 3 * MiB));
ok t_cmp($res->code, 413, 'API form POST, a body of 3 MiB: 413');
$res = post($ua, '/api/post/items', body_of('a=5', 1 * MiB + 1), 'chunked');
ok t_cmp($res->code, 413, 'API form POST, a chunked body of 1 MiB + 1 byte: 413');
ok t_cmp(api_requests() - $mid, 0, 'the bodies over 1 MiB never reached the provider');

$res = post($ua, '/api/post/items', body_of('a=6', 200 * KiB), 'chunked');
ok t_cmp($res->code . ' ' . shape(json_of($res)->{body}),
         '200 a=6 pad=' . (200 * KiB - length 'a=6&pad=') . ' access_token',
         'API form POST, a chunked body of 200 KiB: proxied whole, with the token');

# the user is still logged in after the refusals
ok t_cmp($ua->get(site('/api/post/items'), Accept => 'application/json')->code, 200,
         'after the 413s the API still answers');
