# Signed API calls through OAuthProxyAPI: the signature covers the exact
# method, URL, query and form body; other bodies are passed, unsigned.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_config login json_of);
use Encode qw(encode_utf8);

plan tests => 14;

provider_config();
my $ua = browser();
my $res = $ua->get(site('/api/o1/statuses/home.json'));
ok t_cmp($res->code, 401, 'no token: 401 JSON');

login($ua, 'o1');
# reserved and UTF-8 characters in the query, a repeated name
my $q = 'status=hello%20world%21&reserved=%3D%26%2B%2F%3F&utf8=caf%C3%A9%20%E2%9C%93&a=2&a=1';
$res = $ua->get(site("/api/o1/statuses/home.json?$q"));
my $echo = json_of($res);
ok t_cmp($res->code, 200, 'signed GET with reserved and UTF-8 query: accepted');
ok t_cmp($echo->{auth}, 'oauth1', 'verified as OAuth 1 by the provider');
ok t_cmp($echo->{raw_query}, $q, 'query passed as sent');
ok t_cmp($echo->{path}, '/api/statuses/home.json', 'path joined');
my $last = provider_get('/_control/stats')->{last_api_request};
ok t_cmp($echo->{headers}{Authorization} // $echo->{headers}{authorization},
         qr/^OAuth oauth_consumer_key="oauth1-client", oauth_nonce="[^"]+", oauth_signature_method="HMAC-SHA1", oauth_timestamp="\d+", oauth_token="o1at-[^"]+", oauth_version="1\.0", oauth_signature="[^"]+"$/,
         'Authorization: OAuth header with every protocol parameter');

# signed POST with a form body (its parameters are in the signature)
$res = $ua->post(site('/api/o1/statuses/update.json?x=1'),
                 [ status => encode_utf8("caf\x{e9} & more"), in_reply_to => '42' ]);
$echo = json_of($res);
ok t_cmp($res->code, 200, 'signed POST with a form body: accepted');
ok t_cmp($echo->{body}, 'status=caf%C3%A9+%26+more&in_reply_to=42', 'form body passed unchanged');

# a JSON body is not form-encoded: passed as is, outside the signature
$res = $ua->post(site('/api/o1/upload'), Content_Type => 'application/json',
                 Content => '{"a":[1,2]}');
$echo = json_of($res);
ok t_cmp($res->code, 200, 'non-form POST body: accepted (not part of the signature)');
ok t_cmp($echo->{body}, '{"a":[1,2]}', 'non-form body passed unchanged');

# PUT and DELETE are signed for their own method
$res = $ua->delete(site('/api/o1/statuses/destroy/1.json'));
ok t_cmp(json_of($res)->{method}, 'DELETE', 'DELETE signed and accepted');
ok t_cmp(json_of($res)->{auth}, 'oauth1', 'DELETE verified');
$res = $ua->put(site('/api/o1/statuses/1.json?v=1'),
                Content_Type => 'application/x-www-form-urlencoded', Content => 'status=edited');
$echo = json_of($res);
ok t_cmp(join(' ', $res->code, $echo->{method} // '-', $echo->{auth} // '-', $echo->{body} // '-'),
         '200 PUT oauth1 status=edited', 'PUT with a form body signed (body included) and accepted');

# the form body is read to be signed: over 1 MiB it is refused, unsent
$res = $ua->post(site('/api/o1/statuses/update.json'),
                 Content_Type => 'application/x-www-form-urlencoded',
                 Content => 'status=' . ('x' x (1024 * 1024 + 1)));
ok t_cmp($res->code, 413, 'a form body over 1 MiB is refused with 413');
