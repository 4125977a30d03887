# The log, as an administrator reads it: the module's lines carry its tag
# (so LogLevel oauthclient:... selects them), a failed login is there
# with its reason, every exchange with a provider at trace1, and at no level does the
# module write a secret, a token or a code.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_config provider_get login);

plan tests => 8;

provider_config();
my $log_file = Apache::Test::vars('t_logs') . '/error_log';
my $start = -s $log_file;

# one login that works, one the provider refuses at the token endpoint
my $ok = browser();
my $res = login($ok, 'local', '/done');
ok t_cmp($res->code, 302, 'a login completes');
provider_config(token_endpoint_mode => 'invalid_grant');
$res = login(browser(), 'local', '/done');
ok t_cmp($res->code, 502, 'a login the token endpoint refuses fails');
provider_config();

open my $fh, '<', $log_file or die "$log_file: $!";
seek $fh, $start, 0;
my @ours = grep { /\[oauthclient:/ } <$fh>;
close $fh;
open $fh, '<', $log_file or die "$log_file: $!";
my $whole = join '', grep { /\[oauthclient:/ } <$fh>;
close $fh;

ok t_cmp(scalar(grep { /\[oauthclient:warn\].*OAC00021: app local: login failed: The provider's token endpoint failed: token endpoint answered HTTP 400: invalid_grant/ } @ours), 1,
         'the failed login (a 502) is logged once at warn, under the module\'s tag, with the reason');
ok t_cmp((grep { /\[oauthclient:trace1\].*app local: POST http:\/\/127\.0\.0\.1:\d+\/oauth2\/token -> HTTP 200, \d+ bytes, [\d.]+ ms/ } @ours) ? 1 : 0, 1,
         'a token exchange is traced at trace1 with method, URL, status, size and time');
ok t_cmp((grep { /\[oauthclient:trace1\].*app local: GET http:\/\/127\.0\.0\.1:\d+\/oauth2\/userinfo -> HTTP 200/ } @ours) ? 1 : 0, 1,
         'the userinfo call is traced too');
ok t_cmp($whole =~ /oauth2-secret|oauth1-secret|interop-secret|interop-consumer-secret|SECRET-do-not-show/
         ? 'secret logged' : 'clean', 'clean', 'no client secret at any level, trace8 included');
ok t_cmp($whole =~ /\b(at|rt|o1at|o1rt)-[A-Za-z0-9_-]{10,}/ ? "token logged: $&" : 'clean', 'clean',
         'no token at any level, trace8 included');
ok t_cmp($whole =~ /code-[A-Za-z0-9_-]{10,}|code_verifier=|[?&]code=[^&\s]{6,}/ ? "code logged: $&" : 'clean', 'clean',
         'no authorization code or PKCE verifier at any level');
