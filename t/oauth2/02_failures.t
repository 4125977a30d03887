# Every way a callback can fail: an error page (escaped), nothing stored,
# and the state spent.
use strict;
use warnings FATAL => 'all';

use Apache::Test;
use Apache::TestUtil qw(t_cmp);
use OAC::Flow qw(browser site provider_get provider_config login_redirect
                 approve query_of json_of);

plan tests => 38;

sub logged_in {
    my $ua = shift;
    my $res = $ua->get(site('/protected/echo'), Accept => 'application/json');
    return $res->code == 200 ? 'logged in' : 'not logged in';
}

provider_config();

# state missing, tampered, replayed
my $ua = browser();
my $authorize = login_redirect($ua, 'local')->header('Location');
my $callback = approve($authorize);
(my $no_state = $callback) =~ s/([?&])state=[^&]*&?/$1/;
my $res = $ua->get($no_state);
ok t_cmp($res->code, 400, 'missing state: 400');
ok t_cmp($res->content, qr/no state parameter/, 'missing state: says so');
(my $tampered = $callback) =~ s/state=([^&]*)/state=x$1/;
$res = $ua->get($tampered);
ok t_cmp($res->code, 400, 'tampered state: 400');
ok t_cmp($res->content, qr/unknown or expired login state/, 'tampered state: says so');
ok t_cmp(logged_in($ua), 'not logged in', 'nothing stored');
$res = $ua->get($callback);
ok t_cmp($res->code, 302, 'the genuine callback still works after bad attempts');
ok t_cmp(logged_in($ua), 'logged in', 'logged in');
$res = $ua->get($callback);
ok t_cmp($res->code, 400, 'replayed callback URL: 400');
ok t_cmp($res->content, qr/unknown or expired login state/, 'replay: state already spent');

# another browser cannot use this browser's callback
my $other = browser();
$callback = approve(login_redirect($ua, 'local')->header('Location'));
ok t_cmp($other->get($callback)->code, 400, 'callback in another browser: 400');

# provider error, with markup in the description
$ua = browser();
$authorize = login_redirect($ua, 'local')->header('Location');
my $state = query_of($authorize)->{state};
$res = $ua->get(site("/oauth/local/callback?error=access_denied&error_description=%3Cscript%3Ealert(1)%3C%2Fscript%3E&state=$state"));
ok t_cmp($res->code, 403, 'access_denied: 403');
ok t_cmp($res->content, qr/access_denied: &lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'description shown, escaped');
ok t_cmp($res->content =~ /<script>/ ? 'raw' : 'escaped', 'escaped', 'no raw markup');
ok t_cmp($res->content, qr{href="/oauth/local/login"}, 'offers to log in again');
ok t_cmp(logged_in($ua), 'not logged in', 'provider error: nothing stored');
$res = $ua->get(site("/oauth/local/callback?error=invalid_scope&state=$state"));
ok t_cmp($res->code, 400, 'other provider errors: 400');

# the token endpoint fails in each way
for my $case ([ 'error500', qr/token endpoint answered HTTP 500/ ],
              [ 'not_json', qr/token response|not valid JSON/ ],
              [ 'no_access_token', qr/no access_token/ ],
              [ 'invalid_grant', qr/invalid_grant/ ],
              [ 'timeout', qr/timed out/ ],
              [ 'huge', qr/exceeds \d+ bytes/ ]) {
    my ($mode, $expect) = @$case;
    provider_config(token_endpoint_mode => $mode, timeout_seconds => 6);
    $ua = browser();
    my $t0 = time;
    $res = $ua->get(approve(login_redirect($ua, 'local')->header('Location')));
    ok t_cmp($res->code, 502, "token endpoint $mode: 502");
    ok t_cmp($res->content, $expect, "token endpoint $mode: clear message");
    ok t_cmp(logged_in($ua), 'not logged in', "token endpoint $mode: nothing stored");
}
provider_config();

# TLS to a token endpoint that does not speak it: a TLS failure, 502
$ua = browser();
$res = $ua->get(approve(login_redirect($ua, 'tlsbad')->header('Location')));
ok t_cmp($res->code, 502, 'TLS failure at the token endpoint: 502');
ok t_cmp($res->content, qr/token endpoint https:\/\/127\.0\.0\.1:\d+\/oauth2\/token: .*(SSL|TLS|ssl|tls)/,
         'TLS failure: clear message naming the endpoint');
ok t_cmp(logged_in($ua), 'not logged in', 'TLS failure: nothing stored');

# no session configured where a token is needed: 500, logged
$res = browser()->get(site('/nosession/x'));
ok t_cmp($res->code, 500, 'no Session On: 500');
