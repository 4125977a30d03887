# OAuthProxyAPI: what the browser's request says about the user, the page
# and the network stays with httpd. The provider's /api/ echo must see none
# of Referer, Origin, Cookie, the browser's Authorization, Sec-Fetch-*,
# Sec-CH-* client hints, X-Forwarded-*/Forwarded sent by the client,
# X-Real-IP. With ProxyAddHeaders Off (/api/noleak/) mod_proxy adds no
# X-Forwarded-* of its own either.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config login json_of);

my @private = (
    'Referer' => 'https://app.example/private/page?secret=1',
    'Origin' => 'https://app.example',
    'Authorization' => 'Basic dXNlcjpwYXNzd29yZA==',
    'Sec-Fetch-Site' => 'same-origin',
    'Sec-Fetch-Mode' => 'cors',
    'Sec-Fetch-Dest' => 'empty',
    'Sec-Fetch-User' => '?1',
    'Sec-CH-UA' => '"Chromium";v="120"',
    'Sec-CH-UA-Mobile' => '?0',
    'Sec-CH-UA-Platform' => '"Linux"',
    'Sec-CH-UA-Full-Version-List' => '"Chromium";v="120.0.6099.0"',
    'X-Forwarded-For' => '6.6.6.6',
    'X-Forwarded-Host' => 'evil.example',
    'X-Forwarded-Proto' => 'https',
    'X-Forwarded-Port' => '8443',
    'Forwarded' => 'for=6.6.6.6;host=evil.example;proto=https',
    'X-Real-IP' => '6.6.6.6',
);
my %private = @private;
my @names = grep { !ref } @private[ grep { !($_ % 2) } 0 .. $#private ];

plan tests => 4 + @names + 3;

provider_config();
my $ua = browser();
login($ua, 'local');

my $res = $ua->get(site('/api/noleak/things?x=1'), @private, 'X-Custom' => 'kept',
                   Accept => 'application/json');
ok t_cmp($res->code, 200, 'the API call is served');
my $echo = json_of($res);
my %h = map { lc($_) => $echo->{headers}{$_} } keys %{ $echo->{headers} || {} };
ok t_cmp($echo->{auth}, 'bearer-header', 'the provider got the token in the Authorization header');
ok t_cmp($h{authorization}, qr/^Bearer at-/, 'Authorization is the module\'s Bearer token, not the browser\'s');
ok t_cmp($h{'x-custom'}, 'kept', 'control: other headers pass');

for my $name (@names) {
    next if $name eq 'Authorization';
    ok t_cmp($h{lc $name} // 'absent', 'absent', "$name does not reach the provider");
}
ok t_cmp($h{cookie} // 'absent', 'absent', 'Cookie (the session) does not reach the provider');
ok t_cmp(join(',', grep { /^x-forwarded-|^forwarded$/ } sort keys %h), '',
         'with ProxyAddHeaders Off, no X-Forwarded-* at all');

# with mod_proxy's own X-Forwarded-For (ProxyAddHeaders On, the default)
$echo = json_of($ua->get(site('/api/local/things'), @private, Accept => 'application/json'));
%h = map { lc($_) => $echo->{headers}{$_} } keys %{ $echo->{headers} || {} };
ok t_cmp($h{'x-forwarded-for'} // 'absent', '127.0.0.1',
         'ProxyAddHeaders On: X-Forwarded-For is mod_proxy\'s alone, nothing the client sent');
ok t_cmp(($h{'x-forwarded-host'} // '') =~ /evil/ || ($h{forwarded} // '') =~ /evil/ ? 'client value' : 'none',
         'none', 'ProxyAddHeaders On: no X-Forwarded-Host or Forwarded of the client');
