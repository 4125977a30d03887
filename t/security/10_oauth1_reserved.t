# OAuth 1 API calls through OAuthProxyAPI: the protocol parameters
# (oauth_*) are the module's to set and sign. A client request whose query
# or form body carries one (oauth_token=evil, oauth_signature_method=
# PLAINTEXT, ...) is refused with 400 {"error": "reserved_parameter"} and
# nothing is sent to the provider.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_config login json_of);

my @bad = (
    [ 'query oauth_token=evil', GET => '/api/o1/statuses?oauth_token=evil' ],
    [ 'query oauth_signature_method=PLAINTEXT', GET => '/api/o1/statuses?count=1&oauth_signature_method=PLAINTEXT' ],
    [ 'query oauth_callback', GET => '/api/o1/statuses?oauth_callback=https%3A%2F%2Fevil.example%2F' ],
    [ 'query oauth_verifier', GET => '/api/o1/statuses?oauth_verifier=x' ],
    [ 'query oauth_signature', GET => '/api/o1/statuses?oauth_signature=abc' ],
    [ 'query with a percent-encoded name (oauth%5Ftoken)', GET => '/api/o1/statuses?oauth%5Ftoken=evil' ],
    [ 'form body oauth_signature_method=PLAINTEXT', POST => '/api/o1/statuses/update.json',
      [ status => 'hi', oauth_signature_method => 'PLAINTEXT' ] ],
    [ 'form body oauth_token=evil', POST => '/api/o1/statuses/update.json',
      [ oauth_token => 'evil', status => 'hi' ] ],
    [ 'form body oauth_nonce', POST => '/api/o1/statuses/update.json?x=1',
      [ status => 'hi', oauth_nonce => 'fixed' ] ],
);

plan tests => 2 + 3 * @bad + 4;

provider_config();
my $ua = browser();
login($ua, 'o1');
my $res = $ua->get(site('/api/o1/statuses?count=1&status=oauth_token'), Accept => 'application/json');
ok t_cmp(json_of($res)->{auth} // $res->code, 'oauth1',
         'control: ordinary parameters (even a value "oauth_token") are signed and sent');
$res = $ua->post(site('/api/o1/statuses/update.json'), [ status => 'hi', xoauth_x => '1' ]);
ok t_cmp(json_of($res)->{auth} // $res->code, 'oauth1', 'control: a form body without oauth_* parameters is sent');

for my $case (@bad) {
    my ($what, $method, $path, $form) = @$case;
    my $before = provider_get('/_control/stats');
    $res = $method eq 'POST' ? $ua->post(site($path), $form, Accept => 'application/json')
                             : $ua->get(site($path), Accept => 'application/json');
    ok t_cmp($res->code, 400, "$what: 400");
    ok t_cmp(json_of($res)->{error} // $res->content_type, 'reserved_parameter',
             "$what: JSON error reserved_parameter");
    my $after = provider_get('/_control/stats');
    ok t_cmp($after->{api_requests} - $before->{api_requests}, 0, "$what: nothing sent to the provider");
}

# Every field of a form body is decoded, encoded again and sorted for the
# signature (~300 bytes apiece): more than 1,000 are refused with 413
# before any of it, so a 1 MiB body of empty fields cannot take a child's
# memory by the hundred megabytes.
{
    my $before = provider_get('/_control/stats');
    my $body = join('&', 'status=hi', map { "f$_=" } 2 .. 1000);
    $res = $ua->post(site('/api/o1/statuses/update.json'), Accept => 'application/json',
                     'Content-Type' => 'application/x-www-form-urlencoded', Content => $body);
    ok t_cmp(json_of($res)->{auth} // $res->code, 'oauth1', '1,000 fields are signed and sent');
    $before = provider_get('/_control/stats');
    for my $bomb ($body . '&one=more', 'a&' x 524287 . 'a') {
        $res = $ua->post(site('/api/o1/statuses/update.json'), Accept => 'application/json',
                         'Content-Type' => 'application/x-www-form-urlencoded', Content => $bomb);
        ok t_cmp($res->code . ' ' . (json_of($res)->{error} // ''), '413 too_many_fields',
                 'a body of ' . (length($bomb) > 100000 ? '524,288 fields' : '1,001 fields') . ': 413');
    }
    ok t_cmp(provider_get('/_control/stats')->{api_requests} - $before->{api_requests}, 0,
             'nothing of them sent to the provider');
}
